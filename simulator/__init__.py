"""A simulated ONVIF camera and video doorbell on loopback, speaking the real protocols.

Used by the demo, by the test suite and by driver authors: ONVIF SOAP (device, media, events
with pull points and push), WS-Security, WS-Discovery, RTSP with H.264 + G.711 and the ONVIF
audio backchannel, a JPEG snapshot, and a control API to press the doorbell, start motion,
reboot, skew the clock or misbehave.
"""

from doorstep.simulator.device import SimulatedDevice
from doorstep.simulator.eventing import DeviceKind, Dialect
from doorstep.simulator.profile import DeviceProfile
from doorstep.simulator.runner import Simulator, SimulatorConfig

__all__ = [
    "DeviceKind",
    "DeviceProfile",
    "Dialect",
    "SimulatedDevice",
    "Simulator",
    "SimulatorConfig",
]
