"""Who is calling: the signed-in account behind a request."""

from __future__ import annotations

from dataclasses import dataclass, field

ROLES_WITH_REQUIRED_TOTP = frozenset({"owner", "agency"})


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
