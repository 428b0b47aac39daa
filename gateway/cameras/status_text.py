"""Camera states and failure reasons in plain words for a homeowner: one table, read in order.

The raw reason (what the driver or the supervisor said) stays in the camera's view for a
details toggle; this module gives the sentence to show (`text`) and what to do about it
(`hint`). Rules are tried top to bottom and the first whose pattern finds the reason wins, so
the specific ones come first. Everything here is plain text for the UI to render as text, never
HTML; the few pieces of a raw reason quoted in it are trimmed to `MAX_DETAIL` characters.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass

from doorstep.gateway.devices.supervisor import DISABLED_BY_OWNER, DISABLED_IN_CONFIG
from doorstep.gateway.events import CameraState

MAX_DETAIL = 160


@dataclass(frozen=True, slots=True)
class Plain:
    """A state or failure as a person reads it, and what they can do about it."""

    text: str
    hint: str | None = None


@dataclass(frozen=True, slots=True)
class Rule:
    """A reason pattern and the words for it; `{host}`, `{where}` (host:port) and the pattern's
    named groups may appear in the words."""

    pattern: re.Pattern[str]
    text: str
    hint: str | None = None


def _rule(pattern: str, text: str, hint: str | None = None) -> Rule:
    return Rule(re.compile(pattern, re.IGNORECASE), text, hint)


WRONG_PASSWORD = Plain(
    "The camera refused the user name or password — check them in the camera's settings",
    "Enter the user name and password the camera's own app or web page uses (some cameras "
    "have a separate ONVIF user) in this camera's settings.",
)

FAILURES: tuple[Rule, ...] = (
    _rule(
        r"credentials refused|not ?authori[sz]ed|unauthori[sz]ed|\b401\b",
        WRONG_PASSWORD.text,
        WRONG_PASSWORD.hint,
    ),
    _rule(
        r"the camera (gave|pointed)",
        "The camera handed out an address that is not its own, so Doorstep won't follow it",
        "Check the camera's network settings (its own IP address and ports), or update its "
        "firmware; the details say which address it gave.",
    ),
    _rule(
        r"name or service not known|nodename nor servname|name resolution|no address associated"
        r"|getaddrinfo|name does not resolve|DNS",
        "Can't find a device called {host} on the network",
        "Check the spelling, or use the camera's IP address (your router or the camera's app "
        "lists it).",
    ),
    _rule(
        r"connection refused|ConnectionRefusedError|errno 111\b",
        "Nothing answers at {where} — is that the camera's address and port?",
        "Check the address and the port (ONVIF often uses 80, 8000 or 8080, RTSP 554); a "
        "camera that is starting up refuses for a moment too.",
    ),
    _rule(
        r"connecting: (ServerDisconnected|ClientPayloadError|BadStatusLine|BadHttpMessage)",
        "Something at {where} hung up instead of answering as an ONVIF camera",
        "Check that {where} is the camera's ONVIF port (not its video or web port); a camera "
        "that is just starting up does this for a moment too.",
    ),
    _rule(
        r"no route to host|host is unreachable|network is unreachable|ClientConnectorError"
        r"|ClientOSError|ServerDisconnected|connect call failed|cannot reach|cannot connect"
        r"|connection (lost|closed|reset)|ConnectionResetError|OSError",
        "Can't reach the camera at {host} — is it powered and on the network?",
        "Doorstep keeps trying on its own. Check the camera's power and network cable or "
        "Wi-Fi, and that its address has not changed.",
    ),
    _rule(
        r"timeout|timed out|did not answer in time|no answer|no RTSP answer",
        "The camera at {host} isn't answering — is it powered and on the network?",
        "A camera that is starting up can take a minute. If it stays like this, check its "
        "power and network, and that {where} is really the camera.",
    ),
    _rule(
        r"HTTP (400|404|405|406|415|501) from the camera|listed no services|unusable answer"
        r"|XMLSyntax|not an ONVIF|no ONVIF",
        "Something answers at {where}, but not as an ONVIF camera",
        "Check the port, and that ONVIF is turned on in the camera's app or settings (many "
        "cameras ship with it off).",
    ),
    _rule(
        r"did not answer as an RTSP server|not an RTSP response",
        "Something answers at {where}, but not as an RTSP camera",
        "Check the port (RTSP is usually 554) and the stream path in this camera's settings.",
    ),
    _rule(
        r"events not subscribed",
        "The camera is on the network but won't send its events",
        "Its event slots may be taken by another app, or by an earlier run of Doorstep; they "
        "free up within about 10 minutes, or at once if you restart the camera.",
    ),
    _rule(
        r"event stream ended|subscription lost",
        "Lost the camera's events; reconnecting…",
        "This happens when a camera restarts. Doorstep reconnects on its own.",
    ),
    _rule(
        r"answered a fault|HTTP \d{3} from the camera|answered \d{3}",
        "The camera reported an error",
        "Restarting the camera often clears it. If it keeps happening, download its "
        "diagnostics for a bug report.",
    ),
    _rule(
        r"not supported by the camera",
        "The camera doesn't support something Doorstep needs",
        "Update the camera's firmware, or try the RTSP driver for video only.",
    ),
    _rule(
        r"^driver error",
        "Doorstep hit a problem in the driver for this camera",
        "It keeps retrying on its own. If it persists, download the camera's diagnostics and "
        "report the problem.",
    ),
)
"""Why connecting failed: an unavailable camera's reason, a failed adoption or password check."""

DISABLED: tuple[Rule, ...] = (
    _rule(
        "^" + re.escape(DISABLED_BY_OWNER), "Disabled by the owner", "Turn it on in its settings."
    ),
    _rule(
        "^" + re.escape(DISABLED_IN_CONFIG),
        "Turned off in the config file",
        "Set enabled: true for it in config.yaml, or turn it on in its settings here.",
    ),
    _rule(
        r"driver '(?P<driver>[^']{0,40})'.{0,20}is not installed",
        "Doorstep has no driver called \u201c{driver}\u201d for this camera",
        "Install the package that provides it, or add the camera again with another driver.",
    ),
    _rule(
        r"failed to load",
        "The driver for this camera failed to load",
        "The gateway's log says why; updating Doorstep or the driver package usually fixes it.",
    ),
    _rule(
        r"invalid (configuration for the \w+ driver|driver options): (?P<detail>.*)",
        "Its settings are not valid: {detail}",
        "Correct them in its settings (or in config.yaml).",
    ),
    _rule(
        r"^unsupported: (?P<detail>.*)",
        "This camera can't work with Doorstep as it is set up: {detail}",
        "Check that ONVIF (or the protocol of its driver) is fully turned on in the camera; "
        "updating its firmware may help.",
    ),
)
"""Why a camera is disabled: by whom, or what stops it from working at all."""

STREAM: tuple[Rule, ...] = (
    _rule(
        r"unreachable",
        "Online, but its video can't be reached",
        "The camera gives a video (RTSP) address where nothing answers: check its RTSP port "
        "setting, or restart it.",
    ),
    _rule(
        r"Basic authentication",
        "Online, but its video would send the password unprotected",
        "Turn on \u201cAllow RTSP Basic\u201d in its settings only on a network you trust; "
        "better, turn on Digest authentication in the camera.",
    ),
    _rule(
        r"\b401\b|unauthori[sz]ed",
        "Online, but it refused the password for its video",
        "Some cameras keep separate permissions for video: check the user's rights in the camera.",
    ),
    _rule(
        r"no H\.?264",
        "Online, but its video isn't H.264, which Doorstep needs",
        "Set the stream's video codec to H.264 in the camera's video settings.",
    ),
    _rule(
        r".",
        "Online, but its video isn't coming through",
        "Doorstep keeps trying; the details say what went wrong.",
    ),
)
"""Why an online camera's live stream does not work (the stream hub's `last_error`)."""

_BY_STATE: Mapping[str, Plain] = {
    CameraState.ONLINE: Plain("Online"),
    CameraState.CONNECTING: Plain("Connecting…"),
    CameraState.UNAVAILABLE: Plain(
        "Can't reach the camera at {host} right now",
        "Doorstep keeps trying on its own; check that the camera is powered and on the network.",
    ),
    CameraState.NEEDS_CREDENTIALS: WRONG_PASSWORD,
    CameraState.DISABLED: Plain("Turned off", "Turn it on in its settings."),
    CameraState.STOPPED: Plain(
        "Stopped", "It starts with the gateway; after a change of its settings it restarts."
    ),
}
"""What each state says when no rule knows its reason."""

_FAILED = Plain("Doorstep couldn't use the camera at {where}", "The details say what went wrong.")


def _where(host: str, port: int | None) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"{shown}:{port}" if port else shown


def _words(plain: Plain, values: Mapping[str, str]) -> Plain:
    return Plain(
        plain.text.format_map(values), plain.hint.format_map(values) if plain.hint else None
    )


def _first(rules: tuple[Rule, ...], reason: str, values: dict[str, str]) -> Plain | None:
    for rule in rules:
        match = rule.pattern.search(reason)
        if match is not None:
            groups = {k: (v or "").strip()[:MAX_DETAIL] for k, v in match.groupdict().items()}
            return _words(Plain(rule.text, rule.hint), {**values, **groups})
    return None


@functools.lru_cache(maxsize=512)  # a pure function of a few strings, asked per camera per request
def describe(
    state: str, reason: str | None, host: str, port: int | None, stream_error: str | None = None
) -> Plain:
    """A camera's state (and its reason, and its live stream's error) in plain words."""
    values = {"host": host or "its address", "where": _where(host, port) if host else "it"}
    found: Plain | None = None
    if state == CameraState.ONLINE and stream_error:
        found = _first(STREAM, stream_error, values)
    elif state == CameraState.UNAVAILABLE and reason:
        found = _first(FAILURES, reason, values)
    elif state == CameraState.DISABLED and reason:
        found = _first(DISABLED, reason, values)
    default = _BY_STATE.get(state, Plain(state.replace("_", " ").capitalize()))
    return found or _words(default, values)


def explain_failure(reason: str, host: str, port: int | None) -> Plain:
    """Why connecting to a camera failed (adoption, a password check), in plain words."""
    values = {"host": host or "its address", "where": _where(host, port) if host else "it"}
    return _first(FAILURES, reason, values) or _words(_FAILED, values)
