"""GET /api/meta: the UI's words come from the enums they describe, and the UI keeps no copy."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp import web
from aiohttp.test_utils import TestClient

from doorstep.gateway.auth.principal import CAMERA_ROLES, HOUSEHOLD_ROLES, ROLES_WITH_REQUIRED_TOTP
from doorstep.gateway.events import CameraState
from doorstep.gateway.storage.repositories.users import ROLES
from doorstep.gateway.web.meta_api import Meta, build_meta
from doorstep.sdk import CAPABILITIES, EventKind

ClientFactory = Callable[[web.Application], Awaitable[TestClient[web.Request, web.Application]]]
REPO = Path(__file__).resolve().parents[2]


def test_every_kind_role_state_and_capability_has_words() -> None:
    meta = build_meta()
    assert [k.kind for k in meta.event_kinds] == [k.value for k in EventKind]
    assert [r.role for r in meta.roles] == list(ROLES)
    assert [s.state for s in meta.camera_states] == [s.value for s in CameraState]
    assert [c.capability for c in meta.capabilities] == list(CAPABILITIES)
    for kind in meta.event_kinds:
        assert kind.label, kind
        assert "{camera}" in kind.sentence, kind
    assert [k.kind for k in meta.event_kinds if k.ring] == ["doorbell"]
    for state in meta.camera_states:
        assert state.tone in {"ok", "pending", "bad", "off"}, state
    unreachable = next(s for s in meta.camera_states if s.state == "unavailable")
    assert unreachable.sentence.format(host="192.168.1.40") == (
        "Can't reach the camera at 192.168.1.40 — is it powered and on the network?"
    )


def test_roles_say_what_the_access_rules_do() -> None:
    roles = {r.role: r for r in build_meta().roles}
    for name, role in roles.items():
        assert role.household == (name in HOUSEHOLD_ROLES)
        assert role.camera_grants == (name in CAMERA_ROLES)
        assert role.second_factor_required == (name in ROLES_WITH_REQUIRED_TOTP)
        assert role.may, name


async def test_meta_is_public_and_matches_its_model(
    app: web.Application, aiohttp_client: ClientFactory
) -> None:
    client = await aiohttp_client(app)
    response = await client.get("/api/meta")
    assert response.status == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert Meta.model_validate(await response.json()) == build_meta()
    document = await (await client.get("/api/openapi.json")).json()
    assert "/api/meta" in document["paths"]


def test_the_web_ui_holds_no_copy_of_the_vocabulary() -> None:
    """Kinds only the server names (every one but doorbell and motion, which the feed's logic
    treats specially), the roles outside the household and the state labels live in /api/meta."""
    scripts = {
        path: path.read_text()
        for path in (REPO / "webui").rglob("*.js")
        if "vendor" not in path.parts
    }
    assert len(scripts) > 20
    # The ring and the feed's icons name these; "storage" is also the DOM's localStorage event.
    special = {"doorbell", "motion", "person", "audio", "tamper", "storage"}
    names = [k.value for k in EventKind if k.value not in special]
    names += ["neighbour", "agency", "needs_credentials", "Can't reach"]
    found = [
        f"{path.relative_to(REPO)}: {name}"
        for path, text in scripts.items()
        for name in names
        if re.search(rf"[\"'`]{re.escape(name)}[\"'`]", text)
    ]
    assert found == []
