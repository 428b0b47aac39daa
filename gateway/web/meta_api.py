"""GET /api/meta: the vocabulary the web UI shows, so the page holds no copy of it.

Event kinds (from the driver SDK's `EventKind`), account roles and camera connection states,
each with the words a homeowner reads. `{camera}` and `{host}` in a sentence are placeholders the
page fills in as text (never markup).
"""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel, Field

from doorstep.gateway.auth.principal import (
    CAMERA_ROLES,
    HOUSEHOLD_ROLES,
    REQUEST_ROLES,
    ROLES_WITH_REQUIRED_TOTP,
    SHARE_ROLES,
)
from doorstep.gateway.events import CameraState
from doorstep.gateway.storage.repositories.users import ROLES
from doorstep.gateway.web.api import add_api_route
from doorstep.gateway.web.policy import Access
from doorstep.sdk import CAPABILITIES, EventKind


class KindView(BaseModel):
    """One event kind and how the activity feed words it."""

    kind: str
    label: str = Field(description="Short name, for a filter list")
    sentence: str = Field(description="What happened; {camera} is the camera's name")
    ring: bool = Field(description="A doorbell press: rings the household")


class RoleView(BaseModel):
    """One account role and what it may do."""

    role: str
    label: str
    summary: str
    may: list[str] = Field(description="What an account with this role may do, in sentences")
    household: bool = Field(description="Reaches cameras, events and live view")
    camera_grants: bool = Field(description="Sees only the cameras granted to it")
    receives_shares: bool = Field(description="Receives the shares addressed to it, nothing else")
    sends_requests: bool = Field(description="Sends footage requests and downloads what is granted")
    second_factor_required: bool


class StateView(BaseModel):
    """One camera connection state in plain language."""

    state: str
    label: str
    sentence: str = Field(description="For the camera's card; {host} is the camera's address")
    tone: str = Field(description="ok, pending, bad or off: how the page colours it")


class CapabilityView(BaseModel):
    """One optional camera capability in plain language."""

    capability: str
    label: str


class Meta(BaseModel):
    """The UI's vocabulary."""

    event_kinds: list[KindView]
    roles: list[RoleView]
    camera_states: list[StateView]
    capabilities: list[CapabilityView]


_KINDS: dict[EventKind, tuple[str, str]] = {
    EventKind.MOTION: ("Motion", "Motion at {camera}"),
    EventKind.DOORBELL: ("Doorbell", "Someone rang the doorbell at {camera}"),
    EventKind.PERSON: ("Person", "A person at {camera}"),
    EventKind.VEHICLE: ("Vehicle", "A vehicle at {camera}"),
    EventKind.ANIMAL: ("Animal", "An animal at {camera}"),
    EventKind.PACKAGE: ("Package", "A package at {camera}"),
    EventKind.LINE_CROSSING: ("Line crossed", "Something crossed a line at {camera}"),
    EventKind.INTRUSION: ("Intrusion", "Something entered a watched area at {camera}"),
    EventKind.LOITERING: ("Loitering", "Someone lingered at {camera}"),
    EventKind.TAMPER: ("Tampering", "{camera} was covered, moved or tampered with"),
    EventKind.SCENE_CHANGE: ("Scene change", "The view of {camera} changed"),
    EventKind.AUDIO: ("Sound", "A sound at {camera}"),
    EventKind.DIGITAL_INPUT: ("Input", "An input of {camera} changed"),
    EventKind.RELAY: ("Relay", "A relay of {camera} switched"),
    EventKind.DAY_NIGHT: ("Day/night", "{camera} switched between day and night"),
    EventKind.STORAGE: ("Storage", "{camera} reported a storage problem"),
    EventKind.PTZ: ("Pan/tilt/zoom", "{camera} moved its view"),
    EventKind.OTHER: ("Other", "{camera} reported an event"),
}

_ROLES: dict[str, tuple[str, str, list[str]]] = {
    "owner": (
        "Owner",
        "Runs the gateway",
        [
            "Sees and watches every camera, and talks through them",
            "Adds and removes cameras",
            "Manages accounts and reads the audit log",
        ],
    ),
    "resident": (
        "Resident",
        "Lives here",
        [
            "Sees and watches the cameras granted to them, and talks through them",
            "Is rung when someone presses a doorbell they may see",
        ],
    ),
    "neighbour": (
        "Neighbour",
        "Has an account, but no cameras",
        [
            "Watches the clips the owner shares with this account, until each share ends",
            "Manages their own account",
        ],
    ),
    "agency": (
        "Agency",
        "An outside service, kept apart from the household",
        [
            "Sends footage requests, which the box checks and the owner decides clip by clip",
            "Downloads only the evidence packages the owner grants; never a camera or live video",
            "Manages their own account (a second factor is required)",
        ],
    ),
}

_STATES: dict[CameraState, tuple[str, str, str]] = {
    CameraState.CONNECTING: ("Connecting", "Connecting to the camera at {host}…", "pending"),
    CameraState.ONLINE: ("Online", "Connected", "ok"),
    CameraState.UNAVAILABLE: (
        "Can't reach",
        "Can't reach the camera at {host} — is it powered and on the network?",
        "bad",
    ),
    CameraState.NEEDS_CREDENTIALS: (
        "Wrong password",
        "The camera at {host} refused the user name or password",
        "bad",
    ),
    CameraState.DISABLED: ("Turned off", "Doorstep is not using this camera", "off"),
    CameraState.STOPPED: ("Stopped", "Doorstep stopped watching this camera", "off"),
}


_CAPABILITIES = {
    "events": "events",
    "ptz": "pan, tilt and zoom",
    "snapshot": "snapshots",
    "streams": "live video",
    "talk": "talk",
}


def build_meta() -> Meta:
    """The vocabulary from the enums and role sets it describes (a new member needs words)."""
    kinds = [
        KindView(
            kind=k.value, label=_KINDS[k][0], sentence=_KINDS[k][1], ring=k is EventKind.DOORBELL
        )
        for k in EventKind
    ]
    roles = [
        RoleView(
            role=role,
            label=_ROLES[role][0],
            summary=_ROLES[role][1],
            may=_ROLES[role][2],
            household=role in HOUSEHOLD_ROLES,
            camera_grants=role in CAMERA_ROLES,
            receives_shares=role in SHARE_ROLES,
            sends_requests=role in REQUEST_ROLES,
            second_factor_required=role in ROLES_WITH_REQUIRED_TOTP,
        )
        for role in ROLES
    ]
    states = [
        StateView(state=s.value, label=_STATES[s][0], sentence=_STATES[s][1], tone=_STATES[s][2])
        for s in CameraState
    ]
    capabilities = [CapabilityView(capability=c, label=_CAPABILITIES[c]) for c in CAPABILITIES]
    return Meta(event_kinds=kinds, roles=roles, camera_states=states, capabilities=capabilities)


_BODY = build_meta().model_dump_json()


async def get_meta(request: web.Request) -> web.Response:
    """GET /api/meta: event kinds, roles and camera states with their words."""
    return web.Response(text=_BODY, content_type="application/json")


def add_meta_routes(app: web.Application) -> None:
    """Declare GET /api/meta (public, like the API description: it holds no account data)."""
    add_api_route(
        app, "GET", "/api/meta", get_meta, access=Access.PUBLIC,
        summary="Event kinds, roles and camera states in plain language", response=Meta,
    )  # fmt: skip
