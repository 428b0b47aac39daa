"""Typed application state shared by the composition root and the web handlers."""

from __future__ import annotations

from aiohttp import web

from ..audit import AuditLog
from ..audit.refusals import RefusalAudit
from ..auth import AccountService
from ..bus import EventBus
from ..cameras import CameraService
from ..config import Config
from ..devices import DeviceManager
from ..live import LiveService
from ..media.hub import StreamHub
from ..plugins import DriverRegistry
from ..secretbox import SecretBox
from ..storage import Database

CONFIG = web.AppKey("config", Config)
DATABASE = web.AppKey("database", Database)
BUS = web.AppKey("bus", EventBus)
DRIVERS = web.AppKey("drivers", DriverRegistry)
DEVICES = web.AppKey("devices", DeviceManager)
CAMERA_SERVICE = web.AppKey("camera_service", CameraService)
ACCOUNTS = web.AppKey("accounts", AccountService)
AUDIT = web.AppKey("audit", AuditLog)
SECRET_BOX = web.AppKey("secret_box", SecretBox)
LIVE = web.AppKey("live", LiveService)
STREAMS = web.AppKey("streams", StreamHub)
REFUSALS = web.AppKey("refusals", RefusalAudit)
"""Counts refused attempts; written to the audit log once a minute (or when the log is read)."""
