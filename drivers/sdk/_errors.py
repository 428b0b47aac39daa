"""The driver error tree: the only exceptions a driver lets escape to the gateway.

    DriverError                 base of everything below; never raised itself
    ├── DeviceUnavailable       temporary: unreachable, timed out, rebooting. The gateway retries
    │                           with jittered backoff (capped at 60 s) and logs it once.
    ├── AuthenticationFailed    the device refused the credentials. Retrying cannot help: the
    │                           camera waits in "needs credentials" until the user acts.
    ├── Unsupported             the device lacks something the driver needs (a service, a codec),
    │                           or its configuration cannot work (a bad driver option).
    │                           Permanent: the camera is disabled with this error's message.
    └── ProtocolError           the device sent data the driver cannot use (bad XML, broken SDP).
                                Retried with backoff like DeviceUnavailable, since firmware often
                                recovers after a reboot, but reported as a device fault.

A driver maps its library's exceptions onto these in one place. Messages must never contain
credentials or raw payloads (a length and a hash of the payload are fine).
"""

from __future__ import annotations


class DriverError(Exception):
    """Base class of every error a driver raises to the gateway."""


class DeviceUnavailable(DriverError):
    """The device cannot be reached now; try again later."""


class AuthenticationFailed(DriverError):
    """The device rejected the credentials; a user must fix them."""


class Unsupported(DriverError):
    """The device, or its configuration, cannot work with this driver."""


class ProtocolError(DriverError):
    """The device answered with data the driver cannot interpret."""
