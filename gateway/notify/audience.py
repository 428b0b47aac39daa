"""Who may be told about a camera, looked up when a notification is sent (never cached), so a
disabled or deleted account, a role change or a withdrawn grant stops the next one."""

from __future__ import annotations

from doorstep.gateway.storage import UserRepository

HOUSEHOLD_ROLES = frozenset({"owner", "resident"})
"""The roles that reach cameras at all: the same set as `auth.principal.HOUSEHOLD_ROLES`
(auth sits above this package; tests/notify checks the two agree)."""
SEES_EVERY_CAMERA = "owner"


class Audience:
    """The cameras each account may see right now, read from the accounts' own tables."""

    def __init__(self, users: UserRepository) -> None:
        self._users = users

    async def cameras_of(self, user_id: int) -> frozenset[str] | None:
        """The camera ids the account may see; None for all of them (the owner); an empty set
        for an account that is gone, disabled or outside the household."""
        user = await self._users.by_id(user_id)
        if user is None or user.disabled or user.role not in HOUSEHOLD_ROLES:
            return frozenset()
        if user.role == SEES_EVERY_CAMERA:
            return None
        return frozenset(await self._users.grants(user_id))

    async def may_see(self, user_id: int, camera_id: str) -> bool:
        """Whether the account may be told about this camera now."""
        cameras = await self.cameras_of(user_id)
        return cameras is None or camera_id in cameras
