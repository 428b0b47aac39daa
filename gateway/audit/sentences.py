"""The audit log in plain words: one sentence per row ("alice watched Front door live for
2 min"), built from its action, actor, target and detail, with camera and account names.

Table-driven: `_REFUSALS` words the counted refusal rows (`RefusalAudit`), `_SENTENCES` every
other action the gateway writes; anything else gets a generic sentence that still reads. A call's
end is paired with its start (same account, camera and call id) to say how long it lasted. A row
whose detail is not what its action writes (an old or truncated row) falls back to the generic
sentence: a sentence never fails the page.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from doorstep.gateway.audit.log import AuditEntry
from doorstep.gateway.audit.refusal_words import REFUSALS as _REFUSALS
from doorstep.gateway.audit.request_sentences import REQUEST_SENTENCES
from doorstep.gateway.audit.share_sentences import SHARE_SENTENCES
from doorstep.gateway.audit.wording import (
    MACHINES,
    STATUS_WORDS,
    Names,
    Row,
    and_list,
    count_phrase,
    duration,
    possessive,
)

__all__ = ["ACTIONS", "CALL_START", "Names", "Summary", "duration", "summarize",
           "unpaired_call_ends"]  # fmt: skip

MAX_SENTENCE = 600
CALL_START, CALL_END, CALL_PREPARED = "live.start", "live.stop", "live.prepared"


@dataclass(frozen=True, slots=True)
class Summary:
    """A row's sentence, and the row it was paired with (a call's start or end), if any."""

    text: str
    related_seq: int | None = None


def _refusal(row: Row, words: tuple[str, str, str]) -> str:
    one, many, about = words
    n = int(row.number("count") or 1)
    return f"{count_phrase(n, one, many)}{about}{row.tried}{row.ip}"


def _denied(row: Row) -> str:
    n = int(row.number("count") or 1)
    status = row.entry.outcome
    why = STATUS_WORDS.get(status, f"status {status}")
    who = "" if row.entry.actor in MACHINES else f" by {row.entry.actor}"
    paths = row.detail("targets")
    tried = [p for p in paths if isinstance(p, str)] if isinstance(paths, list) else []
    what = and_list(tried) if tried else row.entry.target
    return f"{count_phrase(n, 'request', 'requests')}{who} refused ({why}){row.ip}" + (
        f": {what}" if what else ""
    )


# -- everything else: action → sentence ---------------------------------------------------------
def _user_update(row: Row) -> str:
    parts: list[str] = []
    role = row.text("role")
    if role:
        parts.append(f"changed {possessive(row.target)} role to {role}")
    disabled = row.detail("disabled")
    if disabled is True:
        parts.append(f"disabled {row.target}")
    elif disabled is False:
        parts.append(f"re-enabled {row.target}")
    cameras = row.detail("cameras")
    if isinstance(cameras, list):
        shown = [row.camera_name(c) for c in cameras if isinstance(c, str)]
        parts.append(
            f"let {row.target} see {and_list(shown)}" if shown
            else f"took away {possessive(row.target)} cameras"
        )  # fmt: skip
    return f"{row.actor} {and_list(parts) if parts else f'changed {row.target}'}{row.ip}"


def _signed_out_others(row: Row) -> str:
    n = int(row.number("sessions_revoked") or 0)
    return "" if n == 0 else f"; {n} session{'s' if n != 1 else ''} signed out"


def _password_reset(row: Row) -> str:
    then = "; they choose their own at the next sign-in" if row.detail("must_change") else ""
    return f"{row.actor} set a new password for {row.target}{row.ip}{then}{_signed_out_others(row)}"


def _adopt(row: Row) -> str:
    if row.entry.outcome != "ok":
        reason = row.text("reason")
        because = f": {reason}" if reason else ""
        return f"{row.actor} could not add the camera at {row.entry.target}{because}"
    host = row.text("host")
    return f"{row.actor} added the camera {row.target}" + (f" ({host})" if host else "") + row.ip


def _call_start(row: Row) -> str:
    if row.text("ring"):
        return f"{row.actor} answered the doorbell at {row.target}{row.ip}"
    return f"{row.actor} started watching {row.target} live{row.ip}"


def _call_end(row: Row) -> str:
    reason = row.text("reason") or ""
    if row.detail("prepared") is True:
        why = "" if reason in ("", "not answered", "hang-up") else f" ({reason})"
        return f"{possessive(row.actor)} prepared call to {row.target} closed unanswered{why}"
    ended = "" if reason in ("", "hang-up") else f" (ended: {reason})"
    if row.seconds is not None:
        return f"{row.actor} watched {row.target} live for {duration(row.seconds)}{ended}"
    return f"{possessive(row.actor)} live view of {row.target} ended" + (
        f" ({reason})" if reason else ""
    )


def _talk_end(row: Row) -> str:
    seconds = row.number("seconds")
    error = row.text("error")
    length = f" for {duration(seconds)}" if seconds is not None else ""
    return f"{row.actor} talked through {row.target}{length}" + (
        f" (camera error: {error})" if error else ""
    )


def _camera_update(row: Row) -> str:
    if row.entry.outcome != "ok":
        reason = row.text("reason")
        return f"{row.actor} could not change the camera {row.target}" + (
            f": {reason}" if reason else ""
        )
    changed = row.detail("changed")
    fields = [f for f in changed if isinstance(f, str)] if isinstance(changed, list) else []
    parts: list[str] = []
    name = row.text("name")
    if "name" in fields and name:
        parts.append(f"renamed it {name}")
    if "enabled" in fields:
        parts.append("turned it on" if row.detail("enabled") is True else "turned it off")
    stream = row.text("live_stream")
    if "live_stream" in fields and stream:
        parts.append(f"set live view to its {stream} stream")
    if "rtsp_allow_basic" in fields:
        allowed = row.detail("rtsp_allow_basic") is True
        parts.append("allowed" if allowed else "stopped allowing")
        parts[-1] += " its password to be sent in clear (RTSP Basic)"
    options = row.detail("options")
    if isinstance(options, dict):
        parts += [f"set {key} to {value}" for key, value in sorted(options.items())]
    known = {"name", "enabled", "live_stream", "rtsp_allow_basic"}
    rest = [f for f in fields if f not in known and not f.startswith("options.")]
    if rest:
        parts.append(f"changed its {and_list(rest)}")
    what = and_list(parts) if parts else "changed its settings"
    return f"{row.actor} changed the camera {row.target}: {what}{row.ip}"


def _push_subscribe(row: Row) -> str:
    label = row.text("label")
    service = row.text("service")
    where = f" on {label}" if label else " on a device"
    via = f" (through {service})" if service else ""
    return f"{row.actor} turned on phone notifications{where}{via}{row.ip}"


def _webhook(verb: str) -> Callable[[Row], str]:
    def say(row: Row) -> str:
        name = row.text("name") or row.entry.target
        host = row.text("host")
        to = f" (to {host})" if host else ""
        return f"{row.actor} {verb} the outgoing webhook {name}{to}{row.ip}"

    return say


def _webhook_update(row: Row) -> str:
    name = row.text("name") or row.entry.target
    changed = row.detail("changed")
    fields = [f for f in changed if isinstance(f, str)] if isinstance(changed, list) else []
    parts = []
    old, new = row.text("old_host"), row.text("new_host")
    if "url" in fields and new:
        parts.append(f"it now goes to {new}" + (f" instead of {old}" if old else ""))
    rest = [f for f in fields if f != "url"]
    if rest:
        parts.append(f"changed its {and_list(rest)}")
    what = f": {and_list(parts)}" if parts else ""
    return f"{row.actor} changed the outgoing webhook {name}{what}{row.ip}"


def _webhook_test(row: Row) -> str:
    name = row.text("name") or row.entry.target
    host = row.text("host")
    status = row.number("http_status")
    if row.detail("ok") is True:
        answer = "it was delivered"
    else:
        answer = f"it failed (HTTP {int(status)})" if status else "it failed"
    to = f" ({host})" if host else ""
    return f"{row.actor} sent a test to the outgoing webhook {name}{to}: {answer}"


def _recovery_code_used(row: Row) -> str:
    left = row.number("left")
    purpose = "confirm a change" if row.text("for") == "session.confirm" else "sign in"
    tail = f" ({int(left)} left)" if left is not None else ""
    return f"{row.actor} used a recovery code to {purpose}{row.ip}{tail}"


_SETTINGS_WORDS = {"mqtt": "MQTT", "live": "live view (STUN/TURN)", "rings": "doorbell ring",
                   "webhooks": "camera callback", "server": "HTTPS and host name",
                   "retention": "retention", "recording": "recording"}  # fmt: skip


def _settings_update(row: Row) -> str:
    section = row.text("section") or row.entry.target.removeprefix("settings:")
    words = _SETTINGS_WORDS.get(section, section)
    changed = row.detail("fields")
    fields = [f for f in changed if isinstance(f, str)] if isinstance(changed, list) else []
    which = f" ({', '.join(fields)})" if fields else ""
    if row.detail("reverted") is True:
        return f"{row.actor} set the {words} settings back to config.yaml's{which}{row.ip}"
    return f"{row.actor} changed the {words} settings{which}{row.ip}"


def _clips(n: int) -> str:
    return f"{n} clip" if n == 1 else f"{n} clips"


_DELETE_WHY = {"retention": "past their retention time", "space": "to free disk space",
               "owner": ""}  # fmt: skip


def _clips_deleted(row: Row) -> str:
    n = int(row.number("count") or 0)
    why = _DELETE_WHY.get(row.text("reason") or "", "")
    return f"{row.actor} deleted {_clips(n)}{' ' + why if why else ''}"


_SENTENCES: dict[str, Callable[[Row], str]] = {
    "setup": lambda r: f"{r.actor} set up Doorstep and became its owner{r.ip}",
    "login": lambda r: f"{r.actor} signed in{r.ip}",
    "logout": lambda r: f"{r.actor} signed out{r.ip}",
    "session.confirm": lambda r: f"{r.actor} re-entered their password{r.ip}",
    "user.create": lambda r: f"{r.actor} added {r.target} as {r.role_words}{r.ip}",
    "user.update": _user_update,
    "user.delete": lambda r: (
        f"{r.actor} deleted {possessive(r.target)} account{r.ip}"
        if r.named
        else f"{r.actor} deleted {r.target}{r.ip}"
    ),
    "user.password": lambda r: f"{r.actor} changed their password{r.ip}{_signed_out_others(r)}",
    "user.password.reset": _password_reset,
    "user.totp": lambda r: f"{r.actor} set up a second factor (authenticator app){r.ip}",
    "user.totp.reset": lambda r: (
        f"{r.actor} removed {possessive(r.target)} second factor{r.ip}{_signed_out_others(r)}"
    ),
    "user.recovery_codes.new": lambda r: f"{r.actor} made a new set of recovery codes{r.ip}",
    "user.recovery_codes.use": _recovery_code_used,
    "camera.adopt": _adopt,
    "camera.remove": lambda r: f"{r.actor} removed the camera {r.target}{r.ip}",
    CALL_PREPARED: lambda r: (
        f"{possessive(r.actor)} app prepared a call to {r.target} while the doorbell rang"
    ),
    CALL_START: _call_start,
    CALL_END: _call_end,
    "camera.update": _camera_update,
    "push.subscribe": _push_subscribe,
    "push.unsubscribe": lambda r: f"{r.actor} turned off phone notifications on a device{r.ip}",
    "push.settings": lambda r: (
        f"{r.actor} turned phone notifications {'on' if r.detail('enabled') is True else 'off'} "
        f"for everyone{r.ip}"
    ),
    "outgoing_webhook.create": _webhook("added"),
    "outgoing_webhook.update": _webhook_update,
    "outgoing_webhook.delete": _webhook("deleted"),
    "outgoing_webhook.rotate_secret": lambda r: (
        f"{r.actor} made a new signing secret for the outgoing webhook "
        f"{r.text('name') or r.entry.target}{r.ip}"
    ),
    "outgoing_webhook.test": _webhook_test,
    "settings.update": _settings_update,
    "talk.start": lambda r: f"{r.actor} started talking through {r.target}",
    "talk.stop": _talk_end,
    "access.denied": _denied,
    "clip.delete": _clips_deleted,
    "clip.view": lambda r: (
        f"{r.actor} watched a clip of {r.camera_name(r.text('camera') or '')}{r.ip}"
    ),
    "clip.download": lambda r: (
        f"{r.actor} downloaded a clip of {r.camera_name(r.text('camera') or '')}{r.ip}"
    ),
    "clip.hold": lambda r: f"{r.actor} held a clip ({r.text('reason')}){r.ip}",
    "clip.release": lambda r: f"{r.actor} released the hold on a clip{r.ip}",
    "clip.hold_lapsed": lambda r: f"The hold on {_clips(len(r.detail('clips')))} reached its end",
    **SHARE_SENTENCES,
    **REQUEST_SENTENCES,
}
ACTIONS = frozenset(_SENTENCES) | {action for action, _ in _REFUSALS}
"""Every action with a sentence of its own."""


def _generic(row: Row) -> str:
    action = row.entry.action.replace(".", " ").replace("_", " ") or "something"
    n = row.number("count")
    times = f" ({int(n)} times)" if n and n > 1 else ""
    about = f" ({row.target})" if row.entry.target else ""
    outcome = "" if row.entry.outcome == "ok" else f": {row.entry.outcome}"
    return f"{row.actor}: {action}{about}{outcome}{times}{row.ip}"


def _sentence(row: Row) -> str:
    """The row in words (the generic sentence when its action or detail is unfamiliar)."""
    entry = row.entry
    try:
        words = _REFUSALS.get((entry.action, entry.outcome))
        if words is not None:
            text = _refusal(row, words)
        else:
            make = _SENTENCES.get(entry.action, _generic)
            text = make(row)
    except (KeyError, TypeError, ValueError, AttributeError):
        text = _generic(row)
    return text[:MAX_SENTENCE]


def _call_key(entry: AuditEntry) -> tuple[str, str, str] | None:
    session = entry.detail.get("session")
    return (entry.actor, entry.target, session) if isinstance(session, str) and session else None


def _seconds_between(start: str, end: str) -> float | None:
    try:
        return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()
    except ValueError:
        return None


def _pairs(entries: Iterable[AuditEntry]) -> dict[int, AuditEntry]:
    """Each call end's seq → its start (the latest earlier start of the same call), and back."""
    open_calls: dict[tuple[str, str, str], AuditEntry] = {}
    pairs: dict[int, AuditEntry] = {}
    for entry in sorted(entries, key=lambda e: e.seq):
        key = _call_key(entry)
        if key is None:
            continue
        if entry.action in (CALL_START, CALL_PREPARED):
            open_calls[key] = entry  # an answered prepared call: its start replaces it
        elif entry.action == CALL_END and (start := open_calls.pop(key, None)) is not None:
            pairs[entry.seq], pairs[start.seq] = start, entry
    return pairs


def unpaired_call_ends(entries: Sequence[AuditEntry]) -> list[AuditEntry]:
    """Call ends whose start is not among `entries` (it is on an older page): look them up."""
    pairs = _pairs(entries)
    return [
        e for e in entries
        if e.action == CALL_END and e.seq not in pairs and e.detail.get("prepared") is not True
    ]  # fmt: skip


def summarize(
    entries: Sequence[AuditEntry], names: Names, earlier: Iterable[AuditEntry] = ()
) -> list[Summary]:
    """A sentence for each entry, in order; `earlier`: call starts found on older pages."""
    pairs = _pairs([*entries, *earlier])
    summaries = []
    for entry in entries:
        other = pairs.get(entry.seq)
        seconds = None
        if other is not None and entry.action == CALL_END and other.action == CALL_START:
            seconds = _seconds_between(other.at, entry.at)
        text = _sentence(Row(entry, names, seconds))
        summaries.append(Summary(text, other.seq if other is not None else None))
    return summaries
