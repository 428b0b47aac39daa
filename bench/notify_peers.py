"""The peers bench/notify.py presses and listens with: the simulated doorbell in its own
process, a throw-away Mosquitto with a subscriber on it, and the resident's push subscription.

The broker and the push service are the real ones of tests/peers (the MQTT and push tests use
them); the subscription is made with tests/notify/rig.py's helpers, the way the page makes it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import aiomqtt

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the real peers in tests/

from tests.notify.rig import sign_in, subscribe_device
from tests.peers.mosquitto import MOSQUITTO, PASSWORD, USER, Broker, start_broker
from tests.peers.push_service import PushReceiver, ReceivedPush

__all__ = ["PASSWORD", "USER", "Broker", "PushReceiver", "ReceivedPush", "start_broker"]

START_TIMEOUT_S = 120.0  # the simulator's first start encodes its media library


@dataclass(frozen=True, slots=True)
class Doorbell:
    """The simulator process, its doorbell's ONVIF address and its control API."""

    process: asyncio.subprocess.Process
    host: str
    port: int
    username: str
    password: str
    control_url: str
    control_token: str


async def start_simulator() -> Doorbell:
    """`doorstep simulate` with one doorbell, in its own process."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "doorstep.gateway", "simulate", "--cameras", "0", "--doorbells", "1",
        "--discovery-port", "0", stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert process.stdout is not None
    text = ""
    try:
        async with asyncio.timeout(START_TIMEOUT_S):
            while "simulator running" not in text:
                line = (await process.stdout.readline()).decode()
                if not line:
                    raise RuntimeError(f"the simulator exited during start-up: {text!r}")
                text += line
    except BaseException:
        await stop_simulator(process)
        raise
    onvif = re.search(r"onvif=http://([\d.]+):(\d+)/\S+ .*user=(\S+) password=(\S+)", text)
    control = re.search(r"control:\s+(\S+)\s+token=(\S+)", text)
    if onvif is None or control is None:
        await stop_simulator(process)
        raise RuntimeError(f"unexpected simulator output: {text!r}")
    host, port, user, password = onvif.groups()
    return Doorbell(process, host, int(port), user, password, *control.groups())


async def stop_simulator(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            process.terminate()
        try:
            await asyncio.wait_for(process.wait(), 10)
        except TimeoutError:
            process.kill()
            await process.wait()


async def press(http: aiohttp.ClientSession, doorbell: Doorbell) -> float:
    """Press the doorbell through the simulator's control API; the doorbell's hold (s)."""
    async with http.post(
        f"{doorbell.control_url}/devices/doorbell-1/press",
        headers={"Authorization": f"Bearer {doorbell.control_token}"},
    ) as response:
        response.raise_for_status()
        answer = await response.json()
    if not answer.get("reported"):
        raise RuntimeError(f"the doorbell did not report the press (bench paced wrong): {answer}")
    return float(answer.get("hold_s", 0.0))


def broker_ready() -> None:
    """Mosquitto is there, or installed (as root), or the run stops saying what to install."""
    if MOSQUITTO.exists():
        return
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        sys.exit(f"{MOSQUITTO} is missing: install Debian's mosquitto (apt-get install mosquitto)")
    subprocess.run(
        ["apt-get", "install", "-y", "-q", "mosquitto"],  # noqa: S607
        check=True,
        env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
    )


@dataclass
class MqttTap:
    """A subscriber on the doorbell's event topic: every message with its arrival time."""

    broker: Broker
    topic: str
    arrivals: list[tuple[float, bytes]] = field(default_factory=list)
    ready: asyncio.Event = field(default_factory=asyncio.Event)

    async def run(self) -> None:
        client = aiomqtt.Client(
            "127.0.0.1", self.broker.port, username=USER, password=PASSWORD,
            identifier="doorstep-bench-subscriber",
        )  # fmt: skip
        async with client:
            await client.subscribe(self.topic, qos=1)
            self.ready.set()
            async for message in client.messages:
                at = time.perf_counter()
                payload = message.payload
                self.arrivals.append((at, payload if isinstance(payload, bytes) else b""))


async def subscribe_resident(url: str, receiver: PushReceiver, user: str, password: str) -> None:
    """Sign `user` in on a browser of its own and subscribe it to push at `receiver`."""
    async with aiohttp.ClientSession(url, cookie_jar=aiohttp.CookieJar(unsafe=True)) as phone:
        await sign_in(phone, user, password)
        await subscribe_device(phone, receiver, f"{user}'s phone")
