"""The simulator's event service via onvif-zeep-async: long-poll, renew, limits, reboot, push."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from aiohttp import web
from onvif import ONVIFCamera
from zeep.exceptions import Fault

from doorstep.simulator import Dialect, SimulatedDevice

from .conftest import PULLPOINT_NS, StartSimulator, onvif_client


class PullPoint:
    """A pull-point subscription made with onvif-zeep-async's own services."""

    def __init__(self, client: ONVIFCamera, address: str) -> None:
        self.client = client
        self.address = address

    @classmethod
    async def create(cls, client: ONVIFCamera, termination: str = "PT60S") -> PullPoint:
        events = await client.create_events_service()
        result = await events.CreatePullPointSubscription({"InitialTerminationTime": termination})
        address = result.SubscriptionReference.Address._value_1
        client.xaddrs[PULLPOINT_NS] = address
        return cls(client, address)

    async def pull(self, timeout_s: float, limit: int = 100) -> list[Any]:
        service = await self.client.create_pullpoint_service()
        result = await service.PullMessages(
            {"Timeout": timedelta(seconds=timeout_s), "MessageLimit": limit}
        )
        return list(result.NotificationMessage)

    async def manager(self) -> Any:
        return await self.client.create_subscription_service("PullPointSubscription")


def summary(message: Any) -> tuple[str, str, str]:
    """(topic, property operation, first data value) of a NotificationMessage."""
    body = message.Message._value_1
    return message.Topic._value_1, body.PropertyOperation, body.Data.SimpleItem[0].Value


@pytest.fixture
async def doorbell_client(doorbell: SimulatedDevice) -> AsyncIterator[ONVIFCamera]:
    async with onvif_client(doorbell) as client:
        await client.update_xaddrs()
        yield client


async def test_event_properties_describe_the_topics(doorbell_client: ONVIFCamera) -> None:
    events = await doorbell_client.create_events_service()
    properties = await events.GetEventProperties()
    assert properties.FixedTopicSet is True
    tags = {
        element.tag.rsplit("}", 1)[-1]
        for root in properties.TopicSet._value_1
        for element in root.iter()
    }
    assert {
        "VideoSource",
        "MotionAlarm",
        "RuleEngine",
        "MyRuleDetector",
        "Visitor",
        "MessageDescription",
    } <= tags
    capabilities = await events.GetServiceCapabilities()
    assert capabilities.MaxPullPoints == 8


async def test_new_subscription_starts_with_initialized_states(
    doorbell_client: ONVIFCamera,
) -> None:
    pullpoint = await PullPoint.create(doorbell_client)
    initial = [summary(m) for m in await pullpoint.pull(1)]
    assert ("tns1:RuleEngine/MyRuleDetector/Visitor", "Initialized", "false") in initial
    assert ("tns1:VideoSource/MotionAlarm", "Initialized", "false") in initial
    assert all(operation == "Initialized" for _, operation, _ in initial)


async def test_long_poll_answers_as_soon_as_a_press_happens(
    doorbell: SimulatedDevice, doorbell_client: ONVIFCamera
) -> None:
    pullpoint = await PullPoint.create(doorbell_client)
    await pullpoint.pull(1)  # drain the Initialized burst
    loop = asyncio.get_running_loop()
    pressed_at: list[float] = []

    def press() -> None:
        pressed_at.append(time.perf_counter())
        doorbell.press()

    loop.call_later(0.3, press)
    messages = await pullpoint.pull(10)
    answered = time.perf_counter()
    assert [summary(m) for m in messages] == [
        ("tns1:RuleEngine/MyRuleDetector/Visitor", "Changed", "true")
    ]
    assert answered - pressed_at[0] < 0.05  # the long-poll returns within 50 ms of the event
    released = await pullpoint.pull(10)  # the device sends 'false' after the hold time
    assert [summary(m) for m in released] == [
        ("tns1:RuleEngine/MyRuleDetector/Visitor", "Changed", "false")
    ]


async def test_idle_long_poll_waits_for_its_timeout(doorbell_client: ONVIFCamera) -> None:
    pullpoint = await PullPoint.create(doorbell_client)
    await pullpoint.pull(1)
    started = time.perf_counter()
    assert await pullpoint.pull(1.5) == []
    assert time.perf_counter() - started >= 1.45


async def test_queued_messages_come_back_at_once(
    doorbell: SimulatedDevice, doorbell_client: ONVIFCamera
) -> None:
    pullpoint = await PullPoint.create(doorbell_client)
    await pullpoint.pull(1)
    doorbell.motion(True)
    doorbell.motion(False)
    started = time.perf_counter()
    messages = [summary(m) for m in await pullpoint.pull(30)]
    assert time.perf_counter() - started < 10  # at once: not the 30 s a long poll may wait
    assert ("tns1:VideoSource/MotionAlarm", "Changed", "true") in messages
    assert ("tns1:RuleEngine/CellMotionDetector/Motion", "Changed", "false") in messages


async def test_renew_and_unsubscribe(doorbell_client: ONVIFCamera) -> None:
    pullpoint = await PullPoint.create(doorbell_client, "PT60S")
    manager = await pullpoint.manager()
    renewed = await manager.Renew({"TerminationTime": "PT600S"})
    assert (
        timedelta(seconds=590)
        < renewed.TerminationTime - renewed.CurrentTime
        <= timedelta(seconds=600)
    )
    await manager.Unsubscribe()
    with pytest.raises(Fault, match="unknown or expired subscription"):
        await pullpoint.pull(1)


async def test_absolute_termination_time_and_expiry(
    doorbell: SimulatedDevice, doorbell_client: ONVIFCamera
) -> None:
    ends = (doorbell.now() + timedelta(seconds=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    pullpoint = await PullPoint.create(doorbell_client, ends)
    await pullpoint.pull(0.5)
    await asyncio.sleep(2.2)
    with pytest.raises(Fault, match="unknown or expired subscription"):
        await pullpoint.pull(0.5)


async def test_set_synchronization_point_resends_states(
    doorbell: SimulatedDevice, doorbell_client: ONVIFCamera
) -> None:
    pullpoint = await PullPoint.create(doorbell_client)
    await pullpoint.pull(1)
    doorbell.motion(True)
    await pullpoint.pull(1)
    service = await doorbell_client.create_pullpoint_service()
    await service.SetSynchronizationPoint()
    resent = [summary(m) for m in await pullpoint.pull(1)]
    assert ("tns1:VideoSource/MotionAlarm", "Initialized", "true") in resent


async def test_max_pull_points_answers_a_fault(simulator_factory: StartSimulator) -> None:
    async with (
        simulator_factory(cameras=1, doorbells=0, max_pullpoints=2) as simulator,
        onvif_client(simulator.devices["camera-1"]) as client,
    ):
        await client.update_xaddrs()
        events = await client.create_events_service()
        for _ in range(2):
            await events.CreatePullPointSubscription({"InitialTerminationTime": "PT60S"})
        with pytest.raises(Fault, match=r"maximum number of pull points \(2\) reached"):
            await events.CreatePullPointSubscription({"InitialTerminationTime": "PT60S"})


async def test_reboot_drops_subscriptions(
    doorbell: SimulatedDevice, doorbell_client: ONVIFCamera
) -> None:
    pullpoint = await PullPoint.create(doorbell_client)
    booted = doorbell.boot_time
    # Down long enough that a loaded machine still sees it down (polled, not a fixed sleep).
    doorbell.schedule_reboot(3.0)
    for _ in range(200):
        if not doorbell.online:
            break
        await asyncio.sleep(0.01)
    assert not doorbell.online
    with pytest.raises(Exception):  # noqa: B017, PT011  # connection refused while it is down
        await pullpoint.pull(0.5)
    for _ in range(300):
        if doorbell.online:
            break
        await asyncio.sleep(0.05)
    assert doorbell.online
    assert doorbell.boot_time > booted
    with pytest.raises(Fault, match="unknown or expired subscription"):
        await pullpoint.pull(0.5)
    fresh = await PullPoint.create(doorbell_client)
    assert fresh.address != pullpoint.address


async def test_axis_dialect_sends_numeric_booleans(simulator_factory: StartSimulator) -> None:
    async with simulator_factory(cameras=0, doorbells=1, dialect=Dialect.AXIS) as simulator:
        device = simulator.devices["doorbell-1"]
        async with onvif_client(device) as client:
            await client.update_xaddrs()
            pullpoint = await PullPoint.create(client)
            initial = [summary(m) for m in await pullpoint.pull(1)]
            assert ("tns1:Device/tnsaxis:IO/Port", "Initialized", "0") in initial
            device.press()
            assert [summary(m) for m in await pullpoint.pull(5)] == [
                ("tns1:Device/tnsaxis:IO/Port", "Changed", "1")
            ]


async def test_push_subscription_posts_notify_to_the_consumer(
    doorbell: SimulatedDevice, doorbell_client: ONVIFCamera, aiohttp_server: Any
) -> None:
    received: asyncio.Queue[bytes] = asyncio.Queue()

    async def consumer(request: web.Request) -> web.Response:
        await received.put(await request.read())
        return web.Response()

    app = web.Application()
    app.router.add_post("/hook", consumer)
    server = await aiohttp_server(app)
    notifications = await doorbell_client.create_notification_service()
    await notifications.Subscribe(
        {
            "ConsumerReference": {"Address": f"http://127.0.0.1:{server.port}/hook"},
            "InitialTerminationTime": "PT60S",
        }
    )
    initial = [await asyncio.wait_for(received.get(), 5) for _ in doorbell.properties]
    assert all(b"Initialized" in body for body in initial)
    doorbell.press()
    body = await asyncio.wait_for(received.get(), 5)
    assert b"<wsnt:Notify>" in body
    assert b"tns1:RuleEngine/MyRuleDetector/Visitor" in body
    assert b'Name="State" Value="true"' in body


async def test_push_consumer_must_be_loopback(doorbell_client: ONVIFCamera) -> None:
    notifications = await doorbell_client.create_notification_service()
    with pytest.raises(Fault, match="consumer must be on loopback"):
        await notifications.Subscribe({"ConsumerReference": {"Address": "http://192.0.2.7/hook"}})
