"""Inclusion proofs: that one audit row is in the log a signed checkpoint covers, checkable by
anyone holding the proof, the checkpoint and the gateway's public key (no database)."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from doorstep.gateway.audit.log import recompute_hash
from doorstep.gateway.audit.merkle import inclusion_proof, leaf_hash, root_from_inclusion
from doorstep.gateway.audit.notes import NoteError, parse_checkpoint
from doorstep.gateway.keys.signing import VerifyKey
from doorstep.gateway.storage import AuditRow, AuditSnapshot

ENTRY_FIELDS = ("seq", "at", "actor", "action", "target", "outcome", "ip", "detail", "prev_hash")


class ProofUnavailable(LookupError):
    """No such row, or no checkpoint covers it yet."""


def make_proof(snapshot: AuditSnapshot, seq: int) -> dict[str, Any]:
    """The proof that row `seq` is in the smallest stored checkpoint covering it (blocking)."""
    row = snapshot.row(seq)
    if row is None:
        raise ProofUnavailable(f"there is no audit row {seq}")
    covering = next((c for c in snapshot.checkpoints() if c.size >= seq), None)
    if covering is None:
        raise ProofUnavailable(f"no checkpoint covers row {seq} yet")
    leaves = [leaf_hash(bytes.fromhex(h)) for h in snapshot.entry_hashes(covering.size)]
    path = inclusion_proof(seq - 1, leaves)
    return {
        "entry": {name: getattr(row, name) for name in ENTRY_FIELDS} | {"hash": row.hash},
        "tree_size": covering.size,
        "leaf_index": seq - 1,
        "audit_path": [base64.b64encode(node).decode() for node in path],
        "checkpoint": covering.note,
    }


def _entry_row(entry: dict[str, Any]) -> AuditRow:
    values = [entry[name] for name in (*ENTRY_FIELDS, "hash")]
    if not isinstance(values[0], int) or not all(isinstance(v, str) for v in values[1:]):
        raise TypeError("malformed entry")
    return AuditRow(*values)


def check_proof(doc: object, key: VerifyKey) -> list[str]:
    """What is wrong with an inclusion proof (empty: the row is in the signed log)."""
    if not isinstance(doc, dict):
        return ["the proof is not a JSON object"]
    try:
        row = _entry_row(doc["entry"])
        checkpoint = parse_checkpoint(doc["checkpoint"])
        index, size = int(doc["leaf_index"]), int(doc["tree_size"])
        path = [base64.b64decode(node, validate=True) for node in doc["audit_path"]]
        leaf = leaf_hash(bytes.fromhex(row.hash))
    except (KeyError, TypeError, ValueError, binascii.Error, NoteError) as exc:
        return [f"the proof is malformed ({type(exc).__name__})"]
    problems = []
    if recompute_hash(row) != row.hash:
        problems.append(f"audit row {row.seq}: its content does not match its hash")
    if index != row.seq - 1 or size != checkpoint.size:
        problems.append("the proof's position or size does not match its row and checkpoint")
    if not checkpoint.signed_by(key):
        problems.append(f"the checkpoint is not signed by {key.fingerprint}")
    root = root_from_inclusion(index, size, leaf, path)
    if root is None or root != checkpoint.root:
        problems.append(f"audit row {row.seq} is not in the checkpoint of {size} rows")
    return problems
