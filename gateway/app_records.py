"""The start-up steps of what the owner keeps and hands out: audit checkpoints, shares (and,
on top of them, police requests and evidence). Part of the composition root (`app`)."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from doorstep.gateway.evidence.packages import PACKAGES_DIR
from doorstep.gateway.evidence.service import EvidenceService
from doorstep.gateway.recording.service import CLIPS_DIR
from doorstep.gateway.sharing.service import SHARES_DIR, ShareService
from doorstep.gateway.web.keys import (
    AUDIT,
    BUS,
    CHECKPOINTS,
    CONFIG,
    EVIDENCE,
    REFUSALS,
    SHARES,
    STORAGE,
)


async def checkpoints_step(app: web.Application) -> AsyncIterator[None]:
    """Signed audit checkpoints every N rows or every period, while the gateway runs."""
    checkpoints = app[CHECKPOINTS]
    checkpoints.start()
    yield
    await checkpoints.stop()
    await checkpoints.checkpoint_now()  # the rows of this run leave signed, shutdown included


async def sharing_step(app: web.Application) -> AsyncIterator[None]:
    """Shares of clips with neighbours (copies made one at a time on a thread), and police
    requests with their evidence packages (which share the copies' machinery and clock)."""
    # Before the cameras (their clips are the masters; only the files are read).
    data_dir = app[CONFIG].storage.data_dir
    shares = ShareService(
        app[STORAGE], app[AUDIT], app[REFUSALS], app[BUS], data_dir / CLIPS_DIR,
        data_dir / SHARES_DIR,
    )  # fmt: skip
    app[SHARES] = shares
    await shares.start()
    evidence = EvidenceService(
        app[STORAGE], app[AUDIT], app[CHECKPOINTS], shares.places, data_dir / CLIPS_DIR,
        data_dir / PACKAGES_DIR, clock=shares.clock,
    )  # fmt: skip
    app[EVIDENCE] = evidence
    await evidence.start()
    yield
    await evidence.stop()
    await shares.stop()
