"""Outgoing webhooks deliver matching camera events, signed, to a real receiver on loopback:
filters, retries with backoff, no redirects, and a receiver that hangs holds up nobody else."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiohttp import web

from doorstep.gateway.automation.outgoing_webhooks import OutgoingWebhooks
from doorstep.gateway.automation.webhook_delivery import RetryPolicy
from doorstep.gateway.events import CameraEventReceived
from doorstep.sdk import EventKind

from .outgoing_webhooks_receiver import (
    FAST,
    Sleeps,
    camera_event,
    outgoing_webhooks,
    receiving,
    rule,
    status,
)


async def settled(hooks: OutgoingWebhooks, rule_id: int, timeout: float = 20.0) -> None:
    """Until the rule's deliveries have ended (none queued or in flight, a status recorded)."""
    async with asyncio.timeout(timeout):
        while True:
            state = hooks.get(rule_id)
            if state.last is not None and state.queued == 0 and not state.sending:
                return
            await asyncio.sleep(0.01)


async def test_a_doorbell_press_delivers_one_signed_request_with_the_rendered_body(
    tmp_path: Path,
) -> None:
    async with receiving() as receiver, outgoing_webhooks(tmp_path) as (hooks, bus, _):
        state, secret = await hooks.create(rule(receiver.url("/hook")))
        pressed = datetime(2026, 12, 1, 15, 39, 16, 120000, tzinfo=UTC)
        bus.publish(camera_event("front", active=True, initial=True))  # state, not news
        bus.publish(camera_event("front", active=True, at=pressed))
        bus.publish(camera_event("front", active=False))  # the ring's end: not asked for
        bus.publish(camera_event("front", EventKind.MOTION))  # not a kind the rule takes
        later = pressed + timedelta(seconds=30)
        bus.publish(camera_event("front", active=True, at=later))  # same camera: in order
        first, second = await receiver.wait_for("/hook", 2)
        assert len(receiver.requests) == 2
        for request in (first, second):
            assert request.signed_by(secret)
            assert not request.signed_by(secret + "x")
            assert request.event == "doorbell"
            assert request.headers["Content-Type"] == "application/json"
        assert first.delivery != second.delivery
        body = first.json
        assert body == {
            "event_id": body["event_id"],
            "kind": "doorbell",
            "active": True,
            "state": "started",
            "text": "Someone rang the doorbell at Front door",
            "camera_id": "front",
            "camera_name": "Front door",
            "occurred_at": "2026-12-01T15:39:16.120Z",
            "received_at": body["received_at"],
            "gateway": "Doorstep test",
        }
        assert len(body["event_id"]) == 32
        assert datetime.fromisoformat(body["received_at"]).tzinfo is not None
        assert second.json["occurred_at"] == "2026-12-01T15:39:46.120Z"
        await settled(hooks, state.id)
        last = hooks.get(state.id).last
        assert last is not None
        assert (last.ok, last.http_status, last.attempts) == (True, 200, 1)


async def test_rules_take_only_their_kinds_and_cameras(tmp_path: Path) -> None:
    async with receiving() as receiver, outgoing_webhooks(tmp_path) as (hooks, bus, _):
        await hooks.create(rule(receiver.url("/garden-motion"), {EventKind.MOTION}, {"garden"},
                                include_ends=True))  # fmt: skip
        await hooks.create(rule(receiver.url("/people"), {EventKind.PERSON, EventKind.DOORBELL}))
        events = [
            camera_event("front", EventKind.MOTION),  # wrong camera for the first rule
            camera_event("garden", EventKind.MOTION, True),  # first rule
            camera_event("garden", EventKind.VEHICLE),  # nobody's kind
            camera_event("garden", EventKind.PERSON, None),  # second rule (a one-off)
            camera_event("front", EventKind.DOORBELL),  # second rule
            camera_event("garden", EventKind.MOTION, False),  # first rule: it takes the ends
            camera_event("garden", EventKind.PERSON, False),  # an end: the second does not
        ]
        for event in events:
            bus.publish(event)
        motion = await receiver.wait_for("/garden-motion", 2)
        people = await receiver.wait_for("/people", 2)
        assert [(r.json["camera_id"], r.json["state"]) for r in motion] == [
            ("garden", "started"), ("garden", "ended"),
        ]  # fmt: skip
        assert motion[1].json["text"] == "Motion at Garden ended"
        assert {(r.json["kind"], r.json["camera_id"]) for r in people} == {
            ("person", "garden"), ("doorbell", "front"),
        }  # fmt: skip
        assert {r.json["active"] for r in people} == {None, True}
        # Nothing else arrives: a later event of each rule is the next request each sees.
        bus.publish(camera_event("garden", EventKind.MOTION, True))
        bus.publish(camera_event("front", EventKind.DOORBELL))
        assert len(await receiver.wait_for("/garden-motion", 3)) == 3
        assert len(await receiver.wait_for("/people", 3)) == 3
        assert len(receiver.requests) == 6


async def test_a_5xx_is_retried_with_backoff_under_the_same_delivery_id(tmp_path: Path) -> None:
    sleeps = Sleeps()
    async with receiving() as receiver, outgoing_webhooks(tmp_path, sleeps=sleeps) as (
        hooks, bus, _,
    ):  # fmt: skip
        receiver.script("/hook", status(500), status(502), status(200))
        state, secret = await hooks.create(rule(receiver.url("/hook")))
        bus.publish(camera_event("front"))
        attempts = await receiver.wait_for("/hook", 3)
        await settled(hooks, state.id)
        assert len({a.delivery for a in attempts}) == 1  # the receiver can de-duplicate
        assert len({a.body for a in attempts}) == 1
        assert all(a.signed_by(secret) for a in attempts)  # each attempt signed afresh
        # Exponential from 2 s, with the jitter at its low end (random() = 0): half of 2, 4.
        assert sleeps.delays == [1.0, 2.0]
        last = hooks.get(state.id).last
        assert last is not None
        assert (last.ok, last.http_status, last.attempts) == (True, 200, 3)


async def test_jitter_stays_within_half_and_all_of_the_exponential_step(tmp_path: Path) -> None:
    sleeps = Sleeps()
    policy = RetryPolicy(max_attempts=6, backoff_initial_s=2.0, backoff_max_s=10.0)
    async with receiving() as receiver, outgoing_webhooks(
        tmp_path, policy, sleeps, random=lambda: 0.999
    ) as (hooks, bus, _):  # fmt: skip
        receiver.script("/hook", status(503))
        state, _ = await hooks.create(rule(receiver.url("/hook")))
        bus.publish(camera_event("front"))
        await receiver.wait_for("/hook", 6)
        await settled(hooks, state.id)
        steps = [2.0, 4.0, 8.0, 10.0, 10.0]  # capped at backoff_max_s
        assert len(sleeps.delays) == 5
        assert all(
            step / 2 <= delay <= step for delay, step in zip(sleeps.delays, steps, strict=True)
        )
        assert sleeps.delays[3] > 9.9  # random() near 1: near the whole step
        last = hooks.get(state.id).last
        assert last is not None
        assert (last.ok, last.http_status, last.attempts) == (False, 503, 6)


async def test_retry_after_is_honoured_within_bounds(tmp_path: Path) -> None:
    sleeps = Sleeps()
    async with receiving() as receiver, outgoing_webhooks(tmp_path, sleeps=sleeps) as (
        hooks, bus, _,
    ):  # fmt: skip
        receiver.script(
            "/hook",
            status(429, {"Retry-After": "7"}),
            status(503, {"Retry-After": "100000"}),  # a day and more: capped
            status(204),
        )
        state, _ = await hooks.create(rule(receiver.url("/hook")))
        bus.publish(camera_event("front"))
        await receiver.wait_for("/hook", 3)
        await settled(hooks, state.id)
        assert sleeps.delays == [7.0, FAST.retry_after_max_s]
        last = hooks.get(state.id).last
        assert last is not None
        assert (last.ok, last.http_status, last.attempts) == (True, 204, 3)


async def test_a_4xx_is_not_retried_and_the_next_event_still_goes(tmp_path: Path) -> None:
    sleeps = Sleeps()
    async with receiving() as receiver, outgoing_webhooks(tmp_path, sleeps=sleeps) as (
        hooks, bus, _,
    ):  # fmt: skip
        receiver.script("/hook", status(400), status(200))
        state, _ = await hooks.create(rule(receiver.url("/hook")))
        bus.publish(camera_event("front"))
        await receiver.wait_for("/hook", 1)
        await settled(hooks, state.id)
        last = hooks.get(state.id).last
        assert last is not None
        assert (last.ok, last.http_status, last.attempts, last.error) == (
            False, 400, 1, "HTTP 400",
        )  # fmt: skip
        bus.publish(camera_event("front"))
        first, second = await receiver.wait_for("/hook", 2)
        assert first.delivery != second.delivery  # a new delivery, not a retry
        assert sleeps.delays == []


async def test_a_redirect_is_not_followed(tmp_path: Path) -> None:
    async with receiving() as receiver, outgoing_webhooks(tmp_path) as (hooks, bus, _):
        receiver.script("/hook", status(302, {"Location": receiver.url("/elsewhere")}))
        state, _ = await hooks.create(rule(receiver.url("/hook")))
        bus.publish(camera_event("front"))
        await receiver.wait_for("/hook", 1)
        await settled(hooks, state.id)
        last = hooks.get(state.id).last
        assert last is not None
        assert (last.ok, last.http_status, last.attempts) == (False, 302, 1)
        assert last.error is not None
        assert "redirect" in last.error
        assert receiver.at("/elsewhere") == []
        assert receiver.started.get("/elsewhere") is None


async def test_a_receiver_that_keeps_failing_is_logged_once_and_dropped(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="doorstep.gateway.automation")
    policy = RetryPolicy(max_attempts=3)
    async with receiving() as receiver, outgoing_webhooks(tmp_path, policy) as (hooks, bus, _):
        receiver.script("/hook", status(500))
        state, _ = await hooks.create(rule(receiver.url("/hook")))
        bus.publish(camera_event("front"))
        bus.publish(camera_event("front"))
        await receiver.wait_for("/hook", 6)
        await settled(hooks, state.id)
        dropped = [r for r in caplog.records if "dropped after 3 attempt(s)" in r.getMessage()]
        assert [r.levelno for r in dropped] == [logging.WARNING, logging.DEBUG]
        receiver.script("/hook", status(200))
        bus.publish(camera_event("front"))
        await receiver.wait_for("/hook", 7)
        await settled(hooks, state.id)
        assert any("delivers again" in r.getMessage() for r in caplog.records)
        assert len(receiver.requests) == 7  # 3 + 3 attempts, then 1: no endless retrying


async def test_a_delivery_older_than_max_age_is_dropped(tmp_path: Path) -> None:
    sleeps = Sleeps()
    policy = RetryPolicy(max_attempts=50, max_age_s=5.0, backoff_initial_s=2.0)
    async with receiving() as receiver, outgoing_webhooks(tmp_path, policy, sleeps) as (
        hooks, bus, _,
    ):  # fmt: skip
        receiver.script("/hook", status(503, {"Retry-After": "4"}))
        state, _ = await hooks.create(rule(receiver.url("/hook")))
        bus.publish(camera_event("front"))
        await receiver.wait_for("/hook", 1)
        await settled(hooks, state.id)
        # On the injected clock 4 s, then 4 s more would pass 5 s: one retry, then dropped.
        assert sleeps.delays == [4.0]
        last = hooks.get(state.id).last
        assert last is not None
        assert (last.ok, last.attempts) == (False, 2)


async def _hang_until(release: asyncio.Event) -> web.StreamResponse:
    await release.wait()
    return web.Response(status=200)


async def test_a_hanging_receiver_holds_up_neither_the_bus_nor_other_rules(
    tmp_path: Path,
) -> None:
    release = asyncio.Event()
    policy = RetryPolicy(timeout_s=120.0)  # it hangs for the whole test
    async with receiving() as receiver, outgoing_webhooks(tmp_path, policy) as (hooks, bus, _):

        async def hang(request: web.Request) -> web.StreamResponse:
            return await _hang_until(release)

        receiver.script("/hang", hang)
        stuck, _ = await hooks.create(rule(receiver.url("/hang"), name="stuck"))
        fine, _ = await hooks.create(rule(receiver.url("/fine"), name="fine"))
        seen: list[CameraEventReceived] = []
        async with bus.stream("observer", (CameraEventReceived,)) as observer:
            try:
                for _ in range(20):
                    bus.publish(camera_event("front"))  # returns at once, whatever the rules do
                await receiver.wait_for("/fine", 20)
                assert receiver.started["/hang"] == 1  # one in flight, still hanging
                assert receiver.at("/hang") == []
                for _ in range(20):
                    seen.append(await asyncio.wait_for(observer.get(), 10))
                assert hooks.get(stuck.id).queued == 19  # waiting its turn, bounded
                assert hooks.get(fine.id).last is not None
            finally:
                release.set()
        await receiver.wait_for("/hang", 20)  # released: it catches up, in order
        assert len(seen) == 20


async def test_the_queue_stays_bounded_in_entries_and_bytes_under_a_flood(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    release = asyncio.Event()
    policy = RetryPolicy(timeout_s=120.0, queue_entries=50, queue_bytes=8 * 1024)
    async with receiving() as receiver, outgoing_webhooks(tmp_path, policy) as (hooks, bus, _):

        async def hang(request: web.Request) -> web.StreamResponse:
            return await _hang_until(release)

        receiver.script("/hang", hang)
        state, _ = await hooks.create(rule(receiver.url("/hang")))
        try:
            for _batch in range(40):
                for _ in range(50):
                    bus.publish(camera_event("front"))
                while any(s.queued for s in bus.stats() if s.name == "outgoing_webhooks"):
                    await asyncio.sleep(0.001)
                current = hooks.get(state.id)
                assert current.queued <= policy.queue_entries
                assert current.queued_bytes <= policy.queue_bytes
            current = hooks.get(state.id)
            # Bytes bind first here (a body is ~400 bytes): the queue is full to its budget.
            assert current.queued_bytes > policy.queue_bytes - 1024
            assert current.dropped >= 2000 - policy.queue_entries - 1
        finally:
            release.set()
    behind = [r for r in caplog.records if "is behind" in r.getMessage()]
    assert len(behind) == 1  # one line for the whole flood, not one per drop
