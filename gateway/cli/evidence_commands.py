"""`doorstep evidence verify PACKAGE [--key FINGERPRINT]`: check an evidence package with
nothing but the package (no database, no gateway), and name every file that is wrong."""

from __future__ import annotations

import argparse
import sys

from doorstep.gateway.evidence.package_check import PackageReport, verify_package
from doorstep.gateway.keys.signing import VerifyKey

EXIT_BAD = 1
EXIT_USAGE = 2


def describe(report: PackageReport, name: str) -> str:
    """The verdict as the CLI prints it."""
    if report.ok:
        pinned = "the pinned key" if report.pinned else "the key it names (not pinned: pass --key)"
        return (f"evidence package ok: {name}: {report.files} file(s), {report.bytes} bytes "
                f"re-hashed; signed by {report.key_fingerprint}, {pinned}")  # fmt: skip
    lines = [f"evidence package FAILED: {name}: {len(report.problems)} problem(s)"]
    lines += [f"  {problem}" for problem in report.problems]
    return "\n".join(lines)


def evidence_command(args: argparse.Namespace) -> int:
    """Dispatch `doorstep evidence …`."""
    pinned: VerifyKey | str | None = None
    if args.key:
        text = args.key.strip()
        if text.startswith("SHA256:"):
            pinned = text
        else:
            try:
                pinned = VerifyKey.parse(text)
            except ValueError as exc:
                print(f"doorstep evidence: --key: {exc}", file=sys.stderr)
                return EXIT_USAGE
    if not args.package.is_file():
        print(f"doorstep evidence: no such file: {args.package}", file=sys.stderr)
        return EXIT_USAGE
    report = verify_package(args.package, pinned)
    print(describe(report, args.package.name))
    return 0 if report.ok else EXIT_BAD
