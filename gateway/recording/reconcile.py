"""At start, before recording: make the clip directory and the database agree again.

- A `.part` a crash left behind is finished (it plays to its last complete fragment) and
  registered, marked `recovered`.
- A finished clip file with no row (a crash between the rename and the insert) is registered.
- A row in `deleting` (a crash mid-deletion) has its file removed and goes.
- A row whose file is gone is marked `missing` and reported; nothing is deleted for it.
- Anything else in the directory (not named like a clip) is left alone: the gateway never
  deletes a file the database does not know.
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from doorstep.gateway.recording.clip_file import PART_SUFFIX
from doorstep.gateway.recording.files import remove_clip_files
from doorstep.gateway.recording.recovery import ClipFacts, finish_part, read_clip
from doorstep.gateway.storage import ClipRecord, ClipRepository, EventRepository, StorageError

_log = logging.getLogger(__name__)

CLIP_NAME = re.compile(
    r"^(?P<camera>[a-z0-9][a-z0-9_-]{0,63})/(?P<mode>events|continuous)/"
    r"(?P<day>\d{4}-\d{2}-\d{2})/(?P<time>\d{9})-(?P<id>[A-Za-z0-9_-]{16,64})\.mp4$"
)
"""recorder.clip_path's names: camera / mode / UTC day / HHMMSSmmm-id.mp4."""


@dataclass(slots=True)
class Reconciled:
    """What the start-up pass found and did."""

    finished_parts: list[str] = field(default_factory=list)
    registered: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)


def _started(match: re.Match[str]) -> datetime | None:
    try:
        moment = datetime.strptime(f"{match['day']} {match['time'][:6]}Z", "%Y-%m-%d %H%M%S%z")
        return moment.astimezone(UTC).replace(microsecond=int(match["time"][6:]) * 1000)
    except ValueError:
        return None


def _walk(root: Path) -> tuple[list[Path], list[Path]]:
    """(`.part` files, finished `.mp4` files) under the root, never following symlinks."""
    parts: list[Path] = []
    finished: list[Path] = []
    if not root.is_dir():
        return parts, finished
    for path in root.rglob("*"):
        if path.is_symlink() or not path.is_file():
            continue
        if path.name.endswith(".mp4" + PART_SUFFIX):
            parts.append(path)
        elif path.suffix == ".mp4":
            finished.append(path)
    return parts, finished


async def reconcile(root: Path, clips: ClipRepository, events: EventRepository) -> Reconciled:
    """Run the start-up pass (file work on a thread)."""
    found = Reconciled()
    parts, finished = await asyncio.to_thread(_walk, root)
    known = await clips.paths()
    for part in parts:
        relative = part.relative_to(root).as_posix()[: -len(PART_SUFFIX)]
        match = CLIP_NAME.match(relative)
        if match is None or relative in known:
            found.ignored.append(relative + PART_SUFFIX)
            continue
        try:
            facts = await asyncio.to_thread(finish_part, part)
        except OSError as exc:
            _log.warning("recording: cannot finish %s (%s); left as it is", relative, exc)
            continue
        if facts is not None:
            await _register(match, relative, facts, clips, events, recovered=True)
            found.finished_parts.append(relative)
    for path in finished:
        relative = path.relative_to(root).as_posix()
        match = CLIP_NAME.match(relative)
        if relative in known or relative in found.finished_parts:
            continue
        if match is None:
            found.ignored.append(relative)
            continue
        facts = await asyncio.to_thread(read_clip, path)
        if facts is not None:
            await _register(match, relative, facts, clips, events, recovered=False)
            found.registered.append(relative)
    for record in await clips.in_state("deleting"):
        await asyncio.to_thread(remove_clip_files, root, record.path)
        await clips.delete([record.id])
        found.removed.append(record.path)
    await _report_missing(root, clips, found)
    if found.finished_parts or found.registered or found.missing or found.removed:
        _log.warning(
            "recording: after an unclean stop, %d unfinished clip(s) finished, %d registered, "
            "%d interrupted deletion(s) completed, %d clip(s) missing their file",
            len(found.finished_parts), len(found.registered), len(found.removed),
            len(found.missing),
        )  # fmt: skip
    return found


async def _report_missing(root: Path, clips: ClipRepository, found: Reconciled) -> None:
    ok = list(await clips.in_state("ok"))
    missing = await asyncio.to_thread(
        lambda: [c.id for c in ok if not (root / c.path).is_file() or (root / c.path).is_symlink()]
    )
    if missing:
        await clips.set_state(missing, "missing")
        found.missing.extend(missing)


async def _register(
    match: re.Match[str], relative: str, facts: ClipFacts, clips: ClipRepository,
    events: EventRepository, *, recovered: bool,
) -> None:  # fmt: skip
    started = _started(match)
    if started is None:
        return
    ended = started + timedelta(milliseconds=facts.closed.duration_ms)
    camera = match["camera"]
    picture = facts.picture
    try:
        event_ids = await events.ids_between(camera, started, ended)
        kinds = await events.kinds_of(event_ids)
        await clips.add(
            ClipRecord(
                id=match["id"], camera_id=camera, path=relative, started_at=started,
                ended_at=ended, size_bytes=facts.closed.size_bytes, sha256=facts.closed.sha256,
                duration_ms=facts.closed.duration_ms, frames=facts.closed.frames,
                width=picture.width if picture else None,
                height=picture.height if picture else None,
                audio_codec="aac" if facts.closed.audio else None, mode=match["mode"],
                kinds=tuple(kinds), recovered=recovered,
            ),
            event_ids,
        )  # fmt: skip
    except StorageError as exc:
        _log.warning("recording: cannot register %s (%s)", relative, exc)
