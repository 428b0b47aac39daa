"""How the audit rows of police requests read (received, refused, decided, exported,
downloaded, ended) and of the agencies the owner added."""

from __future__ import annotations

from collections.abc import Callable

from doorstep.gateway.audit.wording import Row

_CHANNELS = {"agency_account": "from its account", "signed_file": "as a signed file",
             "email": "by e-mail", "paper": "on paper"}  # fmt: skip
_VERIFIED = {"in_person": "verified in person", "email_domain": "verified by e-mail domain",
             "signed_key": "verified by its key", "unverified": "NOT verified"}  # fmt: skip


def _received(row: Row) -> str:
    channel = _CHANNELS.get(row.text("channel") or "", "")
    flags = row.detail("flags") or 0
    flagged = f", {flags} flag{'' if flags == 1 else 's'} for you" if flags else ""
    return (f"A footage request from {row.text('agency') or 'an agency'} {channel} "
            f"(case {row.text('case') or '?'}){flagged}{row.ip}")  # fmt: skip


def _refused(row: Row) -> str:
    return (f"The box refused a footage request from {row.text('agency') or 'an agency'}: "
            f"{row.text('field') or '?'}: {row.text('reason') or '?'}{row.ip}")  # fmt: skip


def _decided(row: Row) -> str:
    granted = len(row.detail("granted") or [])
    status = row.text("status") or "decided"
    if status == "declined":
        return f"{row.actor} declined a footage request{row.ip}"
    until = (row.text("hold_until") or "?")[:10]
    return (f"{row.actor} granted {granted} clip{'' if granted == 1 else 's'} of a footage "
            f"request ({status}), held until {until}{row.ip}")  # fmt: skip


def _download(row: Row) -> str:
    who = "Someone with the link" if row.text("via") == "link" else row.actor
    return f"{who} downloaded an evidence package (download {row.detail('n') or '?'}){row.ip}"


def _agency(row: Row) -> str:
    verified = _VERIFIED.get(row.text("verification") or "", "NOT verified")
    account = f", with the account {row.text('account')}" if row.text("account") else ""
    return f"{row.actor} added the agency {row.text('name') or '?'} ({verified}){account}{row.ip}"


REQUEST_SENTENCES: dict[str, Callable[[Row], str]] = {
    "request.received": _received,
    "request.refused": _refused,
    "request.decided": _decided,
    "request.expired": lambda r: "A footage request expired unanswered",
    "request.receipt": lambda r: f"{r.actor}'s consent receipt for a footage request was signed",
    "evidence.export": lambda r: (
        f"{r.actor} exported an evidence package of {r.detail('files') or '?'} file(s)"
    ),
    "evidence.ready": lambda r: "An evidence package was made and signed",
    "evidence.failed": lambda r: f"An evidence package could not be made: {r.text('reason')}",
    "evidence.retry": lambda r: (
        f"An evidence package is being made again: {r.text('reason')}{r.ip}"
    ),
    "evidence.download": _download,
    "evidence.grant_ended": lambda r: "An evidence package's download grant ended",
    "evidence.revoked": lambda r: f"{r.actor} ended an evidence package's download grant{r.ip}",
    "agency.add": _agency,
}
"""Police request actions → their sentence."""
