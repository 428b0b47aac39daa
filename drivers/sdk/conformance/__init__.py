"""The driver conformance kit: checks every Doorstep driver should pass, as a pytest plugin.

Installed with Doorstep (the `pytest11` entry point loads `doorstep.sdk.conformance.plugin`,
whose fixtures are all named `doorstep_*` and none autouse). In your driver's tests::

    import pytest
    from doorstep.sdk import DeviceConfig
    from doorstep.sdk.conformance import ConformanceTarget, DriverConformance, only_device

    from doorstep_acme import AcmeDriver


    class TestAcmeConformance(DriverConformance):
        @pytest.fixture
        def doorstep_target(self, doorstep_simulator) -> ConformanceTarget:
            camera = only_device(doorstep_simulator)
            return ConformanceTarget(
                factory=AcmeDriver(),
                config=DeviceConfig(id="acme", host="127.0.0.1", port=camera.profile.rtsp_port),
                checks_credentials=False,
            )

The checks (each a test of `DriverConformance`): the factory declares a valid name, API
version and strict options model; `create()` is cheap and fresh; create → connect →
capabilities → streams → close leaves no task running; `close()` is idempotent; a closed port
gives `DeviceUnavailable` and a wrong password `AuthenticationFailed`, never a bare exception;
events are `DeviceEvent`s of the vocabulary in aware UTC; a cancelled `connect()` (to a device
that never answers) and a cancelled event feed unwind, and `close()` still works.
"""

from doorstep.sdk.conformance.checks import ConformanceTarget, DriverConformance
from doorstep.sdk.conformance.peer import BlackHole, SimulatorPeer, closed_port, only_device

__all__ = [
    "BlackHole",
    "ConformanceTarget",
    "DriverConformance",
    "SimulatorPeer",
    "closed_port",
    "only_device",
]
