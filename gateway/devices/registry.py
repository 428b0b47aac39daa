"""Loads drivers from the `doorstep.drivers` entry points; a broken one is logged, not fatal.

Also checks a camera's configuration against its driver (known driver, `host` when the driver
needs one, typed options), for config loading, `check-config`, adoption and supervision alike.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points

from doorstep.gateway.config.models import CameraConfig, Config, ConfigError, ConfigProblem
from doorstep.sdk import (
    API_VERSION,
    ENTRY_POINT_GROUP,
    DriverFactory,
    api_version_problem,
    needs_host,
    option_problems,
    options_model_of,
)

_log = logging.getLogger(__name__)

LEGACY_VERSION_NOTE = (
    "an int api_version is deprecated since driver API 1.1; use api_version = API_VERSION"
)


@dataclass(slots=True)
class DriverRegistry:
    """The drivers that loaded, by short name, and why the others did not."""

    drivers: dict[str, DriverFactory] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)
    deprecations: dict[str, list[str]] = field(default_factory=dict)
    """Deprecation warnings each driver raised while loading (logged once at WARNING)."""

    def get(self, name: str) -> DriverFactory | None:
        """The driver registered under `name`, if it loaded."""
        return self.drivers.get(name)

    def camera_problems(
        self, driver: str, host: str, options: Mapping[str, object]
    ) -> list[tuple[str, str]]:
        """What is wrong with a camera for its driver, as (field, message); empty if usable."""
        factory = self.drivers.get(driver)
        if factory is None:
            why = self.failures.get(driver)
            known = ", ".join(sorted(self.drivers)) or "none"
            return [
                (
                    "driver",
                    f"driver {driver!r} failed to load ({why})"
                    if why
                    else f"unknown driver {driver!r} (installed: {known})",
                )
            ]
        problems = []
        if needs_host(factory) and not host:
            problems.append(("host", f"the {driver} driver needs a host"))
        problems += [
            (f"options.{name}" if name else "options", message)
            for name, message in option_problems(factory, options)
        ]
        return problems

    def check_cameras(self, cameras: Iterable[CameraConfig]) -> list[ConfigProblem]:
        """Every problem of the configured cameras with their drivers (for `check-config`)."""
        return [
            ConfigProblem(f"cameras[{i}].{where}", message)
            for i, camera in enumerate(cameras)
            for where, message in self.camera_problems(camera.driver, camera.host, camera.options)
        ]


def _instantiate(entry: EntryPoint) -> tuple[DriverFactory, list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DeprecationWarning)
        target = entry.load()
        factory = target() if isinstance(target, type) else target
        if not isinstance(factory, DriverFactory):
            raise TypeError(f"{entry.value} does not implement doorstep.sdk.DriverFactory")
        declared: object = factory.api_version
        problem = api_version_problem(declared, API_VERSION)
        if problem is not None:
            raise TypeError(problem)
        if factory.name != entry.name:
            raise TypeError(f"registered as {entry.name!r} but calls itself {factory.name!r}")
        options_model_of(factory)  # a TypeError if it is not a strict pydantic model
    notes = [str(w.message) for w in caught if issubclass(w.category, DeprecationWarning)]
    if isinstance(declared, int):
        notes.append(LEGACY_VERSION_NOTE)
    return factory, notes


def load_drivers(entries: Iterable[EntryPoint] | None = None) -> DriverRegistry:
    """Load every driver registered in the entry-point group (built-in ones included)."""
    registry = DriverRegistry()
    for entry in entry_points(group=ENTRY_POINT_GROUP) if entries is None else entries:
        if entry.name in registry.drivers or entry.name in registry.failures:
            registry.failures.setdefault(entry.name + " (duplicate)", f"{entry.value} ignored")
            _log.error("driver %s is registered twice; ignoring %s", entry.name, entry.value)
            continue
        try:
            factory, notes = _instantiate(entry)
        except Exception as exc:  # a third-party driver may fail in any way; never fatal
            registry.failures[entry.name] = f"{type(exc).__name__}: {exc}"
            _log.error("driver %s failed to load: %s: %s", entry.name, type(exc).__name__, exc)
            continue
        registry.drivers[entry.name] = factory
        if notes:
            registry.deprecations[entry.name] = notes
            for note in notes:
                _log.warning("driver %s uses a deprecated API: %s", entry.name, note)
    if registry.drivers:
        _log.info("drivers loaded: %s", ", ".join(sorted(registry.drivers)))
    return registry


def check_drivers(config: Config, source: str = "<config>") -> Config:
    """`config` if every camera suits its installed driver; `ConfigError` listing why not."""
    problems = load_drivers().check_cameras(config.cameras)
    if problems:
        raise ConfigError(source, problems)
    return config
