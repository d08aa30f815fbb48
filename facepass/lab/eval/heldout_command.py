"""`facepass eval retrieval --dataset cfp|lfw --split tune|test`: held-out retrieval figures.

Prints what each step of the pose-aware search gained (from the search as it was to the
API's default), then the curve of the default search as its threshold moves.
"""

from __future__ import annotations

import json
import logging
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import click

from facepass.config import get_settings
from facepass.lab.eval import heldout
from facepass.lab.eval.retrieval import AnalysisCache, SelfieAnalysisCache, warm_cache
from facepass.search.ranking import RankingParams

# The consensus factors before this evaluation existed (tuned in-sample on LFW sessions).
PREVIOUS_FACTORS = {
    "candidate_factor": 1.1,
    "link_factor": 0.7,
    "group_factor": 0.41,
    "lone_factor": 0.52,
}
NO_POSE = {"pose_gap": 180.0, "turned_pose_gap": 180.0, "turned_scale": 1.0, "turned_anchor": 0.0}
POSE = ("pose_gap", "turned_yaw", "turned_pose_gap", "turned_scale", "turned_anchor")
CURVE = (0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.35, 1.5)  # multiples of the model's threshold


@dataclass(frozen=True)
class Step:
    name: str
    selfies: int
    turned_indexed: bool
    factors: dict[str, float]
    consensus: bool = True


def steps(model: dict[str, float]) -> list[Step]:
    """From the search as it was to the API's default, one change at a time."""
    before = {**PREVIOUS_FACTORS, **NO_POSE}
    return [
        Step("1 selfie, plain threshold", 1, False, before, consensus=False),
        Step("1 selfie, previous consensus", 1, False, before),
        Step("+ turned faces indexed", 1, True, before),
        Step("+ pose-aware matching", 1, True, {**PREVIOUS_FACTORS, **_pose(model)}),
        Step("+ factors re-tuned (default)", 1, True, model),
        Step("frontal + profile selfie, previous", 2, True, before),
        Step("frontal + profile selfie (default)", 2, True, model),
    ]


def _pose(model: dict[str, float]) -> dict[str, float]:
    return {k: v for k, v in model.items() if k in POSE}


def command(
    data_dir: Path,
    dataset: str,
    split: heldout.Split,
    cache_dir: Path,
    as_json: bool,
    selfie_path: str = "search",
) -> None:
    """Run every step on the split's sessions and print (or emit as JSON) the figures; the
    selfies analysed as the search does (`selfie_path` "search") or as indexing ("index")."""
    from facepass.db import OwnDatabase
    from facepass.engine import get_engine
    from facepass.engine_config import engine_config
    from facepass.lab.eval.retrieval_command import _embedded
    from facepass.photos.vector_index import ensure_vector_index

    if not (data_dir / "lfw").is_dir() or (dataset == "cfp" and not (data_dir / "cfp").is_dir()):
        raise click.ClickException(f"no lfw/ or cfp/ under {data_dir} (../shared/data)")
    logging.getLogger("facepass").setLevel(logging.WARNING)
    engine = get_engine(engine_config(get_settings()))
    cache = AnalysisCache(cache_dir, engine)
    selfie_cache = cache if selfie_path == "index" else SelfieAnalysisCache(cache_dir, engine)
    sessions = heldout.sessions_of(data_dir, dataset, split)
    warm_cache(cache, [p.path for s in sessions for p in s.photos], _progress(as_json))
    base = RankingParams(threshold=engine.match_threshold, max_faces=5000)
    model = {
        name: float(getattr(base.with_factors(engine.ranking_factors), name))
        for name in (*PREVIOUS_FACTORS, *POSE)
    }
    report: dict[str, Any] = {
        "dataset": dataset,
        "split": split,
        "model_id": engine.model_id,
        "threshold": engine.match_threshold,
        "selfies_analysed_as": selfie_path,
        "factors": model,
        "sessions": [{"photos": len(s.photos), "people": len(s.selfies)} for s in sessions],
        "steps": {},
        "curve": {},
    }
    if dataset == "cfp":
        report["selfies"] = heldout.selfie_acceptance(selfie_cache, data_dir, split)
        _echo(f"clear frontal selfies: {report['selfies']}", as_json)
    plan = steps(model)
    if dataset == "lfw":  # no profile photos nor second angle in LFW
        plan = [s for s in plan if s.selfies == 1]
    with tempfile.TemporaryDirectory(prefix="facepass-eval-") as tmp:
        postgres = _embedded(Path(tmp))
        own = OwnDatabase(postgres.own_url)
        try:
            loaded: dict[bool, list[tuple[heldout.HeldOutSession, Any]]] = {}
            for turned in (False, True):
                copies = [replace(s, session_id=_fresh()) for s in sessions]
                with own.engine.begin() as conn:
                    ensure_vector_index(conn, engine.model_id, engine.embedding_dim)
                    loaded[turned] = [
                        (s, heldout.load(conn, cache, s, turned=turned)) for s in copies
                    ]

            def run(params: RankingParams, count: int, turned: bool) -> dict[str, Any]:
                tally = heldout.Tally()
                with own.engine.begin() as conn:
                    for session, photos in loaded[turned]:
                        tally.add(
                            heldout.search_all(conn, selfie_cache, session, photos, params, count)
                        )
                return tally.report()

            for step in plan:
                params = replace(base, consensus=step.consensus).with_factors(step.factors)
                result = run(params, step.selfies, step.turned_indexed)
                report["steps"][step.name] = result
                _echo(f"{step.name:40s} {_line(result)}", as_json)
            for selfies in (1, 2) if dataset == "cfp" else (1,):
                points = []
                for multiple in CURVE:
                    params = replace(
                        base.with_factors(model), threshold=engine.match_threshold * multiple
                    )
                    point = {"threshold": round(params.threshold, 4), **run(params, selfies, True)}
                    points.append(point)
                    _echo(
                        f"  curve, {selfies} selfie(s), t={point['threshold']}: {_line(point)}",
                        as_json,
                    )
                report["curve"][f"{selfies}_selfies"] = points
        finally:
            own.dispose()
            postgres.stop()
    if as_json:
        click.echo(json.dumps(report, indent=2))


def _fresh() -> Any:
    import uuid

    return uuid.uuid4()


def _line(result: dict[str, Any]) -> str:
    return (
        f"P {result['precision']:.4f}  R frontal {result['recall_frontal']:.4f}"
        f"  R profile {result['recall_profile']:.4f}  refused {result['selfies_refused']}"
        f"/{result['searches']}"
    )


def _echo(line: str, as_json: bool) -> None:
    click.echo(line, err=as_json)


def _progress(quiet: bool) -> Any:
    def report(done: int, total: int) -> None:
        if not quiet and (done % 500 == 0 or done == total):
            click.echo(f"  analysed {done}/{total} images", err=True)

    return report
