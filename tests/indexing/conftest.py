"""Fixtures of the indexing tests: Redis-backed settings and real `facepass worker` processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from redis import Redis
from sqlalchemy import Engine, create_engine, text

from facepass.composition.context import AppContext
from facepass.config import Settings
from facepass.db import sqlalchemy_url
from tests.pixora.fixtures import make_session, pixora_admin_engine

__all__ = ["make_session", "pixora_admin_engine"]

FACEPASS = str(Path(sys.executable).with_name("facepass"))


@pytest.fixture
def redis_settings(settings: Settings) -> Iterator[Settings]:
    """Settings of a deployment with a Redis queue private to this test (keys removed after)."""
    yield settings.model_copy(
        update={
            "queue_backend": "redis",
            "index_queue_name": f"index-{uuid.uuid4().hex[:8]}",
            "index_batch_size": 3,
            "worker_heartbeat_s": 0.5,
            "reconcile_interval_s": 1.0,
        }
    )
    with Redis.from_url(settings.redis_url or "") as client:
        for key in client.scan_iter(f"{settings.redis_key_prefix}*"):
            client.delete(key)


def worker_env(settings: Settings, **overrides: str) -> dict[str, str]:
    """The environment a `facepass worker` process needs to join this test's deployment."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FACEPASS_")}
    env.update(
        {
            "FACEPASS_DATABASE_URL": settings.database_url or "",
            "MAIN_APP_DATABASE_URL": settings.main_app_database_url or "",
            "FACEPASS_REDIS_URL": settings.redis_url or "",
            "FACEPASS_REDIS_KEY_PREFIX": settings.redis_key_prefix,
            "FACEPASS_QUEUE_BACKEND": settings.queue_backend,
            "FACEPASS_INDEX_QUEUE_NAME": settings.index_queue_name,
            "FACEPASS_INDEX_BATCH_SIZE": str(settings.index_batch_size),
            "FACEPASS_WORKER_HEARTBEAT_S": str(settings.worker_heartbeat_s),
            "FACEPASS_RECONCILE_INTERVAL_S": str(settings.reconcile_interval_s),
            "FACEPASS_DATA_DIR": str(settings.data_dir),
            "FACEPASS_LOG_JSON": "false",
        }
    )
    env.update(overrides)
    return env


@pytest.fixture
def start_worker(tmp_path: Path) -> Iterator[Callable[..., subprocess.Popen[bytes]]]:
    """Start `facepass worker` processes (each in its own process group); kill leftovers."""
    started: list[subprocess.Popen[bytes]] = []

    def start(env: dict[str, str], *args: str) -> subprocess.Popen[bytes]:
        log = (tmp_path / f"worker-{len(started)}.log").open("wb")
        process = subprocess.Popen(
            [FACEPASS, "worker", *args],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.fixture
def own_db(settings: Settings) -> Iterator[Engine]:
    engine = create_engine(sqlalchemy_url(settings.database_url or ""))
    yield engine
    engine.dispose()


def photo_states(own_db: Engine, session_id: uuid.UUID) -> dict[str, tuple[str, str | None]]:
    """photo id -> (status, worker id) for a session."""
    with own_db.connect() as conn:
        rows = conn.execute(
            text("SELECT id, status, worker_id FROM photos WHERE session_id = :s"),
            {"s": session_id},
        ).all()
    return {str(r.id): (r.status, r.worker_id) for r in rows}


def wait_for(condition: Callable[[], bool], timeout_s: float, interval_s: float = 0.05) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(interval_s)


def add_photo(
    context: AppContext, session_id: uuid.UUID, data: bytes, name: str = "p.jpg"
) -> uuid.UUID:
    """Store an original and its 'pending' row, as an upload does (without queueing it)."""
    from facepass.lab.photos import add_photo as store_photo

    return store_photo(context.own_db, context.storage, session_id, data, name)
