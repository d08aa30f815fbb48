"""`facepass demo` across SIGTERM, kill -9 and restart (issue 12, items 7 and 9).

The embedded PostgreSQL must never outlive the demo: SIGTERM stops it as Ctrl-C does, and a
server orphaned by kill -9 is taken over by the next run, which then stops it on exit.
Stale upload temp files of the crashed run are swept at the next start.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
import pytest

from facepass.lab.liveserver import free_port
from tests.conftest import REPO_ROOT

# Starts the embedded PostgreSQL through the CLI: not for `make test-fast`.
pytestmark = pytest.mark.services

ENV_TOKEN = "env-token-never-printed-0123456789"


def _start_demo(data_dir: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO_ROOT),
        "FACEPASS_SYNC_INTERVAL_S": "0",
        "FACEPASS_LOG_JSON": "false",
        "FACEPASS_ADMIN_TOKEN": ENV_TOKEN,
    }
    command = [sys.executable, "-c", "from facepass.cli import main; main()", "demo"]
    process = subprocess.Popen(
        [*command, "--no-seed", "--port", str(port), "--data-dir", str(data_dir)],
        env=env,
        cwd=data_dir.parent,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health/live", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        assert process.poll() is None, log.read_text()
        time.sleep(0.2)
    process.kill()
    raise AssertionError(f"the demo did not start: {log.read_text()}")


def _postmaster_pid(data_dir: Path) -> int:
    return int((data_dir / "postgres" / "postmaster.pid").read_text().split()[0])


def _gone(pid: int, timeout_s: float = 20.0) -> bool:
    try:
        psutil.Process(pid).wait(timeout_s)
    except psutil.NoSuchProcess:
        return True
    except psutil.TimeoutExpired:
        return False
    return True


def test_the_embedded_database_never_outlives_the_demo(tmp_path: Path) -> None:
    data_dir, port = tmp_path / "data", free_port()
    started: list[subprocess.Popen[bytes]] = []
    try:
        started.append(_start_demo(data_dir, port, tmp_path / "first.log"))
        orphaned = _postmaster_pid(data_dir)
        stale = data_dir / "tmp" / "upload-left-by-a-crash"
        stale.parent.mkdir(exist_ok=True)
        stale.write_bytes(b"half a photo")
        os.utime(stale, (time.time() - 7200, time.time() - 7200))
        started[0].kill()  # kill -9: no clean-up at all
        started[0].wait(10)
        assert psutil.pid_exists(orphaned)  # what a crash leaves behind

        started.append(_start_demo(data_dir, port, tmp_path / "second.log"))
        assert _postmaster_pid(data_dir) == orphaned  # the stale server is reused, not doubled
        assert not stale.exists()
        started[1].send_signal(signal.SIGTERM)  # what systemd, docker stop, Kubernetes send
        assert started[1].wait(30) == 0
        assert _gone(orphaned), "the embedded PostgreSQL survived SIGTERM"
    finally:
        for process in started:
            if process.poll() is None:
                process.terminate()
                process.wait(30)

    output = (tmp_path / "first.log").read_text() + (tmp_path / "second.log").read_text()
    assert "(FACEPASS_ADMIN_TOKEN)" in output
    assert ENV_TOKEN not in output
