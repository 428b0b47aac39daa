"""What API fuzzing found, pinned down as plain examples."""

from __future__ import annotations

import asyncio

import pytest
from aiohttp import web

from doorstep.gateway.web.keys import ACCOUNTS

from .fuzzing import REQUEST_TIMEOUT_S, sign_in_as


@pytest.mark.parametrize("role", ["resident", "resident_granted"])
async def test_events_query_is_validated_for_every_role(
    gateway: tuple[str, web.Application], role: str
) -> None:
    # Found by fuzzing: a resident's camera filter answered an empty 200 before the query was
    # read, so `before=` or `limit=x` was accepted from residents and refused (422) from owners.
    base_url, app = gateway
    token = app[ACCOUNTS].setup_token
    assert token

    def run() -> list[int]:
        session = sign_in_as(base_url, token, role)
        queries = ["before=", "limit=x", "camera=elsewhere&before=2020-01-01T00:00:00"]
        return [
            session.get(f"{base_url}/api/events?{q}", timeout=REQUEST_TIMEOUT_S).status_code
            for q in queries
        ]

    assert await asyncio.to_thread(run) == [422, 422, 422]


async def test_deeply_nested_json_is_refused_not_a_500(
    gateway: tuple[str, web.Application],
) -> None:
    # Found while fuzzing the outgoing-webhooks API: 10 000 `[` made json.loads raise
    # RecursionError, which no handler caught, so every JSON route answered 500.
    base_url, app = gateway
    token = app[ACCOUNTS].setup_token
    assert token

    def run() -> tuple[int, str]:
        session = sign_in_as(base_url, token, "owner")
        answer = session.post(
            f"{base_url}/api/session/confirm", data="[" * 10_000,
            headers={"Content-Type": "application/json", "Origin": base_url},
            timeout=REQUEST_TIMEOUT_S,
        )  # fmt: skip
        return answer.status_code, answer.json()["reason"]

    status, reason = await asyncio.to_thread(run)
    assert (status, reason) == (422, "body: nested too deeply")
