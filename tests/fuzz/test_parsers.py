"""Every parser fed by the network or a camera, fuzzed: it returns, or raises its own error."""

from __future__ import annotations

import pytest
from hypothesis import given, settings

from .properties import FUZZ_SETTINGS, TARGETS


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_parser_raises_only_its_documented_error(name: str) -> None:
    target = TARGETS[name]
    run = settings(FUZZ_SETTINGS, max_examples=target.ci_examples, derandomize=True)(
        given(target.strategy)(target.check)
    )
    run()
