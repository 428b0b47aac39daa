"""`doorstep evidence verify` passes on a package as delivered and fails, naming the file,
after a changed byte in a clip, an edited manifest, a manifest re-signed with another key, and
a removed file. It runs as an agency would: the console script, the zip, a fingerprint."""

from __future__ import annotations

import asyncio
import base64
import json
import subprocess
import sys
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from doorstep.gateway.evidence.manifest import manifest_bytes
from doorstep.gateway.keys.signing import SigningKey
from doorstep.gateway.web.keys import CHECKPOINTS

from ..gateway_client import call
from .conftest import BACK_CLIP, FRONT_CLIP, Case, request_body
from .test_request_flow import decided, fetch

NATIVE = f"native/01-front-{FRONT_CLIP}.mp4"
WORKING = f"working/01-front-{FRONT_CLIP}.mp4"
Edit = Callable[[dict[str, bytes]], None]


@pytest.fixture
async def delivered(case: Case, tmp_path: Path) -> tuple[Path, str]:
    """A package as the agency downloaded it, and the gateway key's fingerprint."""
    status, sent = await call(case.agency, "POST", "/api/agency/requests", request_body())
    assert status == 201
    # Silent, and the recording as made too: both files to tamper with.
    grant = {"clip_id": FRONT_CLIP, "audio": False, "original": True}
    await decided(case, sent["id"], {"grants": [grant], "declined": [BACK_CLIP]})
    status, body = await fetch(case.agency, f"/api/agency/requests/{sent['id']}/package")
    assert status == 200
    path = tmp_path / "evidence.zip"
    path.write_bytes(body)
    return path, case.gateway.app[CHECKPOINTS].key.public.fingerprint


def verify(package: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "doorstep.gateway", "evidence", "verify", str(package)]
    return subprocess.run([*command, *extra], capture_output=True, text=True, timeout=60,
                          check=False)  # fmt: skip


def rewrite(package: Path, edit: Edit) -> Path:
    """A copy of the package with its members changed by `edit` (name → bytes)."""
    with zipfile.ZipFile(package) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    edit(members)
    changed = package.with_name("changed.zip")
    with zipfile.ZipFile(changed, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return changed


async def test_the_delivered_package_verifies(delivered: tuple[Path, str]) -> None:
    package, fingerprint = delivered
    result = await asyncio.to_thread(verify, package, "--key", fingerprint)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "evidence package ok: evidence.zip: 2 file(s)" in result.stdout
    assert f"signed by {fingerprint}, the pinned key" in result.stdout


def _flip_byte_in(name: str) -> Edit:
    def flip(members: dict[str, bytes]) -> None:
        data = bytearray(members[name])
        data[len(data) // 2] ^= 0x01
        members[name] = bytes(data)

    return flip


def _edit_manifest(members: dict[str, bytes]) -> None:
    manifest = json.loads(members["manifest.json"])
    manifest["request"]["case_number"] = "24-9999"
    members["manifest.json"] = manifest_bytes(manifest)


def _resign(members: dict[str, bytes]) -> None:
    attacker = SigningKey.generate()
    manifest = json.loads(members["manifest.json"])
    manifest["created_by"] = "someone else"
    manifest["gateway"]["public_key"] = base64.b64encode(attacker.public.raw).decode()
    manifest["gateway"]["key_fingerprint"] = attacker.public.fingerprint
    members["manifest.json"] = manifest_bytes(manifest)
    members["manifest.sig"] = attacker.sign(members["manifest.json"])
    members["gateway-key.pem"] = attacker.public.pem().encode()


def _remove_member(name: str) -> Edit:
    def remove(members: dict[str, bytes]) -> None:
        del members[name]

    return remove


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (_flip_byte_in(NATIVE), f"{NATIVE}: SHA-256 differs from the manifest (changed)"),
        (_edit_manifest, "manifest.json: its signature is not"),
        (_resign, "manifest.json: not made with the pinned key"),
        (_remove_member(WORKING), f"{WORKING}: missing from the package"),
    ],
    ids=["changed-byte", "edited-manifest", "re-signed", "removed-file"],
)
async def test_a_tampered_package_fails_naming_the_file(
    delivered: tuple[Path, str], edit: Edit, expected: str
) -> None:
    package, fingerprint = delivered
    changed = rewrite(package, edit)
    result = await asyncio.to_thread(verify, changed, "--key", fingerprint)
    assert result.returncode == 1, result.stdout
    assert "evidence package FAILED: changed.zip" in result.stdout
    assert expected in result.stdout, result.stdout


def _slip_in_the_master(members: dict[str, bytes]) -> None:
    """What a package whose master was kept back would look like with one slipped in."""
    manifest = json.loads(members["manifest.json"])
    native = next(f for f in manifest["files"] if f["role"] == "native")
    manifest["files"].remove(native)
    del members[native["path"]]
    manifest["withheld_masters"] = [{"clip_id": FRONT_CLIP, "sha256": native["sha256"]}]
    members["manifest.json"] = manifest_bytes(manifest)


async def test_a_master_the_receipt_says_went_must_be_there(delivered: tuple[Path, str]) -> None:
    package, fingerprint = delivered
    result = await asyncio.to_thread(verify, rewrite(package, _slip_in_the_master),
                                     "--key", fingerprint)  # fmt: skip
    assert result.returncode == 1
    assert f"native copy of clip {FRONT_CLIP}: not the file the consent receipt granted" in (
        result.stdout
    )


async def test_without_a_pin_another_key_still_cannot_vouch_for_the_receipt(
    delivered: tuple[Path, str],
) -> None:
    package, _ = delivered
    result = await asyncio.to_thread(verify, rewrite(package, _resign))
    assert result.returncode == 1
    assert "manifest.json: the consent receipt is not signed by" in result.stdout
    assert "manifest.json: audit: the checkpoint is not signed by" in result.stdout


def _twin_first(package: Path) -> Path:
    """The package with a doctored copy of the master slipped in ahead of the genuine one."""
    changed = package.with_name("twin.zip")
    with zipfile.ZipFile(package) as archive, zipfile.ZipFile(changed, "w") as out:
        doctored = bytearray(archive.read(NATIVE))
        doctored[len(doctored) // 2] ^= 0x01
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # zipfile warns of the duplicate name: the point
            out.writestr(NATIVE, bytes(doctored))
            for name in archive.namelist():
                out.writestr(name, archive.read(name))
    return changed


async def test_a_doctored_twin_of_a_file_is_named(delivered: tuple[Path, str]) -> None:
    package, fingerprint = delivered
    twin = await asyncio.to_thread(_twin_first, package)
    result = await asyncio.to_thread(verify, twin, "--key", fingerprint)
    assert result.returncode == 1
    assert f"{NATIVE}: in the package more than once" in result.stdout
