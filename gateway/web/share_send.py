"""Sends a share's copy only while the share may still be watched: a revocation, a deletion,
the expiry (or, for a neighbour, the account's access ending) cuts a send within a second.

Each Range request is judged anew before it starts (the handlers do that); this covers the one
long request, a whole file on a slow phone, that is already under way when access ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.abc import AbstractStreamWriter

from doorstep.gateway.sharing.service import ShareWatch

_log = logging.getLogger(__name__)

StillOpen = Callable[[], Awaitable[bool]]
MAX_WAIT_S = 30.0
"""Look again at least this often, whatever happens (a clock that jumped ahead)."""


class ShareFileResponse(web.FileResponse):
    """A file response (Range and all) that stops when `still_open` says the share ended."""

    def __init__(
        self, path: Path, headers: Mapping[str, str], share_id: str, watch: ShareWatch,
        still_open: StillOpen, expires_at: datetime, now: Callable[[], datetime],
        account_change: Callable[[], Awaitable[Any]] | None = None,
    ) -> None:  # fmt: skip
        super().__init__(path, headers=headers)
        self._share_id = share_id
        self._watch = watch
        self._still_open = still_open
        self._expires_at = expires_at
        self._now = now
        self._account_change = account_change

    async def prepare(self, request: web.BaseRequest) -> AbstractStreamWriter | None:
        """Send the file while the share lasts; a cut ends in `ConnectionResetError`."""
        with self._watch.watch(self._share_id) as changed:
            sending = asyncio.ensure_future(super().prepare(request))
            waits: set[asyncio.Future[Any]] = set()
            try:
                while not sending.done():
                    waits = {asyncio.ensure_future(changed.wait())}
                    if self._account_change is not None:
                        waits.add(asyncio.ensure_future(self._account_change()))
                    left = (self._expires_at - self._now()).total_seconds()
                    timeout = max(0.05, min(MAX_WAIT_S, left + 0.05))
                    await asyncio.wait({sending, *waits}, timeout=timeout,
                                       return_when=asyncio.FIRST_COMPLETED)  # fmt: skip
                    for waiting in waits:
                        waiting.cancel()
                    if sending.done():
                        break
                    changed.clear()
                    if not await self._still_open():
                        await self._cut(request, sending)
                return await sending
            finally:
                for task in (sending, *waits):
                    if not task.done():
                        task.cancel()

    async def _cut(self, request: web.BaseRequest, sending: asyncio.Future[Any]) -> None:
        _log.info("a shared clip stopped mid-send: the share ended")
        sending.cancel()
        with contextlib.suppress(asyncio.CancelledError, ConnectionError):
            await sending
        if request.transport is not None:
            request.transport.close()
        raise ConnectionResetError("the share ended")
