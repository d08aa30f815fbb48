"""`facepass bench attack`: issue 16's replayed attack against a live, demo-like server.

An event of several guests in ~25 group photos is uploaded to the embedded default's demo
session and indexed: guest 0 (the attacker) and two more guests are CFP people (201-300, the
held-out split), and the two others' photos include their CFP profile photos (turned faces);
three more guests are LFW people (frontal only). Then ONE anonymous client does what the
issue's attacker did, knowing the live-selfie rule (facepass/search/live_pair.py is public):
- its own searches send its own genuine live pair (CFP frontal/01 and one of its profile
  photos the rule accepts, for the direction they turn; it asks for challenges until one wants
  that direction);
- it downloads the originals it is given, cuts every other face out of them (upscaled 3x),
  groups the crops by person (its own embedder), and for each other guest, per attempt, asks
  for a challenge and sends a frontal crop plus the crop of that person the rule (run locally,
  anti-spoofing model included) likes best for the asked direction: a turned crop where the
  event holds one, else another frontal one; to search, then to opt out.
When refused (429) it reloads the page for a fresh device token once, then waits as told
(searches) or puts the opt-out off (Retry-After) while time remains.

Counted from the server's own database before and after (each face is known to be a guest's
by where it was placed): faces of OTHER guests removed, and photos whose original the client
obtained although they do not show it. The goal is 0 and 0. Also: the answers, refusals by code
(LIVE_*, CHALLENGE_*) per case (with a turned crop / frontal crops only), 429s and 5xx. JSON.
"""

from __future__ import annotations

import io
import json
import random
import re
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
import httpx
from PIL import Image
from sqlalchemy import create_engine, pool, text

from facepass.config import Settings, get_settings
from facepass.engine import FaceEngine, cosine_distance
from facepass.engine.antispoof import AntiSpoof
from facepass.guest.challenge import Direction
from facepass.lab.liveserver import live_server
from facepass.search.live_pair import LiveFrame, LiveParams, analyze_frame, judge_pair
from facepass.search.query import SelfieRejected

# Guest 0 and the CFP_TURNED guests are CFP people found at run time; then LFW people.
LFW_GUESTS = ("Colin_Powell", "Tony_Blair", "Donald_Rumsfeld")
CFP_TURNED = 2  # guests 1..2: CFP people whose event photos include their profile photos
GUESTS = ("attacker", *(f"cfp-turned-{n}" for n in range(1, CFP_TURNED + 1)), *LFW_GUESTS)
CFP_IDS = range(201, 301)
TILE = 250  # LFW deep-funneled images: 250 x 250, the face in the middle; CFP fitted in
GAP = 24
ATTEMPTS = 3  # tries per other guest and action (search, opt-out), each with a new challenge
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
    live_pairs: dict[Direction, tuple[bytes, bytes]]  # guest 0's own, in no event photo
    cfp_people: tuple[int, ...]  # guest 0's and the turned guests' CFP ids

    def guests_in(self, filename: str) -> set[int]:
        photo = next(p for p in self.photos if p.filename == filename)
        return {p.guest for p in photo.placed}


def _jpeg(image: Image.Image, quality: int = 92) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality)
    return out.getvalue()


def _cfp(data_dir: Path, person: int) -> Path:
    return data_dir / "cfp" / "Images" / f"{person:03d}"


def _open(path: Path) -> Image.Image:
    return Image.open(path).convert("RGB")


def _tile(image: Image.Image, background: int) -> Image.Image:
    """An image fitted into a TILE square (LFW's are already that size)."""
    if image.size == (TILE, TILE):
        return image
    scale = TILE / max(image.size)
    fitted = image.resize(
        (round(image.width * scale), round(image.height * scale)), Image.Resampling.LANCZOS
    )
    tile = Image.new("RGB", (TILE, TILE), (background,) * 3)
    tile.paste(fitted, ((TILE - fitted.width) // 2, (TILE - fitted.height) // 2))
    return tile


def find_live_people(
    data_dir: Path, engine: FaceEngine, antispoof: AntiSpoof, count: int
) -> list[tuple[int, dict[Direction, tuple[bytes, bytes]]]]:
    """The first `count` CFP 201-300 people whose frontal/01 and a profile photo the rule accepts
    (as tests/liveness finds them), with those pairs per direction."""
    params = LiveParams.for_model(antispoof)
    found: list[tuple[int, dict[Direction, tuple[bytes, bytes]]]] = []
    for person in CFP_IDS:
        folder = _cfp(data_dir, person)
        frontal = (folder / "frontal" / "01.jpg").read_bytes()
        try:
            first = analyze_frame(engine, antispoof, frontal, 0, allow_turned=False)
        except SelfieRejected:
            continue
        pairs: dict[Direction, tuple[bytes, bytes]] = {}
        for path in sorted((folder / "profile").glob("*.jpg")):
            try:
                second = analyze_frame(engine, antispoof, path.read_bytes(), 1, allow_turned=True)
            except SelfieRejected:
                continue
            direction = Direction.LEFT if second.yaw > first.yaw else Direction.RIGHT
            if judge_pair(first, second, direction, params, engine.match_threshold).live:
                pairs.setdefault(direction, (frontal, path.read_bytes()))
        if pairs:
            found.append((person, pairs))
            if len(found) == count:
                break
    return found


def _guest_images(data_dir: Path, cfp_people: tuple[int, ...]) -> list[Iterator[Image.Image]]:
    """Per guest, its event photos in turn: guest 0's frontal 02-10 (01 and its profile photos
    are its selfies); the turned guests' frontal and profile photos alternately; LFW photos."""

    def attacker() -> Iterator[Image.Image]:
        while True:
            for n in range(2, 11):
                yield _open(_cfp(data_dir, cfp_people[0]) / "frontal" / f"{n:02d}.jpg")

    def turned(person: int) -> Iterator[Image.Image]:
        while True:
            for n in range(1, 11):
                yield _open(_cfp(data_dir, person) / "frontal" / f"{n:02d}.jpg")
                if n <= 4:
                    yield _open(_cfp(data_dir, person) / "profile" / f"{n:02d}.jpg")

    def lfw(person: str) -> Iterator[Image.Image]:
        number = 1
        while True:
            path = data_dir / "lfw" / "images_deepfunneled" / person / f"{person}_{number:04d}.jpg"
            if not path.exists():
                number = 1
                continue
            yield _open(path)
            number += 1

    return [attacker(), *(turned(p) for p in cfp_people[1:]), *(lfw(p) for p in LFW_GUESTS)]


def build_event(
    data_dir: Path,
    cfp_people: tuple[int, ...],
    live_pairs: dict[Direction, tuple[bytes, bytes]],
    photos: int = 25,
    seed: int = 16,
) -> Event:
    """`photos` group photos of 2-4 guests each, every guest in several, each face a different
    photo of its person, at twice the tile's scale (faces ~220 px)."""
    guests = len(GUESTS)
    rng = random.Random(seed)
    sources = _guest_images(data_dir, cfp_people)
    event: list[EventPhoto] = []
    for index in range(photos):
        count = rng.randint(2, min(4, guests))
        # Everyone appears: the first photos go round the guests, then chance decides.
        first = index % guests
        people = [first, *rng.sample([g for g in range(guests) if g != first], count - 1)]
        width = count * TILE + (count + 1) * GAP
        background = rng.randint(40, 200)
        canvas = Image.new("RGB", (width, TILE + 2 * GAP), (background,) * 3)
        placed = []
        for slot, guest in enumerate(people):
            left = GAP + slot * (TILE + GAP)
            canvas.paste(_tile(next(sources[guest]), background), (left, GAP))
            placed.append(Placed(guest, (2 * left, 2 * GAP, 2 * (left + TILE), 2 * (GAP + TILE))))
        big = canvas.resize((2 * canvas.width, 2 * canvas.height), Image.Resampling.LANCZOS)
        event.append(EventPhoto(f"event-{index:02d}.jpg", _jpeg(big), tuple(placed)))
    return Event(event, live_pairs, cfp_people)


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
class Person:
    """Crops the attacker judges to be one other guest, each analysed as the rule would."""

    frames: list[tuple[bytes, LiveFrame]] = field(default_factory=list)
    searches_left: int = ATTEMPTS
    opt_outs_left: int = ATTEMPTS
    removed: bool = False

    def pair_for(
        self, direction: Direction, params: LiveParams, threshold: float
    ) -> tuple[bytes, bytes, str]:
        """The frontal crop and second crop the local rule likes best for `direction`, and the
        case: "turned crop" (one that turns the asked way) or "frontal only"."""
        fronts = sorted(
            (f for f in self.frames if not f[1].query.face.quality.turned),
            key=lambda f: abs(f[1].yaw),
        ) or sorted(self.frames, key=lambda f: abs(f[1].yaw))
        best: tuple[int, bytes, bytes] | None = None
        for front_data, front in fronts:
            for data, frame in self.frames:
                if data is front_data:
                    continue
                verdict = judge_pair(front, frame, direction, params, threshold)
                rank = 0 if verdict.live else 1 if verdict.turn_deg >= params.min_turn_deg else 2
                if best is None or rank < best[0]:
                    best = (rank, front_data, data)
        if best is None:
            return fronts[0][0], fronts[0][0], "frontal only"
        return best[1], best[2], "turned crop" if best[0] < 2 else "frontal only"


@dataclass
class Attacker:
    """One anonymous client of the guest page, out to collect and erase the other guests."""

    http: httpx.Client
    session_id: str
    engine: FaceEngine
    antispoof: AntiSpoof
    deadline: float
    device: str = ""
    own_pairs: dict[Direction, tuple[bytes, bytes]] = field(default_factory=dict)
    people: list[Person] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)  # photo ids answered by a search
    obtained: set[str] = field(default_factory=set)  # photo ids whose original it downloaded
    answers: Counter[str] = field(default_factory=Counter)
    refusals: Counter[str] = field(default_factory=Counter)  # "<action> <case> <code>"
    accepted: Counter[str] = field(default_factory=Counter)  # "<action> <case>": live pairs
    challenges: int = 0
    opt_outs_accepted: int = 0
    faces_reported_removed: int = 0
    token_reloads: int = 0
    waited_s: float = 0.0
    opt_outs_blocked_until: float = 0.0

    @property
    def base(self) -> str:
        return f"/api/v1/sessions/{self.session_id}"

    @property
    def params(self) -> LiveParams:
        return LiveParams.for_model(self.antispoof)

    def left(self) -> float:
        return max(0.0, self.deadline - time.monotonic())

    def new_device_token(self) -> None:
        page = self.http.get(f"/s/{self.session_id}")
        self.answers[f"page {page.status_code}"] += 1
        match = _CONFIG.search(page.text) if page.status_code == 200 else None
        if match:
            self.device = json.loads(match.group(1))["device_token"]
            self.token_reloads += 1

    def challenge(self) -> tuple[str, Direction] | None:
        response = self.http.post(f"{self.base}/challenge")
        self.answers[f"challenge {response.status_code}"] += 1
        if response.status_code != 200:
            return None
        self.challenges += 1
        body = response.json()
        return str(body["challenge_id"]), Direction(body["direction"])

    def _post(self, what: str, path: str, choose: Any) -> httpx.Response | None:
        """POST a live pair for a fresh challenge (`choose(direction)` -> front, turned, case,
        or None to ask again); on 429 a fresh device token once, then wait as told."""
        for attempt in range(2):
            for _ in range(40):
                issued = self.challenge()
                if issued is None:
                    return None
                picked = choose(issued[1])
                if picked is not None:
                    break
            else:
                return None
            front, turned, case = picked
            response = self.http.post(
                f"{self.base}/{path}",
                files=[
                    ("selfie", ("front.jpg", front, "image/jpeg")),
                    ("selfie", ("turned.jpg", turned, "image/jpeg")),
                ],
                data={"challenge_id": issued[0]},
                headers={"X-FacePass-Device": self.device},
            )
            code = response.json().get("error", {}).get("code", "") if response.is_error else ""
            self.answers[f"{what} {response.status_code} {code}".strip()] += 1
            if response.status_code == 200:
                self.accepted[f"{what} {case}"] += 1
            elif response.status_code != 429:
                self.refusals[f"{what} {case} {code or response.status_code}"] += 1
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

    def collect(self, response: httpx.Response) -> None:
        for match in response.json()["matches"]:
            if match["photo_id"] in self.seen or self.left() <= 0:
                continue
            self.seen.add(match["photo_id"])
            original = self.http.get(match["original_url"])
            self.answers[f"original {original.status_code}"] += 1
            if original.status_code != 200:
                continue
            self.obtained.add(match["photo_id"])
            self.cut_out_others(original.content, match["box"])

    def own_search(self) -> None:
        def choose(direction: Direction) -> tuple[bytes, bytes, str] | None:
            pair = self.own_pairs.get(direction)
            return None if pair is None else (pair[0], pair[1], "own")

        response = self._post("own-search", "search", choose)
        if response is not None and response.status_code == 200:
            self.collect(response)

    def cut_out_others(self, photo: bytes, own_box: list[float]) -> None:
        image = Image.open(io.BytesIO(photo)).convert("RGB")
        own_front = analyze_frame(
            self.engine,
            self.antispoof,
            next(iter(self.own_pairs.values()))[0],
            0,
            allow_turned=True,
        )
        for face in self.engine.analyze(photo, embed=False).faces:
            box = face.box.as_list()
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
            data = _jpeg(crop.resize((crop.width * 3, crop.height * 3), Image.Resampling.LANCZOS))
            try:
                frame = analyze_frame(self.engine, self.antispoof, data, 1, allow_turned=True)
            except SelfieRejected:
                continue
            threshold = self.engine.match_threshold
            if cosine_distance(frame.query.embedding, own_front.query.embedding) <= threshold:
                continue  # its own face after all
            for person in self.people:
                if (
                    cosine_distance(frame.query.embedding, person.frames[0][1].query.embedding)
                    <= threshold
                ):
                    person.frames.append((data, frame))
                    break
            else:
                self.people.append(Person([(data, frame)]))

    def try_person(self, person: Person) -> None:
        def choose(direction: Direction) -> tuple[bytes, bytes, str]:
            return person.pair_for(direction, self.params, self.engine.match_threshold)

        if person.searches_left:
            person.searches_left -= 1
            response = self._post("search", "search", choose)
            if response is not None and response.status_code == 200:
                person.searches_left = 0
                self.collect(response)
        if person.opt_outs_left and time.monotonic() >= self.opt_outs_blocked_until:
            if self.left() <= 0:
                return
            person.opt_outs_left -= 1
            response = self._post("opt-out", "opt-out", choose)
            if response is not None and response.status_code == 200:
                removed = int(response.json()["faces_removed"])
                self.faces_reported_removed += removed
                if removed:
                    self.opt_outs_accepted += 1
                    person.removed = True
                    person.opt_outs_left = 0

    def pending(self) -> list[Person]:
        return [p for p in self.people if p.searches_left or p.opt_outs_left]

    def run(self) -> None:
        self.new_device_token()
        self.own_search()
        while self.left() > 0:
            ready = [
                p
                for p in self.pending()
                if p.searches_left or time.monotonic() >= self.opt_outs_blocked_until
            ]
            if not ready:
                if not self.pending():
                    return  # every attempt made
                wait = min(self.opt_outs_blocked_until - time.monotonic(), self.left())
                if wait > 0:
                    time.sleep(wait)
                    self.waited_s += wait
                continue
            for person in ready:
                if self.left() <= 0:
                    return
                self.try_person(person)


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


def prepare_event(
    settings: Settings, data_dir: Path, photos: int
) -> tuple[Event, FaceEngine, AntiSpoof]:
    """The attacker's own live pairs, the turned guests, the event; the engine it uses."""
    from facepass.engine.antispoof import get_antispoof
    from facepass.engine_config import engine_config

    engine = FaceEngine.load(engine_config(settings))
    antispoof = get_antispoof(engine.config)
    people = find_live_people(data_dir, engine, antispoof, 1 + CFP_TURNED)
    if len(people) < 1 + CFP_TURNED:
        raise RuntimeError("not enough CFP 201-300 people with a live pair")
    cfp_people = tuple(person for person, _ in people)
    event = build_event(data_dir, cfp_people, people[0][1], photos=photos)
    return event, engine, antispoof


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
    from facepass.pixora.demo import DEMO_SESSION_ID

    session = session_id or DEMO_SESSION_ID
    event, engine, antispoof = prepare_event(settings, data_dir, photos)
    assert settings.database_url is not None
    with live_server(settings, child_process=child_process, start_background=True) as base_url:
        with httpx.Client(base_url=base_url, timeout=120) as http:
            names = _upload(http, settings, session, event)
        before = faces_per_guest(settings.database_url, session, event)
        started = time.monotonic()
        with httpx.Client(base_url=base_url, timeout=120) as http:
            attacker = Attacker(
                http, session, engine, antispoof, started + duration_s, own_pairs=event.live_pairs
            )
            attacker.run()
        elapsed = time.monotonic() - started
        after = faces_per_guest(settings.database_url, session, event)
    own = {pid for pid, name in names.items() if 0 in event.guests_in(name)}
    removed = {GUESTS[g]: before[g] - after[g] for g in range(1, len(GUESTS))}
    removed_others = sum(removed.values())
    foreign = [pid for pid in attacker.obtained if pid not in own]
    statuses = [(key.split()[1], n) for key, n in attacker.answers.items()]
    return {
        "guests": len(GUESTS),
        "cfp_people": list(event.cfp_people),
        "photos": len(event.photos),
        "faces_before": sum(before.values()),
        "faces_after": sum(after.values()),
        "faces_per_guest_before": {GUESTS[g]: before[g] for g in range(len(GUESTS))},
        "own_faces_before": before[0],
        "duration_s": duration_s,
        "elapsed_s": round(elapsed, 1),
        "other_guests_faces_removed": removed_others,
        "other_guests_faces_removed_per_guest": removed,
        "photos_obtained": len(attacker.obtained),
        "photos_obtained_without_own_face": len(foreign),
        "photos_showing_own_face": len(own),
        "goal_met": removed_others == 0 and not foreign,
        "people_the_attacker_cut_out": len(attacker.people),
        "challenges_issued": attacker.challenges,
        "searches": sum(n for k, n in attacker.answers.items() if k.startswith("search ")),
        "opt_outs": sum(n for k, n in attacker.answers.items() if k.startswith("opt-out ")),
        "opt_outs_accepted_removing_faces": attacker.opt_outs_accepted,
        "accepted_by_case": dict(sorted(attacker.accepted.items())),
        "refused_by_case_and_code": dict(sorted(attacker.refusals.items())),
        "too_many_requests_429": sum(n for s, n in statuses if s == "429"),
        "device_token_reloads": attacker.token_reloads,
        "attempts_left": sum(p.searches_left + p.opt_outs_left for p in attacker.people),
        "waited_for_retry_after_s": round(attacker.waited_s, 1),
        "server_errors": sum(n for s, n in statuses if s.startswith("5")),
        "answers": dict(sorted(attacker.answers.items())),
    }


def command(duration_s: float, photos: int, data_dir: Path) -> None:
    """The attack against the embedded default (its own temporary data): JSON on stdout."""
    from facepass.embedded import embedded_settings

    for needed in ("lfw/images_deepfunneled", "cfp/Images"):
        if not (data_dir / needed).is_dir():
            raise click.ClickException(f"{needed} not found under {data_dir} (see --data)")
    base = get_settings().model_copy(update={"database_url": None, "main_app_database_url": None})
    with tempfile.TemporaryDirectory(prefix="facepass-attack-") as tmp:
        settings, postgres = embedded_settings(base, Path(tmp))
        try:
            results = attack(settings, data_dir, duration_s, photos)
        finally:
            postgres.stop()
    click.echo(json.dumps(results, indent=2))
