"""The OpenAPI document lists every status the API answers, and 405s list every method.

Some answers come from the framework rather than from a route's own code: a body that cannot be
read as its media type is a 400 (and uvicorn answers a request it cannot parse with a plain-text
400 before the app sees it), any parameter or body that fails validation a 422. Rather than
repeat those on every route (and forget one), they are added here to every operation they can
happen to. Every integer parameter must have bounds (a test holds routes to it): PostgreSQL's
bigint overflows at 2**63 and would answer a 500.
"""

from __future__ import annotations

import re
import weakref
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from starlette.requests import Request

ERROR_REF = {"$ref": "#/components/schemas/ErrorResponse"}
_PLAIN = {"schema": {"type": "string"}}
_GENERIC = {
    400: "Malformed request (a body not readable as its media type, an unparseable request)",
    422: "Validation error",
}


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": ERROR_REF}}}


def unbounded_integer_parameters(document: dict[str, Any]) -> list[str]:
    """`METHOD path name` of every integer parameter lacking a minimum or a maximum."""
    found = []
    for path, operations in document.get("paths", {}).items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                schema = parameter.get("schema", {})
                variants = schema.get("anyOf", [schema])
                for variant in variants:
                    if variant.get("type") == "integer" and not (
                        "maximum" in variant and "minimum" in variant
                    ):
                        found.append(f"{method.upper()} {path} {parameter['name']}")
    return found


def _complete(document: dict[str, Any]) -> dict[str, Any]:
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            wanted = [400]  # any request: the HTTP server's own answer to what it cannot parse
            if "requestBody" in operation or operation.get("parameters"):
                wanted.append(422)
            for status in wanted:
                responses.setdefault(str(status), _error(_GENERIC[status]))
            # uvicorn answers an unparseable request line or header itself, in plain text.
            responses["400"].setdefault("content", {}).setdefault("text/plain", _PLAIN)
    return document


def install_openapi(app: FastAPI) -> None:
    """Complete the generated document once (cached like FastAPI's own)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            app.openapi_schema = _complete(document)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


_PARAMETER = re.compile(r"\\\{[^}]*\\\}")


_PathTable = list[tuple[re.Pattern[str], int, set[str]]]
_DOCUMENTED_PATHS: weakref.WeakKeyDictionary[FastAPI, _PathTable] = weakref.WeakKeyDictionary()


def _documented_paths(request: Request) -> _PathTable:
    """(path regex, parameter count, methods) of every documented path, built once per app."""
    app = request.app
    table = _DOCUMENTED_PATHS.get(app)
    if table is None:
        table = []
        for path, operations in app.openapi().get("paths", {}).items():
            pattern, parameters = _PARAMETER.subn("[^/]+", re.escape(path))
            methods = {method.upper() for method in operations}
            table.append((re.compile(f"^{pattern}$"), parameters, methods))
        _DOCUMENTED_PATHS[app] = table
    return table


def allowed_methods(request: Request) -> list[str]:
    """The documented methods of the most specific path matching this request's.

    `/photos/check` is itself, not one of `/photos/{photo_id}`: fewer parameters win.
    """
    path = request.url.path
    matching = [
        (n, methods) for pattern, n, methods in _documented_paths(request) if pattern.match(path)
    ]
    if not matching:
        return []
    fewest = min(n for n, _ in matching)
    return sorted({method for n, methods in matching if n == fewest for method in methods})


def misrouted_methods(request: Request) -> list[str]:
    """The allowed methods when this request's method is not one of them, else [].

    `GET /api/v1/sessions/validate` is routed to `GET /api/v1/sessions/{session_id}` and fails
    its UUID check; the caller meant the POST-only `/validate`, so the answer is a 405.
    """
    allowed = allowed_methods(request)
    return allowed if allowed and request.method not in allowed else []
