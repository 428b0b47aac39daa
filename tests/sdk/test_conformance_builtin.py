"""Both built-in drivers pass the conformance kit, against the simulator as their peer."""

from __future__ import annotations

import pytest

from doorstep.drivers.onvif import OnvifDriver
from doorstep.drivers.rtsp import RtspDriver
from doorstep.sdk import DeviceConfig
from doorstep.sdk.conformance import (
    ConformanceTarget,
    DriverConformance,
    SimulatorPeer,
    only_device,
)
from doorstep.simulator import Simulator


class TestOnvifConformance(DriverConformance):
    """The ONVIF driver against a simulated ONVIF camera."""

    @pytest.fixture
    def doorstep_target(
        self, doorstep_simulator: Simulator, doorstep_simulator_peer: SimulatorPeer
    ) -> ConformanceTarget:
        camera = only_device(doorstep_simulator)
        profile = camera.profile
        return ConformanceTarget(
            factory=OnvifDriver(),
            config=DeviceConfig(
                id="conformance",
                host=profile.host,
                port=profile.onvif_port,
                username=profile.username,
                password=profile.password,
            ),
            trigger_event=lambda: doorstep_simulator_peer.call(lambda: camera.motion(True)),
        )


class TestRtspConformance(DriverConformance):
    """The generic RTSP driver against the simulated camera's RTSP server."""

    @pytest.fixture
    def doorstep_target(self, doorstep_simulator: Simulator) -> ConformanceTarget:
        profile = only_device(doorstep_simulator).profile
        return ConformanceTarget(
            factory=RtspDriver(),
            config=DeviceConfig(
                id="conformance",
                host=profile.host,
                port=profile.rtsp_port,
                username=profile.username,
                password=profile.password,
                options={"main_path": "/stream/main", "sub_path": "/stream/sub"},
            ),
            checks_credentials=False,  # RTSP OPTIONS needs no credentials
        )
