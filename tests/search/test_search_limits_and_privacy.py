"""Rate limits over HTTP, and the promise that a selfie never touches the disk."""

from __future__ import annotations

import os
import sys
import tempfile
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from facepass.app import create_app
from facepass.demo_photos import astronaut
from tests.search.conftest import SearchWorld, jpeg


def _post(client: TestClient, session_id: uuid.UUID, selfie: bytes):  # type: ignore[no-untyped-def]
    return client.post(
        f"/api/v1/sessions/{session_id}/search", files={"selfie": ("s.jpg", selfie, "image/jpeg")}
    )


@pytest.mark.parametrize("backend", ["redis", "in-process"])
def test_the_per_address_limit_answers_429_with_retry_after(
    world: SearchWorld, backend: str
) -> None:
    settings = world.settings.model_copy(
        update={
            "search_rate_limit": "2/minute",
            "redis_key_prefix": f"{world.settings.redis_key_prefix}{uuid.uuid4().hex[:6]}:",
            "redis_url": world.settings.redis_url if backend == "redis" else None,
        }
    )
    with TestClient(create_app(settings, start_background=False)) as client:
        answers = [_post(client, world.main.session_id, world.selfie) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    refused = answers[-1]
    assert refused.json()["error"]["code"] == "RATE_LIMITED"
    assert 1 <= int(refused.headers["retry-after"]) <= 60


def test_the_per_session_limit_holds_across_addresses(world: SearchWorld) -> None:
    settings = world.settings.model_copy(
        update={
            "search_session_rate_limit": "1/minute",
            "redis_key_prefix": f"{world.settings.redis_key_prefix}{uuid.uuid4().hex[:6]}:",
        }
    )
    app = create_app(settings, start_background=False)
    with TestClient(app, client=("10.0.0.1", 5000)) as first:
        assert _post(first, world.main.session_id, world.selfie).status_code == 200
    with TestClient(app, client=("10.0.0.2", 5000)) as second:
        refused = _post(second, world.main.session_id, world.selfie)
        assert refused.status_code == 429
        # Another session is not affected.
        assert _post(second, world.other.session_id, world.selfie).status_code == 200


def test_the_device_limit_lets_every_guest_behind_one_address_search(world: SearchWorld) -> None:
    """A venue's Wi-Fi is one address: each browser's signed device token has its own limit."""
    settings = world.settings.model_copy(
        update={
            "search_device_rate_limit": "1/minute",
            "search_rate_limit": "100/minute",
            "redis_key_prefix": f"{world.settings.redis_key_prefix}{uuid.uuid4().hex[:6]}:",
        }
    )
    app = create_app(settings, start_background=False)
    with TestClient(app) as client:
        # Each page load hands out a new signed device token (the page keeps its first).
        first, second = (
            client.get(f"/s/{world.main.session_id}").text.split('"device_token":"')[1]
            for _ in range(2)
        )
        first, second = first.split('"')[0], second.split('"')[0]
        assert first != second

        def post(device: str | None):  # type: ignore[no-untyped-def]
            headers = {"X-FacePass-Device": device} if device else {}
            return client.post(
                f"/api/v1/sessions/{world.main.session_id}/search",
                files={"selfie": ("s.jpg", world.selfie, "image/jpeg")},
                headers=headers,
            )

        assert post(first).status_code == 200
        assert post(second).status_code == 200  # the same address, another guest
        refused = post(first)
        assert refused.status_code == 429
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        # Without a (valid) token a client is counted by its address, once.
        assert post(None).status_code == 200
        assert post("forged.123.abc").status_code == 429


def test_zip_downloads_are_limited_per_browser_behind_one_address(world: SearchWorld) -> None:
    settings = world.settings.model_copy(
        update={
            "download_rate_limit": "1/minute",
            "redis_key_prefix": f"{world.settings.redis_key_prefix}{uuid.uuid4().hex[:6]}:",
        }
    )
    app = create_app(settings, start_background=False)
    with TestClient(app) as client:
        page = client.get(f"/s/{world.main.session_id}").text
        tokens = [page.split('"device_token":"')[1].split('"')[0]]
        page = client.get(f"/s/{world.main.session_id}").text
        tokens.append(page.split('"device_token":"')[1].split('"')[0])

        def download(device: str) -> int:
            return client.post(
                f"/api/v1/sessions/{world.main.session_id}/download",
                json={"tokens": ["a.1.x"]},
                headers={"X-FacePass-Device": device},
            ).status_code

        assert [download(tokens[0]), download(tokens[1]), download(tokens[0])] == [403, 403, 429]


@contextmanager
def files_opened_for_writing() -> Iterator[list[str]]:
    """Every file this process opens for writing while inside (temp files included)."""
    opened: list[str] = []
    watching = threading.Event()
    watching.set()
    write_flags = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND

    def hook(event: str, args: tuple[object, ...]) -> None:
        if not watching.is_set() or event not in ("open", "tempfile.mkstemp"):
            return
        if event == "tempfile.mkstemp":
            opened.append(str(args[0]))
            return
        path, mode, flags = args
        if (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
            isinstance(flags, int) and flags & write_flags
        ):
            opened.append(str(path))

    _install(hook, watching)
    try:
        yield opened
    finally:
        watching.clear()


_hooks: list[object] = []


def _install(hook: object, watching: threading.Event) -> None:
    # Audit hooks cannot be removed; each stays idle once its `watching` is cleared.
    sys.addaudithook(hook)  # type: ignore[arg-type]
    _hooks.append(hook)


def test_a_large_selfie_is_never_written_to_disk(world: SearchWorld, tmp_path: Path) -> None:
    large = jpeg(astronaut().resize((2400, 2400)), quality=100)
    assert len(large) > 1024 * 1024  # over the size Starlette would spool to a temp file
    with TestClient(create_app(world.settings, start_background=False)) as client:
        _post(client, world.main.session_id, world.selfie)  # warm up: model files, pools
        with files_opened_for_writing() as opened:
            response = _post(client, world.main.session_id, large)
    assert response.status_code == 200, response.text
    assert response.json()["total"] == len(world.main.astronaut_photos)
    assert opened == []
    assert not (Path(world.settings.data_dir) / "selfies").exists()

    # The watch does see a spooled temp file: the assertion above could fail.
    with (
        files_opened_for_writing() as control,
        tempfile.SpooledTemporaryFile(max_size=10, dir=tmp_path) as spooled,
    ):
        spooled.write(b"x" * 100)
    assert control


def test_retention_keeps_selfies_only_when_the_operator_asks(
    world: SearchWorld, tmp_path: Path
) -> None:
    settings = world.settings.model_copy(update={"retain_selfies": True, "data_dir": tmp_path})
    with TestClient(create_app(settings, start_background=False)) as client:
        assert _post(client, world.main.session_id, world.selfie).status_code == 200
    kept = list((tmp_path / "selfies" / str(world.main.session_id)).iterdir())
    assert len(kept) == 1
    assert kept[0].read_bytes() == world.selfie
