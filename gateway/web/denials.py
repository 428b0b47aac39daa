"""Audits refused requests without letting a scanner fill the disk."""

from __future__ import annotations

import time

from aiohttp import web

from ..audit import AuditLog
from ..auth import Principal

PER_ADDRESS_PER_MINUTE = 20
MAX_ADDRESSES = 10_000


class DenialAuditor:
    """Writes an `access.denied` row per refused request, at most 20 a minute per address;
    the rows it skips are counted in the next row it writes."""

    def __init__(self, audit: AuditLog) -> None:
        self._audit = audit
        self._windows: dict[str, tuple[float, int, int]] = {}  # ip → (start, written, skipped)

    async def __call__(
        self, request: web.Request, principal: Principal | None, status: int, reason: str
    ) -> None:
        ip = request.remote or ""
        now = time.monotonic()
        start, written, skipped = self._windows.get(ip, (now, 0, 0))
        if now - start >= 60:
            start, written = now, 0
        if written >= PER_ADDRESS_PER_MINUTE:
            self._windows[ip] = (start, written, skipped + 1)
            return
        if len(self._windows) >= MAX_ADDRESSES and ip not in self._windows:
            self._windows.clear()
        self._windows[ip] = (start, written + 1, 0)
        detail: dict[str, object] = {"status": status}
        if skipped:
            detail["not_recorded_before"] = skipped
        await self._audit.append(
            principal.username if principal else "anonymous", "access.denied",
            f"{request.method} {request.path[:200]}", outcome=str(status), ip=ip, detail=detail,
        )  # fmt: skip
