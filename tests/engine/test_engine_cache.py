"""The process keeps one bounded cache of engines: the least recently used one goes first."""

from __future__ import annotations

from collections import OrderedDict

import pytest

from facepass.engine import EngineConfig, FaceEngine, get_engine
from facepass.engine import engine as engine_module


@pytest.fixture
def loads(monkeypatch: pytest.MonkeyPatch) -> list[EngineConfig]:
    """Count model loads; an empty cache of its own, so the session's real engines stay put."""
    loaded: list[EngineConfig] = []

    def load(config: EngineConfig) -> FaceEngine:
        loaded.append(config)
        return object()  # type: ignore[return-value]  # stands in for the models' weights

    monkeypatch.setattr(engine_module, "_engines", OrderedDict())
    monkeypatch.setattr(FaceEngine, "load", staticmethod(load))
    return loaded


def _config(threads: int) -> EngineConfig:
    return EngineConfig(intra_op_threads=threads)


def test_one_engine_per_configuration_loaded_once(loads: list[EngineConfig]) -> None:
    first = get_engine(_config(1))
    assert get_engine(_config(1)) is first
    assert get_engine(_config(2)) is not first
    assert loads == [_config(1), _config(2)]


def test_the_least_recently_used_engine_is_dropped_beyond_the_bound(
    loads: list[EngineConfig],
) -> None:
    bound = engine_module.MAX_CACHED_ENGINES
    for threads in range(1, bound + 1):
        get_engine(_config(threads))
    get_engine(_config(1))  # used again: now the most recent
    get_engine(_config(bound + 1))  # one too many: _config(2) goes
    assert engine_module.is_loaded(_config(1))
    assert not engine_module.is_loaded(_config(2))
    get_engine(_config(2))
    assert loads.count(_config(2)) == 2
    assert len(engine_module._engines) == bound
