"""Which parts of config.yaml the owner may change at run time, when each change applies, and
what stays in the file only (with the reason, for the settings page)."""

from __future__ import annotations

import copy
import functools
from dataclasses import dataclass
from typing import Any, Literal

from doorstep.gateway.config.automation import MqttConfig
from doorstep.gateway.config.fields import Section
from doorstep.gateway.config.models import (
    Config,
    DiscoveryConfig,
    LiveConfig,
    RetentionConfig,
    ServerConfig,
    WebhookConfig,
)
from doorstep.gateway.config.recording import RecordingConfig
from doorstep.gateway.config.rings import RingConfig
from doorstep.gateway.settings.values import ABSENT, tree_of

Applies = Literal["now", "restart"]


@dataclass(frozen=True, slots=True)
class SectionSpec:
    """One section of config.yaml the owner may change from the UI (some of its fields)."""

    name: str
    """The section's key in config.yaml (and in `Config`)."""
    model: type[Section]
    fields: tuple[str, ...]
    """The fields that may be changed; the others stay the file's."""
    applies: Applies
    title: str
    description: str
    applies_note: str

    def file_value(self, config: Config) -> Section | None:
        """The section as the file has it (None: the file leaves an optional section out)."""
        value: Section | None = getattr(config, self.name)
        return value

    def file_tree(self, config: Config) -> dict[str, Any]:
        """The editable fields' values in the file (ABSENT for a section it leaves out)."""
        value = self.file_value(config)
        if value is None:
            return dict.fromkeys(self.fields, ABSENT)
        tree: dict[str, Any] = tree_of(value)
        return {name: tree[name] for name in self.fields}

    @property
    def file_only(self) -> tuple[str, ...]:
        """The section's fields that only config.yaml sets."""
        return tuple(name for name in self.model.model_fields if name not in self.fields)


def _all(model: type[Section]) -> tuple[str, ...]:
    return tuple(model.model_fields)


SECTIONS: dict[str, SectionSpec] = {
    spec.name: spec
    for spec in (
        SectionSpec(
            "discovery", DiscoveryConfig, _all(DiscoveryConfig), "now", "Finding cameras",
            "Where Add camera looks for cameras on the network. Nothing is sent on the LAN "
            "unless a target or an interface is set here.",
            "The next search uses it.",
        ),
        SectionSpec(
            "recording", RecordingConfig, ("mode", "events", "preroll_s", "postroll_s", "audio"),
            "now", "Recording",
            "When cameras record clips, and how much before and after an event. A doorbell "
            "press always records, unless the mode is off. A camera's own settings can "
            "change these for it in config.yaml.",
            "Each camera's next clip uses it.",
        ),
        SectionSpec(
            "retention", RetentionConfig, _all(RetentionConfig), "now", "Keeping clips and events",
            "How long clips and the history of events (rings, motion) are kept, and the "
            "free disk space always left. Held clips are never deleted.",
            "The next pass (within a minute) uses it; older events are deleted every hour.",
        ),
        SectionSpec(
            "rings", RingConfig, ("ring_s",), "now", "Doorbell rings",
            "How long a ring nobody answers keeps ringing on every open page.",
            "Applies to the rings going on now, too.",
        ),
        SectionSpec(
            "live", LiveConfig, ("ice_servers",), "now", "Live view: STUN and TURN servers",
            "Servers that help a phone away from home reach the live view. Empty: none, and "
            "no public server is contacted (a phone on the home network needs none).",
            "New calls use them; calls going on keep theirs.",
        ),
        SectionSpec(
            "mqtt", MqttConfig, _all(MqttConfig), "restart", "MQTT and Home Assistant",
            "An MQTT broker Doorstep publishes cameras, rings and motion to, with Home "
            "Assistant discovery. Nothing is published unless a broker is set.",
            "Applies when Doorstep restarts.",
        ),
        SectionSpec(
            "webhooks", WebhookConfig, _all(WebhookConfig), "restart", "Camera callbacks",
            "Cameras that can call the gateway back (ONVIF notifications) report events "
            "faster than polling. Cameras on the LAN need this box's LAN address here.",
            "Applies when Doorstep restarts.",
        ),
        SectionSpec(
            "server", ServerConfig, ("tls", "hostnames"), "restart", "HTTPS and host names",
            "HTTPS for the web UI (phones need it to talk at the door), and the names the UI "
            "is reached by besides IP addresses.",
            "Applies when Doorstep restarts. With HTTPS on, open the https:// address then.",
        ),
    )
}  # fmt: skip
"""The sections the owner may change, in the order the settings page shows them."""


@dataclass(frozen=True, slots=True)
class FileOnly:
    """A part of config.yaml that is not changed from the UI, and why."""

    path: str
    title: str
    reason: str


_REASONS = {
    "server.host": "The address the web UI listens on: a wrong one from the UI would lock "
    "everyone out.",
    "server.port": "The port the web UI listens on: a wrong one from the UI would lock everyone "
    "out.",
    "storage": "Where the database lives: it cannot move while the gateway runs.",
    "logging": "Read when the gateway starts, before its database is open.",
    "recording.max_clip_s": "Set in config.yaml: a longer clip is split into consecutive ones.",
    "recording.segment_s": "Set in config.yaml: the length of each continuous-recording file.",
    "cameras": "Each camera's own page changes its settings.",
    "push": "Phone notifications have their own switch on the Notifications page.",
}
_DEFAULT_REASON = "Set in config.yaml."


@functools.cache
def file_only() -> tuple[FileOnly, ...]:
    """Every part of config.yaml the UI leaves to the file."""
    found = []
    for name, info in Config.model_fields.items():
        if name == "version":
            continue
        spec = SECTIONS.get(name)
        if spec is None:
            found.append(FileOnly(name, info.title or name, _REASONS.get(name, _DEFAULT_REASON)))
            continue
        for field in spec.file_only:
            path = f"{name}.{field}"
            title = spec.model.model_fields[field].title or field
            reason = _REASONS.get(path, _DEFAULT_REASON)
            found.append(FileOnly(path, f"{info.title}: {title}", reason))
    return tuple(found)


@functools.cache
def _schema(name: str) -> dict[str, Any]:
    spec = SECTIONS[name]
    schema = spec.model.model_json_schema()
    schema["properties"] = {
        key: value for key, value in schema["properties"].items() if key in spec.fields
    }
    required = [key for key in schema.get("required", []) if key in spec.fields]
    if required:
        schema["required"] = required
    else:
        schema.pop("required", None)
    schema["title"], schema["description"] = spec.title, spec.description
    return schema


def section_schema(name: str) -> dict[str, Any]:
    """The JSON schema of a section's changeable fields (for a generic form)."""
    return copy.deepcopy(_schema(name))
