"""The model registry: checksums verified at load, operator packs, and `models download`
from a local HTTP server (never the internet)."""

from __future__ import annotations

import functools
import hashlib
import http.server
import json
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image

import facepass.cli.models  # noqa: F401  (registers the commands on models_group)
from facepass.cli.groups import models_group
from facepass.engine import EngineConfig, FaceEngine, ModelError
from facepass.engine.packs import add_local_model
from facepass.engine.registry import ModelRegistry
from tests.engine.conftest import encode, unit
from tests.engine.onnx_models import arcface_like_embedder


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A local HTTP server over a folder: (base URL, folder)."""
    folder = tmp_path / "www"
    folder.mkdir()
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", folder
    finally:
        server.shutdown()
        server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def _catalog(tmp_path: Path, url: str, sha256: str | None, commercial: bool) -> Path:
    pack = {
        "name": "tiny-arcface",
        "url": url,
        "sha256": sha256,
        "license": "MIT" if commercial else "Non-commercial research only",
        "commercial_use": commercial,
        "archive": "file",
        "models": [
            {
                "id": "tiny-arcface-v1",
                "family": "arcface",
                "kind": "embedder",
                "version": "1",
                "files": {"onnx": {"path": "tiny.onnx"}},
                "params": {"embedding_dim": 16, "match_threshold": 0.3},
            }
        ],
    }
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps({"packs": [pack]}))
    return path


def _download(tmp_path: Path, catalog: Path, *extra: str) -> tuple[int, list[dict[str, object]]]:
    result = CliRunner().invoke(
        models_group,
        [
            "download",
            "tiny-arcface",
            "--catalog",
            str(catalog),
            "--models-dir",
            str(tmp_path / "m"),
            *list(extra),
        ],
    )
    lines = [json.loads(line) for line in result.output.splitlines() if line.strip()]
    return result.exit_code, lines


def test_download_verifies_and_installs_a_pack_the_engine_loads(
    tmp_path: Path, served: tuple[str, Path], astronaut: Image.Image
) -> None:
    base_url, folder = served
    model = arcface_like_embedder(dim=16)
    (folder / "tiny.onnx").write_bytes(model)
    catalog = _catalog(tmp_path, f"{base_url}/tiny.onnx", hashlib.sha256(model).hexdigest(), True)

    exit_code, lines = _download(tmp_path, catalog)

    assert exit_code == 0, lines
    assert lines[-1]["summary"] == {
        "installed": "tiny-arcface",
        "path": str(tmp_path / "m" / "tiny-arcface"),
        "models": ["tiny-arcface-v1"],
    }
    engine = FaceEngine.load(EngineConfig(embedder="tiny-arcface-v1", models_dir=tmp_path / "m"))
    assert (engine.model_id, engine.embedding_dim, engine.match_threshold) == (
        "tiny-arcface-v1",
        16,
        0.3,
    )
    analysis = engine.analyze(encode(astronaut, "PNG"))
    assert analysis.model_id == "tiny-arcface-v1"
    embedding = analysis.faces[0].embedding
    assert embedding is not None
    assert embedding.shape == (16,)
    assert unit(embedding)


def test_download_with_the_wrong_checksum_installs_nothing(
    tmp_path: Path, served: tuple[str, Path]
) -> None:
    base_url, folder = served
    (folder / "tiny.onnx").write_bytes(arcface_like_embedder())
    catalog = _catalog(tmp_path, f"{base_url}/tiny.onnx", "0" * 64, True)

    exit_code, lines = _download(tmp_path, catalog)

    assert exit_code == 1
    assert lines[-1]["error"]["code"] == "CHECKSUM_MISMATCH"  # type: ignore[index]
    assert not (tmp_path / "m" / "tiny-arcface").exists()


def test_non_commercial_pack_needs_the_licence_accepted(
    tmp_path: Path, served: tuple[str, Path]
) -> None:
    base_url, folder = served
    model = arcface_like_embedder()
    (folder / "tiny.onnx").write_bytes(model)
    catalog = _catalog(tmp_path, f"{base_url}/tiny.onnx", hashlib.sha256(model).hexdigest(), False)

    refused_code, refused = _download(tmp_path, catalog)
    accepted_code, _ = _download(tmp_path, catalog, "--accept-license")

    assert refused_code == 1
    assert refused[-1]["error"]["code"] == "LICENSE_NOT_ACCEPTED"  # type: ignore[index]
    assert accepted_code == 0
    (spec,) = [s for s in ModelRegistry.discover(tmp_path / "m").all() if s.id == "tiny-arcface-v1"]
    assert spec.commercial_use is False


def test_unpinned_pack_needs_a_checksum(tmp_path: Path, served: tuple[str, Path]) -> None:
    base_url, folder = served
    (folder / "tiny.onnx").write_bytes(arcface_like_embedder())
    catalog = _catalog(tmp_path, f"{base_url}/tiny.onnx", None, True)
    exit_code, lines = _download(tmp_path, catalog)
    assert exit_code == 1
    assert lines[-1]["error"]["code"] == "CHECKSUM_REQUIRED"  # type: ignore[index]


def test_tampered_model_file_is_refused_at_load(tmp_path: Path) -> None:
    source = tmp_path / "tiny.onnx"
    source.write_bytes(arcface_like_embedder())
    pack = add_local_model(
        {"onnx": source},
        tmp_path / "m",
        model_id="tiny-local-v1",
        family="arcface",
        kind="embedder",
        version="1",
        license="MIT",
        commercial_use=True,
        params={"embedding_dim": 16},
    )
    config = EngineConfig(embedder="tiny-local-v1", models_dir=tmp_path / "m")
    assert FaceEngine.load(config).model_id == "tiny-local-v1"

    (pack / "tiny.onnx").write_bytes(arcface_like_embedder(seed=1))

    with pytest.raises(ModelError) as raised:
        FaceEngine.load(config)
    assert raised.value.code == "CHECKSUM_MISMATCH"


def test_builtin_pack_is_verified_and_listed(tmp_path: Path) -> None:
    registry = ModelRegistry.discover(tmp_path)
    detector = registry.get("centerface-v1", "detector")
    embedder = registry.get("dlib-resnet-v1", "embedder")
    assert (detector.license, embedder.license) == ("MIT", "CC0-1.0")
    assert detector.commercial_use
    assert embedder.commercial_use
    assert len(detector.read_verified("onnx")) > 1_000_000
    with pytest.raises(ModelError) as raised:
        registry.get("no-such-model", "embedder")
    assert raised.value.code == "MODEL_NOT_FOUND"

    result = CliRunner().invoke(models_group, ["list", "--models-dir", str(tmp_path)])
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert result.exit_code == 0
    assert {line.get("id") for line in lines} >= {
        "centerface-v1",
        "dlib-resnet-v1",
        "intel-face-reid-retail-0095",
    }
    assert "summary" in lines[-1]


def test_copied_builtin_model_with_a_changed_byte_is_refused(tmp_path: Path) -> None:
    spec = ModelRegistry.discover(None).get("centerface-v1")
    copy = tmp_path / "centerface.onnx"
    shutil.copyfile(spec.file("onnx").path, copy)
    data = bytearray(copy.read_bytes())
    data[-1] ^= 0xFF
    copy.write_bytes(bytes(data))
    from dataclasses import replace

    from facepass.engine.registry import ModelFile

    tampered = replace(spec, files=(ModelFile("onnx", copy, spec.file("onnx").sha256),))
    with pytest.raises(ModelError) as raised:
        tampered.read_verified("onnx")
    assert raised.value.code == "CHECKSUM_MISMATCH"
