"""Notifications follow access: who may see the camera is read again at every send, so a
withdrawn grant, a disabled or deleted account or a role change stops the very next one."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from doorstep.gateway.auth.principal import HOUSEHOLD_ROLES
from doorstep.gateway.notify.audience import HOUSEHOLD_ROLES as NOTIFY_HOUSEHOLD
from doorstep.gateway.notify.dispatcher import REPEAT_S
from doorstep.gateway.notify.prefs import PushKind
from doorstep.gateway.web.keys import ACCOUNTS, STORAGE
from doorstep.sdk import EventKind

from .conftest import CONSOLE, Login, publish, settle, user_id
from .rig import PushRig, subscribe_device


def test_the_household_is_the_same_set_as_the_accounts_service() -> None:
    assert NOTIFY_HOUSEHOLD == HOUSEHOLD_ROLES


async def _ring(rig: PushRig) -> None:
    publish(rig, EventKind.DOORBELL, "front")
    await settle(rig)


Revoke = Callable[[PushRig, int], Awaitable[None]]


async def _withdraw_grant(rig: PushRig, rita: int) -> None:
    await rig.app[ACCOUNTS].update_user(CONSOLE, rita, None, None, set(), "test")


async def _disable(rig: PushRig, rita: int) -> None:
    await rig.app[ACCOUNTS].update_user(CONSOLE, rita, None, True, None, "test")


async def _make_neighbour(rig: PushRig, rita: int) -> None:
    await rig.app[ACCOUNTS].update_user(CONSOLE, rita, "neighbour", None, None, "test")


async def _delete(rig: PushRig, rita: int) -> None:
    await rig.app[ACCOUNTS].delete_user(CONSOLE, rita, "test")


@pytest.mark.parametrize(
    "revoke", [_withdraw_grant, _disable, _make_neighbour, _delete], ids=lambda f: f.__name__
)
async def test_losing_access_stops_the_next_notification(
    rig: PushRig, login: Login, revoke: Revoke
) -> None:
    ritas, _ = await subscribe_device(await login("rita"), rig.receiver, "Rita's phone")
    await _ring(rig)
    assert len(rig.receiver.messages_for(ritas)) == 1
    rita = await user_id(rig, "rita")
    await revoke(rig, rita)
    await _ring_again(rig)
    assert len(rig.receiver.messages_for(ritas)) == 1, "rita was told after losing access"
    assert rig.receiver.attempts[ritas.sid] == 1
    assert len(rig.receiver.messages_for(rig.device)) == 2  # the owner's phone rang both times


async def test_a_deleted_account_takes_its_devices_with_it(rig: PushRig, login: Login) -> None:
    await subscribe_device(await login("rita"), rig.receiver)
    rita = await user_id(rig, "rita")
    assert await rig.app[STORAGE].push.for_user(rita)
    await rig.app[ACCOUNTS].delete_user(CONSOLE, rita, "test")
    assert await rig.app[STORAGE].push.for_user(rita) == []


async def test_a_grant_given_later_rings_from_then_on(rig: PushRig, login: Login) -> None:
    ninas, _ = await subscribe_device(await login("nina"), rig.receiver)
    await _ring(rig)
    assert rig.receiver.messages_for(ninas) == []
    nina = await user_id(rig, "nina")
    await rig.app[ACCOUNTS].update_user(CONSOLE, nina, None, None, {"front"}, "test")
    await _ring_again(rig)
    assert len(rig.receiver.messages_for(ninas)) == 1


async def _ring_again(rig: PushRig) -> None:
    # Rings on one camera within REPEAT_S of each other are one ring (a press seen by two
    # sources): the next press comes after it.
    await asyncio.sleep(REPEAT_S[PushKind.RING] + 0.1)
    await _ring(rig)
