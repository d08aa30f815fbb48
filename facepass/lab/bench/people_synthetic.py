"""Synthetic sessions for the grouping benchmark and quick tests: people as clusters on the sphere.

Each person has a centre; their faces scatter around it (a frontal spread) and, for some faces,
drift along a per-person "turn" direction (views between frontal and profile). Photos hold one
to a few faces of different people, so cannot-link constraints are real.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True, slots=True)
class SyntheticSession:
    vectors: npt.NDArray[np.float32]  # unit rows
    photos: npt.NDArray[np.int64]  # photo index of each face
    people: npt.NDArray[np.int64]  # true person of each face


def _unit(x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    scaled: npt.NDArray[np.float64] = x / np.linalg.norm(x, axis=-1, keepdims=True)
    return scaled


def synthetic_session(
    n_faces: int, *, dim: int = 128, faces_per_person: int = 20, seed: int = 0
) -> SyntheticSession:
    """About `n_faces` faces of n_faces / faces_per_person people, 1-3 faces per photo."""
    rng = np.random.default_rng(seed)
    n_people = max(1, n_faces // faces_per_person)
    centres = _unit(rng.standard_normal((n_people, dim)))
    turns = _unit(rng.standard_normal((n_people, dim)))
    people = rng.integers(0, n_people, n_faces)
    # Within-person spread (cosine distances ~0.01-0.03): people the grouping can recover.
    noise = rng.standard_normal((n_faces, dim)) * (0.15 / np.sqrt(dim))
    turn = rng.uniform(0.0, 0.2, n_faces)[:, None] * turns[people]
    vectors = _unit(centres[people] + noise + turn).astype(np.float32)
    photos = np.zeros(n_faces, np.int64)
    photo = face = 0
    while face < n_faces:
        size = int(rng.integers(1, 4))
        photos[face : face + size] = photo
        face += size
        photo += 1
    return SyntheticSession(vectors, photos, people.astype(np.int64))
