"""`facepass eval people`: how well a session's faces are grouped into people, and what search
gains from the groups, on labelled photos the constants were not tuned on.

Sessions (each face labelled by its person; faces are embedded once, cached like `eval
retrieval`):
- CFP: identities 001-200 (tuning) or 201-300 (held out), all 14 photos each (10 frontal,
  4 profile), plus 600 photos of LFW people with fewer than 5 photos as strangers.
- LFW: View 1's people split. Training people (tuning) or test people (held out) with at least
  5 photos (at most 20 each), plus photos of that split's people with fewer as strangers.

Figures: purity (each group's largest person, summed, over all faces), the share of people
with at least 5 grouped faces that are split into at most 2 groups, and, for search, the
precision and recall of one selfie (each person's first frontal photo, left out of the
session) with and without the expansion through people (facepass.search.people).
"""

from __future__ import annotations

import logging
import random
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import click
import numpy as np
import numpy.typing as npt

from facepass.engine import FaceEngine
from facepass.engine.types import SkipReason
from facepass.lab.eval.retrieval import AnalysisCache
from facepass.people.grouping import Grouping, GroupingParams, group_faces
from facepass.people.store import SessionFaces, centroids_and_covers
from facepass.search.people import (
    ExpansionParams,
    MemberFace,
    Membership,
    firm_people,
    merge_hits,
    vouched,
)
from facepass.search.ranking import FaceHit, RankingParams, rank_photos

# Faces the grouping sees: those indexed, turned ones included (an extreme pose is information).
_USABLE_DESPITE = {SkipReason.EXTREME_POSE}


@dataclass(frozen=True, slots=True)
class Photo:
    path: Path
    person: str
    kind: str  # "frontal", "profile" (CFP) or "photo" (LFW)


@dataclass
class EvalSession:
    name: str
    photos: list[Photo]
    selfies: dict[str, Photo]  # person -> the photo searched with (not in the session)


# ---- sessions ---------------------------------------------------------------------------------


def _lfw_people(data_dir: Path, split: str) -> tuple[list[str], list[str]]:
    """(people with >= 5 photos, people with fewer) of LFW View 1's train or test split."""
    name = {"train": "peopleDevTrain.txt", "test": "peopleDevTest.txt"}[split]
    many: list[str] = []
    few: list[str] = []
    for line in (data_dir / "lfw" / name).read_text().splitlines()[1:]:
        if line.strip():
            person, count = line.split("\t")
            (many if int(count) >= 5 else few).append(person)
    return many, few


def _lfw_photos(data_dir: Path, person: str) -> list[Photo]:
    folder = data_dir / "lfw" / "images_deepfunneled" / person
    return [Photo(p, person, "photo") for p in sorted(folder.glob("*.jpg"))]


def _strangers(data_dir: Path, split: str, count: int) -> list[Photo]:
    _, few = _lfw_people(data_dir, split)
    photos = [photo for person in few for photo in _lfw_photos(data_dir, person)]
    random.Random(0).shuffle(photos)
    return photos[:count]


def lfw_session(data_dir: Path, split: str, people: int | None, strangers: int) -> EvalSession:
    """LFW people of one View 1 split with >= 5 photos (<= 20 each), and strangers."""
    many, _ = _lfw_people(data_dir, split)
    photos: list[Photo] = []
    selfies: dict[str, Photo] = {}
    for person in many[:people]:
        own = _lfw_photos(data_dir, person)[:20]
        selfies[person] = own[0]
        photos += own[1:]
    return EvalSession(f"lfw-{split}", photos + _strangers(data_dir, split, strangers), selfies)


def cfp_session(data_dir: Path, first: int, last: int, strangers: int) -> EvalSession:
    """CFP identities first..last (frontal/01 is the selfie), and LFW test-split strangers."""
    photos: list[Photo] = []
    selfies: dict[str, Photo] = {}
    root = data_dir / "cfp" / "Images"
    for identity in range(first, last + 1):
        person = f"cfp-{identity:03d}"
        for kind in ("frontal", "profile"):
            for path in sorted((root / f"{identity:03d}" / kind).glob("*.jpg")):
                photo = Photo(path, person, kind)
                if kind == "frontal" and path.stem == "01":
                    selfies[person] = photo
                else:
                    photos.append(photo)
    split = "train" if last <= 200 else "test"
    return EvalSession(
        f"cfp-{first:03d}-{last:03d}", photos + _strangers(data_dir, split, strangers), selfies
    )


# ---- faces ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LabelledFaces:
    faces: SessionFaces
    people: list[str]  # the person of each face
    kinds: list[str]
    boxes: list[tuple[float, float, float, float]]


def session_faces(cache: AnalysisCache, session: EvalSession) -> LabelledFaces:
    """The session's usable faces. Face crops (CFP, LFW) show their person as the largest face;
    smaller faces in the background are someone else, labelled apart."""
    vectors, photo_codes, people, kinds, boxes = [], [], [], [], []
    for code, photo in enumerate(session.photos):
        for rank, face in enumerate(cache.analysis(photo.path).faces):
            if face.embedding is None or not set(face.quality.skip_reasons) <= _USABLE_DESPITE:
                continue
            vectors.append(np.asarray(face.embedding, np.float32))
            photo_codes.append(code)
            people.append(photo.person if rank == 0 else f"background:{photo.path}:{rank}")
            kinds.append(photo.kind)
            boxes.append(tuple(face.box.as_list()))
    matrix = np.array(vectors, np.float32).reshape(len(vectors), -1)
    matrix /= np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)
    codes = np.array(photo_codes, np.int64)
    faces = SessionFaces(
        face_ids=np.arange(len(vectors), dtype=np.int64),
        photo_ids=[_photo_uuid(c) for c in photo_codes],
        photo_codes=codes,
        vectors=matrix,
    )
    return LabelledFaces(faces, people, kinds, boxes)  # type: ignore[arg-type]


def _photo_uuid(code: int) -> Any:
    import uuid

    return uuid.UUID(int=code + 1)


# ---- grouping figures -------------------------------------------------------------------------


def grouping_figures(labelled: LabelledFaces, grouping: Grouping) -> dict[str, Any]:
    """Purity, splits of people with >= 5 faces, cannot-link violations."""
    labels = grouping.labels.tolist()
    by_group: dict[int, Counter[str]] = defaultdict(Counter)
    for label, person in zip(labels, labelled.people, strict=True):
        by_group[label][person] += 1
    purity = sum(c.most_common(1)[0][1] for c in by_group.values()) / max(len(labels), 1)
    groups_of: dict[str, set[int]] = defaultdict(set)
    faces_of: Counter[str] = Counter(labelled.people)
    for label, person in zip(labels, labelled.people, strict=True):
        groups_of[person].add(label)
    counted = [p for p, n in faces_of.items() if n >= 5 and not p.startswith("background:")]
    splits = [len(groups_of[p]) for p in counted]
    largest_share = [max(by_group[g][p] for g in groups_of[p]) / faces_of[p] for p in counted]
    violations = 0
    codes = labelled.faces.photo_codes
    for label in by_group:
        photos = codes[grouping.labels == label]
        violations += len(photos) - len(set(photos.tolist()))
    profile_core = [
        bool(c)
        for c, k in zip(grouping.core.tolist(), labelled.kinds, strict=True)
        if k == "profile"
    ]
    return {
        "faces": len(labels),
        "groups": grouping.n_groups,
        "purity": round(purity, 4),
        "people_5plus": len(counted),
        "at_most_2_groups": round(float(np.mean([s <= 2 for s in splits])), 4) if splits else None,
        "mean_groups": round(float(np.mean(splits)), 2) if splits else None,
        "largest_group_share": round(float(np.mean(largest_share)), 4) if splits else None,
        "core_share": round(float(grouping.core.mean()), 4) if labels else None,
        "profile_core_share": round(float(np.mean(profile_core)), 4) if profile_core else None,
        "cannot_link_violations": violations,
    }


# ---- search with and without the people ------------------------------------------------------


class MatrixIndex:
    """A session's faces in memory, behind the ranking's FaceIndex protocol (exact)."""

    def __init__(self, labelled: LabelledFaces) -> None:
        self.labelled = labelled

    def nearest(
        self, query: npt.NDArray[np.float32], limit: int, within: float | None = None
    ) -> list[FaceHit]:
        faces = self.labelled.faces
        distances = 1.0 - faces.vectors @ query
        order = np.argsort(distances)[:limit]
        if within is not None:
            order = order[distances[order] <= within]
        return [
            FaceHit(
                int(faces.face_ids[i]),
                faces.photo_ids[i],
                float(distances[i]),
                self.labelled.boxes[i],
                faces.vectors[i],
            )
            for i in order
        ]

    def embeddings(self, face_ids: Sequence[int]) -> dict[int, npt.NDArray[np.float32]]:
        return {int(i): self.labelled.faces.vectors[int(i)] for i in face_ids}


def search_figures(
    cache: AnalysisCache,
    session: EvalSession,
    labelled: LabelledFaces,
    grouping: Grouping,
    threshold: float,
    expansion: ExpansionParams,
) -> dict[str, Any]:
    """Photo-level precision and recall of one selfie per person, without and with people."""
    index = MatrixIndex(labelled)
    params = RankingParams(threshold=threshold)
    photo_person = {
        labelled.faces.photo_ids[i]: session.photos[int(labelled.faces.photo_codes[i])]
        for i in range(len(labelled.people))
    }
    photos_of: dict[str, set[Any]] = defaultdict(set)
    for photo_id, photo in photo_person.items():
        photos_of[photo.person].add(photo_id)
    membership = {
        int(face_id): Membership(_group_uuid(int(label)), bool(core))
        for face_id, label, core in zip(
            labelled.faces.face_ids, grouping.labels, grouping.core, strict=True
        )
    }
    centroid_texts, _ = centroids_and_covers(labelled.faces, grouping)
    centroids = {
        _group_uuid(g): np.asarray([float(x) for x in c.strip("[]").split(",")], np.float32)
        for g, c in enumerate(centroid_texts)
    }
    members_of: dict[Any, list[int]] = defaultdict(list)
    for face_id, label in enumerate(grouping.labels.tolist()):
        members_of[_group_uuid(label)].append(face_id)
    totals = {mode: Counter[str]() for mode in ("plain", "people")}
    for person, selfie in session.selfies.items():
        analysis = cache.analysis(selfie.path)
        if not analysis.faces or analysis.faces[0].embedding is None:
            continue
        query = np.asarray(analysis.faces[0].embedding, np.float32)
        query /= np.linalg.norm(query)
        plain = rank_photos(index, [query], params)
        people = firm_people(query[None, :], plain, membership, centroids, threshold, expansion)
        added = []
        for group in people:
            for face_id in members_of[group]:
                distance = float(1.0 - labelled.faces.vectors[face_id] @ query)
                hit = FaceHit(face_id, labelled.faces.photo_ids[face_id], distance, (0, 0, 0, 0))
                added.append(MemberFace(hit, membership[face_id].core))
        expanded = merge_hits(plain, vouched(added, threshold, expansion))
        for mode, hits in (("plain", plain), ("people", expanded)):
            found = {h.photo_id for h in hits}
            wanted = photos_of[person]
            tally = totals[mode]
            tally["returned"] += len(found)
            tally["correct"] += len(found & wanted)
            for photo_id in wanted:
                kind = photo_person[photo_id].kind
                tally[f"wanted_{kind}"] += 1
                tally[f"found_{kind}"] += photo_id in found
    return {mode: _rates(t) for mode, t in totals.items()}


def _group_uuid(label: int) -> Any:
    import uuid

    return uuid.UUID(int=label + 1)


def _rates(tally: Counter[str]) -> dict[str, float | None]:
    out: dict[str, float | None] = {
        "precision": round(tally["correct"] / tally["returned"], 4) if tally["returned"] else None
    }
    for kind in ("frontal", "profile", "photo"):
        if tally[f"wanted_{kind}"]:
            out[f"recall_{kind}"] = round(tally[f"found_{kind}"] / tally[f"wanted_{kind}"], 4)
    return out


# ---- the command ------------------------------------------------------------------------------

AVERAGE_GRID = (0.4, 0.5, 0.6, 0.7, 0.8)
EDGE_GRID = (0.0, 0.4, 0.5, 0.6)
EXPANSION_GRID = [
    ExpansionParams(firm_factor=firm, group_factor=group, own_factor=own)
    for firm in (0.6, 0.8)
    for group in (0.7, 0.9)
    for own in (1.2, 1.6)
]
TUNING = ("cfp-tune", "lfw-tune")
HELD_OUT = ("cfp-held-out", "lfw-held-out")


def _group(faces: LabelledFaces, threshold: float, params: GroupingParams) -> Grouping:
    return group_faces(faces.faces.vectors, faces.faces.photo_codes, threshold, params)


def tune_grouping(
    tuning: Sequence[LabelledFaces], threshold: float
) -> tuple[GroupingParams, list[dict[str, Any]]]:
    """The grid point keeping the most people in <= 2 groups while every tuning session stays
    at purity >= 0.99 (the purest point when none does)."""
    rows = []
    best: tuple[tuple[float, float], GroupingParams] | None = None
    for average in AVERAGE_GRID:
        for edge in EDGE_GRID:
            params = replace(GroupingParams(), average_factor=average, edge_factor=edge)
            figures = [grouping_figures(lf, _group(lf, threshold, params)) for lf in tuning]
            purity = min(f["purity"] for f in figures)
            split = float(np.mean([f["at_most_2_groups"] for f in figures]))
            rows.append(
                {
                    "average_factor": average,
                    "edge_factor": edge,
                    "purity": [f["purity"] for f in figures],
                    "at_most_2_groups": [f["at_most_2_groups"] for f in figures],
                }
            )
            score = (1.0, split) if purity >= 0.99 else (0.0, purity)
            if best is None or score > best[0]:
                best = (score, params)
    assert best is not None
    return best[1], rows


def tune_expansion(
    cache: AnalysisCache,
    tuning: Sequence[tuple[EvalSession, LabelledFaces, Grouping]],
    threshold: float,
) -> tuple[ExpansionParams, list[dict[str, Any]]]:
    """The expansion with the most recall that costs no precision on the tuning sessions
    (the strictest grid point when every one costs some)."""
    rows = []
    best: tuple[tuple[float, float], ExpansionParams] | None = None
    for params in EXPANSION_GRID:
        results = [search_figures(cache, s, lf, g, threshold, params) for s, lf, g in tuning]
        cost = max(r["plain"]["precision"] - r["people"]["precision"] for r in results)
        gain = float(
            np.mean(
                [
                    r["people"].get(k, 0.0) - r["plain"].get(k, 0.0)
                    for r in results
                    for k in ("recall_frontal", "recall_profile", "recall_photo")
                    if k in r["plain"]
                ]
            )
        )
        rows.append(
            {
                "firm_factor": params.firm_factor,
                "group_factor": params.group_factor,
                "own_factor": params.own_factor,
                "precision_cost": round(cost, 4),
                "recall_gain": round(gain, 4),
            }
        )
        score = (1.0, gain) if cost <= 0.0 else (0.0, -cost)
        if best is None or score > best[0]:
            best = (score, params)
    assert best is not None
    return best[1], rows


def command(data_dir: Path, cache_dir: Path, engine: FaceEngine, do_tune: bool) -> dict[str, Any]:
    """Tune (optionally) on the tuning sessions, then report every session; returns the report."""
    cache = AnalysisCache(cache_dir, engine)
    threshold = engine.match_threshold
    sessions = {
        "cfp-tune": cfp_session(data_dir, 1, 200, 600),
        "lfw-tune": lfw_session(data_dir, "train", 150, 600),
        "cfp-held-out": cfp_session(data_dir, 201, 300, 600),
        "lfw-held-out": lfw_session(data_dir, "test", None, 800),
    }
    labelled = {name: session_faces(cache, s) for name, s in sessions.items()}
    report: dict[str, Any] = {"model_id": engine.model_id, "threshold": threshold}
    params, expansion = GroupingParams.for_model(engine.people_factors), ExpansionParams()
    if do_tune:
        params, report["grouping_grid"] = tune_grouping([labelled[n] for n in TUNING], threshold)
        tuned = [(sessions[n], labelled[n], _group(labelled[n], threshold, params)) for n in TUNING]
        expansion, report["expansion_grid"] = tune_expansion(cache, tuned, threshold)
    report["grouping_params"] = {
        "average_factor": params.average_factor,
        "edge_factor": params.edge_factor,
        "link_factor": params.link_factor,
        "neighbours": params.neighbours,
        "core_support": params.core_support,
    }
    report["expansion_params"] = {
        "firm_factor": expansion.firm_factor,
        "group_factor": expansion.group_factor,
        "own_factor": expansion.own_factor,
    }
    # The curve on the held-out sessions, for reading only: nothing is chosen from it.
    report["held_out_curve"] = [
        {
            "average_factor": average,
            "edge_factor": edge,
            **{
                name: {k: figures[k] for k in ("purity", "at_most_2_groups")}
                for name in HELD_OUT
                for figures in [
                    grouping_figures(
                        labelled[name],
                        _group(
                            labelled[name],
                            threshold,
                            replace(params, average_factor=average, edge_factor=edge),
                        ),
                    )
                ]
            },
        }
        for average in AVERAGE_GRID
        for edge in EDGE_GRID
    ]
    for name, session in sessions.items():
        faces = labelled[name]
        started = time.perf_counter()
        grouping = _group(faces, threshold, params)
        figures = grouping_figures(faces, grouping)
        figures["photos"] = len(session.photos)
        figures["grouping_s"] = round(time.perf_counter() - started, 2)
        figures["search"] = search_figures(cache, session, faces, grouping, threshold, expansion)
        report[name] = figures
    return report


def run(data_dir: Path, cache_dir: Path, do_tune: bool) -> None:
    """`facepass eval people`: the report as JSON on stdout."""
    from facepass.engine import get_engine
    from facepass.engine_config import engine_config_from_settings
    from facepass.lab.output import emit

    if not (data_dir / "cfp").is_dir() or not (data_dir / "lfw").is_dir():
        raise click.ClickException(f"no cfp/ and lfw/ under {data_dir} (../shared/data)")
    logging.getLogger("facepass").setLevel(logging.WARNING)
    engine = get_engine(engine_config_from_settings())
    emit(command(data_dir, cache_dir, engine, do_tune))
