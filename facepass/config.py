"""One settings object per process, built from the environment (and `.env`).

Every knob has a default that works on the embedded setup. In production a missing or
placeholder secret is refused at start, with a message that names the variable.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_MARKERS = ("changeme", "change-me", "placeholder", "example", "your-", "xxx")
RATE_LIMIT_PATTERN = re.compile(r"^\s*(\d+)\s*/\s*(second|minute|hour|day)\s*$")


class ConfigError(RuntimeError):
    """A setting is missing or unusable; the message names it and never echoes a secret."""


def _looks_like_placeholder(value: str) -> bool:
    lowered = value.lower()
    return any(marker in lowered for marker in PLACEHOLDER_MARKERS)


class Settings(BaseSettings):
    """FacePass's settings. Environment variables use the `FACEPASS_` prefix unless noted."""

    model_config = SettingsConfigDict(
        env_prefix="FACEPASS_", env_file=".env", extra="ignore", populate_by_name=True
    )

    environment: Literal["development", "production"] = "development"

    # Pixora's database: read-only. The brief names this variable without our prefix.
    main_app_database_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("MAIN_APP_DATABASE_URL", "FACEPASS_MAIN_APP_DATABASE_URL"),
    )
    pixora_statement_timeout_ms: int = 3000
    pixora_connect_timeout_s: int = 3
    pixora_pool_size: int = 5

    # FacePass's own database: every write goes here.
    database_url: str | None = None
    database_pool_size: int = 10
    # The schema owner's URL, for migrations only: the service then connects with
    # FACEPASS_DATABASE_URL's role, which may only INSERT and SELECT the audit log. Unset: one
    # role does both (the embedded default), and the audit chain is tamper-evident, not -proof.
    migration_database_url: str | None = None

    # Optional Redis: validation cache, rate limits, and the task queue's broker.
    redis_url: str | None = None
    redis_key_prefix: str = "facepass:"  # lets several deployments (or test runs) share a Redis

    admin_token: str | None = None
    api_key_pepper: str | None = None  # HMAC key of stored studio API keys' hashes
    host: str = "127.0.0.1"
    port: int = 8000
    public_base_url: str | None = None  # how guests reach us, for printed links
    # Reverse proxies whose X-Forwarded-For / -Proto are believed (uvicorn's list syntax: IPs,
    # networks, or "*"). Unset: none, and the TCP peer is the client (facepass.http.proxies).
    forwarded_allow_ips: str | None = None
    data_dir: Path = Path(".facepass-data")
    log_level: str = "INFO"
    # /docs, /redoc and /openapi.json; unset: on in development, off in production.
    api_docs: bool | None = None
    # /metrics asks for "Authorization: Bearer <token>" when set; production serves it only then.
    metrics_token: str | None = None
    log_json: bool = True

    # Validation cache: short, and shorter still for negative answers.
    cache_ttl_s: float = 30.0
    cache_negative_ttl_s: float = 5.0

    # Pixora sync, webhooks of FacePass status changes, usage analytics (migration 0003).
    sync_interval_s: float = 60.0  # 0 turns the periodic sync, and so the webhooks, off
    webhook_urls: str | None = None  # comma-separated endpoints told of status changes
    webhook_secret: str | None = None  # HMAC-SHA256 key of the X-FacePass-Signature header
    webhook_timeout_s: float = 5.0
    webhook_max_attempts: int = 8
    usage_flush_interval_s: float = 10.0

    # Photos and their storage.
    storage_backend: Literal["local", "s3"] = "local"
    s3_bucket: str | None = None
    s3_endpoint_url: str | None = None
    s3_region: str = "us-east-1"
    s3_prefix: str = "facepass/"
    max_upload_bytes: int = 80 * 1024 * 1024
    max_files_per_upload: int = 200

    # Background indexing.
    queue_backend: Literal["inprocess", "redis", "rabbitmq"] = "inprocess"
    rabbitmq_url: str | None = None
    inprocess_workers: int = 1
    reconcile_interval_s: float = 30.0
    stale_indexing_after_s: float = 600.0
    index_queue_name: str = "facepass-index"
    index_batch_size: int = 2  # photo ids per queue message
    index_max_attempts: int = 5  # claims of one photo before it fails as INDEXING_FAILED
    worker_heartbeat_s: float = 10.0  # a worker silent for 3 beats is dead to the reconciler

    # The session's people (facepass.people): grouping after indexing, and its use in search.
    people_grouping: bool = True  # regroup a session's faces after its photos are indexed
    people_regroup_delay_s: float = 10.0  # quiet gap after the last indexed photo
    people_regroup_max_wait_s: float = 120.0  # ... but regroup at most this long after the first
    people_search_expansion: bool = False  # a firmly matched person brings its other photos
    # Grouping cuts as fractions of the model's match threshold (facepass eval people --tune);
    # unset: the model's own (its registry params "people"), else the grouping's defaults.
    people_average_factor: float | None = None  # average linkage: lower is purer, splits more
    people_edge_factor: float | None = None  # small groups join their nearest one's (0: never)

    # Face engine.
    engine_threads: int = 1
    engine_providers: str = "CPUExecutionProvider"
    engine_detector: str | None = None
    engine_embedder: str | None = None
    # Smallest face indexing looks for, a fraction of a photo's shorter side (None: the
    # engine's 1/80; 0.02 halves detection work on 24 MP photos but misses faces under 80 px).
    engine_photo_min_face_fraction: float | None = Field(default=None, gt=0, le=1)
    models_dir: Path | None = None
    model_catalog: Path | None = None  # a catalog JSON replacing the built-in one

    # Selfie search.
    # Per address: only against floods (a venue's Wi-Fi or a carrier's NAT is one address).
    search_rate_limit: str = "300/minute"
    search_device_rate_limit: str = "10/minute"  # per browser (the page's signed device token)
    search_session_rate_limit: str = "600/minute"
    download_rate_limit: str = "20/minute"  # ZIP downloads per client address
    session_details_rate_limit: str = "120/minute"  # GET /api/v1/sessions/{id} per address
    # Fresh device tokens per address: past it, reloads of the page share one browser's limits.
    device_mint_rate_limit: str = "20/hour"
    opt_out_rate_limit: str = "6/hour"  # opt-outs per client address
    opt_out_device_rate_limit: str = "3/hour"  # opt-outs per browser (device token)
    search_max_selfies: int = 3
    search_max_selfie_bytes: int = 15 * 1024 * 1024
    search_max_selfie_pixels: int = 24_000_000  # checked in the header, before decoding
    search_page_size: int = 60
    search_threshold: float | None = None  # cosine distance; None: the model's own default
    search_max_results: int = 1000  # most photos one search returns (the page pages locally)
    search_combine: Literal["mean", "union"] = "mean"  # how several selfies make one query
    search_query_expansion: bool = False  # second pass with the strongest matches
    search_consensus: bool = True  # accept groups of the session's faces, not lone look-alikes
    search_ef_search: int = 100  # pgvector hnsw.ef_search for large sessions
    # Under a crowd (facepass.search.crowd): API processes on this machine (`facepass serve`'s
    # default --workers; the cores are shared among them), searches waiting for the engine per
    # process before 429 SERVER_BUSY, and the faces of concurrent searches embedded together.
    api_processes: int = 1
    search_queue_max: int = 32
    search_batch_max_faces: int = 8
    search_batch_wait_ms: float = 2.0
    retain_selfies: bool = False
    media_signing_key: str | None = None
    media_url_ttl_s: int = 3600
    results_token_ttl_s: int = 7 * 24 * 3600  # how long a guest's gallery can be reopened
    results_token_max_photos: int = 300  # photos a results token names (it travels in a URL)
    search_upload_timeout_s: float = 90.0  # the page gives up on a silent upload after this
    # Live selfies (search/live.py): sessions whose studio set no selfie policy follow this.
    # "live": camera and challenge required; "live_or_gallery": a gallery photo may search too.
    selfie_policy_default: Literal["live", "live_or_gallery"] = "live"
    live_challenge_ttl_s: int = Field(default=60, ge=10, le=600)
    # The anti-spoofing score below which a live pair's frame is refused; None: the model's
    # own (0.002, chosen on the tuning split). 0.5 is upstream's point: it refuses the print
    # and screen samples but also many real faces (docs/hardening.md, "Live selfies").
    live_spoof_threshold: float | None = Field(default=None, ge=0.0, le=1.0)
    # A live frame nearer than this times the embedder's match threshold to a face the session
    # holds is a copy of it (422 LIVE_COPIED_FACE). Unset: the rule's own (LiveParams,
    # chosen by `facepass eval copies`); 0 turns the check off.
    live_copy_factor: float | None = Field(default=None, ge=0.0, le=1.0)

    # The guest page: who runs the service (consent screen), and the event's QR code.
    operator_name: str | None = None
    privacy_policy_url: str | None = None
    # "Send me my photos": outgoing mail for the results link (unset: the page does not offer
    # it). smtp://user:password@host:587 (STARTTLS when offered) or smtps://host:465.
    smtp_url: str | None = None
    smtp_from: str = "FacePass <no-reply@localhost>"
    smtp_timeout_s: float = 15.0
    email_device_rate_limit: str = "3/hour"  # e-mails per browser (the page's device token)
    email_address_rate_limit: str = "2/hour"  # e-mails to one address (keyed hash, expiring)

    # Privacy: retention after the session's Pixora completed_at (None: photos are kept).
    face_retention_days: int = Field(default=90, ge=1)
    photo_retention_days: int | None = Field(default=None, ge=1)
    retention_interval_s: float = 3600.0  # how often the sync worker runs a retention pass
    # Days a studio may review and restore an opt-out or removal; then it is final.
    removal_review_days: int = Field(default=14, ge=0, le=365)

    @model_validator(mode="after")
    def _check(self) -> Settings:
        for name in (
            "search_rate_limit",
            "search_device_rate_limit",
            "search_session_rate_limit",
            "download_rate_limit",
            "session_details_rate_limit",
            "device_mint_rate_limit",
            "opt_out_rate_limit",
            "opt_out_device_rate_limit",
            "email_device_rate_limit",
            "email_address_rate_limit",
        ):
            if not RATE_LIMIT_PATTERN.match(getattr(self, name)):
                raise ValueError(f"FACEPASS_{name.upper()} must look like '10/minute'")
        return self

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    @property
    def docs_enabled(self) -> bool:
        """Whether the OpenAPI document and its viewers are served."""
        return self.api_docs if self.api_docs is not None else not self.is_production

    @property
    def embedded(self) -> bool:
        """True when no database is configured: the embedded default starts its own."""
        return self.database_url is None and self.main_app_database_url is None

    def require_production_ready(self) -> None:
        """Refuse to start in production with a missing or placeholder setting."""
        if not self.is_production:
            return
        required = {
            "MAIN_APP_DATABASE_URL": self.main_app_database_url,
            "FACEPASS_DATABASE_URL": self.database_url,
            "FACEPASS_ADMIN_TOKEN": self.admin_token,
            "FACEPASS_MEDIA_SIGNING_KEY": self.media_signing_key,
        }
        for name, value in required.items():
            if not value:
                raise ConfigError(f"{name} is required when FACEPASS_ENVIRONMENT=production")
            if _looks_like_placeholder(value):
                raise ConfigError(f"{name} still holds a placeholder value; set a real one")
        for name, secret in (
            ("FACEPASS_ADMIN_TOKEN", self.admin_token),
            ("FACEPASS_MEDIA_SIGNING_KEY", self.media_signing_key),
        ):
            if secret is not None and len(secret) < 24:
                raise ConfigError(f"{name} must be at least 24 characters in production")
        if self.api_key_pepper is not None and (
            _looks_like_placeholder(self.api_key_pepper) or len(self.api_key_pepper) < 24
        ):
            raise ConfigError(
                "FACEPASS_API_KEY_PEPPER must be a real secret of at least 24 characters"
            )
        if not self.public_base_url:
            raise ConfigError(
                "FACEPASS_PUBLIC_BASE_URL is required when FACEPASS_ENVIRONMENT=production: "
                "QR codes and posters print it (never the request's Host header)"
            )
        if not self.public_base_url.startswith(("https://", "http://")):
            raise ConfigError("FACEPASS_PUBLIC_BASE_URL must be an http(s):// URL")
        # The consent screen names who runs the service and links its privacy policy: a guest
        # consenting to biometric processing must be told both (GDPR art. 13, 152-FZ art. 18).
        for name, value in (
            ("FACEPASS_OPERATOR_NAME", self.operator_name),
            ("FACEPASS_PRIVACY_POLICY_URL", self.privacy_policy_url),
        ):
            if not value or _looks_like_placeholder(value):
                raise ConfigError(
                    f"{name} is required when FACEPASS_ENVIRONMENT=production: the consent "
                    "screen names the operator and links the privacy policy"
                )
        if not self.privacy_policy_url.startswith(("https://", "http://")):  # type: ignore[union-attr]
            raise ConfigError("FACEPASS_PRIVACY_POLICY_URL must be an http(s):// URL")
        if self.smtp_url and not self.smtp_url.startswith(("smtp://", "smtps://")):
            raise ConfigError("FACEPASS_SMTP_URL must be smtp://... or smtps://...")
        if self.retain_selfies:
            raise ConfigError(
                "FACEPASS_RETAIN_SELFIES keeps guests' faces on disk and is refused when "
                "FACEPASS_ENVIRONMENT=production"
            )
        if self.metrics_token is not None and len(self.metrics_token) < 24:
            raise ConfigError("FACEPASS_METRICS_TOKEN must be at least 24 characters in production")
        if self.storage_backend == "s3" and not self.s3_bucket:
            raise ConfigError("FACEPASS_S3_BUCKET is required when FACEPASS_STORAGE_BACKEND=s3")
        if self.queue_backend == "redis" and not self.redis_url:
            raise ConfigError("FACEPASS_REDIS_URL is required when FACEPASS_QUEUE_BACKEND=redis")
        if self.queue_backend == "rabbitmq" and not self.rabbitmq_url:
            raise ConfigError(
                "FACEPASS_RABBITMQ_URL is required when FACEPASS_QUEUE_BACKEND=rabbitmq"
            )


def parse_rate_limit(spec: str) -> tuple[int, float]:
    """'10/minute' -> (10, 60.0): how many requests in how many seconds."""
    match = RATE_LIMIT_PATTERN.match(spec)
    if match is None:
        raise ConfigError(f"not a rate limit: {spec!r} (expected e.g. '10/minute')")
    seconds = {"second": 1.0, "minute": 60.0, "hour": 3600.0, "day": 86400.0}[match.group(2)]
    return int(match.group(1)), seconds


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read once."""
    return Settings()
