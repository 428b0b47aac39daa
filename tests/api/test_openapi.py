"""The OpenAPI document is complete enough to fuzz from: parameters, every status, media types."""

from __future__ import annotations

import re
from typing import Any

import pytest
from aiohttp import web

from doorstep.gateway.web.api import API_ROUTES, add_api_route, openapi_document
from doorstep.gateway.web.policy import Access
from doorstep.gateway.web.server import create_web_app

CREATED = {
    ("post", "/api/setup"), ("post", "/api/users"), ("post", "/api/cameras"),
    ("post", "/api/live/{camera_id}"), ("post", "/api/live/session/{session_id}/talk"),
    ("post", "/api/push/subscriptions"), ("post", "/api/automations/webhooks"),
    ("post", "/api/clips/{clip_id}/hold"), ("post", "/api/shares"),
    ("post", "/api/audit/checkpoints"), ("post", "/api/agencies"), ("post", "/api/requests"),
    ("post", "/api/requests/signed"), ("post", "/api/agency/requests"),
}  # fmt: skip
OK_BODY = {
    ("delete", "/api/session"), ("post", "/api/session/confirm"), ("post", "/api/me/password"),
    ("post", "/api/me/totp/confirm"), ("delete", "/api/users/{user_id}"),
    ("delete", "/api/cameras/{camera_id}"), ("delete", "/api/live/session/{session_id}"),
    ("delete", "/api/clips/{clip_id}"), ("delete", "/api/shares/{share_id}"),
}  # fmt: skip


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return openapi_document(create_web_app()[API_ROUTES])


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
    ]


def test_path_parameters_are_declared_with_schemas(document: dict[str, Any]) -> None:
    for method, path, operation in _operations(document):
        declared = {p["name"]: p for p in operation.get("parameters", []) if p["in"] == "path"}
        assert set(declared) == set(re.findall(r"\{(\w+)\}", path)), (method, path)
        for parameter in declared.values():
            assert parameter["required"] is True
            assert parameter["schema"]["type"] == "string"
            assert parameter["schema"]["pattern"].startswith("^")


def test_query_parameters_of_events_and_audit(document: dict[str, Any]) -> None:
    def names(path: str) -> set[str]:
        parameters = document["paths"][path]["get"]["parameters"]
        assert all(p["in"] == "query" and "schema" in p for p in parameters)
        return {p["name"] for p in parameters}

    assert names("/api/events") == {"camera", "kind", "before", "limit"}
    assert names("/api/audit") == {"actor", "action", "target", "since", "until", "before", "limit"}
    events = {p["name"]: p["schema"] for p in document["paths"]["/api/events"]["get"]["parameters"]}
    assert events["camera"]["type"] == "array"
    assert events["before"]["format"] == "date-time"
    assert events["limit"]["type"] == "integer"


def test_success_statuses_and_media_types(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    for method, path, operation in _operations(document):
        responses = operation["responses"]
        success = {s for s in responses if s.startswith("2")}
        assert success == ({"201"} if (method, path) in CREATED else {"200"}), (method, path)
        if method == "head":
            assert all("content" not in answer for answer in responses.values()), path
            continue
        (answer,) = (responses[s] for s in success)
        if (method, path) in OK_BODY:
            ref = answer["content"]["application/json"]["schema"]["$ref"]
            done = schemas[ref.rsplit("/", 1)[-1]]
            assert done["properties"]["ok"] == {"const": True, "title": "Ok", "type": "boolean"}
    snapshot = document["paths"]["/api/cameras/{camera_id}/snapshot"]["get"]["responses"]["200"]
    assert set(snapshot["content"]) == {"image/jpeg"}
    stream = document["paths"]["/api/events/stream"]["get"]["responses"]["200"]
    assert set(stream["content"]) == {"text/event-stream"}


def test_every_error_status_has_the_error_schema(document: dict[str, Any]) -> None:
    error = document["components"]["schemas"]["ApiError"]
    assert set(error["required"]) == {"error", "reason"}
    for method, path, operation in _operations(document):
        responses = operation["responses"]
        errors = {int(s) for s in responses if s[0] in "45"}
        assert 421 in errors  # the Host check answers before any route
        if operation["x-doorstep-access"] != Access.PUBLIC.value:
            assert {401, 403} <= errors, (method, path)
        if method in ("post", "patch", "delete"):
            assert {403, 415} <= errors, (method, path)
            body = operation["requestBody"]
            assert body["required"] is True
            assert set(body["content"]) == {"application/json"}
        if method == "head":
            continue
        for status in errors:
            schema = responses[str(status)]["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/ApiError"}, (method, path, status)


def test_every_get_has_its_head(document: dict[str, Any]) -> None:
    for path, item in document["paths"].items():
        if "get" in item:
            head = item["head"]
            assert head["x-doorstep-access"] == item["get"]["x-doorstep-access"]
            assert set(head["responses"]) == set(item["get"]["responses"]), path


async def _handler(request: web.Request) -> web.Response:
    return web.json_response({})


def test_a_route_must_describe_its_path_parameters_and_errors() -> None:
    app = web.Application()
    with pytest.raises(ValueError, match="path_params"):
        add_api_route(app, "GET", "/api/things/{thing_id}", _handler,
                      access=Access.OWNER, summary="A thing")  # fmt: skip
    with pytest.raises(ValueError, match="undocumented error statuses"):
        add_api_route(app, "GET", "/api/things", _handler,
                      access=Access.OWNER, summary="Things", errors=(418,))  # fmt: skip
