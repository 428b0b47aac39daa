"""Live-view API tests run against the simulator too."""

from ..simulator.conftest import camera, doorbell, media, simulator, simulator_factory  # noqa: F401
