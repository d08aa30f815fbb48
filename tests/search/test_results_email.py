"""POST /results/email ("Send me my photos") against a real local SMTP server (aiosmtpd):
offered only with FACEPASS_SMTP_URL, one message per request, the address checked, limited and
never kept; a mail server that is down is a 503 in the one error shape."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default
from typing import Any

import pytest
from fastapi.testclient import TestClient

from facepass.app import create_app
from facepass.config import Settings
from tests.search.conftest import SearchWorld


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: object, session: object, envelope: Any) -> str:
        self.messages.append(BytesParser(policy=default).parsebytes(envelope.content))  # type: ignore[arg-type]
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def inbox() -> Iterator[tuple[_Inbox, int]]:
    from aiosmtpd.controller import Controller

    port = _free_port()
    box = _Inbox()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield box, port
    controller.stop()


def _client(settings: Settings) -> TestClient:
    return TestClient(create_app(settings, start_background=False))


def _token(client: TestClient, world: SearchWorld) -> str:
    answer = client.post(
        f"/api/v1/sessions/{world.main.session_id}/search",
        files=[("selfie", ("s.jpg", world.selfie, "image/jpeg"))],
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["results_token"])


def test_off_without_an_smtp_url(world: SearchWorld) -> None:
    with _client(world.settings.model_copy(update={"smtp_url": None})) as client:
        url = f"/api/v1/sessions/{world.main.session_id}/results/email"
        answer = client.post(url, json={"results_token": "x", "email": "a@b.org"})
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "EMAIL_OFF"


def test_one_message_with_the_link_then_the_address_waits(
    world: SearchWorld, inbox: tuple[_Inbox, int]
) -> None:
    box, port = inbox
    settings = world.settings.model_copy(
        update={
            "smtp_url": f"smtp://127.0.0.1:{port}",
            "email_address_rate_limit": "1/hour",
            "public_base_url": "https://photos.studio.test",
        }
    )
    with _client(settings) as client:
        token = _token(client, world)
        url = f"/api/v1/sessions/{world.main.session_id}/results/email"
        for bad, code in (
            ("not-an-address", "INVALID_EMAIL"),
            ("a@b.org\r\nBcc: c@d.org", "INVALID_EMAIL"),
            ("Someone <a@b.org>", "INVALID_EMAIL"),
        ):
            answer = client.post(url, json={"results_token": token, "email": bad})
            assert answer.status_code == 422, bad
            assert answer.json()["error"]["code"] == code
        other = f"/api/v1/sessions/{world.other.session_id}/results/email"
        answer = client.post(other, json={"results_token": token, "email": "a@b.org"})
        assert answer.status_code == 403  # a token of another event
        forged = client.post(url, json={"results_token": token[:-4] + "AAAA", "email": "a@b.org"})
        assert forged.status_code == 403
        assert box.messages == []

        sent = client.post(url, json={"results_token": token, "email": "a@b.org", "lang": "ru"})
        assert sent.status_code == 202, sent.text
        assert len(box.messages) == 1
        message = box.messages[0]
        assert message["To"] == "a@b.org"
        body = message.get_content()
        assert f"https://photos.studio.test/s/{world.main.session_id}#results={token}" in body
        assert "7 дней" in body
        again = client.post(url, json={"results_token": token, "email": "A@B.org"})
        assert again.status_code == 429
        assert int(again.headers["Retry-After"]) > 0
        assert len(box.messages) == 1


def test_a_mail_server_that_is_down_is_a_503(world: SearchWorld) -> None:
    settings = world.settings.model_copy(
        update={"smtp_url": f"smtp://127.0.0.1:{_free_port()}", "smtp_timeout_s": 2.0}
    )
    with _client(settings) as client:
        token = _token(client, world)
        url = f"/api/v1/sessions/{world.main.session_id}/results/email"
        answer = client.post(
            url, json={"results_token": token, "email": f"{uuid.uuid4().hex}@b.org"}
        )
    assert answer.status_code == 503
    assert answer.json()["error"]["code"] == "EMAIL_FAILED"
