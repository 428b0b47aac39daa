"""How long `doorstep` commands take from the shell: the median wall time of N runs each.

`version` is `doorstep --version`; `simctl_help` is `doorstep simctl --help`; `simctl_press`
presses a doorbell of a running `doorstep simulate` (started once, not timed); `check_config`
validates a one-camera config file. Point --doorstep at another install to compare.

Usage: python bench/cli.py [--runs 9] [--doorstep PATH] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

CONFIG = """\
version: 1
cameras:
  - {id: porch, name: Porch, driver: onvif, host: 192.0.2.10, username: admin, password: x1234}
"""


def _default_doorstep() -> str:
    beside = Path(sys.executable).with_name("doorstep")
    return str(beside) if beside.exists() else shutil.which("doorstep") or "doorstep"


def median_ms(command: Sequence[str], runs: int) -> float:
    """The median wall time of `command` over `runs` runs, in milliseconds (it must succeed)."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # noqa: S603
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


@contextmanager
def running_simulator(doorstep: str, folder: Path) -> Iterator[Path]:
    """`doorstep simulate` with one doorbell, until the block ends; yields its control file."""
    control = folder / "simulator.json"
    proc = subprocess.Popen(  # noqa: S603  # our own command
        [doorstep, "simulate", "--cameras", "0", "--doorbells", "1", "--discovery-port", "0",
         "--control-file", str(control)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not control.exists() or not control.read_text():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("doorstep simulate did not start")
            time.sleep(0.05)
        yield control
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def measure(doorstep: str, runs: int) -> dict[str, float]:
    """Every figure, by name with its unit."""
    results = {
        "version_ms": median_ms([doorstep, "--version"], runs),
        "simctl_help_ms": median_ms([doorstep, "simctl", "--help"], runs),
    }
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        config = folder / "doorstep.yaml"
        config.write_text(CONFIG)
        with running_simulator(doorstep, folder) as control:
            press = [doorstep, "simctl", "press", "doorbell-1", "--control-file", str(control)]
            results["simctl_press_ms"] = median_ms(press, runs)
        results["check_config_ms"] = median_ms([doorstep, "check-config", str(config)], runs)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9, help="runs per command (median)")
    parser.add_argument("--doorstep", default=_default_doorstep(), help="the command to time")
    parser.add_argument("--json", action="store_true", help="one JSON object")
    args = parser.parse_args()
    os.environ.pop("DOORSTEP_PASSWORD", None)
    results = {k: round(v, 1) for k, v in measure(args.doorstep, args.runs).items()}
    if args.json:
        print(json.dumps(results))
    else:
        for key, value in results.items():
            name, _, unit = key.rpartition("_")
            print(f"{name}: {value} {unit}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
