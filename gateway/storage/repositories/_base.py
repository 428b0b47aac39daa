"""What every repository shares: the connection its durability calls for."""

from __future__ import annotations

from typing import ClassVar, Self

from doorstep.gateway.storage.db import Connection, Database


class Repository:
    """A repository on one connection; `durable` repositories keep rows that must survive a
    power cut (accounts, sessions, audit), the others live on the faster standard connection."""

    durable: ClassVar[bool] = False

    def __init__(self, conn: Connection) -> None:
        if self.durable and conn.synchronous != "FULL":
            raise ValueError(f"{type(self).__name__} needs the synchronous=FULL connection")
        self._conn = conn

    @classmethod
    def of(cls, database: Database) -> Self:
        """This repository on the connection it needs."""
        return cls(database.durable if cls.durable else database.standard)
