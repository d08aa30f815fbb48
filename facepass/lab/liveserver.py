"""A live FacePass for benchmarks and tests: the real app under uvicorn on a free local port.

In a thread of the caller's process (tests: quick, logs reach the caller), or in a spawned
child process (benchmarks: the client's work does not share the server's interpreter lock,
and the server logs as in production, to /dev/null).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
import uvicorn

from facepass.config import Settings


@dataclass(frozen=True)
class AppOptions:
    run_migrations: bool
    start_background: bool


class ServerDidNotStart(RuntimeError):
    """The live server died or did not answer /health/live in time."""


def free_socket() -> socket.socket:
    """A TCP socket bound to a free port of 127.0.0.1 (the server listens on it: no race)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


def free_port() -> int:
    """A local port nothing listens on now (bound, then released), for a server started
    elsewhere (a subprocess) or for a connection that must be refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_live(base_url: str, alive: Callable[[], bool], timeout_s: float = 120.0) -> None:
    """Return once `base_url` answers /health/live; raise if `alive()` turns false or at timeout."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and alive():
        try:
            if httpx.get(f"{base_url}/health/live", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise ServerDidNotStart(f"the live server at {base_url} did not start")


def _app_server(settings: Settings, options: AppOptions) -> uvicorn.Server:
    from facepass.app import create_app
    from facepass.http.proxies import proxy_options

    app = create_app(
        settings, run_migrations=options.run_migrations, start_background=options.start_background
    )
    config = uvicorn.Config(
        app, log_config=None, access_log=False, lifespan="on", **proxy_options(settings)
    )
    return uvicorn.Server(config)


def _serve_in_child(settings: Settings, sock: socket.socket, options: AppOptions) -> None:
    """Child process: the app logging as in production, to /dev/null (the timing is the point)."""
    from facepass.observability.logging import configure_logging

    configure_logging(settings.log_level, json_lines=True)
    for handler in logging.getLogger().handlers:
        if handler.get_name() == "facepass" and isinstance(handler, logging.StreamHandler):
            handler.setStream(open(os.devnull, "w"))  # noqa: SIM115 - lives as long as the process
    _app_server(settings, options).run(sockets=[sock])


@contextmanager
def live_server(
    settings: Settings,
    *,
    child_process: bool = False,
    run_migrations: bool = True,
    start_background: bool = True,
    timeout_s: float = 120.0,
) -> Iterator[str]:
    """The real app serving on 127.0.0.1 until the block ends; yields its base URL.

    `run_migrations` and `start_background` are `create_app`'s.
    """
    options = AppOptions(run_migrations, start_background)
    sock = free_socket()
    host, port = sock.getsockname()
    base_url = f"http://{host}:{port}"
    try:
        if child_process:
            child = multiprocessing.get_context("spawn").Process(
                target=_serve_in_child, args=(settings, sock, options), daemon=True
            )
            child.start()
            try:
                wait_until_live(base_url, child.is_alive, timeout_s)
                yield base_url
            finally:
                child.terminate()
                child.join(10)
        else:
            server = _app_server(settings, options)
            thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
            thread.start()
            try:
                wait_until_live(base_url, thread.is_alive, timeout_s)
                yield base_url
            finally:
                server.should_exit = True
                thread.join(timeout=30)
    finally:
        sock.close()
