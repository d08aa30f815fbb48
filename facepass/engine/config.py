"""The engine's settings: which models, how ONNX Runtime runs, and what a face must be."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

DEFAULT_DETECTOR = "centerface-v1"
# Intel's face-reidentification-retail-0095 (docs/engine.md); sessions indexed with dlib's
# ResNet (`dlib-resnet-v1`, the default before it) keep their model until `facepass reindex`.
DEFAULT_EMBEDDER = "intel-face-reid-retail-0095"
DEFAULT_ANTISPOOF = "minifasnet-v1"


@dataclass(frozen=True)
class EngineConfig:
    """Everything that changes how the engine loads and runs; every default works out of the box."""

    intra_op_threads: int = 1
    providers: tuple[str, ...] = ("CPUExecutionProvider",)
    detector: str = DEFAULT_DETECTOR
    embedder: str = DEFAULT_EMBEDDER
    # The passive anti-spoofing model a live selfie's frames are judged by (engine/antispoof.py).
    antispoof: str = DEFAULT_ANTISPOOF
    # Smallest face searched for, as a fraction of the photo's shorter side (80 px at 24 MP);
    # selfies and the CLI.
    min_face_fraction: float = 1 / 50
    # The same for a session's photos (indexing): 25 px in a 3000x2000 group photo, 50 px at
    # 24 MP, where the detector's 2 MP cap (below) stops it at 48 px. Chosen on CFP 001-200's
    # group photos (`facepass eval retrieval --dataset cfp-groups`, docs/engine.md).
    photo_min_face_fraction: float = 1 / 80
    # Heatmap score above which the detector reports a face.
    detection_threshold: float = 0.35
    # Score below which a found face is reported but not worth indexing (LOW_CONFIDENCE).
    min_index_score: float = 0.6
    # Shorter box side, in original pixels, below which a face is TOO_SMALL to index.
    min_face_px: float = 32.0
    # Variance of the Laplacian on the aligned grey crop below which a face is BLURRY.
    min_sharpness: float = 6.0
    # Estimated head yaw / pitch (degrees) beyond which a face is EXTREME_POSE: still indexed
    # (with its pose), but refused as a guest's only selfie.
    max_yaw: float = 60.0
    max_pitch: float = 40.0
    # How dlib chips are made: None is the embedder's own recipe (its registry entry), else
    # "landmarks" (CenterFace's 5 points onto a template measured on dlib's own chips),
    # "shape_predictor" (dlib's 5-point predictor in the CenterFace box, dlib's exact chips),
    # "fused" (mean of the two), or several views joined by '+' whose embeddings are averaged,
    # each with optional modifiers such as ":dy=3" or ":scale=1.07" (facepass/engine/views.py).
    # A recipe other than the embedder's own gets a model id of its own.
    alignment: str | None = None
    # Embed each face and its mirror image and average the two (twice the cost): None is the
    # embedder's own recipe (its registry entry: on for dlib's ResNet, where it is more
    # accurate); another choice gives another model id.
    flip_average: bool | None = None
    # Most faces embedded in one call of the embedder.
    embed_batch_size: int = 16
    # Where operator-added models and downloaded packs live (a registry.json per pack).
    models_dir: Path | None = None
    # Upper bound on the detector's input, in megapixels (bounds time on huge photos).
    max_detect_megapixels: float = 2.0
    # A second, small detection pass for faces that fill the frame or are cut by its edge
    # (close selfies, tight crops), which the detector misses at the first pass's scale: the
    # photo is padded by repeating its border pixels (this fraction of its longer side on each
    # side) and shrunk to this longer side. 0 turns the pass off. Chosen on CFP 001-200
    # frontal crops (docs/engine.md).
    close_pass_side: int = 384
    close_pass_padding: float = 0.25
    # Smallest face the close pass looks for, as a fraction of the photo's shorter side.
    close_pass_min_face: float = 0.2
