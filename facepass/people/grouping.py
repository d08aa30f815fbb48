"""Grouping one session's faces into people: a sparse k-NN graph and constrained merging.

Pure numpy, no database: `group_faces` takes unit embeddings and the photo of each face and
returns a label per face. The steps, each bounded for 100k-face sessions:

1. **k-NN graph** (`knn_graph`): each face's nearest faces within `link`. Exact up to 20k
   faces, in row blocks (memory: `block_rows` x N similarities at a time, never N x N); larger
   sessions compare each face only with the faces of its nearest k-means cells. Two faces of
   one photo are never neighbours: they are two people (cannot-link).
2. **Average linkage on the graph**: graph-adjacent groups merge, closest first, while the
   average distance between all their members stays within `average` and they share no photo.
   For unit vectors the average of all pairwise similarities is the dot product of the two
   groups' embedding sums over the product of their sizes, so each linkage costs O(dim), and
   a look-alike stranger is outvoted by the person's other faces rather than chained in.
3. **Edge faces** (`edge_factor`): a small group the average linkage left apart (typically a
   turned face) joins the larger group of its nearest neighbour if within `edge` and sharing no
   photo: profile faces join their person through the three-quarter views next to them.
4. **Studio decisions** (`pins`): a face the studio placed (merge, split, name) carries its
   person's pin. Faces of one pin start as one group (must-link) and groups of two different
   pins never merge, in the linkage or as edges (cannot-link), so a regrouping keeps every
   decision; unpinned faces still join a pinned group as they would any other.
5. **Core**: a face with `core_support` neighbours within `core` in its own group, and not
   attached as an edge, is a core face. Search trusts a group's core; its edge faces come in
   only when they also resemble the selfie (facepass.search.people).

Distances are cosine distances (1 - dot product); thresholds are fractions of the model's
match threshold (`GroupingParams.scaled`), so they follow each model's scale. What the shipped
model reaches, on held-out CFP and LFW people: `facepass eval people` (docs/people.md).
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float32]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class GroupingParams:
    """Constants of the grouping, as fractions of the model's match threshold (tuned by
    `facepass eval people` on CFP 001-200 and LFW's View 1 training people only)."""

    neighbours: int = 12  # k of the k-NN graph
    link_factor: float = 1.2  # faces this close are graph neighbours (candidates to merge)
    average_factor: float = 0.4  # average-linkage cut: groups this close on average merge
    core_factor: float = 0.8  # a neighbour this close in the own group supports a face
    core_support: int = 2  # supporting neighbours that make a face core
    edge_factor: float = 0.5  # a small group joins its nearest neighbour's group this close
    edge_group: int = 3  # ... when it has at most this many faces (edge faces, never core)
    block_rows: int = 256  # rows of one similarity block (memory: block_rows x N floats)

    @classmethod
    def for_model(
        cls,
        model_factors: Mapping[str, float],
        average_factor: float | None = None,
        edge_factor: float | None = None,
    ) -> GroupingParams:
        """The cuts for one model: the operator's where set, else the model's own (its registry
        params "people"), else the defaults above."""
        base = cls()
        return replace(
            base,
            average_factor=average_factor
            if average_factor is not None
            else float(model_factors.get("average_factor", base.average_factor)),
            edge_factor=edge_factor
            if edge_factor is not None
            else float(model_factors.get("edge_factor", base.edge_factor)),
        )

    def scaled(self, threshold: float) -> Thresholds:
        """Absolute cosine distances for a model whose match threshold is `threshold`."""
        return Thresholds(
            link=threshold * self.link_factor,
            average=threshold * self.average_factor,
            core=threshold * self.core_factor,
        )


@dataclass(frozen=True, slots=True)
class Thresholds:
    link: float
    average: float
    core: float


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
    """Groups being merged: members' embedding sums (average linkage), photos, neighbours."""

    def __init__(self, vectors: FloatArray, photos: IntArray, pins: IntArray) -> None:
        n = len(vectors)
        self.sums = vectors.astype(np.float64)  # a copy: rows are summed into in place
        self.sizes = np.ones(n, np.int64)
        self.pins = pins.copy()  # the group's studio pin, -1 when none
        self.photos: list[set[int]] = [{int(p)} for p in photos]
        self.neighbours: list[set[int]] = [set() for _ in range(n)]
        self.version = [0] * n
        self.alive = [True] * n

    def linkage(self, a: int, others: list[int]) -> npt.NDArray[np.float64]:
        """Average cosine distance between a's members and each other group's members.

        For unit vectors the mean of all pairwise dot products is the dot product of the
        groups' sums over the product of their sizes: exact average linkage in O(dim).
        """
        sims = self.sums[others] @ self.sums[a] / (self.sizes[others] * self.sizes[a])
        distances: npt.NDArray[np.float64] = 1.0 - sims
        return distances

    def pinned_apart(self, a: int, b: int) -> bool:
        """Two groups the studio told apart: each pinned, to different people."""
        return bool(self.pins[a] >= 0 and self.pins[b] >= 0 and self.pins[a] != self.pins[b])

    def share_photo(self, a: int, b: int) -> bool:
        small, large = sorted((self.photos[a], self.photos[b]), key=len)
        return any(p in large for p in small)

    def merge(self, a: int, b: int) -> int:
        """Merge the smaller group into the larger; returns the survivor."""
        if self.sizes[a] < self.sizes[b]:
            a, b = b, a
        self.sizes[a] += self.sizes[b]
        self.sums[a] += self.sums[b]
        self.pins[a] = max(self.pins[a], self.pins[b])
        self.photos[a] |= self.photos[b]
        self.photos[b] = set()
        for other in self.neighbours[b]:
            self.neighbours[other].discard(b)
            if other != a:
                self.neighbours[other].add(a)
                self.neighbours[a].add(other)
        self.neighbours[a].discard(b)
        self.neighbours[b] = set()
        self.alive[b] = False
        self.version[a] += 1
        return a


def _average_linkage(groups: _Groups, pairs: IntArray, cut: float) -> list[int]:
    """Merge graph-adjacent groups, closest average linkage first, while within `cut`,
    sharing no photo and not pinned apart; returns each face's group (its survivor's index).
    Faces pinned to one person start merged, whatever their distance (must-link)."""
    n = len(groups.sizes)
    for i, j in pairs.tolist():
        groups.neighbours[i].add(j)
        groups.neighbours[j].add(i)
    parent = list(range(n))
    first_of_pin: dict[int, int] = {}
    for face in np.flatnonzero(groups.pins >= 0).tolist():
        pin = int(groups.pins[face])
        if pin not in first_of_pin:
            first_of_pin[pin] = face
            continue
        survivor = groups.merge(first_of_pin[pin], face)
        loser = face if survivor == first_of_pin[pin] else first_of_pin[pin]
        parent[loser] = survivor
        first_of_pin[pin] = survivor
    heap: list[tuple[float, int, int, int, int]] = []
    for i in range(n):
        if not groups.alive[i]:
            continue
        others = [j for j in groups.neighbours[i] if j > i]
        if others:
            for j, d in zip(others, groups.linkage(i, others).tolist(), strict=True):
                if d <= cut:
                    heap.append((d, i, j, groups.version[i], groups.version[j]))
    heapq.heapify(heap)
    while heap:
        _, a, b, version_a, version_b = heapq.heappop(heap)
        if not (groups.alive[a] and groups.alive[b]):
            continue
        if groups.version[a] != version_a or groups.version[b] != version_b:
            continue  # a stale distance: the pair was pushed again when either changed
        if groups.share_photo(a, b) or groups.pinned_apart(a, b):
            continue  # cannot-link: one photo, two people; or the studio told them apart
        survivor = groups.merge(a, b)
        parent[b if survivor == a else a] = survivor
        others = sorted(groups.neighbours[survivor])
        if not others:
            continue
        for other, d in zip(others, groups.linkage(survivor, others).tolist(), strict=True):
            if d <= cut:
                heapq.heappush(
                    heap,
                    (d, survivor, other, groups.version[survivor], groups.version[other]),
                )

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    return [root(i) for i in range(n)]


def _attach_edges(
    labels: IntArray,
    neighbours: IntArray,
    distances: FloatArray,
    photos: IntArray,
    cut: float,
    small: int,
    pins: IntArray,
) -> npt.NDArray[np.bool_]:
    """Small groups (turned faces the average linkage left apart) join the larger group of
    their nearest graph neighbour, if within `cut` and sharing no photo; returns who moved.
    A group holding a studio-pinned face stays where the studio put it."""
    sizes = np.bincount(labels)
    sizes[np.unique(labels[pins >= 0])] = np.iinfo(np.int64).max  # never "small"
    photos_of: dict[int, set[int]] = {}
    for face, label in enumerate(labels.tolist()):
        photos_of.setdefault(label, set()).add(int(photos[face]))
    offers = []
    for face in np.flatnonzero(sizes[labels] <= small).tolist():
        for other, distance in zip(
            neighbours[face].tolist(), distances[face].tolist(), strict=True
        ):
            if other < 0 or distance > cut:
                break
            if sizes[labels[other]] > small:
                offers.append((distance, face, int(labels[other])))
                break
    original = labels.copy()
    moved = np.zeros(len(labels), np.bool_)
    done: set[int] = set()
    for _, face, target in sorted(offers):
        group = int(original[face])
        if group in done or photos_of[group] & photos_of[target]:
            continue
        members = original == group
        labels[members] = target
        moved |= members
        photos_of[target] |= photos_of.pop(group)
        done.add(group)
    return moved


def group_faces(
    vectors: FloatArray,
    photos: IntArray,
    threshold: float,
    params: GroupingParams | None = None,
    pins: IntArray | None = None,
) -> Grouping:
    """Group unit embeddings into people; two faces of one photo never share a group.

    `pins` (optional): per face, the code of the person the studio placed it in, or -1.
    Faces of one pin end in one group; faces of two pins never do.
    """
    params = params or GroupingParams()
    n = len(vectors)
    if n == 0:
        empty = np.zeros(0, np.int64)
        return Grouping(empty, np.zeros(0, np.bool_), empty)
    limits = params.scaled(threshold)
    vectors = np.ascontiguousarray(vectors, np.float32)
    photos = np.asarray(photos, np.int64)
    pins = np.full(n, -1, np.int64) if pins is None else np.asarray(pins, np.int64)
    neighbours, distances = knn_graph(
        vectors, photos, params.neighbours, limits.link, block_rows=params.block_rows
    )
    rows, cols = np.nonzero(neighbours >= 0)
    pairs = np.stack([rows, neighbours[rows, cols]], axis=1)
    roots = _average_linkage(_Groups(vectors, photos, pins), pairs, limits.average)
    _, inverse = np.unique(np.asarray(roots, np.int64), return_inverse=True)
    labels = inverse.astype(np.int64)
    edge = np.zeros(n, np.bool_)
    if params.edge_factor > 0:
        edge = _attach_edges(
            labels,
            neighbours,
            distances,
            photos,
            threshold * params.edge_factor,
            params.edge_group,
            pins,
        )
        _, inverse = np.unique(labels, return_inverse=True)
        labels = inverse.astype(np.int64)
    linked = np.isfinite(distances) & (distances <= limits.core)
    same = labels[np.where(neighbours >= 0, neighbours, 0)] == labels[:, None]
    support = (linked & same).sum(axis=1).astype(np.int64)
    core = (support >= params.core_support) & ~edge
    return Grouping(labels, core, support)
