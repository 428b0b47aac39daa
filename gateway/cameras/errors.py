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


class CameraRefused(Exception):
    """A camera change that cannot be made: the message says why in plain words, `hint` what
    to do, `detail` the raw cause (for a details toggle), `field` which input it is about."""

    def __init__(
        self,
        reason: str,
        hint: str | None = None,
        *,
        detail: str | None = None,
        field: str | None = None,
    ) -> None:
        super().__init__(reason)
        self.hint = hint
        self.detail = detail
        self.field = field


class AdoptionError(CameraRefused):
    """The camera cannot be adopted, or its new credentials cannot be used (the check failed)."""


class SettingsRefused(CameraRefused):
    """A settings change the camera or its driver cannot take (an invalid option, no sub stream)."""
