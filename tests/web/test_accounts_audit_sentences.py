"""One sentence per audit action the gateway writes (and the refusals it counts), from rows
shaped the way their writers shape them; unknown or odd rows still read."""

from __future__ import annotations

from typing import Any

import pytest

from doorstep.gateway.audit import AuditEntry
from doorstep.gateway.audit.sentences import (
    ACTIONS,
    Names,
    Summary,
    duration,
    summarize,
    unpaired_call_ends,
)

NAMES = Names(cameras={"front": "Front door", "garden": "Garden"}, users={1: "alice", 2: "rita"})
HOME = "192.168.1.20"


def entry(action: str, actor: str = "alice", target: str = "", outcome: str = "ok",
          ip: str = HOME, detail: dict[str, Any] | None = None, seq: int = 1,
          at: str = "2026-12-01T10:00:00.000000Z") -> AuditEntry:  # fmt: skip
    return AuditEntry(seq, at, actor, action, target, outcome, ip, detail or {}, "", "")


def say(*entries: AuditEntry) -> list[str]:
    return [s.text for s in summarize(entries, NAMES)]


CASES = [
    (entry("setup", target="user:1"), "alice set up Doorstep and became its owner from " + HOME),
    (entry("login"), f"alice signed in from {HOME}"),
    (entry("logout"), f"alice signed out from {HOME}"),
    (entry("session.confirm"), f"alice re-entered their password from {HOME}"),
    (entry("user.create", target="user:2", detail={"role": "resident", "username": "rita"}),
     f"alice added rita as a resident from {HOME}"),
    (entry("user.update", target="user:2", detail={"role": "neighbour", "cameras": []}),
     f"alice changed rita's role to neighbour and took away rita's cameras from {HOME}"),
    (entry("user.update", target="user:2", detail={"disabled": True}),
     f"alice disabled rita from {HOME}"),
    (entry("user.update", target="user:2", detail={"cameras": ["front"]}),
     f"alice let rita see Front door from {HOME}"),
    (entry("user.delete", target="user:7", detail={"username": "tom"}),
     f"alice deleted tom's account from {HOME}"),
    (entry("user.password", target="user:1", detail={"sessions_revoked": 2}),
     f"alice changed their password from {HOME}; 2 sessions signed out"),
    (entry("user.password.reset", target="user:2",
           detail={"sessions_revoked": 1, "must_change": True, "username": "rita"}),
     f"alice set a new password for rita from {HOME}; they choose their own at the next "
     "sign-in; 1 session signed out"),
    (entry("user.password.reset", actor="cli", ip="", target="user:1",
           detail={"sessions_revoked": 0, "must_change": False}),
     "The console set a new password for alice"),
    (entry("user.totp", target="user:1", detail={"recovery_codes": 10}),
     f"alice set up a second factor (authenticator app) from {HOME}"),
    (entry("user.totp.reset", actor="cli", ip="", target="user:1",
           detail={"sessions_revoked": 3}),
     "The console removed alice's second factor; 3 sessions signed out"),
    (entry("user.recovery_codes.new", target="user:1", detail={"codes": 10}),
     f"alice made a new set of recovery codes from {HOME}"),
    (entry("user.recovery_codes.use", target="user:1", detail={"left": 7, "for": "login"}),
     f"alice used a recovery code to sign in from {HOME} (7 left)"),
    (entry("camera.adopt", target="camera:garden", detail={"host": "192.168.1.40", "port": 80}),
     f"alice added the camera Garden (192.168.1.40) from {HOME}"),
    (entry("camera.adopt", target="192.168.1.41:80", outcome="failed",
           detail={"reason": "wrong password"}),
     "alice could not add the camera at 192.168.1.41:80: wrong password"),
    (entry("camera.remove", target="camera:garden", detail={"record_kept_for_clips": False}),
     f"alice removed the camera Garden from {HOME}"),
    (entry("live.start", target="camera:front", detail={"session": "abcd1234"}),
     f"alice started watching Front door live from {HOME}"),
    (entry("live.stop", target="camera:front",
           detail={"session": "abcd1234", "frames": 9, "reason": "connection failed"}),
     "alice's live view of Front door ended (connection failed)"),
    (entry("live.start", target="camera:front", detail={"session": "abcd1234", "ring": "r1r2r3r4"}),
     f"alice answered the doorbell at Front door from {HOME}"),
    (entry("live.prepared", target="camera:front",
           detail={"session": "abcd1234", "ring": "r1r2r3r4"}),
     "alice's app prepared a call to Front door while the doorbell rang"),
    (entry("live.stop", target="camera:front",
           detail={"session": "abcd1234", "frames": 0, "reason": "not answered", "prepared": True}),
     "alice's prepared call to Front door closed unanswered"),
    (entry("talk.start", target="camera:front", detail={"session": "abcd1234", "codec": "PCMU"}),
     "alice started talking through Front door"),
    (entry("talk.stop", target="camera:front",
           detail={"session": "abcd1234", "seconds": 12.4, "frames": 600, "reason": "released"}),
     "alice talked through Front door for 12 s"),
    (entry("access.denied", actor="anonymous", target="GET /api/users", outcome="401",
           ip="192.168.1.77", detail={"count": 3, "tried": ["anonymous"]}),
     "3 requests refused (not signed in) from 192.168.1.77: GET /api/users"),
    (entry("access.denied", actor="rita", target="GET /api/audit", outcome="403",
           detail={"count": 1, "tried": ["rita"]}),
     f"A request by rita refused (not allowed) from {HOME}: GET /api/audit"),
    (entry("camera.update", target="camera:front",
           detail={"changed": ["name", "enabled", "live_stream"], "name": "Porch",
                   "enabled": False, "live_stream": "sub"}),
     "alice changed the camera Front door: renamed it Porch, turned it off and set live view "
     f"to its sub stream from {HOME}"),
    (entry("camera.update", target="camera:garden", detail={"changed": ["options.doorbell_input"],
           "options": {"doorbell_input": "2"}}),
     f"alice changed the camera Garden: set doorbell_input to 2 from {HOME}"),
    (entry("camera.update", target="camera:front", outcome="failed",
           detail={"reason": "the camera has no sub stream", "fields": ["live_stream"]}),
     "alice could not change the camera Front door: the camera has no sub stream"),
    (entry("push.subscribe", target="push:4",
           detail={"service": "fcm.googleapis.com", "label": "Pixel 8"}),
     f"alice turned on phone notifications on Pixel 8 (through fcm.googleapis.com) from {HOME}"),
    (entry("push.unsubscribe", target="push:4"),
     f"alice turned off phone notifications on a device from {HOME}"),
    (entry("push.settings", target="push", detail={"enabled": False}),
     f"alice turned phone notifications off for everyone from {HOME}"),
    (entry("settings.update", target="settings:discovery",
           detail={"section": "discovery", "fields": ["targets", "interfaces"]}),
     f"alice changed the discovery settings (targets, interfaces) from {HOME}"),
    (entry("settings.update", target="settings:mqtt",
           detail={"section": "mqtt", "fields": ["host"], "reverted": True}),
     f"alice set the MQTT settings back to config.yaml's (host) from {HOME}"),
    (entry("outgoing_webhook.create", target="outgoing_webhook:1",
           detail={"name": "ntfy", "host": "ntfy.lan", "kinds": ["ring"], "cameras": [],
                   "enabled": True}),
     f"alice added the outgoing webhook ntfy (to ntfy.lan) from {HOME}"),
    (entry("outgoing_webhook.update", target="outgoing_webhook:1",
           detail={"name": "ntfy", "changed": ["url", "kinds"], "old_host": "ntfy.lan",
                   "new_host": "ntfy.example.net"}),
     "alice changed the outgoing webhook ntfy: it now goes to ntfy.example.net instead of "
     f"ntfy.lan and changed its kinds from {HOME}"),
    (entry("outgoing_webhook.delete", target="outgoing_webhook:1",
           detail={"name": "ntfy", "host": "ntfy.lan"}),
     f"alice deleted the outgoing webhook ntfy (to ntfy.lan) from {HOME}"),
    (entry("outgoing_webhook.rotate_secret", target="outgoing_webhook:1", detail={"name": "ntfy"}),
     f"alice made a new signing secret for the outgoing webhook ntfy from {HOME}"),
    (entry("outgoing_webhook.test", target="outgoing_webhook:1",
           detail={"name": "ntfy", "host": "ntfy.lan", "ok": False, "http_status": 500}),
     "alice sent a test to the outgoing webhook ntfy (ntfy.lan): it failed (HTTP 500)"),
    (entry("clip.view", target="clip:abc", detail={"camera": "front"}),
     f"alice watched a clip of Front door from {HOME}"),
    (entry("clip.download", target="clip:abc", detail={"camera": "garden"}),
     f"alice downloaded a clip of Garden from {HOME}"),
    (entry("clip.hold", target="clip:abc", detail={"reason": "parcel theft", "until": None}),
     f"alice held a clip (parcel theft) from {HOME}"),
    (entry("clip.release", target="clip:abc", detail={"holds": 1}),
     f"alice released the hold on a clip from {HOME}"),
    (entry("clip.delete", actor="retention", ip="",
           detail={"reason": "retention", "count": 12, "clips": ["a", "b"]}),
     "Clip retention deleted 12 clips past their retention time"),
    (entry("clip.delete", detail={"reason": "owner", "count": 1, "clips": ["a"]}),
     "alice deleted 1 clip"),
    (entry("clip.hold_lapsed", actor="retention", ip="", detail={"clips": ["a", "b"]}),
     "The hold on 2 clips reached its end"),
    # Shares.
    (entry("share.create", target="share:s1", detail={"clips": ["a", "b"], "link": True,
           "recipients": [3], "expires_at": "2026-12-08T10:00:00+00:00"}),
     f"alice shared 2 clips by link and with neighbour accounts until 2026-12-08 10:00 UTC "
     f"from {HOME}"),
    (entry("share.ready", actor="gateway", ip="", detail={"derivations": [{}], "failed": []}),
     "A share's copies were made from 1 clip, each recorded with its master's hash"),
    (entry("share.failed", actor="gateway", ip="", detail={"failed": ["gone"]}),
     "A share's copies could not all be made"),
    (entry("share.view", actor="anonymous", detail={"via": "link", "client": "Chrome on Android"}),
     f"Someone with the link (Chrome on Android) watched a share from {HOME}"),
    (entry("share.download", actor="ned", detail={"via": "account", "client": "Firefox on Linux"}),
     f"ned (Firefox on Linux) downloaded a shared clip from {HOME}"),
    (entry("share.revoke", target="share:s1"), f"alice ended a share from {HOME}"),
    (entry("share.extend", detail={"expires_at": "2026-12-20T10:00:00+00:00"}),
     f"alice extended a share until 2026-12-20 10:00 UTC from {HOME}"),
    (entry("share.delete", detail={"title": "Parcel taken"}),
     f"alice deleted the share “Parcel taken” from {HOME}"),
    (entry("share.expired", actor="gateway", ip="", detail={"title": "Parcel taken"}),
     "The share “Parcel taken” expired"),
    (entry("sharing.location", detail={"cell": "881969c9b7fffff", "label": "Canal ring"}),
     f"alice set the home's location (shares show only its area) from {HOME}"),
    (entry("share.refused", actor="anonymous", outcome="denied",
           detail={"count": 3, "tried": ["anonymous"]}),
     f"3 refused share links (unknown or ended) from {HOME}"),
    # The counted refusals (RefusalAudit rows: count, tried, first, last).
    (entry("login", actor="bob", outcome="failed", ip="192.168.1.77",
           detail={"count": 5, "tried": ["bob"]}),
     "5 failed sign-ins for bob from 192.168.1.77"),
    (entry("login", actor="anonymous", outcome="failed", ip="192.168.1.77",
           detail={"count": 40, "tried": ["bob", "carol", "dave", "erin", "frank"]}),
     "40 failed sign-ins for bob, carol, dave, erin, frank and maybe others from 192.168.1.77"),
    (entry("login", actor="alice", outcome="failed_totp", detail={"count": 1, "tried": ["alice"]}),
     f"A wrong second-factor code at sign-in for alice from {HOME}"),
    (entry("login", actor="alice", outcome="failed_recovery_code",
           detail={"count": 2, "tried": ["alice"]}),
     f"2 wrong recovery codes at sign-in for alice from {HOME}"),
    (entry("login", actor="bob", outcome="throttled", detail={"count": 9, "tried": ["bob"]}),
     f"9 sign-in attempts refused (too many tries) for bob from {HOME}"),
    (entry("session.confirm", outcome="failed", detail={"count": 2, "tried": ["alice"]}),
     f"2 wrong passwords confirming a change for alice from {HOME}"),
    (entry("session.confirm", outcome="failed_totp", detail={"count": 1, "tried": ["alice"]}),
     f"A wrong second-factor code confirming a change for alice from {HOME}"),
    (entry("session.confirm", outcome="failed_recovery_code",
           detail={"count": 1, "tried": ["alice"]}),
     f"A wrong recovery code confirming a change for alice from {HOME}"),
    (entry("session.confirm", outcome="throttled", detail={"count": 4, "tried": ["alice"]}),
     f"4 attempts refused (too many tries) confirming a change for alice from {HOME}"),
    (entry("user.password", outcome="failed", detail={"count": 1, "tried": ["alice"]}),
     f"A wrong current password changing the password for alice from {HOME}"),
    (entry("user.password", outcome="throttled", detail={"count": 3, "tried": ["alice"]}),
     f"3 attempts refused (too many tries) changing the password for alice from {HOME}"),
    (entry("setup", actor="anonymous", outcome="denied",
           detail={"count": 2, "tried": ["anonymous"]}),
     f"2 set-up attempts with a wrong token from {HOME}"),
    (entry("request.received", actor="springfield", target="request:r1",
           detail={"channel": "agency_account", "agency": "Springfield PD", "case": "24-0117",
                   "flags": 2, "sha256": "ab"}),
     f"A footage request from Springfield PD from its account (case 24-0117), 2 flags for you"
     f" from {HOME}"),
    (entry("request.refused", actor="springfield", outcome="refused",
           detail={"channel": "agency_account", "agency": "Springfield PD", "field": "window",
                   "reason": "a window is at most 12 hours"}),
     f"The box refused a footage request from Springfield PD: window: a window is at most 12 "
     f"hours from {HOME}"),
    (entry("request.decided", detail={"status": "partial", "granted": ["F1"], "declined": 1,
                                      "hold_until": "2027-12-03T10:00:00+00:00"}),
     f"alice granted 1 clip of a footage request (partial), held until 2027-12-03 from {HOME}"),
    (entry("request.decided", detail={"status": "declined", "granted": [], "declined": 2}),
     f"alice declined a footage request from {HOME}"),
    (entry("request.expired", actor="gateway"), "A footage request expired unanswered"),
    (entry("request.receipt", detail={"granted": 1}),
     "alice's consent receipt for a footage request was signed"),
    (entry("evidence.export", detail={"files": 2}),
     "alice exported an evidence package of 2 file(s)"),
    (entry("evidence.ready", actor="gateway"), "An evidence package was made and signed"),
    (entry("evidence.failed", actor="gateway", outcome="failed",
           detail={"reason": "clip F1 is gone"}),
     "An evidence package could not be made: clip F1 is gone"),
    (entry("evidence.retry", actor="gateway",
           detail={"reason": "the gateway stopped while it was being made"}),
     f"An evidence package is being made again: the gateway stopped while it was being made "
     f"from {HOME}"),
    (entry("evidence.download", actor="springfield", detail={"via": "account", "n": 1}),
     f"springfield downloaded an evidence package (download 1) from {HOME}"),
    (entry("evidence.download", actor="anonymous", detail={"via": "link", "n": 2}),
     f"Someone with the link downloaded an evidence package (download 2) from {HOME}"),
    (entry("evidence.grant_ended", actor="gateway"),
     "An evidence package's download grant ended"),
    (entry("evidence.revoked"), f"alice ended an evidence package's download grant from {HOME}"),
    (entry("agency.add", detail={"name": "Springfield PD", "verification": "unverified",
                                 "account": "springfield"}),
     f"alice added the agency Springfield PD (NOT verified), with the account springfield"
     f" from {HOME}"),
    (entry("evidence.refused", actor="county", outcome="denied",
           detail={"count": 3, "tried": ["county"]}),
     f"3 refused looks at requests or packages (not the agency's) for county from {HOME}"),
    (entry("setup", actor="anonymous", outcome="throttled",
           detail={"count": 6, "tried": ["anonymous"]}),
     f"6 set-up attempts refused (too many tries) from {HOME}"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("row", "expected"), CASES, ids=[f"{r.action}-{r.outcome}" for r, _ in CASES]
)
def test_each_action_reads_as_a_sentence(row: AuditEntry, expected: str) -> None:
    assert say(row) == [expected]


def test_every_action_with_a_sentence_has_a_case_here() -> None:
    assert {row.action for row, _ in CASES} == set(ACTIONS)


def test_a_call_end_paired_with_its_start_says_how_long_it_was() -> None:
    start = entry("live.start", target="camera:front", detail={"session": "abcd1234"}, seq=4,
                  at="2026-12-01T10:00:00.000000Z")  # fmt: skip
    other = entry("live.start", target="camera:front", detail={"session": "ffff0000"}, seq=5,
                  at="2026-12-01T10:00:30.000000Z")  # fmt: skip
    end = entry("live.stop", target="camera:front", seq=9, at="2026-12-01T10:02:05.000000Z",
                detail={"session": "abcd1234", "frames": 3000, "reason": "hang-up"})  # fmt: skip
    summaries = summarize([end, other, start], NAMES)  # newest first, as the API reads them
    assert [s.text for s in summaries] == [
        "alice watched Front door live for 2 min",
        f"alice started watching Front door live from {HOME}",
        f"alice started watching Front door live from {HOME}",
    ]
    assert [s.related_seq for s in summaries] == [4, None, 9]
    revoked = entry("live.stop", target="camera:front", seq=9, at="2026-12-01T10:00:40.000000Z",
                    detail={"session": "abcd1234", "reason": "access revoked"})  # fmt: skip
    assert [s.text for s in summarize([revoked], NAMES, earlier=[start])] == [
        "alice watched Front door live for 40 s (ended: access revoked)"
    ]


def test_a_prepared_call_pairs_with_its_answer_or_closes_unanswered() -> None:
    prepared = entry("live.prepared", target="camera:front", seq=1,
                     detail={"session": "abcd1234", "ring": "r1"})  # fmt: skip
    answered = entry("live.start", target="camera:front", seq=2, at="2026-12-01T10:00:05.000000Z",
                     detail={"session": "abcd1234", "ring": "r1", "prepared": True})  # fmt: skip
    end = entry("live.stop", target="camera:front", seq=3, at="2026-12-01T10:00:50.000000Z",
                detail={"session": "abcd1234", "frames": 900, "reason": "hang-up"})  # fmt: skip
    summaries = summarize([end, answered, prepared], NAMES)
    assert summaries[0] == Summary("alice watched Front door live for 45 s", 2)
    assert summaries[1].text == f"alice answered the doorbell at Front door from {HOME}"
    closed = {"session": "abcd1234", "reason": "not answered", "prepared": True}
    unanswered = entry("live.stop", target="camera:front", seq=3, detail=closed)
    assert summarize([unanswered, prepared], NAMES)[0] == Summary(
        "alice's prepared call to Front door closed unanswered", 1
    )
    assert unpaired_call_ends([unanswered]) == []  # nothing to look up on older pages


def test_unknown_actions_and_odd_rows_still_read() -> None:
    assert say(entry("backup.create", target="backup:nightly")) == [
        f"alice: backup create (backup:nightly) from {HOME}"
    ]
    assert say(entry("camera.settings", outcome="failed", ip="")) == [
        "alice: camera settings: failed"
    ]
    # A row whose detail is not what its writer writes (an old or truncated row).
    assert say(entry("user.update", target="user:2", detail={"truncated": "{...}"})) == [
        f"alice changed rita from {HOME}"
    ]
    assert say(entry("login", outcome="failed", detail={"count": "many", "tried": "x"})) == [
        f"A failed sign-in for alice from {HOME}"
    ]
    assert say(entry("user.delete", target="user:42")) == [f"alice deleted account #42 from {HOME}"]


def test_durations() -> None:
    assert [duration(s) for s in (0.2, 40, 61, 119, 3600, 3900)] == [
        "under a second", "40 s", "1 min", "2 min", "1 h", "1 h 5 min",
    ]  # fmt: skip
