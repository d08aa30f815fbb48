"""The README's package table names every package and top-level module of facepass/, and
nothing that is gone."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _in_code() -> set[str]:
    package = ROOT / "facepass"
    names = {f"facepass/{p.parent.name}/" for p in package.glob("*/__init__.py")}
    names |= {f"facepass/{p.name}" for p in package.glob("*.py") if p.name != "__init__.py"}
    return names


def _in_readme() -> set[str]:
    rows = re.findall(r"^\| `(facepass/[^`]+)` \|", (ROOT / "README.md").read_text(), re.M)
    return set(rows)


def test_the_package_table_matches_the_code() -> None:
    code, readme = _in_code(), _in_readme()
    assert sorted(code - readme) == [], "packages missing from the README's table"
    assert sorted(readme - code) == [], "README rows naming nothing in facepass/"
