"""The lab (benchmarks, evaluations) imports the product; the product never loads the lab.

The import contracts of `make lint` (pyproject's [tool.importlinter]) put the lab above every
product package but the CLI; the `facepass bench …` / `facepass eval …` commands import it
inside their functions, when they run, so starting the service, a worker or the CLI never does.
"""

from __future__ import annotations

import subprocess
import sys

LAB = "facepass.lab"


def test_starting_the_service_the_worker_and_the_cli_loads_no_lab_module() -> None:
    code = (
        "import sys\n"
        "import facepass.app, facepass.cli, facepass.composition.worker\n"
        f"print(sorted(m for m in sys.modules if m == {LAB!r} or m.startswith({LAB + '.'!r})))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert result.stdout.strip() == "[]"
