"""Who is calling: the signed-in account behind a request."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

ROLES_WITH_REQUIRED_TOTP = frozenset({"owner", "agency"})
LIVE_ROLES = frozenset({"owner", "resident"})
"""The household: only they watch live and talk (an agency never does, a neighbour neither)."""
HOUSEHOLD_ROLES = LIVE_ROLES
"""Who reaches cameras at all: their list, state, snapshots, events and live view."""
CAMERA_ROLES = frozenset({"resident"})
"""Who can be granted cameras (the owner sees every camera without grants)."""
SHARE_ROLES = frozenset({"neighbour"})
"""Who receives shares addressed to their account (their "Shared with me" page)."""
REQUEST_ROLES = frozenset({"agency"})
"""Who sends police footage requests (their "Footage requests" page), nothing else."""
CONFIRMED_FOR = timedelta(minutes=10)
"""How long a sign-in or a re-entered password allows security-sensitive changes."""


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
    confirmed_at: datetime | None = None
    """When this session last proved the password (sign-in or re-entry)."""
    must_change_password: bool = False
    """The owner reset this account's password: it chooses its own before anything else."""

    @property
    def recently_confirmed(self) -> bool:
        """Whether security-sensitive changes are allowed without entering the password again."""
        return (
            self.confirmed_at is not None and datetime.now(UTC) - self.confirmed_at < CONFIRMED_FOR
        )

    @property
    def in_household(self) -> bool:
        """Whether this account's role reaches cameras at all (owner and residents)."""
        return self.role in HOUSEHOLD_ROLES

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
