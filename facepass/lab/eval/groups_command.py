"""`facepass eval retrieval --dataset cfp-groups --split tune|test`: the group-photo figures.

Prints, per pose and face width, how many of the faces put in the photos were detected,
indexed and found by the person's frontal selfie at the model's threshold (and which quality
gate dropped the rest), the precision of those searches, then the same as the threshold moves.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import tempfile
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from facepass.config import get_settings
from facepass.engine.quality import MODEL_GATES
from facepass.lab.eval import groups, heldout
from facepass.lab.eval.retrieval import AnalysisCache, warm_cache
from facepass.search.ranking import RankingParams, rank_photos

CURVE = (0.8, 0.9, 1.0, 1.1, 1.2, 1.35)  # multiples of the model's threshold


def engine_overrides(values: Sequence[str]) -> dict[str, Any]:
    """NAME=VALUE pairs for EngineConfig fields (numbers as numbers), for experiments."""
    from facepass.engine import EngineConfig

    fields = {f.name: f for f in dataclasses.fields(EngineConfig)}
    overrides: dict[str, Any] = {}
    for value in values:
        name, sep, raw = value.partition("=")
        if not sep or name not in fields:
            raise click.BadParameter(
                f"{value!r}: expected NAME=VALUE, NAME one of {', '.join(sorted(fields))}",
                param_hint="--engine",
            )
        try:
            overrides[name] = int(raw) if raw.lstrip("-").isdigit() else float(raw)
        except ValueError:
            overrides[name] = raw
    return overrides


def command(
    data_dir: Path,
    split: heldout.Split,
    cache_dir: Path,
    seed: int,
    overrides: dict[str, Any],
    as_json: bool,
) -> None:
    """Build (once) and analyse the split's group photos, search every person, report."""
    from facepass.db import OwnDatabase
    from facepass.engine import get_engine
    from facepass.engine_config import engine_config
    from facepass.lab.eval.retrieval_command import _embedded
    from facepass.photos.vector_index import ensure_vector_index

    if not (data_dir / "cfp").is_dir():
        raise click.ClickException(f"no cfp/ under {data_dir} (../shared/data)")
    logging.getLogger("facepass").setLevel(logging.WARNING)
    settings = get_settings()
    # Quality gates judge cached analyses afresh (no new analysis); other settings change the
    # engine's work, so their analyses are cached apart.
    gates = {k: v for k, v in overrides.items() if k in MODEL_GATES}
    work = {k: v for k, v in overrides.items() if k not in MODEL_GATES}
    engine = get_engine(dataclasses.replace(engine_config(settings), **work))
    if gates:
        engine.gates = dataclasses.replace(engine.gates, **gates)
    cache = AnalysisCache(cache_dir, engine)  # selfies, analysed as the search does
    photo_cache = AnalysisCache(cache_dir, engine, photos=True)  # as indexing does
    built = groups.build(data_dir, split, cache_dir, engine, seed, _progress("built", as_json))
    warm_cache(cache, list(built.selfies.values()))
    warm_cache(photo_cache, [p.path for p in built.photos], _progress("analysed", as_json))
    session = heldout.HeldOutSession(
        [heldout.SessionPhoto(p.path, None, "distractor") for p in built.photos], {}
    )
    photos = groups.photo_ids(session.session_id, built.photos)
    stages = {
        photo_id: groups.face_stages(photo_cache, photo) for photo_id, photo in photos.items()
    }
    base = RankingParams(
        threshold=engine.match_threshold,
        max_faces=2 * settings.search_max_results,
        combine=settings.search_combine,
        expansion=settings.search_query_expansion,
        consensus=settings.search_consensus,
    ).with_factors(engine.ranking_factors)
    report: dict[str, Any] = {
        "dataset": "cfp-groups",
        "split": split,
        "seed": seed,
        "model_id": engine.model_id,
        "engine_overrides": overrides,
        "photo_min_face_fraction": engine.config.photo_min_face_fraction,
        "gates": {name: getattr(engine.gates, name) for name in MODEL_GATES},
        "photos": len(built.photos),
        "faces": sum(len(p.faces) for p in built.photos),
        "threshold": engine.match_threshold,
    }
    with tempfile.TemporaryDirectory(prefix="facepass-eval-") as tmp:
        postgres = _embedded(Path(tmp))
        own = OwnDatabase(postgres.own_url)
        try:
            with own.engine.begin() as conn:
                ensure_vector_index(conn, engine.model_id, engine.embedding_dim)
                heldout.load(conn, photo_cache, session)
            curve = []
            for multiple in CURVE:
                params = dataclasses.replace(base, threshold=engine.match_threshold * multiple)
                with own.engine.begin() as conn:
                    result = _search(conn, cache, session.session_id, built, photos, stages, params)
                result = {"threshold": round(params.threshold, 4), **result}
                curve.append(result)
                _echo(_line(result), as_json)
        finally:
            own.dispose()
            postgres.stop()
    report["at_threshold"] = next(p for p, m in zip(curve, CURVE, strict=True) if m == 1.0)
    report["curve"] = [{k: v for k, v in p.items() if k != "buckets"} for p in curve]
    if not as_json:
        _print_buckets(report["at_threshold"]["buckets"])
    else:
        click.echo(json.dumps(report, indent=2))


def _search(
    conn: Any,
    cache: AnalysisCache,
    session_id: uuid.UUID,
    built: groups.GroupSet,
    photos: dict[uuid.UUID, groups.GroupPhoto],
    stages: dict[uuid.UUID, list[str]],
    params: RankingParams,
) -> dict[str, Any]:
    from facepass.search.vector_search import PgVectorFaceIndex

    engine = cache.engine
    index = PgVectorFaceIndex(conn, session_id, engine.model_id, engine.embedding_dim)
    buckets = groups.empty_buckets()
    groups.count_stages(buckets, photos, stages)
    found = correct = refused = 0
    for person, selfie in built.selfies.items():
        faces = heldout.selfie_faces(cache, [selfie])
        if not faces:
            refused += 1
            continue
        yaws = [f.face.quality.yaw for f in faces]
        hits = rank_photos(index, [f.embedding for f in faces], params, yaws)
        mine, theirs = groups.tally_search(
            buckets, person, [h.photo_id for h in hits], photos, stages
        )
        found += mine
        correct += theirs
    reports = groups.by_width(buckets)
    return {
        "precision": round(correct / found, 4) if found else 1.0,
        "found": found,
        "searches": len(built.selfies),
        "selfies_refused": refused,
        "indexed_faces": sum(b.indexed for b in buckets.values()),
        "recall": {
            kind: {width: r["recall"] for width, r in widths.items()}
            for kind, widths in reports.items()
        },
        "buckets": reports,
    }


def _line(result: dict[str, Any]) -> str:
    recall = result["recall"]
    widths = "/".join(str(w) for w in groups.WIDTHS)
    return (
        f"t={result['threshold']}: P {result['precision']:.4f}  indexed {result['indexed_faces']}"
        f"  R frontal@{widths} "
        + " ".join(f"{recall['frontal'][str(w)]:.2f}" for w in groups.WIDTHS)
        + "  profile "
        + " ".join(f"{recall['profile'][str(w)]:.2f}" for w in groups.WIDTHS)
    )


def _print_buckets(buckets: dict[str, dict[str, Any]]) -> None:
    click.echo("\nAt the model's threshold, per face (pose, width in px):")
    click.echo(
        f"{'pose':8} {'px':>3} {'faces':>5} {'detected':>8} {'indexed':>7} {'recall':>6}"
        f" {'R|indexed':>9}  dropped by"
    )
    for kind, widths in buckets.items():
        for width, b in widths.items():
            click.echo(
                f"{kind:8} {width:>3} {b['faces']:>5} {b['detected']:>8.3f} {b['indexed']:>7.3f}"
                f" {b['recall']:>6.3f} {b['recall_of_indexed'] or 0:>9.3f}  {b['dropped_by']}"
            )


def _echo(line: str, as_json: bool) -> None:
    click.echo(line, err=as_json)


def _progress(label: str, quiet: bool) -> Any:
    def report(done: int, total: int) -> None:
        if not quiet and (done % 50 == 0 or done == total):
            click.echo(f"  {label} {done}/{total}", err=True)

    return report
