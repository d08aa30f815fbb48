"""The application's parts are explicit: built once in facepass.composition.context, read
through facepass.api.dependencies only.

Handlers name the parts they use (`OwnDbDep`, `SettingsDep`, ...); only facepass/api/dependencies.py
reads `app.state`, and only its `context` (and the settings served before the lifespan).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from fastapi.testclient import TestClient

from facepass.api.dependencies import get_settings_dep
from facepass.app import create_app
from facepass.composition.context import AppContext
from facepass.config import Settings

PACKAGE = Path(__file__).resolve().parents[1] / "facepass"
DEPENDENCIES = PACKAGE / "api" / "dependencies.py"
ALLOWED_IN_DEPENDENCIES = {"context", "settings"}
_STATE_FUNCTIONS = {"getattr", "setattr", "hasattr", "delattr"}


def _is_app_state(node: ast.expr) -> bool:
    """`app.state` or `<anything>.app.state`."""
    if not (isinstance(node, ast.Attribute) and node.attr == "state"):
        return False
    owner = node.value
    return (isinstance(owner, ast.Name) and owner.id == "app") or (
        isinstance(owner, ast.Attribute) and owner.attr == "app"
    )


def _state_uses(source: str) -> Iterator[tuple[int, str]]:
    """(line, attribute) of each `app.state.<attribute>` and getattr/setattr on `app.state`."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and _is_app_state(node.value):
            yield node.lineno, node.attr
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in _STATE_FUNCTIONS
            and node.args
            and _is_app_state(node.args[0])
        ):
            yield node.lineno, f"{node.func.id}(app.state, ...)"


def test_only_the_dependencies_module_reads_app_state() -> None:
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        uses = list(_state_uses(path.read_text()))
        if path == DEPENDENCIES:
            uses = [(line, name) for line, name in uses if name not in ALLOWED_IN_DEPENDENCIES]
        offenders += [f"{path.relative_to(PACKAGE.parent)}:{line} {name}" for line, name in uses]
    assert offenders == []


def test_the_check_sees_what_it_forbids() -> None:
    source = (
        "def f(request, app):\n"
        "    request.app.state.app_context.own_db\n"
        "    setattr(app.state, 'signer', 1)\n"
        "    request.state.request_id\n"  # per-request state is not the application's
    )
    assert sorted(name for _, name in _state_uses(source)) == [
        "app_context",
        "setattr(app.state, ...)",
    ]


def test_the_context_owns_its_background_threads_and_closes_newest_first(
    settings: Settings,
) -> None:
    context = AppContext.build(settings)
    closed: list[str] = []
    context.closers.append(lambda: closed.append("first"))
    context.closers.append(lambda: closed.append("second"))
    context.start_background()
    background = context.background
    assert background is not None
    assert background.reconciler._thread.is_alive()
    context.close()
    assert context.background is None
    assert not background.reconciler._thread.is_alive()
    assert closed == ["second", "first"]
    assert context.closers == []


def test_a_test_overrides_exactly_one_part(settings: Settings) -> None:
    app = create_app(settings, run_migrations=False, start_background=False)
    hidden = settings.model_copy(update={"metrics_token": "override-token"})
    app.dependency_overrides[get_settings_dep] = lambda: hidden
    with TestClient(app) as client:
        assert client.get("/metrics").status_code == 401  # the overriding settings ask a token
        assert (
            client.get("/metrics", headers={"Authorization": "Bearer override-token"}).status_code
            == 200
        )
