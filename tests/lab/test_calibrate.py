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


def _people(
    cache: SyntheticCache, seed: int, spread: float, tag: str, lookalike: float | None = None
) -> HeldOutSession:
    """12 people with 6 photos each `spread` around them; with `lookalike`, one stranger per
    person that close to them; 40 unrelated strangers."""
    rng = np.random.default_rng(seed)
    photos: list[SessionPhoto] = []
    selfies: dict[str, list[Path]] = {}
    for person in range(12):
        name = f"{tag}{person}"
        centre = rng.standard_normal(32)
        selfies[name] = [cache.add(Path(f"{name}/selfie"), centre)]
        for n in range(6):
            path = cache.add(Path(f"{name}/{n}"), centre + spread * rng.standard_normal(32))
            photos.append(SessionPhoto(path, name, "frontal"))
        if lookalike is not None:
            path = cache.add(Path(f"{name}/x"), centre + lookalike * rng.standard_normal(32))
            photos.append(SessionPhoto(path, None, "distractor"))
    for n in range(40):
        path = cache.add(Path(f"{tag}x/{n}"), rng.standard_normal(32))
        photos.append(SessionPhoto(path, None, "distractor"))
    return HeldOutSession(photos, selfies)


def test_each_dataset_meets_the_precision_target_by_itself() -> None:
    cache = SyntheticCache()
    # Six sessions of an easy dataset whose people's photos are spread wide (a looser threshold
    # finds more of them), and one of a hard dataset where look-alikes sit just as close.
    easy = [_people(cache, seed, 0.6, f"e{seed}_") for seed in range(6)]
    hard = _people(cache, 99, 0.25, "h_", lookalike=0.6)
    start = RankingParams(
        threshold=0.06, max_faces=500, candidate_factor=1.0, lone_factor=0.46, consensus=False
    )

    def hard_precision(datasets: list[str] | None) -> float:
        best, summary = calibrate(
            cache,  # type: ignore[arg-type]
            [*easy, hard],
            start,
            Targets(precision=0.99),
            turned=False,
            datasets=datasets,
        )
        loaded = [load_in_memory(cache, hard)]  # type: ignore[arg-type]
        report = search_in_memory(cache, loaded, best, 1).report()  # type: ignore[arg-type]
        if datasets is not None:
            by_dataset = summary["by_dataset"]
            assert isinstance(by_dataset, dict)
            assert by_dataset["hard"]["one_selfie"] == report
        return float(report["precision"])

    # Pooled, the easy sessions' recall buys a threshold that lets the hard one's look-alikes in.
    assert hard_precision(None) < 0.99
    assert hard_precision(["easy"] * 6 + ["hard"]) >= 0.99
