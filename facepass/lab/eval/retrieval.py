"""`facepass eval retrieval`: how well a selfie finds a person's photos in a real session.

Sessions are built from labelled photos (LFW people with several photos, plus the labelled
people of ../shared/data/peers); each person is searched with one (or more) of their photos,
which are left out of the session, exactly as a guest's selfie is not a session photo. Faces
are embedded once and cached on disk; the sessions live in an embedded PostgreSQL with pgvector
and are searched by the API's own ranking code, so the figures are those of the real query.
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Connection, text

from facepass.engine import (
    Box,
    DetectedFace,
    EngineConfig,
    FaceEngine,
    FaceQuality,
    ImageAnalysis,
    ImageError,
)
from facepass.engine.quality import skip_reasons
from facepass.engine.selfie import analyze_selfie
from facepass.search.query import MAX_SELFIE_FACES, QueryFace, SelfieRejected, pick_query_face
from facepass.search.ranking import Combine, FaceHit, RankingParams, rank_photos
from facepass.search.vector_search import PgVectorFaceIndex, vector_literal

logger = logging.getLogger(__name__)

# The same people under other names in the peers' folders.
_ALIASES = {"biden": "Joe_Biden", "obama": "Barack_Obama"}
_IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png"}


@dataclass(frozen=True, slots=True)
class LabelledPhoto:
    path: Path
    person: str


def labelled_photos(data_dir: Path) -> dict[str, list[LabelledPhoto]]:
    """Every labelled photo under data_dir (LFW and the peers' labelled folders), by person."""
    roots = [
        data_dir / "lfw" / "images_deepfunneled",
        data_dir / "peers" / "dlib" / "johns",
        data_dir / "peers" / "face_recognition" / "examples" / "knn_examples" / "train",
    ]
    people: dict[str, list[LabelledPhoto]] = defaultdict(list)
    for root in roots:
        if not root.is_dir():
            continue
        for folder in sorted(p for p in root.iterdir() if p.is_dir()):
            person = _ALIASES.get(folder.name, folder.name)
            for path in sorted(folder.iterdir()):
                if path.suffix.lower() in _IMAGE_SUFFIXES:
                    people[person].append(LabelledPhoto(path, person))
    return dict(people)


# ---- embeddings, cached on disk ---------------------------------------------------------------


class AnalysisCache:
    """Engine analyses of image files, one .npz per file and model (reruns skip the engine).

    With `photos`, images are analysed as indexing analyses a session's photos (faces down to
    `photo_min_face_fraction`), else as a selfie is.
    """

    def __init__(self, root: Path, engine: FaceEngine, *, photos: bool = False) -> None:
        key = _config_key(engine.config)
        if photos:
            key += f"+photos:{engine.config.photo_min_face_fraction!r}"
        config = json.dumps(key, sort_keys=True).encode()
        self.folder = root / f"{engine.model_id}-{hashlib.sha256(config).hexdigest()[:10]}"
        self.folder.mkdir(parents=True, exist_ok=True)
        self.engine = engine
        self._fraction = engine.config.photo_min_face_fraction if photos else None

    def _path(self, image: Path) -> Path:
        stat = image.stat()
        key = f"{image.resolve()}:{stat.st_size}:{int(stat.st_mtime)}"
        return self.folder / f"{hashlib.sha256(key.encode()).hexdigest()[:24]}.npz"

    def analysis(self, image: Path) -> ImageAnalysis:
        cached = self._path(image)
        if cached.exists():
            return _load(cached, self.engine.model_id, self.engine.gates)
        try:
            analysis = self._analyze(image.read_bytes())
        except ImageError:
            analysis = ImageAnalysis(0, 0, (), self.engine.model_id)
        _save(cached, analysis)
        return analysis

    def _analyze(self, data: bytes) -> ImageAnalysis:
        return self.engine.analyze(data, min_face_fraction=self._fraction)


class SelfieAnalysisCache(AnalysisCache):
    """Analyses of images used as selfies, made as the search makes them: the selfie path
    (facepass.engine.selfie), not indexing's. Its own folder: the two never mix."""

    def __init__(self, root: Path, engine: FaceEngine) -> None:
        super().__init__(root / "selfie-path", engine)

    def _analyze(self, data: bytes) -> ImageAnalysis:
        return analyze_selfie(self.engine, data, max_faces=MAX_SELFIE_FACES)


# Engine settings that only indexing reads, added after the first caches were written: left out
# of the key (it is the configuration's repr otherwise), so those analyses stay valid.
_PHOTO_ONLY = frozenset({"photo_min_face_fraction"})


def _config_key(config: EngineConfig) -> str:
    shown = [f.name for f in fields(config) if f.repr and f.name not in _PHOTO_ONLY]
    values = ", ".join(f"{name}={getattr(config, name)!r}" for name in shown)
    return f"{type(config).__name__}({values})"


def _save(path: Path, analysis: ImageAnalysis) -> None:
    faces = analysis.faces
    dim = 0 if not faces or faces[0].embedding is None else len(faces[0].embedding)
    np.savez(
        path,
        size=np.array([analysis.width, analysis.height]),
        boxes=np.array([f.box.as_list() for f in faces], np.float64).reshape(-1, 4),
        quality=np.array(
            [
                [q.detection_score, q.size_px, q.sharpness, q.yaw, q.pitch, q.roll]
                for q in (f.quality for f in faces)
            ],
            np.float64,
        ).reshape(-1, 6),
        skips=np.array([",".join(f.quality.skip_reasons) for f in faces], dtype=str),
        embeddings=np.array(
            [f.embedding for f in faces if f.embedding is not None], np.float32
        ).reshape(len(faces), dim),
    )


def _load(path: Path, model_id: str, gates: EngineConfig) -> ImageAnalysis:
    """A cached analysis; its skip reasons judged again by the engine's gates (every face
    found is embedded and its measures kept, so a gate can change without the engine)."""
    with np.load(path) as data:
        faces = []
        for index in range(len(data["boxes"])):
            score, size_px, sharpness, yaw, pitch, roll = (float(v) for v in data["quality"][index])
            measured = FaceQuality(score, size_px, sharpness, yaw, pitch, roll)
            faces.append(
                DetectedFace(
                    box=Box(*(float(v) for v in data["boxes"][index])),
                    landmarks=(),
                    quality=replace(measured, skip_reasons=skip_reasons(measured, gates)),
                    embedding=data["embeddings"][index] if data["embeddings"].shape[1] else None,
                )
            )
        width, height = (int(v) for v in data["size"])
    return ImageAnalysis(width, height, tuple(faces), model_id)


# ---- sessions ---------------------------------------------------------------------------------


@dataclass
class EvalSession:
    """A session's photos and, per person, the photos used as their selfies."""

    size: int
    photos: list[LabelledPhoto]
    selfies: dict[str, list[LabelledPhoto]]
    session_id: uuid.UUID = field(default_factory=uuid.uuid4)

    @property
    def people(self) -> int:
        return len(self.selfies)


def build_session(
    people: dict[str, list[LabelledPhoto]],
    size: int,
    *,
    selfies_per_person: int = 1,
    min_photos: int = 8,
    max_per_person: int = 20,
    seed: int = 0,
) -> EvalSession:
    """About `size` photos of people with at least `min_photos` each (at most max_per_person,
    selfies excluded); each person's first photos, in a seeded order, are their selfies."""
    rng = random.Random(seed)
    names = sorted(n for n, photos in people.items() if len(photos) >= min_photos)
    rng.shuffle(names)
    photos: list[LabelledPhoto] = []
    selfies: dict[str, list[LabelledPhoto]] = {}
    for name in names:
        if len(photos) >= size:
            break
        own = list(people[name])
        random.Random(f"{seed}:{name}").shuffle(own)
        selfies[name] = own[:selfies_per_person]
        kept = own[selfies_per_person : selfies_per_person + max_per_person]
        photos.extend(kept[: size - len(photos)])
    return EvalSession(size=len(photos), photos=photos, selfies=selfies)


def load_session(conn: Connection, cache: AnalysisCache, session: EvalSession) -> list[uuid.UUID]:
    """Insert the session's photos and indexable faces like indexing does; returns photo ids."""
    engine = cache.engine
    photo_rows: list[dict[str, Any]] = []
    face_rows: list[dict[str, Any]] = []
    for photo in session.photos:
        photo_id = uuid.uuid5(session.session_id, str(photo.path))
        photo_rows.append(
            {"id": photo_id, "s": session.session_id, "sha": photo_id.hex, "name": str(photo.path)}
        )
        for face in cache.analysis(photo.path).faces:
            if not face.quality.indexable or face.embedding is None:
                continue
            face_rows.append(
                {
                    "p": photo_id,
                    "s": session.session_id,
                    "m": engine.model_id,
                    "l": face.box.left,
                    "t": face.box.top,
                    "r": face.box.right,
                    "b": face.box.bottom,
                    "size": face.quality.size_px,
                    "yaw": face.quality.yaw,
                    "pitch": face.quality.pitch,
                    "e": vector_literal(face.embedding),
                }
            )
    conn.execute(
        text(
            "INSERT INTO photos (id, session_id, sha256, original_filename, storage_key,"
            " content_type, size_bytes, status) VALUES (:id, :s, :sha, :name, :name,"
            " 'image/jpeg', 0, 'indexed')"
        ),
        photo_rows,
    )
    if face_rows:
        conn.execute(
            text(
                "INSERT INTO faces (photo_id, session_id, model_id, box_left, box_top, box_right,"
                " box_bottom, detection_score, size_px, sharpness, yaw, pitch, roll, indexable,"
                " embedding) VALUES (:p, :s, :m, :l, :t, :r, :b, 1, :size, 100, :yaw, :pitch, 0,"
                " true, CAST(:e AS vector))"
            ),
            face_rows,
        )
    return [row["id"] for row in photo_rows]


# ---- metrics ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Point:
    threshold: float
    precision: float
    recall: float
    found: int
    relevant_found: int
    relevant: int


@dataclass
class Strategy:
    """One way of searching: how selfies combine, whether a second pass widens recall."""

    name: str
    selfies: int = 1
    combine: Combine = "mean"
    expansion: bool = False
    consensus: bool = False


@dataclass
class QueryRun:
    person: str
    relevant: set[uuid.UUID]
    hits: list[FaceHit]


def query_faces(cache: AnalysisCache, selfies: Sequence[LabelledPhoto]) -> list[QueryFace]:
    """The selfie faces the API would use (largest, central, usable), skipping unusable ones."""
    faces = []
    for index, selfie in enumerate(selfies):
        try:
            faces.append(pick_query_face(cache.analysis(selfie.path), index))
        except SelfieRejected:
            continue
    return faces


def run_queries(
    conn: Connection,
    cache: AnalysisCache,
    session: EvalSession,
    photo_ids: Sequence[uuid.UUID],
    strategy: Strategy,
    threshold: float,
    ef_search: int = 100,
) -> list[QueryRun]:
    """Search every person of the session; hits up to `threshold`."""
    owner = {
        photo_id: photo.person for photo_id, photo in zip(photo_ids, session.photos, strict=True)
    }
    engine = cache.engine
    index = PgVectorFaceIndex(
        conn, session.session_id, engine.model_id, engine.embedding_dim, ef_search=ef_search
    )
    params = RankingParams(
        threshold=threshold,
        max_faces=5000,
        combine=strategy.combine,
        expansion=strategy.expansion,
        consensus=strategy.consensus,
    ).with_factors(engine.ranking_factors)
    runs = []
    for person, selfies in session.selfies.items():
        relevant = {p for p, who in owner.items() if who == person}
        queries = query_faces(cache, selfies[: strategy.selfies])
        yaws = [q.face.quality.yaw for q in queries]
        hits = rank_photos(index, [q.embedding for q in queries], params, yaws) if queries else []
        runs.append(QueryRun(person, relevant, hits))
    return runs


def curve(runs: Iterable[QueryRun], thresholds: Sequence[float]) -> list[Point]:
    """Micro-averaged precision and recall at each threshold."""
    runs = list(runs)
    relevant = sum(len(r.relevant) for r in runs)
    points = []
    for threshold in thresholds:
        found = relevant_found = 0
        for run in runs:
            kept = [h for h in run.hits if h.distance <= threshold]
            found += len(kept)
            relevant_found += sum(1 for h in kept if h.photo_id in run.relevant)
        points.append(
            Point(
                threshold=round(threshold, 4),
                precision=relevant_found / found if found else 1.0,
                recall=relevant_found / relevant if relevant else 0.0,
                found=found,
                relevant_found=relevant_found,
                relevant=relevant,
            )
        )
    return points


def best_recall_at_precision(points: Sequence[Point], precision: float) -> Point | None:
    """The point of highest recall whose precision is at least `precision`."""
    good = [p for p in points if p.precision >= precision]
    return max(good, key=lambda p: p.recall) if good else None


ProgressCallback = Callable[[int, int], None]


def warm_cache(
    cache: AnalysisCache, paths: Sequence[Path], progress: ProgressCallback | None = None
) -> None:
    """Analyse every file not cached yet."""
    for done, path in enumerate(paths, start=1):
        cache.analysis(path)
        if progress is not None:
            progress(done, len(paths))
