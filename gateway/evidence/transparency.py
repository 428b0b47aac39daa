"""The household's transparency report for a period: requests received, granted, partly
granted, declined, expired and refused by the box, by agency and by legal basis; clips and
packages handed over and their downloads. Signed with the gateway key, so it can be published
and checked."""

from __future__ import annotations

import base64
from collections import Counter
from datetime import datetime
from typing import Any

from doorstep.gateway.evidence.signed_requests import canonical
from doorstep.gateway.keys.signing import SigningKey
from doorstep.gateway.storage import PackageRecord, RequestRecord

REPORT_TYPE = "doorstep.transparency-report/1"
OUTCOMES = ("pending", "granted", "partial", "declined", "expired", "refused")


def _counts(records: list[RequestRecord]) -> dict[str, int]:
    found = Counter(r.status for r in records)
    return {"received": len(records)} | {outcome: found.get(outcome, 0) for outcome in OUTCOMES}


def report_body(
    records: list[RequestRecord], granted_clips: dict[str, int],
    packages: dict[str, list[PackageRecord]], since: datetime, until: datetime,
    generated_at: datetime, household: str,
) -> dict[str, Any]:  # fmt: skip
    """The report's content for requests received in [since, until)."""
    by_agency: dict[str, list[RequestRecord]] = {}
    by_basis: dict[str, list[RequestRecord]] = {}
    for record in records:
        by_agency.setdefault(record.agency_name, []).append(record)
        basis = str(record.form.get("legal_basis") or "unknown") if record.form else "unknown"
        by_basis.setdefault(basis, []).append(record)
    delivered = [p for r in records for p in packages.get(r.id, []) if p.state == "ready"]
    return {
        "type": REPORT_TYPE, "household": household, "since": since.isoformat(),
        "until": until.isoformat(), "generated_at": generated_at.isoformat(),
        "requests": _counts(records),
        "by_agency": [{"agency_name": name, "verification": rows[-1].verification, **_counts(rows)}
                      for name, rows in sorted(by_agency.items())],
        "by_legal_basis": [{"legal_basis": name, **_counts(rows)}
                           for name, rows in sorted(by_basis.items())],
        "clips_handed_over": sum(granted_clips.get(r.id, 0) for r in records),
        "packages_delivered": len(delivered),
        "downloads": sum(p.downloads for p in delivered),
    }  # fmt: skip


def sign_report(key: SigningKey, body: dict[str, Any]) -> dict[str, Any]:
    """The report, its Ed25519 signature over its canonical JSON, and the key's fingerprint."""
    signature = base64.b64encode(key.sign(canonical(body))).decode()
    return {"report": body, "signature": signature, "key_fingerprint": key.public.fingerprint}
