"""The contracts a driver implements: a factory, a device, and optional capabilities.

A driver package exposes one `DriverFactory` through the `doorstep.drivers` entry-point group.
The gateway calls `create()` once per configured device and then drives the `Device`:
`connect()` (returns identity), the capabilities the device has, and `close()`. Capabilities are
small protocols checked at run time with `isinstance`, so a driver only implements what its
devices can do.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TypeVar, runtime_checkable

import aiohttp

from doorstep.sdk._models import (
    DeviceConfig,
    DeviceEvent,
    DeviceInfo,
    DiscoveredDevice,
    StreamSource,
)

API_VERSION = 1
"""Major version of this API. A driver whose `api_version` differs is not loaded."""


T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


@runtime_checkable
class Webhook(Protocol[T_co]):
    """A URL the device can POST to; what arrives has passed the gateway's checks and `parse`."""

    url: str
    """The address to give the device (it must be able to reach it)."""

    async def receive(self) -> T_co:
        """The next parsed body the device POSTed."""
        ...

    async def close(self) -> None:
        """Stop accepting POSTs to this URL."""
        ...


class WebhookRegistry(Protocol):
    """Optional gateway service: receive HTTP callbacks (ONVIF Notify and the like) from devices.

    The gateway checks each POST before `parse` sees it: the path carries a random token, the
    sender must be `source_host`, bodies are size-capped and rate-limited. `parse` turns a
    body into the driver's messages and raises `ValueError` for a bad one, which the device
    gets told as a 400. Delivery is best effort: a driver keeps a polling fallback.
    """

    async def register(self, source_host: str, parse: Callable[[bytes], T]) -> Webhook[T]:
        """A new webhook accepting POSTs from `source_host` only."""
        ...


@dataclass(frozen=True, slots=True)
class DriverContext:
    """What the gateway injects into a device: shared HTTP session, logger, private data dir.

    `data_dir` belongs to this device alone and may not exist yet; create it when needed.
    """

    http: aiohttp.ClientSession
    logger: logging.Logger | logging.LoggerAdapter[logging.Logger]
    data_dir: Path
    webhooks: WebhookRegistry | None = None
    """Present when the gateway is configured to receive callbacks from devices."""


@runtime_checkable
class Device(Protocol):
    """One connected camera or doorbell, created by a `DriverFactory`."""

    async def connect(self) -> DeviceInfo:
        """Open the connection and return the device's identity; raises a `DriverError`."""
        ...

    async def close(self) -> None:
        """Release every connection and subscription; must not raise and must be idempotent."""
        ...


@runtime_checkable
class DriverFactory(Protocol):
    """A camera family: the object an entry point in `doorstep.drivers` names."""

    name: str
    """Short name users write in config (`driver: onvif`)."""
    api_version: int
    """The `API_VERSION` the driver was written against."""

    def create(self, config: DeviceConfig, context: DriverContext) -> Device:
        """Build a (not yet connected) device for one configured camera."""
        ...


@runtime_checkable
class Discoverer(Protocol):
    """Optional factory capability: find devices of this family on the network."""

    async def discover(self, listen_s: float) -> Sequence[DiscoveredDevice]:
        """Return what answered within `listen_s` seconds; never raises for silence."""
        ...


@runtime_checkable
class HasStreams(Protocol):
    """Capability: live media streams (RTSP), typically a main and a sub stream."""

    async def streams(self) -> Sequence[StreamSource]:
        """List the streams, best quality first."""
        ...


@runtime_checkable
class HasEvents(Protocol):
    """Capability: motion, doorbell and other events, normalised to `DeviceEvent`."""

    def events(self) -> AsyncIterator[DeviceEvent]:
        """Yield events while connected; raise a `DriverError` when the event feed is lost.

        Re-subscription after a camera reboot is the driver's job while it can; states re-sent
        after subscribing carry `initial=True`.
        """
        ...


@runtime_checkable
class HasSnapshot(Protocol):
    """Capability: a still JPEG on demand."""

    async def snapshot(self) -> bytes:
        """Return one JPEG image; raise `DeviceUnavailable` or `ProtocolError` on failure."""
        ...


@runtime_checkable
class TalkSink(Protocol):
    """An open audio backchannel to the device's speaker."""

    codec: str
    """Encoding the device expects for `send()`: 'PCMU', 'PCMA', 'AAC', …"""
    sample_rate: int

    async def send(self, payload: bytes) -> None:
        """Send one encoded audio frame (typically 20 ms)."""
        ...

    async def close(self) -> None:
        """Release the backchannel (doorbells may block their button while it is open)."""
        ...


@runtime_checkable
class HasTalk(Protocol):
    """Capability: two-way audio; the channel is opened only while someone talks."""

    async def open_talk(self) -> TalkSink:
        """Open the backchannel; raises `Unsupported` if the device has none."""
        ...


@runtime_checkable
class HasPTZ(Protocol):
    """Capability: pan, tilt and zoom."""

    async def move(self, pan: float, tilt: float, zoom: float) -> None:
        """Start a continuous move; speeds in [-1, 1]."""
        ...

    async def stop(self) -> None:
        """Stop any movement."""
        ...


CAPABILITIES: dict[str, type] = {
    "events": HasEvents,
    "ptz": HasPTZ,
    "snapshot": HasSnapshot,
    "streams": HasStreams,
    "talk": HasTalk,
}
"""Capability name → protocol, as reported to users."""


def capabilities_of(device: Device) -> frozenset[str]:
    """Names of the optional capabilities `device` implements."""
    return frozenset(name for name, proto in CAPABILITIES.items() if isinstance(device, proto))
