"""Operations endpoints: liveness, readiness (both databases) and Prometheus metrics."""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable
from typing import Literal

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel, Field

from facepass.api.dependencies import OwnDbDep, PixoraDep, SettingsDep
from facepass.errors import NotFound, ServiceUnavailable, Unauthorized, error_responses
from facepass.observability.metrics import REGISTRY

logger = logging.getLogger(__name__)

router = APIRouter(tags=["operations"])

CheckName = Literal["database", "pixora"]
CHECK_LABELS: dict[CheckName, str] = {
    "database": "FacePass's database",
    "pixora": "Pixora's database",
}


class Liveness(BaseModel):
    status: Literal["ok"] = "ok"


class Readiness(BaseModel):
    status: Literal["ready"] = "ready"
    checks: dict[CheckName, Literal["ok"]]
    pixora_host: str | None = Field(
        default=None,
        description="`host:port` of the Pixora server now serving (several with failover).",
    )


@router.get(
    "/health/live",
    response_model=Liveness,
    summary="Liveness",
    description="The process is up and serving; touches no dependency.",
)
def live() -> Liveness:
    return Liveness()


def _failed_checks(checks: dict[CheckName, Callable[[], None]]) -> list[CheckName]:
    failed: list[CheckName] = []
    for name, check in checks.items():
        try:
            check()
        except Exception as exc:  # any failure at all means "not ready"
            # The type only: a driver's message may name hosts or users.
            logger.warning(
                "readiness check failed", extra={"check": name, "error_type": type(exc).__name__}
            )
            failed.append(name)
    return failed


@router.get(
    "/health/ready",
    response_model=Readiness,
    summary="Readiness",
    description=(
        "Both databases answer: FacePass's own and Pixora's (read-only), with the Pixora "
        "host now serving (`host:port`: with a multi-host URL, which one took over). "
        "503 NOT_READY names the one that failed, never its address."
    ),
    responses=error_responses(503),
)
def ready(own_db: OwnDbDep, pixora: PixoraDep) -> Readiness:
    served_by: list[str] = []
    checks: dict[CheckName, Callable[[], None]] = {
        "database": own_db.ping,
        "pixora": lambda: served_by.append(pixora.serving_host()),
    }
    failed = _failed_checks(checks)
    if failed:
        names = " and ".join(CHECK_LABELS[name] for name in failed)
        raise ServiceUnavailable(
            f"Not ready: {names} unreachable ({', '.join(failed)}).", code="NOT_READY"
        )
    return Readiness(
        checks=dict.fromkeys(checks, "ok"), pixora_host=served_by[0] if served_by else None
    )


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    description=(
        "Counters and histograms in the Prometheus text format. With FACEPASS_METRICS_TOKEN "
        "set it asks for `Authorization: Bearer <token>`; in production it is served only then "
        "(404 otherwise)."
    ),
    response_class=Response,
    responses={
        200: {"content": {CONTENT_TYPE_LATEST: {"schema": {"type": "string"}}}},
        **error_responses(401, 404),
    },
)
def metrics(request: Request, settings: SettingsDep) -> Response:
    token = settings.metrics_token
    if token is None:
        if settings.is_production:
            raise NotFound("Not Found")  # off: production metrics need a token
    else:
        given = request.headers.get("authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            raise Unauthorized(
                "The metrics token is missing or wrong.", headers={"WWW-Authenticate": "Bearer"}
            )
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
