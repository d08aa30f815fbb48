"""Schema-driven fuzzing of every route of the OpenAPI document, against a live server.

Schemathesis (all its checks: no 5xx, every status and header documented, answers matching
their schemas, undeclared methods answered 405 with a true Allow) runs twice, as an admin and
as an anonymous guest, with a fixed seed and a time budget that keeps the suite quick.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from facepass.config import Settings
from facepass.lab.liveserver import live_server
from tests.conftest import ADMIN_TOKEN

BUDGET_S = 20  # per run; two runs
SEED = 20261128


def _schemathesis() -> str:
    found = Path(sys.executable).with_name("st")
    if found.exists():
        return str(found)
    which = shutil.which("st")
    if which is None:
        pytest.fail("schemathesis is not installed (pip install -e '.[test]')")
    return which


@pytest.fixture(scope="module")
def fuzz_settings(
    own_db_url: str, pixora_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Settings:
    from tests.conftest import REDIS_SERVER, RUN_ID

    unlimited = "1000000/minute"  # the limits have their own tests; here they would hide bugs
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=own_db_url,
        main_app_database_url=pixora_url,
        redis_url=REDIS_SERVER,
        redis_key_prefix=f"facepass-test:{RUN_ID}:fuzz-{uuid.uuid4().hex[:6]}:",
        admin_token=ADMIN_TOKEN,
        media_signing_key="test-signing-key-0123456789abcdef",
        data_dir=tmp_path_factory.mktemp("fuzz"),
        log_json=False,
        log_level="WARNING",
        search_rate_limit=unlimited,
        search_session_rate_limit=unlimited,
        search_device_rate_limit=unlimited,
        download_rate_limit=unlimited,
        session_details_rate_limit=unlimited,
    )


@pytest.mark.parametrize("caller", ["admin", "anonymous"])
def test_every_route_survives_schema_driven_fuzzing(
    fuzz_settings: Settings, caller: str, tmp_path: Path
) -> None:
    headers = ["-H", f"Authorization: Bearer {ADMIN_TOKEN}"] if caller == "admin" else []
    with live_server(fuzz_settings, start_background=False) as base_url:
        run = subprocess.run(
            [
                _schemathesis(),
                "run",
                f"{base_url}/openapi.json",
                *headers,
                "--checks=all",
                f"--seed={SEED}",
                f"--max-time={BUDGET_S}",
                "--max-examples=20",
                # One worker: CPython 3.11 can fail parsing in two threads at once
                # ("AST constructor recursion depth mismatch" from Hypothesis's reprs).
                "--workers=1",
                "--no-shrink",
                "--warnings=off",
                f"--report-dir={tmp_path}",
            ],
            capture_output=True,
            text=True,
            timeout=BUDGET_S * 4,
            cwd=tmp_path,
        )
    (tmp_path / "schemathesis.log").write_text(run.stdout + run.stderr)
    findings = [line for line in run.stdout.splitlines() if line.startswith(("___", "- ST"))]
    assert run.returncode == 0, "\n".join(findings) + run.stdout[-3000:] + run.stderr[-2000:]
