"""One simulated ONVIF camera or doorbell: its servers, state, events and failure modes."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime, timedelta

import aiohttp
from aiohttp import web

from doorstep.simulator.eventing import event_properties
from doorstep.simulator.flood import NotificationFlood, flood_messages
from doorstep.simulator.http_app import SnapshotAuth, create_device_app
from doorstep.simulator.library import SUB_STREAM, MediaLibrary
from doorstep.simulator.profile import DeviceProfile
from doorstep.simulator.rtsp_server import RtspServer, RtspSettings
from doorstep.simulator.subscriptions import PullPoint, PushSubscription, SubscriptionManager

_log = logging.getLogger(__name__)

HOSTILE_MODES = frozenset(
    {
        "malformed",
        "html500",
        "empty",
        "foreign_xaddr",
        "script_name",
        "huge_name",
        "termination_minute_61",
        "notification_flood",
        "soap_fault",
        "termination_past",
        "endless_snapshot",
    }
)


class SimulatedDevice:
    """A device on loopback that speaks ONVIF (HTTP/SOAP) and RTSP like a real one."""

    default_reboot_s = 5.0

    def __init__(
        self, profile: DeviceProfile, media: MediaLibrary, http: aiohttp.ClientSession
    ) -> None:
        self.profile = profile
        self.media = media
        self.http = http
        self.clock_skew = timedelta()
        self.slow_s = 0.0
        self.advertised_host: str | None = None
        """Host the device puts in its XAddrs and stream URIs instead of its own (a camera
        behind NAT, or a fault proxy in front of it); None: its own."""
        self.advertised_onvif_port: int | None = None
        """ONVIF port it advertises instead of the one it listens on; None: its own."""
        self.advertised_rtsp_port: int | None = None
        """RTSP port it advertises instead of the one it listens on; None: its own."""
        self.snapshot_chunk_s = 0.0
        """When above 0, the snapshot JPEG goes out in 1 KiB chunks this many seconds apart (as
        cameras on a slow link deliver it)."""
        self._hostile: str | None = None
        self.boot_time = datetime.now(UTC)
        self.properties = event_properties(profile.kind, profile.dialect, profile.person_detection)
        self.subscriptions = SubscriptionManager(
            self.now, lambda: self.base_url, profile.max_pullpoints
        )
        self.snapshot_auth = SnapshotAuth(f"{profile.model} {profile.serial}")
        self.rtsp_settings = RtspSettings(
            profile.username,
            profile.password,
            {
                "/stream/main": media.loop(profile.width, profile.height),
                "/stream/sub": media.loop(*SUB_STREAM),
            },
            media.tone,
            profile.has_backchannel,
        )
        self._runner: web.AppRunner | None = None
        self._rtsp = RtspServer(self.rtsp_settings)
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._reboot: asyncio.Task[None] | None = None
        self.flood = NotificationFlood(
            self.subscriptions.push_subscriptions, self.now, profile.name
        )
        self.online = False

    @property
    def hostile(self) -> str | None:
        """The hostile mode the device is in (one of HOSTILE_MODES), or None."""
        return self._hostile

    @hostile.setter
    def hostile(self, mode: str | None) -> None:
        self._hostile = mode
        if mode == "notification_flood" and self.online:
            self.flood.start()
            # Wakes a PullMessages that is waiting: the next ones are answered with the flood.
            self.subscriptions.broadcast(flood_messages(self.now(), 1)[0])
        elif mode != "notification_flood" and self.flood.running:
            # Called from synchronous code (the control API, tests): the task ends on its own.
            asyncio.get_running_loop().create_task(self.flood.stop())

    # -- addresses -------------------------------------------------------------------------
    @property
    def _host(self) -> str:
        host = self.advertised_host or self.profile.host
        return f"[{host}]" if ":" in host else host

    @property
    def base_url(self) -> str:
        """http://host:port of the ONVIF services, as the device advertises them."""
        return f"http://{self._host}:{self.advertised_onvif_port or self.profile.onvif_port}"

    @property
    def device_url(self) -> str:
        """The device service XAddr clients start from."""
        return f"{self.base_url}/onvif/device_service"

    def rtsp_url(self, stream: str = "main") -> str:
        """RTSP URL of the main or sub stream as advertised (without credentials)."""
        port = self.advertised_rtsp_port or self.profile.rtsp_port
        return f"rtsp://{self._host}:{port}/stream/{stream}"

    @property
    def sub_resolution(self) -> tuple[int, int]:
        """Resolution of the sub stream."""
        return SUB_STREAM

    def now(self) -> datetime:
        """The device's own clock, which may be skewed."""
        return datetime.now(UTC) + self.clock_skew

    # -- lifecycle -------------------------------------------------------------------------
    async def start(self) -> None:
        """Start the HTTP and RTSP servers; ports chosen on first start are kept across reboots."""
        self._runner = web.AppRunner(create_device_app(self), access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(
            self._runner, self.profile.host, self.profile.onvif_port, reuse_address=True
        )
        await site.start()
        if self.profile.onvif_port == 0:
            self.profile.onvif_port = int(self._runner.addresses[0][1])
        self.profile.rtsp_port = await self._rtsp.start(self.profile.host, self.profile.rtsp_port)
        self.online = True
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

    # -- events ----------------------------------------------------------------------------
    def send_initial_states(self, subscription: PullPoint | PushSubscription) -> None:
        """Queue every property's current value as 'Initialized' (state, not news)."""
        for prop in self.properties.values():
            subscription.push(
                prop.notification(self.now(), "Initialized", self.profile.dialect, self.base_url)
            )

    def set_property(self, name: str, value: bool) -> bool:
        """Change a property and notify subscribers; False if the device has no such property."""
        prop = self.properties.get(name)
        if prop is None:
            return False
        if prop.value != value:
            prop.value = value
            self.subscriptions.broadcast(
                prop.notification(self.now(), "Changed", self.profile.dialect, self.base_url)
            )
        return True

    def _set_later(self, name: str, value: bool, delay: float) -> None:
        timer = self._timers.pop(name, None)
        if timer is not None:
            timer.cancel()
        self._timers[name] = asyncio.get_running_loop().call_later(
            delay, self.set_property, name, value
        )

    def press(self) -> bool:
        """Press the doorbell button: visitor true now, false after the hold time."""
        if not self.set_property("visitor", True):
            return False
        self._set_later("visitor", False, self.profile.visitor_hold_s)
        return True

    def motion(self, active: bool) -> None:
        """Start or stop motion (both motion topics, as real cameras send both)."""
        self.set_property("motion", active)
        self.set_property("cell_motion", active)
        if active and self.profile.motion_hold_s is not None:
            self._set_later("motion", False, self.profile.motion_hold_s)
            self._set_later("cell_motion", False, self.profile.motion_hold_s)

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
            "subscriptions": self.subscriptions.count,
            "rtsp_sessions": self._rtsp.active_sessions,
            "backchannel_packets": self.rtsp_settings.recorder.packets,
        }
