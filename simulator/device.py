"""One simulated ONVIF camera or doorbell: its state (state.py) served over HTTP and RTSP."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime, timedelta

import aiohttp
from aiohttp import web

from doorstep.simulator.http_app import create_device_app
from doorstep.simulator.http_runner import StoppingRunner
from doorstep.simulator.library import MediaLibrary
from doorstep.simulator.profile import DeviceProfile, Quirk
from doorstep.simulator.rtsp_server import RtspServer
from doorstep.simulator.state import HOSTILE_MODES, DeviceState
from doorstep.simulator.subscriptions import PullPoint

_log = logging.getLogger(__name__)

__all__ = ["HOSTILE_MODES", "SimulatedDevice"]

STALE_LIFETIME = timedelta(minutes=10)
"""How long a crashed gateway's subscriptions hold their slots (its 10-minute lifetime)."""


class SimulatedDevice(DeviceState):
    """A device on loopback that speaks ONVIF (HTTP/SOAP) and RTSP like a real one."""

    def __init__(
        self, profile: DeviceProfile, media: MediaLibrary, http: aiohttp.ClientSession
    ) -> None:
        super().__init__(profile, media, http)
        self._runner: web.AppRunner | None = None
        self._rtsp = RtspServer(self.rtsp_settings)
        self._reboot: asyncio.Task[None] | None = None
        self.stale_pullpoints: list[PullPoint] = []
        """The slots a crashed client held when the device started (Quirk STALE_PULLPOINTS);
        set their `termination` to now to let them expire early."""

    # -- lifecycle -------------------------------------------------------------------------
    async def start(self) -> None:
        """Start the HTTP and RTSP servers; ports chosen on first start are kept across reboots."""
        self._runner = StoppingRunner(
            create_device_app(self), access_log=None, shutdown_timeout=0.5
        )
        await self._runner.setup()
        site = web.TCPSite(
            self._runner, self.profile.host, self.profile.onvif_port, reuse_address=True
        )
        await site.start()
        if self.profile.onvif_port == 0:
            self.profile.onvif_port = int(self._runner.addresses[0][1])
        self.profile.rtsp_port = await self._rtsp.start(self.profile.host, self.profile.rtsp_port)
        self.online = True
        if self.has(Quirk.STALE_PULLPOINTS) and not self.stale_pullpoints:
            self.stale_pullpoints = self.subscriptions.occupy_pullpoints(STALE_LIFETIME)
        if self._hostile == "notification_flood":
            self.flood.start()

    async def stop(self) -> None:
        """Stop both servers and forget subscriptions and sessions."""
        self.online = False
        await self.flood.stop()
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        await self.subscriptions.drop_all()
        await self._rtsp.stop()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def close(self) -> None:
        """Stop for good (also cancels a reboot in progress)."""
        if self._reboot is not None:
            self._reboot.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reboot
        await self.stop()

    def schedule_reboot(self, down_s: float) -> None:
        """Reboot in the background: down for `down_s` seconds, then back with a new boot time."""
        if self._reboot is None or self._reboot.done():
            self._reboot = asyncio.create_task(
                self._reboot_after(down_s), name=f"reboot:{self.profile.name}"
            )

    async def _reboot_after(self, down_s: float) -> None:
        await asyncio.sleep(0.05)  # let the SOAP answer to SystemReboot go out first
        await self.stop()
        for prop in self.properties.values():
            prop.value = False
        await asyncio.sleep(down_s)
        self.boot_time = datetime.now(UTC)
        await self.start()
        _log.info("%s rebooted", self.profile.name)

    def summary(self) -> dict[str, object]:
        """What a user needs to point an ONVIF client at the device."""
        p = self.profile
        return {
            "name": p.name,
            "kind": p.kind.value,
            "dialect": p.dialect.value,
            "onvif": self.device_url,
            "rtsp": self.rtsp_url("main"),
            "username": p.username,
            "password": p.password,
            "endpoint": p.endpoint,
            "backchannel": p.has_backchannel,
            "online": self.online,
            "quirks": sorted(q.value for q in p.quirks),
            "subscriptions": self.subscriptions.count,
            "requests": dict(self.requests),
            "rtsp_sessions": self._rtsp.active_sessions,
            "backchannel_packets": self.rtsp_settings.recorder.packets,
        }
