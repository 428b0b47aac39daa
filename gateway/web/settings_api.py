"""Gateway settings API: the parts of config.yaml the owner changes from the UI (owner only;
changes need the password again and are audited with the fields' names, never their values)."""

from __future__ import annotations

import json
from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from doorstep.gateway.settings import (
    SECTIONS,
    InvalidSetting,
    RuntimeSettings,
    SectionView,
    UnknownSetting,
    file_only,
)
from doorstep.gateway.storage import StorageError
from doorstep.gateway.web.api import add_api_route
from doorstep.gateway.web.auth_api import body_of
from doorstep.gateway.web.keys import AUDIT, SETTINGS
from doorstep.gateway.web.policy import PRINCIPAL, Access, json_error
from doorstep.gateway.web.session import client_ip

MAX_BODY = 32 * 1024
SECTION_PARAM = {"type": "string", "pattern": f"^({'|'.join(SECTIONS)})$"}
FIELD_PARAM = {"type": "string", "pattern": "^[a-z][a-z0-9_]{0,63}$"}


class SettingsSection(BaseModel):
    """One section of settings, ready for a generic form."""

    model_config = ConfigDict(populate_by_name=True)

    name: str = Field(description="The section's key in config.yaml.")
    title: str
    description: str
    json_schema: dict[str, Any] = Field(
        alias="schema",
        description="JSON schema of the changeable fields (secrets are `writeOnly`).",
    )
    value: dict[str, Any] | None = Field(
        description="The values in effect (config.yaml's, with the owner's on top). A secret "
        "field `x` shows as `x_set: true|false`, never its value. null: an optional section "
        "that is off (MQTT without a broker)."
    )
    overridden: list[str] = Field(description="Fields whose value was set from the UI.")
    file_only: list[str] = Field(description="Fields of the section only config.yaml sets.")
    applies: Literal["now", "restart"] = Field(
        description="`now`: a change takes effect at once; `restart`: at the next start."
    )
    applies_note: str = Field(description="When a change takes effect, in words.")
    restart_pending: bool = Field(description="Changed since the start; applies at the next.")


class FileOnlySetting(BaseModel):
    """A part of config.yaml the UI does not change, and why."""

    path: str
    title: str
    reason: str


class SettingsPage(BaseModel):
    """Every section the owner may change, and what stays in config.yaml."""

    sections: list[SettingsSection]
    file_only: list[FileOnlySetting]
    restart_pending: list[str] = Field(
        description="Sections changed since the start that apply when Doorstep restarts."
    )


class SettingsChange(BaseModel):
    """Some fields of the section with their new values (see the section's schema); fields left
    out keep theirs. Objects merge field by field; lists are replaced whole (a TURN server sent
    back as shown, without its credential, keeps the stored one). A secret left out is kept;
    null clears it. Sending a field with config.yaml's value drops the override."""

    model_config = ConfigDict(extra="allow")


def _section(view: SectionView) -> SettingsSection:
    return SettingsSection(
        name=view.name, title=view.title, description=view.description,
        json_schema=view.schema, value=view.value, overridden=view.overridden,
        file_only=view.file_only, applies=view.applies, applies_note=view.applies_note,
        restart_pending=view.restart_pending,
    )  # fmt: skip


def _answer(view: SectionView) -> web.Response:
    return web.json_response(_section(view).model_dump(mode="json", by_alias=True))


def _invalid(exc: InvalidSetting) -> web.HTTPException:
    body = {
        "error": "invalid",
        "reason": str(exc),
        "problems": [{"field": p.field, "message": p.message} for p in exc.problems],
    }
    return web.HTTPUnprocessableEntity(text=json.dumps(body), content_type="application/json")


def _settings(request: web.Request) -> RuntimeSettings:
    return request.app[SETTINGS]


async def get_settings(request: web.Request) -> web.Response:
    """GET /api/settings: every changeable section with its schema and values."""
    settings = _settings(request)
    page = SettingsPage(
        sections=[_section(view) for view in settings.views()],
        file_only=[FileOnlySetting(path=f.path, title=f.title, reason=f.reason)
                   for f in file_only()],
        restart_pending=settings.restart_pending(),
    )  # fmt: skip
    return web.json_response(page.model_dump(mode="json", by_alias=True))


async def _audited(request: web.Request, section: str, fields: list[str], **extra: Any) -> None:
    if fields:
        await request.app[AUDIT].append(
            request[PRINCIPAL].username, "settings.update", f"settings:{section}",
            ip=client_ip(request), detail={"section": section, "fields": fields, **extra},
        )  # fmt: skip


async def put_section(request: web.Request) -> web.Response:
    """PUT /api/settings/{section}: change some fields of a section."""
    name = request.match_info["section"]
    if name not in SECTIONS:
        raise json_error(web.HTTPNotFound, "no_such_setting", "no such settings section")
    body = await body_of(request, SettingsChange, MAX_BODY)
    try:
        view, changed = await _settings(request).update(
            name, dict(body.model_extra or {}), request[PRINCIPAL].username
        )
    except InvalidSetting as exc:
        raise _invalid(exc) from None
    except StorageError:
        raise json_error(
            web.HTTPServiceUnavailable, "storage", "the settings cannot be saved now"
        ) from None
    await _audited(request, name, changed)
    return _answer(view)


async def _revert(request: web.Request, field: str | None) -> web.Response:
    name = request.match_info["section"]
    try:
        view, reverted = await _settings(request).revert(name, field, request[PRINCIPAL].username)
    except UnknownSetting:
        raise json_error(web.HTTPNotFound, "no_such_setting", "no such setting") from None
    except InvalidSetting as exc:
        raise _invalid(exc) from None
    except StorageError:
        raise json_error(
            web.HTTPServiceUnavailable, "storage", "the settings cannot be saved now"
        ) from None
    await _audited(request, name, reverted, reverted=True)
    return _answer(view)


async def revert_field(request: web.Request) -> web.Response:
    """DELETE /api/settings/{section}/{field}: the field back to config.yaml's value."""
    return await _revert(request, request.match_info["field"])


async def revert_section(request: web.Request) -> web.Response:
    """DELETE /api/settings/{section}: every field of the section back to config.yaml's."""
    return await _revert(request, None)


def add_settings_routes(app: web.Application) -> None:
    """Register the gateway settings routes (owner only; changes need the password again)."""
    owner, section = Access.OWNER, {"section": SECTION_PARAM}
    add_api_route(app, "GET", "/api/settings", get_settings, access=owner,
                  summary="Gateway settings: each section's schema, values in effect, what was "
                  "set from the UI, when a change applies; and what only config.yaml sets",
                  response=SettingsPage)  # fmt: skip
    add_api_route(app, "PUT", "/api/settings/{section}", put_section, access=owner,
                  reauth=True, summary="Change some fields of a settings section (stored over "
                  "config.yaml's values until that field is edited in the file; audited)",
                  request=SettingsChange, response=SettingsSection, path_params=section,
                  errors=(404, 422, 503))  # fmt: skip
    add_api_route(app, "DELETE", "/api/settings/{section}", revert_section, access=owner,
                  reauth=True, summary="Set a whole section back to config.yaml's values",
                  response=SettingsSection, path_params=section,
                  errors=(404, 422, 503))  # fmt: skip
    add_api_route(app, "DELETE", "/api/settings/{section}/{field}", revert_field,
                  access=owner, reauth=True,
                  summary="Set one field back to config.yaml's value",
                  response=SettingsSection, path_params={**section, "field": FIELD_PARAM},
                  errors=(404, 422, 503))  # fmt: skip
