"""How the audit rows of shares read (created, made, watched, ended, the home's place)."""

from __future__ import annotations

from collections.abc import Callable

from doorstep.gateway.audit.wording import Row


def _who(row: Row) -> str:
    via = row.text("via")
    client = row.text("client") or "a browser"
    if via == "link":
        return f"Someone with the link ({client})"
    return f"{row.actor} ({client})"


def _until(row: Row) -> str:
    """The share's end as "2026-12-08 10:00 UTC"."""
    text = row.text("expires_at") or "?"
    return f"{text[:16].replace('T', ' ')} UTC"


def _clips(n: int) -> str:
    return f"{n} clip{'' if n == 1 else 's'}"


def _created(row: Row) -> str:
    to = [w for w, on in (("by link", row.detail("link")),
                          ("with neighbour accounts", row.detail("recipients"))) if on]  # fmt: skip
    return (f"{row.actor} shared {_clips(len(row.detail('clips') or []))} "
            f"{' and '.join(to)} until {_until(row)}{row.ip}")  # fmt: skip


SHARE_SENTENCES: dict[str, Callable[[Row], str]] = {
    "share.create": _created,
    "share.ready": lambda r: (
        f"A share's copies were made from {_clips(len(r.detail('derivations') or []))}, "
        "each recorded with its master's hash"
    ),
    "share.failed": lambda r: "A share's copies could not all be made",
    "share.view": lambda r: f"{_who(r)} watched a share{r.ip}",
    "share.download": lambda r: f"{_who(r)} downloaded a shared clip{r.ip}",
    "share.revoke": lambda r: f"{r.actor} ended a share{r.ip}",
    "share.extend": lambda r: f"{r.actor} extended a share until {_until(r)}{r.ip}",
    "share.delete": lambda r: f"{r.actor} deleted the share “{r.text('title')}”{r.ip}",
    "share.expired": lambda r: f"The share “{r.text('title')}” expired",
    "sharing.location": lambda r: (
        f"{r.actor} set the home's location (shares show only its area){r.ip}"
    ),
}
"""Share actions → their sentence."""
