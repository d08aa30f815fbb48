"""ONNX Runtime sessions, built in one place from the engine's settings."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from facepass.engine.config import EngineConfig
from facepass.engine.errors import ModelError

logger = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float32]


class InferenceSession(Protocol):
    """What the engine needs of an ONNX Runtime session (a stub satisfies it in tests)."""

    def run(
        self, output_names: Sequence[str] | None, input_feed: Mapping[str, Any]
    ) -> list[Any]: ...

    def get_inputs(self) -> list[Any]: ...


def create_session(model: bytes, config: EngineConfig) -> InferenceSession:
    """Build an ONNX Runtime session for serialised model bytes with the configured threads."""
    import onnxruntime as ort  # type: ignore[import-untyped,unused-ignore]

    ort.set_default_logger_severity(3)
    options = ort.SessionOptions()
    options.intra_op_num_threads = config.intra_op_threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    available = set(ort.get_available_providers())
    providers = [p for p in config.providers if p in available]
    if not providers:
        raise ModelError(
            "PROVIDER_UNAVAILABLE",
            f"None of the providers {list(config.providers)} is available "
            f"(available: {sorted(available)}).",
        )
    try:
        session: InferenceSession = ort.InferenceSession(model, options, providers=providers)
    except Exception as exc:  # onnxruntime raises its own untyped exception classes
        raise ModelError("MODEL_INVALID", f"ONNX Runtime cannot load the model: {exc}") from exc
    logger.debug("ONNX session ready on %s", providers)
    return session
