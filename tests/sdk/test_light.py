"""`import doorstep.sdk` stays light: a driver author needs neither aiortc nor PyAV."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("aiortc", "av", "numpy", "onvif", "zeep", "doorstep.gateway", "doorstep.simulator")


def test_importing_the_sdk_loads_nothing_heavy() -> None:
    code = "import json, sys\nimport doorstep.sdk\nprint(json.dumps(sorted(sys.modules)))\n"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    loaded = json.loads(result.stdout)
    assert "doorstep.sdk" in loaded
    assert "pydantic" in loaded  # the models are pydantic: the check sees real imports
    heavy = [m for m in loaded if m.split(".")[0] in HEAVY or m.startswith(HEAVY)]
    assert heavy == []
    assert "doorstep.sdk.conformance" not in loaded
