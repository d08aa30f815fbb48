"""Searches under a crowd: the micro-batcher embeds concurrent faces together and exactly as
alone, the line answers 429 SERVER_BUSY with Retry-After and a queue position when full (here
against a live server), and the selfie path keeps the faces a selfie needs."""

from __future__ import annotations

import asyncio
import os
import threading

import httpx
import numpy as np
import pytest
from anyio import CapacityLimiter

from facepass.demo_photos import astronaut_selfie
from facepass.engine import get_engine
from facepass.engine.selfie import SelfieProfile, analyze_selfie, prepare_selfie
from facepass.lab.liveserver import live_server
from facepass.search.crowd import (
    QUEUE_POSITION_HEADER,
    EmbedBatcher,
    SearchLine,
    ServerBusy,
    engine_slots,
)
from facepass.search.query import prepare_query
from tests.search.conftest import SearchWorld, jpeg


def _crops(count: int) -> list[np.ndarray]:
    engine = get_engine()
    sizes = [(640 + 32 * i, 480) for i in range(count)]  # a different crop each
    return [prepare_query(engine, jpeg(astronaut_selfie(size))).crop for size in sizes]


def test_concurrent_searches_share_one_embedder_call_and_get_their_own_vectors() -> None:
    engine = get_engine()
    crops = _crops(4)
    alone = [engine.embed_faces([crop])[0] for crop in crops]

    async def together(batcher: EmbedBatcher) -> list[np.ndarray]:
        answers = await asyncio.gather(*(batcher.embed(engine, [crop]) for crop in crops))
        return [answer[0] for answer in answers]

    batcher = EmbedBatcher(CapacityLimiter(1), max_faces=8, max_wait_s=0.05)
    vectors = asyncio.run(together(batcher))
    assert (batcher.batches, batcher.faces) == (1, 4)
    for mine, reference in zip(vectors, alone, strict=True):
        np.testing.assert_allclose(mine, reference, atol=1e-5)

    small = EmbedBatcher(CapacityLimiter(1), max_faces=2, max_wait_s=0.05)
    again = asyncio.run(together(small))
    assert (small.batches, small.faces) == (2, 4)  # never more than max_faces in one call
    for mine, reference in zip(again, alone, strict=True):
        np.testing.assert_allclose(mine, reference, atol=1e-5)


def test_the_batch_time_is_profiled_as_embed() -> None:
    engine = get_engine()
    profile = SelfieProfile()
    batcher = EmbedBatcher(CapacityLimiter(1))
    vectors = asyncio.run(batcher.embed(engine, _crops(1), profile))
    assert vectors.shape == (1, engine.embedding_dim)
    assert set(profile.wall_ms) == set(profile.cpu_ms) == {"embed"}
    assert profile.cpu_ms["embed"] > 0


def test_a_full_line_refuses_with_its_position_and_when_to_come_back() -> None:
    line = SearchLine(slots=2, max_waiting=1, mean_search_s=1.5)

    async def crowd() -> ServerBusy:
        async with line.admitted(), line.admitted(), line.admitted() as third:
            assert third == 1  # two slots taken: the third waits first in line
            with pytest.raises(ServerBusy) as refused:
                async with line.admitted():
                    pass
            return refused.value

    refused = asyncio.run(crowd())
    assert (refused.status_code, refused.code) == (429, "SERVER_BUSY")
    assert refused.headers[QUEUE_POSITION_HEADER] == "2"
    assert refused.headers["Retry-After"] == "2"  # 2 ahead x 1.5 s over 2 slots, rounded up
    assert "number 2 in line" in refused.detail
    assert line.in_line == 0  # every place given back, the refused one never taken


def test_api_processes_share_the_cores() -> None:
    assert engine_slots(16, 1) == 16
    assert engine_slots(16, 4) == 4
    assert engine_slots(2, 4) == 1
    assert engine_slots(None, 1) == 1


def test_the_selfie_path_finds_the_face_of_a_close_and_of_a_distant_selfie() -> None:
    engine = get_engine()
    for size in ((640, 480), (1024, 1024), (512, 512)):
        profile = SelfieProfile()
        analysis = analyze_selfie(
            engine, jpeg(astronaut_selfie(size)), max_faces=3, profile=profile
        )
        assert len(analysis.faces) >= 1
        assert analysis.faces[0].embedding is not None
        assert {"decode", "detect", "align", "quality", "embed"} <= set(profile.cpu_ms)
    # Without a confident face the close pass is called for; an empty frame has none.
    blank = prepare_selfie(
        engine, jpeg(astronaut_selfie((640, 480)).point(lambda _: 128)), max_faces=3
    )
    assert blank.analysis.faces == ()


def _burst(url: str, selfie: bytes, guests: int) -> list[httpx.Response]:
    start = threading.Barrier(guests)
    answers: list[httpx.Response] = []
    lock = threading.Lock()

    def guest() -> None:
        with httpx.Client(timeout=120) as client:
            start.wait()
            answer = client.post(url, files={"selfie": ("selfie.jpg", selfie, "image/jpeg")})
        with lock:
            answers.append(answer)

    threads = [threading.Thread(target=guest) for _ in range(guests)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def test_a_saturated_server_answers_429_with_retry_after_and_a_queue_position(
    world: SearchWorld,
) -> None:
    """One engine slot and no room to wait: of guests searching at once, those who find the
    line full are told so at once (never a 5xx, never a hang), and can come back."""
    settings = world.settings.model_copy(
        update={"api_processes": os.cpu_count() or 1, "search_queue_max": 0}
    )
    big_selfie = jpeg(astronaut_selfie((1024, 1024)))
    with live_server(settings, start_background=False) as base_url:
        url = f"{base_url}/api/v1/sessions/{world.main.session_id}/search"
        busy: list[httpx.Response] = []
        for _ in range(5):  # guests arrive together; a few bursts make sure some overlap
            answers = _burst(url, big_selfie, 8)
            assert {a.status_code for a in answers} <= {200, 429}, [a.text for a in answers]
            busy = [a for a in answers if a.status_code == 429]
            if busy:
                break
        assert busy, "no guest ever found the line full"
        for answer in busy:
            error = answer.json()["error"]
            assert error["code"] == "SERVER_BUSY"
            assert error["request_id"]
            assert int(answer.headers["Retry-After"]) >= 1
            position = int(answer.headers[QUEUE_POSITION_HEADER])
            assert position >= 1
            assert f"number {position} in line" in error["detail"]
        # Once the crowd has gone, the same guest is served.
        with httpx.Client(timeout=120) as client:
            again = client.post(url, files={"selfie": ("selfie.jpg", big_selfie, "image/jpeg")})
        assert again.status_code == 200
        assert {m["photo_id"] for m in again.json()["matches"]} == {
            str(p) for p in world.main.astronaut_photos
        }
