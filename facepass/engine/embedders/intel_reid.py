"""Intel's face-reidentification-retail-0095 (Apache-2.0): 128x128 BGR crops in, 256-d out.

The network ships as OpenVINO IR inside FacePass (`facepass/engine/models/`, sha256-pinned);
`openvino_ir` rebuilds it as an ONNX graph at load, and ONNX Runtime runs it (measured as fast
as the `openvino` runtime on the IR itself, one thread, and identical to it within 1e-6).
Crops are aligned by CenterFace's 5 landmarks onto the model card's template.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image

from facepass.engine.alignment import warp_face
from facepass.engine.config import EngineConfig
from facepass.engine.detectors.base import Detections
from facepass.engine.embedders.base import FloatArray, UInt8Array, normalise
from facepass.engine.embedders.openvino_ir import INPUT_NAME, OUTPUT_NAME, convert_ir
from facepass.engine.registry import ModelSpec
from facepass.engine.runtime import InferenceSession, create_session

CROP_SIZE = 128
# The model card's template (left eye, right eye, nose tip, left and right mouth corners) in
# [0, 1] coordinates of the crop.
REID_TEMPLATE = np.array(
    [
        [0.31556875, 0.46157411],
        [0.68262292, 0.46157411],
        [0.50026250, 0.64050536],
        [0.34947188, 0.82469196],
        [0.65343646, 0.82469196],
    ],
    dtype=np.float32,
)
REID_TEMPLATE_128 = REID_TEMPLATE * CROP_SIZE


class IntelFaceReid:
    """face-reidentification-retail-0095 and its IR siblings (family `intel-reid`)."""

    crop_size = CROP_SIZE
    # The template puts ~47 px between the eyes of a 128 px crop; a face box of 64 px already
    # fills the crop at full resolution (below that the crop is upsampled).
    min_source_face_px = 64.0
    default_match_threshold = 0.5

    def __init__(self, spec: ModelSpec, session: InferenceSession, config: EngineConfig) -> None:
        recipe_flip = bool(spec.params.get("flip_average", False))
        self.flip_average = recipe_flip if config.flip_average is None else config.flip_average
        # Flip averaging makes other vectors: a recipe other than the entry's gets its own id.
        own_recipe = self.flip_average == recipe_flip
        self.model_id = (
            spec.id if own_recipe else f"{spec.id}.{'flip' if self.flip_average else 'plain'}"
        )
        self.embedding_dim = int(spec.params.get("embedding_dim", 256))
        self.match_threshold = float(
            spec.params.get("match_threshold", self.default_match_threshold)
        )
        self._session = session
        # Faces per ONNX Runtime run: this network's activations are large for its FLOPs, and
        # batches beyond 2 faces ran 20-40 % slower per face on one core (cache misses;
        # docs/engine.md), so N faces are run 2 at a time whatever `embed_batch_size` says.
        self._batch = max(1, min(config.embed_batch_size, int(spec.params.get("faces_per_run", 2))))

    @classmethod
    def load(cls, spec: ModelSpec, config: EngineConfig) -> IntelFaceReid:
        """Verify both IR files, rebuild the graph for ONNX Runtime, start its session."""
        model = convert_ir(spec.read_verified("xml"), spec.read_verified("bin"), spec.id)
        return cls(spec, create_session(model, config), config)

    def align(self, image: Image.Image, detections: Detections) -> list[UInt8Array]:
        """128x128 RGB crops, the 5 landmarks on the model card's template."""
        return [
            warp_face(image, points, REID_TEMPLATE_128, self.crop_size)
            for points in detections.landmarks
        ]

    def embed(self, crops: Sequence[UInt8Array]) -> FloatArray:
        """Unit-length embeddings of N crops in one call; with flip averaging, the mean
        direction of crop and mirror."""
        if not crops:
            return np.zeros((0, self.embedding_dim), np.float32)
        stack = np.stack(list(crops))
        if self.flip_average:
            stack = np.concatenate([stack, stack[:, :, ::-1]])
        # RGB -> BGR and NHWC -> NCHW in one copy; the graph does its own normalisation.
        blob = np.ascontiguousarray(stack[..., ::-1].transpose(0, 3, 1, 2), dtype=np.float32)
        step = self._batch * (2 if self.flip_average else 1)
        outputs = [
            self._session.run([OUTPUT_NAME], {INPUT_NAME: blob[start : start + step]})[0]
            for start in range(0, len(blob), step)
        ]
        raw = normalise(np.concatenate(outputs).astype(np.float32).reshape(len(blob), -1))
        if self.flip_average:
            count = len(crops)
            raw = normalise(raw[:count] + raw[count:])
        return raw
