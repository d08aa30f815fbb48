"""Migrations carry their own table definitions: a revision never imports application code,
whose later changes would silently rewrite history."""

from __future__ import annotations

import ast
from pathlib import Path

VERSIONS = Path(__file__).resolve().parents[1] / "facepass" / "migrations" / "versions"


def _app_imports(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            names = [node.module or ""] if node.level == 0 else ["(relative)"]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        found += [n for n in names if n == "facepass" or n.startswith(("facepass.", "(relative"))]
    return found


def test_no_revision_imports_the_application() -> None:
    revisions = sorted(VERSIONS.glob("*.py"))
    assert revisions, "no migration found"
    offences = {p.name: found for p in revisions if (found := _app_imports(p))}
    assert offences == {}
