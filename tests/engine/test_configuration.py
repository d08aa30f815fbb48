"""The engine takes all its configuration from EngineConfig: no environment variables.

That it imports no app settings (nor anything of FacePass outside the engine) is the `engine`
import contract of `make lint` (pyproject's [tool.importlinter]).
"""

from __future__ import annotations

import ast
from pathlib import Path

ENGINE = Path(__file__).resolve().parents[2] / "facepass" / "engine"


def _reads_outside_config(source: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and node.attr in {"environ", "getenv", "environb"}:
            found.append(f"os.{node.attr} (line {node.lineno})")
        elif isinstance(node, ast.ImportFrom) and node.module == "os":
            names = {alias.name for alias in node.names} & {"environ", "getenv", "environb"}
            found += [f"from os import {name} (line {node.lineno})" for name in sorted(names)]
    return found


def test_no_engine_module_reads_the_environment() -> None:
    offences = {
        str(path.relative_to(ENGINE)): found
        for path in sorted(ENGINE.rglob("*.py"))
        if (found := _reads_outside_config(path.read_text()))
    }
    assert offences == {}


def test_the_check_sees_each_way_in() -> None:
    assert _reads_outside_config("import os\nos.environ.get('X')\n") == ["os.environ (line 2)"]
    assert _reads_outside_config("import os\nos.getenv('X')\n") == ["os.getenv (line 2)"]
    assert _reads_outside_config("from os import environ\n") == ["from os import environ (line 1)"]
    assert _reads_outside_config("from facepass.engine.config import EngineConfig\n") == []


def test_indexing_small_face_policy_comes_from_the_settings() -> None:
    from facepass.config import Settings
    from facepass.engine import EngineConfig
    from facepass.engine_config import engine_config

    assert (
        engine_config(Settings()).photo_min_face_fraction == EngineConfig().photo_min_face_fraction
    )
    chosen = engine_config(Settings(engine_photo_min_face_fraction=0.02))
    assert chosen.photo_min_face_fraction == 0.02
    assert chosen.min_face_fraction == EngineConfig().min_face_fraction  # selfies unchanged
