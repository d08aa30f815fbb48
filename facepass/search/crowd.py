"""Searches under a crowd: a bounded queue in front of the engine, and micro-batched embedding.

When the QR poster goes up, dozens of guests search within a minute. Each API process has
`slots` engine slots (its share of the machine's cores, the engine gate); searches beyond
them wait in line, in arrival order. Two things keep that line short and honest:

- `SearchLine`: at most `max_waiting` searches wait per process. One more is answered at once
  with 429 SERVER_BUSY, its place in line (`X-FacePass-Queue-Position`) and a `Retry-After`
  from the recent time per search, instead of a request that hangs for many seconds; the
  guest page says "many guests are searching, you are next" and retries by itself.
- `EmbedBatcher`: the faces of concurrent searches are embedded in one call of the embedder
  (up to `max_faces`, after at most `max_wait_s` for companions, behind the same gate):
  one network run over a few faces costs less than as many runs over one. With nobody else
  searching a face waits `max_wait_s` (2 ms) at most. It goes through the engine's embedder
  interface (`FaceEngine.embed_faces`), so it works for any embedder.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator, Coroutine, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from anyio import CapacityLimiter, to_thread

from facepass.engine import FaceEngine
from facepass.engine.embedders.base import FloatArray, UInt8Array
from facepass.engine.selfie import SelfieProfile
from facepass.errors import RateLimited

QUEUE_POSITION_HEADER = "X-FacePass-Queue-Position"
# What a search is assumed to hold the engine for before any has finished (seconds).
_FIRST_GUESS_S = 0.2
_SMOOTHING = 0.2  # weight of the latest search in the running mean of their durations
_MAX_RETRY_AFTER_S = 30


class ServerBusy(RateLimited):
    """429: more guests are searching than this process can take in line."""

    code = "SERVER_BUSY"


@dataclass
class SearchLine:
    """The searches of one API process that hold or wait for the engine, in arrival order."""

    slots: int
    max_waiting: int
    in_line: int = 0
    mean_search_s: float = _FIRST_GUESS_S

    def position(self) -> int:
        """Place in line of the next search to arrive (0: an engine slot is free for it)."""
        return max(0, self.in_line - self.slots + 1)

    def retry_after_s(self, position: int) -> int:
        """When a slot is likely free for the search at `position`: those ahead drain first."""
        wait = position * self.mean_search_s / max(1, self.slots)
        return max(1, min(_MAX_RETRY_AFTER_S, math.ceil(wait)))

    @asynccontextmanager
    async def admitted(self) -> AsyncIterator[int]:
        """Hold a place in line for the block (yields it); ServerBusy when the line is full."""
        position = self.position()
        if position > self.max_waiting:
            raise ServerBusy(
                f"Many guests are searching right now: you are number {position} in line. "
                f"Try again in {self.retry_after_s(position)} seconds.",
                headers={
                    "Retry-After": str(self.retry_after_s(position)),
                    QUEUE_POSITION_HEADER: str(position),
                },
            )
        self.in_line += 1
        try:
            yield position
        finally:
            self.in_line -= 1

    def served(self, engine_s: float) -> None:
        """A search held the engine this long (its stages' wall time): the running mean."""
        self.mean_search_s += _SMOOTHING * (engine_s - self.mean_search_s)


@dataclass
class _Waiting:
    crops: Sequence[UInt8Array]
    future: asyncio.Future[tuple[FloatArray, float]]  # embeddings, this request's CPU ms


@dataclass
class EmbedBatcher:
    """Embeds the faces of concurrent searches together (see the module's docstring)."""

    gate: CapacityLimiter
    max_faces: int = 8
    max_wait_s: float = 0.002
    batches: int = 0  # calls of the embedder so far, and the faces they embedded
    faces: int = 0
    _waiting: dict[FaceEngine, list[_Waiting]] = field(default_factory=dict)
    _flushing: set[FaceEngine] = field(default_factory=set)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    async def embed(
        self,
        engine: FaceEngine,
        crops: Sequence[UInt8Array],
        profile: SelfieProfile | None = None,
    ) -> FloatArray:
        """The crops' embeddings (one request's faces, as `FaceEngine.embed_faces`); the wait
        and this request's share of the batch's CPU go into `profile` as `embed`."""
        if not crops:
            return np.zeros((0, engine.embedding_dim), np.float32)
        started = time.perf_counter()
        future: asyncio.Future[tuple[FloatArray, float]] = (
            asyncio.get_running_loop().create_future()
        )
        self._waiting.setdefault(engine, []).append(_Waiting(crops, future))
        if engine not in self._flushing:
            self._flushing.add(engine)
            self._start(self._flush(engine, self.max_wait_s))
        vectors, cpu_ms = await future
        if profile is not None:
            wall = profile.wall_ms
            wall["embed"] = wall.get("embed", 0.0) + 1000 * (time.perf_counter() - started)
            profile.cpu_ms["embed"] = profile.cpu_ms.get("embed", 0.0) + cpu_ms
        return vectors

    def _start(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _flush(self, engine: FaceEngine, wait_s: float) -> None:
        """Wait briefly for companions, then for a slot; embed what has gathered by then."""
        taken: list[_Waiting] = []
        try:
            if wait_s > 0:
                await asyncio.sleep(wait_s)
            async with self.gate:
                taken = self._take(engine)
                if not taken:
                    return
                crops = [crop for waiting in taken for crop in waiting.crops]
                vectors, cpu_ms = await to_thread.run_sync(_embed_timed, engine, crops)
        except BaseException as exc:  # every waiting search learns of the failure
            if not taken:  # failed before taking any: fail those waiting, start afresh
                taken = self._waiting.pop(engine, [])
                self._flushing.discard(engine)
            for waiting in taken:
                if not waiting.future.done():
                    waiting.future.set_exception(exc)
            if not isinstance(exc, Exception):
                raise
            return
        self.batches += 1
        self.faces += len(crops)
        start = 0
        for waiting in taken:
            count = len(waiting.crops)
            if not waiting.future.done():  # a guest who left is not answered
                share = cpu_ms * count / len(crops)
                waiting.future.set_result((vectors[start : start + count], share))
            start += count

    def _take(self, engine: FaceEngine) -> list[_Waiting]:
        """Requests in arrival order up to `max_faces` faces (at least one request); a new
        flush is started for the rest, and new arrivals start their own."""
        queue = self._waiting.get(engine, [])
        taken: list[_Waiting] = []
        faces = 0
        while queue and (not taken or faces + len(queue[0].crops) <= self.max_faces):
            waiting = queue.pop(0)
            if waiting.future.cancelled():
                continue
            taken.append(waiting)
            faces += len(waiting.crops)
        if queue:
            self._start(self._flush(engine, 0.0))
        else:
            self._flushing.discard(engine)
            self._waiting.pop(engine, None)
        return taken


def _embed_timed(engine: FaceEngine, crops: list[UInt8Array]) -> tuple[FloatArray, float]:
    started = time.thread_time()
    vectors = engine.embed_faces(crops)
    return vectors, 1000 * (time.thread_time() - started)


@dataclass
class SearchCrowd:
    """One API process's line and batcher around its engine gate (facepass.composition.context)."""

    gate: CapacityLimiter
    line: SearchLine
    batcher: EmbedBatcher

    @classmethod
    def build(
        cls, slots: int, max_waiting: int, batch_max_faces: int, batch_wait_ms: float
    ) -> SearchCrowd:
        gate = CapacityLimiter(max(1, slots))
        return cls(
            gate=gate,
            line=SearchLine(slots=max(1, slots), max_waiting=max(0, max_waiting)),
            batcher=EmbedBatcher(
                gate, max_faces=max(1, batch_max_faces), max_wait_s=batch_wait_ms / 1000
            ),
        )


def engine_slots(cpus: int | None, api_processes: int) -> int:
    """Each API process's share of the cores: more engine calls at once only slow everyone."""
    return max(1, (cpus or 1) // max(1, api_processes))
