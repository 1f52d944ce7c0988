"""The SQL state store: migrations, and the schema they build matches the tables' metadata."""

from __future__ import annotations

from pathlib import Path

from npc_engine.state import SqlStateStore, StateStore
from npc_engine.state.migrate import upgrade
from npc_engine.state.tables import metadata


def test_the_migrations_build_exactly_the_declared_schema(tmp_path: Path) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    store = SqlStateStore(f"sqlite:///{tmp_path / 's.db'}")
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []
    store.close()


def test_migrating_twice_is_harmless(tmp_path: Path) -> None:
    store = SqlStateStore(f"sqlite:///{tmp_path / 's.db'}")
    upgrade(store.engine)
    store.close()
    SqlStateStore(f"sqlite:///{tmp_path / 's.db'}").close()


def test_the_sql_store_satisfies_the_state_store_protocol() -> None:
    assert isinstance(SqlStateStore("sqlite://"), StateStore)


async def test_world_and_personas_are_per_tenant() -> None:
    store = SqlStateStore("sqlite://")
    await store.put_world(
        "a", root="/w", digest="d1", world={"id": "w"}, persona_docs=[{"id": "p", "kind": "npc"}]
    )
    assert await store.get_persona("a", "p") == {"id": "p", "kind": "npc"}
    assert await store.get_persona("b", "p") is None
    assert await store.world_digest("b") is None
