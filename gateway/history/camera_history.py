"""Persists what the bus carries about cameras: their events and the identity they report."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from doorstep.gateway.bus.event_bus import EventBus, Subscription
from doorstep.gateway.events import BusEvent, CameraEventReceived, CameraState, CameraStateChanged
from doorstep.gateway.storage import CameraRepository, EventRecord, EventRepository

_log = logging.getLogger(__name__)


class EventHistory:
    """Bus subscriber that writes camera events and identities to storage."""

    def __init__(self, bus: EventBus, cameras: CameraRepository, events: EventRepository) -> None:
        self._bus = bus
        self._cameras = cameras
        self._events = events
        self._subscription: Subscription[BusEvent] | None = None

    def start(self) -> None:
        """Begin consuming the bus."""
        self._subscription = self._bus.subscribe(
            "history", self._handle, (CameraEventReceived, CameraStateChanged)
        )

    async def stop(self) -> None:
        """Stop consuming; events still queued are dropped (the cameras are stopped first)."""
        if self._subscription is not None:
            await self._subscription.close()

    async def _handle(self, message: BusEvent) -> None:
        if isinstance(message, CameraEventReceived):
            event = message.event
            await self._events.add(
                EventRecord(
                    camera_id=message.camera_id,
                    kind=event.kind.value,
                    active=event.active,
                    occurred_at=event.time,
                    received_at=message.received_at,
                    source=event.source,
                    topic=event.topic,
                    initial=event.initial,
                    attributes=event.attributes,
                )
            )
        elif (
            isinstance(message, CameraStateChanged)
            and message.state is CameraState.ONLINE
            and message.info is not None
        ):
            info = message.info
            await self._cameras.record_identity(
                message.camera_id,
                datetime.now(UTC),
                info.stable_id,
                info.manufacturer,
                info.model,
                info.firmware,
            )
