"""Fuzz every network- and camera-fed parser for longer than CI does: the same Hypothesis
properties as tests/fuzz, per target, counting failures instead of stopping at the first.

A failure is an example for which the parser broke its contract (an exception other than its
documented error type, or an assertion on what it returned). Distinct failures (exception type and
the innermost gateway/drivers frame) go to stderr with one example each, shortened.

Usage: python bench/fuzz.py [--seconds 10 | --examples N] [--target sdp ...] [--json]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # the properties live with the tests, in tests/fuzz
_SHARED_SAMPLES = REPO.parent / "shared" / "camera-samples"
if _SHARED_SAMPLES.is_dir():  # real cameras' payloads as extra seeds, when they are beside us
    os.environ.setdefault("DOORSTEP_FUZZ_SAMPLES", str(_SHARED_SAMPLES))

from hypothesis import Phase, given, settings  # noqa: E402

from tests.fuzz.properties import FUZZ_SETTINGS, TARGETS, Target  # noqa: E402

BATCH = 100


@dataclass
class Tally:
    """What one target's run saw."""

    examples: int = 0
    failures: int = 0
    seconds: float = 0.0
    kinds: dict[str, str] = field(default_factory=dict)
    """Failure signature → a shortened example that produced it."""


def _signature(exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if "/gateway/" in f.filename or "/drivers/" in f.filename]
    frame = (ours or frames or [None])[-1]
    where = f"{Path(frame.filename).name}:{frame.lineno}" if frame is not None else "?"
    return f"{type(exc).__name__} at {where}"


def run_target(target: Target, seconds: float | None, examples: int | None) -> Tally:
    """Batches of generated examples until the time or example budget is spent."""
    tally = Tally()

    def one(value: Any) -> None:
        tally.examples += 1
        try:
            target.check(value)
        except Exception as exc:  # every failure is counted, none stops the run
            tally.failures += 1
            tally.kinds.setdefault(_signature(exc), repr(value)[:300])

    batch = settings(FUZZ_SETTINGS, max_examples=BATCH, phases=[Phase.generate])(
        given(target.strategy)(one)
    )
    start = time.perf_counter()
    while True:
        batch()
        tally.seconds = time.perf_counter() - start
        if examples is not None and tally.examples >= examples:
            break
        if examples is None and tally.seconds >= (seconds or 0):
            break
    return tally


def main() -> None:
    """Run the chosen targets and print their figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    budget = parser.add_mutually_exclusive_group()
    budget.add_argument("--seconds", type=float, default=None, help="per target (default 10)")
    budget.add_argument("--examples", type=int, default=None, help="per target")
    parser.add_argument("--target", action="append", choices=sorted(TARGETS), default=[])
    parser.add_argument("--json", action="store_true", help="one flat JSON object")
    args = parser.parse_args()
    logging.disable(logging.CRITICAL)  # a refused camera's log lines are not what is measured
    seconds = args.seconds if args.seconds is not None or args.examples else 10.0
    results: dict[str, float] = {}
    for name in args.target or sorted(TARGETS):
        tally = run_target(TARGETS[name], seconds, args.examples)
        results[f"examples_{name}"] = tally.examples
        results[f"examples_per_s_{name}"] = round(tally.examples / max(tally.seconds, 1e-9), 1)
        results[f"failures_{name}"] = tally.failures
        for kind, example in tally.kinds.items():
            print(f"{name}: {kind}: e.g. {example}", file=sys.stderr)
        if not args.json:
            print(f"examples_{name}: {tally.examples} examples", flush=True)
            print(f"examples_per_s_{name}: {results[f'examples_per_s_{name}']} examples/s")
            print(f"failures_{name}: {tally.failures} failures", flush=True)
    if args.json:
        print(json.dumps(results))


if __name__ == "__main__":
    main()
