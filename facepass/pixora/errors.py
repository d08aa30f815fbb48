"""The errors of session validation, and the one place Pixora's driver errors are translated.

A driver error's message can name the host, the user or the statement, so neither its text nor
the URL ever reaches a response or a log line: only its type and a fixed, useful sentence.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from psycopg import errors as pg_errors
from sqlalchemy import exc as sa_exc

from facepass.errors import Forbidden, NotFound, ServiceUnavailable
from facepass.observability.metrics import PIXORA_ERRORS

logger = logging.getLogger(__name__)

SESSION_NOT_FOUND = "Session not found"
FACEPASS_DISABLED = "FacePass is not enabled"
PIXORA_UNAVAILABLE = "Pixora's database is unavailable right now; retry in a few seconds."


class SessionNotFound(NotFound):
    code = "SESSION_NOT_FOUND"

    def __init__(self) -> None:
        super().__init__(SESSION_NOT_FOUND)


class FacePassDisabled(Forbidden):
    code = "FACEPASS_DISABLED"

    def __init__(self) -> None:
        super().__init__(FACEPASS_DISABLED)


class PixoraUnavailable(ServiceUnavailable):
    code = "PIXORA_UNAVAILABLE"

    def __init__(self) -> None:
        super().__init__(PIXORA_UNAVAILABLE, headers={"Retry-After": "5"})


def error_kind(exc: BaseException) -> str:
    """A short label for the PIXORA_ERRORS metric: timeout, connection or query."""
    original = getattr(exc, "orig", None)
    if isinstance(exc, sa_exc.TimeoutError) or isinstance(original, pg_errors.QueryCanceled):
        return "timeout"
    if isinstance(exc, sa_exc.OperationalError | sa_exc.InterfaceError):
        return "connection"
    return "query"


@contextmanager
def pixora_errors() -> Iterator[None]:
    """Turn any failure to read Pixora into PixoraUnavailable, counted and logged safely."""
    try:
        yield
    except (sa_exc.DBAPIError, sa_exc.TimeoutError) as exc:
        kind = error_kind(exc)
        PIXORA_ERRORS.labels(kind).inc()
        original = getattr(exc, "orig", None)
        logger.warning(
            "pixora read failed",
            extra={"kind": kind, "error_type": type(original or exc).__name__},
        )
        raise PixoraUnavailable() from None
