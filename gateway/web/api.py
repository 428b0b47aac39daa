"""Declares each JSON API route once: handler, access policy and schema (for the OpenAPI doc)."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from .. import __version__
from .policy import Access, Handler, allow


@dataclass(frozen=True, slots=True)
class ApiRoute:
    """One API operation as documented in /api/openapi.json."""

    method: str
    path: str
    access: Access
    summary: str
    response: type[BaseModel] | None
    request: type[BaseModel] | None = None


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
) -> None:
    """Register a route together with its access policy and its documentation."""
    app.router.add_route(method, path, handler)
    allow(app, method, path, access)
    if method == "GET":
        allow(app, "HEAD", path, access)
    app.setdefault(API_ROUTES, []).append(
        ApiRoute(method, path, access, summary, response, request)
    )


def openapi_document(routes: list[ApiRoute]) -> dict[str, object]:
    """Build the OpenAPI 3.1 document from the declared routes."""
    outputs = {r.response for r in routes if r.response is not None}
    inputs = {r.request for r in routes if r.request is not None}
    refs, schema = models_json_schema(
        [(m, "serialization") for m in sorted(outputs, key=lambda m: m.__name__)]
        + [(m, "validation") for m in sorted(inputs, key=lambda m: m.__name__)],
        ref_template="#/components/schemas/{model}",
    )
    paths: dict[str, dict[str, object]] = {}
    for route in routes:
        responses: dict[str, object] = {}
        if route.response is not None:
            ref = refs[(route.response, "serialization")]
            responses["200"] = {
                "description": "OK",
                "content": {"application/json": {"schema": ref}},
            }
        else:
            responses["200"] = {"description": "OK"}
        if route.access is not Access.PUBLIC:
            responses["401"] = {"description": "Not signed in"}
            responses["403"] = {"description": "Not allowed for this account"}
        operation: dict[str, object] = {
            "summary": route.summary,
            "operationId": f"{route.method.lower()}_{route.path.strip('/').replace('/', '_')}",
            "x-doorstep-access": route.access.value,
            "responses": responses,
        }
        if route.request is not None:
            operation["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": refs[(route.request, "validation")]}},
            }
            responses["422"] = {"description": "Invalid input, with the reason"}
        paths.setdefault(route.path, {})[route.method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {"title": "Doorstep gateway API", "version": __version__},
        "paths": paths,
        "components": {"schemas": schema.get("$defs", {})},
    }


async def openapi_handler(request: web.Request) -> web.Response:
    """Serve the OpenAPI document."""
    return web.json_response(openapi_document(request.app[API_ROUTES]))
