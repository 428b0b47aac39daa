"""Refused links cannot be told apart by time: unknown, expired, revoked and over-the-limit
tokens, 1000 tries each through HTTP, interleaved, answer within the noise of one another."""

from __future__ import annotations

from datetime import timedelta

from doorstep.gateway.web.keys import SHARES
from doorstep.gateway.web.share_public_api import SHARE_LIMITS

from ..settings.conftest import Gateway, StartGateway, data_dir, start_gateway  # noqa: F401
from ..timing_probe import assert_indistinguishable, interleaved
from .test_shares_api import GONE, gateway, loop, public, share  # noqa: F401  # fixtures

TRIES = 1000


async def test_refused_tokens_take_the_same_time_whatever_the_reason(gateway: Gateway) -> None:  # noqa: F811
    gateway.app[SHARE_LIMITS].configure(refusals_per_address=10**6, requests_per_address=10**6)
    owner, _ = await gateway.owner()
    revoked_id, revoked = await share(owner, gateway, title="Revoked")
    _, limited = await share(owner, gateway, view_limit=1)
    _, expired = await share(owner, gateway, expires_in_days=1 / 24)
    stranger = await gateway.browser()
    await gateway.app[SHARES].revoke(revoked_id, "alice", "")
    assert (await public(stranger, f"api/{limited}"))[0] == 200  # its one view
    clock = gateway.app[SHARES].clock
    real = clock.wall
    clock.wall = lambda: real() + timedelta(hours=2)  # past the hour-long share's end
    links = {"unknown": "s/" + "x" * 32, "revoked": revoked, "limit": limited, "expired": expired}

    async def probe(name: str) -> None:
        status, body, _ = await public(stranger, f"api/{links[name]}")
        assert (status, body) == (404, GONE), name

    times = await interleaved(links, probe, TRIES)
    clock.wall = real
    # Within 15 % (or 0.15 ms) of an unknown token's, round by round.
    assert_indistinguishable(times, "unknown")
