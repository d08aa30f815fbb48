"""One error shape for every non-2xx answer: {"error": {"code", "detail", "request_id"}}.

Handlers raise `FacePassError` (or a subclass); the exception handlers installed by
`install_error_handlers` turn it, validation failures and anything unexpected into that shape.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from facepass.observability.context import current_request_id, reset_request_id, set_request_id
from facepass.observability.middleware import REQUEST_ID_SCOPE_KEY
from facepass.openapi import allowed_methods, misrouted_methods

logger = logging.getLogger(__name__)


class FacePassError(Exception):
    """An error with a stable machine code, a human detail and an HTTP status."""

    status_code: int = 400
    code: str = "BAD_REQUEST"

    def __init__(
        self,
        detail: str,
        *,
        code: str | None = None,
        status_code: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        if code is not None:
            self.code = code
        if status_code is not None:
            self.status_code = status_code
        self.headers = headers or {}


class NotFound(FacePassError):
    status_code = 404
    code = "NOT_FOUND"


class Unauthorized(FacePassError):
    status_code = 401
    code = "UNAUTHORIZED"


class Forbidden(FacePassError):
    status_code = 403
    code = "FORBIDDEN"


class Conflict(FacePassError):
    status_code = 409
    code = "CONFLICT"


class UnprocessableInput(FacePassError):
    status_code = 422
    code = "INVALID_INPUT"


class RateLimited(FacePassError):
    status_code = 429
    code = "RATE_LIMITED"


class ServiceUnavailable(FacePassError):
    status_code = 503
    code = "SERVICE_UNAVAILABLE"


class ErrorBody(BaseModel):
    code: str
    detail: str
    request_id: str | None = None


class ErrorResponse(BaseModel):
    """The shape of every non-2xx JSON answer (documented in OpenAPI)."""

    error: ErrorBody


def error_payload(code: str, detail: str) -> dict[str, Any]:
    return {"error": {"code": code, "detail": detail, "request_id": current_request_id()}}


def error_response(
    status_code: int, code: str, detail: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(error_payload(code, detail), status_code=status_code, headers=headers)


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` entries declaring the error shape for the given statuses."""
    return {status: {"model": ErrorResponse} for status in statuses}


_HTTP_CODES = {
    400: "BAD_REQUEST",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    429: "RATE_LIMITED",
}


def _describe_validation(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors():
        location = ".".join(str(p) for p in err.get("loc", ()) if p not in ("body", "path"))
        parts.append(f"{location or 'request'}: {err.get('msg', 'invalid')}")
    return "; ".join(parts) or "invalid request"


def install_error_handlers(app: FastAPI) -> None:
    """Route every failure through the one error shape."""

    @app.exception_handler(FacePassError)
    async def _facepass_error(_: Request, exc: FacePassError) -> JSONResponse:
        return error_response(exc.status_code, exc.code, exc.detail, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        literal = misrouted_methods(request)
        if literal:
            allow = {"Allow": ", ".join(literal)}
            return error_response(405, "METHOD_NOT_ALLOWED", "Method Not Allowed", allow)
        return error_response(422, "VALIDATION_ERROR", _describe_validation(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, "HTTP_ERROR")
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            # Starlette names the methods of the first route matching the path only.
            documented = allowed_methods(request)
            if documented:
                headers["Allow"] = ", ".join(documented)
        return error_response(exc.status_code, code, str(exc.detail), headers)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        request_id = current_request_id() or request.scope.get(REQUEST_ID_SCOPE_KEY)
        token = set_request_id(request_id)  # this runs outside the request's middleware
        try:
            # Log the type only: messages of driver errors may carry connection strings.
            logger.error("unhandled error", extra={"error_type": type(exc).__name__})
            headers = {"X-Content-Type-Options": "nosniff"}
            if request_id:
                headers["X-Request-ID"] = request_id
            return error_response(500, "INTERNAL_ERROR", "An unexpected error occurred.", headers)
        finally:
            reset_request_id(token)
