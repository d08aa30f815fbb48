"""The lab (benchmarks, evaluations) imports the product; the product never imports the lab.

The only exception: the `facepass bench …` / `facepass eval …` commands in facepass/cli/ load
the lab inside their functions, when they run, so starting the service or a worker never does.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "facepass"
LAB = "facepass.lab"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported(node: ast.Import | ast.ImportFrom, module: str, is_package: bool) -> list[str]:
    """Fully qualified names an import statement brings in (relative imports resolved)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    if node.level:
        anchor = module.split(".")
        anchor = anchor if is_package else anchor[:-1]
        anchor = anchor[: len(anchor) - (node.level - 1)]
        base = ".".join([*anchor, base] if base else anchor)
    return [base] + [f"{base}.{alias.name}" for alias in node.names]


def _lab_imports(source: str, module: str, is_package: bool) -> Iterator[tuple[int, bool]]:
    """(line, at module level) of each import of the lab in a module's source."""
    tree = ast.parse(source)
    in_function: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            in_function.update(id(inner) for inner in ast.walk(node) if inner is not node)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            names = _imported(node, module, is_package)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            names = [node.value]  # importlib.import_module("facepass.lab…") and the like
        else:
            continue
        if any(name == LAB or name.startswith(LAB + ".") for name in names):
            yield node.lineno, id(node) not in in_function


def _product_files() -> list[Path]:
    return [p for p in sorted(PACKAGE.rglob("*.py")) if not p.is_relative_to(PACKAGE / "lab")]


def test_no_product_module_imports_the_lab() -> None:
    offences = []
    for path in _product_files():
        lazy_allowed = path.is_relative_to(PACKAGE / "cli")
        source = path.read_text()
        for line, at_module_level in _lab_imports(
            source, _module_name(path), path.name == "__init__.py"
        ):
            if at_module_level or not lazy_allowed:
                offences.append(f"{path.relative_to(PACKAGE.parent)}:{line}")
    assert offences == [], f"product modules importing {LAB}: {offences}"


def test_the_checker_sees_every_form_of_import() -> None:
    forms = {
        "import facepass.lab.bench.index\n": [True],
        "from facepass.lab import photos\n": [True],
        "from facepass import lab\n": [True],
        "from ..lab.eval import lfw\n": [True],
        "importlib.import_module('facepass.lab.bench')\n": [True],
        "def run() -> None:\n    from facepass.lab.bench import engine\n": [False],
        "import facepass.labels\n": [],
        "from facepass.photos import service\n": [],
    }
    for source, expected in forms.items():
        found = [top for _, top in _lab_imports(source, "facepass.photos.service", False)]
        assert found == expected, source


def test_starting_the_service_the_worker_and_the_cli_loads_no_lab_module() -> None:
    code = (
        "import sys\n"
        "import facepass.app, facepass.cli, facepass.indexing.worker\n"
        f"print(sorted(m for m in sys.modules if m == {LAB!r} or m.startswith({LAB + '.'!r})))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert result.stdout.strip() == "[]"
