"""Turns camera events on the bus into Web Push messages for every device that wants them.

The bus handler only decides and starts a task: sending (up to a minute with retries) runs
beside it, to every matching device at once, so a slow push service never holds up the next
ring nor any other subscriber. Who may see the camera is read again for every event.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime

from doorstep.gateway.bus.event_bus import EventBus, Subscription
from doorstep.gateway.events import CameraEventReceived
from doorstep.gateway.notify.audience import Audience
from doorstep.gateway.notify.payload import Notification, camera_notification
from doorstep.gateway.notify.prefs import KIND_OF_EVENT, PushKind, stored_prefs
from doorstep.gateway.notify.sender import Outcome, PushSender, PushTarget, SendResult
from doorstep.gateway.storage.repositories import (
    CameraRepository,
    PushSubscriptionRecord,
    PushSubscriptionRepository,
)

_log = logging.getLogger(__name__)

MAX_PENDING = 64
"""Events being sent at once; past it new ones are dropped (and counted), never queued."""
BUS_QUEUE = 64
REPEAT_S = {PushKind.RING: 1.0, PushKind.MOTION: 60.0, PushKind.PERSON: 60.0}
"""A second event of a kind on a camera within this is the same news (cameras send motion on
two topics; a doorbell may report a press from two sources)."""
_MAX_RECENT = 1024


def local_now() -> datetime:
    """The gateway's wall clock in its local time zone (quiet hours are local)."""
    return datetime.now(UTC).astimezone()


class PushDispatcher:
    """The bus subscriber that sends camera notifications; `deliver` sends one message."""

    def __init__(
        self,
        bus: EventBus,
        subscriptions: PushSubscriptionRepository,
        cameras: CameraRepository,
        audience: Audience,
        sender: PushSender,
        active: Callable[[], bool],
        clock: Callable[[], datetime] = local_now,
        repeat_s: dict[PushKind, float] | None = None,
    ) -> None:
        self._bus = bus
        self._subscriptions = subscriptions
        self._cameras = cameras
        self._audience = audience
        self.sender = sender
        self._active = active
        self._clock = clock
        self._repeat_s = REPEAT_S if repeat_s is None else repeat_s
        self._recent: dict[tuple[str, PushKind], float] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._bus_subscription: Subscription[CameraEventReceived] | None = None
        self.counts: Counter[str] = Counter()
        """Outcomes of messages sent, plus `dropped` events (too many in flight)."""

    def start(self) -> None:
        """Subscribe to camera events."""
        self._bus_subscription = self._bus.subscribe(
            "push", self._on_event, (CameraEventReceived,), BUS_QUEUE
        )

    async def stop(self) -> None:
        """Unsubscribe and cancel what is still being sent."""
        if self._bus_subscription is not None:
            await self._bus_subscription.close()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def drained(self) -> None:
        """Wait until every event published so far has been sent (or given up on)."""
        subscription = self._bus_subscription
        while self._tasks or (subscription is not None and subscription.stats().queued):
            if self._tasks:
                await asyncio.gather(*list(self._tasks), return_exceptions=True)
            else:
                await asyncio.sleep(0.01)  # the bus task has yet to take the event

    def _is_news(self, camera_id: str, kind: PushKind) -> bool:
        now = asyncio.get_running_loop().time()
        key = (camera_id, kind)
        last = self._recent.get(key)
        if last is not None and now - last < self._repeat_s.get(kind, 0.0):
            return False
        if len(self._recent) >= _MAX_RECENT:
            self._recent.clear()
        self._recent[key] = now
        return True

    async def _on_event(self, message: CameraEventReceived) -> None:
        event = message.event
        kind = KIND_OF_EVENT.get(event.kind)
        if kind is None or event.initial or event.active is False or not self._active():
            return
        if not self._is_news(message.camera_id, kind):
            return
        if len(self._tasks) >= MAX_PENDING:
            self.counts["dropped"] += 1
            if self.counts["dropped"] & (self.counts["dropped"] - 1) == 0:
                _log.warning("push: %d events dropped (sending is behind)", self.counts["dropped"])
            return
        task = asyncio.create_task(
            self._dispatch(message.camera_id, kind, message.received_at), name="push:dispatch"
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _dispatch(self, camera_id: str, kind: PushKind, at: datetime) -> None:
        try:
            camera = await self._cameras.get(camera_id)
            note = camera_notification(kind, camera_id, camera.name if camera else camera_id, at)
            local = self._clock()
            chosen: list[PushSubscriptionRecord] = []
            seen: dict[int, bool] = {}
            for record in await self._subscriptions.all():
                if not stored_prefs(record.prefs).wants(camera_id, kind, local):
                    continue
                if record.user_id not in seen:
                    seen[record.user_id] = await self._audience.may_see(record.user_id, camera_id)
                if seen[record.user_id]:
                    chosen.append(record)
            if chosen and self._active():
                await asyncio.gather(*(self.deliver(r, note) for r in chosen))
        except asyncio.CancelledError:
            raise
        except Exception:  # one bad event must not end push for the next
            self.counts["errors"] += 1
            _log.exception("push for a %s on camera %s failed", kind.value, camera_id)

    async def deliver(
        self, record: PushSubscriptionRecord, note: Notification, *, retry: bool = True
    ) -> SendResult:
        """Send one message to one device and record what the push service said."""
        target = PushTarget(record.endpoint, record.p256dh, record.auth)
        result = await self.sender.send(target, note, retry=retry)
        self.counts[result.outcome.value] += 1
        now = datetime.now(UTC)
        if result.outcome is Outcome.DELIVERED:
            await self._subscriptions.record_success(record.id, now)
        elif result.outcome is Outcome.GONE:
            await self._subscriptions.delete_gone(record.id, record.endpoint, record.p256dh)
        else:
            await self._subscriptions.record_error(record.id, result.reason, now)
        return result
