"""Declares each JSON API route once: handler, access policy and schema (for the OpenAPI doc)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from doorstep.gateway import __version__
from doorstep.gateway.web.policy import Access, Handler, allow

JSON = "application/json"
Schema = Mapping[str, Any]


class ApiError(BaseModel):
    """Every error answer: a stable code for the UI and a reason for people (see json_error)."""

    error: str
    reason: str


class Done(BaseModel):
    """The answer of a change that has nothing else to say."""

    ok: Literal[True]


ERROR_DESCRIPTIONS = {
    401: "Not signed in, or wrong credentials",
    403: "Not allowed: role, cross-site request, second factor or re-authentication missing",
    404: "No such resource (or not one this account may see)",
    408: "The request body took too long to arrive",
    409: "Conflicts with the current state",
    413: "Request body too large",
    415: "State changes take a JSON body",
    416: "Range not satisfiable (Content-Range says the size)",
    421: "Host header is not one of this gateway's names",
    422: "Invalid input, with the reason",
    429: "Too many requests; see Retry-After when given",
    503: "The camera or a component is not available now",
}
"""Every error status the API answers; each has the ApiError body."""

_UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_PATH_PARAMETER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_ANY_JSON: Schema = {"description": "Any JSON value; ignored (every state change is JSON)"}
_BODY_FOR_MEDIA: dict[str, Schema] = {
    JSON: {"type": "object"},
    "image/jpeg": {"type": "string", "format": "binary"},
    "video/mp4": {"type": "string", "format": "binary"},
    "text/event-stream": {"type": "string"},
    "text/plain": {"type": "string"},
    "application/zip": {"type": "string", "format": "binary"},
}


@dataclass(frozen=True, slots=True)
class ApiRoute:
    """One API operation as documented in /api/openapi.json."""

    method: str
    path: str
    access: Access
    summary: str
    response: type[BaseModel] | None
    request: type[BaseModel] | None = None
    reauth: bool = False
    status: int = 200
    """The success status (201 when something was created or started)."""
    media_type: str = JSON
    """What a success answers with."""
    query: type[BaseModel] | None = None
    """Each field is one query parameter (all optional)."""
    path_params: Mapping[str, Schema] = field(default_factory=dict)
    errors: frozenset[int] = frozenset()
    """Error statuses the handler itself answers, beyond those of the middlewares."""

    def error_statuses(self) -> list[int]:
        """Every error status this operation can answer, middlewares' and handler's."""
        statuses = {421} | set(self.errors)  # the Host check comes first, for every route
        if self.method in _UNSAFE:
            statuses |= {403, 415}  # cross-site refusal, JSON only
        if self.request is not None:
            statuses |= {408, 413, 422}  # body_of: slow, large or invalid body
        if self.access is not Access.PUBLIC:
            statuses |= {401, 403}
        if self.access not in (Access.PUBLIC, Access.SIGNED_IN, Access.AGENCY):
            statuses.add(404)  # what an agency gets instead of 403: not even that it exists
        return sorted(statuses)


API_ROUTES = web.AppKey("api_routes", list[ApiRoute])


def add_api_route(
    app: web.Application,
    method: str,
    path: str,
    handler: Handler,
    *,
    access: Access,
    summary: str,
    response: type[BaseModel] | None = None,
    request: type[BaseModel] | None = None,
    reauth: bool = False,
    status: int = 200,
    media_type: str = JSON,
    query: type[BaseModel] | None = None,
    path_params: Mapping[str, Schema] | None = None,
    errors: Iterable[int] = (),
) -> None:
    """Register a route together with its access policy and its documentation.

    `reauth`: security-sensitive; the session must have proved the password recently.
    Every `{name}` in the path needs its schema in `path_params`, every error status in `errors`
    a description in ERROR_DESCRIPTIONS: the document cannot silently fall behind the routes.
    """
    params = dict(path_params or {})
    if set(_PATH_PARAMETER.findall(path)) != set(params):
        raise ValueError(f"{method} {path}: path_params must describe exactly {{...}} in the path")
    unknown = set(errors) - set(ERROR_DESCRIPTIONS)
    if unknown:
        raise ValueError(f"{method} {path}: undocumented error statuses {sorted(unknown)}")
    if method == "GET":
        app.router.add_get(path, handler, allow_head=True)  # HEAD answers like GET, no body
        allow(app, "HEAD", path, access)
    else:
        app.router.add_route(method, path, handler)
    allow(app, method, path, access, reauth=reauth)
    route = ApiRoute(
        method, path, access, summary, response, request, reauth, status, media_type, query,
        params, frozenset(errors),
    )  # fmt: skip
    app.setdefault(API_ROUTES, []).append(route)


def _query_parameters(model: type[BaseModel]) -> list[dict[str, object]]:
    schema = model.model_json_schema()
    if "$defs" in schema:
        raise ValueError(f"{model.__name__}: query parameters must be plain values")
    parameters: list[dict[str, object]] = []
    for name, declared in schema["properties"].items():
        prop = dict(declared)
        prop.pop("title", None)
        description = prop.pop("description", None)
        if "anyOf" in prop:  # `X | None = None`: absent is the None; the parameter itself is X
            (prop,) = [p for p in prop.pop("anyOf") if p != {"type": "null"}]
        prop.pop("default", None)
        parameter: dict[str, object] = {"name": name, "in": "query", "schema": prop}
        if description:
            parameter["description"] = description
        parameters.append(parameter)
    return parameters


def _operation(route: ApiRoute, refs: Mapping[tuple[Any, Any], Any]) -> dict[str, Any]:
    error_ref = refs[(ApiError, "serialization")]
    if route.response is not None:
        body: Schema = refs[(route.response, "serialization")]
    else:
        body = _BODY_FOR_MEDIA[route.media_type]
    responses: dict[str, object] = {
        str(route.status): {"description": "OK", "content": {route.media_type: {"schema": body}}}
    }
    for status in route.error_statuses():
        responses[str(status)] = {
            "description": ERROR_DESCRIPTIONS[status],
            "content": {JSON: {"schema": error_ref}},
        }
    operation: dict[str, Any] = {
        "summary": route.summary,
        "operationId": f"{route.method.lower()}_{route.path.strip('/').replace('/', '_')}",
        "x-doorstep-access": route.access.value,
        "responses": responses,
    }
    parameters: list[dict[str, object]] = [
        {"name": name, "in": "path", "required": True, "schema": dict(schema)}
        for name, schema in route.path_params.items()
    ]
    if route.query is not None:
        parameters += _query_parameters(route.query)
    if parameters:
        operation["parameters"] = parameters
    if route.request is not None:
        request_schema: Schema = refs[(route.request, "validation")]
    elif route.method in _UNSAFE:
        request_schema = _ANY_JSON
    else:
        return operation
    operation["requestBody"] = {"required": True, "content": {JSON: {"schema": request_schema}}}
    return operation


def _head(get: dict[str, Any]) -> dict[str, Any]:
    """HEAD answers GET's statuses and headers, without a body."""
    responses = {
        status: {"description": answer["description"]}
        for status, answer in get["responses"].items()
    }
    head = {**get, "operationId": "head" + get["operationId"].removeprefix("get")}
    head["summary"] = f"{get['summary']} (headers only)"
    head["responses"] = responses
    return head


def openapi_document(routes: list[ApiRoute]) -> dict[str, object]:
    """Build the OpenAPI 3.1 document from the declared routes."""
    outputs = {r.response for r in routes if r.response is not None} | {ApiError}
    inputs = {r.request for r in routes if r.request is not None}
    refs, schema = models_json_schema(
        [(m, "serialization") for m in sorted(outputs, key=lambda m: m.__name__)]
        + [(m, "validation") for m in sorted(inputs, key=lambda m: m.__name__)],
        ref_template="#/components/schemas/{model}",
    )
    paths: dict[str, dict[str, object]] = {}
    for route in routes:
        operation = _operation(route, refs)
        paths.setdefault(route.path, {})[route.method.lower()] = operation
        if route.method == "GET":
            paths[route.path]["head"] = _head(operation)
    return {
        "openapi": "3.1.0",
        "info": {"title": "Doorstep gateway API", "version": __version__},
        "paths": paths,
        "components": {"schemas": schema.get("$defs", {})},
    }


async def openapi_handler(request: web.Request) -> web.Response:
    """Serve the OpenAPI document."""
    return web.json_response(openapi_document(request.app[API_ROUTES]))
