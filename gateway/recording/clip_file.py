"""One clip file on disk, written crash-safely. Every method blocks: call them on a thread.

While written, a clip is `NAME.part`: the init segment, then one fragment at a time, each
fsynced, so a crash loses at most the fragment being written. Closing it writes the index
(`mfra`), patches the duration into the init segment, fsyncs, renames it to NAME, fsyncs the
directory and hashes it; only then is the clip registered in the database (by the caller).
"""

from __future__ import annotations

import hashlib
import os
import struct
from dataclasses import dataclass
from pathlib import Path

from doorstep.gateway.recording.audio import AudioTranscoder
from doorstep.gateway.recording.timeline import FragmentJob
from doorstep.protocols.fmp4 import (
    AUDIO_TRACK,
    MOVIE_TIMESCALE,
    VIDEO_TIMESCALE,
    VIDEO_TRACK,
    AudioTrack,
    InitSegment,
    Run,
    Sample,
    VideoTrack,
    annexb_to_avcc,
    fragment,
    init_segment,
    random_access_index,
)

PART_SUFFIX = ".part"
FILE_MODE = 0o640
DIR_MODE = 0o750
HASH_CHUNK = 1024 * 1024


@dataclass(frozen=True, slots=True)
class ClosedClip:
    """A clip file once it is closed: its final path and what the database row needs."""

    path: Path
    size_bytes: int
    sha256: str
    duration_ms: int
    frames: int
    audio: bool


def fsync_dir(path: Path) -> None:
    """Make a directory's entries (a created or renamed file) durable."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _datasync(fd: int) -> None:
    sync = getattr(os, "fdatasync", os.fsync)  # macOS has no fdatasync
    sync(fd)


def make_dirs(root: Path, relative: Path) -> None:
    """Create the directories of `relative` under `root`, each new one made durable."""
    root.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    current = root
    for part in relative.parts:
        parent, current = current, current / part
        if not current.is_dir():
            current.mkdir(mode=DIR_MODE, exist_ok=True)
            fsync_dir(parent)


def sha256_file(path: Path) -> str:
    """The SHA-256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def write_index(f_fd: int, size: int, init: InitSegment, points: list[tuple[int, int]],
                duration_ms: int) -> int:  # fmt: skip
    """Append the `mfra`, patch the duration, fsync; returns the file's new size."""
    index = random_access_index(points)
    os.pwrite(f_fd, index, size)
    os.pwrite(f_fd, struct.pack(">Q", duration_ms), init.duration_offset)
    os.fsync(f_fd)
    return size + len(index)


class ClipFile:
    """A clip being written: `open`, `write` each fragment, then `close` (or `abandon`)."""

    def __init__(self, root: Path, relative: Path) -> None:
        self.final = root / relative
        self.part = self.final.with_name(self.final.name + PART_SUFFIX)
        self._root = root
        self._relative = relative
        self._fd = -1
        self._size = 0
        self._init: InitSegment | None = None
        self._audio: AudioTranscoder | None = None
        self._audio_time = 0
        self._audio_start: float | None = None
        self._first_at: float | None = None
        self._points: list[tuple[int, int]] = []
        self._video_end = 0
        self.frames = 0

    def open(self, video: VideoTrack, audio: tuple[str, int] | None, first_at: float) -> None:
        """Create NAME.part with the init segment, durably. `audio`: (G.711 encoding, rate)."""
        if audio is not None:
            self._audio = AudioTranscoder(*audio)
        track = None if self._audio is None else AudioTrack(self._audio.sample_rate, 1,
                                                            self._audio.config)  # fmt: skip
        self._init = init_segment(video, track)
        self._first_at = first_at
        make_dirs(self._root, self._relative.parent)
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
        self._fd = os.open(self.part, flags, FILE_MODE)
        os.write(self._fd, self._init.data)
        self._size = len(self._init.data)
        os.fsync(self._fd)
        fsync_dir(self.part.parent)

    def write(self, job: FragmentJob) -> int:
        """Append one fragment and fsync it; returns the bytes written."""
        samples = [
            Sample(annexb_to_avcc(frame.unit.data), ticks, frame.keyframe)
            for frame, ticks in job.frames
        ]
        runs = [Run(VIDEO_TRACK, job.base_time, samples)]
        audio = self._encode_audio(job)
        if audio is not None:
            runs.append(audio)
        data = fragment(job.sequence, runs)
        if samples and samples[0].sync:
            self._points.append((job.base_time, self._size))
        written = os.pwrite(self._fd, data, self._size)
        if written != len(data):
            raise OSError(f"short write: {written} of {len(data)} bytes")
        # fdatasync: the data and the new size reach the disk (all a crash needs to keep the
        # fragment), without also flushing the file's times for every fragment.
        _datasync(self._fd)
        self._size += written
        self._video_end = job.base_time + job.ticks
        self.frames += len(samples)
        return written

    def _encode_audio(self, job: FragmentJob) -> Run | None:
        if self._audio is None or not job.audio:
            return None
        if self._audio_start is None and self._first_at is not None:
            # Audio that began after the clip's first frame starts that much later.
            offset = max(0.0, job.audio[0].at - self._first_at)
            self._audio_start = offset
            self._audio_time = round(offset * self._audio.sample_rate)
        frames = self._audio.encode([a.payload for a in job.audio])
        if not frames:
            return None
        base, self._audio_time = self._audio_time, self._audio_time + 1024 * len(frames)
        return Run(AUDIO_TRACK, base, [Sample(f, 1024) for f in frames])

    @property
    def duration_ms(self) -> int:
        """The video written so far, in milliseconds."""
        return self._video_end * MOVIE_TIMESCALE // VIDEO_TIMESCALE

    def close(self) -> ClosedClip:
        """Index, fsync, rename to the final name, fsync the directory, hash."""
        if self._init is None or self._fd < 0:
            raise RuntimeError("the clip file is not open")
        try:
            self._size = write_index(self._fd, self._size, self._init, self._points,
                                     self.duration_ms)  # fmt: skip
        finally:
            os.close(self._fd)
            self._fd = -1
        os.replace(self.part, self.final)
        fsync_dir(self.final.parent)
        return ClosedClip(self.final, self._size, sha256_file(self.final), self.duration_ms,
                          self.frames, self._audio is not None)  # fmt: skip

    def abandon(self) -> None:
        """Stop writing after a failure; the `.part` stays for the next start to finish."""
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
