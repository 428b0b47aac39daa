"""Schemathesis over /api/openapi.json for every role: no server error, every answer as
documented, the security headers on each, and no role ever let past its route's access level."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest
from aiohttp import web

from doorstep.gateway.web.errors import SECURITY_HEADERS
from doorstep.gateway.web.keys import ACCOUNTS

from .conftest import EXAMPLES
from .fuzzing import (
    REQUEST_TIMEOUT_S,
    ROLES,
    STREAMING,
    Tally,
    check_stream,
    contract_problems,
    fuzz_role,
    sign_in_as,
)


def _report(tally: Tally) -> str:
    lines = [f"{tally.failures} failures as {tally.role}:"]
    for kind, example in tally.kinds.items():
        lines += [f"- {kind}", f"    {example}"]
    return "\n".join(lines)


@pytest.mark.timeout(300)
@pytest.mark.parametrize("role", list(ROLES))
async def test_every_operation_as_role(gateway: tuple[str, web.Application], role: str) -> None:
    base_url, app = gateway
    token = app[ACCOUNTS].setup_token
    assert token

    def run() -> tuple[Tally, list[str], int]:
        session = sign_in_as(base_url, token, role)
        stream_problems = check_stream(base_url, session.cookies, role)
        document = session.get(f"{base_url}/api/openapi.json", timeout=REQUEST_TIMEOUT_S).json()
        documented = sum(len(item) for item in document["paths"].values())
        tally = fuzz_role(base_url, session, role, EXAMPLES, derandomize=True)
        return tally, stream_problems, documented

    tally, stream_problems, documented = await asyncio.to_thread(run)
    statuses = dict(sorted(tally.statuses.items()))
    print(f"{role}: {tally.operations} operations, {tally.examples} examples, "
          f"{tally.failures} failures, statuses {statuses}")  # fmt: skip
    assert tally.failures == 0, _report(tally)
    assert stream_problems == []
    # Every documented operation but the stream's two and GET /api/openapi.json, which
    # schemathesis loads the schema from and leaves out (its HEAD is fuzzed).
    assert tally.operations == documented - len(STREAMING) - 1
    assert len(tally.by_operation) == tally.operations  # each one was really called
    assert tally.unrun == {}  # and every planned run generated its examples
    assert 500 not in tally.statuses


def _answer(status: int, headers: dict[str, str], body: object = None) -> Any:
    return SimpleNamespace(
        status_code=status, headers={k: [v] for k, v in headers.items()}, json=lambda: body
    )


def _operation(label: str, access: str) -> Any:
    definition = SimpleNamespace(raw={"x-doorstep-access": access})
    return SimpleNamespace(label=label, definition=definition)


def test_the_contract_checks_catch_what_they_are_for() -> None:
    cameras = _operation("GET /api/cameras", "household")
    listing = {"cameras": [{"id": "garden"}, {"id": "front"}]}
    headers = {**SECURITY_HEADERS, "Cache-Control": "no-store"}
    assert contract_problems("owner", cameras, _answer(200, headers, listing)) == []
    assert contract_problems("neighbour", cameras, _answer(403, headers)) == []
    leaks = [
        ("neighbour", cameras, _answer(200, headers, {"cameras": []})),
        ("anonymous", cameras, _answer(404, headers)),
        ("resident_granted", cameras, _answer(200, headers, listing)),
        ("owner", cameras, _answer(200, {}, listing)),
        ("owner", cameras, _answer(200, SECURITY_HEADERS, listing)),
    ]
    for role, operation, answer in leaks:
        assert contract_problems(role, operation, answer), role
