"""What a simulated device is and knows, apart from its servers: state, events, addresses.

The HTTP side (http_app.py and the SOAP services) works on this; device.py adds the servers.
"""

from __future__ import annotations

import abc
import asyncio
import logging
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import aiohttp

from doorstep.simulator.eventing import EventProperty, event_properties
from doorstep.simulator.flood import NotificationFlood, flood_messages
from doorstep.simulator.httpauth import SnapshotAuth
from doorstep.simulator.library import SUB_STREAM, MediaLibrary
from doorstep.simulator.profile import DeviceProfile, Quirk
from doorstep.simulator.rtsp_settings import RtspSettings
from doorstep.simulator.subscriptions import PullPoint, PushSubscription, SubscriptionManager

_log = logging.getLogger(__name__)

HOSTILE_MODES = frozenset(
    {
        "malformed",
        "html500",
        "empty",
        "foreign_xaddr",
        "script_name",
        "huge_name",
        "termination_minute_61",
        "notification_flood",
        "soap_fault",
        "termination_past",
        "endless_snapshot",
    }
)


@dataclass(frozen=True, slots=True)
class Press:
    """What one press of the doorbell button did."""

    reported: bool
    """Whether the doorbell sent it: False while the button is still held from an earlier
    press (a property reports only changes, so that press sends nothing)."""
    held_s: float | None = None
    """How long the button had been held when pressed again (None: it was released)."""
    hold_s: float = 0.0
    """The doorbell's hold time, which restarted with this press."""

    @property
    def reason(self) -> str | None:
        """Why the press was not reported, in words; None when it was."""
        if self.reported:
            return None
        since = f" from a press {self.held_s:.1f} s ago" if self.held_s is not None else ""
        return (
            f"the button is still held{since}: the doorbell reports no new press until it "
            f"releases it, {self.hold_s:g} s after the latest press"
        )

    def answer(self) -> dict[str, object]:
        """The control API's answer."""
        if self.reported:
            return {"ok": True, "reported": True}
        held = round(self.held_s, 2) if self.held_s is not None else None
        return {"ok": True, "reported": False, "held_s": held, "reason": self.reason}


class DeviceState(abc.ABC):
    """One simulated device's identity, clock, event properties, subscriptions and modes."""

    default_reboot_s = 5.0

    def __init__(
        self, profile: DeviceProfile, media: MediaLibrary, http: aiohttp.ClientSession
    ) -> None:
        self.profile = profile
        self.media = media
        self.http = http
        self.clock_skew = timedelta()
        self.slow_s = 0.0
        self.advertised_host: str | None = None
        """Host the device puts in its XAddrs and stream URIs instead of its own (a camera
        behind NAT, or a fault proxy in front of it); None: its own."""
        self.advertised_onvif_port: int | None = None
        """ONVIF port it advertises instead of the one it listens on; None: its own."""
        self.advertised_rtsp_port: int | None = None
        """RTSP port it advertises instead of the one it listens on; None: its own."""
        self.snapshot_chunk_s = 0.0
        """When above 0, the snapshot JPEG goes out in 1 KiB chunks this many seconds apart (as
        cameras on a slow link deliver it)."""
        self._hostile: str | None = None
        self.requests: Counter[str] = Counter()
        """SOAP requests answered, by operation name (`PullMessages`, `Renew`, …)."""
        self.boot_time = datetime.now(UTC)
        self.properties = self._properties()
        self.subscriptions = SubscriptionManager(
            self.now, lambda: self.base_url, profile.max_pullpoints
        )
        self.snapshot_auth = SnapshotAuth(f"{profile.model} {profile.serial}")
        self.rtsp_settings = RtspSettings(
            profile.username,
            profile.password,
            {
                "/stream/main": media.loop(profile.width, profile.height),
                "/stream/sub": media.loop(*SUB_STREAM),
            },
            media.tone,
            profile.has_backchannel,
        )
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._pressed_at: float | None = None
        """Loop time of the press that set the button held (None: not held by a press)."""
        self.flood = NotificationFlood(
            self.subscriptions.push_subscriptions, self.now, profile.name
        )
        self.online = False

    @property
    def hostile(self) -> str | None:
        """The hostile mode the device is in (one of HOSTILE_MODES), or None."""
        return self._hostile

    @hostile.setter
    def hostile(self, mode: str | None) -> None:
        self._hostile = mode
        if mode == "notification_flood" and self.online:
            self.flood.start()
            # Wakes a PullMessages that is waiting: the next ones are answered with the flood.
            self.subscriptions.broadcast(flood_messages(self.now(), 1)[0])
        elif mode != "notification_flood" and self.flood.running:
            # Called from synchronous code (the control API, tests): the task ends on its own.
            asyncio.get_running_loop().create_task(self.flood.stop())

    def has(self, quirk: Quirk) -> bool:
        """Whether the device shows this real-device behaviour."""
        return quirk in self.profile.quirks

    def set_quirks(self, quirks: frozenset[Quirk]) -> None:
        """Behave like a device with these quirks from now on (the control API's switch)."""
        self.profile.quirks = quirks
        self.properties = self._properties()

    def _properties(self) -> dict[str, EventProperty]:
        p = self.profile
        return event_properties(
            p.kind, p.dialect, p.person_detection, self.has(Quirk.DOORBELL_ON_INPUT)
        )

    # -- addresses -------------------------------------------------------------------------
    @property
    def _host(self) -> str:
        host = self.advertised_host or self.profile.host
        return f"[{host}]" if ":" in host else host

    @property
    def base_url(self) -> str:
        """http://host:port of the ONVIF services, as the device advertises them."""
        return f"http://{self._host}:{self.advertised_onvif_port or self.profile.onvif_port}"

    @property
    def device_url(self) -> str:
        """The device service XAddr clients start from."""
        return f"{self.base_url}/onvif/device_service"

    def rtsp_url(self, stream: str = "main") -> str:
        """RTSP URL of the main or sub stream as advertised (without credentials)."""
        port = self.advertised_rtsp_port or self.profile.rtsp_port
        return f"rtsp://{self._host}:{port}/stream/{stream}"

    @property
    def sub_resolution(self) -> tuple[int, int]:
        """Resolution of the sub stream."""
        return SUB_STREAM

    def now(self) -> datetime:
        """The device's own clock, which may be skewed."""
        return datetime.now(UTC) + self.clock_skew

    @abc.abstractmethod
    def schedule_reboot(self, down_s: float) -> None:
        """Reboot in the background: down for `down_s` seconds, then back."""

    # -- events ----------------------------------------------------------------------------
    def send_initial_states(self, subscription: PullPoint | PushSubscription) -> None:
        """Queue every property's current value as 'Initialized' (state, not news)."""
        for prop in self.properties.values():
            subscription.push(
                prop.notification(self.now(), "Initialized", self.profile.dialect, self.base_url)
            )

    def set_property(self, name: str, value: bool) -> bool:
        """Change a property and notify subscribers; False if the device has no such property."""
        prop = self.properties.get(name)
        if prop is None:
            return False
        if prop.value != value:
            prop.value = value
            if name == "visitor":
                self._pressed_at = None  # press_button() sets it for its own press
            self.subscriptions.broadcast(
                prop.notification(self.now(), "Changed", self.profile.dialect, self.base_url)
            )
        return True

    def _set_later(self, name: str, value: bool, delay: float) -> None:
        timer = self._timers.pop(name, None)
        if timer is not None:
            timer.cancel()
        self._timers[name] = asyncio.get_running_loop().call_later(
            delay, self.set_property, name, value
        )

    def press(self) -> bool:
        """Press the doorbell button; True when the doorbell reported the press (False: no
        doorbell, or its button still held from an earlier press, see `press_button`)."""
        done = self.press_button()
        return done is not None and done.reported

    def press_button(self) -> Press | None:
        """Press the doorbell button: visitor true now, false `visitor_hold_s` after the latest
        press. None when the device is no doorbell.

        While the button is still held, a press changes no property, so the doorbell sends
        nothing (ONVIF reports property changes only); the hold restarts, and the press is
        logged as not reported.
        """
        prop = self.properties.get("visitor")
        if prop is None:
            return None
        now = asyncio.get_running_loop().time()
        hold_s = self.profile.visitor_hold_s
        if prop.value:
            held = now - self._pressed_at if self._pressed_at is not None else None
            done = Press(reported=False, held_s=held, hold_s=hold_s)
            _log.info("%s: press not reported: %s", self.profile.name, done.reason)
        else:
            self.set_property("visitor", True)
            self._pressed_at = now
            done = Press(reported=True, hold_s=hold_s)
        self._set_later("visitor", False, hold_s)
        return done

    def motion(self, active: bool) -> None:
        """Start or stop motion (both motion topics, as real cameras send both)."""
        self.set_property("motion", active)
        self.set_property("cell_motion", active)
        if active and self.profile.motion_hold_s is not None:
            self._set_later("motion", False, self.profile.motion_hold_s)
            self._set_later("cell_motion", False, self.profile.motion_hold_s)
