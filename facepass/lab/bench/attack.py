"""`facepass bench attack`: issue 16's replayed attack against a live, demo-like server.

An event of several guests (LFW people) in ~25 group photos is uploaded to the embedded
default's demo session and indexed. Then ONE anonymous client, starting from one selfie of
itself (a photo of guest 0 that is not in the event), does what the issue's attacker did, for
a bounded time: it loads the guest page (a device token), searches, downloads the originals
it is given, cuts every other face out of them (upscaled 3x), searches with each crop and
sends each crop to the opt-out. When refused (429) it reloads the page for a fresh device
token, and otherwise waits as told (Retry-After) while time remains.

Counted from the server's own database before and after (each face is known to be a guest's
by where it was placed): faces of OTHER guests removed, and photos whose original the client
obtained although they do not show it. The goal is 0 and 0. Prints JSON.
"""

from __future__ import annotations

import io
import json
import random
import re
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
import httpx
from PIL import Image
from sqlalchemy import create_engine, pool, text

from facepass.config import Settings, get_settings
from facepass.lab.liveserver import live_server

GUESTS = (
    "George_W_Bush",  # guest 0: the attacker
    "Colin_Powell",
    "Tony_Blair",
    "Donald_Rumsfeld",
    "Gerhard_Schroeder",
    "Ariel_Sharon",
)
TILE = 250  # LFW deep-funneled images: 250 x 250, the face in the middle
GAP = 24
_CONFIG = re.compile(r'<script type="application/json" id="config">(.*?)</script>', re.S)


@dataclass(frozen=True)
class Placed:
    guest: int
    box: tuple[int, int, int, int]  # the tile, in the photo's pixels


@dataclass(frozen=True)
class EventPhoto:
    filename: str
    data: bytes
    placed: tuple[Placed, ...]


@dataclass
class Event:
    photos: list[EventPhoto]
    selfie: bytes  # guest 0's own photo, in no event photo

    def guests_in(self, filename: str) -> set[int]:
        photo = next(p for p in self.photos if p.filename == filename)
        return {p.guest for p in photo.placed}


def _lfw(data_dir: Path, person: str, number: int) -> Image.Image:
    path = data_dir / "lfw" / "images_deepfunneled" / person / f"{person}_{number:04d}.jpg"
    return Image.open(path).convert("RGB")


def _jpeg(image: Image.Image, quality: int = 92) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality)
    return out.getvalue()


def build_event(data_dir: Path, photos: int = 25, guests: int = 6, seed: int = 16) -> Event:
    """`photos` group photos of 2-4 of `guests` people each, every guest in several, each face a
    different LFW photo of its person, at twice LFW's scale (faces ~220 px)."""
    rng = random.Random(seed)
    used = dict.fromkeys(range(guests), 1)  # photo 1 of guest 0 is its selfie
    event: list[EventPhoto] = []
    for index in range(photos):
        count = rng.randint(2, min(4, guests))
        # Everyone appears: the first photos go round the guests, then chance decides.
        first = index % guests
        people = [first, *rng.sample([g for g in range(guests) if g != first], count - 1)]
        width = count * TILE + (count + 1) * GAP
        canvas = Image.new("RGB", (width, TILE + 2 * GAP), (rng.randint(40, 200),) * 3)
        placed = []
        for slot, guest in enumerate(people):
            used[guest] += 1
            left = GAP + slot * (TILE + GAP)
            canvas.paste(_lfw(data_dir, GUESTS[guest], used[guest]), (left, GAP))
            placed.append(Placed(guest, (2 * left, 2 * GAP, 2 * (left + TILE), 2 * (GAP + TILE))))
        big = canvas.resize((2 * canvas.width, 2 * canvas.height), Image.Resampling.LANCZOS)
        event.append(EventPhoto(f"event-{index:02d}.jpg", _jpeg(big), tuple(placed)))
    return Event(event, _jpeg(_lfw(data_dir, GUESTS[0], 1)))


def _owner(photo: EventPhoto, box: tuple[float, float, float, float]) -> int | None:
    """Whose face a box is: the guest whose tile holds its centre."""
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    for place in photo.placed:
        left, top, right, bottom = place.box
        if left <= cx <= right and top <= cy <= bottom:
            return place.guest
    return None


def faces_per_guest(database_url: str, session_id: str, event: Event) -> Counter[int]:
    """The session's searchable faces (the active model's), per guest, from the database."""
    from facepass.db import sqlalchemy_url

    by_name = {p.filename: p for p in event.photos}
    engine = create_engine(sqlalchemy_url(database_url), poolclass=pool.NullPool)
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT p.original_filename, f.box_left, f.box_top, f.box_right, f.box_bottom "
                "FROM faces f JOIN photos p ON p.id = f.photo_id "
                "WHERE f.session_id = :s AND f.model_id = p.model_id"
            ),
            {"s": session_id},
        ).all()
    engine.dispose()
    counts: Counter[int] = Counter()
    for name, *box in rows:
        owner = _owner(by_name[name], (box[0], box[1], box[2], box[3]))
        if owner is not None:
            counts[owner] += 1
    return counts


@dataclass
class Attacker:
    """One anonymous client of the guest page, out to collect and erase the other guests."""

    http: httpx.Client
    session_id: str
    detect: Any  # bytes -> list of face boxes (the attacker's own face detector)
    deadline: float
    device: str = ""
    crops: list[bytes] = field(default_factory=list)
    untried_opt_outs: list[bytes] = field(default_factory=list)  # crops kept while refused
    seen: set[str] = field(default_factory=set)  # photo ids answered by a search
    obtained: set[str] = field(default_factory=set)  # photo ids whose original it downloaded
    answers: Counter[str] = field(default_factory=Counter)
    opt_outs_accepted: int = 0
    faces_reported_removed: int = 0
    token_reloads: int = 0
    waited_s: float = 0.0
    opt_outs_blocked_until: float = 0.0

    @property
    def base(self) -> str:
        return f"/api/v1/sessions/{self.session_id}"

    def new_device_token(self) -> None:
        page = self.http.get(f"/s/{self.session_id}")
        self.answers[f"page {page.status_code}"] += 1
        match = _CONFIG.search(page.text) if page.status_code == 200 else None
        if match:
            self.device = json.loads(match.group(1))["device_token"]
            self.token_reloads += 1

    def _post(self, what: str, path: str, image: bytes) -> httpx.Response | None:
        """POST a selfie; on 429 a fresh device token once, then wait as told (time allowing)."""
        for attempt in range(2):
            response = self.http.post(
                f"{self.base}/{path}",
                files=[("selfie", ("selfie.jpg", image, "image/jpeg"))],
                headers={"X-FacePass-Device": self.device},
            )
            code = response.json().get("error", {}).get("code", "") if response.is_error else ""
            self.answers[f"{what} {response.status_code} {code}".strip()] += 1
            if response.status_code != 429:
                return response
            if attempt == 0:
                self.new_device_token()
                continue
            retry_after = float(response.headers.get("Retry-After", "5"))
            if what == "opt-out":  # no waiting an hour: search on, opt out again later
                self.opt_outs_blocked_until = time.monotonic() + retry_after
                return None
            wait = min(retry_after, self.left())
            if wait > 0:
                time.sleep(wait)
                self.waited_s += wait
        return None

    def left(self) -> float:
        return max(0.0, self.deadline - time.monotonic())

    def search(self, image: bytes) -> None:
        response = self._post("search", "search", image)
        if response is None or response.status_code != 200:
            return
        for match in response.json()["matches"]:
            if match["photo_id"] in self.seen:
                continue
            self.seen.add(match["photo_id"])
            original = self.http.get(match["original_url"])
            self.answers[f"original {original.status_code}"] += 1
            if original.status_code != 200:
                continue
            self.obtained.add(match["photo_id"])
            self.cut_out_others(original.content, match["box"])

    def cut_out_others(self, photo: bytes, own_box: list[float]) -> None:
        image = Image.open(io.BytesIO(photo)).convert("RGB")
        for box in self.detect(photo):
            if _iou(box, own_box) > 0.3:
                continue  # its own face
            left, top, right, bottom = box
            margin_x, margin_y = (right - left) * 0.4, (bottom - top) * 0.4
            crop = image.crop(
                (
                    max(0, int(left - margin_x)),
                    max(0, int(top - margin_y)),
                    min(image.width, int(right + margin_x)),
                    min(image.height, int(bottom + margin_y)),
                )
            )
            crop = crop.resize((crop.width * 3, crop.height * 3), Image.Resampling.LANCZOS)
            self.crops.append(_jpeg(crop))

    def opt_out(self, image: bytes) -> None:
        if time.monotonic() < self.opt_outs_blocked_until:
            self.untried_opt_outs.append(image)
            return
        response = self._post("opt-out", "opt-out", image)
        if response is not None and response.status_code == 200:
            removed = int(response.json()["faces_removed"])
            self.faces_reported_removed += removed
            self.opt_outs_accepted += removed > 0

    def run(self, selfie: bytes) -> None:
        self.new_device_token()
        self.search(selfie)
        while self.crops and self.left() > 0:
            crop = self.crops.pop(0)
            self.search(crop)
            if self.left() > 0:
                self.opt_out(crop)
        # Every crop searched: the opt-outs it was refused, again as the limits allow.
        while self.untried_opt_outs and self.left() > 0:
            wait = min(self.opt_outs_blocked_until - time.monotonic(), self.left())
            if wait > 0:
                time.sleep(wait)
                self.waited_s += wait
            if self.left() > 0:
                self.opt_out(self.untried_opt_outs.pop(0))


def _iou(a: list[float] | tuple[float, ...], b: list[float] | tuple[float, ...]) -> float:
    width = min(a[2], b[2]) - max(a[0], b[0])
    height = min(a[3], b[3]) - max(a[1], b[1])
    if width <= 0 or height <= 0:
        return 0.0
    inter = width * height
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union else 0.0


def _upload(
    http: httpx.Client, settings: Settings, session_id: str, event: Event
) -> dict[str, str]:
    admin = {"Authorization": f"Bearer {settings.admin_token}"}
    files = [("files", (p.filename, p.data, "image/jpeg")) for p in event.photos]
    answer = http.post(f"/api/v1/sessions/{session_id}/photos", files=files, headers=admin)
    answer.raise_for_status()
    names = {f["photo_id"]: f["filename"] for f in answer.json()["files"]}
    deadline = time.monotonic() + 900
    while time.monotonic() < deadline:
        status = http.get(f"/api/v1/sessions/{session_id}/index-status", headers=admin).json()
        if status["complete"]:
            return names
        time.sleep(1)
    raise RuntimeError("the event's photos were not indexed in 15 minutes")


def attack(
    settings: Settings,
    data_dir: Path,
    duration_s: float,
    photos: int,
    session_id: str | None = None,
    child_process: bool = True,
) -> dict[str, Any]:
    """Build the event in `session_id` (default: the demo's), serve it, replay the attack; the
    counts as a dict."""
    from facepass.engine import FaceEngine
    from facepass.engine_config import engine_config
    from facepass.pixora.demo import DEMO_SESSION_ID

    session = session_id or DEMO_SESSION_ID

    event = build_event(data_dir, photos=photos)
    detector = FaceEngine.load(engine_config(settings))

    def detect(data: bytes) -> list[tuple[float, float, float, float]]:
        return [tuple(f.box.as_list()) for f in detector.analyze(data, embed=False).faces]  # type: ignore[misc]

    assert settings.database_url is not None
    with live_server(settings, child_process=child_process, start_background=True) as base_url:
        with httpx.Client(base_url=base_url, timeout=120) as http:
            names = _upload(http, settings, session, event)
        before = faces_per_guest(settings.database_url, session, event)
        started = time.monotonic()
        with httpx.Client(base_url=base_url, timeout=120) as http:
            attacker = Attacker(http, session, detect, started + duration_s)
            attacker.run(event.selfie)
        elapsed = time.monotonic() - started
        after = faces_per_guest(settings.database_url, session, event)
    own = {pid for pid, name in names.items() if 0 in event.guests_in(name)}
    removed_others = sum(before[g] - after[g] for g in range(1, len(GUESTS)))
    foreign = [pid for pid in attacker.obtained if pid not in own]
    server_errors = sum(n for key, n in attacker.answers.items() if key.split()[1].startswith("5"))
    return {
        "guests": len(GUESTS),
        "photos": len(event.photos),
        "faces_before": sum(before.values()),
        "faces_after": sum(after.values()),
        "own_faces_before": before[0],
        "duration_s": duration_s,
        "elapsed_s": round(elapsed, 1),
        "other_guests_faces_removed": removed_others,
        "photos_obtained": len(attacker.obtained),
        "photos_obtained_without_own_face": len(foreign),
        "photos_showing_own_face": len(own),
        "goal_met": removed_others == 0 and not foreign,
        "searches": sum(n for k, n in attacker.answers.items() if k.startswith("search ")),
        "opt_outs": sum(n for k, n in attacker.answers.items() if k.startswith("opt-out ")),
        "opt_outs_accepted_removing_faces": attacker.opt_outs_accepted,
        "device_token_reloads": attacker.token_reloads,
        "crops_left_unsearched": len(attacker.crops),
        "opt_outs_left_untried": len(attacker.untried_opt_outs),
        "waited_for_retry_after_s": round(attacker.waited_s, 1),
        "server_errors": server_errors,
        "answers": dict(sorted(attacker.answers.items())),
    }


def command(duration_s: float, photos: int, data_dir: Path) -> None:
    """The attack against the embedded default (its own temporary data): JSON on stdout."""
    from facepass.embedded import embedded_settings

    if not (data_dir / "lfw" / "images_deepfunneled").is_dir():
        raise click.ClickException(f"LFW not found under {data_dir} (see --data)")
    base = get_settings().model_copy(update={"database_url": None, "main_app_database_url": None})
    with tempfile.TemporaryDirectory(prefix="facepass-attack-") as tmp:
        settings, postgres = embedded_settings(base, Path(tmp))
        try:
            results = attack(settings, data_dir, duration_s, photos)
        finally:
            postgres.stop()
    click.echo(json.dumps(results, indent=2))
