"""The clips API in the real gateway: grants decide who sees which clip, Range answers are
exact, path tricks serve nothing, one audit row per view, and holds protect from delete."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from doorstep.gateway.recording.service import CLIPS_DIR
from doorstep.gateway.storage import ClipRecord, Conflict
from doorstep.gateway.web.keys import ACCOUNTS, STORAGE
from doorstep.simulator.media import VideoLoop, encode_video_loop

from ..gateway_client import SAME_ORIGIN, Client, call
from ..settings.conftest import (  # noqa: F401  # fixtures
    CONSOLE,
    Gateway,
    StartGateway,
    data_dir,
    start_gateway,
)
from ..simulator.conftest import media, simulator_factory  # noqa: F401
from .clips import T0, write_clip

CAMERAS = [
    {"id": "front", "name": "Front", "driver": "rtsp", "host": "127.0.0.1", "port": 9},
    {"id": "back", "name": "Back", "driver": "rtsp", "host": "127.0.0.1", "port": 9},
]  # never reached (port 9 discards): the clips are written by the test
FRONT_CLIP, BACK_CLIP = "F" * 22, "B" * 22


@pytest.fixture(scope="module")
def loop() -> VideoLoop:
    return encode_video_loop(320, 180, 15, seconds=3)


async def register(gateway: Gateway, loop: VideoLoop, camera: str, clip_id: str) -> ClipRecord:
    root = gateway.app[STORAGE].database.path.parent / CLIPS_DIR
    path = await asyncio.to_thread(write_clip, root, loop, clip_id, close=True, camera=camera)
    record = ClipRecord(
        clip_id, camera, path.relative_to(root).as_posix(), T0, T0, size_bytes=path.stat().st_size,
        duration_ms=3000, frames=45,
    )  # fmt: skip
    await gateway.app[STORAGE].clips.add(record)
    return record


@pytest.fixture
async def gateway(start_gateway: StartGateway, loop: VideoLoop) -> Gateway:  # noqa: F811
    running = await start_gateway(cameras=CAMERAS, recording={"mode": "off"})
    await register(running, loop, "front", FRONT_CLIP)
    await register(running, loop, "back", BACK_CLIP)
    return running


async def resident(gateway: Gateway, name: str, cameras: set[str]) -> Client:
    client = await gateway.signed_in(name, "resident")
    user = next(u for u, _ in await gateway.app[ACCOUNTS].list_users() if u.username == name)
    await gateway.app[ACCOUNTS].update_user(CONSOLE, user.id, None, None, cameras, "test")
    return client


async def get(client: Client, path: str, **headers: str) -> tuple[int, bytes, Any]:
    async with client.get(path, headers={**SAME_ORIGIN, **headers}) as response:
        return response.status, await response.read(), response.headers


async def test_a_resident_sees_the_clips_of_granted_cameras_only(gateway: Gateway) -> None:
    owner, _ = await gateway.owner()
    rita = await resident(gateway, "rita", {"front"})
    nina = await resident(gateway, "nina", set())
    status, page = await call(owner, "GET", "/api/clips")
    assert status == 200
    assert {c["id"] for c in page["clips"]} == {FRONT_CLIP, BACK_CLIP}
    status, page = await call(rita, "GET", "/api/clips")
    assert [c["id"] for c in page["clips"]] == [FRONT_CLIP]
    status, page = await call(rita, "GET", "/api/clips?camera=back")
    assert page["clips"] == []
    status, page = await call(nina, "GET", "/api/clips")
    assert (status, page["clips"]) == (200, [])
    for path in (f"/api/clips/{BACK_CLIP}", f"/api/clips/{BACK_CLIP}/video",
                 f"/api/clips/{BACK_CLIP}/poster"):  # fmt: skip
        assert (await get(rita, path))[0] == 404
    status, body, _ = await get(rita, f"/api/clips/{FRONT_CLIP}/video")
    assert status == 200
    assert body[4:8] == b"ftyp"


async def test_range_answers_are_exact_and_bad_ranges_get_416(gateway: Gateway) -> None:
    owner, _ = await gateway.owner()
    video = f"/api/clips/{FRONT_CLIP}/video"
    status, whole, headers = await get(owner, video)
    size = len(whole)
    assert (status, headers["Accept-Ranges"], headers["Cache-Control"]) == (
        200,
        "bytes",
        "no-store",
    )
    cases = {"bytes=0-99": (0, 100), "bytes=-100": (size - 100, size), "bytes=100-": (100, size)}
    for header, (start, end) in cases.items():
        status, body, headers = await get(owner, video, Range=header)
        assert status == 206, header
        assert body == whole[start:end]
        assert headers["Content-Range"] == f"bytes {start}-{end - 1}/{size}"
    for header in ("bytes=99999999999-", "bytes=5-1", "bytes=-0", "bytes=abc",
                   ",".join(f"bytes={i}-{i + 10}" for i in range(200))):  # fmt: skip
        status, body, headers = await get(owner, video, Range=header)
        assert status == 416, header
        assert headers["Content-Range"] == f"bytes */{size}"


async def test_path_tricks_and_planted_files_serve_nothing(
    gateway: Gateway, tmp_path: Path
) -> None:
    owner, _ = await gateway.owner()
    for trick in ("..%2f..%2fetc%2fpasswd", "%2e%2e%2f%2e%2e%2fetc", "..%5c..%5cwin.ini",
                  "%00", "%2fetc%2fpasswd", "x" * 65):  # fmt: skip
        for suffix in ("", "/video", "/poster"):
            status, body, _ = await get(owner, f"/api/clips/{trick}{suffix}")
            assert status == 404, (trick, suffix)
            assert b"root:" not in body
    secret = tmp_path / "secret.txt"
    secret.write_text("root:x:0:0")
    storage = gateway.app[STORAGE]
    await storage.clips.add(ClipRecord("escape" + "x" * 16, "front", "../../secret.txt", T0))
    root = storage.database.path.parent / CLIPS_DIR
    (root / "front" / "planted.mp4").symlink_to(secret)
    await storage.clips.add(ClipRecord("planted" + "x" * 15, "front", "front/planted.mp4", T0))
    for clip_id in ("escape" + "x" * 16, "planted" + "x" * 15):
        status, body, _ = await get(owner, f"/api/clips/{clip_id}/video")
        assert status == 404
        assert b"root:" not in body


async def test_a_view_is_one_audit_row_and_a_download_has_a_safe_name(gateway: Gateway) -> None:
    owner, _ = await gateway.owner()
    video = f"/api/clips/{FRONT_CLIP}/video"
    for header in ("bytes=0-", "bytes=1000-2000", "bytes=2000-", "bytes=0-10"):
        assert (await get(owner, video, Range=header))[0] == 206
    status, _, headers = await get(owner, f"{video}?download=1")
    assert status == 200
    assert headers["Content-Disposition"] == 'attachment; filename="front-2026-11-30-201501.mp4"'
    rows = await gateway.app[STORAGE].audit.query(action_prefix="clip.")
    assert sorted(r.action for r in rows) == ["clip.download", "clip.view"]
    assert all(json.loads(r.detail)["camera"] == "front" for r in rows)


async def test_a_held_clip_cannot_be_deleted_until_released(gateway: Gateway) -> None:
    owner, _ = await gateway.owner()
    rita = await resident(gateway, "rita", {"front"})
    hold = {"reason": "the parcel theft on Monday"}
    assert (await call(rita, "POST", f"/api/clips/{FRONT_CLIP}/hold", hold))[0] == 403
    assert (await call(rita, "DELETE", f"/api/clips/{FRONT_CLIP}"))[0] == 403
    status, view = await call(owner, "POST", f"/api/clips/{FRONT_CLIP}/hold", hold)
    assert (status, view["held"]) == (201, True)
    past = {"reason": "x", "until": "2020-01-01T00:00:00Z"}
    assert (await call(owner, "POST", f"/api/clips/{BACK_CLIP}/hold", past))[0] == 422
    status, refused = await call(owner, "DELETE", f"/api/clips/{FRONT_CLIP}")
    assert (status, refused["error"]) == (409, "held")
    status, view = await call(owner, "DELETE", f"/api/clips/{FRONT_CLIP}/hold")
    assert (status, view["held"]) == (200, False)
    assert (await call(owner, "DELETE", f"/api/clips/{FRONT_CLIP}"))[0] == 200
    assert (await call(owner, "GET", f"/api/clips/{FRONT_CLIP}"))[0] == 404
    actions = [r.action for r in await gateway.app[STORAGE].audit.query(action_prefix="clip.")]
    assert actions == ["clip.delete", "clip.release", "clip.hold"]


async def test_a_legal_hold_without_a_request_id_is_refused(gateway: Gateway) -> None:
    owner, _ = await gateway.owner()
    until = "2099-01-01T00:00:00Z"
    cases = [
        ({"reason": "subpoena", "legal": True, "until": until}, "request_id: a legal hold"),
        ({"reason": "subpoena", "legal": True, "request_id": "r1"}, "until: a legal hold"),
        ({"reason": "subpoena", "request_id": "no-such", "until": until}, "no such request"),
    ]
    for body, reason in cases:
        status, refused = await call(owner, "POST", f"/api/clips/{FRONT_CLIP}/hold", body)
        assert (status, refused["error"]) == (422, "invalid")
        assert reason in refused["reason"]
    assert (await call(owner, "GET", f"/api/clips/{FRONT_CLIP}"))[1]["held"] is False
    # The schema refuses one too, whoever writes it.
    storage = gateway.app[STORAGE]
    with pytest.raises(Conflict, match="a legal hold names its request id and an end date"):
        await storage.holds.hold(FRONT_CLIP, "subpoena", None, "owner", datetime.now(UTC),
                                 legal=True)  # fmt: skip
    clip = await storage.clips.get(FRONT_CLIP)
    assert clip is not None
    assert not clip.held


async def read_until_cut(content: aiohttp.StreamReader) -> tuple[int, bool]:
    """Read a body to its end: (bytes read, whether it was cut off before its length)."""
    received = 0
    try:
        while chunk := await content.read(1024 * 1024):
            received += len(chunk)
    except aiohttp.ClientPayloadError:
        return received, True
    return received, False


async def test_a_download_stops_within_a_second_when_the_grant_is_withdrawn(
    gateway: Gateway,
) -> None:
    root = gateway.app[STORAGE].database.path.parent / CLIPS_DIR
    big = root / "front" / "big.mp4"
    size = 64 * 1024 * 1024  # far more than the sockets between client and server hold
    with big.open("wb") as file:
        file.truncate(size)  # sparse: written at once
    await gateway.app[STORAGE].clips.add(
        ClipRecord("L" * 22, "front", "front/big.mp4", T0, T0, size_bytes=size)
    )
    rita = await resident(gateway, "rita", {"front"})
    received = 0
    async with rita.get(f"/api/clips/{'L' * 22}/video?download=1", headers=SAME_ORIGIN) as got:
        assert got.status == 200
        received += len(await got.content.readexactly(64 * 1024))  # a slow reader, mid-file
        user = next(u for u, _ in await gateway.app[ACCOUNTS].list_users() if u.username == "rita")
        await gateway.app[ACCOUNTS].update_user(CONSOLE, user.id, None, None, set(), "test")
        withdrawn = asyncio.get_running_loop().time()
        rest, cut = await read_until_cut(got.content)
        cut_after = asyncio.get_running_loop().time() - withdrawn
    assert cut  # the body ended short of its Content-Length
    assert received + rest < size  # the rest of the file was never sent
    assert cut_after < 1.0
    # The owner's download of the same clip is whole.
    owner, _ = await gateway.owner()
    status, body, _ = await get(owner, f"/api/clips/{'L' * 22}/video")
    assert (status, len(body)) == (200, size)
