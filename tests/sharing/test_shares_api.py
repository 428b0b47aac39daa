"""Shares in the real gateway: a link opens a derived copy; revocation, expiry, the view limit
and a clock moved back all end it on the next request, with one and the same 404; neighbours
see only what is addressed to them; the home's coordinates never leave the owner's Settings."""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from doorstep.gateway.cli.logs import quiet_noisy_loggers
from doorstep.gateway.recording.service import CLIPS_DIR
from doorstep.gateway.storage import ClipRecord
from doorstep.gateway.web.keys import ACCOUNTS, AUDIT, SHARES, STORAGE
from doorstep.simulator.media import VideoLoop, encode_video_loop

from ..gateway_client import SAME_ORIGIN, Client, call
from ..recording.clips import T0, write_clip
from ..recording.test_clips_api import read_until_cut
from ..settings.conftest import (  # noqa: F401  # fixtures
    CONSOLE,
    Gateway,
    StartGateway,
    data_dir,
    start_gateway,
)

CAMERAS = [{"id": "front", "name": "Front Porch", "driver": "rtsp", "host": "127.0.0.1",
            "port": 9}]  # fmt: skip
CLIP = "C" * 22
HOME = (52.374031, 4.889690)
GONE = {"error": "not_found", "reason": "this share does not exist or has ended"}


@pytest.fixture(scope="module")
def loop() -> VideoLoop:
    return encode_video_loop(320, 180, 15, seconds=4)


@pytest.fixture
async def gateway(start_gateway: StartGateway, loop: VideoLoop) -> Gateway:  # noqa: F811
    running = await start_gateway(cameras=CAMERAS)
    root = running.app[STORAGE].database.path.parent / CLIPS_DIR
    path = await asyncio.to_thread(write_clip, root, loop, CLIP, close=True, camera="front")
    await running.app[STORAGE].clips.add(ClipRecord(
        CLIP, "front", path.relative_to(root).as_posix(), T0, T0 + timedelta(seconds=4),
        size_bytes=path.stat().st_size, duration_ms=4000, frames=60,
    ))  # fmt: skip
    return running


async def ready(gateway: Gateway, share_id: str) -> dict[str, Any]:
    """The share once its copies are made."""
    for _ in range(200):
        state = await gateway.app[SHARES].get(share_id)
        assert state is not None
        if state.status != "preparing":
            return {"status": state.status}
        await asyncio.sleep(0.05)
    raise AssertionError("the share's copies were not made in 10 s")


async def share(owner: Client, gateway: Gateway, **body: Any) -> tuple[str, str]:
    """(share id, link path) of a new share of the clip, made ready."""
    status, made = await call(owner, "POST", "/api/shares", {
        "title": "Parcel taken", "category": "package_theft", "items": [{"clip_id": CLIP}],
        **body,
    })  # fmt: skip
    assert status == 201, made
    assert (await ready(gateway, made["share"]["id"]))["status"] == "active"
    link = made["link"]
    return made["share"]["id"], "" if link is None else link["url"].split("/", 3)[3]


async def public(client: Client, path: str, **headers: str) -> tuple[int, Any, Any]:
    async with client.get("/" + path, headers={**SAME_ORIGIN, **headers}) as response:
        body = await response.read()
        data = json.loads(body) if response.content_type == "application/json" else body
        return response.status, data, response.headers


async def test_a_link_opens_the_copy_and_revocation_ends_it_on_the_next_range_request(
    gateway: Gateway, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    owner, _ = await gateway.owner()
    share_id, link = await share(owner, gateway)
    token = link.removeprefix("s/")
    stranger = await gateway.browser()
    status, _, headers = await public(stranger, link)
    assert status == 200
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["Cache-Control"] == "no-store"
    status, opened, headers = await public(stranger, f"api/s/{token}")
    assert status == 200, opened
    assert headers["Cache-Control"] == "no-store"
    assert opened["title"] == "Parcel taken"
    assert "Front" not in json.dumps(opened)  # no camera name
    video = opened["items"][0]["video"].lstrip("/")
    status, first, headers = await public(stranger, video, Range="bytes=0-99")
    assert (status, len(first)) == (206, 100)
    assert headers["Cross-Origin-Resource-Policy"] == "same-origin"
    status, _ = await call(owner, "POST", f"/api/shares/{share_id}/revoke")
    assert status == 200
    status, body, _ = await public(stranger, video, Range="bytes=100-199")
    assert (status, body) == (404, GONE)
    status, body, _ = await public(stranger, f"api/s/{token}")
    assert (status, body) == (404, GONE)
    status, detail = await call(owner, "GET", f"/api/shares/{share_id}")
    assert detail["status"] == "revoked"
    assert [a["kind"] for a in detail["accesses"]] == ["view"]
    # No log line of the gateway names the token (the test server's own access log aside:
    # the gateway runs its server without one).
    assert not [r for r in caplog.records if token in r.getMessage() and r.name != "aiohttp.access"]
    assert all(token not in json.dumps(e.detail) for e in await gateway.app[AUDIT].query())
    actions = [e.action for e in await gateway.app[AUDIT].query(target=f"share:{share_id}")]
    assert {"share.create", "share.ready", "share.view", "share.revoke"} <= set(actions)


async def test_every_refused_link_gets_the_same_answer(gateway: Gateway) -> None:
    owner, _ = await gateway.owner()
    _, other_link = await share(owner, gateway, title="Other")
    _, limited_link = await share(owner, gateway, view_limit=1)
    _, expired_link = await share(owner, gateway, expires_in_days=1 / 24)
    stranger = await gateway.browser()
    # The view limit: the one view is allowed, the next opening is not.
    assert (await public(stranger, f"api/{limited_link}"))[0] == 200
    # Expiry, then the clock moved back: still expired.
    shares = gateway.app[SHARES]
    real = shares.clock.wall
    shares.clock.wall = lambda: real() + timedelta(hours=2)
    assert (await public(stranger, f"api/{expired_link}"))[:2] == (404, GONE)
    shares.clock.wall = lambda: real() - timedelta(days=3)
    answers = [
        await public(stranger, f"api/{expired_link}"),
        await public(stranger, f"api/{limited_link}"),
        await public(stranger, "api/s/" + "A" * 32),
        await public(stranger, "api/s/short"),
        await public(stranger, f"api/{other_link}", Referer=f"https://example.net/{other_link}"),
    ]
    shares.clock.wall = real
    assert [a[:2] for a in answers] == [(404, GONE)] * len(answers)
    # Another share's token on this share's media.
    status, opened, _ = await public(stranger, f"api/{other_link}")
    assert status == 200
    media = opened["items"][0]["video"]
    view = media.split("/")[4]
    swapped = f"api/{limited_link}/{view}/0/video"
    assert (await public(stranger, swapped))[:2] == (404, GONE)


async def test_a_burst_of_views_never_passes_the_view_limit(gateway: Gateway) -> None:
    owner, _ = await gateway.owner()
    share_id, link = await share(owner, gateway, view_limit=3)
    clients = [await gateway.browser() for _ in range(12)]
    answers = await asyncio.gather(*(public(c, f"api/{link}") for c in clients))
    assert sorted(a[0] for a in answers) == [200] * 3 + [404] * 9
    state = await gateway.app[SHARES].get(share_id)
    assert state is not None
    assert state.record.views == 3


async def test_a_neighbour_sees_only_what_is_addressed_to_them(gateway: Gateway) -> None:
    owner, _ = await gateway.owner()
    nora = await gateway.signed_in("nora", "neighbour")
    ned = await gateway.signed_in("ned", "neighbour")
    users = {u.username: u.id for u, _ in await gateway.app[ACCOUNTS].list_users()}
    share_id, _ = await share(owner, gateway, link=False, recipients=[users["nora"]])
    status, feed = await call(nora, "GET", "/api/shared")
    assert status == 200
    assert [s["id"] for s in feed["shares"]] == [share_id]
    assert (await call(ned, "GET", "/api/shared"))[1]["shares"] == []
    assert (await call(ned, "GET", f"/api/shared/{share_id}"))[0] == 404
    status, opened = await call(nora, "GET", f"/api/shared/{share_id}")
    assert status == 200
    async with nora.get(opened["items"][0]["video"], headers=SAME_ORIGIN) as response:
        assert response.status == 200
        assert (await response.read())[4:8] == b"ftyp"
    for path in ("/api/cameras", "/api/clips", "/api/events", f"/api/clips/{CLIP}/video",
                 "/api/shares", "/api/audit", "/api/users", "/api/events/stream"):  # fmt: skip
        assert (await call(nora, "GET", path))[0] == 403, path
    # A resident is no recipient of shares.
    rita = await gateway.signed_in("rita", "resident")
    assert (await call(rita, "GET", "/api/shared"))[0] == 403


async def test_the_homes_coordinates_stay_in_settings_and_every_share_has_one_cell(
    gateway: Gateway, data_dir: Path, caplog: pytest.LogCaptureFixture,  # noqa: F811
) -> None:  # fmt: skip
    caplog.set_level(logging.DEBUG)
    quiet_noisy_loggers()  # as the gateway's logging does, whatever level it runs at
    owner, _ = await gateway.owner()
    status, home = await call(
        owner,
        "PUT",
        "/api/sharing/location",
        {"latitude": HOME[0], "longitude": HOME[1], "label": "Canal ring"},
    )
    assert status == 200, home
    answers = []
    for n in range(50):
        _, link = await share(owner, gateway, title=f"Share {n}")
        answers.append(await public(await gateway.browser(), f"api/{link}"))
    cells = {a[1]["place"]["cell"] for a in answers}
    assert cells == {home["cell"]}
    assert {a[1]["place"]["label"] for a in answers} == {"Canal ring"}
    texts = [json.dumps(a[1]) for a in answers]
    texts.append(json.dumps((await call(owner, "GET", "/api/shares"))[1]))
    texts += [json.dumps(e.detail) for e in await gateway.app[AUDIT].query(limit=1000)]
    texts += [r.getMessage() for r in caplog.records]  # every log line of the run
    for coordinate in (f"{HOME[0]:.4f}", f"{HOME[1]:.4f}", str(HOME[0]), str(HOME[1])):
        assert not [t for t in texts if coordinate in t], coordinate
    rows = await gateway.app[STORAGE].database.durable.fetchall(
        "SELECT key FROM settings WHERE value LIKE ?", (f"%{HOME[0]}%",)
    )
    assert [r["key"] for r in rows] == ["sharing.home"]
    for path in (data_dir / "shares").rglob("*"):
        if path.is_file():
            assert str(HOME[0]).encode() not in path.read_bytes()


async def test_bad_share_requests_get_a_reason(gateway: Gateway) -> None:
    owner, _ = await gateway.owner()
    for body, field in (
        ({"items": [{"clip_id": "nope"}]}, "items[0].clip_id"),
        ({"items": [{"clip_id": CLIP, "start_s": 9}]}, "items[0].start_ms"),
        ({"items": [{"clip_id": CLIP}], "link": False}, "recipients"),
        ({"items": [{"clip_id": CLIP}], "recipients": [99]}, "recipients"),
        ({"items": []}, "items"),
    ):
        status, answer = await call(owner, "POST", "/api/shares",
                                    {"title": "t", "category": "other", **body})  # fmt: skip
        assert status == 422, (body, answer)
        assert answer["reason"].startswith(field), answer
    resident = await gateway.signed_in("rita", "resident")
    status, _ = await call(
        resident,
        "POST",
        "/api/shares",
        {"title": "t", "category": "other", "items": [{"clip_id": CLIP}]},
    )
    assert status == 403


async def test_a_neighbours_download_stops_within_a_second_when_the_account_is_disabled(
    gateway: Gateway,
) -> None:
    owner, _ = await gateway.owner()
    nora = await gateway.signed_in("nora", "neighbour")
    users = {u.username: u.id for u, _ in await gateway.app[ACCOUNTS].list_users()}
    share_id, _ = await share(owner, gateway, link=False, recipients=[users["nora"]])
    status, opened = await call(nora, "GET", f"/api/shared/{share_id}")
    assert status == 200
    state = await gateway.app[SHARES].get(share_id)
    assert state is not None
    copy = gateway.app[SHARES].derivations.share_root / str(state.items[0].file)
    size = 64 * 1024 * 1024  # far more than the sockets between client and server hold
    with copy.open("r+b") as file:
        file.truncate(size)  # a long copy (sparse: made at once)
    async with nora.get(opened["items"][0]["video"], headers=SAME_ORIGIN) as got:
        assert got.status == 200
        received = len(await got.content.readexactly(64 * 1024))
        await gateway.app[ACCOUNTS].update_user(CONSOLE, users["nora"], None, True, None, "t")
        disabled = asyncio.get_running_loop().time()
        rest, cut = await read_until_cut(got.content)
        cut_after = asyncio.get_running_loop().time() - disabled
    assert cut
    assert received + rest < size
    assert cut_after < 1.0
