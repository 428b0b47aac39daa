"""Outgoing webhook rules live in the database, sealed at rest, and their changes take effect at
once: a new URL, a rotated secret, disabling, deleting; the secret and a URL's query never reach
the log."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from doorstep.gateway.automation.outgoing_webhooks import MAX_RULES, NoSuchRule, TooManyRules
from doorstep.gateway.automation.webhook_delivery import RetryPolicy
from doorstep.gateway.keys.secretbox import KEY_FILE

from .outgoing_webhooks_receiver import camera_event, outgoing_webhooks, receiving, rule, status


async def test_rules_survive_a_restart_and_are_sealed_at_rest(tmp_path: Path) -> None:
    async with receiving() as receiver:
        url = receiver.url("/hook", "token=query-token-1234")
        async with outgoing_webhooks(tmp_path) as (hooks, _, storage):
            state, secret = await hooks.create(rule(url, name="gotify"))
            row = await storage.database.durable.fetchone(
                "SELECT * FROM outgoing_webhooks WHERE id = ?", (state.id,)
            )
            assert row is not None
            raw = b"".join(bytes(v) if isinstance(v, bytes) else str(v).encode() for v in row)
            assert secret.encode() not in raw
            assert b"query-token-1234" not in raw
            assert receiver.base.encode() not in raw
        async with outgoing_webhooks(tmp_path) as (hooks, bus, _):
            (loaded,) = hooks.rules()
            assert loaded.settings is not None
            assert (loaded.id, loaded.name, loaded.settings.url) == (state.id, "gotify", url)
            bus.publish(camera_event("front"))
            (request,) = await receiver.wait_for("/hook", 1)
            assert request.query == "token=query-token-1234"
            assert request.signed_by(secret)  # the same secret as before the restart


async def test_a_rule_sealed_with_another_key_is_listed_with_its_problem(tmp_path: Path) -> None:
    async with outgoing_webhooks(tmp_path) as (hooks, _, _):
        state, _ = await hooks.create(rule("https://ntfy.sh/"))
    (tmp_path / KEY_FILE).write_bytes(Fernet.generate_key())  # a restored backup, another key
    async with outgoing_webhooks(tmp_path) as (hooks, bus, _):
        (broken,) = hooks.rules()
        assert broken.id == state.id
        assert broken.settings is None
        assert broken.problem is not None
        assert "delete this webhook" in broken.problem
        bus.publish(camera_event("front"))  # matched by nothing; nothing breaks
        await asyncio.sleep(0.05)
        await hooks.delete(state.id)
        assert hooks.rules() == []


async def test_a_new_url_a_new_secret_disabling_and_deleting_take_effect_at_once(
    tmp_path: Path,
) -> None:
    async with receiving() as receiver, outgoing_webhooks(tmp_path) as (hooks, bus, _):
        state, first_secret = await hooks.create(rule(receiver.url("/old")))
        assert state.settings is not None
        bus.publish(camera_event("front"))
        await receiver.wait_for("/old", 1)
        moved = await hooks.update(state.id, replace(state.settings, url=receiver.url("/new")))
        assert moved.settings is not None
        bus.publish(camera_event("front"))
        (at_new,) = await receiver.wait_for("/new", 1)
        assert at_new.signed_by(first_secret)  # a new URL keeps the secret
        rotated, second_secret = await hooks.rotate_secret(state.id)
        assert second_secret != first_secret
        assert rotated.secret_rotated_at > state.secret_rotated_at
        bus.publish(camera_event("front"))
        _, after_rotation = await receiver.wait_for("/new", 2)
        assert after_rotation.signed_by(second_secret)
        assert not after_rotation.signed_by(first_secret)
        off = await hooks.update(state.id, replace(moved.settings, enabled=False))
        assert off.enabled is False
        bus.publish(camera_event("front"))
        test = await hooks.send_test(state.id)  # a test still goes: the owner asked for it
        assert (test.ok, test.test, test.attempts) == (True, True, 1)
        sent = await receiver.wait_for("/new", 3)
        assert sent[2].event == "test"
        assert "Test from Doorstep test" in sent[2].json["text"]
        await hooks.delete(state.id)
        with pytest.raises(NoSuchRule):
            hooks.get(state.id)
        bus.publish(camera_event("front"))
        await asyncio.sleep(0.1)
        assert len(receiver.at("/new")) == 3  # nothing from the disabled, then deleted, rule
        assert len(receiver.at("/old")) == 1


async def test_rules_are_capped(tmp_path: Path) -> None:
    async with outgoing_webhooks(tmp_path) as (hooks, _, _):
        for n in range(MAX_RULES):
            await hooks.create(rule("https://ntfy.sh/", name=f"rule {n}"))
        with pytest.raises(TooManyRules):
            await hooks.create(rule("https://ntfy.sh/", name="one too many"))
        assert len(hooks.rules()) == MAX_RULES


async def test_neither_the_secret_nor_the_query_is_ever_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    policy = RetryPolicy(max_attempts=2)
    async with receiving() as receiver, outgoing_webhooks(tmp_path, policy) as (hooks, bus, _):
        receiver.script("/hook", status(500), status(500), status(200))
        url = receiver.url("/hook", "token=query-token-5678")
        state, secret = await hooks.create(rule(url))
        bus.publish(camera_event("front"))
        bus.publish(camera_event("front"))
        await receiver.wait_for("/hook", 3)
        _, rotated = await hooks.rotate_secret(state.id)
        await hooks.send_test(state.id)
        await hooks.delete(state.id)
    ours = [r for r in caplog.records if r.name != "aiohttp.access"]  # the receiver's own log
    text = "\n".join(f"{r.getMessage()} {r.exc_text or ''}" for r in ours)
    assert "/hook" in text  # the logs do speak of this rule …
    for leaked in (secret, rotated, "query-token-5678", "token="):
        assert leaked not in text  # … but never of its secret or its query
