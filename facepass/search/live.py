"""Live selfies in the selfie routes: the session's policy, the challenge, then the pair.

`embed_guest_selfies` is the step search and opt-out share between reading the form and
searching: a request that names a challenge is judged as a live pair (`consume_challenge`, cheap,
before the engine runs; then `live_queries` off the event loop; then `refuse_copies`: neither
frame may be a copy of a face the session holds); one that names none may search
only where the session's policy is `live_or_gallery` (an opt-out never). A pair that is not live
is refused with a 422 whose code the page turns into advice.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial

from anyio import to_thread
from starlette.concurrency import run_in_threadpool

from facepass.config import Settings
from facepass.db import OwnDatabase
from facepass.engine import FaceEngine
from facepass.engine.antispoof import get_antispoof
from facepass.errors import Forbidden, UnprocessableInput
from facepass.guest.challenge import Challenge, ChallengeStore
from facepass.guest.selfies import SearchForm, Selfie
from facepass.search import service
from facepass.search.copy_guard import copied_frames
from facepass.search.crowd import SearchCrowd
from facepass.search.live_pair import (
    LiveParams,
    LiveRefusal,
    LiveVerdict,
    analyze_frame,
    judge_pair,
)
from facepass.search.query import QueryFace
from facepass.search.selfie_policy import SelfiePolicy, policy_of

logger = logging.getLogger(__name__)

LIVE_FRAMES = 2

_ADVICE = {
    LiveRefusal.NOT_TURNED: "Turn your head a little further the way asked, then try again.",
    LiveRefusal.NOT_SAME_PERSON: "Both selfies must show you: take them again.",
    LiveRefusal.NOT_LIVE: "Take the selfies with the camera, of your own face, in good light.",
    LiveRefusal.COPIED: "Take the selfies with the camera now, not from a photo.",
}


class LiveSelfieRequired(Forbidden):
    """The policy asks for a live pair (camera and challenge) and none came (403)."""

    code = "LIVE_SELFIE_REQUIRED"


class LivePairRefused(UnprocessableInput):
    """The pair came but is not live (422; the code says which check failed)."""


@dataclass(frozen=True, slots=True)
class LiveQueries:
    queries: list[QueryFace]
    verdict: LiveVerdict
    elapsed_ms: float


def consume_challenge(
    store: ChallengeStore,
    session_id: uuid.UUID,
    challenge_id: str | None,
    *,
    policy: SelfiePolicy,
    always_live: bool = False,
) -> Challenge | None:
    """The request's challenge, used up; None when the request may search without one (a
    gallery photo under `live_or_gallery`). LiveSelfieRequired or ChallengeRefused otherwise."""
    if not challenge_id:
        if always_live or policy is SelfiePolicy.LIVE:
            raise LiveSelfieRequired(
                "This needs a live selfie: ask for a challenge, then take the two selfies with "
                "the camera."
            )
        return None
    return store.consume(challenge_id, session_id)


def live_queries(
    engine: FaceEngine,
    challenge: Challenge,
    selfies: Sequence[Selfie],
    params: LiveParams | None = None,
) -> LiveQueries:
    """Both frames' faces as search queries if the pair is live (CPU-heavy: off the loop);
    SelfieRejected for an unusable frame, LivePairRefused for a pair that is not live."""
    started = time.perf_counter()
    if len(selfies) != LIVE_FRAMES:
        raise LivePairRefused(
            "A live selfie is two photos: looking at the camera, then turned as asked.",
            code="LIVE_PAIR_REQUIRED",
        )
    antispoof = get_antispoof(engine.config)
    params = params or LiveParams.for_model(antispoof)
    first = analyze_frame(engine, antispoof, selfies[0].data, 0, allow_turned=False)
    second = analyze_frame(engine, antispoof, selfies[1].data, 1, allow_turned=True)
    verdict = judge_pair(first, second, challenge.direction, params, engine.match_threshold)
    if verdict.refusal is not None:
        raise LivePairRefused(_ADVICE[verdict.refusal], code=verdict.refusal.value)
    return LiveQueries([first.query, second.query], verdict, (time.perf_counter() - started) * 1000)


def refuse_copies(
    own_db: OwnDatabase,
    session_id: uuid.UUID,
    engine: FaceEngine,
    live: LiveQueries,
    params: LiveParams,
) -> None:
    """LivePairRefused (LIVE_COPIED_FACE) when a frame of a live pair is a copy of a face the
    session holds (search/copy_guard.py; blocking)."""
    distances = copied_frames(
        own_db,
        session_id,
        engine.model_id,
        engine.embedding_dim,
        [q.embedding for q in live.queries],
        params.copy_factor,
        engine.match_threshold,
    )
    if distances:
        logger.info(
            "live pair refused as a copy of the session's faces",
            extra={
                "session_id": str(session_id),
                "distances": [None if d is None else round(d, 4) for d in distances],
                "copy_distance": round(params.copy_factor * engine.match_threshold, 4),
            },
        )
        raise LivePairRefused(_ADVICE[LiveRefusal.COPIED], code=LiveRefusal.COPIED.value)


async def embed_guest_selfies(
    *,
    own_db: OwnDatabase,
    settings: Settings,
    challenges: ChallengeStore,
    engine: FaceEngine,
    crowd: SearchCrowd,
    session_id: uuid.UUID,
    form: SearchForm,
    always_live: bool = False,
) -> service.Embedded:
    """The queries of the request's selfies (see the module's docstring); `always_live` for
    the opt-out."""
    policy = await run_in_threadpool(policy_of, own_db, settings, session_id)
    challenge = await run_in_threadpool(
        partial(
            consume_challenge,
            challenges,
            session_id,
            form.challenge_id,
            policy=policy,
            always_live=always_live,
        )
    )
    if challenge is None:
        return await service.embed_selfies_in_crowd(engine, form.selfies, crowd)
    antispoof = await run_in_threadpool(get_antispoof, engine.config)
    params = LiveParams.for_model(
        antispoof, settings.live_spoof_threshold, settings.live_copy_factor
    )
    # A place in the process's line, then both frames behind the engine gate (the pair's
    # frames are judged whole, so they are not micro-batched with other searches).
    async with crowd.line.admitted():
        live = await to_thread.run_sync(
            live_queries, engine, challenge, form.selfies, params, limiter=crowd.gate
        )
        crowd.line.served(live.elapsed_ms / 1000)
    await run_in_threadpool(refuse_copies, own_db, session_id, engine, live, params)
    return service.Embedded(live.queries, [], live.elapsed_ms)
