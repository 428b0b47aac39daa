"""The gateway's own sections: listener, storage, retention, logging, retries, bus, discovery."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from doorstep.gateway.config.fields import (
    HostName,
    Section,
    default_data_dir,
    expand_home,
    host_name,
)


class TlsConfig(Section):
    """HTTPS for the web UI (phones need it for the microphone when talking at the door)."""

    cert: Path | None = Field(None, title="Certificate", description="PEM certificate chain file.")
    key: Path | None = Field(None, title="Private key", description="PEM private key file.")
    self_signed: bool = Field(
        False,
        title="Self-signed",
        description="Without cert/key: make a self-signed certificate in the data directory and "
        "show its fingerprint on the console.",
    )

    @property
    def enabled(self) -> bool:
        """Whether HTTPS is on."""
        return self.self_signed or (self.cert is not None and self.key is not None)


class ServerConfig(Section):
    """Where the web UI and API listen."""

    host: HostName = Field(
        "127.0.0.1",
        title="Listen address",
        description="Address to bind. Loopback by default: opening it to the LAN is a choice.",
    )
    port: int = Field(8420, ge=1, le=65535, title="Port", description="TCP port of the web UI.")
    tls: TlsConfig = Field(default_factory=TlsConfig, title="HTTPS", description="TLS settings.")
    hostnames: list[HostName] = Field(
        default_factory=list,
        max_length=32,
        title="Host names",
        description="Names the UI is reached by besides IP addresses, localhost and this "
        "machine's own name (e.g. doorstep.home.arpa). Requests naming any other host are "
        "refused, which stops DNS rebinding.",
    )


class StorageConfig(Section):
    """Where the database and clips live."""

    data_dir: Annotated[Path, AfterValidator(expand_home)] = Field(
        default_factory=default_data_dir,
        title="Data directory",
        description="Holds doorstep.db and the clips/ directory. Created if missing.",
    )


class RetentionConfig(Section):
    """How long recordings and events are kept."""

    clip_days: int = Field(
        7,
        ge=1,
        le=3650,
        title="Clip retention (days)",
        description="Unheld event clips older than this are deleted.",
    )
    continuous_days: int = Field(
        3,
        ge=1,
        le=3650,
        title="Continuous retention (days)",
        description="Unheld continuous-recording segments older than this are deleted.",
    )
    event_days: int = Field(
        30,
        ge=1,
        le=3650,
        title="Event retention (days)",
        description="Event history kept for this long.",
    )
    min_free_mib: int = Field(
        1024,
        ge=64,
        title="Minimum free space (MiB)",
        description="Oldest unheld clips are deleted before free space falls below this.",
    )


class AuditConfig(Section):
    """How often the audit log gets a signed checkpoint (a Merkle root over its rows)."""

    checkpoint_rows: int = Field(
        1000,
        ge=1,
        le=1_000_000,
        title="Checkpoint every N rows",
        description="A signed checkpoint after this many new audit rows.",
    )
    checkpoint_minutes: int = Field(
        60,
        ge=1,
        le=1440,
        title="Checkpoint at least every (minutes)",
        description="New rows get a signed checkpoint within this time however few they are.",
    )


class LoggingConfig(Section):
    """Log level and format. Credentials are redacted in every format."""

    level: Literal["debug", "info", "warning", "error"] = Field(
        "info", title="Level", description="Least severe level written."
    )
    format: Literal["text", "json"] = Field(
        "text",
        title="Format",
        description="'text' for people, 'json' (one object a line) for machines.",
    )


class SupervisorConfig(Section):
    """How the gateway retries cameras that fail."""

    backoff_initial_s: float = Field(
        1.0, gt=0, le=60, title="First retry delay (s)", description="Delay before the first retry."
    )
    backoff_max_s: float = Field(
        60.0,
        gt=0,
        le=60,
        title="Longest retry delay (s)",
        description="Cap of the jittered backoff.",
    )
    events_per_s: float = Field(
        20.0,
        gt=0,
        le=10_000,
        title="Events per camera per second",
        description="A camera sending more is flooding: the excess is dropped and counted.",
    )
    event_burst: int = Field(
        50,
        ge=1,
        le=100_000,
        title="Event burst per camera",
        description="Events a camera may send at once above the rate (its states on connecting).",
    )


class BusConfig(Section):
    """The in-process event bus."""

    queue_size: int = Field(
        1000,
        ge=1,
        le=1_000_000,
        title="Queue size per subscriber",
        description="Events queued for a slow subscriber before the oldest are dropped (counted).",
    )


def _target(value: str) -> str:
    host, _, port = value.rpartition(":") if value.count(":") == 1 else (value, "", "")
    host_name(host or value)
    if port and not (port.isascii() and port.isdigit() and 0 < int(port) < 65536):
        raise ValueError("port must be 1-65535")
    return value


ProbeTargetText = Annotated[str, AfterValidator(_target)]


class DiscoveryConfig(Section):
    """Where to look for cameras. Nothing is sent on the LAN unless configured here."""

    targets: list[ProbeTargetText] = Field(
        default_factory=list,
        title="Unicast probe targets",
        description="host or host:port (default port 3702) to probe directly, e.g. cameras on "
        "another VLAN.",
    )
    interfaces: list[HostName] = Field(
        default_factory=list,
        title="Multicast interfaces",
        description="IPv4 addresses of this box's interfaces to send WS-Discovery multicast from.",
    )
    listen_s: float = Field(
        3.0, gt=0, le=30, title="Listen time (s)", description="How long to wait for answers."
    )
    mdns: bool = Field(
        False,
        title="mDNS hints",
        description="Also browse mDNS (Axis, HomeKit cameras) on the multicast interfaces.",
    )


class WebhookConfig(Section):
    """Receiving event callbacks from cameras (ONVIF Notify): faster than polling when reachable."""

    enabled: bool = Field(
        False, title="Enabled", description="Listen for camera callbacks (polling is the fallback)."
    )
    host: HostName = Field(
        "127.0.0.1",
        title="Listen address",
        description="Address to bind; cameras on the LAN need this box's LAN address here.",
    )
    port: int = Field(0, ge=0, le=65535, title="Port", description="TCP port; 0 picks a free one.")
    advertise: HostName | None = Field(
        None,
        title="Advertised address",
        description="Address cameras should call back if not the listen address (e.g. NAT).",
    )
