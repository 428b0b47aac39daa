"""Frozen value objects passed between drivers and the gateway."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SecretStr


def _require_aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("timestamps must carry a time zone (use UTC)")
    return value.astimezone(UTC)


AwareDatetime = Annotated[datetime, AfterValidator(_require_aware)]
"""A datetime that must be time-zone aware; stored normalised to UTC."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class EventKind(StrEnum):
    """The one event vocabulary every driver maps its device's events onto."""

    MOTION = "motion"
    DOORBELL = "doorbell"
    PERSON = "person"
    VEHICLE = "vehicle"
    ANIMAL = "animal"
    PACKAGE = "package"
    LINE_CROSSING = "line_crossing"
    INTRUSION = "intrusion"
    LOITERING = "loitering"
    TAMPER = "tamper"
    SCENE_CHANGE = "scene_change"
    AUDIO = "audio"
    DIGITAL_INPUT = "digital_input"
    RELAY = "relay"
    DAY_NIGHT = "day_night"
    STORAGE = "storage"
    PTZ = "ptz"
    OTHER = "other"


class DeviceInfo(_Frozen):
    """Identity of a connected device; `stable_id` survives IP changes and reboots."""

    manufacturer: str = Field(max_length=256)
    model: str = Field(max_length=256)
    serial: str | None = Field(default=None, max_length=256)
    firmware: str | None = Field(default=None, max_length=256)
    mac: str | None = Field(default=None, max_length=64, description="MAC address, lower case.")
    clock_offset_s: float | None = Field(
        default=None,
        description="The device clock minus the gateway's, in seconds, when it connected.",
    )

    @property
    def stable_id(self) -> str | None:
        """MAC address if known, else the serial number."""
        return self.mac or self.serial


class StreamSource(_Frozen):
    """One media stream a device offers (main, sub, …) and where to open it."""

    name: str = Field(max_length=64, description="Short role name: 'main', 'sub', …")
    url: str = Field(max_length=2048, description="RTSP URL without credentials.")
    video_codec: str | None = Field(default=None, max_length=32, description="e.g. 'H264'.")
    width: int | None = Field(default=None, ge=1, le=16384)
    height: int | None = Field(default=None, ge=1, le=16384)
    fps: float | None = Field(default=None, gt=0, le=1000)
    audio_codec: str | None = Field(default=None, max_length=32, description="e.g. 'PCMU'.")
    backchannel: bool | None = Field(
        default=None,
        description="The stream offers the ONVIF audio backchannel (the gateway uses it for "
        "talk); None when the driver cannot tell.",
    )
    username: str | None = Field(default=None, max_length=256)
    password: SecretStr | None = None


class DeviceEvent(_Frozen):
    """A normalised event: something started or ended on the device, or simply happened."""

    kind: EventKind
    active: bool | None = Field(
        description="True when it starts, False when it ends, None for a one-off occurrence "
        "(a line crossed) or telemetry that has no on/off state."
    )
    time: AwareDatetime = Field(description="When the device says it happened, in UTC.")
    source: str | None = Field(
        default=None, max_length=256, description="Video source, input or rule that fired."
    )
    topic: str = Field(default="", max_length=512, description="The device's raw event topic.")
    initial: bool = Field(
        default=False,
        description="True for state re-sent after (re)subscribing: current state, not news.",
    )
    attributes: dict[str, str] = Field(
        default_factory=dict, description="Extra normalised data (object id, line name, …)."
    )


class DiscoveryScope(_Frozen):
    """Where a `Discoverer` may look: Doorstep sends nothing on the LAN unless configured to."""

    targets: tuple[tuple[str, int | None], ...] = Field(
        default=(), description="(host, port) to probe by unicast; None: the protocol's port."
    )
    interfaces: tuple[str, ...] = Field(
        default=(), description="IPv4 addresses of this box's interfaces to multicast from."
    )
    listen_s: float = Field(default=3.0, gt=0, le=30, description="How long to wait for answers.")
    mdns: bool = Field(default=False, description="Also browse mDNS on `interfaces`.")


class DiscoveredDevice(_Frozen):
    """A device found on the network that is not necessarily adopted yet."""

    driver: str = Field(max_length=64, description="Short name of the driver that can adopt it.")
    host: str = Field(max_length=255)
    port: int = Field(ge=1, le=65535)
    endpoint: str | None = Field(
        default=None, max_length=512, description="Stable endpoint reference (urn:uuid:…)."
    )
    name: str | None = Field(default=None, max_length=256)
    hardware: str | None = Field(default=None, max_length=256)
    found_by: str = Field(max_length=64, description="'ws-discovery', 'mdns', 'manual', …")
    scopes: tuple[str, ...] = ()
    device_id: str | None = Field(
        default=None,
        max_length=256,
        description="The device's own stable id when the answer carries one (serial, MAC).",
    )

    @property
    def unique_id(self) -> str:
        """Stable before connect, for merging results: driver + device id, endpoint or address."""
        if self.device_id:
            return f"{self.driver}:id:{self.device_id.lower()}"
        if self.endpoint:
            return f"{self.driver}:endpoint:{self.endpoint.lower()}"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.driver}:address:{host.lower()}:{self.port}"


class DeviceConfig(_Frozen):
    """What the user configured for one device; handed to the driver on creation."""

    id: str = Field(max_length=64)
    host: str = Field(
        default="",
        max_length=255,
        description="Never empty for a driver that needs a host (the default); a driver "
        "declaring `needs_host = False` may get ''.",
    )
    port: int | None = Field(default=None, ge=1, le=65535)
    username: str | None = Field(default=None, max_length=256)
    password: SecretStr | None = None
    options: dict[str, str | int | float | bool] = Field(default_factory=dict)
