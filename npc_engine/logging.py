"""structlog configuration, for entry points only (the CLI, the server).

Library code only emits events; it never configures logging or prints.
"""

from __future__ import annotations

import logging
import sys
from typing import TYPE_CHECKING

import structlog

if TYPE_CHECKING:
    from npc_engine.support.pii import PiiRedactor

__all__ = ["configure_logging"]


def configure_logging(
    level: str = "WARNING", *, json: bool = True, redactor: PiiRedactor | None = None
) -> None:
    """Send structlog events to stderr, as JSON lines (default) or for a console.

    With a ``redactor``, every string of every event is PII-redacted just before it is rendered.
    """
    numeric = logging.getLevelName(level.upper())
    if not isinstance(numeric, int):
        numeric = logging.WARNING
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    )
    processors: list[structlog.typing.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
    ]
    if redactor is not None:
        from npc_engine.support.pii import redact_processor

        processors.append(redact_processor(redactor))
    structlog.configure(
        processors=[*processors, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )
