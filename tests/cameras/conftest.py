"""Fixtures for the camera façade's tests: the whole gateway against the simulator."""

from __future__ import annotations

from ..integration.conftest import start_gateway  # noqa: F401  # fixture
from ..simulator.conftest import media, simulator, simulator_factory  # noqa: F401  # fixtures
