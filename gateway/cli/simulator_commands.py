"""`doorstep simulate` and `doorstep simctl`: the simulator's own commands, loaded on use."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from doorstep.gateway.cli.logs import setup_logging

DESCRIPTIONS = {
    "simulate": "Run simulated ONVIF cameras and doorbells on this machine until Ctrl-C.",
    "simctl": "Drive a running simulator: press, motion, reboot, clock skew, misbehave.",
}


def main(command: str, argv: Sequence[str]) -> int:
    """Parse and run `doorstep simulate …` or `doorstep simctl …`."""
    # The simulator's command module is light; `simulate` loads the devices when it runs them.
    from doorstep.simulator import command as simulator  # noqa: PLC0415  # only for these

    parser = argparse.ArgumentParser(prog=f"doorstep {command}", description=DESCRIPTIONS[command])
    if command == "simulate":
        simulator.add_simulate_arguments(parser)
        args = parser.parse_args(argv)
        setup_logging("info", "text")
        return simulator.run_simulate(args)
    simulator.add_simctl_arguments(parser)
    return simulator.run_simctl(parser.parse_args(argv))
