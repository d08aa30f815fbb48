"""`facepass eval retrieval`: runs the retrieval evaluation of `retrieval` and prints its report."""

from __future__ import annotations

import json
import logging
import tempfile
import time
from pathlib import Path
from typing import Any

import click

from facepass.config import get_settings
from facepass.lab.eval import retrieval as ev

# Strategies whose result depends on the threshold beyond a cut-off run once per point: fewer.
COARSE_GRID = (0.04, 0.05, 0.055, 0.06, 0.065, 0.07, 0.08, 0.09)


def _embedded(tmp: Path) -> Any:
    from facepass.embedded import start_embedded_postgres
    from facepass.migrations import upgrade

    postgres = start_embedded_postgres(tmp)
    upgrade(postgres.own_url)
    return postgres


def command(
    data_dir: Path,
    sizes: list[int],
    min_photos: int,
    max_per_person: int,
    strategies: str,
    threshold: float | None,
    cache_dir: Path,
    seed: int,
    as_json: bool,
) -> None:
    """`facepass eval retrieval`: precision and recall of selfie search in labelled sessions."""
    from facepass.engine import get_engine
    from facepass.engine_config import engine_config

    if not (data_dir / "lfw").is_dir():
        raise click.ClickException(f"no lfw/ under {data_dir} (see ../shared/data/README.md)")
    logging.getLogger("facepass").setLevel(logging.WARNING)
    engine = get_engine(engine_config(get_settings()))
    default_threshold = threshold if threshold is not None else engine.match_threshold
    cache = ev.AnalysisCache(cache_dir, engine)
    people = ev.labelled_photos(data_dir)
    plans = [_strategy(s) for s in strategies.split(",") if s.strip()]
    grid = [round(0.03 + 0.005 * i, 4) for i in range(25)]  # 0.03 .. 0.15
    grid = sorted({*grid, round(default_threshold, 4)})
    report: dict[str, Any] = {
        "model_id": engine.model_id,
        "default_threshold": default_threshold,
        "min_photos": min_photos,
        "max_per_person": max_per_person,
        "sessions": [],
    }
    with tempfile.TemporaryDirectory(prefix="facepass-eval-") as tmp:
        postgres = _embedded(Path(tmp))
        from facepass.db import OwnDatabase

        own = OwnDatabase(postgres.own_url)
        try:
            for size in sizes:
                session = ev.build_session(
                    people,
                    size,
                    selfies_per_person=3,
                    min_photos=min_photos,
                    max_per_person=max_per_person,
                    seed=seed,
                )
                paths = [p.path for p in session.photos]
                paths += [p.path for selfies in session.selfies.values() for p in selfies]
                ev.warm_cache(cache, paths, _progress(f"embedding session of {size}", as_json))
                with own.engine.begin() as conn:
                    photo_ids = ev.load_session(conn, cache, session)
                    from facepass.photos.vector_index import ensure_vector_index

                    ensure_vector_index(conn, engine.model_id, engine.embedding_dim)
                entry: dict[str, Any] = {
                    "photos": session.size,
                    "people": session.people,
                    "strategies": {},
                }
                for plan in plans:
                    entry["strategies"][plan.name] = _evaluate(
                        own, cache, session, photo_ids, plan, default_threshold, grid
                    )
                report["sessions"].append(entry)
                _print_session(entry, default_threshold, err=as_json)
        finally:
            own.dispose()
            postgres.stop()
    if as_json:
        click.echo(json.dumps(report, indent=2))


def _strategy(spec: str) -> Any:
    name = spec.strip()
    base, *extras = name.split("+")
    count, _, mode = base.partition("-")
    return ev.Strategy(
        name=name,
        selfies=int(count),
        combine="union" if mode == "union" else "mean",
        expansion="qe" in extras,
        consensus="cc" in extras,
    )


def _evaluate(
    own: Any, cache: Any, session: Any, photo_ids: Any, plan: Any, default: float, grid: list[float]
) -> dict[str, Any]:
    started = time.perf_counter()
    if plan.expansion or plan.consensus:
        # These depend on the threshold beyond a cut-off: one run per point.
        points = []
        for threshold in sorted({*COARSE_GRID, round(default, 4)}):
            with own.engine.begin() as conn:
                runs = ev.run_queries(conn, cache, session, photo_ids, plan, threshold)
            points.extend(ev.curve(runs, [threshold]))
    else:
        with own.engine.begin() as conn:
            runs = ev.run_queries(conn, cache, session, photo_ids, plan, max(grid))
        points = ev.curve(runs, grid)
    at_default = min(points, key=lambda p: abs(p.threshold - default))
    best = ev.best_recall_at_precision(points, 0.99)
    return {
        "at_default": _point(at_default),
        "best_recall_at_precision_0.99": _point(best) if best else None,
        "curve": [_point(p) for p in points],
        "seconds": round(time.perf_counter() - started, 1),
    }


def _point(point: Any) -> dict[str, float]:
    return {
        "threshold": point.threshold,
        "precision": round(point.precision, 4),
        "recall": round(point.recall, 4),
        "found": point.found,
    }


def _progress(label: str, quiet: bool) -> Any:
    def report(done: int, total: int) -> None:
        if not quiet and (done % 250 == 0 or done == total):
            click.echo(f"  {label}: {done}/{total} photos analysed", err=True)

    return report


def _print_session(entry: dict[str, Any], default: float, *, err: bool = False) -> None:
    def echo(line: str) -> None:
        click.echo(line, err=err)

    echo(f"\nSession of {entry['photos']} photos, {entry['people']} people")
    echo(f"{'strategy':<14} {'P@default':>9} {'R@default':>9}   best recall at P>=0.99")
    for name, result in entry["strategies"].items():
        d = result["at_default"]
        b = result["best_recall_at_precision_0.99"]
        best = f"R={b['recall']:.3f} (t={b['threshold']})" if b else "-"
        echo(f"{name:<14} {d['precision']:>9.3f} {d['recall']:>9.3f}   {best}")
    for name, result in entry["strategies"].items():
        echo(f"Precision-recall curve of {name} (cosine threshold; * = default):")
        echo(
            "  "
            + "  ".join(
                f"{p['threshold']:.3f}{'*' if abs(p['threshold'] - default) < 1e-9 else ''}:"
                f"P={p['precision']:.3f}/R={p['recall']:.3f}"
                for p in result["curve"]
            )
        )
