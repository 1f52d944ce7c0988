"""``npc-engine serve``: the HTTP server (today: the staff console and ``/healthz``) on one process.

The app is :func:`npc_engine.server.app.create_app` with the environment's ``Settings``
(``NPC_*``); the engine is built on start-up and closed on shutdown. Several worker
processes behind a load balancer come with the HTTP API (uvicorn's ``--workers`` needs an
import string; that lands with the versioned routes).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

__all__ = ["serve"]


def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on (loopback by default).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port.")] = 8000,
    data_dir: Annotated[
        Path | None, typer.Option("--data-dir", envvar="NPC_DATA_DIR", help="Embedded state.")
    ] = None,
    log_level: Annotated[str, typer.Option(help="uvicorn's log level.")] = "info",
) -> None:
    """Serve the staff console at /console (log in with a staff key: npc-engine keys create --role staff)."""
    import uvicorn

    from npc_engine.logging import configure_logging
    from npc_engine.server.app import create_app
    from npc_engine.settings import Settings
    from npc_engine.support.pii import PiiRedactor

    settings = Settings() if data_dir is None else Settings(data_dir=data_dir)
    configure_logging("INFO", redactor=PiiRedactor(player_id_patterns=settings.pii_player_id_patterns))
    uvicorn.run(create_app(settings), host=host, port=port, log_level=log_level)
