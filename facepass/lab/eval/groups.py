"""Group photos: where the faces of an event photo are small, and what loses them.

`facepass eval retrieval --dataset cfp-groups` builds synthetic 3000x2000 group photos from
the split's CFP people (001-200 tune, 201-300 test): every photo holds 10 different people,
each a CFP photo scaled so the face is 24, 32, 48, 64 or 96 px wide and pasted on a seeded
background, saved as JPEG at quality 85. Each of a person's photos but `frontal/01.jpg` (the
selfie) is used exactly once, and the widths are dealt evenly within each pose, so every
(width, pose) bucket holds the same share of every split. The photos are built once per split
and seed under the cache folder (never in the repository), with a manifest of where each face
was put.

Every face put in a photo is then followed through the pipeline: was it detected, was it
indexed (or which quality gate dropped it), was its photo found by the person's selfie
through the API's ranking code. The stages tell detection, the gates and the embedding apart.
"""

from __future__ import annotations

import json
import random
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from facepass.engine import FaceEngine
from facepass.lab.eval.heldout import CFP_IDS, Split
from facepass.lab.eval.retrieval import AnalysisCache

CANVAS = (3000, 2000)
WIDTHS = (24, 32, 48, 64, 96)
PEOPLE_PER_PHOTO = 10
JPEG_QUALITY = 85
# A face box of the group photo's analysis is the face put there when their IoU reaches this
# (both boxes are the detector's, one on the source photo, one on the group photo).
MATCH_IOU = 0.3
# Where the detector finds no face in a source photo (a few profiles), the face is taken to be
# this share of the photo's width: the median of CenterFace's boxes on CFP's crops.
FALLBACK_FACE_SHARE = 0.74
_VERSION = 1  # bump when the way photos are built changes: a new folder, nothing reused


@dataclass(frozen=True, slots=True)
class PlacedFace:
    """One face in a group photo: whose, which source photo, its pose and planned width, and
    its box in the group photo (left, top, right, bottom)."""

    person: str
    source: str
    kind: str  # frontal | profile
    width: int
    box: tuple[float, float, float, float]


@dataclass(frozen=True, slots=True)
class GroupPhoto:
    path: Path
    faces: tuple[PlacedFace, ...]


@dataclass(frozen=True, slots=True)
class GroupSet:
    """The group photos of a split and each person's selfie."""

    photos: tuple[GroupPhoto, ...]
    selfies: dict[str, Path]


def _cfp_person(data_dir: Path, number: int) -> tuple[str, Path, list[tuple[str, Path]]]:
    folder = data_dir / "cfp" / "Images" / f"{number:03d}"
    frontal = sorted((folder / "frontal").glob("*.jpg"))
    profile = sorted((folder / "profile").glob("*.jpg"))
    photos = [("frontal", p) for p in frontal[1:]] + [("profile", p) for p in profile]
    return f"cfp-{number:03d}", frontal[0], photos


def plan(data_dir: Path, split: Split, seed: int) -> list[list[tuple[str, str, Path, int]]]:
    """Which (person, pose, source photo, face width) go into each group photo.

    Round r puts every person's r-th photo (in a seeded order) into one of the photos of that
    round, 10 different people to a photo; widths are dealt round-robin over each pose's
    faces in a seeded order, so each width gets a fifth of the frontal and of the profile faces.
    """
    rng = random.Random(f"cfp-groups:{split}:{seed}")
    people = [_cfp_person(data_dir, n) for n in CFP_IDS[split]]
    widths: dict[Path, int] = {}
    for kind in ("frontal", "profile"):
        faces = [path for _, _, photos in people for k, path in photos if k == kind]
        rng.shuffle(faces)
        widths.update({path: WIDTHS[i % len(WIDTHS)] for i, path in enumerate(faces)})
    queues = {}
    for person, _, photos in people:
        own = list(photos)
        rng.shuffle(own)
        queues[person] = own
    groups: list[list[tuple[str, str, Path, int]]] = []
    for round_ in range(max(len(q) for q in queues.values())):
        present = [p for p, q in queues.items() if round_ < len(q)]
        rng.shuffle(present)
        for start in range(0, len(present), PEOPLE_PER_PHOTO):
            groups.append(
                [
                    (person, *queues[person][round_], widths[queues[person][round_][1]])
                    for person in present[start : start + PEOPLE_PER_PHOTO]
                ]
            )
    return groups


def _source_face(engine: FaceEngine, image: Image.Image) -> tuple[float, float, float, float]:
    """The face's box in a source photo: the detector's largest, else a centred estimate."""
    found = engine.analyze_image(image, embed=False, max_faces=1).faces
    if found:
        return tuple(found[0].box.as_list())  # type: ignore[return-value]
    width = FALLBACK_FACE_SHARE * image.width
    left, top = (image.width - width) / 2, (image.height - width * 1.25) / 2
    return left, top, left + width, top + width * 1.25


def _background(rng: np.random.Generator) -> Image.Image:
    """A smooth two-colour gradient with mild grain, like an out-of-focus room."""
    width, height = CANVAS
    top, bottom = rng.uniform(40, 220, 3), rng.uniform(40, 220, 3)
    ramp = np.linspace(0.0, 1.0, height)[:, None, None]
    pixels = top * (1 - ramp) + bottom * ramp + rng.normal(0, 4, (height, 1, 3))
    pixels = np.broadcast_to(pixels, (height, width, 3)) + rng.normal(0, 3, (height, width, 1))
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


def compose(
    engine: FaceEngine,
    group: Sequence[tuple[str, str, Path, int]],
    target: Path,
    rng: np.random.Generator,
) -> GroupPhoto:
    """One group photo: each source scaled so its face is the planned width, pasted at a
    random place in its own cell of a 5x2 grid (so faces never overlap), saved as JPEG."""
    canvas = _background(rng)
    columns = (len(group) + 1) // 2
    cell_w, cell_h = CANVAS[0] // max(columns, 1), CANVAS[1] // 2
    placed = []
    for index, (person, kind, source, width) in enumerate(group):
        with Image.open(source) as opened:
            image = opened.convert("RGB")
        left, top, right, bottom = _source_face(engine, image)
        factor = width / (right - left)
        size = (max(1, round(image.width * factor)), max(1, round(image.height * factor)))
        scaled = image.resize(size, Image.Resampling.LANCZOS)
        column, row = index % columns, index // columns
        x = column * cell_w + int(rng.integers(0, max(1, cell_w - size[0])))
        y = row * cell_h + int(rng.integers(0, max(1, cell_h - size[1])))
        canvas.paste(scaled, (x, y))
        box = (x + left * factor, y + top * factor, x + right * factor, y + bottom * factor)
        placed.append(PlacedFace(person, str(source), kind, width, box))
    canvas.save(target, "JPEG", quality=JPEG_QUALITY)
    return GroupPhoto(target, tuple(placed))


def build(
    data_dir: Path,
    split: Split,
    cache_dir: Path,
    engine: FaceEngine,
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
) -> GroupSet:
    """The split's group photos, built under cache_dir on first use (manifest.json lists them)."""
    folder = cache_dir / "cfp-groups" / f"v{_VERSION}-{split}-seed{seed}"
    manifest = folder / "manifest.json"
    selfies = {
        person: selfie for person, selfie, _ in (_cfp_person(data_dir, n) for n in CFP_IDS[split])
    }
    if manifest.exists():
        return GroupSet(_read_manifest(manifest), selfies)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    groups = plan(data_dir, split, seed)
    photos = []
    for number, group in enumerate(groups, start=1):
        photos.append(compose(engine, group, folder / f"group-{number:04d}.jpg", rng))
        if progress is not None:
            progress(number, len(groups))
    entries = [{"path": p.path.name, "faces": [asdict(f) for f in p.faces]} for p in photos]
    manifest.write_text(json.dumps({"split": split, "seed": seed, "photos": entries}, indent=1))
    return GroupSet(tuple(photos), selfies)


def _read_manifest(path: Path) -> tuple[GroupPhoto, ...]:
    entries = json.loads(path.read_text())["photos"]
    return tuple(
        GroupPhoto(
            path.parent / entry["path"],
            tuple(
                PlacedFace(f["person"], f["source"], f["kind"], f["width"], tuple(f["box"]))
                for f in entry["faces"]
            ),
        )
        for entry in entries
    )


# ---- following each face through the pipeline ------------------------------------------------


def _iou(a: Sequence[float], b: Sequence[float]) -> float:
    inter_w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    inter_h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = inter_w * inter_h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def face_stages(cache: AnalysisCache, photo: GroupPhoto) -> list[str]:
    """Per placed face: `missed`, the first quality gate that dropped it, or `indexed`."""
    analysed = cache.analysis(photo.path).faces
    stages = []
    for placed in photo.faces:
        best = max(analysed, key=lambda f: _iou(placed.box, f.box.as_list()), default=None)
        if best is None or _iou(placed.box, best.box.as_list()) < MATCH_IOU:
            stages.append("missed")
        elif best.quality.indexable and best.embedding is not None:
            stages.append("indexed")
        else:
            gates = [r for r in best.quality.skip_reasons if r != "EXTREME_POSE"]
            stages.append(str(gates[0]) if gates else "no embedding")
    return stages


@dataclass
class Bucket:
    """Counts of one (pose, width): faces put, detected, indexed, their photos found."""

    faces: int = 0
    detected: int = 0
    indexed: int = 0
    found: int = 0
    found_indexed: int = 0
    gates: Counter[str] | None = None

    def report(self) -> dict[str, Any]:
        def share(part: int, whole: int) -> float | None:
            return round(part / whole, 4) if whole else None

        return {
            "faces": self.faces,
            "detected": share(self.detected, self.faces),
            "indexed": share(self.indexed, self.faces),
            "recall": share(self.found, self.faces),
            "recall_of_indexed": share(self.found_indexed, self.indexed),
            "dropped_by": dict(sorted((self.gates or Counter()).items())),
        }


def empty_buckets() -> dict[tuple[str, int], Bucket]:
    return {(kind, w): Bucket(gates=Counter()) for kind in ("frontal", "profile") for w in WIDTHS}


def photo_ids(session_id: uuid.UUID, photos: Sequence[GroupPhoto]) -> dict[uuid.UUID, GroupPhoto]:
    return {uuid.uuid5(session_id, str(p.path)): p for p in photos}


def tally_search(
    buckets: dict[tuple[str, int], Bucket],
    person: str,
    found: Sequence[uuid.UUID],
    photos: dict[uuid.UUID, GroupPhoto],
    stages: dict[uuid.UUID, list[str]],
) -> tuple[int, int]:
    """Adds one person's search to the buckets; returns (photos found, of which theirs)."""
    found_set = set(found)
    for photo_id, photo in photos.items():
        for placed, stage in zip(photo.faces, stages[photo_id], strict=True):
            if placed.person != person:
                continue
            bucket = buckets[(placed.kind, placed.width)]
            hit = photo_id in found_set
            bucket.found += hit
            bucket.found_indexed += hit and stage == "indexed"
    correct = sum(1 for p in found_set if any(f.person == person for f in photos[p].faces))
    return len(found_set), correct


def count_stages(
    buckets: dict[tuple[str, int], Bucket],
    photos: dict[uuid.UUID, GroupPhoto],
    stages: dict[uuid.UUID, list[str]],
) -> None:
    """Adds every placed face's stage to its bucket."""
    for photo_id, photo in photos.items():
        for placed, stage in zip(photo.faces, stages[photo_id], strict=True):
            bucket = buckets[(placed.kind, placed.width)]
            bucket.faces += 1
            bucket.detected += stage != "missed"
            bucket.indexed += stage == "indexed"
            if stage not in ("missed", "indexed") and bucket.gates is not None:
                bucket.gates[stage] += 1


def by_width(buckets: dict[tuple[str, int], Bucket]) -> dict[str, dict[str, Any]]:
    """The buckets' reports keyed 'frontal/24' etc., in width order."""
    grouped: dict[str, dict[str, Any]] = defaultdict(dict)
    for (kind, width), bucket in buckets.items():
        grouped[kind][str(width)] = bucket.report()
    return dict(grouped)
