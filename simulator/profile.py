"""What a simulated device is: its kind, identity, credentials, media and quirks."""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass, field

from doorstep.simulator.eventing import DeviceKind, Dialect


class Quirk(enum.StrEnum):
    """A behaviour of real devices, off by default; each is a named test scenario."""

    WHOLE_SECOND_TIMEOUTS = "whole-second-timeouts"
    """PullMessages reads whole seconds of `Timeout` only: a fractional one is answered at once."""
    STALE_PULLPOINTS = "stale-pullpoints"
    """Every PullPoint slot starts held by a crashed client's 10-minute subscriptions."""
    BASIC_SNAPSHOT = "basic-snapshot"
    """The snapshot URL challenges with `WWW-Authenticate: Basic` (not Digest)."""
    DEAD_STREAM_PORT = "dead-stream-port"
    """GetStreamUri answers a port where nothing listens."""
    DOORBELL_ON_INPUT = "doorbell-on-input"
    """A door station: the call button is digital input 1, there is no doorbell topic."""
    REPEAT_INITIALIZED = "repeat-initialized"
    """The Initialized messages are sent again on every Renew, not only on a new subscription."""


@dataclass
class DeviceProfile:
    """Settings of one simulated camera or doorbell."""

    name: str
    kind: DeviceKind = DeviceKind.CAMERA
    dialect: Dialect = Dialect.STANDARD
    username: str = "admin"
    password: str = "doorstep"
    width: int = 640
    height: int = 360
    fps: int = 15
    bitrate_kbps: int | None = None
    backchannel: bool | None = None
    """Offer the ONVIF audio backchannel; by default doorbells do and cameras do not."""
    person_detection: bool = False
    max_pullpoints: int = 8
    visitor_hold_s: float = 3.0
    """How long a doorbell press stays 'true' before the device sends 'false'."""
    motion_hold_s: float | None = None
    """Auto-clear motion after this long; None keeps it on until told (like cameras that never send 'off')."""
    host: str = "127.0.0.1"
    onvif_port: int = 0
    rtsp_port: int = 0
    index: int = 1
    quirks: frozenset[Quirk] = frozenset()
    endpoint: str = field(default_factory=lambda: f"urn:uuid:{uuid.uuid4()}")

    @property
    def has_backchannel(self) -> bool:
        """Whether RTSP offers the backchannel track."""
        return self.kind is DeviceKind.DOORBELL if self.backchannel is None else self.backchannel

    @property
    def manufacturer(self) -> str:
        """Manufacturer reported by GetDeviceInformation."""
        return "Doorstep Simulator"

    @property
    def model(self) -> str:
        """Model reported by GetDeviceInformation."""
        return "SimDoorbell D1" if self.kind is DeviceKind.DOORBELL else "SimCam C1"

    @property
    def serial(self) -> str:
        """Serial number, unique per device index."""
        return f"SIM{self.kind.value[0].upper()}{self.index:06d}"

    @property
    def mac(self) -> str:
        """A locally administered MAC address, unique per device index."""
        kind_byte = 0xD0 if self.kind is DeviceKind.DOORBELL else 0xC0
        return f"02:00:5e:{kind_byte:02x}:{(self.index >> 8) & 0xFF:02x}:{self.index & 0xFF:02x}"

    @property
    def firmware(self) -> str:
        """Firmware version."""
        return "1.0.0-sim"
