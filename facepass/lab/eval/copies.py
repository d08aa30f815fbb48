"""`facepass eval copies`: the copy guard (search/copy_guard.py) measured on real faces.

Per CFP person of the split (`--people` of them, spread evenly over it), their frontal photos
02-10 and profile photos 01-02 are the session's indexed faces, each as an event photo of
`facepass bench attack` shows it (fitted into a 250 px tile on a plain background with a
margin, the whole enlarged twice, JPEG 92) and analysed as indexing does (its main face, if
indexable). Then every frame is analysed as the service
analyses a live frame (the face a search takes, its embedding) and its nearest indexed face of
the whole sample (all people's, like a session of many guests) is taken:

- **Genuine**: another photo of the person, not indexed: frontal/01 (the frame looking at the
  camera) and profile 03, 04 (turned). Refused as a copy: a guest wrongly turned away. CFP's
  frontal photos are one sitting (same light, clothes, background), so this is a hard case:
  a guest's selfie at an event is further from its photos than these are from each other.
  Also as pairs (frontal/01 with each turned photo): refused if either frame is.
- **Copies**: the indexed faces of frontal 02 and profile 01 cut out of their event photos as
  issue 16's attacker does (`facepass bench attack`: the face box with 40 % margin each side,
  enlarged 3 times, JPEG 92), and the same crop perturbed as an attacker would try next:
  JPEG quality 60, halved then enlarged back, a slight Gaussian blur, rotated 5 degrees,
  mirrored, and all of these at once. Caught: the share the guard refuses.

Each is reported at the grid's factors; `--split tune` also chooses the factor: the largest
of COPY_GRID at which at most `--max-genuine-refused` of the genuine frames are refused. Choose on
CFP 001-200 (`--split tune`), report on 201-300 (`--split test`, the rule's own factor or
`--factor`). Analyses are cached under `--cache`.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
from PIL import Image, ImageFilter, ImageOps

from facepass.engine import FaceEngine, ImageError, get_engine
from facepass.search.copy_guard import is_copy
from facepass.search.live_pair import COPY_FACTOR
from facepass.search.query import MAX_SELFIE_FACES, SelfieRejected, pick_query_face

Split = Literal["tune", "test"]
CFP_IDS: dict[Split, range] = {"tune": range(1, 201), "test": range(201, 301)}
INDEXED_FRONTAL = range(2, 11)
INDEXED_PROFILE = range(1, 3)
GENUINE_FRONTAL = (1,)
GENUINE_TURNED = (3, 4)
COPIED = (("frontal", 2), ("profile", 1))  # the indexed photos whose faces are cut out
CROP_MARGIN = 0.4  # each side, as facepass/lab/bench/attack.py
CROP_UPSCALE = 3
COPY_GRID = (0.02, 0.03, 0.04, 0.05, 0.06, 0.07, 0.08, 0.1, 0.12, 0.15, 0.2)


def _jpeg(image: Image.Image, quality: int = 92) -> bytes:
    out = io.BytesIO()
    image.convert("RGB").save(out, "JPEG", quality=quality)
    return out.getvalue()


def _reencode(image: Image.Image, quality: int) -> Image.Image:
    return Image.open(io.BytesIO(_jpeg(image, quality))).convert("RGB")


def _halved(image: Image.Image) -> Image.Image:
    size = (max(1, image.width // 2), max(1, image.height // 2))
    small = image.resize(size, Image.Resampling.BICUBIC)
    return small.resize(image.size, Image.Resampling.BICUBIC)


def _rotated(image: Image.Image) -> Image.Image:
    return image.rotate(5, Image.Resampling.BICUBIC, fillcolor=(128, 128, 128))


def _blurred(image: Image.Image) -> Image.Image:
    return image.filter(ImageFilter.GaussianBlur(1.5))


def _everything(image: Image.Image) -> Image.Image:
    return _reencode(ImageOps.mirror(_rotated(_blurred(_halved(image)))), 60)


# What the attacker does to the crop before sending it (then JPEG 92, like the attack).
PERTURBATIONS: dict[str, Callable[[Image.Image], Image.Image]] = {
    "crop": lambda image: image,
    "jpeg_q60": lambda image: _reencode(image, 60),
    "resize_half": _halved,
    "blur_1.5px": _blurred,
    "rotate_5deg": _rotated,
    "mirror": ImageOps.mirror,
    "all_at_once": _everything,
}


def cut_out(image: Image.Image, box: Sequence[float]) -> Image.Image:
    """The attacker's crop of one face: its box with CROP_MARGIN each side, enlarged."""
    left, top, right, bottom = box
    margin_x, margin_y = (right - left) * CROP_MARGIN, (bottom - top) * CROP_MARGIN
    crop = image.crop(
        (
            max(0, int(left - margin_x)),
            max(0, int(top - margin_y)),
            min(image.width, int(right + margin_x)),
            min(image.height, int(bottom + margin_y)),
        )
    )
    return crop.resize(
        (crop.width * CROP_UPSCALE, crop.height * CROP_UPSCALE), Image.Resampling.LANCZOS
    )


TILE, GAP = 250, 24  # as facepass/lab/bench/attack.py's event photos


def event_photo(path: Path, background: int = 120) -> bytes:
    """A photo as an event photo holds it: fitted into a TILE square with a GAP of plain
    background around, the whole enlarged twice (faces ~220 px), JPEG 92."""
    image = Image.open(path).convert("RGB")
    scale = TILE / max(image.size)
    fitted = image.resize(
        (round(image.width * scale), round(image.height * scale)), Image.Resampling.LANCZOS
    )
    side = TILE + 2 * GAP
    canvas = Image.new("RGB", (side, side), (background,) * 3)
    canvas.paste(fitted, (GAP + (TILE - fitted.width) // 2, GAP + (TILE - fitted.height) // 2))
    return _jpeg(canvas.resize((2 * side, 2 * side), Image.Resampling.LANCZOS))


class AnalysisCache:
    """Each (image, role) analysed once: its face's box and embedding, or why it has none."""

    def __init__(self, root: Path, engine: FaceEngine) -> None:
        self.engine = engine
        root.mkdir(parents=True, exist_ok=True)
        self._file = root / f"copies-{engine.model_id}.json"
        self._items: dict[str, dict[str, Any]] = (
            json.loads(self._file.read_text()) if self._file.exists() else {}
        )
        self._dirty = 0

    def _keep(self, key: str, item: dict[str, Any]) -> dict[str, Any]:
        self._items[key] = item
        self._dirty += 1
        if self._dirty >= 100:
            self.save()
        return item

    def indexed(self, path: Path) -> dict[str, Any]:
        """The photo's event photo as indexing sees it: its main (largest) face, if indexable."""
        key = f"indexed-event-1/80:{path}"
        if key in self._items:
            return self._items[key]
        analysis = self.engine.analyze(
            event_photo(path),
            embed=True,
            min_face_fraction=self.engine.config.photo_min_face_fraction,  # as indexing
        )
        face = analysis.faces[0] if analysis.faces else None
        if face is None or not face.quality.indexable or face.embedding is None:
            return self._keep(key, {"error": "NOT_INDEXABLE"})
        return self._keep(
            key,
            {
                "box": [round(float(v), 2) for v in face.box.as_list()],
                "embedding": [round(float(v), 6) for v in face.embedding],
            },
        )

    def frame(self, key: str, data: Callable[[], bytes | None], index: int) -> dict[str, Any]:
        """An image as a live pair's frame `index` (0: frontal, 1: turned) is analysed."""
        key = f"frame{index}:{key}"
        if key in self._items:
            return self._items[key]
        raw = data()
        if raw is None:
            return self._keep(key, {"error": "NO_SOURCE"})
        try:
            analysis = self.engine.analyze(raw, embed=True, max_faces=MAX_SELFIE_FACES)
            query = pick_query_face(analysis, index, allow_turned=index > 0)
        except (ImageError, SelfieRejected) as exc:
            return self._keep(key, {"error": getattr(exc, "code", "INVALID_IMAGE")})
        return self._keep(key, {"embedding": [round(float(v), 6) for v in query.embedding]})

    def save(self) -> None:
        if self._dirty:
            partial = self._file.with_suffix(".part")
            partial.write_text(json.dumps(self._items))
            partial.replace(self._file)
            self._dirty = 0


def _photo(data: Path, person: int, kind: str, number: int) -> Path:
    return data / "cfp" / "Images" / f"{person:03d}" / kind / f"{number:02d}.jpg"


@dataclass
class Measured:
    """Nearest indexed distances (divided by the match threshold) of each kind of frame."""

    genuine_frontal: list[float]
    genuine_turned: list[float]
    genuine_pairs: list[float]  # per pair: the nearer of its two frames
    copies: dict[str, list[float]]
    indexed_faces: int
    unusable: dict[str, int]
    duplicates: list[str]  # genuine frames that are the very file of an indexed photo


def _unit(vector: Sequence[float]) -> np.ndarray:
    array = np.asarray(vector, np.float32)
    return array / max(float(np.linalg.norm(array)), 1e-12)


def measure(cache: AnalysisCache, data: Path, people: Sequence[int]) -> Measured:
    threshold = cache.engine.match_threshold
    index: list[np.ndarray] = []
    sources: dict[tuple[int, str, int], list[float]] = {}
    for person in people:
        for kind, numbers in (("frontal", INDEXED_FRONTAL), ("profile", INDEXED_PROFILE)):
            for number in numbers:
                item = cache.indexed(_photo(data, person, kind, number))
                if "embedding" in item:
                    index.append(_unit(item["embedding"]))
                    sources[(person, kind, number)] = item["box"]
    cache.save()
    matrix = np.stack(index)
    unusable: dict[str, int] = {}

    def nearest(item: dict[str, Any], what: str) -> float | None:
        if "embedding" not in item:
            unusable[what] = unusable.get(what, 0) + 1
            return None
        distances = 1.0 - matrix @ _unit(item["embedding"])
        return float(distances.min()) / threshold

    out = Measured([], [], [], {name: [] for name in PERTURBATIONS}, len(index), unusable, [])
    for person in people:
        held = {
            hashlib.sha256(_photo(data, person, kind, number).read_bytes()).digest()
            for kind, numbers in (("frontal", INDEXED_FRONTAL), ("profile", INDEXED_PROFILE))
            for number in numbers
        }

        def genuine(path: Path, index: int, what: str, held: set[bytes] = held) -> float | None:
            """A genuine frame's distance; None when unusable, or when CFP holds the very file
            among the indexed photos too (a copy indeed: counted apart)."""
            if hashlib.sha256(path.read_bytes()).digest() in held:
                out.duplicates.append(str(path.relative_to(data)))
                return None
            return nearest(cache.frame(str(path), path.read_bytes, index), what)

        frontal = [
            genuine(_photo(data, person, "frontal", n), 0, "genuine_frontal")
            for n in GENUINE_FRONTAL
        ]
        turned = [
            genuine(_photo(data, person, "profile", n), 1, "genuine_turned") for n in GENUINE_TURNED
        ]
        out.genuine_frontal += [d for d in frontal if d is not None]
        out.genuine_turned += [d for d in turned if d is not None]
        if frontal and frontal[0] is not None:
            out.genuine_pairs += [min(frontal[0], t) for t in turned if t is not None]
        for kind, number in COPIED:
            box = sources.get((person, kind, number))
            if box is None:
                continue
            path = _photo(data, person, kind, number)
            for name, perturb in PERTURBATIONS.items():

                def copy(p: Path = path, b: list[float] = box, f: Any = perturb) -> bytes:
                    event = Image.open(io.BytesIO(event_photo(p))).convert("RGB")
                    return _jpeg(f(cut_out(event, b)))

                # The frontal photo's copy is sent as the frontal frame, the profile's as the
                # turned one (what the attacker's pair is made of).
                role = 0 if kind == "frontal" else 1
                frame = cache.frame(f"event-1/80-{name}:{path}", copy, role)
                distance = nearest(frame, f"copy_{name}")
                if distance is not None:
                    out.copies[name].append(distance)
    cache.save()
    return out


def _share(values: Sequence[float], factor: float) -> float | None:
    """The share refused as copies at `factor` (distances already divided by the threshold)."""
    if not values:
        return None
    return round(sum(is_copy(v, factor, 1.0) for v in values) / len(values), 4)


def _quantiles(values: Sequence[float]) -> dict[str, float] | None:
    if not values:
        return None
    points = np.percentile(np.asarray(values), [1, 5, 50, 95])
    return {
        "n": len(values),
        "min": round(min(values), 4),
        **{f"p{q}": round(float(v), 4) for q, v in zip((1, 5, 50, 95), points, strict=True)},
        "max": round(max(values), 4),
    }


def choose_factor(genuine: Sequence[float], max_refused: float) -> float:
    """The largest grid factor refusing at most `max_refused` of the genuine frames."""
    passing = [f for f in COPY_GRID if (_share(genuine, f) or 0.0) <= max_refused]
    return max(passing, default=COPY_GRID[0])


def evaluate(
    data: Path,
    cache_dir: Path,
    split: Split,
    people: int,
    factor: float | None = None,
    max_genuine_refused: float = 0.01,
) -> dict[str, Any]:
    engine = get_engine()
    cache = AnalysisCache(cache_dir, engine)
    ids = list(CFP_IDS[split])
    step = max(1, len(ids) // max(1, people))
    chosen = ids[::step][:people]
    measured = measure(cache, data, chosen)
    genuine = [*measured.genuine_frontal, *measured.genuine_turned]
    report: dict[str, Any] = {
        "split": split,
        "cfp_ids": f"{chosen[0]:03d}-{chosen[-1]:03d}, every {step} ({len(chosen)} people)",
        "embedder": engine.model_id,
        "match_threshold": engine.match_threshold,
        "indexed_faces": measured.indexed_faces,
        "unusable_frames": measured.unusable,
        "genuine_frames_that_are_an_indexed_file": measured.duplicates,
    }
    if split == "tune" and factor is None:
        factor = choose_factor(genuine, max_genuine_refused)
        report["tuned"] = {"max_genuine_refused": max_genuine_refused, "chosen_factor": factor}
    factor = COPY_FACTOR if factor is None else factor
    report["factor"] = factor
    report["copy_distance"] = round(factor * engine.match_threshold, 4)
    report["genuine_refused"] = {
        "frontal_frames": _share(measured.genuine_frontal, factor),
        "turned_frames": _share(measured.genuine_turned, factor),
        "pairs": _share(measured.genuine_pairs, factor),
    }
    report["copies_caught"] = {name: _share(v, factor) for name, v in measured.copies.items()}
    report["distance_over_threshold"] = {
        "genuine_frontal": _quantiles(measured.genuine_frontal),
        "genuine_turned": _quantiles(measured.genuine_turned),
        **{f"copy_{name}": _quantiles(v) for name, v in measured.copies.items()},
    }
    report["grid"] = {
        str(f): {
            "genuine_refused": _share(genuine, f),
            "genuine_pairs_refused": _share(measured.genuine_pairs, f),
            **{name: _share(v, f) for name, v in measured.copies.items()},
        }
        for f in COPY_GRID
    }
    return report


def table(report: dict[str, Any]) -> str:
    """The grid as a short text table (refused %: genuine frames, genuine pairs, each copy)."""
    names = list(PERTURBATIONS)
    head = ["factor", "genuine", "pairs", *names]
    lines = ["  ".join(f"{h:>11}" for h in head)]
    for factor, row in report["grid"].items():
        cells = [factor, row["genuine_refused"], row["genuine_pairs_refused"]]
        cells += [row[n] for n in names]
        marker = " <" if float(factor) == report["factor"] else ""
        lines.append(
            "  ".join(
                f"{c:>11}" if isinstance(c, str) else f"{100 * (c or 0):>10.1f}%" for c in cells
            )
            + marker
        )
    return "\n".join(lines)


def command(
    data: Path,
    cache_dir: Path,
    split: Split,
    people: int,
    factor: float | None,
    max_genuine_refused: float,
) -> None:
    """`facepass eval copies`: the JSON report, then the table (refused %, on stderr)."""
    import sys

    report = evaluate(data, cache_dir, split, people, factor, max_genuine_refused)
    print(json.dumps(report, indent=1))
    print(table(report), file=sys.stderr)
