"""RuntimeSettings: the gateway sections the owner changes from the UI, over config.yaml's.

Each changed field is an override that remembers the file's value it replaced. It applies while
the file still says that; once that field is edited in the file, the file wins and the override
is dropped (logged), as with a camera's settings. Values are validated by the section's own
model, stored in the `settings` table (one row per section, secrets sealed with the gateway's
key), and handed to the section's listeners after each change; sections that apply only at the
next start say a restart is pending until then.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from doorstep.gateway.config.fields import Section
from doorstep.gateway.config.models import Config
from doorstep.gateway.keys.redaction import register_secret
from doorstep.gateway.keys.secretbox import SecretBox
from doorstep.gateway.settings import checks
from doorstep.gateway.settings.sections import SECTIONS, Applies, SectionSpec, section_schema
from doorstep.gateway.settings.values import (
    ABSENT,
    FLAG_SUFFIX,
    as_input,
    merged,
    redacted,
    sealed,
    secrets_in,
    tree_of,
    unsealed,
    without_flags,
)
from doorstep.gateway.storage.repositories.settings import SettingsRepository

_log = logging.getLogger(__name__)

KEY_PREFIX = "gateway."
"""A section's row in the `settings` table is `gateway.<section>` (push keeps `push.enabled`)."""
FILE_WINS_ACTOR = "config.yaml"
MAX_PROBLEMS = 10

Listener = Callable[[Any], None]
"""Told the section's new effective value (its model, or None) after each change."""


class SettingsError(Exception):
    """A settings change that cannot be made."""


class UnknownSetting(SettingsError):
    """No such section, or no such changeable field in it."""


@dataclass(frozen=True, slots=True)
class Problem:
    """What is wrong with one field of a change."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


class InvalidSetting(SettingsError):
    """A change the section's model (or a check) refuses; `problems` says why, per field."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems[:MAX_PROBLEMS]
        super().__init__("; ".join(str(p) for p in self.problems))


@dataclass(frozen=True, slots=True)
class Override:
    """A field set from the UI, and the file's value it replaced (a tree; ABSENT if none)."""

    value: Any
    base: Any


@dataclass(frozen=True, slots=True)
class SectionView:
    """One section as the settings page shows it (secrets redacted)."""

    name: str
    title: str
    description: str
    schema: dict[str, Any]
    value: dict[str, Any] | None
    """The effective value of the changeable fields; None: an optional section that is off."""
    overridden: list[str]
    file_only: list[str]
    applies: Applies
    applies_note: str
    restart_pending: bool


def _path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def problems_of(exc: ValidationError, section: str) -> list[Problem]:
    """A validation error's problems, each located by its field path."""
    return [
        Problem(_path(tuple(err["loc"])) or section, err["msg"].removeprefix("Value error, "))
        for err in exc.errors()[:MAX_PROBLEMS]
    ]


class RuntimeSettings:
    """config.yaml's editable sections with the owner's overrides on top, and their listeners."""

    def __init__(self, file: Config) -> None:
        self.file = file
        """The configuration as config.yaml has it."""
        self._effective: dict[str, Section | None] = {
            name: spec.file_value(file) for name, spec in SECTIONS.items()
        }
        self._at_start = dict(self._effective)
        self._overrides: dict[str, dict[str, Override]] = {name: {} for name in SECTIONS}
        self._listeners: dict[str, list[Listener]] = {name: [] for name in SECTIONS}
        self._repository: SettingsRepository | None = None
        self._box: SecretBox | None = None
        self._lock = asyncio.Lock()

    # -- reading -------------------------------------------------------------------------------
    @property
    def config(self) -> Config:
        """The effective configuration: the file's, with the owner's settings on top."""
        return self.file.model_copy(update=self._effective)

    def current(self, name: str) -> Section | None:
        """A section's effective value."""
        return self._effective[self._spec(name).name]

    def view(self, name: str) -> SectionView:
        """A section as the settings page shows it."""
        spec = self._spec(name)
        value = self._effective[name]
        shown = None
        if value is not None:
            full: dict[str, Any] = redacted(value)
            shown = {k: v for k, v in full.items() if _field_of(k) in spec.fields}
        return SectionView(
            spec.name, spec.title, spec.description, section_schema(name), shown,
            sorted(self._overrides[name]), list(spec.file_only), spec.applies, spec.applies_note,
            name in self.restart_pending(),
        )  # fmt: skip

    def views(self) -> list[SectionView]:
        """Every changeable section, in page order."""
        return [self.view(name) for name in SECTIONS]

    def restart_pending(self) -> list[str]:
        """Sections changed since the start whose change applies only at the next one."""
        return [
            name
            for name, spec in SECTIONS.items()
            if spec.applies == "restart"
            and tree_of(self._effective[name]) != tree_of(self._at_start[name])
        ]

    def listen(self, name: str, listener: Listener) -> Callable[[], None]:
        """Call `listener` with the section's new value after each change; returns the undo."""
        listeners = self._listeners[self._spec(name).name]
        listeners.append(listener)
        return lambda: listeners.remove(listener) if listener in listeners else None

    # -- start ---------------------------------------------------------------------------------
    async def load(self, repository: SettingsRepository, box: SecretBox) -> None:
        """Read the owner's overrides (the file wins where it changed since); before start."""
        self._repository, self._box = repository, box
        for name, spec in SECTIONS.items():
            record = await repository.get(KEY_PREFIX + name)
            if record is None:
                continue
            kept, stale = self._read(spec, record.value, box)
            try:
                value = self._built(spec, kept)
            except InvalidSetting as exc:
                _log.error(
                    "settings: the %s settings changed in the UI are not valid (%s); "
                    "config.yaml's apply",
                    name, exc.problems[0],
                )  # fmt: skip
                continue
            if stale:
                await self._write(spec, kept, FILE_WINS_ACTOR)
            self._apply(spec, kept, value)
        self._at_start = dict(self._effective)

    def _read(
        self, spec: SectionSpec, stored: Any, box: SecretBox
    ) -> tuple[dict[str, Override], bool]:
        """The stored overrides that still apply, and whether any was dropped."""
        fields = stored.get("fields") if isinstance(stored, dict) else None
        if not isinstance(fields, dict):
            _log.error("settings: the stored %s settings are unreadable; ignored", spec.name)
            return {}, False
        file = spec.file_tree(self.file)
        kept: dict[str, Override] = {}
        stale = False
        for field, entry in fields.items():
            if field not in spec.fields or not isinstance(entry, dict) or set(entry) != {
                "value", "base",
            }:  # fmt: skip
                _log.warning("settings: dropped an unknown stored setting %s.%s", spec.name, field)
                stale = True
                continue
            try:
                value, base = unsealed(entry["value"], box), unsealed(entry["base"], box)
            except ValueError:
                _log.error(
                    "settings: %s.%s holds a secret this gateway's key cannot decrypt (key "
                    "changed?); config.yaml's value applies until it is set again",
                    spec.name, field,
                )  # fmt: skip
                continue
            if base != file[field]:
                _log.info(
                    "settings: config.yaml's %s.%s changed since it was set in the UI; the "
                    "file's value applies",
                    spec.name, field,
                )  # fmt: skip
                stale = True
                continue
            kept[field] = Override(value, base)
        return kept, stale

    # -- changes -------------------------------------------------------------------------------
    async def update(
        self, name: str, change: Mapping[str, Any], actor: str
    ) -> tuple[SectionView, list[str]]:
        """Apply a partial change of a section; the new view and the fields that changed.

        `InvalidSetting` with the reasons if the section's model or a start check refuses it.
        """
        spec = self._spec(name)
        unknown = [
            Problem(key[:64], "set in config.yaml only" if key in spec.model.model_fields
                    else "not a setting of this section")
            for key in change
            if _field_of(key) not in spec.fields
        ]  # fmt: skip
        if unknown:
            raise InvalidSetting(unknown)
        async with self._lock:
            current = self._effective[name]
            before = tree_of(current) if current is not None else {}
            new = self._validated(spec, merged(before, without_flags(spec.model, dict(change))))
            after = tree_of(new)
            changed = [f for f in spec.fields if after[f] != before.get(f, ABSENT)]
            if not changed:
                return self.view(name), []
            found = await checks.problems(new, self._at_start[name])
            if found:
                raise InvalidSetting([Problem(field, reason) for field, reason in found])
            file = spec.file_tree(self.file)
            overrides = {f: Override(after[f], file[f]) for f in spec.fields if after[f] != file[f]}
            await self._write(spec, overrides, actor)
            self._apply(spec, overrides, new)
        _log.info("settings: %s changed the %s settings (%s)", actor, name, ", ".join(changed))
        self._notify(name, new)
        return self.view(name), changed

    async def revert(
        self, name: str, field: str | None, actor: str
    ) -> tuple[SectionView, list[str]]:
        """Set a field (None: every field) back to config.yaml's value; the fields reverted."""
        spec = self._spec(name)
        if field is not None and field not in spec.fields:
            raise UnknownSetting(f"{name}.{field[:64]}")
        async with self._lock:
            overrides = self._overrides[name]
            gone = [f for f in spec.fields if f in overrides and field in (None, f)]
            if not gone:
                return self.view(name), []
            remaining = {f: o for f, o in overrides.items() if f not in gone}
            try:
                new = self._built(spec, remaining)
            except InvalidSetting as exc:
                raise InvalidSetting(
                    [Problem(p.field, f"{p.message} (with config.yaml's {', '.join(gone)})")
                     for p in exc.problems]
                ) from None  # fmt: skip
            await self._write(spec, remaining, actor)
            self._apply(spec, remaining, new)
        _log.info("settings: %s set %s back to config.yaml's (%s)", actor, name, ", ".join(gone))
        self._notify(name, new)
        return self.view(name), gone

    # -- inside --------------------------------------------------------------------------------
    def _spec(self, name: str) -> SectionSpec:
        spec = SECTIONS.get(name)
        if spec is None:
            raise UnknownSetting(name[:64])
        return spec

    def _built(self, spec: SectionSpec, overrides: Mapping[str, Override]) -> Section | None:
        """The file's section with `overrides` on top (InvalidSetting if that is invalid)."""
        file_value = spec.file_value(self.file)
        if not overrides:
            return file_value
        data = tree_of(file_value) if file_value is not None else {}
        data.update({field: override.value for field, override in overrides.items()})
        return self._validated(spec, data)

    def _validated(self, spec: SectionSpec, proposed: Any) -> Section:
        try:
            return spec.model.model_validate(as_input(proposed))
        except ValidationError as exc:
            raise InvalidSetting(problems_of(exc, spec.name)) from None
        except (ValueError, TypeError, RuntimeError, OverflowError) as exc:
            # A validator that raised something else (`~nosuchuser` in a path): still the input's.
            problem = Problem(spec.name, f"not a valid value ({type(exc).__name__})")
            raise InvalidSetting([problem]) from None

    async def _write(
        self, spec: SectionSpec, overrides: Mapping[str, Override], actor: str
    ) -> None:
        if self._repository is None or self._box is None:
            raise SettingsError("the settings are not loaded yet")
        box = self._box
        stored = {
            field: {"value": sealed(o.value, box), "base": sealed(o.base, box)}
            for field, o in sorted(overrides.items())
        }
        await self._repository.put(
            KEY_PREFIX + spec.name, {"fields": stored}, datetime.now(UTC), actor
        )

    def _apply(
        self, spec: SectionSpec, overrides: dict[str, Override], value: Section | None
    ) -> None:
        for override in overrides.values():
            for secret in secrets_in(override.value):
                register_secret(secret)
        self._overrides[spec.name] = overrides
        self._effective[spec.name] = value

    def _notify(self, name: str, value: Section | None) -> None:
        for listener in list(self._listeners[name]):
            try:
                listener(value)
            except Exception:  # one component's bug must not undo a saved change elsewhere
                _log.exception("settings: a listener of the %s settings failed", name)


def _field_of(key: str) -> str:
    """The field a key of a change or view is about (`password_set` is about `password`)."""
    return key.removesuffix(FLAG_SUFFIX) if key.endswith(FLAG_SUFFIX) else key
