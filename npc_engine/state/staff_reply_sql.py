"""Staff replies in SQL: one transaction puts a reply in the ticket, the conversation and the player's queue.

A staff reply bumps the conversation's ``version`` and ``last_message_seq`` (or creates a
minimal conversation: no affect yet, so the first turn starts from the persona's baseline),
so an NPC turn that read the conversation before the reply fails its own compare-and-set and
re-runs on the history that includes it. The ticket is changed through
:func:`~npc_engine.state.ticket_sql.lock_ticket` like every other ticket change.

Pending replies are handed out with ``UPDATE ... SET delivered_at WHERE delivered_at IS NULL
RETURNING``: of two concurrent polls, the second waits for the first's row locks and then
skips the rows it marked, so each reply is delivered exactly once. A claim given a
``receipt`` stores the request's answer in the same transaction: a retry with the same
``Idempotency-Key`` then gets those replies back, or (nothing committed) claims them afresh.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, RowMapping

from npc_engine.state.idempotency_sql import store_receipt
from npc_engine.state.records import Receipt
from npc_engine.state.tables import conversations, messages, staff_replies
from npc_engine.state.ticket_sql import Event, lock_ticket, save_ticket, write_events
from npc_engine.support.tickets import StaffReply

__all__ = ["StaffReplySql", "take_pending"]


def _reply(row: RowMapping) -> StaffReply:
    return StaffReply(
        reply_id=row["id"],
        tenant=row["tenant"],
        persona_id=row["persona_id"],
        player_id=row["player_id"],
        ticket_id=row["ticket_id"],
        staff=row["staff"],
        text=row["text"],
        at=row["at"],
        delivered_at=row["delivered_at"],
    )


def _append_message(conn: Connection, ticket: RowMapping, text: str, meta: dict[str, Any], now: float) -> int:
    """Add a ``staff`` message to the ticket's conversation, moving its version on; returns the seq."""
    key = {"tenant": ticket["tenant"], "persona_id": ticket["persona_id"], "player_id": ticket["player_id"]}
    dialect_insert = sqlite_insert if conn.dialect.name == "sqlite" else pg_insert
    conn.execute(
        dialect_insert(conversations)
        .values(
            **key,
            version=1,
            started_at=now,
            updated_at=now,
            affect="null",  # no turn yet: the first turn starts from the persona's baseline
            summary="",
            summarised_upto=0,
            turns=0,
            last_message_seq=1,
            last_event_seq=0,
        )
        .on_conflict_do_update(
            index_elements=["tenant", "persona_id", "player_id"],
            set_={
                "version": conversations.c.version + 1,
                "last_message_seq": conversations.c.last_message_seq + 1,
            },
        )
    )
    where = [conversations.c[k] == v for k, v in key.items()]
    seq = int(conn.execute(select(conversations.c.last_message_seq).where(*where)).scalar_one())
    conn.execute(
        insert(messages).values(
            **key,
            seq=seq,
            role="staff",
            text=text,
            meta=json.dumps(meta, ensure_ascii=False, sort_keys=True),
            at=now,
        )
    )
    return seq


def take_pending(
    conn: Connection, tenant: str, player_id: str, *, persona_id: str | None, mark_delivered: bool, now: float
) -> list[StaffReply]:
    """The player's undelivered replies, oldest first; ``mark_delivered`` hands them out (a write)."""
    where = [
        staff_replies.c.tenant == tenant,
        staff_replies.c.player_id == player_id,
        staff_replies.c.delivered_at.is_(None),
    ]
    if persona_id is not None:
        where.append(staff_replies.c.persona_id == persona_id)
    if mark_delivered:
        # rows another poll marked first fail ``delivered_at IS NULL`` and are skipped
        query: Any = update(staff_replies).where(*where).values(delivered_at=now).returning(*staff_replies.c)
    else:
        query = select(staff_replies).where(*where)
    rows = conn.execute(query).mappings().all()
    return sorted((_reply(r) for r in rows), key=lambda r: (r.at, r.reply_id))


class StaffReplySql:
    """Mixed into :class:`~npc_engine.state.store.SqlStateStore` (which provides ``_tx``)."""

    _tx: Callable[[Callable[[Connection], Any]], Awaitable[Any]]

    async def add_staff_reply(
        self,
        tenant: str,
        ticket_id: str,
        *,
        staff: str,
        text: str,
        now: float,
        expected_version: int | None = None,
        resolution: str | None = None,
    ) -> StaffReply:
        resolving = resolution is not None

        def fn(conn: Connection) -> StaffReply:
            n_events = 2 if resolving else 1
            row = lock_ticket(
                conn, tenant, ticket_id, now=now, expected_version=expected_version, n_events=n_events
            )
            base = {"tenant": tenant, "persona_id": row["persona_id"], "player_id": row["player_id"]}
            reply_row = {**base, "ticket_id": ticket_id, "staff": staff, "text": text, "at": now}
            reply_id = int(
                conn.execute(
                    insert(staff_replies).values(**reply_row).returning(staff_replies.c.id)
                ).scalar_one()
            )
            meta = {"staff": staff, "ticket_id": ticket_id, "reply_id": reply_id}
            seq = _append_message(conn, row, text, meta, now)
            events: list[Event] = [(staff, "replied", {"reply_id": reply_id, "message_seq": seq})]
            line = {"role": "staff", "text": text, "at": now, "staff": staff}
            values: dict[str, Any] = {
                "transcript": json.dumps([*json.loads(row["transcript"]), line], ensure_ascii=False),
                "status": "waiting_on_player",
            }
            if resolving:
                values.update(status="resolved", resolution=resolution, resolved_by=staff, resolved_at=now)
                events.append((staff, "resolved", {"reply_to_player": True}))
            write_events(conn, tenant, ticket_id, row["last_event_seq"], now, events)
            save_ticket(conn, row, values)
            return StaffReply(reply_id=reply_id, **reply_row)

        result: StaffReply = await self._tx(fn)
        return result

    async def pending_replies(
        self,
        tenant: str,
        player_id: str,
        *,
        persona_id: str | None = None,
        mark_delivered: bool,
        now: float,
        receipt: Callable[[Sequence[StaffReply]], Receipt] | None = None,
    ) -> list[StaffReply]:
        def fn(conn: Connection) -> list[StaffReply]:
            replies = take_pending(
                conn, tenant, player_id, persona_id=persona_id, mark_delivered=mark_delivered, now=now
            )
            if receipt is not None:  # the answer commits with the delivery, or neither does
                store_receipt(conn, receipt(replies))
            return replies

        result: list[StaffReply] = await self._tx(fn)
        return result
