"""`facepass eval calibrate`: a model's ranking factors, chosen on labelled photos.

The search's consensus and pose factors are fractions of the model's match threshold, so they
carry over between models roughly; a pack gets its own by running this on labelled photos it
was not evaluated on. Sessions are searched in memory (exact k-NN, which is what pgvector's
exact scan returns for sessions up to 20,000 faces) by the API's own ranking code, and each
factor in turn is moved over a grid, twice round, keeping the value that finds most at the
target precision. The result goes into the pack's `pack.json` as the embedder's
`params.ranking` (docs/engine.md), where the engine reads it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from facepass.engine.types import Embedding
from facepass.lab.eval.heldout import HeldOutSession, SessionPhoto, Tally, selfie_faces
from facepass.lab.eval.retrieval import AnalysisCache
from facepass.search.ranking import FaceHit, RankingParams, rank_photos, unit

# The values each factor may take; one at a time, the others held. The wider values serve
# models whose distances spread differently from dlib's (intel-face-reid-retail-0095).
GRID: dict[str, tuple[float, ...]] = {
    "candidate_factor": (1.0, 1.1, 1.25, 1.5),
    "link_factor": (0.6, 0.7, 0.8, 1.0),
    "group_factor": (0.35, 0.41, 0.47, 0.55, 0.7, 0.85, 1.0),
    "lone_factor": (0.46, 0.52, 0.58, 0.64, 0.75, 0.9, 1.0),
    "turned_yaw": (35.0, 45.0, 60.0),
    "pose_gap": (40.0, 60.0, 75.0, 90.0, 120.0, 180.0),
    "turned_pose_gap": (30.0, 45.0, 180.0),
    "turned_scale": (0.8, 0.9, 1.0, 1.1, 1.25),
    "turned_anchor": (0.0, 0.5, 1.0, 1.5),
}
POSE_FACTORS = ("turned_yaw", "pose_gap", "turned_anchor", "turned_pose_gap", "turned_scale")
# The match threshold itself, as multiples of the model's own (every factor scales with it).
THRESHOLD_MULTIPLES = (0.8, 0.9, 1.0, 1.1, 1.2, 1.35, 1.5)


class MemoryFaceIndex:
    """A session's faces in memory: exact nearest neighbours, as `FaceIndex`."""

    def __init__(self, faces: Sequence[tuple[uuid.UUID, Embedding, float]]) -> None:
        self._photos = [photo for photo, _, _ in faces]
        self._yaws = [yaw for _, _, yaw in faces]
        self._matrix = (
            np.stack([unit(e) for _, e, _ in faces]) if faces else np.zeros((0, 1), np.float32)
        )

    def nearest(self, query: Embedding, limit: int, within: float | None = None) -> list[FaceHit]:
        if not self._photos:
            return []
        distances = 1.0 - self._matrix @ query
        order = np.argsort(distances, kind="stable")[:limit]
        if within is not None:
            order = order[distances[order] <= within]
        return [
            FaceHit(
                int(i),
                self._photos[i],
                float(distances[i]),
                (0.0, 0.0, 0.0, 0.0),
                self._matrix[i],
                yaw=self._yaws[i],
            )
            for i in order
        ]

    def embeddings(self, face_ids: Sequence[int]) -> dict[int, Embedding]:
        return {i: self._matrix[i] for i in face_ids}


@dataclass
class LoadedSession:
    session: HeldOutSession
    index: MemoryFaceIndex
    photos: dict[uuid.UUID, SessionPhoto]


def load_in_memory(cache: AnalysisCache, session: HeldOutSession) -> LoadedSession:
    """The session's searchable faces (turned ones with their pose), as indexing keeps them."""
    faces: list[tuple[uuid.UUID, Embedding, float]] = []
    photos: dict[uuid.UUID, SessionPhoto] = {}
    for photo in session.photos:
        photo_id = uuid.uuid5(session.session_id, str(photo.path))
        photos[photo_id] = photo
        for face in cache.analysis(photo.path).faces:
            if face.quality.indexable and face.embedding is not None:
                faces.append((photo_id, face.embedding, face.quality.yaw))
    return LoadedSession(session, MemoryFaceIndex(faces), photos)


def search_in_memory(
    cache: AnalysisCache, loaded: Sequence[LoadedSession], params: RankingParams, selfies: int
) -> Tally:
    """Every person of the sessions searched with their first `selfies` selfies."""
    tally = Tally()
    for item in loaded:
        for person, paths in item.session.selfies.items():
            own = [p for p in item.photos.values() if p.person == person]
            tally.searches += 1
            tally.frontal += sum(1 for p in own if p.kind == "frontal")
            tally.profile += sum(1 for p in own if p.kind == "profile")
            faces = selfie_faces(cache, paths[:selfies])
            if not faces:
                tally.refused += 1
                continue
            yaws = [f.face.quality.yaw for f in faces]
            for hit in rank_photos(item.index, [f.embedding for f in faces], params, yaws):
                photo = item.photos[hit.photo_id]
                tally.found += 1
                if photo.person == person:
                    tally.correct += 1
                    tally.frontal_found += photo.kind == "frontal"
                    tally.profile_found += photo.kind == "profile"
    return tally


@dataclass(frozen=True)
class Targets:
    """What calibration maximises. One frontal selfie: its frontal plus `profile_weight` times
    its profile recall, at `precision` and with frontal recall at least `min_frontal` (a pose
    rule that finds more profiles by losing frontal photos does not pay); where the photos have
    profiles, also the profile recall of a second, turned selfie at `turned_precision`."""

    precision: float = 0.99
    turned_precision: float = 0.98
    profile_weight: float = 1.0
    min_frontal: float = 0.95


SHORTFALL_COST = 100.0


def objective(one: Tally, two: Tally | None, targets: Targets) -> float:
    """Recall found within the targets; a shortfall of precision or of frontal recall costs a
    hundred times its size (near-hard targets: with profiles counted, a little precision
    could otherwise buy much recall)."""
    first = one.report()
    score = float(first["recall_frontal"])
    if one.profile:
        score += targets.profile_weight * float(first["recall_profile"])
    score -= SHORTFALL_COST * max(0.0, targets.precision - float(first["precision"]))
    score -= SHORTFALL_COST * max(0.0, targets.min_frontal - float(first["recall_frontal"]))
    if two is not None:
        second = two.report()
        score += float(second["recall_profile"])
        score -= SHORTFALL_COST * max(0.0, targets.turned_precision - float(second["precision"]))
    return score


def calibrate(
    cache: AnalysisCache,
    sessions: Sequence[HeldOutSession],
    start: RankingParams,
    targets: Targets = Targets(),
    *,
    turned: bool,
    rounds: int = 2,
    progress: Callable[[str], None] | None = None,
    datasets: Sequence[str] | None = None,
) -> tuple[RankingParams, dict[str, object]]:
    """Coordinate search over GRID in two stages: the consensus factors and the frontal pose
    gap for one frontal selfie, then (`turned`: the photos have profiles and a second angle)
    the turned query's factors for two selfies, the first stage's factors held.

    `datasets` names each session's dataset; each dataset is scored on its own and the scores
    added, so every dataset must meet the precision target by itself: pooled, CFP's many easy
    searches let factors through that lose precision on LFW's web photos (one frontal selfie,
    LFW View 1 test people: 0.936 with factors tuned on CFP alone). The frontal-recall floor
    guards against pose rules trading frontal photos for profiles, so it applies only where
    the photos have profiles."""
    names = list(datasets) if datasets is not None else ["photos"] * len(sessions)
    groups: dict[str, list[LoadedSession]] = {}
    for name, session in zip(names, sessions, strict=True):
        groups.setdefault(name, []).append(load_in_memory(cache, session))
    loaded = [item for group in groups.values() for item in group]
    has_profiles = {
        name: any(p.kind == "profile" for item in group for p in item.photos.values())
        for name, group in groups.items()
    }
    own_targets = {
        name: targets if has_profiles[name] else replace(targets, min_frontal=0.0)
        for name in groups
    }
    best = start
    frontal = ["threshold", *(n for n in GRID if n not in POSE_FACTORS or n == "pose_gap")]

    def stage(
        names: Sequence[str], measure: Callable[[RankingParams], tuple[float, Tally]]
    ) -> Tally:
        nonlocal best
        best_score, tally = measure(best)
        for _ in range(rounds):
            for name in names:
                values = (
                    [round(start.threshold * m, 4) for m in THRESHOLD_MULTIPLES]
                    if name == "threshold"
                    else GRID[name]
                )
                for value in values:
                    trial = replace(best, **{name: value})  # type: ignore[arg-type]
                    if trial == best:
                        continue
                    trial_score, trial_tally = measure(trial)
                    if trial_score > best_score + 1e-9:
                        best, best_score, tally = trial, trial_score, trial_tally
                        if progress is not None:
                            progress(f"{name}={value}: {round(trial_score, 4)}")
        return tally

    def pooled(tallies: Sequence[Tally]) -> Tally:
        total = Tally()
        for tally in tallies:
            total.add(tally)
        return total

    def frontal_score(params: RankingParams) -> tuple[float, Tally]:
        tallies = {n: search_in_memory(cache, g, params, 1) for n, g in groups.items()}
        score = sum(objective(t, None, own_targets[n]) for n, t in tallies.items())
        return score, pooled(list(tallies.values()))

    one = stage(frontal, frontal_score)
    summary: dict[str, object] = {"one_selfie": one.report()}
    if turned:

        def turned_score(params: RankingParams) -> tuple[float, Tally]:
            # turned_yaw also decides which lone selfies count as turned: both are measured.
            score, twos = 0.0, []
            for name, group in groups.items():
                first = search_in_memory(cache, group, params, 1)
                second = search_in_memory(cache, group, params, 2) if has_profiles[name] else None
                score += objective(first, second, own_targets[name])
                if second is not None:
                    twos.append(second)
            return score, pooled(twos)

        two = stage([n for n in POSE_FACTORS if n != "pose_gap"], turned_score)
        summary = {
            "one_selfie": search_in_memory(cache, loaded, best, 1).report(),
            "two_selfies": two.report(),
        }
    if len(groups) > 1:
        summary["by_dataset"] = {
            name: {
                "one_selfie": search_in_memory(cache, group, best, 1).report(),
                **(
                    {"two_selfies": search_in_memory(cache, group, best, 2).report()}
                    if turned and has_profiles[name]
                    else {}
                ),
            }
            for name, group in groups.items()
        }
    return best, summary


def factors_of(params: RankingParams) -> dict[str, float]:
    """The tunable factors of some params, for a pack's `params.ranking`."""
    return {name: float(getattr(params, name)) for name in GRID}


def labelled_folder_sessions(root: Path, seed: int = 0) -> list[HeldOutSession]:
    """One session of a folder of labelled photos (a subfolder per person): each person's
    first photo (by name) is their selfie, the others are session photos."""
    photos: list[SessionPhoto] = []
    selfies: dict[str, list[Path]] = {}
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        own = sorted(p for p in folder.iterdir() if p.suffix.lower() in {".jpg", ".jpeg", ".png"})
        if len(own) < 2:
            photos += [SessionPhoto(p, None, "distractor") for p in own]
            continue
        selfies[folder.name] = own[:1]
        photos += [SessionPhoto(p, folder.name, "frontal") for p in own[1:]]
    return [HeldOutSession(photos, selfies, session_id=uuid.UUID(int=seed))]


def command(
    data_dir: Path,
    datasets: Sequence[str],
    photos_dir: Path | None,
    cache_dir: Path,
    targets: Targets,
    rounds: int,
    as_json: bool,
    *,
    max_sessions: int | None = None,
) -> None:
    """`facepass eval calibrate`: print the threshold and factors for a model's registry entry
    (`match_threshold`, `params.ranking`)."""
    import json
    import logging

    import click

    from facepass.config import get_settings
    from facepass.engine import get_engine
    from facepass.engine_config import engine_config
    from facepass.lab.eval import heldout
    from facepass.lab.eval.retrieval import warm_cache

    logging.getLogger("facepass").setLevel(logging.WARNING)
    engine = get_engine(engine_config(get_settings()))
    cache = AnalysisCache(cache_dir, engine)
    names: list[str] | None = None
    if photos_dir is not None:
        sessions = labelled_folder_sessions(photos_dir)
    else:  # only ever the tuning halves: the test halves stay held out
        named = [(d, s) for d in datasets for s in heldout.sessions_of(data_dir, d, "tune")]
        names = [d for d, _ in named][:max_sessions]
        sessions = [s for _, s in named]
    sessions = sessions[:max_sessions]

    def echo(line: str) -> None:
        click.echo(line, err=as_json)

    warm_cache(
        cache,
        heldout.every_path(sessions),
        lambda done, total: echo(f"  analysed {done}/{total}") if done % 500 == 0 else None,
    )
    start = RankingParams(threshold=engine.match_threshold, max_faces=5000).with_factors(
        engine.ranking_factors
    )
    turned = any(p.kind == "profile" for s in sessions for p in s.photos)
    best, summary = calibrate(
        cache,
        sessions,
        start,
        targets,
        turned=turned,
        rounds=rounds,
        progress=echo,
        datasets=names,
    )
    result = {
        "model_id": engine.model_id,
        "match_threshold": best.threshold,
        "model_threshold_before": engine.match_threshold,
        "ranking": factors_of(best),
        "tuned_on": str(photos_dir) if photos_dir else [f"{d}:tune" for d in datasets],
        **summary,
    }
    click.echo(json.dumps(result, indent=2))
