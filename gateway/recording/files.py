"""Clip files by their database path: resolved under the clip root, never through a symlink.

Every read (playback, download, poster) and every removal goes through `resolve`, so a path
that climbs out of the root (`..`, an absolute path, a NUL) or a symlink planted in the clip
directory can never make the gateway serve or delete a file elsewhere.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path, PurePosixPath

from doorstep.gateway.recording.clip_file import fsync_dir
from doorstep.gateway.recording.poster import POSTER_SUFFIX


class UnsafeClipPath(ValueError):
    """The path would leave the clip root, or passes through a symlink."""


def resolve(root: Path, relative: str) -> Path:
    """The file a clip row's path names under `root`, checked part by part (blocking)."""
    if "\x00" in relative or "\\" in relative:
        raise UnsafeClipPath("a clip path with a NUL or a backslash")
    pure = PurePosixPath(relative)
    if pure.is_absolute() or not pure.parts or any(p in ("..", ".", "") for p in pure.parts):
        raise UnsafeClipPath("a clip path that is not plainly under the clip root")
    current = root
    for part in pure.parts:
        current = current / part
        try:
            mode = os.lstat(current).st_mode
        except FileNotFoundError:
            return current  # not there (yet): nothing to follow
        if stat.S_ISLNK(mode):
            raise UnsafeClipPath("a clip path through a symlink")
    return current


def open_clip(root: Path, relative: str, suffix: str = "") -> int:
    """A read-only descriptor of a clip file (or its poster with `suffix=".jpg"`), opened
    without following a symlink at the last step either."""
    path = resolve(root, relative)
    if suffix:
        path = path.with_suffix(suffix)
        resolve(root, path.relative_to(root).as_posix())
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(path, flags)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise UnsafeClipPath("not a regular file")
    return fd


def remove_clip_files(root: Path, relative: str) -> int:
    """Delete a clip's file and its poster; returns the bytes freed (blocking)."""
    try:
        path = resolve(root, relative)
    except UnsafeClipPath:
        return 0
    freed = 0
    for target in (path, path.with_suffix(POSTER_SUFFIX)):
        try:
            freed += os.lstat(target).st_size
            target.unlink()
        except FileNotFoundError:
            continue
    if path.parent.is_dir():
        fsync_dir(path.parent)
    return freed
