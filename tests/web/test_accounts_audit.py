"""The audit log as the owner reads it: each row in plain words, live calls paired, and a
signed-out page's routine session probe not written as a denial."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp import web

from doorstep.gateway.web.keys import AUDIT

from ..gateway_client import SAME_ORIGIN, Client, call
from .conftest import from_address, post_json, set_up_owner


async def denied_rows(owner: Client) -> list[dict[str, object]]:
    _, page = await call(owner, "GET", "/api/audit?action=access.denied")
    rows: list[dict[str, object]] = page["rows"]
    return rows


async def test_a_signed_out_page_load_is_not_a_denial_but_a_stale_cookie_is(
    browser: Callable[[], Awaitable[Client]], app: web.Application
) -> None:
    owner = await browser()
    await set_up_owner(owner)
    visitor = await browser()
    for _ in range(3):  # three page loads of the sign-in page: "am I signed in?" "no"
        assert (await call(visitor, "GET", "/api/session"))[0] == 401
    async with visitor.head("/api/session", headers=SAME_ORIGIN) as response:
        assert response.status == 401
    # Before the change: 4 probes counted as access.denied with the owner's other refusals.
    assert await denied_rows(owner) == []

    # A cookie that no longer opens a session (signed out elsewhere, expired, or stolen and
    # revoked) is counted; so is any other route refused without a cookie.
    stale = {**SAME_ORIGIN, "Cookie": "doorstep_session=" + "A" * 43}
    async with visitor.get("/api/session", headers=stale) as response:
        assert response.status == 401
    assert (await call(visitor, "GET", "/api/users"))[0] == 401
    (row,) = await denied_rows(owner)
    detail = row["detail"]
    assert isinstance(detail, dict)
    assert (row["outcome"], detail["count"]) == ("401", 2)
    assert detail["targets"] == ["GET /api/session", "GET /api/users"]
    assert row["summary"] == (
        "2 requests refused (not signed in) from 127.0.0.1: GET /api/session and GET /api/users"
    )


async def test_rows_read_as_sentences_with_names(
    browser: Callable[[], Awaitable[Client]], app: web.Application
) -> None:
    owner = await browser()
    await set_up_owner(owner)
    _, rita = await call(owner, "POST", "/api/users",
                         {"username": "rita", "password": "resident pass 1"})  # fmt: skip
    await call(owner, "PATCH", f"/api/users/{rita['id']}", {"cameras": ["garden", "front"]})
    await call(owner, "PATCH", f"/api/users/{rita['id']}", {"role": "neighbour"})
    url = str(owner.make_url("/"))
    async with from_address(url, "127.0.0.77") as guesser:
        for n in range(5):
            await post_json(guesser, "/api/session", {"username": "bob", "password": f"guess {n}"})
    _, page = await call(owner, "GET", "/api/audit?limit=50")
    sentences = [r["summary"] for r in page["rows"]]
    for expected in (
        "alice set up Doorstep and became its owner from 127.0.0.1",
        "alice set up a second factor (authenticator app) from 127.0.0.1",
        "alice added rita as a resident from 127.0.0.1",
        "alice let rita see Front and Garden from 127.0.0.1",
        "alice changed rita's role to neighbour and took away rita's cameras from 127.0.0.1",
        "5 failed sign-ins for bob from 127.0.0.77",
    ):
        assert expected in sentences, (expected, sentences)


async def test_a_live_call_reads_as_one_watch_paired_across_pages(
    browser: Callable[[], Awaitable[Client]], app: web.Application
) -> None:
    owner = await browser()
    await set_up_owner(owner)
    audit = app[AUDIT]
    # The rows the live service writes for a call (gateway/app.py's _live_audit).
    start = await audit.append("alice", "live.start", "camera:front", ip="127.0.0.1",
                               detail={"session": "a1b2c3d4"})  # fmt: skip
    await audit.append("alice", "logout", ip="127.0.0.1")
    detail = {"session": "a1b2c3d4", "frames": 10, "reason": "hang-up"}
    end = await audit.append("alice", "live.stop", "camera:front", ip="127.0.0.1", detail=detail)
    _, page = await call(owner, "GET", "/api/audit?limit=3")
    by_seq = {r["seq"]: r for r in page["rows"]}
    assert by_seq[end.seq]["related_seq"] == start.seq
    assert by_seq[start.seq]["related_seq"] == end.seq
    assert by_seq[start.seq]["summary"] == "alice started watching Front live from 127.0.0.1"
    assert re.fullmatch(r"alice watched Front live for (under a second|\d+ s)",
                        by_seq[end.seq]["summary"])  # fmt: skip
    # The start is on the next (older) page: the end still finds it.
    _, page = await call(owner, "GET", "/api/audit?limit=1")
    (row,) = page["rows"]
    assert (row["seq"], row["related_seq"]) == (end.seq, start.seq)
    assert row["summary"].startswith("alice watched Front live for")


def test_every_action_the_gateway_writes_has_a_sentence() -> None:
    from doorstep.gateway.audit.sentences import ACTIONS

    root = Path(__file__).resolve().parents[2] / "gateway"
    appended = re.compile(
        r"(?:audit|AUDIT\])\.append\(\s*[^,()]+(?:\([^()]*\))?[^,()]*,\s*\"([a-z][a-z_.]*)\"",
        re.S,
    )
    live = re.compile(r"self\._audit\(\s*session,\s*\"([a-z][a-z_.]*)\"")
    # automation_api writes f"outgoing_webhook.{action}" through its own _audit(request, ...).
    webhook = re.compile(r"_audit\(\s*request,\s*\"([a-z_]+)\"")
    found: set[str] = set()
    for source in root.rglob("*.py"):
        text = source.read_text(encoding="utf-8")
        found |= set(appended.findall(text)) | set(live.findall(text))
        if 'f"outgoing_webhook.{action}"' in text:
            found |= {f"outgoing_webhook.{a}" for a in webhook.findall(text)}
    assert len(found) >= 18, found  # the scan itself works
    assert found <= ACTIONS, sorted(found - ACTIONS)
