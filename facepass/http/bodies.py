"""Small request bodies read whole, but bounded, and parsed strictly.

`request.json()` reads any amount, and its errors (bad JSON, bad UTF-8, nesting deep enough to
exhaust the recursion limit) surface as 500s. Here the body is capped while it streams in and
every parse failure is a 400 in the common error shape.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request

from facepass.errors import FacePassError


class MalformedBody(FacePassError):
    status_code = 400
    code = "MALFORMED_BODY"


class BodyTooLarge(FacePassError):
    status_code = 413
    code = "PAYLOAD_TOO_LARGE"


MAX_JSON_DEPTH = 32


async def read_body(request: Request, max_bytes: int) -> bytes:
    """The whole body, or 413 as soon as it exceeds max_bytes (declared or streamed)."""
    too_large = BodyTooLarge(f"The request body may be at most {max_bytes} bytes.")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise too_large
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > max_bytes:
            raise too_large
    return bytes(body)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _depth(text: str) -> int:
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def parse_json(body: bytes) -> Any:
    """Strict JSON (UTF-8, no NaN/Infinity, nesting <= MAX_JSON_DEPTH); 400 otherwise."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedBody("The body is not UTF-8.") from None
    if _depth(text) > MAX_JSON_DEPTH:
        raise MalformedBody(f"The JSON is nested deeper than {MAX_JSON_DEPTH} levels.")
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except (ValueError, RecursionError):
        raise MalformedBody("The body is not valid JSON.") from None
