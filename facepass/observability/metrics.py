"""Prometheus metrics: one registry per process, served at /metrics."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

HTTP_REQUESTS = Counter(
    "facepass_http_requests_total",
    "HTTP requests served, by route template, method and status.",
    ["route", "method", "status"],
    registry=REGISTRY,
)
HTTP_LATENCY = Histogram(
    "facepass_http_request_duration_seconds",
    "HTTP request latency, by route template and method.",
    ["route", "method"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
    registry=REGISTRY,
)
CACHE_EVENTS = Counter(
    "facepass_validation_cache_total",
    "Session validation cache lookups, by result (hit, miss, error).",
    ["result"],
    registry=REGISTRY,
)
PIXORA_ERRORS = Counter(
    "facepass_pixora_errors_total",
    "Failed reads of Pixora's database, by kind.",
    ["kind"],
    registry=REGISTRY,
)
PHOTOS_INDEXED = Counter(
    "facepass_photos_indexed_total",
    "Photos processed by indexing, by outcome (indexed, failed).",
    ["outcome"],
    registry=REGISTRY,
)
FACES_INDEXED = Counter(
    "facepass_faces_indexed_total", "Faces stored by indexing.", registry=REGISTRY
)
INDEXING_SECONDS = Histogram(
    "facepass_indexing_seconds",
    "Time to index one photo, end to end.",
    buckets=(0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0),
    registry=REGISTRY,
)
SEARCHES = Counter(
    "facepass_searches_total",
    "Selfie searches, by outcome (ok, no_face, rate_limited, error).",
    ["outcome"],
    registry=REGISTRY,
)
SEARCH_SECONDS = Histogram(
    "facepass_search_seconds",
    "Selfie search time by stage (embed, vector_search, total).",
    ["stage"],
    buckets=(0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.4, 0.8, 1.6, 3.2),
    registry=REGISTRY,
)
QUEUE_DEPTH = Gauge("facepass_photos_pending", "Photos waiting to be indexed.", registry=REGISTRY)
RETENTION_PURGED = Counter(
    "facepass_retention_purged_total",
    "What retention passes deleted, by kind (faces, photos, sessions).",
    ["kind"],
    registry=REGISTRY,
)
PRIVACY_REMOVALS = Counter(
    "facepass_privacy_faces_removed_total",
    "Faces suppressed for good, by reason (opt_out, removal).",
    ["reason"],
    registry=REGISTRY,
)
