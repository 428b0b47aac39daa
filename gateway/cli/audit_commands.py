"""`doorstep audit verify | checkpoint | proof | key`: check the audit log offline (read-only,
also while the gateway runs), sign a checkpoint now, prove one row, show the signing key."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

from doorstep.gateway.audit.notes import Checkpoint, NoteError, origin_for, parse_checkpoint
from doorstep.gateway.audit.proofs import ProofUnavailable, make_proof
from doorstep.gateway.audit.verify import AuditReport, Problem, verify_database
from doorstep.gateway.auth.wiring import open_accounts
from doorstep.gateway.cli.admin import EXIT_CONFIG, offline_config
from doorstep.gateway.keys.signing import VerifyKey, public_key_of
from doorstep.gateway.storage import DB_FILENAME, StorageError, open_snapshot


def audit_command(args: argparse.Namespace) -> int:
    """Dispatch `doorstep audit …`."""
    config = offline_config(args)
    if config is None:
        return EXIT_CONFIG
    data_dir = config.storage.data_dir
    if args.audit_command == "checkpoint":
        return asyncio.run(_checkpoint(data_dir))
    if not (data_dir / DB_FILENAME).exists():
        print(f"doorstep audit: no database in {data_dir}", file=sys.stderr)
        return EXIT_CONFIG
    if args.audit_command == "proof":
        return _proof(data_dir, args.seq)
    if args.audit_command == "key":
        return _key(data_dir)
    return _verify(data_dir, args.key, args.checkpoint)


def _pinned_key(data_dir: Path, pinned: str | None) -> tuple[VerifyKey | None, list[Problem]]:
    """The key to hold checkpoints to: the pinned one (a key, or a fingerprint the data
    directory's key must have), else the data directory's."""
    on_box = public_key_of(data_dir)
    if pinned is None:
        return on_box, []
    if pinned.startswith("SHA256:"):
        if on_box is not None and on_box.fingerprint == pinned:
            return on_box, []
        found = on_box.fingerprint if on_box else "none"
        return None, [Problem(None, f"the gateway's signing key is {found}, not the pinned "
                                    f"{pinned}: the key was swapped")]  # fmt: skip
    return VerifyKey.parse(pinned), []


def _read_saved(paths: list[Path]) -> list[Checkpoint] | None:
    saved = []
    for path in paths:
        try:
            saved.append(parse_checkpoint(path.read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError, NoteError) as exc:
            print(f"doorstep audit verify: {path}: {exc}", file=sys.stderr)
            return None
    return saved


def _verify(data_dir: Path, pinned: str | None, checkpoint_files: list[Path]) -> int:
    try:
        key, problems = _pinned_key(data_dir, pinned)
    except ValueError as exc:
        print(f"doorstep audit verify: --key: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    saved = _read_saved(checkpoint_files)
    if saved is None:
        return EXIT_CONFIG
    try:
        report = verify_database(data_dir / DB_FILENAME, key, saved)
    except StorageError as exc:
        print(f"doorstep audit verify: cannot read the database: {exc}", file=sys.stderr)
        return 1
    report.problems[:0] = problems
    print(describe(report))
    return 0 if report.ok else 1


def describe(report: AuditReport) -> str:
    """The report in words, as the CLI prints it."""
    head = (
        f"{report.rows} row(s), {report.checkpoints} stored checkpoint(s), "
        f"{report.saved} saved checkpoint(s), key {report.key_fingerprint or 'none'}"
    )
    if report.ok:
        after = report.rows - report.newest_checkpoint
        newest = report.newest_checkpoint
        return (f"audit log ok, chain intact: {head}; the newest checkpoint covers {newest} "
                f"row(s), {after} after it")  # fmt: skip
    lines = [f"audit log BROKEN: {head}"]
    if report.first_bad_seq is not None:
        lines.append(f"first bad row: {report.first_bad_seq}: {report.reason}")
    lines += [f"  - {p.text}" for p in report.problems]
    return "\n".join(lines)


async def _checkpoint(data_dir: Path) -> int:
    core = await open_accounts(data_dir)
    try:
        record = await core.checkpoints.checkpoint_now()
    finally:
        await core.storage.close()
    if record is None:
        print("doorstep audit checkpoint: nothing signed (empty log, or its chain is broken: "
              "run doorstep audit verify)", file=sys.stderr)  # fmt: skip
        return 1
    sys.stdout.write(record.note)
    return 0


def _proof(data_dir: Path, seq: int) -> int:
    try:
        with open_snapshot(data_dir / DB_FILENAME) as snapshot:
            proof = make_proof(snapshot, seq)
    except (ProofUnavailable, StorageError) as exc:
        print(f"doorstep audit proof: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(proof, indent=2))
    return 0


def _key(data_dir: Path) -> int:
    key = public_key_of(data_dir)
    if key is None:
        print(f"doorstep audit key: no signing key in {data_dir} yet", file=sys.stderr)
        return 1
    print(f"fingerprint: {key.fingerprint}")
    print(f"vkey: {key.vkey(origin_for(key))}")
    sys.stdout.write(key.pem())
    return 0
