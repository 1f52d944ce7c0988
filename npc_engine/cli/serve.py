"""``npc-engine serve``: the HTTP API, the staff console, health and metrics.

The app is :func:`npc_engine.server.app.create_app` with the environment's ``Settings``
(``NPC_*``); the engine is built on start-up and closed on shutdown. ``--workers N`` runs N
uvicorn worker processes; each builds its app with :func:`app_from_env` (uvicorn needs an
import string for that), so each reads the same ``NPC_*`` environment. Workers keep nothing
another worker needs: state is in the database, vectors in the vector store, and a retry with
an ``Idempotency-Key`` may land on any worker.

Several workers cannot share the embedded Chroma folder (Chroma's embedded mode is one process
per folder): with ``--workers`` above 1, point ``NPC_VECTOR_STORE`` at a Chroma server
(``chroma+http://HOST:PORT``). SQLite state works with several local workers (WAL); PostgreSQL
(``NPC_STATE_URL``) is the choice for workers on several machines. With several workers, set
``PROMETHEUS_MULTIPROC_DIR`` to an empty folder so ``/metrics`` sums all workers.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from fastapi import FastAPI

__all__ = ["app_from_env", "serve"]


def app_from_env() -> FastAPI:
    """The app for one worker process: ``Settings()`` from the ``NPC_*`` environment, logging set up."""
    from npc_engine.logging import configure_logging
    from npc_engine.server.app import create_app
    from npc_engine.settings import Settings
    from npc_engine.support.pii import PiiRedactor

    settings = Settings()
    configure_logging("INFO", redactor=PiiRedactor(player_id_patterns=settings.pii_player_id_patterns))
    return create_app(settings)


def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on (loopback by default).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Worker processes.")] = 1,
    data_dir: Annotated[
        Path | None, typer.Option("--data-dir", envvar="NPC_DATA_DIR", help="Embedded state.")
    ] = None,
    log_level: Annotated[str, typer.Option(help="uvicorn's log level.")] = "info",
) -> None:
    """Serve the HTTP API (/v1, docs at /docs), the staff console (/console), /healthz, /readyz, /metrics."""
    import uvicorn

    from npc_engine.errors import ConfigError
    from npc_engine.settings import Settings

    if data_dir is not None:
        os.environ["NPC_DATA_DIR"] = str(data_dir)  # the workers read the same environment
    settings = Settings()  # validated here, before any worker starts
    if workers > 1 and settings.vector_store == "chroma":
        raise ConfigError(
            "several workers cannot share the embedded Chroma folder; start a Chroma server "
            "(chroma run --path DIR --port 8001) and set NPC_VECTOR_STORE=chroma+http://127.0.0.1:8001, "
            "or serve with --workers 1"
        )
    uvicorn.run(
        "npc_engine.cli.serve:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
    )
