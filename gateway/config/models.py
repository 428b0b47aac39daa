"""Gateway configuration: the whole `Config`, safe YAML loading and `${ENV}` substitution.

The sections live by job in `server`, `live` and `camera`; they are re-exported here.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import Field, ValidationError

from doorstep.gateway.config.automation import MqttConfig
from doorstep.gateway.config.camera import CameraConfig
from doorstep.gateway.config.fields import Section, default_data_dir
from doorstep.gateway.config.live import IceServer, LiveConfig
from doorstep.gateway.config.push import PushConfig
from doorstep.gateway.config.recording import RecordingConfig
from doorstep.gateway.config.rings import RingConfig
from doorstep.gateway.config.server import (
    AuditConfig,
    BusConfig,
    DiscoveryConfig,
    LoggingConfig,
    RetentionConfig,
    ServerConfig,
    StorageConfig,
    SupervisorConfig,
    TlsConfig,
    WebhookConfig,
)
from doorstep.gateway.config.yaml_loader import StrictSafeLoader

__all__ = [
    "CONFIG_VERSION",
    "BusConfig",
    "CameraConfig",
    "Config",
    "ConfigError",
    "ConfigProblem",
    "DiscoveryConfig",
    "IceServer",
    "LiveConfig",
    "LoggingConfig",
    "RetentionConfig",
    "ServerConfig",
    "StorageConfig",
    "SupervisorConfig",
    "TlsConfig",
    "WebhookConfig",
    "default_data_dir",
    "load_config",
    "parse_config",
]

CONFIG_VERSION = 1

_ENV_REF = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class Config(Section):
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
    audit: AuditConfig = Field(
        default_factory=AuditConfig, title="Audit log", description="Signed checkpoints."
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
    recording: RecordingConfig = Field(
        default_factory=RecordingConfig, title="Recording", description="Clips: when and how."
    )
    live: LiveConfig = Field(default_factory=LiveConfig, title="Live view", description="WebRTC.")
    mqtt: MqttConfig | None = Field(None, title="MQTT", description="Home Assistant; off if empty.")
    rings: RingConfig = Field(default_factory=RingConfig, title="Rings", description="Doorbell.")
    push: PushConfig = Field(default_factory=PushConfig, title="Web Push", description="Phones.")
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
