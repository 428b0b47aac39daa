"""Loads drivers from the `doorstep.drivers` entry points; a broken one is logged, not fatal."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points

from doorstep.sdk import API_VERSION, ENTRY_POINT_GROUP, DriverFactory

_log = logging.getLogger(__name__)


@dataclass(slots=True)
class DriverRegistry:
    """The drivers that loaded, by short name, and why the others did not."""

    drivers: dict[str, DriverFactory] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)

    def get(self, name: str) -> DriverFactory | None:
        """The driver registered under `name`, if it loaded."""
        return self.drivers.get(name)


def _instantiate(entry: EntryPoint) -> DriverFactory:
    target = entry.load()
    factory = target() if isinstance(target, type) else target
    if not isinstance(factory, DriverFactory):
        raise TypeError(f"{entry.value} does not implement doorstep.sdk.DriverFactory")
    if factory.api_version != API_VERSION:
        raise TypeError(
            f"written for driver API {factory.api_version}, this gateway offers {API_VERSION}"
        )
    if factory.name != entry.name:
        raise TypeError(f"registered as {entry.name!r} but calls itself {factory.name!r}")
    return factory


def load_drivers(entries: Iterable[EntryPoint] | None = None) -> DriverRegistry:
    """Load every driver registered in the entry-point group (built-in ones included)."""
    registry = DriverRegistry()
    for entry in entry_points(group=ENTRY_POINT_GROUP) if entries is None else entries:
        if entry.name in registry.drivers or entry.name in registry.failures:
            registry.failures.setdefault(entry.name + " (duplicate)", f"{entry.value} ignored")
            _log.error("driver %s is registered twice; ignoring %s", entry.name, entry.value)
            continue
        try:
            registry.drivers[entry.name] = _instantiate(entry)
        except Exception as exc:  # a third-party driver may fail in any way; never fatal
            registry.failures[entry.name] = f"{type(exc).__name__}: {exc}"
            _log.error("driver %s failed to load: %s: %s", entry.name, type(exc).__name__, exc)
    if registry.drivers:
        _log.info("drivers loaded: %s", ", ".join(sorted(registry.drivers)))
    return registry
