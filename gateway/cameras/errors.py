"""The façade's refusals: what the web maps to 404, 409, 422 and 503."""

from __future__ import annotations


class CameraNotFound(LookupError):
    """No such camera, or not one the caller may see (the same answer for both)."""


class CameraUnavailable(Exception):
    """The camera exists but cannot do it now (offline, no stream, snapshot failed)."""


class CameraConflict(Exception):
    """The request clashes with the cameras there are; `code` names why for the UI."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code


class AdoptionError(Exception):
    """The camera cannot be adopted; the message says why, for the user."""
