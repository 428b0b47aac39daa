"""The offline check of an evidence package: nothing but the zip (and, best, the gateway key's
fingerprint from the owner). Re-hashes every file, checks the manifest's signature, the
derivations, the consent receipt, and the export's audit entry against its signed checkpoint.
Blocking (hashing); every difference is reported by file."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from doorstep.gateway.audit.proofs import check_proof
from doorstep.gateway.evidence import manifest as m
from doorstep.gateway.evidence.receipts import check_receipt
from doorstep.gateway.keys.signing import VerifyKey

CHUNK = 1 << 20


@dataclass(slots=True)
class PackageReport:
    """What the check found: problems (each naming its file), and what was checked."""

    problems: list[str] = field(default_factory=list)
    files: int = 0
    bytes: int = 0
    key_fingerprint: str = ""
    pinned: bool = False

    @property
    def ok(self) -> bool:
        """Whether nothing is wrong."""
        return not self.problems


def _hash_member(archive: zipfile.ZipFile, name: str) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with archive.open(name) as reader:
        while chunk := reader.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _safe(name: str) -> bool:
    pure = PurePosixPath(name)
    return not (pure.is_absolute() or "\\" in name or any(p in ("..", "") for p in pure.parts))


def _key_for(manifest: dict[str, Any], pinned: VerifyKey | str | None,
             report: PackageReport) -> VerifyKey | None:  # fmt: skip
    named = manifest.get("gateway", {}).get("public_key") if isinstance(manifest, dict) else None
    try:
        own = VerifyKey(base64.b64decode(named, validate=True)) if isinstance(named, str) else None
    except (binascii.Error, ValueError):
        own = None
    if isinstance(pinned, VerifyKey):
        report.pinned = True
        return pinned
    if isinstance(pinned, str):
        report.pinned = True
        if own is None or own.fingerprint != pinned:
            report.problems.append(f"{m.MANIFEST}: not made with the pinned key {pinned}"
                                   + (f" (it names {own.fingerprint})" if own else ""))  # fmt: skip
            return None
        return own
    if own is None:
        report.problems.append(f"{m.MANIFEST}: names no gateway key")
    return own


def _check_files(
    archive: zipfile.ZipFile, manifest: dict[str, Any], report: PackageReport
) -> dict[str, str]:
    listed: dict[str, str] = {}
    every = archive.namelist()
    names = set(every)
    # Two members of one name: tools disagree on which is "the" file (unzip keeps the first,
    # Python reads the last), so a doctored twin could hide behind the genuine one.
    folded = Counter(n.casefold() for n in every)
    for name in sorted({n for n in every if folded[n.casefold()] > 1}):
        report.problems.append(f"{name}: in the package more than once")
    for entry in manifest.get("files", []):
        path = entry.get("path") if isinstance(entry, dict) else None
        if not isinstance(path, str) or not _safe(path):
            report.problems.append(f"{path!r}: not a plain path in the package")
            continue
        if path not in names:
            report.problems.append(f"{path}: missing from the package")
            continue
        sha, size = _hash_member(archive, path)
        report.files, report.bytes = report.files + 1, report.bytes + size
        listed[path] = sha
        if sha != entry.get("sha256"):
            report.problems.append(f"{path}: SHA-256 differs from the manifest (changed)")
        elif size != entry.get("size"):
            report.problems.append(f"{path}: size differs from the manifest")
    for name in sorted(names - set(listed) - set(m.FIXED)):
        if not name.endswith("/") and name not in {
            e.get("path") for e in manifest.get("files", [])
        }:
            report.problems.append(f"{name}: in the package but not in the manifest")
    return listed


def _withheld(manifest: dict[str, Any]) -> dict[str, str]:
    """Clip id → SHA-256 of each master the owner kept back (only its copy was handed over)."""
    kept = manifest.get("withheld_masters")
    if not isinstance(kept, list):
        return {}
    return {str(w.get("clip_id")): str(w.get("sha256")) for w in kept if isinstance(w, dict)}


def _clip_of(manifest: dict[str, Any], path: object) -> str | None:
    for entry in manifest.get("files", []):
        if isinstance(entry, dict) and entry.get("path") == path:
            return str(entry.get("clip_id"))
    return None


def _check_derivations(manifest: dict[str, Any], listed: dict[str, str],
                       report: PackageReport) -> None:  # fmt: skip
    held = _withheld(manifest)
    derivations = manifest.get("derivations", [])
    for d in derivations if isinstance(derivations, list) else [None]:
        if not isinstance(d, dict):
            report.problems.append(f"{m.MANIFEST}: a derivation record is malformed")
            continue
        output = d.get("output")
        if d.get("input") is None and held.get(str(_clip_of(manifest, output))) != d.get(
            "input_sha256"
        ):
            report.problems.append(f"{output}: derived from a master the package neither "
                                   "holds nor lists as kept back")  # fmt: skip
        for side in ("input", "output"):
            path = d.get(side)
            if side == "input" and path is None:
                continue  # a master kept back: checked against its listing above
            if not isinstance(path, str) or path not in listed:
                report.problems.append(f"{path}: a derivation names a file the package lacks")
            elif listed[path] != d.get(f"{side}_sha256"):
                report.problems.append(f"{path}: not the file its derivation record names")


def _check_receipt(manifest: dict[str, Any], listed: dict[str, str], key: VerifyKey,
                   report: PackageReport) -> None:  # fmt: skip
    body, problems = check_receipt(manifest.get("consent_receipt"), key)
    report.problems += [f"{m.MANIFEST}: {p}" for p in problems]
    if body is None:
        return
    files = [f for f in manifest.get("files", []) if isinstance(f, dict)]
    by_clip = {(f.get("clip_id"), f.get("role")): f.get("path") for f in files}
    held = _withheld(manifest)
    granted = [g for g in body.get("granted", []) if isinstance(g, dict)]
    for extra in sorted({str(f.get("path")) for f in files}
                       - {str(by_clip.get((g.get("clip_id"), r))) for g in granted
                          for r in ("native", "working")}):  # fmt: skip
        report.problems.append(f"{extra}: a clip the consent receipt did not grant")
    for grant in granted:
        clip = grant.get("clip_id")
        if grant.get("master_handed_over") is False:
            if (clip, "native") in by_clip:
                report.problems.append(f"{by_clip[(clip, 'native')]}: in the package though "
                                       "the consent receipt kept it back")  # fmt: skip
            elif held.get(str(clip)) != grant.get("master_sha256"):
                report.problems.append(f"{m.MANIFEST}: clip {clip}'s master is not listed as "
                                       "kept back as the consent receipt says")  # fmt: skip
            if grant.get("copy_sha256") is None:
                report.problems.append(f"{m.MANIFEST}: clip {clip} was granted, but neither "
                                       "its master nor a copy is in the package")  # fmt: skip
            roles: tuple[tuple[str, str], ...] = (("working", "copy_sha256"),)
        else:
            roles = (("native", "master_sha256"), ("working", "copy_sha256"))
        for role, field_name in roles:
            path = by_clip.get((clip, role))
            expected = grant.get(field_name)
            if expected is None and path is None:
                continue
            if path is None or listed.get(path) != expected:
                where = path or f"{role} copy of clip {clip}"
                report.problems.append(f"{where}: not the file the consent receipt granted")


def _check_audit(manifest: dict[str, Any], key: VerifyKey, report: PackageReport) -> None:
    proof = (
        manifest.get("audit", {}).get("export_entry")
        if isinstance(manifest.get("audit"), dict)
        else None
    )
    problems = check_proof(proof, key)
    report.problems += [f"{m.MANIFEST}: audit: {p}" for p in problems]
    if problems or not isinstance(proof, dict):
        return
    entry = proof["entry"]
    try:
        detail = json.loads(entry["detail"])
    except ValueError:
        detail = {}
    if (
        entry.get("action") != "evidence.export"
        or entry.get("target") != f"package:{manifest.get('package_id')}"
    ):
        report.problems.append(f"{m.MANIFEST}: audit: the entry is not this package's export")
    elif detail.get("manifest_sha256") != m.core_sha256(manifest):
        report.problems.append(
            f"{m.MANIFEST}: edited after export (its audit entry vouches for another)"
        )


def verify_package(path: Path, pinned: VerifyKey | str | None = None) -> PackageReport:
    """Check a package; `pinned` is the gateway key or its fingerprint (else the one it names)."""
    report = PackageReport()
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        report.problems.append(f"{path.name}: not a readable zip ({type(exc).__name__})")
        return report
    with archive:
        unsafe = [n for n in archive.namelist() if not _safe(n)]
        report.problems += [f"{n!r}: a path that climbs out of the package" for n in unsafe]
        try:
            body = archive.read(m.MANIFEST)
            manifest = json.loads(body)
        except KeyError:
            report.problems.append(f"{m.MANIFEST}: missing")
            return report
        except ValueError:
            report.problems.append(f"{m.MANIFEST}: not JSON")
            return report
        if not isinstance(manifest, dict) or manifest.get("format") != m.FORMAT:
            report.problems.append(f"{m.MANIFEST}: not a {m.FORMAT} manifest")
            return report
        key = _key_for(manifest, pinned, report)
        try:
            signature = archive.read(m.SIGNATURE)
        except KeyError:
            signature = b""
            report.problems.append(f"{m.SIGNATURE}: missing")
        if key is not None:
            report.key_fingerprint = key.fingerprint
            if signature and not key.verify(signature, body):
                report.problems.append(f"{m.MANIFEST}: its signature is not {key.fingerprint}'s "
                                       "(edited, or signed with another key)")  # fmt: skip
        listed = _check_files(archive, manifest, report)
        _check_derivations(manifest, listed, report)
        if key is not None:
            _check_receipt(manifest, listed, key, report)
            _check_audit(manifest, key, report)
    return report
