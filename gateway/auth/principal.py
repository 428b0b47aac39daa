"""Who is calling: the signed-in account behind a request."""

from __future__ import annotations

from dataclasses import dataclass, field

ROLES_WITH_REQUIRED_TOTP = frozenset({"owner", "agency"})
LIVE_ROLES = frozenset({"owner", "resident"})
"""The household: only they watch live and talk (an agency never does, a neighbour neither)."""


@dataclass(frozen=True, slots=True)
class Principal:
    """A signed-in account, its role and (for residents) the cameras granted to it."""

    user_id: int
    username: str
    role: str
    totp_enrolled: bool = True
    cameras: frozenset[str] | None = None
    """Camera ids this account may see; None means every camera (the owner)."""
    session: str = field(default="", repr=False)
    """Hash of the session token (for sign-out and for keeping this session on password change)."""

    @property
    def must_enroll_totp(self) -> bool:
        """Owner and agency accounts must set up a second factor before anything else."""
        return self.role in ROLES_WITH_REQUIRED_TOTP and not self.totp_enrolled

    def may_see(self, camera_id: str) -> bool:
        """Whether this account may see the camera."""
        return self.cameras is None or camera_id in self.cameras

    @property
    def may_go_live(self) -> bool:
        """Whether this account's role watches live and talks at all."""
        return self.role in LIVE_ROLES

    def may_watch_live(self, camera_id: str) -> bool:
        """Whether this account may watch this camera live and talk through it."""
        return self.may_go_live and self.may_see(camera_id)
