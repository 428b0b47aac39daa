"""Audits refused requests without letting a scanner fill the disk."""

from __future__ import annotations

from aiohttp import web

from doorstep.gateway.audit.refusals import RefusalAudit
from doorstep.gateway.auth import Principal


class DenialAuditor:
    """Counts every refused request into the refusal audit: one `access.denied` row per address,
    status and minute, with a count and the first paths tried."""

    def __init__(self, refusals: RefusalAudit) -> None:
        self._refusals = refusals

    async def __call__(
        self, request: web.Request, principal: Principal | None, status: int, reason: str
    ) -> None:
        self._refusals.record(
            principal.username if principal else "anonymous", "access.denied", str(status),
            request.remote or "", f"{request.method} {request.path[:200]}",
        )  # fmt: skip
