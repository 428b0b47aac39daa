"""Camera states and reasons in plain words: every state has words, the reasons the drivers, the
supervisor and the stream hub produce each get their own sentence and hint, and nothing of it
is markup."""

from __future__ import annotations

import pytest

from doorstep.gateway.cameras.status_text import (
    DISABLED,
    FAILURES,
    STREAM,
    WRONG_PASSWORD,
    describe,
    explain_failure,
)
from doorstep.gateway.devices.supervisor import DISABLED_BY_OWNER, DISABLED_IN_CONFIG
from doorstep.gateway.events import CameraState

HOST = "192.168.1.40"


def test_every_state_has_words_without_a_reason() -> None:
    words = {state: describe(state.value, None, HOST, 80) for state in CameraState}
    assert words[CameraState.ONLINE].text == "Online"
    assert words[CameraState.ONLINE].hint is None
    assert words[CameraState.CONNECTING].text == "Connecting…"
    assert words[CameraState.UNAVAILABLE].text == f"Can't reach the camera at {HOST} right now"
    assert words[CameraState.NEEDS_CREDENTIALS] == WRONG_PASSWORD
    assert words[CameraState.DISABLED].text == "Turned off"
    assert words[CameraState.STOPPED].text == "Stopped"
    for state, plain in words.items():
        assert plain.text, state
        assert "{" not in plain.text, state
        assert plain.hint is None or "{" not in plain.hint, state


# (state, raw reason as the supervisor/driver words it, the expected text)
SEEN = [
    # gateway/devices/supervisor.py and the ONVIF driver's error mapping (session.py)
    (CameraState.NEEDS_CREDENTIALS, "connecting: credentials refused", WRONG_PASSWORD.text),
    (CameraState.UNAVAILABLE,
     "DeviceUnavailable: connecting: ClientConnectorError: Cannot connect to host "
     "192.168.1.40:80 ssl:default [Connect call failed ('192.168.1.40', 80)]",
     f"Can't reach the camera at {HOST} — is it powered and on the network?"),
    (CameraState.UNAVAILABLE, "DeviceUnavailable: connecting: ClientConnectorError",
     f"Can't reach the camera at {HOST} — is it powered and on the network?"),
    (CameraState.UNAVAILABLE, "DeviceUnavailable: connecting: OSError: [Errno 113] No route to "
     "host", f"Can't reach the camera at {HOST} — is it powered and on the network?"),
    (CameraState.UNAVAILABLE, "DeviceUnavailable: connecting: ConnectionRefusedError: [Errno "
     "111] Connection refused", f"Nothing answers at {HOST}:80 — is that the camera's address "
     "and port?"),
    (CameraState.UNAVAILABLE, "DeviceUnavailable: connecting: ONVIFTimeoutError: timed out",
     f"The camera at {HOST} isn't answering — is it powered and on the network?"),
    (CameraState.UNAVAILABLE, "DeviceUnavailable: connecting: TimeoutError: ",
     f"The camera at {HOST} isn't answering — is it powered and on the network?"),
    (CameraState.UNAVAILABLE, "DeviceUnavailable: connecting: ServerDisconnectedError: Server "
     "disconnected", f"Something at {HOST}:80 hung up instead of answering as an ONVIF camera"),
    (CameraState.UNAVAILABLE, "DeviceUnavailable: pulling events: ServerDisconnectedError",
     f"Can't reach the camera at {HOST} — is it powered and on the network?"),
    (CameraState.UNAVAILABLE, "ProtocolError: connecting: HTTP 404 from the camera",
     f"Something answers at {HOST}:80, but not as an ONVIF camera"),
    (CameraState.UNAVAILABLE, "ProtocolError: connecting: unusable answer (XMLSyntaxError)",
     f"Something answers at {HOST}:80, but not as an ONVIF camera"),
    (CameraState.UNAVAILABLE, "ProtocolError: the camera listed no services",
     f"Something answers at {HOST}:80, but not as an ONVIF camera"),
    (CameraState.UNAVAILABLE, "ProtocolError: the camera pointed its stream at 10.0.0.9, not "
     "192.168.1.40; refused", "The camera handed out an address that is not its own, so "
     "Doorstep won't follow it"),
    (CameraState.UNAVAILABLE, "ProtocolError: the camera gave an empty service address",
     "The camera handed out an address that is not its own, so Doorstep won't follow it"),
    (CameraState.UNAVAILABLE, "ProtocolError: events not subscribed: subscribing to events: "
     "the camera answered a fault: too many subscriptions",
     "The camera is on the network but won't send its events"),
    (CameraState.UNAVAILABLE, "DeviceUnavailable: event stream ended",
     "Lost the camera's events; reconnecting…"),
    (CameraState.UNAVAILABLE, "ProtocolError: connecting: the camera answered a fault: oops",
     "The camera reported an error"),
    (CameraState.UNAVAILABLE, "ProtocolError: connecting: HTTP 500 from the camera",
     "The camera reported an error"),
    (CameraState.UNAVAILABLE, "driver error KeyError: 'x'",
     "Doorstep hit a problem in the driver for this camera"),
    (CameraState.UNAVAILABLE, "DeviceUnavailable: connecting: gaierror: [Errno -2] Name or "
     "service not known", f"Can't find a device called {HOST} on the network"),
    # the RTSP driver (drivers/rtsp)
    (CameraState.UNAVAILABLE, "DeviceUnavailable: cannot reach 192.168.1.40:554: [Errno 111] "
     "Connect call failed ('192.168.1.40', 554)",
     f"Nothing answers at {HOST}:80 — is that the camera's address and port?"),
    (CameraState.UNAVAILABLE, "DeviceUnavailable: cannot reach 192.168.1.40:554: [Errno 113] "
     "Connect call failed ('192.168.1.40', 554)",
     f"Can't reach the camera at {HOST} — is it powered and on the network?"),
    (CameraState.UNAVAILABLE, "DeviceUnavailable: no RTSP answer from 192.168.1.40:554: ",
     f"The camera at {HOST} isn't answering — is it powered and on the network?"),
    (CameraState.UNAVAILABLE, "ProtocolError: 192.168.1.40:554 did not answer as an RTSP "
     "server", f"Something answers at {HOST}:80, but not as an RTSP camera"),
    # disabled: by whom, or why it cannot work
    (CameraState.DISABLED, DISABLED_BY_OWNER, "Disabled by the owner"),
    (CameraState.DISABLED, DISABLED_IN_CONFIG, "Turned off in the config file"),
    (CameraState.DISABLED, "driver 'hikvision' is not installed",
     "Doorstep has no driver called \u201chikvision\u201d for this camera"),
    (CameraState.DISABLED, "driver 'x' failed to load (ImportError: no module)",
     "The driver for this camera failed to load"),
    (CameraState.DISABLED, "invalid configuration for the onvif driver: options.events: Input "
     "should be 'auto', 'push' or 'pullpoint'", "Its settings are not valid: options.events: "
     "Input should be 'auto', 'push' or 'pullpoint'"),
    (CameraState.DISABLED, "unsupported: invalid driver options: main_path: must be an "
     "absolute RTSP path such as /stream1", "Its settings are not valid: main_path: must be an "
     "absolute RTSP path such as /stream1"),
    (CameraState.DISABLED, "unsupported: connecting: not supported by the camera",
     "This camera can't work with Doorstep as it is set up: connecting: not supported by the "
     "camera"),
]  # fmt: skip


@pytest.mark.parametrize(("state", "reason", "text"), SEEN)
def test_the_reasons_drivers_give_read_as_sentences(
    state: CameraState, reason: str, text: str
) -> None:
    plain = describe(state.value, reason, HOST, 80)
    assert plain.text == text
    assert plain.hint, "every reason says what to do"
    assert "{" not in plain.text + plain.hint


def test_every_rule_is_reached_by_some_reason() -> None:
    """No rule is shadowed by an earlier one: each has a reason above that it answers."""
    texts = {text for _, _, text in SEEN}
    expected = {r.text.replace("{host}", HOST).replace("{where}", f"{HOST}:80") for r in FAILURES}
    expected |= {r.text for r in DISABLED if "{" not in r.text}
    missing = {t for t in expected if t not in texts}
    # Shown by adoption only: a supervised camera's "not supported" is an `unsupported:` reason.
    assert missing <= {"The camera doesn't support something Doorstep needs"}, missing


@pytest.mark.parametrize(
    ("error", "text"),
    [
        ("camera stream unreachable at 192.168.1.40:554: connection refused (nothing listens on "
         "that port)", "Online, but its video can't be reached"),
        ("the camera asked for Basic authentication, which sends the password in clear; enable "
         "rtsp_allow_basic for this camera to accept it",
         "Online, but its video would send the password unprotected"),
        ("DESCRIBE answered 401 Unauthorized", "Online, but it refused the password for its video"),
        ("the stream has no H.264 video",
         "Online, but its video isn't H.264, which Doorstep needs"),
        ("no video frame for 10 s", "Online, but its video isn't coming through"),
    ],
)  # fmt: skip
def test_an_online_camera_whose_video_fails_says_so(error: str, text: str) -> None:
    assert describe("online", None, HOST, 80, stream_error=error).text == text
    assert text in {rule.text for rule in STREAM}


def test_an_unknown_reason_falls_back_to_the_state_and_adoption_to_a_general_sentence() -> None:
    assert describe("unavailable", "Zorglub: bzzt", HOST, None).text == (
        f"Can't reach the camera at {HOST} right now"
    )
    assert describe("disabled", "something new", HOST, None).text == "Turned off"
    failed = explain_failure("Zorglub: bzzt", "fe80::1", 8080)
    assert failed.text == "Doorstep couldn't use the camera at [fe80::1]:8080"
    assert explain_failure("no answer within 20 s", HOST, None).text.startswith(
        f"The camera at {HOST} isn't answering"
    )


def test_quoted_reason_pieces_are_trimmed_and_stay_text() -> None:
    long = "unsupported: " + "<b>x</b>" * 100
    plain = describe("disabled", long, HOST, 80)
    assert len(plain.text) < 250
    # Text for the UI to render as text: what the camera said is kept as written, never parsed.
    assert "<b>x</b>" in plain.text
