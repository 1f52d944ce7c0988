"""Conversation state in SQL: snapshot reads and compare-and-set turn commits.

Serialisation across workers: a turn first takes a short *lease* on its conversation
(:meth:`ConversationSql.begin_turn`; waiters poll with backoff), so two workers run turns
on one conversation one after the other, each on the state the other left. The lease
expires (a crashed worker blocks nobody) and is released by the commit itself. An existing
conversation's lease lives on its row: ``UPDATE ... SET lease_holder ... RETURNING *`` takes
it and reads the state in one statement, and the commit's version update clears it. A
conversation's first turn, which has no row yet, leases a row of ``conversation_leases``.

Correctness does not rest on the lease: a turn reads a snapshot with its ``version`` and commits a
:class:`~npc_engine.state.records.TurnWrite` in one transaction that first moves the
version from ``expected_version`` to ``expected_version + 1``
(``UPDATE ... WHERE version = :expected``; an ``INSERT`` for a new conversation). If
another writer got there first, nothing is written and :class:`ConflictError` is raised;
the engine re-runs the turn on the fresh state. This works the same on SQLite and
PostgreSQL, across threads, processes and machines, without holding a database lock
while a model generates (which on SQLite would block every other conversation).

A snapshot's history stops at the row's ``last_message_seq``: on PostgreSQL (read committed)
each statement sees what was committed when it started, so the messages query could otherwise
see a later turn's messages that the conversation row it pairs with does not count.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy import case, delete, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, RowMapping
from sqlalchemy.exc import IntegrityError

from npc_engine.errors import ConflictError
from npc_engine.state.idempotency_sql import store_receipt
from npc_engine.state.records import Conversation, ConversationKey, StoredMemory, StoredMessage, TurnWrite
from npc_engine.state.tables import affect_events, conversation_leases, conversations, memories, messages

__all__ = ["ConversationSql", "write_turn"]

T = TypeVar("T")


def _where(table: Any, key: ConversationKey) -> tuple[Any, ...]:
    return (
        table.c.tenant == key.tenant,
        table.c.persona_id == key.persona_id,
        table.c.player_id == key.player_id,
    )


def _memory_row(key: ConversationKey, m: StoredMemory) -> dict[str, Any]:
    return {
        "tenant": key.tenant,
        "persona_id": key.persona_id,
        "player_id": key.player_id,
        "memory_id": m.memory_id,
        "text": m.text,
        "kind": m.kind,
        "key": m.key,
        "importance": m.importance,
        "created_at": m.created_at,
        "last_used_at": m.last_used_at,
        "vector": m.vector,
    }


def _load(
    conn: Connection, key: ConversationKey, history_limit: int, row: RowMapping | None = None
) -> Conversation:
    if row is None:
        row = conn.execute(select(conversations).where(*_where(conversations, key))).mappings().first()
    if row is None:
        return Conversation(key=key)
    history_rows = conn.execute(
        select(messages.c.seq, messages.c.role, messages.c.text, messages.c.meta, messages.c.at)
        .where(
            *_where(messages, key),
            messages.c.seq > row["summarised_upto"],
            messages.c.seq <= row["last_message_seq"],  # a consistent snapshot: none committed since
        )
        .order_by(messages.c.seq.desc())
        .limit(history_limit)
    ).all()
    memory_rows = conn.execute(
        select(memories).where(*_where(memories, key)).order_by(memories.c.memory_id)
    ).mappings()
    return Conversation(
        key=key,
        version=row["version"],
        started_at=row["started_at"],
        updated_at=row["updated_at"],
        affect=json.loads(row["affect"]),
        summary=row["summary"],
        summarised_upto=row["summarised_upto"],
        turns=row["turns"],
        last_message_seq=row["last_message_seq"],
        last_event_seq=row["last_event_seq"],
        history=tuple(
            StoredMessage(seq, role, text, json.loads(meta), at)
            for seq, role, text, meta, at in reversed(history_rows)
        ),
        memories=tuple(
            StoredMemory(
                m["memory_id"],
                m["text"],
                m["kind"],
                m["key"],
                m["importance"],
                m["created_at"],
                m["last_used_at"],
                m["vector"],
            )
            for m in memory_rows
        ),
    )


def _take_row_lease(
    conn: Connection, key: ConversationKey, holder: str, now: float, ttl_s: float
) -> RowMapping | None:
    """Lease an existing conversation's row and read it; ``None`` if absent or leased by another."""
    c = conversations.c
    return (
        conn.execute(
            update(conversations)
            .where(
                *_where(conversations, key),
                or_(c.lease_expires.is_(None), c.lease_expires < now, c.lease_holder == holder),
            )
            .values(lease_holder=holder, lease_expires=now + ttl_s)
            .returning(*conversations.c)
        )
        .mappings()
        .first()
    )


def _lease_and_load(
    conn: Connection, key: ConversationKey, holder: str, now: float, ttl_s: float, history_limit: int
) -> Conversation | None:
    row = _take_row_lease(conn, key, holder, now, ttl_s)
    if row is not None:
        return _load(conn, key, history_limit, row)
    if conn.execute(select(conversations.c.version).where(*_where(conversations, key))).first():
        return None  # it exists and another turn holds it
    if not _take_lease(conn, key, holder, now, ttl_s):
        return None  # another first turn holds it
    return Conversation(key=key)


def _take_lease(conn: Connection, key: ConversationKey, holder: str, now: float, ttl_s: float) -> bool:
    """Lease a conversation that has no row yet (its first turn) in ``conversation_leases``."""
    taken = conn.execute(
        update(conversation_leases)
        .where(
            *_where(conversation_leases, key),
            (conversation_leases.c.expires_at < now) | (conversation_leases.c.holder == holder),
        )
        .values(holder=holder, expires_at=now + ttl_s)
    )
    if taken.rowcount == 1:
        return True
    dialect_insert = sqlite_insert if conn.dialect.name == "sqlite" else pg_insert
    created = conn.execute(
        dialect_insert(conversation_leases)
        .values(
            tenant=key.tenant,
            persona_id=key.persona_id,
            player_id=key.player_id,
            holder=holder,
            expires_at=now + ttl_s,
        )
        .on_conflict_do_nothing()
        .returning(conversation_leases.c.holder)  # rowcount is -1 here on psycopg 3
    ).first()
    return created is not None


def _end_lease(holder: str | None) -> dict[str, Any]:
    """Column values that end ``holder``'s row lease, and leave anyone else's alone."""
    if not holder:
        return {}
    c = conversations.c
    mine = c.lease_holder == holder
    return {
        "lease_holder": case((mine, None), else_=c.lease_holder),
        "lease_expires": case((mine, None), else_=c.lease_expires),
    }


def write_turn(conn: Connection, write: TurnWrite) -> int:
    """Apply ``write`` in the caller's transaction (see :meth:`ConversationSql.commit_turn`)."""
    key = write.key
    new_version = write.expected_version + 1
    n_messages, n_events = len(write.messages), len(write.events)
    values: dict[str, Any] = {
        "version": new_version,
        "updated_at": write.at,
        "affect": json.dumps(write.affect, sort_keys=True),
        "summary": write.summary,
        "summarised_upto": write.summarised_upto,
    }
    if write.expected_version == 0:
        try:
            conn.execute(
                insert(conversations).values(
                    tenant=key.tenant,
                    persona_id=key.persona_id,
                    player_id=key.player_id,
                    started_at=write.started_at,
                    turns=write.turns_added,
                    last_message_seq=n_messages,
                    last_event_seq=n_events,
                    **values,
                )
            )
        except IntegrityError:
            raise ConflictError(
                f"conversation {key.persona_id}/{key.player_id} was started by a concurrent turn"
            ) from None
        first_message, first_event = 1, 1
    else:
        # write first: on SQLite a read-then-write transaction cannot wait for the lock
        done = conn.execute(
            update(conversations)
            .where(*_where(conversations, key), conversations.c.version == write.expected_version)
            .values(
                **_end_lease(write.lease_holder),
                turns=conversations.c.turns + write.turns_added,
                last_message_seq=conversations.c.last_message_seq + n_messages,
                last_event_seq=conversations.c.last_event_seq + n_events,
                **values,
            )
            .returning(conversations.c.last_message_seq, conversations.c.last_event_seq)
        ).first()
        if done is None:
            raise ConflictError(
                f"conversation {key.persona_id}/{key.player_id} changed during the turn "
                f"(expected version {write.expected_version})"
            )
        last_message, last_event = done
        first_message, first_event = last_message - n_messages + 1, last_event - n_events + 1
    base = {"tenant": key.tenant, "persona_id": key.persona_id, "player_id": key.player_id}
    if write.messages:
        conn.execute(
            insert(messages),
            [
                {
                    **base,
                    "seq": first_message + i,
                    "role": role,
                    "text": text,
                    "meta": json.dumps(meta, ensure_ascii=False, sort_keys=True),
                    "at": write.at,
                }
                for i, (role, text, meta) in enumerate(write.messages)
            ],
        )
    if write.events:
        conn.execute(
            insert(affect_events),
            [
                {
                    **base,
                    "seq": first_event + i,
                    "event": json.dumps(event, sort_keys=True),
                    "changes": json.dumps(changes, sort_keys=True),
                }
                for i, (event, changes) in enumerate(write.events)
            ],
        )
    if write.memories_delete:
        conn.execute(
            delete(memories).where(
                *_where(memories, key), memories.c.memory_id.in_(list(write.memories_delete))
            )
        )
    for memory in write.memories_upsert:
        conn.execute(delete(memories).where(*_where(memories, key), memories.c.memory_id == memory.memory_id))
    if write.memories_upsert:
        conn.execute(insert(memories), [_memory_row(key, m) for m in write.memories_upsert])
    if write.lease_holder and write.expected_version == 0:  # a first turn's lease is in the table
        conn.execute(
            delete(conversation_leases).where(
                *_where(conversation_leases, key), conversation_leases.c.holder == write.lease_holder
            )
        )
    if write.memories_touch:
        conn.execute(
            update(memories)
            .where(*_where(memories, key), memories.c.memory_id.in_(list(write.memories_touch)))
            .values(last_used_at=write.at)
        )
    if write.receipt is not None:  # last: the request's answer commits with the turn, or neither does
        store_receipt(conn, write.receipt)
    return new_version


class ConversationSql:
    """Mixed into :class:`~npc_engine.state.store.SqlStateStore` (which provides ``_tx``)."""

    _tx: Callable[[Callable[[Connection], Any]], Awaitable[Any]]

    async def load_conversation(self, key: ConversationKey, *, history_limit: int = 200) -> Conversation:
        """The conversation's snapshot: state, unsummarised history (newest ``history_limit``), memories."""
        result: Conversation = await self._tx(lambda conn: _load(conn, key, history_limit))
        return result

    async def begin_turn(
        self, key: ConversationKey, holder: str, *, now: float, ttl_s: float, history_limit: int = 200
    ) -> Conversation | None:
        """Take the turn lease and load the conversation in one round trip; ``None`` if the lease is busy."""

        def fn(conn: Connection) -> Conversation | None:
            return _lease_and_load(conn, key, holder, now, ttl_s, history_limit)

        result: Conversation | None = await self._tx(fn)
        return result

    async def commit_turn(self, write: TurnWrite) -> int:
        """Apply ``write`` atomically if the conversation is still at ``expected_version``.

        Returns the new version. Raises :class:`ConflictError` (and writes nothing) when
        another turn committed first.
        """
        result: int = await self._tx(lambda conn: write_turn(conn, write))
        return result

    async def acquire_lease(self, key: ConversationKey, holder: str, *, now: float, ttl_s: float) -> bool:
        """Take the conversation's turn lease for ``holder`` unless another holder's lease is live."""

        def fn(conn: Connection) -> bool:
            return _lease_and_load(conn, key, holder, now, ttl_s, 0) is not None

        result: bool = await self._tx(fn)
        return result

    async def renew_lease(self, key: ConversationKey, holder: str, *, now: float, ttl_s: float) -> bool:
        """Extend ``holder``'s lease (a long turn's heartbeat); ``False`` if it is no longer held."""

        def fn(conn: Connection) -> bool:
            row = conn.execute(
                update(conversations)
                .where(*_where(conversations, key), conversations.c.lease_holder == holder)
                .values(lease_expires=now + ttl_s)
            ).rowcount
            table = conn.execute(
                update(conversation_leases)
                .where(*_where(conversation_leases, key), conversation_leases.c.holder == holder)
                .values(expires_at=now + ttl_s)
            ).rowcount
            return bool(row or table)

        result: bool = await self._tx(fn)
        return result

    async def release_lease(self, key: ConversationKey, holder: str) -> None:
        """End ``holder``'s lease without a commit (the turn failed), wherever it was taken."""

        def fn(conn: Connection) -> None:
            conn.execute(
                update(conversations)
                .where(*_where(conversations, key), conversations.c.lease_holder == holder)
                .values(lease_holder=None, lease_expires=None)
            )
            conn.execute(
                delete(conversation_leases).where(
                    *_where(conversation_leases, key), conversation_leases.c.holder == holder
                )
            )

        await self._tx(fn)

    async def affect_log(self, key: ConversationKey) -> list[dict[str, Any]]:
        """The conversation's affect events, in order (what :func:`affect.replay` folds)."""

        def fn(conn: Connection) -> list[dict[str, Any]]:
            rows = conn.execute(
                select(affect_events.c.event).where(*_where(affect_events, key)).order_by(affect_events.c.seq)
            ).all()
            return [json.loads(e) for (e,) in rows]

        result: list[dict[str, Any]] = await self._tx(fn)
        return result

    async def list_messages(
        self, key: ConversationKey, *, limit: int = 50, before_seq: int | None = None
    ) -> list[StoredMessage]:
        """Up to ``limit`` messages before ``before_seq`` (newest page first), oldest first."""

        def fn(conn: Connection) -> list[StoredMessage]:
            query = select(
                messages.c.seq, messages.c.role, messages.c.text, messages.c.meta, messages.c.at
            ).where(*_where(messages, key))
            if before_seq is not None:
                query = query.where(messages.c.seq < before_seq)
            rows = conn.execute(query.order_by(messages.c.seq.desc()).limit(limit)).all()
            return [StoredMessage(s, r, t, json.loads(m), a) for s, r, t, m, a in reversed(rows)]

        result: list[StoredMessage] = await self._tx(fn)
        return result

    async def forget_player(self, tenant: str, player_id: str) -> int:
        """Erase everything every NPC of ``tenant`` keeps about ``player_id``; returns rows deleted.

        A first turn's lease names the player too: it goes (uncounted, as in :meth:`reset_conversation`).
        """

        def fn(conn: Connection) -> int:
            total = 0
            for table in (memories, messages, affect_events, conversations):
                done = conn.execute(
                    delete(table).where(table.c.tenant == tenant, table.c.player_id == player_id)
                )
                total += done.rowcount or 0
            leases = conversation_leases.c
            conn.execute(
                delete(conversation_leases).where(leases.tenant == tenant, leases.player_id == player_id)
            )
            return total

        result: int = await self._tx(fn)
        return result

    async def reset_conversation(self, key: ConversationKey) -> int:
        """Erase one NPC's conversation with one player (all its rows); returns rows deleted."""

        def fn(conn: Connection) -> int:
            total = 0
            for table in (memories, messages, affect_events, conversations):
                total += conn.execute(delete(table).where(*_where(table, key))).rowcount or 0
            conn.execute(delete(conversation_leases).where(*_where(conversation_leases, key)))
            return total

        result: int = await self._tx(fn)
        return result
