"""Browser tests use the simulator's fixtures too."""

from ..simulator.conftest import camera, doorbell, media, simulator, simulator_factory  # noqa: F401
