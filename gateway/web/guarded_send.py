"""Sends a clip's file (played or downloaded) only while its caller may still see the
camera: a withdrawn grant, a sign-out or a disabled account cuts it within a second.

A 10-minute segment is hundreds of megabytes; on a phone that is minutes of sending. Like the
event stream and live calls, the send holds an `AccessWatcher` and re-checks the caller's
session on every change of the account; when the camera is no longer theirs the send stops
and the connection is closed (the client sees a cut-off body, never the rest of the file).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.abc import AbstractStreamWriter

from doorstep.gateway.web.auth_api import principal_of
from doorstep.gateway.web.keys import ACCOUNTS
from doorstep.gateway.web.session import session_token

_log = logging.getLogger(__name__)


class WatchedFileResponse(web.FileResponse):
    """A file response (Range and all, as aiohttp sends it) that stops when its caller may no
    longer see `camera_id`."""

    def __init__(self, path: Path, camera_id: str, headers: Mapping[str, str]) -> None:
        super().__init__(path, headers=headers)
        self.camera_id = camera_id

    async def prepare(self, request: web.BaseRequest) -> AbstractStreamWriter | None:
        """Send the file while the caller's access lasts; a cut ends in `ConnectionResetError`
        (aiohttp then treats it as a client that went away)."""
        if not isinstance(request, web.Request):
            return await super().prepare(request)
        principal = principal_of(request)
        accounts = request.app[ACCOUNTS]
        with accounts.changes.watch(principal.user_id) as watcher:
            sending = asyncio.ensure_future(super().prepare(request))
            change: asyncio.Future[None] | None = None
            try:
                while not sending.done():
                    change = asyncio.ensure_future(watcher.wait())
                    await asyncio.wait({sending, change}, return_when=asyncio.FIRST_COMPLETED)
                    if not change.done():
                        break
                    watcher.stale = False
                    current = await accounts.principal_for(session_token(request))
                    if current is None or not current.may_see(self.camera_id):
                        await self._cut(request, sending, principal.username)
                return await sending  # the client going away raises as aiohttp expects
            finally:
                for task in (sending, change):  # a client gone mid-send cancels us here
                    if task is not None and not task.done():
                        task.cancel()

    async def _cut(self, request: web.Request, sending: asyncio.Future[Any], who: str) -> None:
        _log.info("a clip of %s stopped mid-send: %s's access ended", self.camera_id, who)
        sending.cancel()
        with contextlib.suppress(asyncio.CancelledError, ConnectionError):
            await sending
        if request.transport is not None:
            request.transport.close()
        raise ConnectionResetError("the caller's access to the camera ended")
