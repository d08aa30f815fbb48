"""LFW View 2 (Huang et al. 2007): 10-fold face verification accuracy of the engine.

Per fold, the distance threshold is the one that maximises accuracy on the other nine folds
(the protocol's "unrestricted, labeled outside data" setting with no training on LFW itself).
Embeddings are cached per configuration, so a rerun only recomputes the statistics.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import multiprocessing
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import numpy.typing as npt

from facepass.engine.config import EngineConfig
from facepass.engine.embedders.base import normalise
from facepass.engine.engine import FaceEngine
from facepass.engine.imaging import load_image
from facepass.engine.registry import ModelRegistry, default_models_dir
from facepass.engine_config import engine_config_from_settings
from facepass.lab.output import emit

logger = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float32]


@dataclass(frozen=True)
class Pair:
    fold: int
    image_a: str  # path relative to the images folder
    image_b: str
    same: bool


@dataclass(frozen=True)
class LfwResult:
    variant: str
    accuracy: float
    accuracy_std: float
    threshold: float  # mean over folds of the threshold chosen on the other nine
    fold_accuracies: tuple[float, ...]
    pairs: int


def _image_path(name: str, number: str) -> str:
    return f"{name}/{name}_{int(number):04d}.jpg"


def read_pairs(path: Path) -> list[Pair]:
    """Parse a pairs.txt (View 2: 10 folds of 300 same + 300 different; View 1: one fold)."""
    lines = path.read_text().split("\n")
    header = lines[0].split()
    folds, per_fold = (int(header[0]), int(header[1])) if len(header) == 2 else (1, int(header[0]))
    rows = [line.split() for line in lines[1:] if line.strip()]
    pairs = []
    for index, row in enumerate(rows):
        fold = index // (2 * per_fold)
        if len(row) == 3:
            pairs.append(Pair(fold, _image_path(row[0], row[1]), _image_path(row[0], row[2]), True))
        elif len(row) == 4:
            pairs.append(
                Pair(fold, _image_path(row[0], row[1]), _image_path(row[2], row[3]), False)
            )
        else:
            raise ValueError(f"{path}: cannot parse line {index + 2}: {row}")
    if len(pairs) != folds * 2 * per_fold:
        raise ValueError(f"{path}: expected {folds * 2 * per_fold} pairs, found {len(pairs)}")
    return pairs


_worker_engine: FaceEngine | None = None


def _init_worker(config: EngineConfig) -> None:
    global _worker_engine
    _worker_engine = FaceEngine.load(replace(config, flip_average=False))


def _embed_one(path: str) -> tuple[FloatArray, bool]:
    """Plain and mirrored embeddings (2 x dim) of the face nearest the centre of one image."""
    engine = _worker_engine
    if engine is None:
        raise RuntimeError("worker not initialised")
    image = load_image(Path(path).read_bytes())
    found = engine.detector.detect(image, engine.config.min_face_fraction * min(image.size))
    if len(found) == 0:
        return np.zeros((2, engine.embedding_dim), np.float32), False
    centres = (found.boxes[:, :2] + found.boxes[:, 2:]) / 2
    offset = np.linalg.norm(centres - np.array(image.size, np.float32) / 2, axis=1)
    central = found.select(np.array([int(np.argmin(offset))], dtype=np.intp))
    chip = engine.embedder.align(image, central)[0]
    mirrored = np.ascontiguousarray(np.flip(chip, axis=-2))  # (views,) rows, columns, channels
    plain, flipped = engine.embedder.embed([chip])[0], engine.embedder.embed([mirrored])[0]
    return np.stack([plain, flipped]), True


def embed_images(
    images_dir: Path,
    relative_paths: Sequence[str],
    config: EngineConfig,
    cache_dir: Path,
    processes: int = 2,
) -> tuple[FloatArray, int]:
    """(N x 2 x dim) plain and mirrored embeddings, cached; and how many images had no face."""
    signature = hashlib.sha256(repr(sorted(asdict(config).items())).encode()).hexdigest()[:16]
    cache = cache_dir / f"lfw-{config.embedder}-{signature}.npz"
    if cache.exists():
        stored = np.load(cache)
        if list(stored["paths"]) == list(relative_paths):
            return stored["embeddings"], int(stored["missing"])
    paths = [str(images_dir / p) for p in relative_paths]
    context = multiprocessing.get_context("spawn")
    with context.Pool(processes, initializer=_init_worker, initargs=(config,)) as pool:
        results = pool.map(_embed_one, paths, chunksize=32)
    embeddings = np.stack([r[0] for r in results])
    missing = sum(1 for r in results if not r[1])
    cache_dir.mkdir(parents=True, exist_ok=True)
    temporary = cache.with_suffix(f".{os.getpid()}.npz")
    np.savez(temporary, paths=np.array(relative_paths), embeddings=embeddings, missing=missing)
    temporary.replace(cache)
    return embeddings, missing


def ten_fold(
    distances: FloatArray, same: npt.NDArray[np.bool_], folds: npt.NDArray[np.int_], variant: str
) -> LfwResult:
    """Accuracy per fold at the threshold that is best on the other folds (with one fold, View 1,
    the threshold is fit on the same pairs, so the figure is optimistic)."""
    accuracies, thresholds = [], []
    for fold in np.unique(folds):
        train, test = folds != fold, folds == fold
        if not train.any():
            train = test
        threshold = best_threshold(distances[train], same[train])
        thresholds.append(threshold)
        accuracies.append(float(np.mean((distances[test] <= threshold) == same[test])))
    return LfwResult(
        variant=variant,
        accuracy=float(np.mean(accuracies)),
        accuracy_std=float(np.std(accuracies)),
        threshold=float(np.mean(thresholds)),
        fold_accuracies=tuple(accuracies),
        pairs=len(distances),
    )


def best_threshold(distances: FloatArray, same: npt.NDArray[np.bool_]) -> float:
    """The distance threshold (midway between neighbours) with the highest accuracy."""
    order = np.argsort(distances)
    sorted_d, sorted_same = distances[order], same[order]
    # Accepting the first k pairs as "same": correct = same among them + different after them.
    correct = np.concatenate([[0], np.cumsum(sorted_same)]) + np.concatenate(
        [np.cumsum((~sorted_same)[::-1])[::-1], [0]]
    )
    k = int(np.argmax(correct))
    if k == 0:
        return float(sorted_d[0]) - 1e-6
    if k == len(sorted_d):
        return float(sorted_d[-1])
    return float((sorted_d[k - 1] + sorted_d[k]) / 2)


def resolve_alignment(config: EngineConfig) -> EngineConfig:
    """The config with the embedder's own recipe written out (so caches key on the recipe)."""
    if config.alignment is not None:
        return config
    spec = ModelRegistry.discover(config.models_dir or default_models_dir()).get(config.embedder)
    alignment = spec.params.get("alignment")
    return config if alignment is None else replace(config, alignment=str(alignment))


def flips(config: EngineConfig) -> bool:
    """Whether the configured embedder averages each face with its mirror (its recipe's
    choice unless the configuration overrides it)."""
    if config.flip_average is not None:
        return config.flip_average
    spec = ModelRegistry.discover(config.models_dir or default_models_dir()).get(config.embedder)
    return bool(spec.params.get("flip_average", True))


def evaluate(
    data_dir: Path,
    pairs_file: Path | None = None,
    config: EngineConfig | None = None,
    cache_dir: Path | None = None,
    processes: int = 2,
) -> tuple[list[LfwResult], int]:
    """LFW accuracy for plain and flip-averaged embeddings; and the count of faceless images."""
    config = resolve_alignment(config or EngineConfig())
    pairs = read_pairs(pairs_file or data_dir / "pairs.txt")
    images = sorted({p.image_a for p in pairs} | {p.image_b for p in pairs})
    images_dir = data_dir / "images_deepfunneled"
    if not images_dir.is_dir():
        images_dir = data_dir
    embeddings, missing = embed_images(
        images_dir, images, config, cache_dir or data_dir / ".facepass-cache", processes
    )
    index = {name: i for i, name in enumerate(images)}
    a = np.array([index[p.image_a] for p in pairs])
    b = np.array([index[p.image_b] for p in pairs])
    same = np.array([p.same for p in pairs])
    folds = np.array([p.fold for p in pairs])
    variants = {
        "plain": embeddings[:, 0],
        "flip_average": normalise(embeddings[:, 0] + embeddings[:, 1]),
    }
    results = []
    for name, vectors in variants.items():
        distances = 1.0 - np.einsum("ij,ij->i", vectors[a], vectors[b])
        results.append(ten_fold(distances.astype(np.float32), same, folds, name))
    return results, missing


def command(
    data_dir: Path,
    pairs_file: Path | None,
    cache_dir: Path | None,
    processes: int,
    min_face_fraction: float,
    alignment: str | None,
) -> None:
    """`facepass eval lfw`: one JSON line per variant, then the summary."""
    config = dataclasses.replace(engine_config_from_settings(), min_face_fraction=min_face_fraction)
    if alignment is not None:
        config = dataclasses.replace(config, alignment=alignment)
    config = resolve_alignment(config)
    results, missing = evaluate(data_dir, pairs_file, config, cache_dir, processes)
    for result in results:
        emit(
            {
                "variant": result.variant,
                "accuracy": round(result.accuracy, 5),
                "accuracy_std": round(result.accuracy_std, 5),
                "threshold": round(result.threshold, 5),
                "fold_accuracies": [round(a, 4) for a in result.fold_accuracies],
            }
        )
    chosen = next(r for r in results if r.variant == ("flip_average" if flips(config) else "plain"))
    emit(
        {
            "summary": {
                "pairs": chosen.pairs,
                "variant": chosen.variant,
                "accuracy": round(chosen.accuracy, 5),
                "accuracy_std": round(chosen.accuracy_std, 5),
                "threshold": round(chosen.threshold, 5),
                "images_without_face": missing,
                "embedder": config.embedder,
                "alignment": config.alignment,
            }
        }
    )
