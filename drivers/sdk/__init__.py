"""Doorstep driver SDK: the whole public API a camera driver may import.

Write a driver by implementing `DriverFactory` and `Device` (plus whichever capabilities the
camera has: `HasStreams`, `HasEvents`, `HasSnapshot`, `HasTalk`, `HasPTZ`), raise only the errors
of the `DriverError` tree, and register the factory under the `doorstep.drivers` entry-point
group in your package metadata::

    [project.entry-points."doorstep.drivers"]
    mybrand = "doorstep_mybrand:MyBrandDriver"

Nothing else in Doorstep is a stable API for drivers.
"""

from doorstep.sdk._errors import (
    AuthenticationFailed,
    DeviceUnavailable,
    DriverError,
    ProtocolError,
    Unsupported,
)
from doorstep.sdk._models import (
    DeviceConfig,
    DeviceEvent,
    DeviceInfo,
    DiscoveredDevice,
    EventKind,
    StreamSource,
)
from doorstep.sdk._protocols import (
    API_VERSION,
    CAPABILITIES,
    Device,
    Discoverer,
    DriverContext,
    DriverFactory,
    HasEvents,
    HasPTZ,
    HasSnapshot,
    HasStreams,
    HasTalk,
    TalkSink,
    Webhook,
    WebhookRegistry,
    capabilities_of,
)

ENTRY_POINT_GROUP = "doorstep.drivers"
"""The entry-point group drivers register under."""

__all__ = [
    "API_VERSION",
    "CAPABILITIES",
    "ENTRY_POINT_GROUP",
    "AuthenticationFailed",
    "Device",
    "DeviceConfig",
    "DeviceEvent",
    "DeviceInfo",
    "DeviceUnavailable",
    "DiscoveredDevice",
    "Discoverer",
    "DriverContext",
    "DriverError",
    "DriverFactory",
    "EventKind",
    "HasEvents",
    "HasPTZ",
    "HasSnapshot",
    "HasStreams",
    "HasTalk",
    "ProtocolError",
    "StreamSource",
    "TalkSink",
    "Unsupported",
    "Webhook",
    "WebhookRegistry",
    "capabilities_of",
]
