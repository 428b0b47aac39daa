"""An evidence package's manifest: what it holds and why it can be trusted, and the README
that says how to check it. Shared by the builder and the offline verifier."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from doorstep.gateway.evidence.signed_requests import canonical

FORMAT = "doorstep-evidence/1"
MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
KEY_FILE = "gateway-key.pem"
README = "README.txt"
FIXED = (MANIFEST, SIGNATURE, KEY_FILE, README)
"""Every file of a package that `files` does not list."""
TIMESTAMP_SOURCE = (
    "the gateway's clock when each frame arrived, dated back by the camera's RTP timestamps"
)
OFFSET_METHOD = "camera clock read over ONVIF (GetSystemDateAndTime) against the gateway clock"


def core_of(manifest: dict[str, Any]) -> dict[str, Any]:
    """The manifest without its audit section: what the export's audit row vouches for."""
    return {k: v for k, v in manifest.items() if k != "audit"}


def core_sha256(manifest: dict[str, Any]) -> str:
    """The SHA-256 of the canonical core manifest (kept in the export's audit row)."""
    return hashlib.sha256(canonical(core_of(manifest))).hexdigest()


def manifest_bytes(manifest: dict[str, Any]) -> bytes:
    """The manifest as written (and signed): sorted keys, indented, one final newline."""
    return (json.dumps(manifest, sort_keys=True, indent=1, ensure_ascii=False) + "\n").encode()


def time_zone_name() -> str:
    """The gateway's IANA time zone (TZ, /etc/timezone or /etc/localtime), else UTC."""
    named = os.environ.get("TZ", "").lstrip(":")
    if (named and "/" in named) or named == "UTC":
        return named
    try:
        text = Path("/etc/timezone").read_text().strip()
        if text:
            return text
    except OSError:
        pass
    try:
        target = str(Path("/etc/localtime").resolve())
    except OSError:
        return "UTC"
    marker = "zoneinfo/"
    return target.split(marker, 1)[1] if marker in target else "UTC"


def readme(package_id: str, fingerprint: str, case: str) -> str:
    """How to check the package, with the CLI or by hand."""
    return f"""Doorstep evidence package {package_id}
Case: {case}
Signed by the gateway key {fingerprint}

What is here
  native/         the clips as the camera recorded them (the masters), where the
                  owner handed them over
  working/        copies the owner trimmed, stripped of sound or masked (if any),
                  each with a derivation record in manifest.json; a master the
                  owner kept back is listed in "withheld_masters" by its SHA-256:
                  it stays on the owner's gateway under this request's legal hold
  manifest.json   every file's SHA-256, size, codecs and recording times; the
                  request; the camera clocks; the chain of custody; the owner's
                  signed consent receipt; the audit log entry of this export with
                  its signed checkpoint and inclusion proof
  manifest.sig    Ed25519 signature of manifest.json (64 raw bytes)
  gateway-key.pem the gateway's public key (check its fingerprint with the owner)

Check it with Doorstep (offline, nothing else needed):
  doorstep evidence verify PACKAGE.zip --key {fingerprint}

Check it by hand:
  unzip PACKAGE.zip -d package && cd package
  sha256sum */*.mp4                # compare with "sha256" of each file in manifest.json
  openssl pkeyutl -verify -pubin -inkey gateway-key.pem -rawin \\
      -in manifest.json -sigfile manifest.sig
  The fingerprint is SHA256: and the unpadded base64 of the SHA-256 of the raw
  32-byte public key.
"""
