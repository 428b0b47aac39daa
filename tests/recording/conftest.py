"""Recording tests use the simulator's fixtures."""

from ..simulator.conftest import camera, doorbell, media, simulator, simulator_factory  # noqa: F401
