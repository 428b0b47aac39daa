"""Finishing a clip file that was not closed (a crash, a full disk): blocking, run on a thread.

The `.part` is cut after its last complete fragment, indexed, given its duration, fsynced and
renamed, exactly as a clip closed normally would be. Also reads a finished clip's facts for a
file whose database row a crash prevented.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from pathlib import Path

from doorstep.gateway.recording.clip_file import (
    PART_SUFFIX,
    ClosedClip,
    fsync_dir,
    sha256_file,
)
from doorstep.protocols.fmp4 import (
    MOVIE_TIMESCALE,
    VIDEO_TIMESCALE,
    VIDEO_TRACK,
    random_access_index,
)
from doorstep.protocols.fmp4_scan import Scan, scan
from doorstep.protocols.h264_sps import SpsError, SpsInfo, parse_sps


@dataclass(frozen=True, slots=True)
class ClipFacts:
    """What a finished clip file says about itself."""

    closed: ClosedClip
    picture: SpsInfo | None


def _duration_ms(found: Scan) -> int:
    return found.video_duration() * MOVIE_TIMESCALE // VIDEO_TIMESCALE


def _picture(found: Scan) -> SpsInfo | None:
    if found.sps is None:
        return None
    try:
        return parse_sps(found.sps)
    except SpsError:
        return None


def finish_part(part: Path) -> ClipFacts | None:
    """Make a `.part` a finished clip; None (and the file removed) if it holds no complete
    fragment, as there is nothing in it to play."""
    if not part.name.endswith(PART_SUFFIX):
        raise ValueError(f"not a clip being written: {part.name}")
    final = part.with_name(part.name[: -len(PART_SUFFIX)])
    with part.open("r+b") as f:
        found = scan(f)
        if not found.fragments or found.duration_offset is None:
            empty = True
        else:
            empty = False
            f.truncate(found.complete_end)
            points = [
                (run.base_time, fragment.offset)
                for fragment in found.fragments
                if (run := fragment.track(VIDEO_TRACK)) is not None and run.first_sync
            ]
            index = random_access_index(points)
            f.seek(found.complete_end)
            f.write(index)
            f.seek(found.duration_offset)
            f.write(struct.pack(">Q", _duration_ms(found)))
            f.flush()
            os.fsync(f.fileno())
    if empty:
        part.unlink()
        fsync_dir(part.parent)
        return None
    os.replace(part, final)
    fsync_dir(final.parent)
    return read_clip(final)


def read_clip(path: Path) -> ClipFacts | None:
    """The facts of a finished clip file; None if it has no complete fragment."""
    with path.open("rb") as f:
        found = scan(f)
        size = f.seek(0, 2)
    if not found.fragments:
        return None
    closed = ClosedClip(path, size, sha256_file(path), _duration_ms(found), found.video_frames(),
                        found.has_audio)  # fmt: skip
    return ClipFacts(closed, _picture(found))
