"""Schema migrations (alembic), run programmatically on the store's own connection."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import Engine

__all__ = ["upgrade"]

_DIR = Path(__file__).parent / "migrations"


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database to ``revision``; safe to call on every start."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(_DIR))
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)
