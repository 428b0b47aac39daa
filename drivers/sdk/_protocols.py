"""The contracts a driver implements: a factory, a device, and optional capabilities.

A driver package exposes one `DriverFactory` through the `doorstep.drivers` entry-point group.
Capabilities are small protocols checked at run time with `isinstance`, so a driver only
implements what its devices can do.

What the gateway guarantees, per camera (one supervising task each):

1. Every connection attempt starts with a fresh `create()`: it is called again on every
   reconnect (after a failure, a camera reboot, a user's "reconnect"), never reused. So
   `create()` must be cheap and do no I/O; state that must outlive an attempt belongs in the
   factory or in `context.data_dir`.
2. Then `connect()`, then the capabilities are read (`isinstance`), then `streams()` (bounded
   at 10 s), then `events()` is iterated until it raises or ends. `snapshot()` and
   `open_talk()` may be called concurrently with that, only while the device is online.
3. `close()` is called exactly once for every device whose `create()` returned, whatever
   happened: after `connect()` raised, after the event feed ended, and on shutdown. It gets
   3 s and its exceptions are swallowed, but it must not raise and must be idempotent.
4. On shutdown or removal the supervising task is cancelled: `asyncio.CancelledError` lands in
   whatever the device is awaiting (`connect()`, `streams()`, the `events()` iterator). Let it
   propagate (clean up in `finally`); the gateway waits 1 s for it, then calls `close()`.
5. Errors decide what comes next (see `DriverError`): `DeviceUnavailable`/`ProtocolError`
   retry the attempt with backoff, `AuthenticationFailed` stops until the user acts,
   `Unsupported` disables the camera with its message. Any other exception is a driver bug:
   logged with its traceback and retried like a device fault.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TypeVar, runtime_checkable

import aiohttp

from doorstep.sdk._models import (
    DeviceConfig,
    DeviceEvent,
    DeviceInfo,
    DiscoveredDevice,
    DiscoveryScope,
    StreamSource,
)
from doorstep.sdk._version import ApiVersion

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
    rtsp_allow_basic: bool = False
    """The owner lets this camera's RTSP sessions answer a Basic challenge over plain rtsp://
    (it sends the password in clear); a driver opening RTSP itself (talk) must honour it."""


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
    api_version: ApiVersion
    """The `API_VERSION` the driver was built against (see the version policy)."""

    def create(self, config: DeviceConfig, context: DriverContext) -> Device:
        """Build a fresh, not yet connected device: called once per connection attempt.

        Optional class attributes the gateway reads: `options_model` (a `DriverOptions`
        subclass validating `config.options`) and `needs_host` (default True).
        """
        ...


@runtime_checkable
class Discoverer(Protocol):
    """Optional factory capability: find devices of this family on the network."""

    async def discover(self, scope: DiscoveryScope) -> Sequence[DiscoveredDevice]:
        """What answered within `scope.listen_s`, probing only where `scope` allows; never
        raises for silence (nor for an interface it cannot use: log it and go on)."""
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


@runtime_checkable
class HasDiagnostics(Protocol):
    """Optional device capability: state for a support request (the owner downloads it).

    The gateway redacts the camera's host, user name and password, and credentials in URLs,
    before anyone sees it; still, put no secrets in it. Keep it small and JSON-shaped: str,
    int, float, bool, None, lists and mappings of those. A `notes` key holding a list of short
    plain-text sentences is also shown in the camera's info (read after connect and after each
    snapshot; at most 8, each cut at 200 characters, never rendered as HTML).
    """

    async def diagnostics(self) -> Mapping[str, object]:
        """What the driver knows about the device's state (subscriptions, quirks, counters)."""
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
