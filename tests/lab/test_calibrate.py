"""Calibration: the factor search improves what it is asked to, with the API's ranking code."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from facepass.engine import Box, DetectedFace, FaceQuality, ImageAnalysis
from facepass.lab.eval.calibrate import (
    GRID,
    Targets,
    calibrate,
    load_in_memory,
    objective,
    search_in_memory,
)
from facepass.lab.eval.heldout import HeldOutSession, SessionPhoto, Tally
from facepass.search.ranking import RankingParams, unit


class SyntheticCache:
    """Analyses of made-up photos: one frontal face each, embedded around its person's centre."""

    def __init__(self) -> None:
        self.faces: dict[Path, np.ndarray] = {}

    def add(self, path: Path, embedding: np.ndarray) -> Path:
        self.faces[path] = unit(embedding)
        return path

    def analysis(self, path: Path) -> ImageAnalysis:
        quality = FaceQuality(0.9, 200.0, 100.0, 0.0, 0.0, 0.0)
        face = DetectedFace(Box(0, 0, 200, 200), (), quality, self.faces[path])
        return ImageAnalysis(400, 400, (face,), "synthetic")


def _session(cache: SyntheticCache) -> HeldOutSession:
    rng = np.random.default_rng(7)
    photos: list[SessionPhoto] = []
    selfies: dict[str, list[Path]] = {}
    for person in range(12):
        centre = rng.standard_normal(32)
        selfies[f"p{person}"] = [cache.add(Path(f"p{person}/selfie"), centre)]
        for n in range(6):
            vector = centre + 0.25 * rng.standard_normal(32)
            photos.append(
                SessionPhoto(cache.add(Path(f"p{person}/{n}"), vector), f"p{person}", "frontal")
            )
    for n in range(40):
        photos.append(
            SessionPhoto(cache.add(Path(f"x/{n}"), rng.standard_normal(32)), None, "distractor")
        )
    return HeldOutSession(photos, selfies)


def test_calibration_finds_more_of_each_person_at_the_target_precision() -> None:
    cache = SyntheticCache()
    session = _session(cache)
    # A threshold far too tight for these people: almost nothing is found at the start.
    start = RankingParams(threshold=0.06, max_faces=500, candidate_factor=1.0, lone_factor=0.46)
    best, summary = calibrate(
        cache,  # type: ignore[arg-type]
        [session],
        start,
        Targets(precision=0.99),
        turned=False,
    )
    loaded = [load_in_memory(cache, session)]  # type: ignore[arg-type]
    before = search_in_memory(cache, loaded, start, 1).report()  # type: ignore[arg-type]
    after = search_in_memory(cache, loaded, best, 1).report()  # type: ignore[arg-type]
    assert after["recall_frontal"] > before["recall_frontal"]
    assert after["precision"] >= 0.99
    assert summary["one_selfie"] == after
    for name, values in GRID.items():
        assert getattr(best, name) in {*values, getattr(start, name)}
    assert best == replace(best, pose_gap=start.pose_gap)  # no pose factor without profiles


def _tally(frontal_found: int, profile_found: int, wrong: int = 0) -> Tally:
    found = frontal_found + profile_found
    return Tally(10, 0, found + wrong, found, 100, frontal_found, 40, profile_found)


def test_one_selfie_objective_counts_profiles_but_not_at_the_cost_of_frontal_recall() -> None:
    targets = Targets(precision=0.99, profile_weight=1.0, min_frontal=0.95)
    pose_bound = _tally(99, 2)
    pose_blind = _tally(96, 25)
    blind_and_losing_frontal = _tally(85, 30)
    assert objective(pose_blind, None, targets) > objective(pose_bound, None, targets)
    assert objective(blind_and_losing_frontal, None, targets) < objective(pose_bound, None, targets)
    frontal_only = replace(targets, profile_weight=0.0)
    assert objective(pose_blind, None, frontal_only) < objective(pose_bound, None, frontal_only)
    imprecise = _tally(96, 25, wrong=5)
    assert objective(imprecise, None, targets) < objective(pose_bound, None, targets)
