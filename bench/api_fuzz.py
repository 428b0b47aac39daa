"""Fuzz the gateway's API for longer than CI does: the same schemathesis run as tests/api, per
role, with random (not CI's fixed) examples, counting failures instead of stopping at the first.

Each role gets a fresh gateway on 127.0.0.1 (two cameras it never reaches, nothing probed).
Distinct failures go to stderr with one example each. Past 10 minutes a session's password proof
is stale, so security-sensitive routes answer 403 reauth_required from then on (still checked).

Usage: python bench/api_fuzz.py [--examples 50] [--role owner ...] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # the fuzzing lives with the tests, in tests/api

from aiohttp import web  # noqa: E402

from doorstep.gateway.web.keys import ACCOUNTS  # noqa: E402
from doorstep.simulator import Simulator, SimulatorConfig  # noqa: E402
from doorstep.simulator.library import MediaLibrary  # noqa: E402
from tests.api.conftest import start_gateway  # noqa: E402
from tests.api.fuzzing import ROLES, Tally, check_stream, fuzz_role, sign_in_as  # noqa: E402
from tests.gateway_client import until_online  # noqa: E402


async def run_role(role: str, examples: int, media: MediaLibrary) -> tuple[Tally, list[str], float]:
    """One fresh gateway, fuzzed as `role`: the tally, stream problems and the seconds it took."""
    simulator = Simulator(SimulatorConfig(cameras=0, doorbells=1, discovery_port=0), media)
    await simulator.start()
    with tempfile.TemporaryDirectory() as data_dir:
        app = await start_gateway(Path(data_dir), simulator)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        try:
            await until_online(app, "garden")
            port = runner.addresses[0][1]
            base_url, token = f"http://127.0.0.1:{port}", app[ACCOUNTS].setup_token
            assert token

            def run() -> tuple[Tally, list[str]]:
                session = sign_in_as(base_url, token, role)
                stream = check_stream(base_url, session.cookies, role)
                return fuzz_role(base_url, session, role, examples, derandomize=False), stream

            start = time.perf_counter()
            tally, stream = await asyncio.to_thread(run)
            return tally, stream, time.perf_counter() - start
        finally:
            await runner.cleanup()
            await simulator.stop()


def main() -> None:
    """Run the chosen roles and print their figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=50,
                        help="per operation, mode (positive, negative) and role")  # fmt: skip
    parser.add_argument("--role", action="append", choices=list(ROLES), default=[])
    parser.add_argument("--json", action="store_true", help="one flat JSON object")
    args = parser.parse_args()
    logging.disable(logging.CRITICAL)  # unreachable cameras' log lines are not what is measured
    media = MediaLibrary()
    media.prepare([(640, 360)])
    results: dict[str, float] = {}
    totals = {"examples": 0, "failures": 0, "seconds": 0.0}
    for role in args.role or list(ROLES):
        tally, stream, seconds = asyncio.run(run_role(role, args.examples, media))
        failures = tally.failures + len(stream)
        for kind, example in tally.kinds.items():
            print(f"{role}: {kind}: e.g. {example}", file=sys.stderr)
        for problem in stream:
            print(f"{role}: {problem}", file=sys.stderr)
        figures = {
            f"{role}_operations": (tally.operations, "operations"),
            f"{role}_examples": (tally.examples, "examples"),
            f"{role}_examples_per_s": (round(tally.examples / max(seconds, 1e-9), 1), "examples/s"),
            f"{role}_failures": (failures, "failures"),
        }
        for name, (value, unit) in figures.items():
            results[name] = value
            if not args.json:
                print(f"{name}: {value} {unit}", flush=True)
        totals["examples"] += tally.examples
        totals["failures"] += failures
        totals["seconds"] += seconds
    results["total_examples"] = totals["examples"]
    results["total_failures"] = totals["failures"]
    results["total_s"] = round(totals["seconds"], 1)
    if args.json:
        print(json.dumps(results))
    else:
        print(f"total_examples: {totals['examples']} examples")
        print(f"total_failures: {totals['failures']} failures")
        print(f"total_s: {results['total_s']} s")
    sys.exit(1 if totals["failures"] else 0)


if __name__ == "__main__":
    main()
