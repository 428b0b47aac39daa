"""Generic ONVIF driver: cameras and doorbells that speak ONVIF Profile S/T.

Identity from the device service, streams and snapshot from the media service, events from a
PullPoint subscription with a real long-poll, renewed early and re-created after the camera
reboots. Every URL the camera hands back must point at its own host. All use of
onvif-zeep-async is confined to `session.py`.
"""

from __future__ import annotations

from doorstep.drivers.onvif.device import OnvifDevice
from doorstep.sdk import API_VERSION, DeviceConfig, DriverContext


class OnvifDriver:
    """Factory of `OnvifDevice`s; registered as the `onvif` driver."""

    name = "onvif"
    api_version = API_VERSION

    def create(self, config: DeviceConfig, context: DriverContext) -> OnvifDevice:
        """A device for one configured camera."""
        return OnvifDevice(config, context)


__all__ = ["OnvifDevice", "OnvifDriver"]
