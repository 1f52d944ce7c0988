"""The SQL state store on SQLite and the real PostgreSQL: migrations, worlds, the knowledge catalog.

The migrations build exactly the schema ``tables.py`` declares, on both backends; workers that
write one tenant's world or catalog at once run one after the other instead of colliding.
"""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect, select, text

from knowledge.catalog import CatalogChunk, IngestChanges, SourceChange
from knowledge.embedders.hashing import HashEmbedder
from knowledge.gating import OPEN_GATE, GateProfile
from knowledge.stores.memory import MemoryVectorStore
from npc_engine.engine import Engine
from npc_engine.errors import InvalidInputError, StateStoreError
from npc_engine.settings import Settings
from npc_engine.state import SqlStateStore, StateStore
from npc_engine.state.migrate import upgrade
from npc_engine.state.records import TenantVersions
from npc_engine.state.tables import metadata, tenants

DEMO_WORLD = Path(__file__).resolve().parents[1] / "examples" / "demo_world"
WORKERS = 3


@pytest.fixture
def tenant() -> str:
    return f"t-{uuid.uuid4().hex[:10]}"


def ingest_changes(*chunk_ids: str, root: str = "/world", digest: str = "d1") -> IngestChanges:
    """One lore file holding ``chunk_ids`` (a secret gate on the last), as an ingest would write it."""
    secret = GateProfile(everyone=False, factions=("ironhold",), secret=True)
    chunks = tuple(
        CatalogChunk(
            cid,
            "lore:forge",
            "lore",
            n,
            "The Forge",
            f"text {n}",
            (secret if n == len(chunk_ids) - 1 else OPEN_GATE).gate_id,
            {"lang": "en"},
        )
        for n, cid in enumerate(chunk_ids)
    )
    return IngestChanges(
        root=root, upserts=[SourceChange("lore/forge.md", "lore", digest, chunks)], gates=[OPEN_GATE, secret]
    )


async def concurrently(url: str, job: Any) -> list[Any]:
    """``job(store)`` from several workers (stores of their own) at once, twice each."""
    workers = [SqlStateStore(url) for _ in range(WORKERS)]
    try:  # every job ends before the stores close, even when one fails
        results = await asyncio.gather(*(job(w) for w in workers for _ in range(2)), return_exceptions=True)
    finally:
        for worker in workers:
            worker.close()
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return results


# -- migrations ------------------------------------------------------------------------------------
def test_the_migrations_build_exactly_the_declared_schema(empty_state_url_any: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    store = SqlStateStore(empty_state_url_any)
    try:
        with store.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(context, metadata) == []  # tables, columns, types, nullability, indexes
            reflected = inspect(conn)
            assert set(reflected.get_table_names()) == set(metadata.tables) | {"alembic_version"}
            for name, table in metadata.tables.items():  # what compare_metadata does not look at
                assert reflected.get_pk_constraint(name)["constrained_columns"] == [
                    c.name for c in table.primary_key.columns
                ], name
            one_open = {i["name"]: i for i in reflected.get_indexes("tickets")}["ux_tickets_one_unresolved"]
            where = one_open["dialect_options"][f"{conn.dialect.name}_where"]
            assert one_open["unique"] and "resolved" in str(where)
    finally:
        store.close()


def test_migrating_twice_is_harmless(empty_state_url_any: str) -> None:
    store = SqlStateStore(empty_state_url_any)
    with store.engine.begin() as conn:
        conn.execute(tenants.insert().values(id="kept", name="Kept"))
    upgrade(store.engine)
    store.close()
    again = SqlStateStore(empty_state_url_any)
    try:
        with again.engine.connect() as conn:
            assert conn.execute(select(tenants.c.name)).scalars().all() == ["Kept"]
            assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar_one() == 1
    finally:
        again.close()


def test_the_sql_store_satisfies_the_state_store_protocol() -> None:
    assert isinstance(SqlStateStore("sqlite://"), StateStore)


# -- tenants, worlds and personas --------------------------------------------------------------------
async def test_world_and_personas_are_per_tenant(store: SqlStateStore, tenant: str) -> None:
    other = f"{tenant}-b"
    await store.put_world(
        tenant, root="/w", digest="d1", world={"id": "w"}, persona_docs=[{"id": "p", "kind": "npc"}]
    )
    assert await store.get_persona(tenant, "p") == {"id": "p", "kind": "npc"}
    assert await store.get_persona(other, "p") is None
    assert await store.world_digest(other) is None


async def test_a_new_world_replaces_the_old_one_and_all_its_personas(
    store: SqlStateStore, tenant: str
) -> None:
    old = [{"id": "aria", "kind": "support"}, {"id": "brannoc", "kind": "npc", "name": "Brannoc"}]
    await store.put_world(tenant, root="/w", digest="d1", world={"v": 1}, persona_docs=old)
    new = [{"id": "brannoc", "kind": "npc", "name": "Brannoc Emberhand", "_source": "/w/b.yaml"}]
    await store.put_world(tenant, root="/w2", digest="d2", world={"v": 2}, persona_docs=new)
    assert (await store.world_digest(tenant), await store.get_world(tenant)) == ("d2", {"v": 2})
    assert await store.list_personas(tenant) == [
        {"id": "brannoc", "kind": "npc", "name": "Brannoc Emberhand"}
    ]


async def test_tenant_versions_name_the_world_digest_and_the_catalog_revision(
    store: SqlStateStore, tenant: str
) -> None:
    assert await store.tenant_versions(tenant) == TenantVersions(world_digest=None, kb_revision=0)
    await store.put_world(tenant, root="/w", digest="d1", world={}, persona_docs=[])
    await store.apply_ingest(tenant, ingest_changes("lore:forge#0"))
    await store.apply_ingest(tenant, ingest_changes("lore:forge#0", digest="d2"))
    assert await store.tenant_versions(tenant) == TenantVersions(world_digest="d1", kb_revision=2)
    assert await store.tenant_versions(f"{tenant}-b") == TenantVersions(world_digest=None, kb_revision=0)


async def test_workers_creating_one_tenant_at_once_all_succeed(state_url_any: str, tenant: str) -> None:
    games = [f"{tenant}-{n}" for n in range(5)]
    await concurrently(
        state_url_any, lambda s: asyncio.gather(*(s.ensure_tenant(g, "The Game") for g in games))
    )
    store = SqlStateStore(state_url_any)
    try:
        assert all([await store.tenant_exists(g) for g in games])
    finally:
        store.close()


async def test_workers_storing_one_world_at_once_leave_one_whole_world(
    state_url_any: str, tenant: str
) -> None:
    def job(s: SqlStateStore) -> Any:
        docs = [{"id": "brannoc", "kind": "npc"}, {"id": "sable", "kind": "npc"}]
        return s.put_world(tenant, root="/w", digest="d1", world={"id": "w"}, persona_docs=docs)

    await concurrently(state_url_any, job)
    store = SqlStateStore(state_url_any)
    try:
        assert await store.world_digest(tenant) == "d1"
        assert [p["id"] for p in await store.list_personas(tenant)] == ["brannoc", "sable"]
    finally:
        store.close()


# -- the knowledge catalog ---------------------------------------------------------------------------
async def test_the_catalog_keeps_sources_chunks_and_gates_per_tenant(
    store: SqlStateStore, tenant: str
) -> None:
    changes = ingest_changes("lore:forge#0", "lore:forge#1")
    assert await store.apply_ingest(tenant, changes) == 1
    (source,) = (await store.sources(tenant, "/world")).values()
    assert (source.rel, source.digest, source.source_ids) == (
        "lore/forge.md",
        "d1",
        frozenset({"lore:forge"}),
    )
    assert await store.load_chunks(tenant) == list(changes.upserts[0].chunks)
    assert await store.load_chunks(tenant, kinds=["faq"]) == []
    assert set(await store.gate_profiles(tenant)) == set(changes.gates)
    assert await store.source_owners(tenant, ["lore:forge", "faq:x"]) == {
        "lore:forge": "/world::lore/forge.md"
    }
    assert await store.sources(f"{tenant}-b", "/world") == {}
    assert await store.apply_ingest(tenant, IngestChanges(root="/world", deletes=["lore/forge.md"])) == 2
    assert (await store.sources(tenant, "/world"), await store.load_chunks(tenant)) == ({}, [])


async def test_an_ingest_that_fails_midway_changes_nothing(store: SqlStateStore, tenant: str) -> None:
    await store.apply_ingest(tenant, ingest_changes("lore:forge#0"))
    broken = ingest_changes("lore:forge#1", "lore:forge#1", digest="d2")  # one chunk id twice
    with pytest.raises(StateStoreError):
        await store.apply_ingest(tenant, broken)
    assert await store.revision(tenant) == 1
    assert [c.chunk_id for c in await store.load_chunks(tenant)] == ["lore:forge#0"]
    assert (await store.sources(tenant, "/world"))["lore/forge.md"].digest == "d1"


async def test_a_world_ingested_over_postgresql_is_catalogued_as_over_sqlite(
    tmp_path: Path, fresh_postgres_url: str
) -> None:
    catalogs = {}
    for name, url in (("sqlite", f"sqlite:///{tmp_path / 'state.db'}"), ("postgresql", fresh_postgres_url)):
        engine = Engine(
            settings=Settings(
                _env_file=None, embedder="hash", vector_store="memory", data_dir=tmp_path / name
            ),  # type: ignore[call-arg]
            state=SqlStateStore(url),
            embedder=HashEmbedder(),
            vectors=MemoryVectorStore(),
        )
        try:
            await engine.ingest(DEMO_WORLD)
            again = await engine.ingest(DEMO_WORLD)
            assert (again.world_changed, again.knowledge.chunks_embedded) == (False, 0)
            state = engine.state
            catalogs[name] = (
                await state.tenant_versions("default"),
                await state.get_world("default"),
                await state.list_personas("default"),
                await state.load_chunks("default"),
                sorted(p.gate_id for p in await state.gate_profiles("default")),
            )
        finally:
            engine.close()
    assert catalogs["postgresql"] == catalogs["sqlite"]


async def test_workers_ingesting_one_tenant_at_once_each_get_their_own_revision(
    state_url_any: str, tenant: str
) -> None:
    changes = ingest_changes("lore:forge#0", "lore:forge#1")
    revisions = await concurrently(state_url_any, lambda s: s.apply_ingest(tenant, changes))
    assert sorted(revisions) == list(range(1, 2 * WORKERS + 1))
    store = SqlStateStore(state_url_any)
    try:
        assert await store.revision(tenant) == 2 * WORKERS
        assert await store.load_chunks(tenant) == list(changes.upserts[0].chunks)
        assert len(await store.gate_profiles(tenant)) == 2
    finally:
        store.close()


async def test_ids_come_back_in_code_point_order_whatever_the_postgresql_collation(
    fresh_postgres_url: str,
) -> None:
    """A server initialised with a language's collation (en_US.UTF-8, say) sorts ``a-c`` after ``ab``."""
    store = SqlStateStore(fresh_postgres_url)
    try:
        with store.engine.begin() as conn:
            for table, column, size in (("kb_chunks", "chunk_id", 300), ("personas", "persona_id", 120)):
                conn.execute(
                    text(f'ALTER TABLE {table} ALTER COLUMN {column} TYPE varchar({size}) COLLATE "en-x-icu"')
                )
        ids = ["lore:B#0", "lore:a-c#0", "lore:ab#0", "lore:a_d#0", "lore:ä#0"]
        await store.apply_ingest("t", ingest_changes(*ids))
        assert [c.chunk_id for c in await store.load_chunks("t")] == sorted(ids)
        personas = [{"id": p.removeprefix("lore:"), "kind": "npc"} for p in ids]
        await store.put_world("t", root="/w", digest="d", world={}, persona_docs=personas)
        assert [p["id"] for p in await store.list_personas("t")] == sorted(p["id"] for p in personas)
    finally:
        store.close()


async def test_a_tenant_display_name_over_200_characters_is_refused_on_every_backend(
    state_url_any: str, tenant: str
) -> None:
    store = SqlStateStore(state_url_any)
    try:
        with pytest.raises(InvalidInputError, match="at most 200 characters, not 201"):
            await store.ensure_tenant(tenant, "x" * 201)
        assert not await store.tenant_exists(tenant)
        await store.ensure_tenant(tenant, "x" * 200)
        assert await store.tenant_exists(tenant)
    finally:
        store.close()
