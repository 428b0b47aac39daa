"""Fuzz tests use the simulator for the HTTP-level properties."""

from ..simulator.conftest import camera, doorbell, media, simulator, simulator_factory  # noqa: F401
