"""Translate FacePass settings into the engine's own configuration (the engine reads no env),
and hold the process's engine for them."""

from __future__ import annotations

import dataclasses

from facepass.config import Settings, get_settings
from facepass.engine import EngineConfig, FaceEngine, get_engine
from facepass.engine.engine import is_loaded


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
    if settings.engine_photo_min_face_fraction is not None:
        overrides["photo_min_face_fraction"] = settings.engine_photo_min_face_fraction
    if settings.models_dir is not None:
        overrides["models_dir"] = settings.models_dir
    return EngineConfig(**overrides)  # type: ignore[arg-type]


def engine_config_from_settings() -> EngineConfig:
    """The engine configuration the service would use (FACEPASS_* settings)."""
    return engine_config(get_settings())


class Engines:
    """The one place that picks a face engine: the configured one, or the one that embeds like
    a session's index when that was built with another model. The engines themselves live in
    the engine's one bounded cache (facepass.engine.get_engine), loaded on first use."""

    def __init__(self, settings: Settings) -> None:
        self._config = engine_config(settings)

    @property
    def loaded(self) -> bool:
        return is_loaded(self._config)

    def get(self) -> FaceEngine:
        """The engine of the configured models."""
        return get_engine(self._config)

    def for_model(self, model_id: str) -> FaceEngine:
        """The engine whose embedder is `model_id`: the configured one, or the configured one
        with that embedder (ModelError when the model is not installed here)."""
        engine = self.get()
        if engine.model_id == model_id:
            return engine
        return get_engine(dataclasses.replace(engine.config, embedder=model_id))
