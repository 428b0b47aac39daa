"""Device supervision: one task per configured camera, driving its driver."""

from doorstep.gateway.devices.backoff import Backoff
from doorstep.gateway.devices.manager import DeviceManager
from doorstep.gateway.devices.supervisor import DeviceSupervisor

__all__ = ["Backoff", "DeviceManager", "DeviceSupervisor"]
