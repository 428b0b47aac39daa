"""Generic ONVIF driver: cameras and doorbells that speak ONVIF Profile S/T.

Identity from the device service, streams and snapshot from the media service, events from a
PullPoint subscription with a real long-poll, renewed early and re-created after the camera
reboots. Talk through the main stream's RTSP audio backchannel (`talk.py`). Devices are found
by WS-Discovery, with mDNS hints (`discovery.py`). Every URL the camera hands back must point
at its own host. All use of onvif-zeep-async is confined to `session.py`.
"""

from __future__ import annotations

from collections.abc import Sequence

from doorstep.drivers.onvif import discovery
from doorstep.drivers.onvif.device import OnvifDevice
from doorstep.drivers.onvif.options import OnvifOptions
from doorstep.sdk import API_VERSION, DeviceConfig, DiscoveredDevice, DiscoveryScope, DriverContext


class OnvifDriver:
    """Factory of `OnvifDevice`s, and their `Discoverer`; registered as the `onvif` driver."""

    name = "onvif"
    api_version = API_VERSION
    options_model = OnvifOptions

    def create(self, config: DeviceConfig, context: DriverContext) -> OnvifDevice:
        """A device for one configured camera."""
        return OnvifDevice(config, context)

    async def discover(self, scope: DiscoveryScope) -> Sequence[DiscoveredDevice]:
        """ONVIF devices answering WS-Discovery where `scope` allows, and mDNS hints."""
        return await discovery.discover(scope)


__all__ = ["OnvifDevice", "OnvifDriver"]
