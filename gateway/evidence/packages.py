"""Building an evidence package for a decided request: the files (on a thread), the signed
consent receipt, the export's audit row with a checkpoint and inclusion proof covering it,
the signed manifest, and the grant the agency downloads it through."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import os
import shutil
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from doorstep.gateway import __version__
from doorstep.gateway.audit import AuditLog
from doorstep.gateway.audit.checkpoints import Checkpointer
from doorstep.gateway.audit.proofs import make_proof
from doorstep.gateway.evidence import manifest as m
from doorstep.gateway.evidence.package_files import (
    PackageError,
    PackageFiles,
    PackageItem,
    write_files,
)
from doorstep.gateway.evidence.receipts import receipt_body, sign_receipt
from doorstep.gateway.recording.clip_file import fsync_dir, sha256_file
from doorstep.gateway.recording.files import UnsafeClipPath, resolve
from doorstep.gateway.sharing.masks import Mask
from doorstep.gateway.storage import (
    PackageRecord,
    RequestItemRecord,
    RequestRecord,
    Storage,
    open_snapshot,
)

_log = logging.getLogger(__name__)
PACKAGES_DIR = "evidence"


def agency_request(record: RequestRecord) -> dict[str, Any]:
    """The request as the package and the receipt name it (no private fields)."""
    form = record.form
    return {
        "id": record.id, "agency": record.agency_name, "case_number": record.case_number,
        "incident_type": form.get("incident_type"), "legal_basis": form.get("legal_basis"),
        "legal_document": form.get("legal_document"), "received_at":
        record.received_at.isoformat(), "channel": record.channel,
        "original_sha256": record.original_sha256, "window": form.get("window"),
        "officer": form.get("officer"), "retention": form.get("retention"),
    }  # fmt: skip


def _zone() -> tuple[str, ZoneInfo]:
    name = m.time_zone_name()
    try:
        return name, ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return "UTC", ZoneInfo("UTC")


class PackageBuilder:
    """Makes packages one at a time, off the event loop."""

    def __init__(
        self, storage: Storage, audit: AuditLog, checkpoints: Checkpointer, clip_root: Path,
        package_root: Path,
    ) -> None:  # fmt: skip
        self._storage, self._audit, self._checkpoints = storage, audit, checkpoints
        self._clip_root, self.root = clip_root, package_root
        self._lock = asyncio.Lock()

    async def _items(self, items: list[RequestItemRecord]) -> list[PackageItem]:
        made = []
        for item in items:
            clip = await self._storage.clips.get(item.clip_id)
            if clip is None:
                raise PackageError(f"clip {item.clip_id} is gone")
            try:
                master = resolve(self._clip_root, clip.path)
            except UnsafeClipPath:
                raise PackageError(f"clip {item.clip_id}: its path is unsafe") from None
            masks = tuple(Mask(**mask) for mask in item.masks)
            made.append(PackageItem(
                clip.id, clip.camera_id, master, clip.sha256, clip.started_at, clip.ended_at,
                clip.duration_ms, clip.clock_offset_s, item.start_ms, item.end_ms, item.audio,
                masks, item.original,
            ))  # fmt: skip
        return made

    async def _cameras(self, items: list[PackageItem]) -> list[dict[str, Any]]:
        cameras = []
        for camera_id in sorted({i.camera_id for i in items}):
            camera = await self._storage.cameras.get(camera_id)
            offsets = {i.clock_offset_s for i in items if i.camera_id == camera_id}
            offset = next(iter(offsets)) if len(offsets) == 1 else None
            cameras.append({
                "id": camera_id, "name": camera.name if camera else camera_id,
                "make": camera.manufacturer if camera else None,
                "model": camera.model if camera else None,
                "serial": camera.stable_id if camera else None,
                "firmware": camera.firmware if camera else None,
                "clock_offset_ms": None if offset is None else round(offset * 1000),
                "clock_offset_method": m.OFFSET_METHOD if offset is not None else "not measured",
            })  # fmt: skip
        return cameras

    async def build(self, record: RequestRecord, package: PackageRecord, decision: dict[str, Any],
                    by: str) -> None:  # fmt: skip
        """Make the package file; marks it ready or failed (each an audit row)."""
        async with self._lock:
            try:
                await self._build(record, package, decision, by)
            except (PackageError, OSError, ValueError) as exc:
                reason = str(exc) if isinstance(exc, PackageError) else type(exc).__name__
                _log.warning("evidence package %s failed: %s", package.id, reason)
                await self._storage.evidence_packages.failed(package.id, reason)
                await self._audit.append("gateway", "evidence.failed", f"package:{package.id}",
                                         outcome="failed", detail={"request": record.id,
                                                                   "reason": reason})  # fmt: skip
            finally:
                shutil.rmtree(self.root / f"{package.id}.tmp", ignore_errors=True)

    async def _build(self, record: RequestRecord, package: PackageRecord,
                     decision: dict[str, Any], by: str) -> None:  # fmt: skip
        items = await self._items(await self._storage.police_requests.items(record.id))
        zone_name, zone = _zone()
        scratch = self.root / f"{package.id}.tmp"
        part = self.root / f"{package.id}.zip.part"

        def open_zip() -> zipfile.ZipFile:
            scratch.mkdir(parents=True, exist_ok=True)
            return zipfile.ZipFile(part, "w", zipfile.ZIP_STORED, allowZip64=True)

        archive = await asyncio.to_thread(open_zip)
        try:
            written = await asyncio.to_thread(write_files, archive, items, scratch, zone)
            files = written.files
            receipt = await self._receipt(record, decision, written, by)
            core = await self._core(record, package, items, written, receipt, zone_name, by)
            core_sha = m.core_sha256(core)
            export = await self._audit.append(
                by, "evidence.export", f"package:{package.id}",
                detail={"request": record.id, "manifest_sha256": core_sha,
                        "files": len(files)},
            )  # fmt: skip
            await self._storage.police_requests.note_audit(record.id, export.seq)
            await self._checkpoints.checkpoint_now()

            def prove() -> dict[str, Any]:
                with open_snapshot(self._audit.file_path()) as snapshot:
                    return make_proof(snapshot, export.seq)

            proof = await asyncio.to_thread(prove)
            manifest = core | {"audit": {"export_entry": proof}}
            await asyncio.to_thread(self._finish, archive, manifest, record)
        except BaseException:
            with contextlib.suppress(OSError):
                archive.close()
            part.unlink(missing_ok=True)
            raise
        final = self.root / f"{package.id}.zip"
        size, sha = await asyncio.to_thread(self._publish, part, final)
        await self._storage.evidence_packages.built(package.id, final.name, size, sha, core_sha)
        entry = await self._audit.append(
            "gateway", "evidence.ready", f"package:{package.id}",
            detail={"request": record.id, "sha256": sha, "size": size},
        )  # fmt: skip
        await self._storage.police_requests.note_audit(record.id, entry.seq)

    def _finish(self, archive: zipfile.ZipFile, manifest: dict[str, Any],
                record: RequestRecord) -> None:  # fmt: skip
        key = self._checkpoints.key
        body = m.manifest_bytes(manifest)
        for name, data in (
            (m.MANIFEST, body), (m.SIGNATURE, key.sign(body)),
            (m.KEY_FILE, key.public.pem().encode()),
            (m.README, m.readme(manifest["package_id"], key.public.fingerprint,
                                record.case_number).encode()),
        ):  # fmt: skip
            archive.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), data)
        archive.close()

    @staticmethod
    def _publish(part: Path, final: Path) -> tuple[int, str]:
        with part.open("rb") as f:
            os.fsync(f.fileno())
        part.replace(final)
        fsync_dir(final.parent)
        return final.stat().st_size, sha256_file(final)

    async def _receipt(self, record: RequestRecord, decision: dict[str, Any],
                       written: PackageFiles, by: str) -> dict[str, str]:  # fmt: skip
        key = self._checkpoints.key
        copies = {f["clip_id"]: f["sha256"] for f in written.files if f["role"] == "working"}
        sent = {f["clip_id"]: f["sha256"] for f in written.files if f["role"] == "native"}
        masters = sent | {w["clip_id"]: w["sha256"] for w in written.withheld}
        granted = [g | {"master_sha256": masters.get(g["clip_id"]),
                        "master_handed_over": g["clip_id"] in sent,
                        "copy_sha256": copies.get(g["clip_id"])}
                   for g in decision["granted"]]  # fmt: skip
        now = datetime.now(UTC)
        body = receipt_body(
            request=agency_request(record), decision=decision["status"], decided_at=now,
            decided_by=by, granted=granted, declined=decision["declined"],
            hold_until=decision["hold_until"], key=key.public,
        )  # fmt: skip
        text, signature = sign_receipt(key, body)
        await self._storage.police_requests.add_receipt(record.id, now, text, signature,
                                                        key.public.fingerprint)  # fmt: skip
        entry = await self._audit.append(by, "request.receipt", f"request:{record.id}",
                                         detail={"granted": len(granted)})  # fmt: skip
        await self._storage.police_requests.note_audit(record.id, entry.seq)
        return {"body": text, "signature": signature}

    async def _core(
        self, record: RequestRecord, package: PackageRecord, items: list[PackageItem],
        written: PackageFiles, receipt: dict[str, str], zone_name: str, by: str,
    ) -> dict[str, Any]:  # fmt: skip
        key = self._checkpoints.key.public
        now = datetime.now(UTC)
        custody = [{"at": i.started_at.isoformat(), "who": "gateway",
                    "what": f"clip {i.clip_id} recorded from camera {i.camera_id}"}
                   for i in items]  # fmt: skip
        custody += [
            {"at": (record.decided_at or now).isoformat(), "who": by,
             "what": "granted by the owner (consent receipt)"},
            {"at": now.isoformat(), "who": by, "what": f"package {package.id} exported"},
        ]  # fmt: skip
        return {
            "format": m.FORMAT, "package_id": package.id, "created_at": now.isoformat(),
            "created_by": by,
            "gateway": {"software": "Doorstep", "version": __version__,
                        "key_fingerprint": key.fingerprint,
                        "public_key": base64.b64encode(key.raw).decode()},
            "request": agency_request(record),
            "clock": {"gateway_utc_at_export": now.isoformat(), "time_zone": zone_name,
                      "timestamp_source": m.TIMESTAMP_SOURCE},
            "cameras": await self._cameras(items), "files": written.files,
            "derivations": written.derivations, "withheld_masters": written.withheld,
            "custody": custody, "consent_receipt": receipt,
        }  # fmt: skip
