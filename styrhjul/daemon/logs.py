"""Structured logs: one JSON object per line (or ``key=value`` text), to stderr.

Every record has ``ts`` (local time with offset), ``level``, ``event`` (a dotted name such as
``job.done``) and the fields passed as ``extra={"fields": {...}}``. journald and log shippers
read the JSON as it is; ``text`` is for a person at a terminal.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

LOGGER = "styrhjul.daemon"


class _Formatter(logging.Formatter):
    def __init__(self, style: Literal["json", "text"], tz: ZoneInfo) -> None:
        super().__init__()
        self.style_name = style
        self.tz = tz

    def format(self, record: logging.LogRecord) -> str:
        fields: dict[str, Any] = dict(getattr(record, "fields", {}) or {})
        ts = datetime.fromtimestamp(record.created, self.tz).isoformat(timespec="milliseconds")
        entry: dict[str, Any] = {
            "ts": ts,
            "level": record.levelname.lower(),
            "event": record.getMessage(),
        }
        if record.name != LOGGER:
            entry["logger"] = record.name
        entry.update(fields)
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        if self.style_name == "json":
            return json.dumps(entry, ensure_ascii=False, default=str)
        head = f"{entry.pop('ts')} {entry.pop('level'):7} {entry.pop('event')}"
        error = entry.pop("error", None)
        text = " ".join([head, *(f"{k}={_text(v)}" for k, v in entry.items())])
        return f"{text}\n{error}" if error else text


def _text(value: object) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return json.dumps(text, ensure_ascii=False) if " " in text else text


def configure(style: Literal["json", "text"], tz: ZoneInfo) -> logging.Logger:
    """Send the daemon's records (and APScheduler's warnings) to stderr in ``style``."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_Formatter(style, tz))
    for name, level in ((LOGGER, logging.INFO), ("apscheduler", logging.WARNING)):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(level)
        logger.propagate = False
    return logging.getLogger(LOGGER)


def log(logger: logging.Logger, level: int, event: str, **fields: Any) -> None:
    """Log ``event`` with ``fields``."""
    logger.log(level, event, extra={"fields": fields})
