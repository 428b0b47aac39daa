"""`doorstep discover` probes as the config says, mDNS included, through the drivers."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from zeroconf import IPVersion
from zeroconf.asyncio import AsyncServiceInfo, AsyncZeroconf

from doorstep.drivers.onvif.discovery import HOMEKIT

DOORBELL = "Doorbell 5F2A"


@pytest.fixture
async def announced_doorbell(loopback_mdns: None) -> AsyncIterator[None]:
    """A HomeKit doorbell announced over mDNS on loopback (found by mDNS only)."""
    announcer = AsyncZeroconf(interfaces=["127.0.0.1"], ip_version=IPVersion.V4Only)
    info = AsyncServiceInfo(
        HOMEKIT, f"{DOORBELL}.{HOMEKIT}", addresses=[socket.inet_aton("127.0.0.1")],
        port=51827, properties={"ci": "18", "md": "Video Doorbell"}, server="doorbell.local.",
    )  # fmt: skip
    # Registering returns a task that ends once the announcements are sent: wait for that too.
    await (await announcer.async_register_service(info))
    yield
    await announcer.async_unregister_all_services()
    await announcer.async_close()


async def discover_with(config: Path) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOORSTEP_")}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "doorstep.gateway", "discover", "-c", str(config),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, env=env,
    )  # fmt: skip
    out, _ = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, out.decode()
    return out.decode()


@pytest.mark.usefixtures("announced_doorbell")
async def test_discover_uses_the_configs_mdns_setting(tmp_path: Path) -> None:
    config = tmp_path / "doorstep.yaml"
    # 3 s to listen: with 1.5 s a loaded machine (4 test workers on 2 cores) once found nothing.
    base = "version: 1\ndiscovery:\n  interfaces: ['127.0.0.1']\n  listen_s: 3\n"
    config.write_text(base + "  mdns: true\n")
    with_mdns = await discover_with(config)
    assert DOORBELL in with_mdns
    assert "mdns" in with_mdns.split(DOORBELL, 1)[1].splitlines()[0]  # its FOUND BY column

    config.write_text(base + "  mdns: false\n")
    assert DOORBELL not in await discover_with(config)
