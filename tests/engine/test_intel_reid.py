"""Intel's face-reidentification-retail-0095: the IR rebuilt for ONNX Runtime gives the
`openvino` runtime's own outputs on real faces, its crops follow the model card's template,
and it tells one person from another."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageOps

from facepass.engine import EngineConfig, FaceEngine, cosine_distance
from facepass.engine.embedders import IntelFaceReid
from facepass.engine.embedders.intel_reid import REID_TEMPLATE_128
from facepass.engine.embedders.openvino_ir import convert_ir
from facepass.engine.errors import ModelError
from facepass.engine.registry import INTEL_REID_ID, ModelRegistry, intel_reid_spec
from facepass.engine.runtime import create_session
from tests.conftest import SHARED_DATA
from tests.engine.conftest import encode, unit


@pytest.fixture(scope="module")
def reid(engine: FaceEngine) -> FaceEngine:
    """CenterFace + the Intel embedder (the detector is the default engine's, loaded once)."""
    config = dataclasses.replace(engine.config, embedder=INTEL_REID_ID)
    embedder = IntelFaceReid.load(intel_reid_spec(), config)
    return FaceEngine(config, engine.detector, embedder)


def _real_faces(astronaut: Image.Image) -> list[Image.Image]:
    """The astronaut reframed, mirrored, tilted, shrunk and darkened, and the peers' photos of
    several people (face_recognition's test images) where ../shared/data has them."""
    images = [
        astronaut,
        ImageOps.mirror(astronaut),
        astronaut.rotate(15, resample=Image.Resampling.BILINEAR),
        astronaut.crop((120, 20, 330, 230)),
        astronaut.resize((256, 256)),
        Image.eval(astronaut, lambda v: int(v * 0.6)),
    ]
    peers = SHARED_DATA / "peers" / "face_recognition" / "examples"
    if peers.is_dir():
        images += [
            Image.open(path).convert("RGB")
            for path in sorted(peers.glob("*.jpg"))[:12]
            if path.stat().st_size < 2_000_000
        ]
    return images


def test_rebuilt_graph_matches_the_openvino_runtime_on_real_faces(
    reid: FaceEngine, astronaut: Image.Image
) -> None:
    import openvino as ov

    embedder = reid.embedder
    assert isinstance(embedder, IntelFaceReid)
    crops = []
    for image in _real_faces(astronaut):
        found = reid.detector.detect(image, 20)
        crops += embedder.align(image, found)
    assert len(crops) >= 6
    ours = embedder.embed(crops)

    spec = intel_reid_spec()
    core = ov.Core()
    # float32 as the model's reference: on CPUs with bfloat16 units OpenVINO would otherwise
    # compute in bfloat16 (cosine ~0.9998 to its own float32 result).
    compiled = core.compile_model(
        core.read_model(str(spec.verified_path("xml")), str(spec.verified_path("bin"))),
        "CPU",
        {"INFERENCE_PRECISION_HINT": "f32"},
    )
    theirs = []
    for crop in crops:  # the model card's input: 1x3x128x128, BGR, 0-255
        blob = np.ascontiguousarray(crop[..., ::-1].transpose(2, 0, 1)[None], dtype=np.float32)
        theirs.append(np.asarray(compiled([blob])[0], np.float32).reshape(-1))
    reference = np.stack(theirs)
    reference /= np.linalg.norm(reference, axis=1, keepdims=True)
    cosines = np.einsum("ij,ij->i", ours, reference)
    assert cosines.min() >= 0.9999, cosines


def test_embedding_is_unit_256_d_under_its_own_id(reid: FaceEngine, astronaut: Image.Image) -> None:
    analysis = reid.analyze(encode(astronaut, "PNG"))
    assert analysis.model_id == INTEL_REID_ID
    (face,) = analysis.faces
    assert face.embedding is not None
    assert face.embedding.dtype == np.float32
    assert face.embedding.shape == (256,) == (reid.embedding_dim,)
    assert unit(face.embedding)


def test_batched_embedding_equals_one_face_at_a_time(
    reid: FaceEngine, astronaut: Image.Image
) -> None:
    embedder = reid.embedder
    images = _real_faces(astronaut)[:6]
    crops = [c for image in images for c in embedder.align(image, reid.detector.detect(image, 20))]
    together = embedder.embed(crops)
    one_by_one = np.concatenate([embedder.embed([crop]) for crop in crops])
    assert np.allclose(together, one_by_one, atol=1e-5)
    assert embedder.embed([]).shape == (0, 256)


def test_crop_puts_the_landmarks_on_the_model_card_template(
    reid: FaceEngine, astronaut: Image.Image
) -> None:
    found = reid.detector.detect(astronaut, 20)
    (crop,) = reid.embedder.align(astronaut, found)
    assert crop.shape == (128, 128, 3)
    # Detecting again inside the crop finds the landmarks where the template puts them.
    padded = Image.new("RGB", (384, 384))
    padded.paste(Image.fromarray(crop), (128, 128))
    again = reid.detector.detect(padded, 20)
    assert len(again) == 1
    # (A similarity transform fits the 5 points only in the least-squares sense, and detecting
    # a tight crop is less precise at the chin: a few pixels.)
    offsets = np.linalg.norm(again.landmarks[0] - 128 - REID_TEMPLATE_128, axis=1)
    assert float(offsets.mean()) < 4.0, offsets
    assert float(offsets.max()) < 8.0, offsets


def test_same_person_close_other_people_far(reid: FaceEngine, astronaut: Image.Image) -> None:
    reference = reid.analyze(encode(astronaut, "PNG")).faces[0].embedding
    assert reference is not None
    variants = [
        astronaut.crop((60, 0, 420, 360)).resize((720, 720)),
        astronaut.resize((300, 300)),
        astronaut.rotate(12, resample=Image.Resampling.BILINEAR),
    ]
    for variant in variants:
        other = reid.analyze(encode(variant, "JPEG", quality=70)).faces[0].embedding
        assert other is not None
        assert cosine_distance(reference, other) < reid.match_threshold / 2
    peers = SHARED_DATA / "peers" / "face_recognition" / "examples"
    obama, biden = peers / "obama.jpg", peers / "biden.jpg"
    if obama.is_file() and biden.is_file():
        a = reid.analyze(obama.read_bytes()).faces[0].embedding
        b = reid.analyze(biden.read_bytes()).faces[0].embedding
        assert a is not None
        assert b is not None
        assert cosine_distance(a, b) > reid.match_threshold
        assert cosine_distance(a, reference) > reid.match_threshold


def test_registry_entry_pins_licence_and_checksums() -> None:
    spec = ModelRegistry.discover(None).get(INTEL_REID_ID, "embedder")
    assert spec.family == "intel-reid"
    assert spec.license == "Apache-2.0"
    assert spec.commercial_use
    assert "VGGFace2" in spec.source
    for role in ("xml", "bin"):
        assert len(spec.file(role).sha256) == 64
        spec.verified_path(role)
    folder = spec.file("xml").path.parent
    assert "Apache License" in (folder / "LICENSE").read_text()
    assert "sha256" in (folder / "PROVENANCE.md").read_text()


def test_a_changed_weight_byte_is_refused(tmp_path: Path) -> None:
    spec = intel_reid_spec()
    weights = bytearray(spec.file("bin").path.read_bytes())
    weights[1000] ^= 0xFF
    copy = tmp_path / "face-reidentification-retail-0095.bin"
    copy.write_bytes(bytes(weights))
    files = tuple(dataclasses.replace(f, path=copy) if f.role == "bin" else f for f in spec.files)
    with pytest.raises(ModelError) as caught:
        IntelFaceReid.load(dataclasses.replace(spec, files=files), EngineConfig())
    assert caught.value.code == "CHECKSUM_MISMATCH"


def test_unsupported_ir_layer_is_a_model_error() -> None:
    spec = intel_reid_spec()
    xml = spec.file("xml").path.read_bytes().replace(b'type="Sigmoid"', b'type="Swish"', 1)
    with pytest.raises(ModelError) as caught:
        convert_ir(xml, spec.file("bin").path.read_bytes(), "tampered")
    assert caught.value.code == "MODEL_UNSUPPORTED"


def test_flip_averaging_other_than_the_recipe_gets_its_own_id(reid: FaceEngine) -> None:
    spec = intel_reid_spec()
    session = create_session(
        convert_ir(spec.read_verified("xml"), spec.read_verified("bin"), spec.id), reid.config
    )
    flipped = IntelFaceReid(spec, session, dataclasses.replace(reid.config, flip_average=True))
    assert flipped.model_id != INTEL_REID_ID
    assert flipped.flip_average
