"""`facepass import` against a live server: uploads a folder, resumes, and waits for indexing."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from facepass.cli import main
from facepass.config import Settings
from facepass.lab.liveserver import live_server
from tests.conftest import ADMIN_TOKEN
from tests.photos.images import corrupt_jpeg, face_jpeg, faceless_jpeg


@pytest.fixture
def live_url(settings: Settings) -> Iterator[str]:
    """The real app served by uvicorn on a free port, indexing in-process."""
    with live_server(settings, run_migrations=False) as base_url:
        yield base_url


def run_import(*args: str) -> tuple[int, dict[str, Any]]:
    result = CliRunner().invoke(main, ["import", *args], env={"FACEPASS_ADMIN_TOKEN": ADMIN_TOKEN})
    lines = result.stdout.strip().splitlines()
    return result.exit_code, json.loads(lines[-1])


def test_import_uploads_a_folder_resumes_and_waits(
    live_url: str, tmp_path: Path, make_session
) -> None:
    session_id: uuid.UUID = make_session()
    folder = tmp_path / "event"
    (folder / "ceremony").mkdir(parents=True)
    (folder / "ceremony" / "a.jpg").write_bytes(face_jpeg())
    (folder / "b.JPG").write_bytes(faceless_jpeg())
    (folder / "notes.txt").write_text("not a photo")  # not an image extension: ignored
    (folder / ".hidden.jpg").write_bytes(faceless_jpeg())  # hidden: ignored

    code, summary = run_import(str(session_id), str(folder), "--url", live_url, "--parallel", "2")
    assert code == 0
    assert (summary["files"], summary["uploaded"], summary["already_there"]) == (2, 2, 0)

    # An interrupted import run again uploads only what is missing.
    (folder / "c.jpg").write_bytes(faceless_jpeg())
    (folder / "broken.jpeg").write_bytes(corrupt_jpeg())
    code, summary = run_import(str(session_id), str(folder), "--url", live_url, "--wait")
    assert code == 0
    assert (summary["files"], summary["uploaded"], summary["already_there"]) == (4, 2, 2)
    status = summary["index_status"]
    assert status["complete"]
    assert status["photos"]["indexed"] == 3
    assert status["failures"] == {"CORRUPT_IMAGE": 1}
    assert status["faces_indexed"] == 1


def test_import_stops_cleanly_on_a_bad_token_or_unknown_session(
    live_url: str, tmp_path: Path
) -> None:
    (tmp_path / "a.jpg").write_bytes(faceless_jpeg())
    result = CliRunner().invoke(
        main, ["import", str(uuid.uuid4()), str(tmp_path), "--url", live_url, "--token", "nope"]
    )
    assert result.exit_code == 1
    assert json.loads(result.stdout.strip().splitlines()[-1])["aborted"].startswith("UNAUTHORIZED")
    code, summary = run_import(str(uuid.uuid4()), str(tmp_path), "--url", live_url)
    assert code == 1
    assert summary["aborted"].startswith("SESSION_NOT_FOUND")


def test_import_retries_through_a_network_outage(
    live_url: str, tmp_path: Path, make_session
) -> None:
    from tests.pixora.fixtures import TcpProxy

    (tmp_path / "a.jpg").write_bytes(faceless_jpeg())
    port = int(live_url.rsplit(":", 1)[1])
    proxy = TcpProxy(upstream=("127.0.0.1", port))  # down: connections are refused
    threading.Timer(1.0, proxy.start).start()  # the network comes back after a second
    try:
        code, summary = run_import(
            str(make_session()), str(tmp_path), "--url", f"http://127.0.0.1:{proxy.port}"
        )
    finally:
        proxy.stop()
    assert code == 0
    assert summary["uploaded"] == 1


def test_import_gives_up_after_its_retries_and_says_why(tmp_path: Path) -> None:
    import httpx

    from facepass.photos.importer import ImportAborted, Importer
    from tests.pixora.fixtures import closed_port

    (tmp_path / "a.jpg").write_bytes(faceless_jpeg())
    with httpx.Client(base_url=f"http://127.0.0.1:{closed_port()}") as client:
        importer = Importer(client, uuid.uuid4(), retries=2, backoff_s=0.01)
        photos = importer.hash_all(tmp_path, [tmp_path / "a.jpg"], lambda _: None)
        with pytest.raises(ImportAborted, match=r"kept failing \(ConnectError\)"):
            importer.already_uploaded(photos)
