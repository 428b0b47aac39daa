"""The files of an evidence package, written into its zip as they are hashed: the masters as
recorded (`native/`) where the owner hands them over, and the owner's trimmed, audio-stripped
or masked copies (`working/`). Blocking (PyAV, hashing, disk): run on a thread."""

from __future__ import annotations

import hashlib
import zipfile
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import av

from doorstep.gateway.sharing.derive import TOOL, DeriveJob, derive
from doorstep.gateway.sharing.masks import Mask

CHUNK = 1 << 20
WITHHELD = "on the owner's gateway, under this request's legal hold: not handed over"


class PackageError(RuntimeError):
    """The package cannot be made (a master changed since it was recorded, or is unreadable)."""


@dataclass(frozen=True, slots=True)
class PackageItem:
    """One granted clip, as the builder needs it."""

    clip_id: str
    camera_id: str
    master: Path
    recorded_sha256: str | None
    started_at: datetime
    ended_at: datetime | None
    duration_ms: int
    clock_offset_s: float | None
    start_ms: int = 0
    end_ms: int | None = None
    audio: bool = True
    masks: tuple[Mask, ...] = ()
    original: bool = False

    @property
    def needs_copy(self) -> bool:
        """Whether the grant asks for something other than the master as recorded."""
        trimmed = self.start_ms > 0 or (self.end_ms is not None and self.end_ms < self.duration_ms)
        return trimmed or not self.audio or bool(self.masks)

    @property
    def hands_over_master(self) -> bool:
        """Whether the master leaves the box: granted unchanged, or the owner chose to add it.
        A trimmed, silent or masked grant otherwise sends the copy alone — sending the master
        beside it would undo what the owner removed."""
        return self.original or not self.needs_copy


@dataclass(slots=True)
class PackageFiles:
    """What `write_files` put in the zip, and what it kept back."""

    files: list[dict[str, Any]] = field(default_factory=list)
    """Every file in the zip: path, role (native/working), SHA-256, size, media facts."""
    derivations: list[dict[str, Any]] = field(default_factory=list)
    """Input hash → output hash, operation, tool and parameters of each working copy."""
    withheld: list[dict[str, Any]] = field(default_factory=list)
    """Masters not handed over (only their copies were): their SHA-256 and size, so a copy
    can be tied to the recording the owner keeps under legal hold."""


def probe(path: Path) -> dict[str, Any]:
    """Container, codecs, resolution, frame rate and duration, as read from the file."""
    with av.open(str(path)) as container:
        video = container.streams.video[0] if container.streams.video else None
        audio = container.streams.audio[0] if container.streams.audio else None
        rate = video.average_rate if video is not None else None
        duration = container.duration / av.time_base if container.duration else None
        return {
            "container": "mp4 (fragmented)",
            "video_codec": video.codec_context.name if video is not None else None,
            "audio_codec": audio.codec_context.name if audio is not None else None,
            "width": video.codec_context.width if video is not None else None,
            "height": video.codec_context.height if video is not None else None,
            "frame_rate": round(float(rate), 3) if rate else None,
            "duration_s": round(float(duration), 3) if duration else None,
        }


def _local(moment: datetime, zone: ZoneInfo) -> dict[str, Any]:
    local = moment.astimezone(zone)
    offset = local.utcoffset() or timedelta(0)
    return {"local": local.isoformat(), "utc_offset_min": int(offset.total_seconds() // 60),
            "dst": bool(local.dst())}  # fmt: skip


def recorded_times(item: PackageItem, zone: ZoneInfo) -> dict[str, Any]:
    """When a clip was recorded: on the camera's own clock, corrected to UTC, and local time."""
    end = item.ended_at or item.started_at + timedelta(milliseconds=item.duration_ms)
    offset = timedelta(seconds=item.clock_offset_s or 0.0)
    return {
        "utc_start": item.started_at.isoformat(), "utc_end": end.isoformat(),
        "device_start": (item.started_at + offset).isoformat() if item.clock_offset_s is not None
        else None,
        "device_end": (end + offset).isoformat() if item.clock_offset_s is not None else None,
        "at_start": _local(item.started_at, zone),
    }  # fmt: skip


def _hash(source: Path) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with source.open("rb") as reader:
        while chunk := reader.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def copy_times(
    item: PackageItem, zone: ZoneInfo, starts_at_ms: int, duration_ms: int
) -> dict[str, Any]:
    """When the part of the clip a working copy holds was recorded. A copy that keeps the
    camera's own frames starts at the keyframe at or before the trim: `starts_at_ms` (into
    the master) is where it really starts, as the derivation measured it."""
    start = item.started_at + timedelta(milliseconds=starts_at_ms)
    end = start + timedelta(milliseconds=duration_ms)
    return recorded_times(replace(item, started_at=start, ended_at=end, duration_ms=duration_ms),
                          zone)  # fmt: skip


def store(archive: zipfile.ZipFile, name: str, source: Path) -> tuple[str, int]:
    """Copy a file into the zip (stored: video does not compress) as it is hashed."""
    digest, size = hashlib.sha256(), 0
    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_STORED
    with source.open("rb") as reader, archive.open(info, "w", force_zip64=True) as writer:
        while chunk := reader.read(CHUNK):
            digest.update(chunk)
            writer.write(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def write_files(
    archive: zipfile.ZipFile, items: list[PackageItem], scratch: Path, zone: ZoneInfo
) -> PackageFiles:
    """Write every native and working file the grants hand over."""
    written = PackageFiles()
    for n, item in enumerate(items, start=1):
        native = f"native/{n:02d}-{item.camera_id}-{item.clip_id}.mp4"
        if item.hands_over_master:
            sha, size = store(archive, native, item.master)
        else:
            sha, size = _hash(item.master)
        if item.recorded_sha256 is not None and sha != item.recorded_sha256:
            raise PackageError(f"clip {item.clip_id}: the master changed since it was recorded")
        times = recorded_times(item, zone)
        master = {"clip_id": item.clip_id, "camera_id": item.camera_id, "sha256": sha,
                  "size": size, "sha256_at_recording": item.recorded_sha256}  # fmt: skip
        if item.hands_over_master:
            written.files.append({"path": native, "role": "native", **master, "recorded": times,
                                  **probe(item.master)})  # fmt: skip
        else:
            written.withheld.append(master | {"kept": WITHHELD})
        if not item.needs_copy:
            continue
        copy, poster = scratch / f"{n:02d}.mp4", scratch / f"{n:02d}.jpg"
        made = derive(DeriveJob(item.master, copy, poster, item.start_ms, item.end_ms,
                                audio=item.audio, masks=item.masks))  # fmt: skip
        working = f"working/{n:02d}-{item.camera_id}-{item.clip_id}.mp4"
        copy_sha, copy_size = store(archive, working, copy)
        copy.unlink(missing_ok=True)
        poster.unlink(missing_ok=True)
        facts = _copy_facts(made.width, made.height, made.duration_ms, made.has_audio)
        starts_at_ms = int(made.derivation["parameters"]["copy_starts_at_ms"])
        written.files.append({
            "path": working, "role": "working", "clip_id": item.clip_id,
            "camera_id": item.camera_id, "sha256": copy_sha, "size": copy_size,
            "derived_from": native if item.hands_over_master else None,
            "derived_from_sha256": sha,
            "recorded": copy_times(item, zone, starts_at_ms, made.duration_ms), **facts,
        })  # fmt: skip
        written.derivations.append({
            "input": native if item.hands_over_master else None, "input_sha256": sha,
            "output": working, "output_sha256": copy_sha,
            "operation": {"start_ms": item.start_ms, "end_ms": item.end_ms,
                          "audio_removed": not item.audio,
                          "masks": [asdict(m) for m in item.masks]},
            "tool": TOOL, "parameters": made.derivation,
        })  # fmt: skip
    return written


def _copy_facts(width: int, height: int, duration_ms: int, audio: bool) -> dict[str, Any]:
    return {"container": "mp4 (fragmented)", "video_codec": "h264",
            "audio_codec": "aac" if audio else None, "width": width, "height": height,
            "duration_s": duration_ms / 1000}  # fmt: skip
