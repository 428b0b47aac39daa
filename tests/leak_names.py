"""Names where a leaked socket transport came from, for the suite's ResourceWarnings.

A transport nobody closed is reported when the garbage collector finds it, often during a later
test and with nothing but its file descriptor. This tags each asyncio socket transport with the
test that was running when it was made, its protocol's class and both addresses, and puts them
into the transport's repr, which is what the "unclosed transport" warning prints. Test-only:
it wraps a private asyncio class, which is fine for a diagnostic and wrong for product code.
"""

from __future__ import annotations

from asyncio import selector_events
from typing import Any

import pytest

current_test = ["(no test)"]
_Transport: Any = selector_events._SelectorSocketTransport
_made = _Transport.__init__
_shown = _Transport.__repr__


def _describe(sock: Any, protocol: object) -> str:
    kind = f"{type(protocol).__module__}.{type(protocol).__qualname__}"
    try:
        ends = f"{sock.getsockname()} -> {sock.getpeername()}"
    except OSError:
        ends = "(not connected)"
    return f"made in {current_test[0]} for {kind}, {ends}"


def _init(self: Any, loop: Any, sock: Any, protocol: Any, *args: Any, **kwargs: Any) -> None:
    self._doorstep_origin = _describe(sock, protocol)
    _made(self, loop, sock, protocol, *args, **kwargs)


def _repr(self: Any) -> str:
    return f"{_shown(self)[:-1]} {getattr(self, '_doorstep_origin', '')}>"


_Transport.__init__ = _init
_Transport.__repr__ = _repr


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_protocol(item: pytest.Item) -> None:
    """Remember which test is running: transports made now are tagged with it."""
    current_test[0] = item.nodeid
