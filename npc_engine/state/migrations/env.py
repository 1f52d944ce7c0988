"""Alembic environment: runs on the connection handed in by ``npc_engine.state.migrate``."""

from __future__ import annotations

from alembic import context

from npc_engine.state.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only reachable from the alembic CLI
    raise RuntimeError("run migrations through npc_engine.state.migrate.upgrade(engine)")

context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
