"""The checks use the suite's guards (no blocking I/O on the event loop) and read the corpus
directory that `scripts/test-corpus DIR` names."""

import os
from pathlib import Path

from tests.conftest import no_blocking_io_on_loop  # noqa: F401

CORPUS_ENV = "DOORSTEP_CORPUS"


def corpus_dir() -> Path:
    """The corpus to check (scripts/test-corpus DIR sets it); a clear error when it is unset."""
    value = os.environ.get(CORPUS_ENV)
    if not value:
        raise RuntimeError(f"${CORPUS_ENV} is unset: run the checks with scripts/test-corpus DIR")
    return Path(value).resolve()
