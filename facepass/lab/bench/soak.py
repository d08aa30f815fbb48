"""`facepass bench soak`: hostile selfie requests against a live server; its memory and errors.

The embedded default starts in a temporary directory; the real app serves in a child process
(rate limits lifted: the point is what reaches the parser and the decoder). After real
searches from every client (the engine loaded, its threads warm, the baseline taken), they
send the hostile bodies of issue 12 in turn: malformed multipart of every kind, an
unterminated part, a NUL in a file name, corrupt and non-image bytes, an 88 MP one-colour PNG
(refused from its header) and a 23 MP one (under the cap: decoded, no face). The server's RSS
is sampled throughout; the final figure is taken after a short rest. Prints JSON.
"""

from __future__ import annotations

import io
import itertools
import json
import os
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
import httpx
import psutil
from PIL import Image

from facepass.config import Settings, get_settings
from facepass.lab.liveserver import live_server
from facepass.lab.load import generate_load

MB = 1024 * 1024
WARMUP_ROUNDS = 3  # real searches per client before the baseline
SELFIE = b'Content-Disposition: form-data; name="selfie"; filename="s.jpg"'


@dataclass(frozen=True)
class Hostile:
    """One kind of hostile request: a name, a body and its multipart boundary."""

    name: str
    body: bytes
    boundary: str = "zz"


def _png(size: tuple[int, int], mode: str) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size).save(out, "PNG")
    return out.getvalue()


def _form(data: bytes, disposition: bytes = SELFIE, boundary: bytes = b"zz") -> bytes:
    return b"--%s\r\n%s\r\n\r\n%s\r\n--%s--\r\n" % (boundary, disposition, data, boundary)


def hostile_requests() -> list[Hostile]:
    """The malformed and oversized selfies of issue 12 (items 2 and 5), one of each kind."""
    jpeg_start = b"\xff\xd8\xff\xe0" + os.urandom(4096)
    return [
        Hostile("boundary mismatch", _form(b"x", boundary=b"yy")),
        Hostile("header without colon", _form(b"x", b"Content-Disposition form-data")),
        Hostile("60 KB part header", _form(b"x", SELFIE + b"; x=" + b"a" * 60_000)),
        Hostile("5,000-character boundary", _form(b"x", boundary=b"b" * 5000), "b" * 5000),
        Hostile("LF-only line ends", b"--zz\n" + SELFIE + b"\n\nx\n--zz--\n"),
        Hostile("junk after the boundary", b"--zz junk\r\n" + SELFIE + b"\r\n\r\nx\r\n--zz--\r\n"),
        Hostile("part with no headers", b"--zz\r\n\r\nx\r\n--zz--\r\n"),
        Hostile("unterminated part", b"--zz\r\n" + SELFIE + b"\r\n\r\n" + jpeg_start),
        Hostile("NUL in the filename", _form(b"x", SELFIE.replace(b's.jpg"', b's\x00.jpg"'))),
        Hostile("corrupt JPEG", _form(jpeg_start)),
        Hostile("not an image", _form(os.urandom(8192))),
        Hostile("88 MP one-colour PNG", _form(_png((9400, 9400), "L"))),
        Hostile("23 MP one-colour PNG (decoded)", _form(_png((4800, 4800), "RGB"))),
    ]


@dataclass
class RssSampler:
    """The RSS of one process, sampled every `interval_s` in a thread until stopped."""

    process: psutil.Process
    interval_s: float = 0.05
    samples: list[int] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    def rss(self) -> int:
        return int(self.process.memory_info().rss)

    def __enter__(self) -> RssSampler:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            self.samples.append(self.rss())
            time.sleep(self.interval_s)

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


def server_process(port: int) -> psutil.Process:
    """The child process of this one that listens on `port`."""
    for child in psutil.Process().children(recursive=True):
        try:
            if any(c.laddr.port == port for c in child.net_connections(kind="tcp")):
                return child
        except psutil.Error:
            continue
    raise RuntimeError(f"no child process listens on port {port}")


def _sender(url: str, kinds: list[Hostile], statuses: Counter[str]) -> Callable[..., Any]:
    turn = itertools.count()
    lock = threading.Lock()

    def send(client: httpx.Client) -> httpx.Response:
        with lock:
            kind = kinds[next(turn) % len(kinds)]
        headers = {"Content-Type": f"multipart/form-data; boundary={kind.boundary}"}
        try:
            response = client.post(url, content=kind.body, headers=headers)
        except httpx.HTTPError:
            with lock:
                statuses[f"{kind.name}: connection error"] += 1
            raise
        with lock:
            statuses[f"{kind.name}: {response.status_code}"] += 1
        return response

    return send


def _is_server_error(key: str) -> bool:
    answer = key.rsplit(": ", 1)[1]
    return answer.startswith("5") or answer == "connection error"


def soak(settings: Settings, requests: int, concurrency: int, rest_s: float) -> dict[str, Any]:
    """Run the soak against a live server on `settings`; the figures as a dict."""
    from facepass.demo_photos import astronaut_selfie
    from facepass.pixora.demo import DEMO_SESSION_ID

    kinds = hostile_requests()
    selfie = io.BytesIO()
    astronaut_selfie().convert("RGB").save(selfie, "JPEG", quality=90)
    with live_server(settings, child_process=True, start_background=False) as base_url:
        server = server_process(int(base_url.rsplit(":", 1)[1]))
        url = f"{base_url}/api/v1/sessions/{DEMO_SESSION_ID}/search"
        before_warmup = server.memory_info().rss
        # Real searches from as many clients first: the engine, its worker threads and their
        # buffers exist in any server that has served guests; the soak measures what the
        # hostile requests add to that.
        warm = generate_load(
            lambda client: client.post(
                url, files={"selfie": ("s.jpg", selfie.getvalue(), "image/jpeg")}
            ),
            lambda response: response.status_code == 200,
            WARMUP_ROUNDS * concurrency,
            concurrency,
            timeout_s=120.0,
        )
        baseline = server.memory_info().rss
        statuses: Counter[str] = Counter()
        with RssSampler(server) as sampler:
            run = generate_load(
                _sender(url, kinds, statuses),
                lambda response: response.status_code < 500,
                requests,
                concurrency,
                timeout_s=120.0,
            )
            time.sleep(rest_s)
        final = server.memory_info().rss
    server_errors = sum(n for key, n in statuses.items() if _is_server_error(key))
    return {
        "requests": requests,
        "clients": concurrency,
        "kinds": len(kinds),
        "warmup_searches": WARMUP_ROUNDS * concurrency,
        "warmup_failed": warm.errors,
        "rss_before_warmup_mb": round(before_warmup / MB, 1),
        "rss_start_mb": round(baseline / MB, 1),
        "rss_peak_mb": round(max(sampler.samples, default=baseline) / MB, 1),
        "rss_final_mb": round(final / MB, 1),
        "rss_final_minus_start_mb": round((final - baseline) / MB, 1),
        "rest_before_final_s": rest_s,
        "server_errors": server_errors,
        "failed_checks": run.errors,
        "wall_s": round(run.wall_s, 1),
        "latency_ms": {k: v for k, v in run.summary(1).items() if k.startswith("p")},
        "answers": dict(sorted(statuses.items())),
    }


def command(requests: int, concurrency: int, rest_s: float) -> None:
    """Hostile selfies against the embedded default: server RSS (start, peak, final), errors."""
    from facepass.embedded import embedded_settings

    if requests < 1 or concurrency < 1:
        raise click.BadParameter("--requests and --concurrency must be at least 1")
    unlimited = "1000000/minute"
    base = get_settings().model_copy(
        update={
            "database_url": None,
            "main_app_database_url": None,
            "search_rate_limit": unlimited,
            "search_session_rate_limit": unlimited,
            "search_device_rate_limit": unlimited,
        }
    )
    with tempfile.TemporaryDirectory(prefix="facepass-soak-") as tmp:
        settings, postgres = embedded_settings(base, Path(tmp))
        try:
            results = {"cpus": os.cpu_count(), **soak(settings, requests, concurrency, rest_s)}
        finally:
            postgres.stop()
    click.echo(json.dumps(results, indent=2))
