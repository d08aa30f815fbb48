"""Embeddings: unit-length, stable for one person across re-encoding and framing, and the
peers' assertions (face_recognition's test images) where ../shared/data is present."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from PIL import Image

from facepass.engine import FaceEngine, cosine_distance
from facepass.engine.embedders import DlibResNet
from facepass.engine.registry import ModelRegistry
from tests.conftest import shared_data
from tests.engine.conftest import box_iou, encode, unit


def _embedding(engine: FaceEngine, data: bytes) -> np.ndarray:  # type: ignore[type-arg]
    analysis = engine.analyze(data)
    assert len(analysis.faces) == 1
    embedding = analysis.faces[0].embedding
    assert embedding is not None
    return embedding


def test_embedding_is_unit_float32_of_the_model(engine: FaceEngine, astronaut: Image.Image) -> None:
    embedding = _embedding(engine, encode(astronaut, "PNG"))
    assert embedding.dtype == np.float32
    assert embedding.shape == (engine.embedding_dim,) == (128,)
    assert unit(embedding)
    assert engine.model_id == "dlib-resnet-v1"
    assert engine.analyze(encode(astronaut, "PNG")).model_id == engine.model_id


def test_same_face_reframed_and_recompressed_matches(
    engine: FaceEngine, astronaut: Image.Image
) -> None:
    reference = _embedding(engine, encode(astronaut, "PNG"))
    variants = [
        astronaut.crop((60, 0, 420, 360)).resize((720, 720)),  # cropped, enlarged
        astronaut.resize((300, 300)),  # smaller
        astronaut.rotate(12, resample=Image.Resampling.BILINEAR),  # tilted head
    ]
    for variant in variants:
        other = _embedding(engine, encode(variant, "JPEG", quality=70))
        assert cosine_distance(reference, other) < engine.match_threshold / 2


def test_cosine_distance() -> None:
    assert cosine_distance([1.0, 0.0], [1.0, 0.0]) == pytest.approx(0.0)
    assert cosine_distance([1.0, 0.0], [0.0, 2.0]) == pytest.approx(1.0)
    assert cosine_distance([1.0, 0.0], [-3.0, 0.0]) == pytest.approx(2.0)
    with pytest.raises(ValueError, match="zero"):
        cosine_distance([0.0, 0.0], [1.0, 0.0])


def test_engine_is_safe_to_share_between_threads(
    engine: FaceEngine, astronaut: Image.Image
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    data = encode(astronaut, "JPEG", quality=90)
    reference = _embedding(engine, data)
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: _embedding(engine, data), range(6)))
    for result in results:
        assert np.allclose(result, reference, atol=1e-5)


# The peers' own assertions (see ../shared/data/README.md); boxes are top, right, bottom, left.
PEER_IMAGES = ("peers", "face_recognition", "tests", "test_images")


@pytest.mark.parametrize(
    ("name", "size", "box_trbl"),
    [
        ("obama.jpg", (910, 1137), (142, 617, 409, 349)),
        ("32bit.png", (626, 1200), None),
        ("obama_partial_face.jpg", None, None),
        ("obama_partial_face2.jpg", None, None),
    ],
)
def test_peer_images_hold_one_face(
    engine: FaceEngine,
    name: str,
    size: tuple[int, int] | None,
    box_trbl: tuple[int, int, int, int] | None,
) -> None:
    path = shared_data(*PEER_IMAGES, name)
    analysis = engine.analyze(path.read_bytes())
    if size is not None:
        assert (analysis.width, analysis.height) == size
    assert len(analysis.faces) == 1
    if box_trbl is not None:
        top, right, bottom, left = box_trbl
        box = analysis.faces[0].box
        # CenterFace's box runs from forehead to chin, dlib's HOG box from brows to chin:
        # same centre within a fifth of the face, and mostly overlapping.
        assert abs((box.left + box.right) / 2 - (left + right) / 2) < 0.2 * (right - left)
        assert abs((box.top + box.bottom) / 2 - (top + bottom) / 2) < 0.2 * (bottom - top)
        assert box_iou(box.as_list(), (left, top, right, bottom)) > 0.5


@pytest.mark.parametrize("model_id", [None, "dlib-resnet-v1-mv2"])
def test_obama_matches_obama_and_not_biden(engine: FaceEngine, model_id: str | None) -> None:
    if model_id is not None:  # a built-in recipe, sharing the default engine's sessions
        embedder = engine.embedder
        assert isinstance(embedder, DlibResNet)
        spec = ModelRegistry.discover(None).get(model_id)
        recipe = DlibResNet(spec, embedder._session, embedder._shape_predictor, engine.config)
        engine = FaceEngine(engine.config, engine.detector, recipe)
        assert engine.model_id == model_id
        assert engine.match_threshold == spec.params["match_threshold"]

    def embed(name: str) -> np.ndarray:  # type: ignore[type-arg]
        return _embedding(engine, shared_data(*PEER_IMAGES, name).read_bytes())

    obama = embed("obama.jpg")
    for same in ("obama2.jpg", "obama3.jpg"):
        assert cosine_distance(obama, embed(same)) <= engine.match_threshold
    assert cosine_distance(obama, embed("biden.jpg")) > engine.match_threshold


def test_onnx_network_reproduces_dlibs_own_descriptors(
    engine: FaceEngine, astronaut: Image.Image
) -> None:
    import dlib

    from facepass.engine.embedders import DlibResNet

    embedder = engine.embedder
    assert isinstance(embedder, DlibResNet)
    found = engine.detector.detect(astronaut, 10)
    chip = embedder.align(astronaut, found)[0]
    spec = ModelRegistry.discover(None).get("dlib-resnet-v1")
    net = dlib.face_recognition_model_v1(str(spec.file("resnet").path))
    reference = np.asarray(net.compute_face_descriptor(chip), np.float32)
    reference /= np.linalg.norm(reference)
    plain = DlibResNet(
        spec,
        embedder._session,
        embedder._shape_predictor,
        dataclasses.replace(engine.config, flip_average=False),
    )
    assert np.allclose(plain.embed([chip])[0], reference, atol=1e-5)


def test_predictor_alignment_makes_dlibs_own_face_chip(
    engine: FaceEngine, astronaut: Image.Image
) -> None:
    import dlib

    from facepass.engine.embedders import DlibResNet

    embedder = engine.embedder
    assert isinstance(embedder, DlibResNet)
    found = engine.detector.detect(astronaut, 10)
    predictor = DlibResNet(
        ModelRegistry.discover(None).get("dlib-resnet-v1"),
        embedder._session,
        embedder._shape_predictor,
        dataclasses.replace(engine.config, alignment="shape_predictor"),
        alignment="shape_predictor",
    )
    chip = predictor.align(astronaut, found)[0]
    left, top, right, bottom = (float(v) for v in found.boxes[0])
    pixels = np.asarray(astronaut)
    side = 1.02 * (right - left)
    centre_x = (left + right) / 2
    centre_y = (top + bottom) / 2 + 0.037 * (bottom - top)
    rect = dlib.rectangle(
        int(centre_x - side / 2),
        int(centre_y - side / 2),
        int(centre_x + side / 2),
        int(centre_y + side / 2),
    )
    shape = embedder._shape_predictor(pixels, rect)
    reference = dlib.get_face_chip(pixels, shape, size=150, padding=0.25)
    assert np.abs(chip.astype(int) - reference.astype(int)).mean() < 1.0


def test_several_views_are_averaged_into_one_unit_embedding(
    engine: FaceEngine, astronaut: Image.Image
) -> None:
    from facepass.engine import ModelError
    from facepass.engine.embedders import DlibResNet
    from facepass.engine.embedders.dlib_resnet import parse_views

    embedder = engine.embedder
    assert isinstance(embedder, DlibResNet)
    spec = ModelRegistry.discover(None).get("dlib-resnet-v1")
    found = engine.detector.detect(astronaut, 10)

    def embedding(alignment: str) -> np.ndarray:  # type: ignore[type-arg]
        views = parse_views(alignment)
        model = DlibResNet(spec, embedder._session, embedder._shape_predictor, engine.config, views)
        crops = model.align(astronaut, found)
        assert crops[0].shape == ((len(views), 150, 150, 3) if len(views) > 1 else (150, 150, 3))
        result: np.ndarray = model.embed(crops)[0]  # type: ignore[type-arg]
        return result

    both = embedding("landmarks+shape_predictor")
    one, other = embedding("landmarks"), embedding("shape_predictor")
    assert unit(both)
    assert np.allclose(both, (one + other) / np.linalg.norm(one + other), atol=0.02)
    with pytest.raises(ModelError):
        parse_views("landmarks+sideways")


def _with_views(engine: FaceEngine, alignment: str, flip: bool = True) -> DlibResNet:
    embedder = engine.embedder
    assert isinstance(embedder, DlibResNet)
    return DlibResNet(
        ModelRegistry.discover(None).get("dlib-resnet-v1"),
        embedder._session,
        embedder._shape_predictor,
        dataclasses.replace(engine.config, flip_average=flip),
        alignment,
    )


def test_multi_view_embedding_is_deterministic_and_unit(
    engine: FaceEngine, astronaut: Image.Image
) -> None:
    recipe = "landmarks+landmarks:dy=3+shape_predictor:scale=1.07+landmarks:jitter=2"
    found = engine.detector.detect(astronaut, 10)
    first = _with_views(engine, recipe)
    crops = first.align(astronaut, found)
    assert crops[0].shape == (5, 150, 150, 3)
    embedding = first.embed(crops)[0]
    # A second embedder built from the same recipe (jitter included) gives the same vector.
    again = _with_views(engine, recipe)
    assert np.array_equal(again.embed(again.align(astronaut, found))[0], embedding)
    assert unit(embedding)
    plain = _with_views(engine, "landmarks").embed([crops[0][:1]])[0]
    assert 0.0 < cosine_distance(embedding, plain) < engine.match_threshold / 4


def test_view_modifiers_move_and_zoom_the_chip(engine: FaceEngine, astronaut: Image.Image) -> None:
    found = engine.detector.detect(astronaut, 10)
    chips = _with_views(engine, "landmarks+landmarks:dy=3+landmarks:dx=-2+landmarks:scale=1.5")
    base, lower, left, zoomed = chips.align(astronaut, found)[0].astype(float)

    def mismatch(a: np.ndarray, b: np.ndarray) -> float:  # type: ignore[type-arg]
        return float(np.abs(a - b).mean())

    # The face moved 3 px down: shifting back aligns the chips (up to interpolation).
    assert mismatch(lower[13:-10], base[10:-13]) < 0.25 * mismatch(lower, base)
    assert mismatch(left[:, 10:-12], base[:, 12:-10]) < 0.25 * mismatch(left, base)
    # Zoom 1.5 about the centre: the central 100 px of the base chip fill the zoomed one.
    shrunk = np.asarray(Image.fromarray(zoomed.astype(np.uint8)).resize((100, 100)), float)
    assert mismatch(shrunk[5:-5, 5:-5], base[30:-30, 30:-30]) < 12


def test_each_recipe_has_its_own_model_id(engine: FaceEngine) -> None:
    spec = ModelRegistry.discover(None).get("dlib-resnet-v1")
    assert _with_views(engine, str(spec.params["alignment"])).model_id == spec.id
    others = {
        _with_views(engine, "landmarks", flip=False).model_id,
        _with_views(engine, "landmarks+landmarks:dy=3").model_id,
        _with_views(engine, "landmarks+landmarks:dy=2").model_id,
        _with_views(engine, "shape_predictor").model_id,
    }
    assert len(others) == 4
    assert all(other.startswith("dlib-resnet-v1.") for other in others)


@pytest.mark.parametrize(
    "recipe",
    [
        "",
        "landmarks+sideways",
        "landmarks:dz=1",
        "landmarks:dy=x",
        "landmarks:jitter=0.5",
        "landmarks:scale=3",
        "landmarks:dy=1:dy=2",
    ],
)
def test_bad_recipes_are_refused(recipe: str) -> None:
    from facepass.engine import ModelError
    from facepass.engine.views import parse_views

    with pytest.raises(ModelError) as caught:
        parse_views(recipe)
    assert caught.value.code == "CONFIG_INVALID"


def test_analyze_can_keep_the_decoded_photo(engine: FaceEngine, astronaut: Image.Image) -> None:
    data = encode(astronaut.resize((4000, 4000)), "JPEG", quality=80)
    assert engine.analyze(data, embed=False).decoded is None
    kept = engine.analyze(data, embed=False, keep_decoded=True).decoded
    assert kept is not None
    assert kept.mode == "RGB"
    # Decoded at a reduced JPEG scale (detection needs far less than 4000 px), never upscaled.
    assert kept.size in {(2000, 2000), (1000, 1000), (500, 500)}
