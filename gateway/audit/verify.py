"""The whole audit check (blocking; run it in a thread or the CLI): the hash chain, every stored
checkpoint's signature and root, and checkpoints the owner saved off the box.

It detects an edited row (chain), a re-computed chain (a signed root no longer matches), a cut
tail (a checkpoint covers rows that are gone) and a swapped key (a checkpoint not signed by the
pinned key), and names the first bad row of each.
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from doorstep.gateway.audit.log import GENESIS, recompute_hash
from doorstep.gateway.audit.merkle import HASH_SIZE, Accumulator, leaf_hash, tree_root
from doorstep.gateway.audit.notes import Checkpoint, NoteError, parse_checkpoint
from doorstep.gateway.keys.signing import VerifyKey
from doorstep.gateway.storage import AuditSnapshot, open_snapshot


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong, and the first row it makes suspect (None: not about one row)."""

    seq: int | None
    text: str


@dataclass(slots=True)
class AuditReport:
    """What the check found."""

    rows: int = 0
    checkpoints: int = 0
    saved: int = 0
    key_fingerprint: str = ""
    newest_checkpoint: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Nothing wrong."""
        return not self.problems

    @property
    def first_bad_seq(self) -> int | None:
        """The lowest row any problem names."""
        seqs = [p.seq for p in self.problems if p.seq is not None]
        return min(seqs) if seqs else None

    @property
    def reason(self) -> str:
        """The problem behind `first_bad_seq` (or the first one)."""
        first = self.first_bad_seq
        for problem in self.problems:
            if problem.seq == first:
                return problem.text
        return self.problems[0].text if self.problems else ""


@dataclass(frozen=True, slots=True)
class _Claim:
    """A checkpoint to hold the log to: stored on the box or saved by the owner."""

    label: str
    note: Checkpoint
    stored_root: str | None = None


def _claims(
    snapshot: AuditSnapshot, saved: Sequence[Checkpoint], report: AuditReport
) -> list[_Claim]:
    claims: list[_Claim] = []
    previous_time = ""
    for record in snapshot.checkpoints():
        try:
            note = parse_checkpoint(record.note)
        except NoteError as exc:
            report.problems.append(Problem(None, f"stored checkpoint of {record.size} rows: {exc}"))
            continue
        if note.size != record.size or note.root.hex() != record.root:
            report.problems.append(
                Problem(None, f"stored checkpoint of {record.size} rows: its note says otherwise")
            )
        if note.time < previous_time:
            report.problems.append(
                Problem(
                    None, f"stored checkpoint of {record.size} rows is older than the one before"
                )
            )
        previous_time = note.time
        claims.append(_Claim(f"stored checkpoint of {note.size} rows", note, record.root))
    report.checkpoints = len(claims)
    report.newest_checkpoint = max((c.note.size for c in claims), default=0)
    claims += [_Claim(f"saved checkpoint of {note.size} rows", note) for note in saved]
    report.saved = len(saved)
    return claims


def verify_snapshot(
    snapshot: AuditSnapshot, key: VerifyKey | None, saved: Sequence[Checkpoint] = ()
) -> AuditReport:
    """Check the log in `snapshot` against `key` (the pinned key; None: checkpoints unchecked
    for want of one, said so) and the owner's `saved` checkpoints."""
    report = AuditReport(key_fingerprint=key.fingerprint if key else "")
    claims = _claims(snapshot, saved, report)
    by_size: dict[int, list[_Claim]] = {}
    for claim in claims:
        by_size.setdefault(claim.note.size, []).append(claim)
    acc, leaves = Accumulator(), bytearray()
    previous, chain_ok = GENESIS, True
    vouched = 0  # rows a checkpoint signed by the pinned key matched
    for row in snapshot.rows():
        expected = acc.size + 1
        if chain_ok and row.seq != expected:
            report.problems.append(Problem(expected, f"row {expected} is missing"))
            chain_ok = False
        elif chain_ok and row.prev_hash != previous:
            report.problems.append(Problem(
                row.seq - 1,
                f"row {row.seq} does not link to row {row.seq - 1}: one of the two was changed",
            ))  # fmt: skip
            chain_ok = False
        elif chain_ok and recompute_hash(row) != row.hash:
            report.problems.append(Problem(row.seq, f"row {row.seq}: its content was changed"))
            chain_ok = False
        previous = row.hash
        leaf = leaf_hash(bytes.fromhex(row.hash))
        acc.append(leaf)
        leaves += leaf
        for claim in by_size.get(acc.size, ()):
            if _check_claim(claim, acc.root(), key, vouched, snapshot, leaves, report):
                vouched = max(vouched, acc.size)
    report.rows = acc.size
    for claim in claims:
        if claim.note.size > acc.size:
            report.problems.append(Problem(
                acc.size + 1,
                f"the log ends at row {acc.size}, but the {claim.label} covers "
                f"{claim.note.size}: rows {acc.size + 1}–{claim.note.size} were removed",
            ))  # fmt: skip
    if key is None and claims:
        report.problems.append(Problem(None, "no key to check the checkpoints' signatures with"))
    return report


def _check_claim(
    claim: _Claim,
    root: bytes,
    key: VerifyKey | None,
    vouched: int,
    snapshot: AuditSnapshot,
    leaves: bytearray,
    report: AuditReport,
) -> bool:
    """Hold the log's first `size` rows to one checkpoint; True when it vouches for them."""
    size = claim.note.size
    if key is not None and not claim.note.signed_by(key):
        ids = ", ".join(claim.note.key_ids()) or "none"
        report.problems.append(Problem(
            vouched + 1,
            f"the {claim.label} is not signed by the pinned key {key.fingerprint} (signed by key "
            f"id {ids}; this key's id is {key.note_key_id(claim.note.origin).hex()}): the "
            "signing key was swapped, or the checkpoint is not this gateway's",
        ))  # fmt: skip
        return False
    if hmac.compare_digest(claim.note.root, root):
        return key is not None
    first = _first_changed(snapshot, claim.note.root, size, leaves)
    if first is None:
        report.problems.append(Problem(
            vouched + 1,
            f"rows {vouched + 1}–{size} do not match the {claim.label} (the chain was re-computed)",
        ))  # fmt: skip
    else:
        report.problems.append(Problem(
            first,
            f"row {first} is not the row the {claim.label} signed (the chain from it on was "
            "re-computed)",
        ))  # fmt: skip
    return False


def _first_changed(
    snapshot: AuditSnapshot, root: bytes, size: int, leaves: bytearray
) -> int | None:
    """The first row whose entry hash differs from what the checkpoints recorded, when their
    recorded batches reproduce the signed `root`; None when they do not (they were altered too)."""
    recorded = bytearray()
    for record in snapshot.checkpoints():
        if record.size > size:
            break
        recorded += snapshot.leaves(record.size)
    if len(recorded) != size * HASH_SIZE:
        return None
    batch = [bytes(recorded[i : i + HASH_SIZE]) for i in range(0, len(recorded), HASH_SIZE)]
    if tree_root(batch) != root:
        return None
    for index, leaf in enumerate(batch):
        if leaf != leaves[index * HASH_SIZE : (index + 1) * HASH_SIZE]:
            return index + 1
    return None


def verify_database(
    path: Path, key: VerifyKey | None, saved: Sequence[Checkpoint] = ()
) -> AuditReport:
    """`verify_snapshot` on a database file, in one consistent read (blocking)."""
    with open_snapshot(path) as snapshot:
        return verify_snapshot(snapshot, key, saved)
