"""Grouping one session's faces into people: a sparse k-NN graph and constrained merging.

Pure numpy, no database: `group_faces` takes unit embeddings and the photo of each face and
returns a label per face. The steps, each bounded for 100k-face sessions:

1. **k-NN graph**, exact, in row blocks (memory: `block_rows` x N similarities at a time, never
   N x N). Two faces of one photo are never neighbours: they are two people (cannot-link).
2. **Merging** (Kruskal order, nearest edges first, union-find): an edge joins two groups only
   if (a) they share no photo, and (b) the *local* prototypes agree: the mean of the edge's
   endpoint and its graph neighbours already in its group, on each side, are within `local`.
   Local prototypes let a person's turned faces join through intermediate views (frontal,
   three-quarter, profile), while one stray edge between two look-alikes is outvoted by the
   neighbourhoods around it; (c) the groups' centroids are within `centroid` (no drift).
3. **Core and edge**: a face with at least `core_support` graph neighbours (within `link`) in
   its own group is a core face; the others hang on by fewer links. Search trusts a group's
   core, and lets its edge faces in only when they also resemble the selfie (people/search.py).

Distances are cosine distances (1 - dot product); thresholds are given as fractions of the
model's match threshold (`GroupingParams.scaled`), so they follow each model's scale.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float32]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class GroupingParams:
    """Constants of the grouping, as fractions of the model's match threshold (tuned by
    `facepass eval people` on CFP 001-200 and LFW's View 1 training people only)."""

    neighbours: int = 12  # k of the k-NN graph
    link_factor: float = 1.2  # an edge at all
    local_factor: float = 0.9  # local prototypes of an edge's two sides
    centroid_factor: float = 2.0  # whole groups' centroids
    core_support: int = 2  # graph neighbours in the own group that make a face core
    block_rows: int = 256  # rows of one similarity block (memory: block_rows x N floats)
    max_rejections: int = 6  # failed merge checks between two groups before giving up on them

    def scaled(self, threshold: float) -> Thresholds:
        """Absolute cosine distances for a model whose match threshold is `threshold`."""
        return Thresholds(
            link=threshold * self.link_factor,
            local=threshold * self.local_factor,
            centroid=threshold * self.centroid_factor,
        )


@dataclass(frozen=True, slots=True)
class Thresholds:
    link: float
    local: float
    centroid: float


@dataclass(frozen=True, slots=True)
class Grouping:
    """A label per face (0..n_groups-1), whether it is core, and its in-group support."""

    labels: IntArray
    core: npt.NDArray[np.bool_]
    support: IntArray

    @property
    def n_groups(self) -> int:
        return int(self.labels.max()) + 1 if len(self.labels) else 0


def _top_k(
    rows: IntArray,
    cols: IntArray,
    values: FloatArray,
    k: int,
    indices: IntArray,
    distances: FloatArray,
) -> None:
    """Write each row's k most similar (row, col) pairs into the padded result arrays."""
    order = np.lexsort((-values, rows))
    rows, cols, values = rows[order], cols[order], values[order]
    rank = np.arange(len(rows)) - np.searchsorted(rows, rows, side="left")
    top = rank < k
    indices[rows[top], rank[top]] = cols[top]
    distances[rows[top], rank[top]] = 1.0 - values[top]


def _pairs_within(
    queries: IntArray, candidates: IntArray, vectors: FloatArray, photos: IntArray, floor: float
) -> tuple[IntArray, IntArray, FloatArray]:
    """(query, candidate, similarity) for every pair at least `floor` similar, not one photo."""
    sims = vectors[queries] @ vectors[candidates].T
    flat = np.flatnonzero(sims >= floor)
    values = sims.ravel()[flat]
    at_row, at_col = np.divmod(flat, len(candidates))
    rows, cols = queries[at_row], candidates[at_col]
    # Cannot-link: the face itself and the other faces of its photo are never neighbours.
    keep = photos[rows] != photos[cols]
    return rows[keep], cols[keep], values[keep]


def _coarse_cells(vectors: FloatArray, n_cells: int, rng: np.random.Generator) -> FloatArray:
    """Spherical k-means centres (a few Lloyd rounds on a sample): the cells of the IVF scan."""
    sample = vectors[rng.choice(len(vectors), min(len(vectors), 40 * n_cells), replace=False)]
    centres = sample[rng.choice(len(sample), n_cells, replace=False)].copy()
    for _ in range(8):
        nearest = np.argmax(sample @ centres.T, axis=1)
        sums = np.zeros_like(centres)
        np.add.at(sums, nearest, sample)
        norms = np.linalg.norm(sums, axis=1, keepdims=True)
        filled = norms[:, 0] > 0
        centres[filled] = sums[filled] / norms[filled]
    return centres


def knn_graph(
    vectors: FloatArray,
    photos: IntArray,
    k: int,
    max_distance: float,
    *,
    block_rows: int = 256,
    exact_max: int = 20_000,
    probes: int = 12,
) -> tuple[IntArray, FloatArray]:
    """Each face's (up to) k nearest faces within `max_distance`, none of its own photo.

    Returns (indices, cosine distances), k columns per face, padded with -1 / inf. Up to
    `exact_max` faces the scan is exact, one block of similarities (block_rows x N) at a time.
    Larger sessions are split into cells (spherical k-means, about 4 sqrt(N) of them) and each
    cell's faces are compared with the faces of its `probes` nearest cells only: faces within
    a match distance of each other practically always share a cell or sit in neighbouring ones
    (`facepass bench people` measures the recall against the exact scan).
    """
    n = len(vectors)
    indices = np.full((n, k), -1, np.int64)
    distances = np.full((n, k), np.inf, np.float32)
    floor = float(1.0 - max_distance)
    if n <= exact_max:
        everyone = np.arange(n)
        for start in range(0, n, block_rows):
            rows, cols, values = _pairs_within(
                everyone[start : start + block_rows], everyone, vectors, photos, floor
            )
            _top_k(rows, cols, values, k, indices, distances)
        return indices, distances
    rng = np.random.default_rng(0)
    centres = _coarse_cells(vectors, int(4 * np.sqrt(n)), rng)
    cell_of = np.empty(n, np.int64)
    for start in range(0, n, 4096):
        cell_of[start : start + 4096] = np.argmax(vectors[start : start + 4096] @ centres.T, 1)
    members = np.argsort(cell_of, kind="stable")
    bounds = np.searchsorted(cell_of[members], np.arange(len(centres) + 1))
    near_cells = np.argsort(-(centres @ centres.T), axis=1)[:, :probes]
    for cell in range(len(centres)):
        queries = members[bounds[cell] : bounds[cell + 1]]
        if len(queries) == 0:
            continue
        candidates = np.concatenate([members[bounds[c] : bounds[c + 1]] for c in near_cells[cell]])
        rows, cols, values = _pairs_within(queries, candidates, vectors, photos, floor)
        _top_k(rows, cols, values, k, indices, distances)
    return indices, distances


class _Groups:
    """Union-find over faces, with each group's photos and embedding sum."""

    def __init__(self, vectors: FloatArray, photos: IntArray) -> None:
        n = len(vectors)
        self.parent = list(range(n))
        self.sums = vectors.astype(np.float64).copy()
        self.sizes = np.ones(n, np.int64)
        self.photos: list[set[int]] = [{int(p)} for p in photos]

    def find(self, i: int) -> int:
        parent = self.parent
        root = i
        while parent[root] != root:
            root = parent[root]
        while parent[i] != root:  # path compression
            parent[i], i = root, parent[i]
        return int(root)

    def share_photo(self, a: int, b: int) -> bool:
        small, large = sorted((self.photos[a], self.photos[b]), key=len)
        return any(p in large for p in small)

    def centroid_distance(self, a: int, b: int) -> float:
        ca, cb = self.sums[a], self.sums[b]
        denominator = float(np.linalg.norm(ca) * np.linalg.norm(cb))
        return 1.0 - float(ca @ cb) / denominator if denominator > 0 else 2.0

    def union(self, a: int, b: int) -> int:
        if self.sizes[a] < self.sizes[b]:
            a, b = b, a
        self.parent[b] = a
        self.sizes[a] += self.sizes[b]
        self.sums[a] += self.sums[b]
        self.photos[a] |= self.photos[b]
        self.photos[b] = set()
        return a


def _local_prototype(
    groups: _Groups, vectors: FloatArray, face: int, root: int, neighbours: IntArray
) -> npt.NDArray[np.float64]:
    members = [face] + [int(j) for j in neighbours if j >= 0 and groups.find(int(j)) == root]
    prototype: npt.NDArray[np.float64] = vectors[members].astype(np.float64).mean(axis=0)
    norm = float(np.linalg.norm(prototype))
    return prototype / norm if norm > 0 else prototype


def group_faces(
    vectors: FloatArray, photos: IntArray, threshold: float, params: GroupingParams | None = None
) -> Grouping:
    """Group unit embeddings into people; two faces of one photo never share a group."""
    params = params or GroupingParams()
    n = len(vectors)
    if n == 0:
        empty = np.zeros(0, np.int64)
        return Grouping(empty, np.zeros(0, np.bool_), empty)
    limits = params.scaled(threshold)
    vectors = np.ascontiguousarray(vectors, np.float32)
    photos = np.asarray(photos, np.int64)
    neighbours, distances = knn_graph(
        vectors, photos, params.neighbours, limits.link, block_rows=params.block_rows
    )

    # Each undirected edge once (i < j), nearest first.
    rows, cols = np.nonzero(np.isfinite(distances))
    heads, tails = rows, neighbours[rows, cols]
    keep = heads < tails
    reverse = ~keep & (tails >= 0)
    pairs = np.concatenate(
        [np.stack([heads[keep], tails[keep]], 1), np.stack([tails[reverse], heads[reverse]], 1)]
    )
    weights = np.concatenate([distances[rows, cols][keep], distances[rows, cols][reverse]])
    pairs, unique_at = np.unique(pairs, axis=0, return_index=True)
    weights = weights[unique_at]
    order = np.argsort(weights, kind="stable")

    groups = _Groups(vectors, photos)
    rejections: dict[tuple[int, int], int] = {}
    for edge in order:
        i, j = int(pairs[edge, 0]), int(pairs[edge, 1])
        a, b = groups.find(i), groups.find(j)
        if a == b:
            continue
        key = (a, b) if a < b else (b, a)
        if rejections.get(key, 0) >= params.max_rejections or groups.share_photo(a, b):
            continue
        if groups.sizes[a] == 1 and groups.sizes[b] == 1:
            agrees = bool(weights[edge] <= limits.local)
        else:
            local = 1.0 - float(
                _local_prototype(groups, vectors, i, a, neighbours[i])
                @ _local_prototype(groups, vectors, j, b, neighbours[j])
            )
            agrees = local <= limits.local and groups.centroid_distance(a, b) <= limits.centroid
        if not agrees:
            rejections[key] = rejections.get(key, 0) + 1
            continue
        groups.union(a, b)

    roots = np.fromiter((groups.find(i) for i in range(n)), np.int64, n)
    _, labels = np.unique(roots, return_inverse=True)
    labels = labels.astype(np.int64)
    linked = (distances <= limits.link) & (neighbours >= 0)
    same = labels[np.where(neighbours >= 0, neighbours, 0)] == labels[:, None]
    support = (linked & same).sum(axis=1).astype(np.int64)
    core = support >= params.core_support
    return Grouping(labels, core, support)
