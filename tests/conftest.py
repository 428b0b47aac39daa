"""Suite-wide fixtures: the blocking-I/O guard, free ports, and gateway processes."""

from __future__ import annotations

import fcntl
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from blockbuster import BlockBuster, blockbuster_ctx
from hypothesis import settings as hypothesis_settings

from tests.leak_names import pytest_runtest_protocol  # noqa: F401  # tags leaked transports
from tests.shared_guard import reads_nothing_from_shared  # noqa: F401  # autouse fixture

# Property tests check what is computed, never how fast: on a loaded 2-core machine one example
# can take seconds. Speed goals live in bench/ (bench/fuzz.py for the parsers).
hypothesis_settings.register_profile("doorstep", deadline=None)
hypothesis_settings.load_profile("doorstep")

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def no_blocking_io_on_loop() -> Iterator[BlockBuster]:
    """Fail any test in which gateway or driver code blocks the running event loop.

    Blocking calls (file I/O, sleep, sqlite3, socket) made from our packages' frames while a
    loop is running raise `BlockingError`; work sent to threads is unaffected.
    """
    with blockbuster_ctx(["doorstep"]) as guard:
        yield guard


@pytest.fixture(autouse=True)
def fresh_aioice_mdns_state() -> Iterator[None]:
    """Each test runs its own event loop, but aioice keeps its mDNS lock and socket per thread:
    bound to the loop of the first test that resolved a browser's `.local` candidates, they make
    a later test's call fail ("Lock ... is bound to a different event loop"). A gateway runs
    one loop, so this is a test-only state to reset."""
    yield
    ice = sys.modules.get("aioice.ice")
    if ice is not None:
        protocol = ice._mdns.__dict__.get("protocol")
        if protocol is not None:  # a call left open: its socket goes with its loop
            protocol.transport.close()
        for name in ("lock", "protocol", "subscribers"):
            ice._mdns.__dict__.pop(name, None)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def port() -> int:
    """A free loopback port."""
    return free_port()


class GatewayProcess:
    """A real `doorstep` process on loopback, with its output collected to a file."""

    def __init__(self, args: list[str], log_path: Path, env: dict[str, str] | None = None) -> None:
        self.log_path = log_path
        self._log = log_path.open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "doorstep.gateway", *args],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            cwd=log_path.parent,
            env={**os.environ, **(env or {})},
        )

    def output(self) -> str:
        """Everything the process wrote so far."""
        return self.log_path.read_text()

    def wait_for_output(self, needle: str, timeout: float = 60.0) -> None:
        """Block until `needle` appears in the output (the process must stay alive). A hang
        guard: the demo starts in ~5 s idle here, and took over 20 s beside two CPU hogs."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if needle in self.output():
                return
            if self.proc.poll() is not None:
                raise AssertionError(f"gateway exited ({self.proc.returncode}):\n{self.output()}")
            time.sleep(0.05)
        raise AssertionError(f"{needle!r} not seen within {timeout}s:\n{self.output()}")

    def close(self) -> None:
        """Kill the process if it is still running."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._log.close()


StartGateway = Callable[..., GatewayProcess]


@pytest.fixture
def start_gateway(tmp_path: Path) -> Iterator[StartGateway]:
    """Start `python -m doorstep.gateway ARGS…` processes; all are killed at the end of the test."""
    started: list[GatewayProcess] = []

    def start(*args: str, env: dict[str, str] | None = None) -> GatewayProcess:
        process = GatewayProcess(list(args), tmp_path / f"gateway-{len(started)}.log", env)
        started.append(process)
        return process

    yield start
    for process in started:
        process.close()


@pytest.fixture
def unused_port() -> int:
    """A second free loopback port, where nothing listens."""
    return free_port()


@pytest.fixture
def loopback_mdns() -> Iterator[None]:
    """The loopback interface's mDNS group is one network shared by every test worker: a test
    that announces services on it has it to itself (another worker announcing the same names
    makes zeroconf refuse them, and a browse would see the other test's services)."""
    lock_path = Path(tempfile.gettempdir()) / "doorstep-tests-loopback-mdns.lock"
    with lock_path.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
