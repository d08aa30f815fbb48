"""Live pairs for tests that need a guest's opt-out or search to pass the live check: a
person's frontal photo and, per direction, a photo of them turned that way, picked among their
photos by the rule itself (each pair can still fail the server's check)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from facepass.engine import get_engine
from facepass.engine.antispoof import get_antispoof
from facepass.guest.challenge import Direction
from facepass.search.live_pair import LiveFrame, LiveParams, analyze_frame, judge_pair
from facepass.search.query import SelfieRejected

Pairs = Mapping[Direction, tuple[bytes, bytes]]
_found: dict[str, dict[Direction, tuple[bytes, bytes]]] = {}


def live_pairs(photos: Sequence[bytes]) -> dict[Direction, tuple[bytes, bytes]]:
    """Among one person's photos: the first frontal one the rule can use, and per direction the
    first photo that, with it, the rule accepts as turned that way. Cached per photo set."""
    key = hashlib.sha256(b"".join(hashlib.sha256(p).digest() for p in photos)).hexdigest()
    if key in _found:
        return _found[key]
    engine = get_engine()
    antispoof = get_antispoof(engine.config)
    params = LiveParams.for_model(antispoof)
    frames: list[tuple[bytes, LiveFrame]] = []
    for data in photos:
        try:
            frames.append((data, analyze_frame(engine, antispoof, data, 0, allow_turned=True)))
        except SelfieRejected:
            continue
    pairs: dict[Direction, tuple[bytes, bytes]] = {}
    for front_data, front in frames:
        if front.query.face.quality.turned:
            continue
        for data, frame in frames:
            for direction in Direction:
                verdict = judge_pair(front, frame, direction, params, engine.match_threshold)
                if verdict.live:
                    pairs.setdefault(direction, (front_data, data))
        if pairs:
            break
    _found[key] = pairs
    return pairs


def live_form(
    issue_challenge: Callable[[], Mapping[str, Any]],
    pairs: Pairs,
    *,
    data: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """`files` and `data` of a request that answers a fresh challenge with the pair for its
    direction (challenges are asked for until one wants a direction the pairs have)."""
    assert pairs, "no live pair among these photos"
    for _ in range(40):
        issued = issue_challenge()
        pair = pairs.get(Direction(issued["direction"]))
        if pair is not None:
            front, turned = pair
            return {
                "files": [
                    ("selfie", ("front.jpg", front, "image/jpeg")),
                    ("selfie", ("turned.jpg", turned, "image/jpeg")),
                ],
                "data": {**(data or {}), "challenge_id": str(issued["challenge_id"])},
            }
    raise AssertionError("40 challenges and none asked for a direction these pairs have")


def any_direction(front: bytes, turned: bytes) -> Pairs:
    """The same two images for either direction (for a pair refused before the turn matters)."""
    return {direction: (front, turned) for direction in Direction}
