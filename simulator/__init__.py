"""A simulated ONVIF camera and video doorbell on loopback, speaking the real protocols.

Used by the demo, by the test suite and by driver authors: ONVIF SOAP (device, media, events
with pull points and push), WS-Security, WS-Discovery, RTSP with H.264 + G.711 and the ONVIF
audio backchannel, a JPEG snapshot, and a control API to press the doorbell, start motion,
reboot, skew the clock or misbehave.
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from doorstep.simulator.device import SimulatedDevice
    from doorstep.simulator.eventing import DeviceKind, Dialect
    from doorstep.simulator.profile import DeviceProfile, Quirk
    from doorstep.simulator.runner import Simulator, SimulatorConfig

# Loaded on first use, so `doorstep simctl` (which needs none of them) starts quickly.
_HOMES = {
    "DeviceKind": "eventing", "DeviceProfile": "profile", "Dialect": "eventing", "Quirk": "profile",
    "SimulatedDevice": "device", "Simulator": "runner", "SimulatorConfig": "runner",
}  # fmt: skip


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value


__all__ = [
    "DeviceKind",
    "DeviceProfile",
    "Dialect",
    "Quirk",
    "SimulatedDevice",
    "Simulator",
    "SimulatorConfig",
]
