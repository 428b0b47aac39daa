"""Hostile mode `notification_flood`: a camera that sends hundreds of messages in every body.

Issue 11 hole 3b: each webhook POST carried ~780 NotificationMessages, just under the gateway's
256 KiB body cap, back to back. While the mode is on, every push subscriber gets such Notify
bodies as fast as it accepts them, and every PullMessages answer carries as many (a hostile
camera ignores the MessageLimit it was asked for).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import datetime

from doorstep.simulator.soap import attr, xml_time
from doorstep.simulator.subscriptions import PushSubscription

FLOOD_MESSAGES = 780
"""Messages per body: as many as the attack fitted under the 256 KiB webhook body cap."""
_REFUSED_PAUSE_S = 0.02
"""A refused body (429) is retried almost at once, but not in a hot loop of the shared process."""


def flood_messages(when: datetime, count: int = FLOOD_MESSAGES) -> list[str]:
    """`count` short motion NotificationMessages, alternating on and off (each one is news)."""
    stamp = attr(xml_time(when))
    return [
        "<wsnt:NotificationMessage><wsnt:Topic>tns1:VideoSource/MotionAlarm</wsnt:Topic>"
        f'<wsnt:Message><tt:Message UtcTime={stamp} PropertyOperation="Changed">'
        f'<tt:Data><tt:SimpleItem Name="State" Value="{"true" if i % 2 == 0 else "false"}"/>'
        "</tt:Data></tt:Message></wsnt:Message></wsnt:NotificationMessage>"
        for i in range(count)
    ]


class NotificationFlood:
    """While on, POSTs flood bodies to every push subscriber of one device, back to back."""

    def __init__(
        self,
        subscribers: Callable[[], list[PushSubscription]],
        clock: Callable[[], datetime],
        name: str,
    ) -> None:
        self._subscribers = subscribers
        self._clock = clock
        self._name = name
        self._task: asyncio.Task[None] | None = None
        self.bodies_sent = 0
        self.bodies_accepted = 0
        self.pulls_answered = 0

    @property
    def running(self) -> bool:
        """Whether the flood is on."""
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        """Turn the flood on (no-op when it is on)."""
        if not self.running:
            self._task = asyncio.create_task(self._run(), name=f"flood:{self._name}")

    async def stop(self) -> None:
        """Turn the flood off."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        while True:
            subscribers = self._subscribers()
            if not subscribers:
                await asyncio.sleep(0.05)
                continue
            body = "".join(flood_messages(self._clock()))
            statuses = await asyncio.gather(*(s.send(body) for s in subscribers))
            self.bodies_sent += len(statuses)
            accepted = sum(status is not None and status < 300 for status in statuses)
            self.bodies_accepted += accepted
            if accepted < len(statuses):
                await asyncio.sleep(_REFUSED_PAUSE_S)
