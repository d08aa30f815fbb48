"""Translate FacePass settings into the engine's own configuration (the engine reads no env),
and hold the process's engine for them."""

from __future__ import annotations

import threading

from facepass.config import Settings, get_settings
from facepass.engine import EngineConfig, FaceEngine, get_engine


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


def engine_config_from_settings() -> EngineConfig:
    """The engine configuration the service would use (FACEPASS_* settings)."""
    return engine_config(get_settings())


class Engines:
    """The process's face engine for the configured models, loaded on first use (once)."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._engine: FaceEngine | None = None
        self._lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        return self._engine is not None

    def get(self) -> FaceEngine:
        with self._lock:
            if self._engine is None:
                self._engine = get_engine(engine_config(self._settings))
            return self._engine
