"""`facepass models list|download|add`: the face model registry and its packs."""

from __future__ import annotations

from pathlib import Path

import click

from facepass.cli.faces import emit
from facepass.cli.groups import models_group
from facepass.config import get_settings
from facepass.engine.errors import ModelError
from facepass.engine.packs import add_local_model, download_pack, load_catalog
from facepass.engine.registry import ModelRegistry, default_models_dir
from facepass.engine_config import engine_config_from_settings

_MODELS_DIR = click.option(
    "--models-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where packs live (default: FACEPASS_MODELS_DIR or ~/.cache/facepass/models).",
)


def _models_dir(option: Path | None) -> Path:
    if option is not None:
        return option
    return engine_config_from_settings().models_dir or default_models_dir()


def _fail(exc: ModelError) -> None:
    emit({"error": {"code": exc.code, "detail": exc.detail}})
    raise SystemExit(1)


@models_group.command("list")
@_MODELS_DIR
@click.option("--catalog", type=click.Path(dir_okay=False, path_type=Path), hidden=True)
def list_models(models_dir: Path | None, catalog: Path | None) -> None:
    """Every installed model (one JSON line each), the downloadable packs, then a summary."""
    directory = _models_dir(models_dir)
    registry = ModelRegistry.discover(directory)
    for spec in registry.all():
        emit(
            {
                "id": spec.id,
                "kind": spec.kind,
                "family": spec.family,
                "version": spec.version,
                "license": spec.license,
                "commercial_use": spec.commercial_use,
                "source": spec.source,
                "files": {f.role: {"path": str(f.path), "sha256": f.sha256} for f in spec.files},
            }
        )
    packs = load_catalog(catalog or get_settings().model_catalog)
    for pack in packs.values():
        emit(
            {
                "downloadable": pack.name,
                "license": pack.license,
                "commercial_use": pack.commercial_use,
                "url": pack.url,
                "sha256": pack.sha256,
                "description": pack.description,
            }
        )
    emit(
        {
            "summary": {
                "installed": len(registry.all()),
                "downloadable": len(packs),
                "models_dir": str(directory),
            }
        }
    )


@models_group.command("download")
@click.argument("name")
@_MODELS_DIR
@click.option("--accept-license", is_flag=True, help="Accept a non-commercial pack's licence.")
@click.option("--sha256", help="Expected sha256 of the download, for packs the catalog pins not.")
@click.option(
    "--catalog",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A catalog JSON to use instead of the built-in one (FACEPASS_MODEL_CATALOG).",
)
def download(
    name: str,
    models_dir: Path | None,
    accept_license: bool,
    sha256: str | None,
    catalog: Path | None,
) -> None:
    """Download the pack NAME from its public URL, verify its checksum and install it."""
    try:
        packs = load_catalog(catalog or get_settings().model_catalog)
        if name not in packs:
            raise ModelError(
                "PACK_NOT_FOUND", f"No pack {name!r}; known: {', '.join(sorted(packs))}."
            )
        installed = download_pack(
            packs[name], _models_dir(models_dir), accept_license=accept_license, sha256=sha256
        )
        models = ModelRegistry.discover(installed.parent).all()
    except ModelError as exc:
        _fail(exc)
        return
    ids = [m.id for m in models if m.files and m.files[0].path.parent == installed]
    emit({"summary": {"installed": name, "path": str(installed), "models": ids}})


@models_group.command("add")
@click.argument("onnx_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--id", "model_id", required=True, help="Registry id, including a version.")
@click.option("--kind", type=click.Choice(["embedder", "detector"]), required=True)
@click.option("--family", required=True, help="Loader: arcface, centerface or scrfd.")
@click.option("--version", "version", default="1")
@click.option("--license", "license_", required=True, help="The model's licence, e.g. MIT.")
@click.option("--commercial/--non-commercial", default=False, help="Does it allow commercial use?")
@click.option("--embedding-dim", type=int, help="For embedders: the vector length.")
@click.option("--match-threshold", type=float, help="For embedders: 'same person' distance.")
@_MODELS_DIR
def add(
    onnx_file: Path,
    model_id: str,
    kind: str,
    family: str,
    version: str,
    license_: str,
    commercial: bool,
    embedding_dim: int | None,
    match_threshold: float | None,
    models_dir: Path | None,
) -> None:
    """Add an operator's ONNX model (its sha256 is recorded and checked at every load)."""
    params: dict[str, object] = {}
    if embedding_dim is not None:
        params["embedding_dim"] = embedding_dim
    if match_threshold is not None:
        params["match_threshold"] = match_threshold
    try:
        path = add_local_model(
            {"onnx": onnx_file},
            _models_dir(models_dir),
            model_id=model_id,
            family=family,
            kind=kind,
            version=version,
            license=license_,
            commercial_use=commercial,
            params=params,
        )
    except ModelError as exc:
        _fail(exc)
        return
    emit({"summary": {"added": model_id, "path": str(path)}})
