"""The same actor runs on RabbitMQ (the deployment option beside Redis).

Needs a RabbitMQ broker at FACEPASS_TEST_RABBITMQ (default: guest@127.0.0.1:5672, as a fresh
`apt-get install rabbitmq-server` gives); skipped, saying so, where none answers.
"""

from __future__ import annotations

import os
import uuid

import dramatiq
import pika  # type: ignore[import-untyped]
import pytest

from facepass.composition.context import AppContext
from facepass.config import Settings
from tests.indexing.conftest import add_photo, photo_states, wait_for
from tests.photos.images import face_jpeg

RABBITMQ_URL = os.environ.get("FACEPASS_TEST_RABBITMQ", "amqp://guest:guest@127.0.0.1:5672/%2F")


@pytest.fixture
def rabbitmq() -> str:
    """The broker's URL, or a skip that names what is missing."""
    try:
        pika.BlockingConnection(pika.URLParameters(RABBITMQ_URL)).close()
    except pika.exceptions.AMQPError as exc:
        pytest.skip(f"needs a RabbitMQ broker at {RABBITMQ_URL} ({type(exc).__name__})")
    return RABBITMQ_URL


@pytest.mark.services
def test_photos_are_indexed_through_rabbitmq(rabbitmq: str, settings: Settings, own_db) -> None:
    queue_name = f"facepass-test-{uuid.uuid4().hex[:8]}"
    rabbit = settings.model_copy(
        update={
            "queue_backend": "rabbitmq",
            "rabbitmq_url": rabbitmq,
            "index_queue_name": queue_name,
        }
    )
    app_context = AppContext.build(rabbit)
    worker = None
    try:
        session_id = uuid.uuid4()
        photo_id = add_photo(app_context, session_id, face_jpeg())
        queue = app_context.index_queue
        queue.enqueue([photo_id])
        worker = dramatiq.Worker(queue.broker, worker_threads=1, worker_timeout=250)
        worker.start()
        wait_for(
            lambda: photo_states(own_db, session_id)[str(photo_id)][0] == "indexed", timeout_s=60
        )
        assert queue.depth() == 0
    finally:
        if worker is not None:
            worker.stop()
        app_context.close()
        connection = pika.BlockingConnection(pika.URLParameters(rabbitmq))
        channel = connection.channel()
        for name in (queue_name, f"{queue_name}.DQ", f"{queue_name}.XQ"):
            channel.queue_delete(name)
        connection.close()
