"""Translate FacePass settings into the engine's own configuration (the engine reads no env)."""

from __future__ import annotations

from facepass.config import Settings
from facepass.engine import EngineConfig


def engine_config(settings: Settings) -> EngineConfig:
    """The engine's configuration from FACEPASS_ENGINE_* settings."""
    overrides: dict[str, object] = {
        "intra_op_threads": settings.engine_threads,
        "providers": tuple(p.strip() for p in settings.engine_providers.split(",") if p.strip()),
    }
    if settings.engine_detector:
        overrides["detector"] = settings.engine_detector
    if settings.engine_embedder:
        overrides["embedder"] = settings.engine_embedder
    if settings.models_dir is not None:
        overrides["models_dir"] = settings.models_dir
    return EngineConfig(**overrides)  # type: ignore[arg-type]
