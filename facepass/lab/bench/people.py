"""`facepass bench people`: seconds and peak memory of grouping a session of N faces.

The synthetic session (128-d unit embeddings like dlib's) is made here and saved; each size is
grouped in a fresh process (spawned) that only loads it, so that process's peak resident memory
is the grouping's own plus the embeddings and the interpreter. With `--recall`, the cell scan
large sessions use is compared with the exact scan on the same faces.
"""

from __future__ import annotations

import json
import multiprocessing
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from facepass.lab.bench.people_synthetic import SyntheticSession, synthetic_session
from facepass.lab.stats import peak_rss_mb
from facepass.people.grouping import GroupingParams, group_faces, knn_graph

THRESHOLD = 0.086  # dlib-resnet-v1's match threshold: the scale the constants follow


def measure(path: Path, recall: bool) -> dict[str, Any]:
    """Group the saved synthetic session; time, memory and how many groups it made."""
    with np.load(path) as saved:
        session = SyntheticSession(saved["vectors"], saved["photos"], saved["people"])
    faces = len(session.vectors)
    before = peak_rss_mb()
    started = time.perf_counter()
    grouping = group_faces(session.vectors, session.photos, THRESHOLD)
    seconds = time.perf_counter() - started
    result: dict[str, Any] = {
        "faces": faces,
        "people": int(session.people.max()) + 1,
        "groups": grouping.n_groups,
        "seconds": round(seconds, 2),
        "peak_rss_mb": peak_rss_mb(),
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


def _child(path: Path, recall: bool, out: Any) -> None:
    out.put(measure(path, recall))


def command(sizes: list[int], recall: bool) -> None:
    """Print one JSON line per session size."""
    context = multiprocessing.get_context("spawn")
    with tempfile.TemporaryDirectory(prefix="facepass-bench-people-") as folder:
        for faces in sizes:
            session = synthetic_session(faces, seed=faces)
            path = Path(folder) / f"session-{faces}.npz"
            np.savez(path, vectors=session.vectors, photos=session.photos, people=session.people)
            del session
            results = context.Queue()
            child = context.Process(target=_child, args=(path, recall, results))
            child.start()
            result = results.get()
            child.join()
            print(json.dumps(result), flush=True)
