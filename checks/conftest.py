"""The checks use the suite's guards: no blocking I/O on the event loop."""

from tests.conftest import no_blocking_io_on_loop  # noqa: F401
