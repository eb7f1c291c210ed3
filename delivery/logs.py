"""Structured JSON logs, one object per line, with every field and message redacted (design §8, I5).

`configure_logging` also routes the standard library's loggers (aiokafka, uvicorn, asyncpg) through the
same JSON renderer and redaction, so no library can print a secret around it.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import structlog

from contracts.redaction import redact


def _redact_event(_: Any, __: str, event_dict: Any) -> Any:
    return redact(event_dict)


def configure_logging(service: str, level: str = "INFO") -> None:
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
    ]
    structlog.configure(
        # a call below the level is dropped before any processor runs (no time stamp, no redaction)
        processors=[structlog.stdlib.filter_by_level, *shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,  # cached loggers would escape structlog.testing.capture_logs()
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            _add_service(service),
            _redact_event,
            structlog.processors.JSONRenderer(ensure_ascii=False),
        ],
    )
    handler = _StdoutHandler()
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("aiokafka", "kafka"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))


class _StdoutHandler(logging.StreamHandler):
    """Writes to whatever `sys.stdout` is at emit time (test runners swap it), not the one at start-up."""

    def __init__(self) -> None:
        super().__init__(sys.stdout)

    _chosen = None  # a stream set explicitly (setStream, or assigning .stream) wins over sys.stdout

    @property  # type: ignore[override]
    def stream(self):
        return self._chosen if self._chosen is not None else sys.stdout

    @stream.setter
    def stream(self, value) -> None:
        self._chosen = None if value is sys.stdout else value


def _add_service(service: str):
    def add(_: Any, __: str, event_dict: Any) -> Any:
        event_dict.setdefault("service", service)
        return event_dict

    return add


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    return structlog.stdlib.get_logger(name)
