"""The ``StateStore``: SQL (SQLite by default, PostgreSQL at scale) with migrations."""

from npc_engine.state.base import StateStore
from npc_engine.state.store import SqlStateStore

__all__ = ["SqlStateStore", "StateStore"]
