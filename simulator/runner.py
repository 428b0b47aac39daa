"""The simulator: several simulated devices in one process, discovery, and the control API."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from dataclasses import dataclass, field

import aiohttp
from aiohttp import web

from doorstep.simulator.control import create_control_app
from doorstep.simulator.device import SimulatedDevice
from doorstep.simulator.device_service import scopes
from doorstep.simulator.discovery import (
    Announcement,
    DiscoveryResponder,
    bye,
    hello,
    start_responder,
)
from doorstep.simulator.eventing import DeviceKind, Dialect
from doorstep.simulator.http_runner import StoppingRunner
from doorstep.simulator.library import MediaLibrary
from doorstep.simulator.profile import DeviceProfile, Quirk

_log = logging.getLogger(__name__)


@dataclass
class SimulatorConfig:
    """How many devices, of what shape, on which ports."""

    cameras: int = 1
    doorbells: int = 1
    host: str = "127.0.0.1"
    base_port: int = 0
    """0: every port is chosen by the OS. Otherwise device i uses base+2i (ONVIF) and base+2i+1 (RTSP)."""
    width: int = 640
    height: int = 360
    fps: int = 15
    bitrate_kbps: int | None = None
    """Main-stream bitrate; None: whatever the encoder makes of the test pattern (small)."""
    dialect: Dialect = Dialect.STANDARD
    username: str = "admin"
    password: str = "doorstep"
    person_detection: bool = False
    max_pullpoints: int = 8
    control_port: int = 0
    discovery_port: int = 3702
    multicast: bool = False
    announce_to: list[tuple[str, int]] = field(default_factory=list)
    """Where Hello/Bye go besides the multicast group (which is used only with `multicast`)."""
    quirks: frozenset[Quirk] = frozenset()
    """Real-device behaviours every device shows (see `Quirk`)."""

    def profiles(self) -> list[DeviceProfile]:
        """One profile per device: doorbells first."""
        kinds = [DeviceKind.DOORBELL] * self.doorbells + [DeviceKind.CAMERA] * self.cameras
        profiles = []
        counters = {DeviceKind.DOORBELL: 0, DeviceKind.CAMERA: 0}
        for i, kind in enumerate(kinds):
            counters[kind] += 1
            profiles.append(
                DeviceProfile(
                    name=f"{kind.value}-{counters[kind]}",
                    kind=kind,
                    dialect=self.dialect,
                    username=self.username,
                    password=self.password,
                    width=self.width,
                    height=self.height,
                    fps=self.fps,
                    bitrate_kbps=self.bitrate_kbps,
                    person_detection=self.person_detection,
                    max_pullpoints=self.max_pullpoints,
                    host=self.host,
                    onvif_port=self.base_port + 2 * i if self.base_port else 0,
                    rtsp_port=self.base_port + 2 * i + 1 if self.base_port else 0,
                    index=i + 1,
                    quirks=self.quirks,
                )
            )
        return profiles


class Simulator:
    """Runs simulated devices until stopped."""

    def __init__(self, config: SimulatorConfig, media: MediaLibrary | None = None) -> None:
        self.config = config
        self.devices: dict[str, SimulatedDevice] = {}
        self.control_token = secrets.token_urlsafe(24)
        self.control_url = ""
        self.media = media or MediaLibrary()
        self._http: aiohttp.ClientSession | None = None
        self._control: web.AppRunner | None = None
        self._discovery: tuple[asyncio.DatagramTransport, DiscoveryResponder] | None = None

    @property
    def discovery_port(self) -> int:
        """The UDP port the WS-Discovery responder listens on."""
        if self._discovery is None:
            return 0
        port: int = self._discovery[0].get_extra_info("sockname")[1]
        return port

    def announcements(self) -> list[Announcement]:
        """What each online device answers to a Probe."""
        return [
            Announcement(d.profile.endpoint, scopes(d), [d.device_url])
            for d in self.devices.values()
            if d.online
        ]

    async def start(self) -> None:
        """Encode media, start every device, discovery and the control API."""
        await asyncio.to_thread(
            self.media.prepare,
            [(self.config.width, self.config.height)],
            self.config.fps,
            self.config.bitrate_kbps,
        )
        self._http = aiohttp.ClientSession()
        for profile in self.config.profiles():
            device = SimulatedDevice(profile, self.media, self._http)
            await device.start()
            self.devices[profile.name] = device
        self._discovery = await start_responder(
            self.announcements, self.config.host, self.config.discovery_port, self.config.multicast
        )
        self._control = StoppingRunner(
            create_control_app(self), access_log=None, shutdown_timeout=0.5
        )
        await self._control.setup()
        await web.TCPSite(self._control, "127.0.0.1", self.config.control_port).start()
        self.control_url = f"http://127.0.0.1:{self._control.addresses[0][1]}"
        for announcement in self.announcements():
            self._discovery[1].send(hello(announcement), self._announce_targets())

    def _announce_targets(self) -> list[tuple[str, int]]:
        targets = list(self.config.announce_to)
        if self.config.multicast:
            targets.append(("239.255.255.250", 3702))
        return targets

    async def stop(self) -> None:
        """Say Bye, then stop everything."""
        if self._discovery is not None:
            for announcement in self.announcements():
                self._discovery[1].send(bye(announcement), self._announce_targets())
        for device in self.devices.values():
            await device.close()
        if self._discovery is not None:
            self._discovery[0].close()
            self._discovery = None
        if self._control is not None:
            await self._control.cleanup()
            self._control = None
        if self._http is not None:
            await self._http.close()
            self._http = None

    def describe(self) -> list[str]:
        """One line per device: name, kind, ONVIF URL, RTSP URL, user name and password."""
        lines = []
        for device in self.devices.values():
            p = device.profile
            lines.append(
                f"{p.name:<12} {p.kind.value:<8} onvif={device.device_url} rtsp={device.rtsp_url('main')} "
                f"user={p.username} password={p.password}"
            )
        return lines

    async def __aenter__(self) -> Simulator:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        with contextlib.suppress(Exception):
            await self.stop()
