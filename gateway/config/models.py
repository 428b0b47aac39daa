"""Gateway configuration: pydantic models, safe YAML loading and `${ENV}` secret substitution."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    model_validator,
)

from doorstep.gateway.config.yaml_loader import StrictSafeLoader

CONFIG_VERSION = 1

_ENV_REF = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
# Shell and URL-handler syntax that has no business in a name or option; refusing it early means
# no later component can be tricked into passing it on (SECURITY.md, threat 3).
_HOSTILE = re.compile(r"\$\(|`|^\s*(exec|file|javascript):", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_HOSTNAME = re.compile(
    r"^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$"
)
_IPV6 = re.compile(r"^[0-9A-Fa-f:.]+$")
_ICE_URL = re.compile(r"^(stun|stuns|turn|turns):[^\s/?#@]+(\?transport=(udp|tcp))?$")


def _safe_text(value: str) -> str:
    if _CONTROL.search(value):
        raise ValueError("control characters are not allowed")
    if _HOSTILE.search(value):
        raise ValueError(
            "shell or URL-handler syntax ($(…), backticks, exec:, file:) is not allowed"
        )
    return value


def _host(value: str) -> str:
    if _HOSTNAME.match(value) or (":" in value and _IPV6.match(value)):
        return value
    raise ValueError("must be a host name or an IP address")


def _expand_home(value: Path) -> Path:
    return value.expanduser()


def _ice_url(value: str) -> str:
    if not _ICE_URL.match(value):
        raise ValueError("must be stun:, stuns:, turn: or turns: host[:port][?transport=udp|tcp]")
    return value


SafeText = Annotated[str, AfterValidator(_safe_text)]
IceUrl = Annotated[str, Field(max_length=256), AfterValidator(_ice_url)]
HostName = Annotated[str, AfterValidator(_host)]


def _safe_option(value: str | int | float | bool) -> str | int | float | bool:
    return _safe_text(value) if isinstance(value, str) else value


OptionValue = Annotated[str | int | float | bool, AfterValidator(_safe_option)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def default_data_dir() -> Path:
    """The XDG data directory for Doorstep (`~/.local/share/doorstep` by default)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "doorstep"


class TlsConfig(_Section):
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


class ServerConfig(_Section):
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


class StorageConfig(_Section):
    """Where the database and clips live."""

    data_dir: Annotated[Path, AfterValidator(_expand_home)] = Field(
        default_factory=default_data_dir,
        title="Data directory",
        description="Holds doorstep.db and the clips/ directory. Created if missing.",
    )


class RetentionConfig(_Section):
    """How long recordings and events are kept."""

    clip_days: int = Field(
        7,
        ge=1,
        le=3650,
        title="Clip retention (days)",
        description="Unheld clips older than this are deleted.",
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


class LoggingConfig(_Section):
    """Log level and format. Credentials are redacted in every format."""

    level: Literal["debug", "info", "warning", "error"] = Field(
        "info", title="Level", description="Least severe level written."
    )
    format: Literal["text", "json"] = Field(
        "text",
        title="Format",
        description="'text' for people, 'json' (one object a line) for machines.",
    )


class SupervisorConfig(_Section):
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


class BusConfig(_Section):
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
    _host(host or value)
    if port and not (port.isdigit() and 0 < int(port) < 65536):
        raise ValueError("port must be 1-65535")
    return value


ProbeTargetText = Annotated[str, AfterValidator(_target)]


class DiscoveryConfig(_Section):
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


class WebhookConfig(_Section):
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


class IceServer(_Section):
    """A STUN or TURN server, given to the gateway and to browsers alike."""

    urls: list[IceUrl] = Field(
        min_length=1,
        max_length=8,
        title="URLs",
        description="`stun:host:port`, `turn:host:port?transport=udp`, `turns:host:port`.",
    )
    username: SafeText | None = Field(
        None, max_length=256, title="TURN user name", description="Needed for TURN."
    )
    credential: SecretStr | None = Field(
        None, title="TURN password", description="Write `${ENV_VAR}` to keep it out of the file."
    )

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        # `- stun:host:3478` is short for `- urls: [stun:host:3478]`.
        if isinstance(value, str):
            return {"urls": [value]}
        if isinstance(value, dict) and isinstance(value.get("urls"), str):
            return {**value, "urls": [value["urls"]]}
        return value

    @model_validator(mode="after")
    def _turn_needs_credentials(self) -> IceServer:
        turn = any(url.startswith(("turn:", "turns:")) for url in self.urls)
        if turn and (not self.username or self.credential is None):
            raise ValueError("a TURN server needs username and credential")
        return self


class LiveConfig(_Section):
    """Live view over WebRTC."""

    ice_servers: list[IceServer] = Field(
        default_factory=list,
        max_length=8,
        title="ICE servers",
        description="STUN/TURN servers (`- stun:host:3478`, or `urls`, `username`, `credential` "
        "for TURN), used by the gateway and the browser. Empty: none, so no public STUN is "
        "contacted (a LAN needs none).",
    )
    host_addresses: list[HostName] = Field(
        default_factory=list,
        title="Candidate addresses",
        description="This box's addresses offered to browsers; empty offers every interface.",
    )


class CameraConfig(_Section):
    """One adopted camera or doorbell."""

    id: str = Field(
        pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$",
        title="Id",
        description="Stable identifier: lower-case letters, digits, '-' and '_'.",
    )
    name: SafeText = Field(max_length=100, title="Name", description="Shown in the UI.")
    driver: str = Field(
        "onvif",
        pattern=r"^[a-z0-9_]{1,32}$",
        title="Driver",
        description="Short name of the driver.",
    )
    host: HostName = Field(
        title="Host", description="The camera's address; every URL it returns must stay on it."
    )
    port: int | None = Field(
        None,
        ge=1,
        le=65535,
        title="Port",
        description="Control port; the driver's default if empty.",
    )
    username: SafeText | None = Field(
        None, max_length=256, title="User name", description="Camera account."
    )
    password: SecretStr | None = Field(
        None,
        title="Password",
        description="Camera password; write `${ENV_VAR}` to keep it out of the file.",
    )
    enabled: bool = Field(
        True, title="Enabled", description="Disabled cameras are kept but not connected."
    )
    rtsp_allow_basic: bool = Field(
        False,
        title="Allow RTSP Basic authentication",
        description="Answer an RTSP Basic challenge, which sends the password in clear over "
        "plain rtsp://; off, such a camera is refused with that reason (Digest is always used).",
    )
    options: dict[str, OptionValue] = Field(
        default_factory=dict, title="Driver options", description="Driver-specific settings."
    )


class Config(_Section):
    """The whole gateway configuration. An empty file is a valid configuration."""

    version: Literal[1] = Field(
        1, title="Config version", description="Format version of this file; always 1 for now."
    )
    server: ServerConfig = Field(
        default_factory=ServerConfig, title="Web server", description="Listener."
    )
    storage: StorageConfig = Field(
        default_factory=StorageConfig, title="Storage", description="Data location."
    )
    retention: RetentionConfig = Field(
        default_factory=RetentionConfig, title="Retention", description="How long data is kept."
    )
    logging: LoggingConfig = Field(
        default_factory=LoggingConfig, title="Logging", description="Log output."
    )
    supervisor: SupervisorConfig = Field(
        default_factory=SupervisorConfig, title="Supervisor", description="Camera retry policy."
    )
    bus: BusConfig = Field(
        default_factory=BusConfig, title="Event bus", description="Event delivery."
    )
    discovery: DiscoveryConfig = Field(
        default_factory=DiscoveryConfig, title="Discovery", description="Finding cameras."
    )
    webhooks: WebhookConfig = Field(
        default_factory=WebhookConfig, title="Webhooks", description="Camera event callbacks."
    )
    live: LiveConfig = Field(default_factory=LiveConfig, title="Live view", description="WebRTC.")
    cameras: list[CameraConfig] = Field(
        default_factory=list,
        title="Cameras",
        description="Cameras and doorbells declared here (more can be adopted from the UI).",
    )

    def secrets(self) -> Iterator[str]:
        """Every secret value in the config, so logging can redact it verbatim."""
        for camera in self.cameras:
            if camera.password is not None and camera.password.get_secret_value():
                yield camera.password.get_secret_value()


@dataclass(frozen=True, slots=True)
class ConfigProblem:
    """One thing wrong with a config file, located by its field path."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path or '<root>'}: {self.message}"


class ConfigError(Exception):
    """The configuration cannot be used; `problems` lists every reason with its field path."""

    def __init__(self, source: str, problems: list[ConfigProblem]) -> None:
        self.source = source
        self.problems = problems
        super().__init__(f"{source}: " + "; ".join(str(p) for p in problems))


def _format_path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _substitute_env(
    value: Any,
    env: dict[str, str] | os._Environ[str],
    loc: tuple[int | str, ...],
    problems: list[ConfigProblem],
) -> Any:
    if isinstance(value, dict):
        return {k: _substitute_env(v, env, (*loc, k), problems) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute_env(v, env, (*loc, i), problems) for i, v in enumerate(value)]
    if not isinstance(value, str):
        return value

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name is None:  # "$$" escapes a literal dollar sign
            return "$"
        if name not in env:
            problems.append(
                ConfigProblem(_format_path(loc), f"environment variable {name} is not set")
            )
            return ""
        return env[name]

    return _ENV_REF.sub(replace, value)


def parse_config(text: str, source: str = "<config>", env: dict[str, str] | None = None) -> Config:
    """Parse YAML text into a `Config`; raise `ConfigError` listing every problem found."""
    try:
        raw = yaml.load(text, Loader=StrictSafeLoader)  # noqa: S506  # a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "YAML"
        reason = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(source, [ConfigProblem("", f"{where}: {reason}")]) from None
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(
            source, [ConfigProblem("", "the top level must be a mapping of sections")]
        )
    version = raw.get("version", CONFIG_VERSION)
    if isinstance(version, int) and not isinstance(version, bool) and version > CONFIG_VERSION:
        raise ConfigError(
            source, [ConfigProblem("version", f"written for a newer Doorstep (version {version})")]
        )
    problems: list[ConfigProblem] = []
    raw = _substitute_env(raw, os.environ if env is None else env, (), problems)
    try:
        config = Config.model_validate(raw)
    except ValidationError as exc:
        problems.extend(
            ConfigProblem(_format_path(tuple(err["loc"])), err["msg"]) for err in exc.errors()
        )
    else:
        ids = [c.id for c in config.cameras]
        problems.extend(
            ConfigProblem(f"cameras[{i}].id", f"duplicate camera id {cid!r}")
            for i, cid in enumerate(ids)
            if cid in ids[:i]
        )
    if problems:
        raise ConfigError(source, problems)
    return config


def load_config(path: Path | None, env: dict[str, str] | None = None) -> Config:
    """Read and parse a config file; `None` gives the built-in defaults."""
    if path is None:
        return Config()
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(str(path), [ConfigProblem("", f"cannot read: {exc}")]) from None
    return parse_config(text, str(path), env)
