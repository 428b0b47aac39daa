"""Doorstep driver SDK: the whole public API a camera driver may import.

Write a driver by implementing `DriverFactory` and `Device` (plus whichever capabilities the
camera has: `HasStreams`, `HasEvents`, `HasSnapshot`, `HasTalk`, `HasPTZ`, `HasDiagnostics`),
raise only the errors of the `DriverError` tree, and register the factory under the
`doorstep.drivers` entry-point group in your package metadata::

    [project.entry-points."doorstep.drivers"]
    mybrand = "doorstep_mybrand:MyBrandDriver"

The lifecycle the gateway guarantees (a fresh `create()` on every reconnect, `close()` always)
is described in `Device`'s module, typed options in `DriverOptions`. Test a driver with the
conformance kit, a pytest plugin installed with Doorstep (`doorstep.sdk.conformance`).

Version policy: a driver sets `api_version = API_VERSION`. The gateway loads it when the major
versions are equal and the driver's minor is not newer than the gateway's (built against 1.0:
loads on 1.3, not on 2.x; built against 1.4: refused by 1.3, with that reason). Minor versions
only add; a deprecated name keeps working until the next major and warns once
(`DeprecationWarning`, logged by the gateway when it loads the driver).

1.1 added typed options (`options_model`, `needs_host`), `HasDiagnostics`,
`DiscoveredDevice.unique_id`, `DriverContext.rtsp_allow_basic`, and gave `Discoverer.discover` a
`DiscoveryScope` (where it may probe) instead of a listen time: no 1.0 gateway ever called it.

Importing this package imports pydantic and aiohttp, never aiortc, PyAV, numpy or onvif-zeep.
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
    DiscoveryScope,
    EventKind,
    StreamSource,
)
from doorstep.sdk._options import (
    DriverOptions,
    needs_host,
    option_problems,
    options_model_of,
    read_options,
)
from doorstep.sdk._protocols import (
    CAPABILITIES,
    Device,
    Discoverer,
    DriverContext,
    DriverFactory,
    HasDiagnostics,
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
from doorstep.sdk._version import API_VERSION, ApiVersion, api_version_problem, deprecated

ENTRY_POINT_GROUP = "doorstep.drivers"
"""The entry-point group drivers register under."""

__all__ = [
    "API_VERSION",
    "CAPABILITIES",
    "ENTRY_POINT_GROUP",
    "ApiVersion",
    "AuthenticationFailed",
    "Device",
    "DeviceConfig",
    "DeviceEvent",
    "DeviceInfo",
    "DeviceUnavailable",
    "DiscoveredDevice",
    "Discoverer",
    "DiscoveryScope",
    "DriverContext",
    "DriverError",
    "DriverFactory",
    "DriverOptions",
    "EventKind",
    "HasDiagnostics",
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
    "api_version_problem",
    "capabilities_of",
    "deprecated",
    "needs_host",
    "option_problems",
    "options_model_of",
    "read_options",
]
