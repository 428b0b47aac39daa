"""Device supervision: one task per configured camera, driving its driver."""

from .backoff import Backoff
from .manager import DeviceManager
from .supervisor import DeviceSupervisor

__all__ = ["Backoff", "DeviceManager", "DeviceSupervisor"]
