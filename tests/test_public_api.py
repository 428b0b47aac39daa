"""The driver SDK's public surface, and that every module imports on its own."""

from __future__ import annotations

import inspect
import pkgutil
import subprocess
import sys

import pytest
from pydantic import ValidationError

import doorstep.drivers.onvif
import doorstep.drivers.rtsp
import doorstep.gateway
import doorstep.protocols
import doorstep.simulator
from doorstep import sdk


def _all_modules() -> list[str]:
    names = []
    for package in (
        doorstep.gateway,
        doorstep.sdk,
        doorstep.drivers.onvif,
        doorstep.drivers.rtsp,
        doorstep.protocols,
        doorstep.simulator,
    ):
        names.append(package.__name__)
        for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            names.append(info.name)
    return sorted(n for n in names if not n.endswith("__main__"))


# Every module imported from nothing, one after another: 44 s on an idle 2-core machine and 89 s
# with two CPU hogs beside the suite, near its 120 s guard.
@pytest.mark.timeout(300)
def test_every_module_imports_alone_in_a_fresh_interpreter() -> None:
    modules = _all_modules()
    assert "doorstep.gateway.storage.db" in modules
    assert "doorstep.sdk" in modules
    assert "doorstep.drivers.onvif" in modules
    code = (
        "import importlib, sys\n"
        "failed = []\n"
        "for name in sys.argv[1:]:\n"
        "    for loaded in [m for m in sys.modules if m.startswith('doorstep')]:\n"
        "        del sys.modules[loaded]\n"
        "    try:\n"
        "        importlib.import_module(name)\n"
        "    except Exception as exc:\n"
        "        failed.append(f'{name}: {exc!r}')\n"
        "print('\\n'.join(failed))\n"
        "sys.exit(1 if failed else 0)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, *modules], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_sdk_all_is_sorted_and_complete() -> None:
    assert sdk.__all__ == sorted(sdk.__all__, key=lambda n: (not n.isupper(), n))
    public = {
        name
        for name, value in vars(sdk).items()
        if not name.startswith("_") and not inspect.ismodule(value) and name != "annotations"
    }
    assert public == set(sdk.__all__)


def test_sdk_public_items_are_documented() -> None:
    for name in sdk.__all__:
        value = getattr(sdk, name)
        if inspect.isclass(value) or inspect.isfunction(value):
            assert inspect.getdoc(value), f"doorstep.sdk.{name} has no docstring"


def test_sdk_models_are_frozen() -> None:
    info = sdk.DeviceInfo(manufacturer="A", model="B")
    with pytest.raises(ValidationError, match="frozen"):
        info.model = "C"  # type: ignore[misc]


def test_conformance_kit_all_is_sorted_complete_and_documented() -> None:
    from doorstep.sdk import conformance

    assert conformance.__all__ == sorted(conformance.__all__)
    public = {
        name
        for name, value in vars(conformance).items()
        if not name.startswith("_") and not inspect.ismodule(value)
    }
    assert public == set(conformance.__all__)
    for name in conformance.__all__:
        assert inspect.getdoc(getattr(conformance, name)), f"conformance.{name} has no docstring"


def test_sdk_docstring_states_the_version_policy() -> None:
    doc = " ".join((inspect.getdoc(sdk) or "").split())
    assert "major versions are equal" in doc
    assert "DeprecationWarning" in doc
    assert str(sdk.API_VERSION) == f"{sdk.API_VERSION.major}.{sdk.API_VERSION.minor}"
