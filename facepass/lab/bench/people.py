"""`facepass bench people`: seconds and peak memory of grouping a session of N faces.

Each size runs in a fresh process (spawned), so its peak resident memory is its own: the
embeddings (synthetic, 128-d like dlib's), the k-NN graph and the merging. With `--recall`, the
cell scan large sessions use is compared with the exact scan on the same faces.
"""

from __future__ import annotations

import json
import multiprocessing
import resource
import time
from typing import Any

from facepass.lab.bench.people_synthetic import synthetic_session
from facepass.people.grouping import GroupingParams, group_faces, knn_graph

THRESHOLD = 0.086  # dlib-resnet-v1's match threshold: the scale the constants follow


def _peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def measure(faces: int, recall: bool) -> dict[str, Any]:
    """Group one synthetic session of `faces` faces; time, memory and how well it grouped."""
    session = synthetic_session(faces, seed=faces)
    before = _peak_rss_mb()
    started = time.perf_counter()
    grouping = group_faces(session.vectors, session.photos, THRESHOLD)
    seconds = time.perf_counter() - started
    result: dict[str, Any] = {
        "faces": faces,
        "people": int(session.people.max()) + 1,
        "groups": grouping.n_groups,
        "seconds": round(seconds, 2),
        "peak_rss_mb": _peak_rss_mb(),
        "rss_before_mb": before,
        "knn": "exact" if faces <= 20_000 else "cells",
    }
    if recall:
        params = GroupingParams()
        reach = THRESHOLD * params.link_factor
        exact, _ = knn_graph(
            session.vectors, session.photos, params.neighbours, reach, exact_max=faces
        )
        cells, _ = knn_graph(session.vectors, session.photos, params.neighbours, reach, exact_max=0)
        wanted = found = 0
        for mine, theirs in zip(exact, cells, strict=True):
            expected = set(mine[mine >= 0].tolist())
            wanted += len(expected)
            found += len(expected & set(theirs[theirs >= 0].tolist()))
        result["cell_scan_recall"] = round(found / max(wanted, 1), 4)
    return result


def _child(faces: int, recall: bool, out: Any) -> None:
    out.put(measure(faces, recall))


def command(sizes: list[int], recall: bool) -> None:
    """Print one JSON line per session size."""
    context = multiprocessing.get_context("spawn")
    for faces in sizes:
        results = context.Queue()
        child = context.Process(target=_child, args=(faces, recall, results))
        child.start()
        result = results.get()
        child.join()
        print(json.dumps(result), flush=True)
