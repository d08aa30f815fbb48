"""Held-out retrieval: sessions whose people were never used to tune anything.

Two datasets, each split once and for all into a tuning half and a test half:

- **CFP** (`../shared/data/cfp`): identities 001-200 tune, 201-300 test. Each person's
  `frontal/01.jpg` is the selfie and `profile/01.jpg` the optional second angle; their other
  9 frontal and 3 profile photos are in the session. 100 people (1,200 photos) and 800 LFW
  distractors make a 2,000-photo session; the tuning half is two such sessions.
- **LFW** (`../shared/data/lfw`, View 1's people split): `peopleDevTrain.txt` tune,
  `peopleDevTest.txt` test. People with at least 8 photos: the first (by file name) is the
  selfie, the next 20 are in the session, filled up to 2,000 photos with one photo of each of
  the split's other people.

Distractors come from the same LFW half as the split (never a CFP celebrity under their LFW
name). Faces come from the analysis cache (`retrieval.AnalysisCache`), are loaded into
pgvector like indexing stores them (turned faces with their pose) and are searched by the
API's ranking code.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import Connection, text

from facepass.lab.eval.retrieval import AnalysisCache
from facepass.search.query import QueryFace, SelfieRejected, pick_query_face
from facepass.search.ranking import RankingParams, rank_photos
from facepass.search.vector_search import PgVectorFaceIndex, vector_literal

Split = Literal["tune", "test"]
Kind = Literal["frontal", "profile", "distractor"]
SPLITS: tuple[Split, ...] = ("tune", "test")
CFP_IDS: dict[Split, range] = {"tune": range(1, 201), "test": range(201, 301)}
CFP_PEOPLE_PER_SESSION = 100
SESSION_PHOTOS = 2000
LFW_PEOPLE_FILES: dict[Split, str] = {"tune": "peopleDevTrain.txt", "test": "peopleDevTest.txt"}
LFW_MIN_PHOTOS = 8
LFW_MAX_PER_PERSON = 20


@dataclass(frozen=True, slots=True)
class SessionPhoto:
    path: Path
    person: str | None  # None: a distractor
    kind: Kind


@dataclass
class HeldOutSession:
    """A session's photos and each person's selfies (first the frontal one)."""

    photos: list[SessionPhoto]
    selfies: dict[str, list[Path]]
    session_id: uuid.UUID = field(default_factory=uuid.uuid4)


def lfw_people(data_dir: Path, split: Split) -> dict[str, int]:
    """The people of one half of LFW View 1 and their photo counts."""
    lines = (data_dir / "lfw" / LFW_PEOPLE_FILES[split]).read_text().splitlines()[1:]
    return {name: int(count) for name, count in (line.split("\t") for line in lines if line)}


def _lfw_photos(data_dir: Path, name: str) -> list[Path]:
    return sorted((data_dir / "lfw" / "images_deepfunneled" / name).glob("*.jpg"))


def cfp_names(data_dir: Path) -> list[str]:
    """CFP's identity names; line N is identity N."""
    return (data_dir / "cfp" / "list_name.txt").read_text().splitlines()


def distractors(data_dir: Path, split: Split, count: int, seed: int = 0) -> list[Path]:
    """One photo each of `count` people of the split with fewer than 8 photos, none in CFP."""
    celebrities = {name.strip().replace(" ", "_").lower() for name in cfp_names(data_dir)}
    people = lfw_people(data_dir, split)
    names = sorted(
        name
        for name, photos in people.items()
        if photos < LFW_MIN_PHOTOS and name.lower() not in celebrities
    )
    random.Random(seed).shuffle(names)
    return [_lfw_photos(data_dir, name)[0] for name in names[:count]]


def cfp_sessions(data_dir: Path, split: Split) -> list[HeldOutSession]:
    """The split's CFP people, 100 to a 2,000-photo session with LFW distractors."""
    ids = list(CFP_IDS[split])
    own_photos = CFP_PEOPLE_PER_SESSION * 12
    filler = distractors(data_dir, split, SESSION_PHOTOS - own_photos)
    sessions = []
    for start in range(0, len(ids), CFP_PEOPLE_PER_SESSION):
        photos: list[SessionPhoto] = []
        selfies: dict[str, list[Path]] = {}
        for number in ids[start : start + CFP_PEOPLE_PER_SESSION]:
            folder = data_dir / "cfp" / "Images" / f"{number:03d}"
            frontal = sorted((folder / "frontal").glob("*.jpg"))
            profile = sorted((folder / "profile").glob("*.jpg"))
            person = f"cfp-{number:03d}"
            selfies[person] = [frontal[0], profile[0]]
            photos += [SessionPhoto(p, person, "frontal") for p in frontal[1:]]
            photos += [SessionPhoto(p, person, "profile") for p in profile[1:]]
        photos += [SessionPhoto(p, None, "distractor") for p in filler]
        sessions.append(HeldOutSession(photos, selfies))
    return sessions


def lfw_sessions(data_dir: Path, split: Split) -> list[HeldOutSession]:
    """The split's LFW people with 8+ photos in one 2,000-photo session, distractors to fill."""
    people = lfw_people(data_dir, split)
    photos: list[SessionPhoto] = []
    selfies: dict[str, list[Path]] = {}
    for name in sorted(n for n, count in people.items() if count >= LFW_MIN_PHOTOS):
        if len(photos) >= SESSION_PHOTOS:
            break
        own = _lfw_photos(data_dir, name)[: LFW_MAX_PER_PERSON + 1]
        selfies[name] = own[:1]
        kept = own[1:][: SESSION_PHOTOS - len(photos)]
        photos += [SessionPhoto(p, name, "frontal") for p in kept]
    missing = SESSION_PHOTOS - len(photos)
    if missing > 0:
        filler = distractors(data_dir, split, missing)
        photos += [SessionPhoto(p, None, "distractor") for p in filler]
    return [HeldOutSession(photos, selfies)]


def sessions_of(data_dir: Path, dataset: str, split: Split) -> list[HeldOutSession]:
    """The held-out (or tuning) sessions of a dataset."""
    if dataset == "cfp":
        return cfp_sessions(data_dir, split)
    if dataset == "lfw":
        return lfw_sessions(data_dir, split)
    raise ValueError(f"unknown dataset {dataset!r}")


def every_path(sessions: Sequence[HeldOutSession]) -> list[Path]:
    """Every image the sessions need analysed (photos and selfies), each once."""
    paths = [p.path for s in sessions for p in s.photos]
    paths += [p for s in sessions for selfies in s.selfies.values() for p in selfies]
    return list(dict.fromkeys(paths))


def load(
    conn: Connection, cache: AnalysisCache, session: HeldOutSession, *, turned: bool = True
) -> dict[uuid.UUID, SessionPhoto]:
    """Insert the session's photos and searchable faces (with their pose) as indexing does;
    without `turned`, turned faces are left out (the index before pose-aware search)."""
    engine = cache.engine
    photo_rows: list[dict[str, Any]] = []
    face_rows: list[dict[str, Any]] = []
    photos: dict[uuid.UUID, SessionPhoto] = {}
    for photo in session.photos:
        photo_id = uuid.uuid5(session.session_id, str(photo.path))
        photos[photo_id] = photo
        photo_rows.append(
            {"id": photo_id, "s": session.session_id, "sha": photo_id.hex, "name": str(photo.path)}
        )
        for face in cache.analysis(photo.path).faces:
            quality = face.quality
            if not quality.indexable or face.embedding is None or (quality.turned and not turned):
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
                    "score": quality.detection_score,
                    "size": quality.size_px,
                    "yaw": quality.yaw,
                    "pitch": quality.pitch,
                    "roll": quality.roll,
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
                " embedding) VALUES (:p, :s, :m, :l, :t, :r, :b, :score, :size, 100, :yaw,"
                " :pitch, :roll, true, CAST(:e AS vector))"
            ),
            face_rows,
        )
    return photos


def selfie_faces(cache: AnalysisCache, selfies: Sequence[Path]) -> list[QueryFace]:
    """The faces the API would search with (as `embed_selfies`): none if all are refused or
    every usable one is turned away."""
    faces = []
    for index, path in enumerate(selfies):
        try:
            faces.append(pick_query_face(cache.analysis(path), index, allow_turned=True))
        except SelfieRejected:
            continue
    return [] if all(f.face.quality.turned for f in faces) else faces


@dataclass
class Tally:
    """Micro-averaged counts over every search of some sessions."""

    searches: int = 0
    refused: int = 0
    found: int = 0
    correct: int = 0
    frontal: int = 0
    frontal_found: int = 0
    profile: int = 0
    profile_found: int = 0

    def add(self, other: Tally) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def report(self) -> dict[str, float | int]:
        return {
            "precision": round(self.correct / self.found, 4) if self.found else 1.0,
            "recall_frontal": round(self.frontal_found / self.frontal, 4) if self.frontal else 0.0,
            "recall_profile": round(self.profile_found / self.profile, 4) if self.profile else 0.0,
            "found": self.found,
            "searches": self.searches,
            "selfies_refused": self.refused,
        }


def search_all(
    conn: Connection,
    cache: AnalysisCache,
    session: HeldOutSession,
    photos: dict[uuid.UUID, SessionPhoto],
    params: RankingParams,
    selfies: int,
) -> Tally:
    """Every person of the session searched with their first `selfies` selfies."""
    engine = cache.engine
    index = PgVectorFaceIndex(conn, session.session_id, engine.model_id, engine.embedding_dim)
    tally = Tally()
    for person, paths in session.selfies.items():
        own = [p for p in photos.values() if p.person == person]
        tally.searches += 1
        tally.frontal += sum(1 for p in own if p.kind == "frontal")
        tally.profile += sum(1 for p in own if p.kind == "profile")
        faces = selfie_faces(cache, paths[:selfies])
        if not faces:
            tally.refused += 1
            continue
        yaws = [f.face.quality.yaw for f in faces]
        for hit in rank_photos(index, [f.embedding for f in faces], params, yaws):
            photo = photos[hit.photo_id]
            tally.found += 1
            if photo.person == person:
                tally.correct += 1
                tally.frontal_found += photo.kind == "frontal"
                tally.profile_found += photo.kind == "profile"
    return tally


def selfie_acceptance(cache: AnalysisCache, data_dir: Path, split: Split) -> dict[str, Any]:
    """Every frontal CFP photo of the split tried as a lone selfie: how many are accepted."""
    codes: dict[str, int] = {}
    total = 0
    for number in CFP_IDS[split]:
        folder = data_dir / "cfp" / "Images" / f"{number:03d}" / "frontal"
        for path in sorted(folder.glob("*.jpg")):
            total += 1
            try:
                pick_query_face(cache.analysis(path))
                code = "accepted"
            except SelfieRejected as exc:
                code = exc.code
            codes[code] = codes.get(code, 0) + 1
    return {
        "frontal_selfies": total,
        "accepted": round(codes.get("accepted", 0) / total, 4) if total else 0.0,
        "refused_by_code": {k: v for k, v in sorted(codes.items()) if k != "accepted"},
    }
