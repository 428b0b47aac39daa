# Over 400 lines: all use of onvif-zeep-async stays here, its side effects contained.
"""Everything that talks to onvif-zeep-async lives here, and only here.

The library is the maintained asyncio ONVIF client, but it has side effects this module contains:
it calls `logging.basicConfig` on import (neutralised below), follows whatever URLs the camera
returns (every one is pinned to the camera's host here), and raises a mix of zeep, aiohttp and
its own exceptions (mapped onto the SDK's error tree in `_mapped`).
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import aiohttp

from doorstep.drivers.onvif.urls import HTTP, RTSP, pin_url
from doorstep.sdk import (
    AuthenticationFailed,
    DeviceInfo,
    DeviceUnavailable,
    DriverError,
    ProtocolError,
    StreamSource,
    Unsupported,
)

# onvif calls logging.basicConfig() at import; with a handler present that is a no-op, so the
# application's logging setup is left alone.
_root = logging.getLogger()
_guard = logging.NullHandler()
_root.addHandler(_guard)
try:
    import zeep.exceptions
    import zeep.helpers

    from onvif import ONVIFCamera
    from onvif.exceptions import ONVIFAuthError, ONVIFError, ONVIFTimeoutError
finally:
    _root.removeHandler(_guard)

_serialize = cast(Callable[..., Any], zeep.helpers.serialize_object)  # zeep is untyped here

PULLPOINT_NS = "http://www.onvif.org/ver10/events/wsdl/PullPointSubscription"
PUSH_NS = "http://www.onvif.org/ver10/events/wsdl/NotificationConsumer"
EVENTS_NS = "http://www.onvif.org/ver10/events/wsdl"
MEDIA_NS = "http://www.onvif.org/ver10/media/wsdl"
SKEW_WARNING = timedelta(seconds=30)
PULL_GRACE_S = 5.0
"""How long past its own timeout a PullMessages may take: a request lost on the wire (a dead
link) would otherwise wait for the library's 90 s read timeout before anyone notices."""


class SubscriptionLost(DriverError):
    """The camera no longer knows our subscription (it rebooted, or it expired)."""


def _auth_fault(exc: BaseException) -> bool:
    text = str(exc).lower()
    subcodes = " ".join(str(s) for s in getattr(exc, "subcodes", None) or []).lower()
    return "notauthorized" in subcodes or "not authori" in text or "401" in text


_LIBRARIES = frozenset({"zeep", "onvif", "lxml", "isodate", "httpx", "aiohttp"})


def _raised_by_library(exc: BaseException) -> bool:
    """Whether the innermost frame of `exc` is in the ONVIF client's libraries, not our code."""
    tb = exc.__traceback__
    if tb is None:
        return False
    while tb.tb_next is not None:
        tb = tb.tb_next
    module = str(tb.tb_frame.f_globals.get("__name__", ""))
    return module.partition(".")[0] in _LIBRARIES


_BUG_KINDS = (AttributeError, TypeError, LookupError)


def _unusable(what: str, exc: Exception) -> ProtocolError:
    """The ProtocolError for an answer the library could not use; re-raises our own bugs."""
    # zeep indexes into and reads attributes of what it parsed (a truncated envelope has no
    # body element): that is malformed device data. The same errors raised in our own code are
    # bugs; as a ProtocolError they would be retried forever without a traceback.
    if isinstance(exc, _BUG_KINDS) and not _raised_by_library(exc):
        raise exc
    return ProtocolError(f"{what}: unusable answer ({type(exc).__name__})")


@asynccontextmanager
async def _mapped(what: str) -> AsyncIterator[None]:
    """Translate library exceptions into the SDK's four error kinds."""
    try:
        yield
    except DriverError:
        raise
    except ONVIFAuthError as exc:
        raise AuthenticationFailed(f"{what}: credentials refused") from exc
    except zeep.exceptions.Fault as exc:
        if _auth_fault(exc):
            raise AuthenticationFailed(f"{what}: credentials refused") from exc
        if "actionnotsupported" in str(getattr(exc, "subcodes", "")).lower():
            raise Unsupported(f"{what}: not supported by the camera") from exc
        raise ProtocolError(f"{what}: the camera answered a fault: {str(exc)[:200]}") from exc
    except (ONVIFTimeoutError, TimeoutError, aiohttp.ClientConnectionError, OSError) as exc:
        raise DeviceUnavailable(f"{what}: {type(exc).__name__}: {str(exc)[:200]}") from exc
    except zeep.exceptions.TransportError as exc:
        if exc.status_code == 401:
            raise AuthenticationFailed(f"{what}: credentials refused") from exc
        raise ProtocolError(f"{what}: HTTP {exc.status_code} from the camera") from exc
    except (zeep.exceptions.Error, ValueError, AttributeError, TypeError, LookupError) as exc:
        raise _unusable(what, exc) from exc
    except ONVIFError as exc:
        if _auth_fault(exc):
            raise AuthenticationFailed(f"{what}: credentials refused") from exc
        cause = exc.__cause__ or exc.__context__
        if isinstance(cause, aiohttp.ClientConnectionError | OSError | TimeoutError):
            raise DeviceUnavailable(f"{what}: {type(cause).__name__}") from exc
        raise ProtocolError(f"{what}: {str(exc)[:200]}") from exc


def _text(value: Any, limit: int = 256) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text[:limit] if text else None


def _number(value: Any) -> int | None:
    """A positive whole number the camera reported, or None for anything else."""
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return number if number > 0 else None


CREATION_WAIT_S = 1.0
"""How long close() waits for service creations under way (inside the 3 s close budget); one
that takes longer is closed when it finishes."""


class OnvifSession:
    """One camera's ONVIF services, with every URL pinned to the camera's host."""

    def __init__(
        self,
        host: str,
        port: int,
        username: str | None,
        password: str | None,
        log: logging.LoggerAdapter[logging.Logger] | logging.Logger,
    ) -> None:
        self.host = host
        self.port = port
        self._camera = ONVIFCamera(host, port, username, password, adjust_time=True, no_cache=True)
        self._log = log
        self.clock_offset = timedelta()
        self.info: DeviceInfo | None = None
        self.subscription_address: str | None = None
        self.push_address: str | None = None
        self.termination: datetime | None = None
        self._absolute_times = False
        self._creating: set[asyncio.Future[Any]] = set()
        self._closed = False

    async def _service(self, create: Callable[..., Awaitable[Any]], *args: Any) -> Any:
        """Create (or reuse) a library service without leaking it when we are cancelled.

        The library opens an HTTP session for a service before its async set-up finishes; a
        cancellation in between would strand that session. The creation is shielded, and
        `close()` waits for creations still under way before closing everything, and one that
        finishes after the close is closed then.
        """
        task = asyncio.ensure_future(create(*args))
        self._creating.add(task)
        task.add_done_callback(self._created)
        return await asyncio.shield(task)

    def _created(self, task: asyncio.Future[Any]) -> None:
        self._creating.discard(task)
        if not task.cancelled():
            task.exception()  # a caller cancelled meanwhile never reads it: no "never retrieved"
        if self._closed:  # created after close(): its HTTP session is closed now
            _keep_until_done(asyncio.ensure_future(self._close_camera()))

    async def open(self) -> DeviceInfo:
        """Read the clock, find the services, and identify the camera."""
        async with _mapped("connecting"):
            # It makes the device management service: shielded like every creation.
            await self._service(self._camera.update_xaddrs)
            if not self._camera.xaddrs:
                raise ProtocolError("the camera listed no services")
            for namespace, xaddr in list(self._camera.xaddrs.items()):
                self._camera.xaddrs[namespace] = pin_url(xaddr, self.host, HTTP, "service")
            self.clock_offset = self._camera.dt_diff or timedelta()
            if abs(self.clock_offset) > SKEW_WARNING:
                self._log.warning(
                    "camera clock is off by %+.0f s; compensating (fix its NTP setting)",
                    self.clock_offset.total_seconds(),
                )
            device = await self._service(self._camera.create_devicemgmt_service)
            info = await device.GetDeviceInformation()
            mac = None
            try:
                interfaces = await device.GetNetworkInterfaces()
                for interface in interfaces or []:
                    hw = _text(getattr(getattr(interface, "Info", None), "HwAddress", None), 64)
                    if hw:
                        mac = hw.lower().replace("-", ":")
                        break
            except (zeep.exceptions.Fault, ONVIFError):
                self._log.debug(
                    "GetNetworkInterfaces refused; the serial number identifies the camera"
                )
            self.info = DeviceInfo(
                manufacturer=_text(getattr(info, "Manufacturer", None)) or "unknown",
                model=_text(getattr(info, "Model", None)) or "unknown",
                serial=_text(getattr(info, "SerialNumber", None)),
                firmware=_text(getattr(info, "FirmwareVersion", None)),
                mac=mac,
                clock_offset_s=round(self.clock_offset.total_seconds(), 3),
            )
            return self.info

    @property
    def has_events(self) -> bool:
        """Whether the camera lists an event service at all."""
        return EVENTS_NS in self._camera.xaddrs

    def device_time(self) -> datetime:
        """Now, by the camera's clock."""
        return datetime.now(UTC) + self.clock_offset

    async def streams(self) -> list[StreamSource]:
        """Main and sub streams (H.264/H.265 profiles), best resolution first."""
        async with _mapped("listing streams"):
            media = await self._service(self._camera.create_media_service)
            profiles = await media.GetProfiles()
            found: list[tuple[int, StreamSource]] = []
            setup = {"Stream": "RTP-Unicast", "Transport": {"Protocol": "RTSP"}}
            for profile in profiles or []:
                encoder = getattr(profile, "VideoEncoderConfiguration", None)
                if encoder is None:
                    continue
                uri = await media.GetStreamUri(
                    {"StreamSetup": setup, "ProfileToken": getattr(profile, "token", None)}
                )
                url = pin_url(_text(getattr(uri, "Uri", None), 2048), self.host, RTSP, "stream")
                resolution = getattr(encoder, "Resolution", None)
                width = _number(getattr(resolution, "Width", None))
                height = _number(getattr(resolution, "Height", None))
                fps = getattr(getattr(encoder, "RateControl", None), "FrameRateLimit", None)
                source = StreamSource(
                    name=str(getattr(profile, "token", ""))[:64],
                    url=url,
                    video_codec=_text(getattr(encoder, "Encoding", None), 32),
                    width=width,
                    height=height,
                    fps=float(fps) if fps else None,
                )
                found.append(((width or 0) * (height or 0), source))
            found.sort(key=lambda pair: -pair[0])
            renamed = []
            for index, (_, source) in enumerate(found):
                name = "main" if index == 0 else ("sub" if index == 1 else source.name)
                renamed.append(source.model_copy(update={"name": name}))
            return renamed

    async def snapshot_uri(self) -> str | None:
        """The JPEG snapshot URL of the first profile, pinned; None if the camera has none."""
        async with _mapped("snapshot URI"):
            media = await self._service(self._camera.create_media_service)
            profiles = await media.GetProfiles()
            if not profiles:
                return None
            uri = await media.GetSnapshotUri({"ProfileToken": getattr(profiles[0], "token", None)})
            return pin_url(_text(getattr(uri, "Uri", None), 2048), self.host, HTTP, "snapshot")

    async def has_backchannel(self) -> bool:
        """True when the camera has an audio output (a speaker for the backchannel)."""
        try:
            async with _mapped("audio outputs"):
                media = await self._service(self._camera.create_media_service)
                return bool(await media.GetAudioOutputs())
        except (ProtocolError, Unsupported):
            return False

    # -- events ----------------------------------------------------------------------------
    def _termination(self, lifetime: timedelta) -> str:
        if self._absolute_times:  # for firmware whose relative times are broken
            return (self.device_time() + lifetime).strftime("%Y-%m-%dT%H:%M:%SZ")
        return f"PT{int(lifetime.total_seconds())}S"

    def _granted(self, result: Any, lifetime: timedelta) -> timedelta:
        current = getattr(result, "CurrentTime", None)
        ends = getattr(result, "TerminationTime", None)
        if (
            isinstance(current, datetime)
            and isinstance(ends, datetime)
            and current.tzinfo
            and ends.tzinfo
        ):
            granted = ends - current
            if timedelta(seconds=10) <= granted <= timedelta(days=1):
                return granted
            if granted < lifetime / 2 and not self._absolute_times:
                self._absolute_times = True
                self._log.info("camera mishandles relative termination times; using absolute ones")
        # Broken or missing times (1970, minute 61): assume what we asked for, renew early.
        return lifetime

    async def subscribe(self, lifetime: timedelta) -> timedelta:
        """Create a pull-point subscription; returns the lifetime the camera granted."""
        async with _mapped("subscribing to events"):
            events = await self._service(self._camera.create_events_service)
            result = await events.CreatePullPointSubscription(
                {"InitialTerminationTime": self._termination(lifetime)}
            )
            reference = getattr(result, "SubscriptionReference", None)
            address = _text(getattr(getattr(reference, "Address", None), "_value_1", None), 2048)
            if not address:
                # Seen in the wild: an empty address (with 1970 times). Pull from the events
                # service itself, which such firmware accepts.
                address = self._camera.xaddrs.get(EVENTS_NS)
            self.subscription_address = pin_url(address, self.host, HTTP, "subscription")
            self._camera.xaddrs[PULLPOINT_NS] = self.subscription_address
            return self._granted(result, lifetime)

    async def pull(self, wait: timedelta, limit: int = 100) -> list[Mapping[str, Any]]:
        """One PullMessages long-poll of `wait` rounded up to whole seconds; the notification
        messages as plain dicts."""
        # Some devices read whole seconds only and answer `PT8.123456S` at once (a busy loop).
        whole = timedelta(seconds=max(1, math.ceil(wait.total_seconds())))
        try:
            async with _mapped("pulling events"):
                service = await self._service(self._camera.create_pullpoint_service)
                result = await asyncio.wait_for(
                    service.PullMessages({"Timeout": whole, "MessageLimit": limit}),
                    whole.total_seconds() + PULL_GRACE_S,
                )
                messages = getattr(result, "NotificationMessage", None) or []
                return [_serialize(m, dict) for m in messages]
        except ProtocolError as exc:
            # A fault here means the camera no longer knows the subscription (reboot/expiry).
            raise SubscriptionLost(str(exc)) from exc

    async def renew(self, lifetime: timedelta) -> timedelta:
        """Extend the subscription; SubscriptionLost if the camera refuses."""
        try:
            async with _mapped("renewing the subscription"):
                manager = await self._service(
                    lambda: self._camera.create_subscription_service("PullPointSubscription")
                )
                result = await manager.Renew({"TerminationTime": self._termination(lifetime)})
                return self._granted(result, lifetime)
        except ProtocolError as exc:
            raise SubscriptionLost(str(exc)) from exc

    async def subscribe_push(self, consumer: str, lifetime: timedelta) -> timedelta:
        """WS-BaseNotification Subscribe: the camera will POST events to `consumer`."""
        async with _mapped("subscribing to event callbacks"):
            notifications = await self._service(self._camera.create_notification_service)
            result = await notifications.Subscribe(
                {
                    "InitialTerminationTime": self._termination(lifetime),
                    "ConsumerReference": {"Address": consumer},
                }
            )
            reference = getattr(result, "SubscriptionReference", None)
            address = _text(getattr(getattr(reference, "Address", None), "_value_1", None), 2048)
            self.push_address = pin_url(address, self.host, HTTP, "subscription")
            self._camera.xaddrs[PUSH_NS] = self.push_address
            return self._granted(result, lifetime)

    async def renew_push(self, lifetime: timedelta) -> timedelta:
        """Extend the callback subscription; SubscriptionLost if the camera refuses."""
        try:
            async with _mapped("renewing the callback subscription"):
                manager = await self._service(
                    lambda: self._camera.create_subscription_service("NotificationConsumer")
                )
                result = await manager.Renew({"TerminationTime": self._termination(lifetime)})
                return self._granted(result, lifetime)
        except ProtocolError as exc:
            raise SubscriptionLost(str(exc)) from exc

    async def unsubscribe(self) -> list[str]:
        """Free the camera's subscription slots (best effort: they expire anyway); the
        addresses the camera could not be told about (unreachable), to try again later."""
        kept = []
        for attribute, port_type in (
            ("subscription_address", "PullPointSubscription"),
            ("push_address", "NotificationConsumer"),
        ):
            address = getattr(self, attribute)
            if address is None:
                continue
            try:
                async with _mapped("unsubscribing"):
                    manager = await self._service(
                        self._camera.create_subscription_service, port_type
                    )
                    await asyncio.wait_for(manager.Unsubscribe(), 5)
            except DeviceUnavailable as exc:
                self._log.debug("unsubscribe failed: %s", exc)
                kept.append(address)
            except DriverError as exc:  # a fault: the camera no longer has it
                self._log.debug("unsubscribe refused: %s", exc)
            setattr(self, attribute, None)
        return kept

    async def unsubscribe_leftover(self, address: str, push: bool) -> None:
        """Unsubscribe a subscription an earlier run left behind; raises a DriverError."""
        namespace, port_type = (
            (PUSH_NS, "NotificationConsumer") if push else (PULLPOINT_NS, "PullPointSubscription")
        )
        pinned = pin_url(address, self.host, HTTP, "subscription")
        self._camera.xaddrs[namespace] = pinned
        try:
            async with _mapped("unsubscribing a leftover subscription"):
                manager = await self._service(self._camera.create_subscription_service, port_type)
                await asyncio.wait_for(manager.Unsubscribe(), 5)
        finally:
            self._camera.xaddrs.pop(namespace, None)

    async def close(self) -> None:
        """Close every HTTP session the library opened, even when the caller is cancelled."""
        self._closed = True
        closing = asyncio.ensure_future(self._close_all())
        _keep_until_done(closing)
        await asyncio.shield(closing)

    async def _close_all(self) -> None:
        if self._creating:
            await asyncio.wait(self._creating, timeout=CREATION_WAIT_S)
        await self._close_camera()

    async def _close_camera(self) -> None:
        try:
            await self._camera.close()  # closing an already closed session is a no-op
        except (aiohttp.ClientError, OSError, RuntimeError) as exc:
            self._log.debug("closing the ONVIF client failed: %s", exc)


_CLOSING: set[asyncio.Future[Any]] = set()
"""Closes under way, held here so a cancelled caller's close is not garbage-collected."""


def _keep_until_done(task: asyncio.Future[Any]) -> None:
    _CLOSING.add(task)
    task.add_done_callback(_CLOSING.discard)


def stop_if_cancelled() -> None:
    """Honour a cancellation that 3.11's `wait_for` swallowed (it returns the result instead when
    the call finishes as the cancel lands), so the event feed cannot outlive its consumer."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError
