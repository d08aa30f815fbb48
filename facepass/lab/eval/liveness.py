"""`facepass eval liveness`: the live-selfie rule measured on real faces before relying on it.

Every image is analysed once as the service analyses a selfie frame (`liveness.pair.
analyze_frame`: detection, the face a search takes, its embedding and the anti-spoofing score),
and cached as JSON. Then:

- **Anti-spoofing alone**: the share of real faces it judges live (its false-reject rate is the
  rest) on CFP frontal and profile photos, LFW photos and the fake camera's frames of tests/e2e;
  what it says to the upstream samples (a live face, a print, a screen) and to faces cut out of
  event photos.
- **Genuine live pairs**: each CFP person's first usable frontal photo as the frame looking at
  the camera, and each of their profile photos as the turned frame; the challenge asks the way
  that profile turns (a genuine guest does as asked). The share accepted by the whole rule.
- **Cut-out pairs** (the attack of issue 16): the person's photos as they appear in an event
  photo (reduced until the face is about `EVENT_FACE_PX` wide, saved as JPEG), cut out with
  some margin and enlarged 3 times, as an attacker uploads them. *Without a turned photo*: the
  attacker has only the person's frontal photos; for a random direction they send the most
  frontal one and then the one (mirrored if that helps) that turns furthest the asked way.
  *With a turned photo*: the second frame is a cut-out profile photo, mirrored if needed so
  it turns the asked way. The share refused, and by which check.

Constants are chosen on CFP 001-200 (`--split tune`, with `--tune`) and reported on CFP 201-300
(`--split test`); LFW photos come from View 1's `peopleDevTrain.txt` (tune) and
`peopleDevTest.txt` (test), first photo of each person.
"""

from __future__ import annotations

import io
import json
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
from PIL import Image, ImageOps

from facepass.engine import FaceEngine, get_engine
from facepass.engine.antispoof import AntiSpoof, get_antispoof
from facepass.engine.types import Box
from facepass.guest.challenge import Direction
from facepass.search.live_pair import (
    YAW_SIGN,
    LiveFrame,
    LiveParams,
    LiveRefusal,
    analyze_frame,
    judge_pair,
)
from facepass.search.query import SelfieRejected

Split = Literal["tune", "test"]
CFP_IDS: dict[Split, range] = {"tune": range(1, 201), "test": range(201, 301)}
LFW_PEOPLE: dict[Split, str] = {"tune": "peopleDevTrain.txt", "test": "peopleDevTest.txt"}
EVENT_FACE_PX = 110  # a guest's face in an event photo: about 110 px wide (a 24 MP group shot)
CUTOUT_MARGIN = 1.6  # the attacker's crop: the face box enlarged this much
CUTOUT_UPSCALE = 3  # ... then enlarged 3 times (issue 16)
SEED = 16


@dataclass(frozen=True, slots=True)
class Record:
    """One analysed image: its face's yaw, embedding and live score, or why it had none."""

    yaw: float
    live_score: float
    embedding: tuple[float, ...]
    turned: bool
    error: str | None = None

    @property
    def usable(self) -> bool:
        return self.error is None


def _jpeg(image: Image.Image, quality: int) -> bytes:
    out = io.BytesIO()
    image.convert("RGB").save(out, "JPEG", quality=quality)
    return out.getvalue()


def cut_out(engine: FaceEngine, data: bytes, mirror: bool = False) -> bytes | None:
    """The attacker's copy of the main face of a photo: as in an event photo (face about
    EVENT_FACE_PX wide, JPEG), cut out with a margin, enlarged CUTOUT_UPSCALE times."""
    analysis = engine.analyze(data, embed=False, max_faces=1)
    if not analysis.faces:
        return None
    image = ImageOps.exif_transpose(Image.open(io.BytesIO(data))).convert("RGB")
    box = analysis.faces[0].box
    factor = min(1.0, EVENT_FACE_PX / max(box.width, 1.0))
    if factor < 1.0:
        size = (max(1, round(image.width * factor)), max(1, round(image.height * factor)))
        image = Image.open(io.BytesIO(_jpeg(image.resize(size, Image.Resampling.LANCZOS), 85)))
    half_w, half_h = box.width * factor * CUTOUT_MARGIN / 2, box.height * factor * CUTOUT_MARGIN / 2
    cx, cy = (box.left + box.right) / 2 * factor, (box.top + box.bottom) / 2 * factor
    crop = image.crop(
        (
            max(0, round(cx - half_w)),
            max(0, round(cy - half_h)),
            min(image.width, round(cx + half_w)),
            min(image.height, round(cy + half_h)),
        )
    )
    crop = crop.resize(
        (crop.width * CUTOUT_UPSCALE, crop.height * CUTOUT_UPSCALE), Image.Resampling.BICUBIC
    )
    return _jpeg(ImageOps.mirror(crop) if mirror else crop, 92)


class FrameCache:
    """Each (image, variant) analysed once, kept in a JSON file under `root`."""

    def __init__(self, root: Path, engine: FaceEngine, antispoof: AntiSpoof) -> None:
        self.engine, self.antispoof = engine, antispoof
        root.mkdir(parents=True, exist_ok=True)
        self._file = root / f"liveness-{engine.model_id}-{antispoof.model_id}.json"
        self._records: dict[str, dict[str, Any]] = (
            json.loads(self._file.read_text()) if self._file.exists() else {}
        )
        self._dirty = 0

    def record(self, path: Path, variant: str = "photo") -> Record:
        key = f"{variant}:{path}"
        raw = self._records.get(key)
        if raw is None:
            raw = self._analyse(path.read_bytes(), variant)
            self._records[key] = raw
            self._dirty += 1
            if self._dirty >= 50:
                self.save()
        return Record(
            raw["yaw"], raw["live"], tuple(raw["embedding"]), raw["turned"], raw.get("error")
        )

    def _analyse(self, data: bytes, variant: str) -> dict[str, Any]:
        if variant in ("cutout", "cutout-mirrored"):
            cut = cut_out(self.engine, data, mirror=variant == "cutout-mirrored")
            if cut is None:
                return {
                    "yaw": 0.0,
                    "live": 0.0,
                    "embedding": [],
                    "turned": False,
                    "error": "NO_FACE",
                }
            data = cut
        try:
            frame = analyze_frame(self.engine, self.antispoof, data, 0, allow_turned=True)
        except SelfieRejected as exc:
            return {"yaw": 0.0, "live": 0.0, "embedding": [], "turned": False, "error": exc.code}
        return {
            "yaw": frame.yaw,
            "live": frame.live_score,
            "embedding": [round(float(v), 6) for v in frame.query.embedding],
            "turned": frame.query.face.quality.turned,
        }

    def save(self) -> None:
        if self._dirty:
            partial = self._file.with_suffix(".part")
            partial.write_text(json.dumps(self._records))
            partial.replace(self._file)
            self._dirty = 0


def _frame(record: Record) -> LiveFrame:
    """A cached record as the rule sees a frame."""
    from facepass.engine.types import DetectedFace, FaceQuality
    from facepass.search.query import QueryFace

    quality = FaceQuality(1.0, 100.0, 100.0, record.yaw, 0.0, 0.0)
    face = DetectedFace(Box(0, 0, 1, 1), (), quality)
    embedding = np.asarray(record.embedding, np.float32)
    return LiveFrame(QueryFace(0, face, embedding, 1, 1), record.live_score)


FRONTAL_PHOTOS = 3  # per person: frontal/01..03 (with profile/01..04)


def cfp_person(data: Path, person: int) -> tuple[list[Path], list[Path]]:
    folder = data / "cfp" / "Images" / f"{person:03d}"
    frontal = sorted((folder / "frontal").glob("*.jpg"))[:FRONTAL_PHOTOS]
    return frontal, sorted((folder / "profile").glob("*.jpg"))


def lfw_people(data: Path, split: Split, min_photos: int = 1) -> list[tuple[str, int]]:
    """The split's people (View 1) with at least `min_photos` photos: (name, photo count)."""
    people = []
    for line in (data / "lfw" / LFW_PEOPLE[split]).read_text().split("\n")[1:]:
        parts = line.split("\t")
        if len(parts) == 2 and int(parts[1]) >= min_photos:
            people.append((parts[0], int(parts[1])))
    return people


def lfw_path(data: Path, name: str, number: int) -> Path:
    return data / "lfw" / "images_deepfunneled" / name / f"{name}_{number:04d}.jpg"


def lfw_photos(data: Path, split: Split, limit: int) -> list[Path]:
    """The first photo of each of the split's first `limit` people."""
    return [lfw_path(data, name, 1) for name, _ in lfw_people(data, split)[:limit]]


# "Turned a little" (what the page asks): a second photo whose yaw differs from the frontal
# one's by this many degrees. CFP's profile photos turn further (50-80 degrees).
LITTLE_TURN_DEG = (15.0, 45.0)
LFW_TURN_PEOPLE = 60  # people with >= LFW_TURN_PHOTOS photos, per split
LFW_TURN_PHOTOS = 4


def little_turn_pairs(
    people_photos: Sequence[Sequence[Record]],
) -> list[tuple[Record, Record, Direction]]:
    """Per person: the first frontal photo with each other photo of theirs turned a little
    (LITTLE_TURN_DEG) from it, asked the way it turns."""
    pairs = []
    low, high = LITTLE_TURN_DEG
    for records in people_photos:
        first = _anchor(records)
        if first is None:
            continue
        for second in records:
            if second is not first and second.usable and low <= abs(second.yaw - first.yaw) <= high:
                pairs.append((first, second, _direction_of(first, second)))
    return pairs


def share(values: Iterable[bool]) -> float | None:
    items = list(values)
    return round(sum(items) / len(items), 4) if items else None


def _live_share(records: Sequence[Record], threshold: float) -> dict[str, Any]:
    usable = [r for r in records if r.usable]
    return {
        "faces": len(usable),
        "judged_live": share(r.live_score >= threshold for r in usable),
        "median_score": round(float(np.median([r.live_score for r in usable])), 3)
        if usable
        else None,
    }


@dataclass
class Person:
    frontal: list[Record]
    profile: list[Record]
    frontal_cut: list[Record]
    profile_cut: list[Record]
    frontal_paths: list[Path]
    profile_paths: list[Path]


def load_people(cache: FrameCache, data: Path, ids: Iterable[int]) -> list[Person]:
    people = []
    for person in ids:
        frontal, profile = cfp_person(data, person)
        people.append(
            Person(
                [cache.record(p) for p in frontal],
                [cache.record(p) for p in profile],
                [cache.record(p, "cutout") for p in frontal],
                [cache.record(p, "cutout") for p in profile],
                frontal,
                profile,
            )
        )
    cache.save()
    return people


def _anchor(records: Sequence[Record]) -> Record | None:
    """The frame looking at the camera: the first usable frontal (not turned) face."""
    return next((r for r in records if r.usable and not r.turned), None)


def _direction_of(first: Record, second: Record) -> Direction:
    return Direction.LEFT if second.yaw - first.yaw >= 0 else Direction.RIGHT


def genuine_pairs(people: Sequence[Person]) -> list[tuple[Record, Record, Direction]]:
    pairs = []
    for person in people:
        first = _anchor(person.frontal)
        if first is None:
            continue
        for second in person.profile:
            if second.usable:
                pairs.append((first, second, _direction_of(first, second)))
    return pairs


def verdicts(
    pairs: Sequence[tuple[Record | None, Record | None, Direction]],
    params: LiveParams,
    match_threshold: float,
) -> list[LiveRefusal | str | None]:
    """Each pair's refusal (None: accepted; NO_FACE: a frame had no usable face)."""
    out: list[LiveRefusal | str | None] = []
    for first, second, direction in pairs:
        if first is None or second is None or not first.usable or not second.usable:
            out.append("NO_USABLE_FACE")
            continue
        verdict = judge_pair(_frame(first), _frame(second), direction, params, match_threshold)
        out.append(verdict.refusal)
    return out


def attack_pairs(
    cache: FrameCache, people: Sequence[Person], *, turned_photo: bool, rng: random.Random
) -> list[tuple[Record | None, Record | None, Direction]]:
    """The attacker's best second frame for a random direction: among the person's cut-outs
    (profiles with a turned photo, else the other frontal ones), the one that turns furthest
    the asked way, mirrored if that turns it the right way (mirrored copies are analysed too:
    the anti-spoofing model's score is not mirror-symmetric)."""
    pairs: list[tuple[Record | None, Record | None, Direction]] = []
    for person in people:
        direction = rng.choice(list(Direction))
        first = _anchor(person.frontal_cut)
        if first is None:
            pairs.append((None, None, direction))
            continue
        sign = YAW_SIGN[direction]
        index = person.frontal_cut.index(first)
        if turned_photo:
            pool = list(zip(person.profile_cut, person.profile_paths, strict=True))
        else:
            pool = [
                (r, p)
                for i, (r, p) in enumerate(
                    zip(person.frontal_cut, person.frontal_paths, strict=True)
                )
                if i != index
            ]
        # Mirroring flips the yaw's sign: the attacker mirrors whatever turns the wrong way.
        usable = [(r, p) for r, p in pool if r.usable]
        best = max(usable, key=lambda rp: abs(rp[0].yaw - first.yaw), default=None)
        if best is None:
            pairs.append((first, None, direction))
            continue
        record, path = best
        if (record.yaw - first.yaw) * sign < 0:
            record = cache.record(path, "cutout-mirrored")
        pairs.append((first, record, direction))
    cache.save()
    return pairs


def impostor_pairs(people: Sequence[Person]) -> list[tuple[Record, Record, Direction]]:
    """Person i's frontal anchor with person i+1's profiles: different people."""
    pairs = []
    anchors = [_anchor(p.frontal) for p in people]
    for index, first in enumerate(anchors):
        other = people[(index + 1) % len(people)]
        if first is None:
            continue
        for second in other.profile:
            if second.usable:
                pairs.append((first, second, _direction_of(first, second)))
    return pairs


def _summary(outcomes: Sequence[LiveRefusal | str | None]) -> dict[str, Any]:
    counts: dict[str, int] = {}
    for outcome in outcomes:
        key = "accepted" if outcome is None else str(outcome)
        counts[key] = counts.get(key, 0) + 1
    return {
        "pairs": len(outcomes),
        "accepted": share(o is None for o in outcomes),
        "refused": share(o is not None for o in outcomes),
        "by_outcome": dict(sorted(counts.items())),
    }


LIVE_GRID = (
    0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.25, 0.2, 0.15, 0.1, 0.05, 0.02, 0.01, 0.005, 0.002,
    0.001, 0.0005, 0.0002, 0.0001, 0.0,
)  # fmt: skip


def tune(
    pairs: Sequence[tuple[Record, Record, Direction]],
    base: LiveParams,
    match_threshold: float,
    target: float,
) -> tuple[LiveParams, dict[str, Any]]:
    """The strictest anti-spoofing threshold (LIVE_GRID) at which the model itself refuses at
    most 1 - `target` of the genuine pairs that the turn and identity checks accept."""
    off = LiveParams(base.min_turn_deg, base.same_person_factor, 0.0)
    kept = [
        p for p, o in zip(pairs, verdicts(pairs, off, match_threshold), strict=True) if o is None
    ]
    for live in LIVE_GRID:
        params = LiveParams(base.min_turn_deg, base.same_person_factor, live)
        accepted = share(o is None for o in verdicts(kept, params, match_threshold)) or 0.0
        if accepted >= target:
            return params, {
                "target": target,
                "pairs_passing_turn_and_identity": len(kept),
                "kept_by_the_model": accepted,
            }
    return off, {"target": target, "kept_by_the_model": None}


def load_lfw_turns(cache: FrameCache, data: Path, split: Split) -> list[list[Record]]:
    people = lfw_people(data, split, LFW_TURN_PHOTOS)[:LFW_TURN_PEOPLE]
    records = [
        [cache.record(lfw_path(data, name, n)) for n in range(1, LFW_TURN_PHOTOS + 1)]
        for name, _ in people
    ]
    cache.save()
    return records


def impostor_little_turns(
    people_photos: Sequence[Sequence[Record]],
) -> list[tuple[Record, Record, Direction]]:
    """Person i's frontal anchor with person i+1's photos turned a little from it."""
    pairs = []
    low, high = LITTLE_TURN_DEG
    for index, records in enumerate(people_photos):
        first = _anchor(records)
        other = people_photos[(index + 1) % len(people_photos)]
        if first is None:
            continue
        for second in other:
            if second.usable and low <= abs(second.yaw - first.yaw) <= high:
                pairs.append((first, second, _direction_of(first, second)))
    return pairs


def fake_camera_frames(engine: FaceEngine, antispoof: AntiSpoof) -> dict[str, Any]:
    """What the rule says of the fake camera's frames of tests/e2e (made from the astronaut
    portrait: frontal, and a perspective warp turning her head a little)."""
    from facepass.demo_photos import astronaut_selfie
    from facepass.lab.camera import turned_selfie

    frames = {"frontal": astronaut_selfie(), "turned_warp": turned_selfie()}
    out: dict[str, Any] = {}
    for name, image in frames.items():
        try:
            frame = analyze_frame(engine, antispoof, _jpeg(image, 90), 0, allow_turned=True)
            out[name] = {"yaw": round(frame.yaw, 1), "score": round(frame.live_score, 4)}
        except SelfieRejected as exc:
            out[name] = {"error": exc.code}
    return out


def evaluate(
    data: Path,
    cache_dir: Path,
    split: Split,
    params: LiveParams | None = None,
    *,
    lfw_limit: int = 100,
    tune_target: float | None = None,
    ids: Sequence[int] | None = None,
) -> dict[str, Any]:
    """The report of one split (see the module's docstring); with `tune_target`, the live
    threshold is chosen on this split first."""
    engine = get_engine()
    antispoof = get_antispoof(engine.config)
    cache = FrameCache(cache_dir, engine, antispoof)
    people = load_people(cache, data, ids if ids is not None else CFP_IDS[split])
    lfw_turns = load_lfw_turns(cache, data, split)
    cfp_photos = [[*p.frontal, *p.profile] for p in people]
    little = [*little_turn_pairs(cfp_photos), *little_turn_pairs(lfw_turns)]
    chosen = ids if ids is not None else CFP_IDS[split]
    report: dict[str, Any] = {
        "split": split,
        "cfp_ids": f"{min(chosen):03d}-{max(chosen):03d} ({len(people)} people)",
        "lfw_people_file": LFW_PEOPLE[split],
    }
    params = params or LiveParams.for_model(antispoof)
    if tune_target is not None:
        params, tuned = tune(little, params, engine.match_threshold, tune_target)
        report["tuned"] = tuned
    report["params"] = {
        "min_turn_deg": params.min_turn_deg,
        "same_person_factor": params.same_person_factor,
        "same_person_distance": round(params.same_person_factor * engine.match_threshold, 4),
        "live_threshold": params.live_threshold,
        "embedder": engine.model_id,
        "antispoof": antispoof.model_id,
    }
    threshold = params.live_threshold
    lfw = [cache.record(p) for p in lfw_photos(data, split, lfw_limit)]
    samples_dir = data.parent / "models" / "minifasnet" / "samples"
    samples = {p.stem: cache.record(p) for p in sorted(samples_dir.glob("*.jpg"))}
    cache.save()
    report["antispoof"] = {
        "cfp_frontal": _live_share([r for p in people for r in p.frontal], threshold),
        "cfp_profile": _live_share([r for p in people for r in p.profile], threshold),
        "lfw": _live_share(lfw, threshold),
        "cutouts_of_event_photos": _live_share(
            [r for p in people for r in [*p.frontal_cut, *p.profile_cut]], threshold
        ),
        "upstream_samples": {
            name: {"score": round(r.live_score, 4), "live": r.live_score >= threshold}
            for name, r in samples.items()
        },
        "fake_camera_frames": fake_camera_frames(engine, antispoof),
    }
    match = engine.match_threshold
    report["genuine_pairs_little_turn"] = _summary(verdicts(little, params, match))
    report["genuine_pairs_cfp_profile"] = _summary(verdicts(genuine_pairs(people), params, match))
    report["impostor_pairs_little_turn"] = _summary(
        verdicts(
            [*impostor_little_turns(cfp_photos), *impostor_little_turns(lfw_turns)], params, match
        )
    )
    report["impostor_pairs_cfp_profile"] = _summary(verdicts(impostor_pairs(people), params, match))
    rng = random.Random(SEED)
    for name, turned in (("no_turned_photo", False), ("with_turned_photo", True)):
        attacks = attack_pairs(cache, people, turned_photo=turned, rng=rng)
        report[f"cutout_pairs_{name}"] = _summary(verdicts(attacks, params, match))
    return report


def command(
    data: Path,
    cache_dir: Path | None,
    split: Split,
    tune_target: float | None,
    every: int,
    live_threshold: float | None = None,
) -> None:
    """`facepass eval liveness`: print the split's report as one JSON object."""
    ids = list(CFP_IDS[split])[::every]
    params = None if live_threshold is None else LiveParams(live_threshold=live_threshold)
    report = evaluate(
        data,
        cache_dir or data / ".facepass-cache",
        split,
        params,
        tune_target=tune_target,
        ids=ids,
    )
    print(json.dumps(report, indent=1))
