"""The SQL state store (SQLAlchemy 2): SQLite by default, PostgreSQL at scale.

SQLAlchemy is synchronous here; every public method is async and runs its
transaction in a worker thread, so the event loop never blocks on the database.
This module holds the knowledge catalog (:class:`knowledge.catalog.Catalog`); the
conversation state of later turns lives beside it in the same database.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from sqlalchemy import Table, create_engine, delete, event, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import StaticPool

from knowledge.catalog import CatalogChunk, IngestChanges, SourceState
from knowledge.gating import GateProfile
from knowledge.types import Kind
from npc_engine.errors import ConfigError, InvalidInputError, StateStoreError
from npc_engine.state.access_sql import AccessSql
from npc_engine.state.conversation_sql import ConversationSql
from npc_engine.state.idempotency_sql import IdempotencySql
from npc_engine.state.migrate import upgrade
from npc_engine.state.records import TenantVersions
from npc_engine.state.staff_reply_sql import StaffReplySql
from npc_engine.state.support_turn_sql import SupportTurnSql
from npc_engine.state.tables import kb_chunks, kb_gates, kb_revisions, kb_sources, personas, tenants, worlds
from npc_engine.state.ticket_sql import TicketSql

__all__ = ["TENANT_NAME_MAX", "SqlStateStore"]

TENANT_NAME_MAX = 200  # tenants.name is String(200)

T = TypeVar("T")


def _make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        memory = url in ("sqlite://", "sqlite:///:memory:", "sqlite+pysqlite:///:memory:")
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            poolclass=StaticPool if memory else None,
        )

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            if not memory:
                cursor.execute("PRAGMA journal_mode=WAL")
                # WAL + NORMAL: every commit stays atomic and survives a crash of the process;
                # only a power cut can lose the last commits (no fsync per commit, which cost
                # about a millisecond per turn). SQLite's own recommendation for WAL.
                cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine
    try:
        return create_engine(url, pool_pre_ping=True)
    except ImportError as exc:
        raise ConfigError(
            f"no database driver for {url.split(':', 1)[0]}: pip install 'psycopg[binary]'"
        ) from exc


def _upsert(conn: Connection, table: Table) -> Any:
    """``INSERT ... ON CONFLICT`` in the connection's dialect (SQLite and PostgreSQL spell it alike)."""
    return (sqlite_insert if conn.dialect.name == "sqlite" else pg_insert)(table)


class SqlStateStore(ConversationSql, TicketSql, StaffReplySql, SupportTurnSql, AccessSql, IdempotencySql):
    """State in a SQL database; ``SqlStateStore("sqlite://")`` is an in-memory store for tests."""

    def __init__(self, url: str) -> None:
        self.url = url
        try:
            self.engine = _make_engine(url)
            upgrade(self.engine)
        except ConfigError:
            raise
        except SQLAlchemyError as exc:
            raise StateStoreError(f"cannot open the state store at {self._safe_url()}: {exc}") from exc

    def _safe_url(self) -> str:
        return self.engine.url.render_as_string(hide_password=True) if hasattr(self, "engine") else "<url>"

    async def _tx(self, fn: Callable[[Connection], T]) -> T:
        def run() -> T:
            try:
                with self.engine.begin() as conn:
                    return fn(conn)
            except SQLAlchemyError as exc:
                raise StateStoreError(f"state store error ({self._safe_url()}): {exc}") from exc

        return await asyncio.to_thread(run)

    def close(self) -> None:
        self.engine.dispose()

    # -- tenants ---------------------------------------------------------------------------
    async def ensure_tenant(self, tenant: str, name: str | None = None) -> None:
        limit = TENANT_NAME_MAX
        if name is not None and len(name) > limit:  # PostgreSQL would refuse it; SQLite would not
            raise InvalidInputError(
                f"a tenant's display name has at most {limit} characters, not {len(name)}"
            )

        def fn(conn: Connection) -> None:
            # one statement: of workers creating the tenant at once, the first inserts, the rest skip
            conn.execute(
                _upsert(conn, tenants)
                .values(id=tenant, name=name or tenant)
                .on_conflict_do_nothing(index_elements=[tenants.c.id])
            )

        await self._tx(fn)

    # -- world and personas ----------------------------------------------------------------
    async def world_digest(self, tenant: str) -> str | None:
        def fn(conn: Connection) -> str | None:
            return conn.execute(select(worlds.c.digest).where(worlds.c.tenant == tenant)).scalar()

        return await self._tx(fn)

    async def tenant_versions(self, tenant: str) -> TenantVersions:
        """The world digest and the catalog revision, in one round trip (what a turn's caches check)."""

        def fn(conn: Connection) -> TenantVersions:
            digest = conn.execute(select(worlds.c.digest).where(worlds.c.tenant == tenant)).scalar()
            revision = conn.execute(
                select(kb_revisions.c.revision).where(kb_revisions.c.tenant == tenant)
            ).scalar()
            return TenantVersions(world_digest=digest, kb_revision=int(revision or 0))

        result: TenantVersions = await self._tx(fn)
        return result

    async def put_world(
        self,
        tenant: str,
        *,
        root: str,
        digest: str,
        world: dict[str, Any],
        persona_docs: Sequence[dict[str, Any]],
    ) -> None:
        """Replace the tenant's world and personas in one transaction.

        The world's row is written first (an upsert): that takes its row lock on PostgreSQL (the
        write lock on SQLite), so workers storing one tenant's world at once take turns instead
        of colliding on the personas' keys.
        """

        def fn(conn: Connection) -> None:
            row = {"root": root, "digest": digest, "data": json.dumps(world, ensure_ascii=False)}
            conn.execute(
                _upsert(conn, worlds)
                .values(tenant=tenant, **row)
                .on_conflict_do_update(index_elements=[worlds.c.tenant], set_=row)
            )
            conn.execute(delete(personas).where(personas.c.tenant == tenant))
            if persona_docs:
                conn.execute(
                    insert(personas),
                    [
                        {
                            "tenant": tenant,
                            "persona_id": p["id"],
                            "kind": p["kind"],
                            "source": str(p.get("_source", "")),
                            "data": json.dumps(
                                {k: v for k, v in p.items() if k != "_source"}, ensure_ascii=False
                            ),
                        }
                        for p in persona_docs
                    ],
                )

        await self._tx(fn)

    async def get_world(self, tenant: str) -> dict[str, Any] | None:
        def fn(conn: Connection) -> dict[str, Any] | None:
            data = conn.execute(select(worlds.c.data).where(worlds.c.tenant == tenant)).scalar()
            return json.loads(data) if data else None

        return await self._tx(fn)

    async def get_persona(self, tenant: str, persona_id: str) -> dict[str, Any] | None:
        def fn(conn: Connection) -> dict[str, Any] | None:
            data = conn.execute(
                select(personas.c.data).where(
                    personas.c.tenant == tenant, personas.c.persona_id == persona_id
                )
            ).scalar()
            return json.loads(data) if data else None

        return await self._tx(fn)

    async def list_personas(self, tenant: str) -> list[dict[str, Any]]:
        def fn(conn: Connection) -> list[dict[str, Any]]:
            rows = conn.execute(
                select(personas.c.persona_id, personas.c.data).where(personas.c.tenant == tenant)
            ).all()
            # sorted here, not by the database: its collation may not sort by code point (en_US does not)
            return [json.loads(d) for _, d in sorted(rows)]

        return await self._tx(fn)

    # -- knowledge catalog -----------------------------------------------------------------
    async def sources(self, tenant: str, root: str) -> dict[str, SourceState]:
        def fn(conn: Connection) -> dict[str, SourceState]:
            rows = conn.execute(
                select(kb_sources.c.rel, kb_sources.c.kind, kb_sources.c.digest).where(
                    kb_sources.c.tenant == tenant, kb_sources.c.root == root
                )
            ).all()
            chunk_rows = conn.execute(
                select(
                    kb_chunks.c.rel, kb_chunks.c.chunk_id, kb_chunks.c.source_id, kb_chunks.c.gate_id
                ).where(kb_chunks.c.tenant == tenant, kb_chunks.c.root == root)
            ).all()
            by_rel: dict[str, tuple[dict[str, str], set[str]]] = {}
            for rel, chunk_id, source_id, gate_id in chunk_rows:
                gates, sids = by_rel.setdefault(rel, ({}, set()))
                gates[chunk_id] = gate_id
                sids.add(source_id)
            out: dict[str, SourceState] = {}
            for rel, kind, digest in rows:
                gates, sids = by_rel.get(rel, ({}, set()))
                out[rel] = SourceState(rel, kind, digest, gates, frozenset(sids))
            return out

        return await self._tx(fn)

    async def source_owners(self, tenant: str, source_ids: Sequence[str]) -> dict[str, str]:
        ids = list(set(source_ids))

        def fn(conn: Connection) -> dict[str, str]:
            out: dict[str, str] = {}
            for i in range(0, len(ids), 500):
                rows = conn.execute(
                    select(kb_chunks.c.source_id, kb_chunks.c.root, kb_chunks.c.rel)
                    .where(kb_chunks.c.tenant == tenant, kb_chunks.c.source_id.in_(ids[i : i + 500]))
                    .distinct()
                ).all()
                out.update({sid: f"{root}::{rel}" for sid, root, rel in rows})
            return out

        return await self._tx(fn)

    async def apply_ingest(self, tenant: str, changes: IngestChanges) -> int:
        """Apply ``changes`` in one transaction; returns the tenant's new catalog revision.

        The revision moves first: that write takes the tenant's row lock on PostgreSQL (the write
        lock on SQLite), so two ingests of one tenant apply one after the other, each on what the
        other left, instead of colliding on the catalog's keys.
        """

        def fn(conn: Connection) -> int:
            revision = conn.execute(
                _upsert(conn, kb_revisions)
                .values(tenant=tenant, revision=1)
                .on_conflict_do_update(
                    index_elements=[kb_revisions.c.tenant], set_={"revision": kb_revisions.c.revision + 1}
                )
                .returning(kb_revisions.c.revision)
            ).scalar_one()
            rels = [c.rel for c in changes.upserts] + list(changes.deletes)
            for i in range(0, len(rels), 500):
                part = rels[i : i + 500]
                where = (
                    kb_chunks.c.tenant == tenant,
                    kb_chunks.c.root == changes.root,
                    kb_chunks.c.rel.in_(part),
                )
                conn.execute(delete(kb_chunks).where(*where))
                conn.execute(
                    delete(kb_sources).where(
                        kb_sources.c.tenant == tenant,
                        kb_sources.c.root == changes.root,
                        kb_sources.c.rel.in_(part),
                    )
                )
            for change in changes.upserts:
                conn.execute(
                    insert(kb_sources).values(
                        tenant=tenant,
                        root=changes.root,
                        rel=change.rel,
                        kind=change.kind,
                        digest=change.digest,
                    )
                )
            rows = [
                {
                    "tenant": tenant,
                    "chunk_id": c.chunk_id,
                    "root": changes.root,
                    "rel": change.rel,
                    "source_id": c.source_id,
                    "kind": c.kind,
                    "ordinal": c.ordinal,
                    "title": c.title,
                    "text": c.text,
                    "gate_id": c.gate_id,
                    "meta": json.dumps(c.metadata, ensure_ascii=False, sort_keys=True),
                }
                for change in changes.upserts
                for c in change.chunks
            ]
            for i in range(0, len(rows), 1000):
                conn.execute(insert(kb_chunks), rows[i : i + 1000])
            known = {
                g for (g,) in conn.execute(select(kb_gates.c.gate_id).where(kb_gates.c.tenant == tenant))
            }
            new_gates = {g.gate_id: g for g in changes.gates if g.gate_id not in known}
            if new_gates:
                conn.execute(
                    insert(kb_gates),
                    [{"tenant": tenant, "gate_id": k, "profile": g.to_json()} for k, g in new_gates.items()],
                )
            return int(revision)

        return await self._tx(fn)

    async def revision(self, tenant: str) -> int:
        def fn(conn: Connection) -> int:
            value = conn.execute(
                select(kb_revisions.c.revision).where(kb_revisions.c.tenant == tenant)
            ).scalar()
            return int(value or 0)

        return await self._tx(fn)

    async def load_chunks(self, tenant: str, kinds: Sequence[Kind] | None = None) -> list[CatalogChunk]:
        def fn(conn: Connection) -> list[CatalogChunk]:
            query = select(
                kb_chunks.c.chunk_id,
                kb_chunks.c.source_id,
                kb_chunks.c.kind,
                kb_chunks.c.ordinal,
                kb_chunks.c.title,
                kb_chunks.c.text,
                kb_chunks.c.gate_id,
                kb_chunks.c.meta,
            ).where(kb_chunks.c.tenant == tenant)
            if kinds:
                query = query.where(kb_chunks.c.kind.in_(list(kinds)))
            # in chunk id order by code point on every backend (the lexical index is built in this
            # order), so sorted here: a PostgreSQL collation such as en_US puts "a-c" after "ab"
            rows = sorted(conn.execute(query).all(), key=lambda row: row[0])
            return [
                CatalogChunk(cid, sid, kind, ordinal, title, text, gate, json.loads(meta))
                for cid, sid, kind, ordinal, title, text, gate, meta in rows
            ]

        return await self._tx(fn)

    async def gate_profiles(self, tenant: str) -> list[GateProfile]:
        def fn(conn: Connection) -> list[GateProfile]:
            rows = conn.execute(select(kb_gates.c.profile).where(kb_gates.c.tenant == tenant)).all()
            return [GateProfile.from_json(p) for (p,) in rows]

        return await self._tx(fn)
