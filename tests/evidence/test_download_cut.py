"""A package download under way stops within a second when its grant is ended by the owner,
or when the agency account downloading it is disabled."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from doorstep.gateway.web.keys import ACCOUNTS, EVIDENCE, STORAGE

from ..gateway_client import SAME_ORIGIN, call
from ..recording.test_clips_api import read_until_cut
from ..settings.conftest import CONSOLE
from .conftest import FRONT_CLIP, Case, request_body
from .test_request_flow import decided

SIZE = 64 * 1024 * 1024  # far more than the sockets between client and server hold


async def _end_grant(case: Case, request_id: str, package_id: str) -> None:
    path = f"/api/requests/{request_id}/packages/{package_id}"
    assert (await call(case.owner, "DELETE", path))[0] == 200


async def _disable_agency(case: Case, request_id: str, package_id: str) -> None:
    user = next(u for u, _ in await case.gateway.app[ACCOUNTS].list_users()
                if u.username == "springfield-pd")  # fmt: skip
    await case.gateway.app[ACCOUNTS].update_user(CONSOLE, user.id, None, True, None, "test")


@pytest.mark.parametrize("end", [_end_grant, _disable_agency], ids=["grant-ended", "disabled"])
async def test_a_download_under_way_is_cut_within_a_second(
    case: Case, end: Callable[[Case, str, str], Awaitable[None]]
) -> None:
    status, sent = await call(case.agency, "POST", "/api/agency/requests", request_body())
    assert status == 201
    view: dict[str, Any] = await decided(case, sent["id"], {"grants": [{"clip_id": FRONT_CLIP}]})
    (package,) = view["request"]["packages"]
    record = await case.gateway.app[STORAGE].evidence_packages.get(package["id"])
    assert record is not None
    zip_path = case.gateway.app[EVIDENCE].builder.root / str(record.file)
    with zip_path.open("wb") as file:
        file.truncate(SIZE)  # a big package (sparse: written at once)
    url = f"/api/agency/requests/{sent['id']}/package"
    async with case.agency.get(url, headers=SAME_ORIGIN) as got:
        assert got.status == 200
        received = len(await got.content.readexactly(64 * 1024))  # a slow reader, mid-file
        await end(case, sent["id"], package["id"])
        ended = asyncio.get_running_loop().time()
        rest, cut = await read_until_cut(got.content)
        cut_after = asyncio.get_running_loop().time() - ended
    assert cut
    assert received + rest < SIZE
    assert cut_after < 1.0
