"""Fixtures shared by the pixora, sessions and ops tests: rows in Pixora's stand-in, a TCP
proxy that can take Pixora away and bring it back, and an app client."""

from __future__ import annotations

import socket
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, pool, text

from facepass.app import create_app
from facepass.config import Settings
from facepass.db import sqlalchemy_url
from facepass.lab.liveserver import free_port

PIXORA_HOST, PIXORA_PORT = "127.0.0.1", 5432
FAKE_PASSWORD = "s3cret-Pa55word-never-logged"


def closed_port() -> int:
    """A local port nothing listens on (bound then released)."""
    return free_port()


def url_with_password_at(port: int) -> str:
    """A Pixora-like URL carrying a password, pointing at a closed local port."""
    return f"postgresql://pixora_user:{FAKE_PASSWORD}@127.0.0.1:{port}/pixora"


@contextmanager
def app_client(settings: Settings) -> Iterator[TestClient]:
    """The real app on real services (migrations already ran; no background workers)."""
    app = create_app(settings, run_migrations=False, start_background=False)
    with TestClient(app) as client:
        yield client


class TcpProxy:
    """A local TCP proxy in front of Pixora's stand-in that tests stop and start again.

    Stopping it closes the listener and every proxied connection, which is how an outage looks
    from FacePass; the real PostgreSQL server is never touched.
    """

    def __init__(self, upstream: tuple[str, int] = (PIXORA_HOST, PIXORA_PORT)) -> None:
        self.upstream = upstream
        self.port = closed_port()
        self._listener: socket.socket | None = None
        self._connections: set[socket.socket] = set()
        self._lock = threading.Lock()

    def start(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen()
        listener.settimeout(0.05)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def stop(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.close()
        with self._lock:
            connections, self._connections = self._connections, set()
        for conn in connections:
            _close(conn)

    def _accept(self, listener: socket.socket) -> None:
        while self._listener is listener:
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            client.settimeout(None)
            try:
                server = socket.create_connection(self.upstream)
            except OSError:
                _close(client)
                continue
            with self._lock:
                self._connections.update((client, server))
            for source, target in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, target), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass
        finally:
            _close(source)
            _close(target)


def _close(sock: socket.socket) -> None:
    with suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()


@pytest.fixture
def pixora_proxy() -> Iterator[TcpProxy]:
    proxy = TcpProxy()
    proxy.start()
    yield proxy
    proxy.stop()


@pytest.fixture(scope="session")
def pixora_admin_engine(pixora_admin_url: str) -> Iterator[Engine]:
    """The stand-in's owner (autocommit): tests insert and change rows through it."""
    engine = create_engine(
        sqlalchemy_url(pixora_admin_url), poolclass=pool.NullPool, isolation_level="AUTOCOMMIT"
    )
    yield engine
    engine.dispose()


SessionFactory = Callable[..., uuid.UUID]


@pytest.fixture
def make_session(pixora_admin_engine: Engine) -> Iterator[SessionFactory]:
    """Insert a photo_sessions row (defaults overridable) and delete it after the test."""
    created: list[uuid.UUID] = []

    def make(**overrides: Any) -> uuid.UUID:
        now = datetime(2026, 3, 1, 12, 30, 15, 123456, tzinfo=UTC)
        row: dict[str, Any] = {
            "id": uuid.uuid4(),
            "name": "Выпускной 11Б",
            "description": None,
            "photographer_id": uuid.uuid4(),
            "studio_id": uuid.uuid4(),
            "status": "created",
            "scheduled_at": None,
            "completed_at": None,
            "settings": None,
            "created_at": now,
            "updated_at": now,
            "service_package_id": None,
            "facepass_enabled": True,
        } | overrides
        with pixora_admin_engine.connect() as conn:
            conn.execute(
                text(
                    "INSERT INTO photo_sessions (id, name, description, photographer_id,"
                    " studio_id, status, scheduled_at, completed_at, settings, created_at,"
                    " updated_at, service_package_id, facepass_enabled) VALUES (:id, :name,"
                    " :description, :photographer_id, :studio_id,"
                    " CAST(:status AS photo_session_status), :scheduled_at, :completed_at,"
                    " CAST(:settings AS jsonb), :created_at, :updated_at, :service_package_id,"
                    " :facepass_enabled)"
                ),
                row,
            )
        created.append(row["id"])
        return uuid.UUID(str(row["id"]))

    yield make
    with pixora_admin_engine.connect() as conn:
        conn.execute(text("DELETE FROM photo_sessions WHERE id = ANY(:ids)"), {"ids": created})


def set_facepass(engine: Engine, session_id: uuid.UUID, enabled: bool) -> None:
    """Turn FacePass on or off for a session, as Pixora's admin would."""
    with engine.connect() as conn:
        conn.execute(
            text("UPDATE photo_sessions SET facepass_enabled = :on WHERE id = :id"),
            {"on": enabled, "id": session_id},
        )


def add_status_value(engine: Engine, value: str) -> None:
    """Add a value to Pixora's status enum (additive: harmless to other tests)."""
    with engine.connect() as conn:
        conn.exec_driver_sql(f"ALTER TYPE photo_session_status ADD VALUE IF NOT EXISTS '{value}'")
