"""Typed application state shared by the composition root and the web handlers."""

from __future__ import annotations

from aiohttp import web

from doorstep.gateway.audit import AuditLog
from doorstep.gateway.audit.checkpoints import Checkpointer
from doorstep.gateway.audit.refusals import RefusalAudit
from doorstep.gateway.auth import AccountService
from doorstep.gateway.automation.mqtt import MqttPublisher
from doorstep.gateway.automation.outgoing_webhooks import OutgoingWebhooks
from doorstep.gateway.bus.event_bus import EventBus
from doorstep.gateway.cameras.facade import Cameras
from doorstep.gateway.config.models import Config
from doorstep.gateway.devices import DeviceManager
from doorstep.gateway.devices.registry import DriverRegistry
from doorstep.gateway.evidence.service import EvidenceService
from doorstep.gateway.keys.secretbox import SecretBox
from doorstep.gateway.live import LiveService
from doorstep.gateway.media.hub import StreamHub
from doorstep.gateway.notify.service import PushService
from doorstep.gateway.recording.retention import ClipRetention
from doorstep.gateway.recording.service import Recording
from doorstep.gateway.ringing import RingTracker
from doorstep.gateway.settings import RuntimeSettings
from doorstep.gateway.sharing.service import ShareService
from doorstep.gateway.storage import Database, Storage

CONFIG = web.AppKey("config", Config)
DATABASE = web.AppKey("database", Database)
STORAGE = web.AppKey("storage", Storage)
"""The repositories: what the gateway reads and writes through (DATABASE is for tests)."""
BUS = web.AppKey("bus", EventBus)
DRIVERS = web.AppKey("drivers", DriverRegistry)
DEVICES = web.AppKey("devices", DeviceManager)
CAMERAS = web.AppKey("cameras", Cameras)
"""The camera façade: everything the web does with cameras goes through it."""
ACCOUNTS = web.AppKey("accounts", AccountService)
AUDIT = web.AppKey("audit", AuditLog)
CHECKPOINTS = web.AppKey("checkpoints", Checkpointer)
SECRET_BOX = web.AppKey("secret_box", SecretBox)
LIVE = web.AppKey("live", LiveService)
STREAMS = web.AppKey("streams", StreamHub)
RECORDING = web.AppKey("recording", Recording)
"""The cameras' recorders (absent until the cameras are up)."""
CLIP_RETENTION = web.AppKey("clip_retention", ClipRetention)
"""Clip retention and the disk's free-space floor."""
REFUSALS = web.AppKey("refusals", RefusalAudit)
"""Counts refused attempts; written to the audit log once a minute (or when the log is read)."""
OUTGOING_WEBHOOKS = web.AppKey("outgoing_webhooks", OutgoingWebhooks)
"""The owner's outgoing webhook rules and their deliveries (not the cameras' callbacks)."""
MQTT = web.AppKey("mqtt", MqttPublisher)
"""The MQTT publisher (Home Assistant discovery); absent unless `mqtt` is configured."""
PUSH = web.AppKey("push", PushService)
"""Web Push: the VAPID key, the owner's switch, each account's devices."""
RINGS = web.AppKey("rings", RingTracker)
"""Doorbell rings going on now: the banner on every page, and the calls that answer them."""
SETTINGS = web.AppKey("settings", RuntimeSettings)
"""The gateway settings the owner changes from the UI, over config.yaml's (always present)."""
SHARES = web.AppKey("shares", ShareService)
"""Shares of clips with neighbours (links and neighbour accounts)."""
EVIDENCE = web.AppKey("evidence", EvidenceService)
"""Police requests, the owner's decisions, evidence packages and their grants."""
