"""Views of one face: which alignment makes its chip, and how that chip is shifted or zoomed.

An embedder may embed several views of each face and average them (a test-time ensemble). A
recipe is written as views joined by '+', each an alignment with optional modifiers after
':' — e.g. ``landmarks+landmarks:dy=3+shape_predictor:scale=1.07``:

- ``dx``, ``dy``: move the face by that many chip pixels (right, down);
- ``scale``: enlarge the face about the chip's centre (1.07 is dlib's padding 0.20 for 0.25);
- ``rot``: rotate it by that many degrees (clockwise on screen);
- ``jitter=N``: N views drawn like dlib's ``jitter_image`` (±3°, ±3 % scale, ±2 % shift) from
  a fixed seed, so the same recipe always gives the same views and the same embeddings.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from facepass.engine.errors import ModelError

Alignment = Literal["landmarks", "shape_predictor", "fused"]
ALIGNMENTS: tuple[Alignment, ...] = ("landmarks", "shape_predictor", "fused")
_MODIFIERS = ("dx", "dy", "scale", "rot", "jitter")
# Seed of the jitter draws: part of the recipe, never change it (stored vectors depend on it).
JITTER_SEED = 20070507


@dataclass(frozen=True)
class ChipView:
    """One chip of a face: an alignment, then a similarity about the chip's centre."""

    alignment: Alignment
    dx: float = 0.0
    dy: float = 0.0
    scale: float = 1.0
    rotation: float = 0.0  # degrees

    @property
    def modified(self) -> bool:
        return (self.dx, self.dy, self.scale, self.rotation) != (0.0, 0.0, 1.0, 0.0)

    def apply(self, matrix: npt.NDArray[np.float64], size: int) -> npt.NDArray[np.float64]:
        """The image -> chip matrix of this view, given the alignment's own matrix."""
        if not self.modified:
            return matrix
        centre = np.full(2, (size - 1) / 2)
        angle = math.radians(self.rotation)
        linear = self.scale * np.array(
            [[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]]
        )
        shift = centre - linear @ centre + np.array([self.dx, self.dy])
        result = np.empty((2, 3))
        result[:, :2] = linear @ matrix[:, :2]
        result[:, 2] = linear @ matrix[:, 2] + shift
        return result


def parse_views(recipe: str) -> tuple[ChipView, ...]:
    """The views of a recipe such as 'landmarks+landmarks:dy=3+shape_predictor:jitter=2'."""
    views: list[ChipView] = []
    for position, term in enumerate(t.strip() for t in recipe.split("+")):
        if not term:
            continue
        name, *modifiers = (part.strip() for part in term.split(":"))
        if name not in ALIGNMENTS:
            raise _invalid(recipe, f"unknown alignment {name!r}")
        values: dict[str, float] = {}
        for modifier in modifiers:
            key, _, raw = modifier.partition("=")
            if key not in _MODIFIERS or key in values:
                raise _invalid(recipe, f"unknown or repeated modifier {modifier!r}")
            try:
                values[key] = float(raw)
            except ValueError:
                raise _invalid(recipe, f"{modifier!r} needs a number") from None
        base = ChipView(
            name,
            dx=values.get("dx", 0.0),
            dy=values.get("dy", 0.0),
            scale=values.get("scale", 1.0),
            rotation=values.get("rot", 0.0),
        )
        if not 0.5 <= base.scale <= 2.0:
            raise _invalid(recipe, "scale must lie between 0.5 and 2")
        jitter = values.get("jitter")
        if jitter is None:
            views.append(base)
        elif jitter != int(jitter) or not 1 <= jitter <= 32:
            raise _invalid(recipe, "jitter must be a whole number from 1 to 32")
        else:
            views.extend(_jittered(base, int(jitter), position))
    if not views:
        raise _invalid(recipe, "no view")
    return tuple(views)


def _jittered(base: ChipView, count: int, position: int) -> list[ChipView]:
    # Seeded per term, so adding a term does not change the draws of the others.
    rng = np.random.default_rng([JITTER_SEED, position])
    views = []
    for _ in range(count):
        dx, dy = rng.uniform(-3.0, 3.0, 2)
        views.append(
            ChipView(
                base.alignment,
                dx=round(base.dx + float(dx), 3),
                dy=round(base.dy + float(dy), 3),
                scale=round(base.scale * float(rng.uniform(0.97, 1.03)), 4),
                rotation=round(base.rotation + float(rng.uniform(-3.0, 3.0)), 3),
            )
        )
    return views


def format_views(views: tuple[ChipView, ...]) -> str:
    """The canonical recipe of these views (jitter written out), for ids and reports."""
    terms = []
    for view in views:
        parts: list[str] = [view.alignment]
        for key, value, neutral in (
            ("dx", view.dx, 0.0),
            ("dy", view.dy, 0.0),
            ("scale", view.scale, 1.0),
            ("rot", view.rotation, 0.0),
        ):
            if value != neutral:
                parts.append(f"{key}={value:g}")
        terms.append(":".join(parts))
    return "+".join(terms)


def _invalid(recipe: str, why: str) -> ModelError:
    return ModelError(
        "CONFIG_INVALID",
        f"Alignment {recipe!r}: {why}; use views of {', '.join(ALIGNMENTS)} joined by '+', "
        "each with optional ':dx=PX', ':dy=PX', ':scale=F', ':rot=DEG' or ':jitter=N'.",
    )
