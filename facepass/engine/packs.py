"""Installing model packs: from a public URL (checksum verified) or from files an operator has.

A pack is a folder under the models directory holding model files and a `pack.json` that
records each file's sha256, the licence and whether it allows commercial use. Packs whose
licence forbids commercial use install only when the operator explicitly accepts it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import tempfile
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from facepass.engine.errors import ModelError
from facepass.engine.registry import PACK_MANIFEST, sha256_hex

logger = logging.getLogger(__name__)

MAX_DOWNLOAD_BYTES = 2 * 1024**3
_CHUNK = 1 << 20


@dataclass(frozen=True)
class PackSource:
    """A downloadable pack: where it is, what it must hash to, and what it may be used for."""

    name: str
    url: str
    sha256: str | None  # None: the publisher pins nothing; the operator must pass one
    license: str
    commercial_use: bool
    archive: str  # "zip" or "file"
    # pack.json model entries; each file's "path" names a member of the archive (or the file).
    models: Sequence[Mapping[str, Any]] = field(default_factory=tuple)
    description: str = ""


# Checksums pinned from the publishers' files as referenced by other public projects.
CATALOG: tuple[PackSource, ...] = (
    PackSource(
        name="opencv-sface",
        url=(
            "https://github.com/opencv/opencv_zoo/raw/47534e27c9851bb1128ccc0102f1145e27f23f98/"
            "models/face_recognition_sface/face_recognition_sface_2021dec.onnx"
        ),
        sha256="0ba9fbfa01b5270c96627c4ef784da859931e02f04419c829e83484087c34e79",
        license="Apache-2.0",
        commercial_use=True,
        archive="file",
        models=(
            {
                "id": "sface-2021dec",
                "family": "arcface",
                "kind": "embedder",
                "version": "2021dec",
                "files": {"onnx": {"path": "face_recognition_sface_2021dec.onnx"}},
                # OpenCV feeds SFace RGB pixels 0..255; it calls faces the same at cosine 0.363.
                "params": {
                    "input_mean": 0.0,
                    "input_std": 1.0,
                    "bgr": False,
                    "embedding_dim": 128,
                    "match_threshold": 0.637,
                },
            },
        ),
        description="OpenCV Zoo SFace (MobileFaceNet, 128-d), ArcFace-style 112x112 crops.",
    ),
    PackSource(
        name="insightface-buffalo-l",
        url="https://github.com/deepinsight/insightface/releases/download/v0.7/buffalo_l.zip",
        sha256=None,
        license="InsightFace pretrained models: non-commercial research purposes only",
        commercial_use=False,
        archive="zip",
        models=(
            {
                "id": "insightface-w600k-r50",
                "family": "arcface",
                "kind": "embedder",
                "version": "buffalo_l-0.7",
                "files": {"onnx": {"path": "w600k_r50.onnx"}},
                "params": {
                    "input_mean": 127.5,
                    "input_std": 127.5,
                    "bgr": False,
                    "embedding_dim": 512,
                    "match_threshold": 0.6,
                },
            },
        ),
        description="InsightFace buffalo_l recognition model (ResNet-50, WebFace600K), 512-d.",
    ),
)


def load_catalog(path: Path | None = None) -> dict[str, PackSource]:
    """The built-in catalog, or the one in a JSON file ({"packs": [...]}) when given."""
    if path is None:
        return {pack.name: pack for pack in CATALOG}
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        packs = [
            PackSource(
                name=str(p["name"]),
                url=str(p["url"]),
                sha256=p.get("sha256"),
                license=str(p["license"]),
                commercial_use=bool(p["commercial_use"]),
                archive=str(p.get("archive", "file")),
                models=tuple(p["models"]),
                description=str(p.get("description", "")),
            )
            for p in raw["packs"]
        ]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ModelError("CATALOG_INVALID", f"Cannot read the model catalog {path}: {exc}") from exc
    return {pack.name: pack for pack in packs}


def download_pack(
    source: PackSource,
    models_dir: Path,
    *,
    accept_license: bool = False,
    sha256: str | None = None,
    timeout_s: float = 60.0,
) -> Path:
    """Fetch, verify and install a pack; returns its folder. Raises ModelError."""
    if not source.commercial_use and not accept_license:
        raise ModelError(
            "LICENSE_NOT_ACCEPTED",
            f"{source.name} is licensed for non-commercial use only ({source.license}). "
            "Pass --accept-license only if your use complies with that licence.",
        )
    expected = (sha256 or source.sha256 or "").lower()
    if not expected:
        raise ModelError(
            "CHECKSUM_REQUIRED",
            f"The catalog pins no sha256 for {source.name}; pass --sha256 with the value the "
            "publisher gives, so the download can be verified.",
        )
    if not source.url.startswith(("https://", "http://")):
        raise ModelError("CATALOG_INVALID", f"{source.url} is not an http(s) URL.")
    models_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=models_dir, prefix=f".{source.name}.") as staging:
        staged = Path(staging)
        download = staged / "download"
        actual = _fetch(source.url, download, timeout_s)
        if actual != expected:
            raise ModelError(
                "CHECKSUM_MISMATCH",
                f"{source.url} has sha256 {actual}, expected {expected}; nothing was installed.",
            )
        pack_dir = staged / "pack"
        pack_dir.mkdir()
        wanted = {f["path"] for m in source.models for f in m["files"].values()}
        if source.archive == "zip":
            _extract(download, pack_dir, wanted)
        else:
            (name,) = wanted
            download.rename(pack_dir / Path(name).name)
        write_manifest(
            pack_dir,
            license=source.license,
            commercial_use=source.commercial_use,
            source=source.url,
            models=source.models,
        )
        return _publish(pack_dir, models_dir / source.name)


def add_local_model(
    files: Mapping[str, Path],
    models_dir: Path,
    *,
    model_id: str,
    family: str,
    kind: str,
    version: str,
    license: str,
    commercial_use: bool,
    params: Mapping[str, Any] | None = None,
) -> Path:
    """Copy an operator's model files into a new pack (checksums recorded now)."""
    models_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=models_dir, prefix=f".{model_id}.") as staging:
        pack_dir = Path(staging) / "pack"
        pack_dir.mkdir()
        entries = {}
        for role, path in files.items():
            if not path.is_file():
                raise ModelError("MODEL_MISSING", f"{path} is not a file.")
            shutil.copyfile(path, pack_dir / path.name)
            entries[role] = {"path": path.name}
        model = {
            "id": model_id,
            "family": family,
            "kind": kind,
            "version": version,
            "files": entries,
            "params": dict(params or {}),
        }
        write_manifest(
            pack_dir, license=license, commercial_use=commercial_use, source="local", models=[model]
        )
        return _publish(pack_dir, models_dir / model_id)


def write_manifest(
    pack_dir: Path,
    *,
    license: str,
    commercial_use: bool,
    source: str,
    models: Sequence[Mapping[str, Any]],
) -> None:
    """Write pack.json, recording the sha256 of every model file as it is now."""
    entries = []
    for model in models:
        files = {}
        for role, file_entry in model["files"].items():
            path = pack_dir / Path(file_entry["path"]).name
            if not path.is_file():
                raise ModelError("PACK_INVALID", f"The pack has no {file_entry['path']}.")
            files[role] = {"path": path.name, "sha256": _hash_file(path)}
        entries.append({**model, "files": files})
    manifest = {
        "license": license,
        "commercial_use": commercial_use,
        "source": source,
        "models": entries,
    }
    (pack_dir / PACK_MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")


def _fetch(url: str, target: Path, timeout_s: float) -> str:
    digest = hashlib.sha256()
    size = 0
    try:
        with (
            httpx.stream("GET", url, follow_redirects=True, timeout=timeout_s) as response,
            target.open("wb") as out,
        ):
            response.raise_for_status()
            for chunk in response.iter_bytes(_CHUNK):
                size += len(chunk)
                if size > MAX_DOWNLOAD_BYTES:
                    raise ModelError("DOWNLOAD_TOO_LARGE", f"{url} is larger than 2 GiB.")
                digest.update(chunk)
                out.write(chunk)
    except httpx.HTTPError as exc:
        raise ModelError("DOWNLOAD_FAILED", f"Cannot download {url}: {exc}") from exc
    logger.info("Downloaded %s (%d bytes)", url, size)
    return digest.hexdigest()


def _extract(archive: Path, target: Path, wanted: set[str]) -> None:
    try:
        with zipfile.ZipFile(archive) as zipped:
            members = {Path(m.filename).name: m for m in zipped.infolist() if not m.is_dir()}
            for name in wanted:
                member = members.get(Path(name).name)
                if member is None:
                    raise ModelError("PACK_INVALID", f"The archive has no {name}.")
                # Only the base name is used, so no member can escape the pack folder.
                with zipped.open(member) as src, (target / Path(name).name).open("wb") as out:
                    shutil.copyfileobj(src, out, _CHUNK)
    except zipfile.BadZipFile as exc:
        raise ModelError("PACK_INVALID", f"The download is not a valid zip archive: {exc}") from exc


def _publish(pack_dir: Path, destination: Path) -> Path:
    if destination.exists():
        shutil.rmtree(destination)
    pack_dir.rename(destination)
    return destination


def _hash_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


__all__ = [
    "CATALOG",
    "PackSource",
    "add_local_model",
    "download_pack",
    "load_catalog",
    "sha256_hex",
]
