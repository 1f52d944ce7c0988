"""Support tickets in SQL: the queue, and compare-and-set changes with their audit trail.

Every change starts with one write that bumps the ticket's ``version`` (and
``last_event_seq``) — ``UPDATE ... WHERE version = :expected`` when the caller read a version
— so the transaction holds the ticket's row lock (PostgreSQL) or the write lock (SQLite)
before it reads anything it rewrites (the transcript is a JSON list). Two staff acting at
once are therefore serialised; one that acted on a stale read gets :class:`ConflictError`
and nothing is written. A change and its audit events are one transaction. Staff replies
(which also write the conversation) are in :mod:`npc_engine.state.staff_reply_sql`.

Ids are ``T-`` and 12 random base32 characters: unguessable, so an id seen in one tenant's
console says nothing about another's, and no counter row is shared between workers.
A partial unique index keeps at most one unresolved ticket per player and persona.
"""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from sqlalchemy import case, func, insert, select, update
from sqlalchemy.engine import Connection, RowMapping
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.elements import ColumnElement

from npc_engine.errors import ConflictError, InvalidInputError, NotFoundError
from npc_engine.state.tables import ticket_events, tickets
from npc_engine.support.tickets import (
    NewTicket,
    Ticket,
    TicketAction,
    TicketEvent,
    TicketFilter,
    TicketStatus,
)

__all__ = [
    "DuplicateTicket",
    "Event",
    "TicketSql",
    "append_lines",
    "find_open_ticket",
    "insert_ticket",
    "lock_ticket",
    "new_ticket_id",
    "save_ticket",
    "write_events",
]

PRIORITY_RANK = {"urgent": 0, "high": 1, "normal": 2, "low": 3}
Event = tuple[str, TicketAction, dict[str, Any]]
"""An audit event to write: (actor, action, detail)."""


def new_ticket_id() -> str:
    """``T-`` and 12 base32 characters (60 random bits)."""
    return "T-" + base64.b32encode(secrets.token_bytes(8)).decode("ascii")[:12]


class DuplicateTicket(Exception):
    """An insert hit a unique index (a taken id, or an unresolved ticket for the same player).

    On PostgreSQL the transaction is then aborted: the caller rolls back and looks again.
    """


def _key(tenant: str, ticket_id: str) -> tuple[ColumnElement[bool], ...]:
    return (tickets.c.tenant == tenant, tickets.c.ticket_id == ticket_id)


def _ticket(row: RowMapping) -> Ticket:
    return Ticket(
        ticket_id=row["ticket_id"],
        tenant=row["tenant"],
        persona_id=row["persona_id"],
        player_id=row["player_id"],
        locale=row["locale"],
        status=row["status"],
        category=row["category"],
        priority=row["priority"],
        reason=row["reason"],
        reason_detail=row["reason_detail"],
        question_redacted=row["question_redacted"],
        summary=row["summary"],
        suggested_reply=row["suggested_reply"],
        sources_tried=json.loads(row["sources_tried"]),
        transcript=json.loads(row["transcript"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        resolved_at=row["resolved_at"],
        resolution=row["resolution"],
        resolved_by=row["resolved_by"],
        version=row["version"],
    )


def _line_key(line: dict[str, Any]) -> tuple[Any, Any, Any]:
    return line.get("role"), line.get("text"), line.get("at")


def _filtered(tenant: str, filt: TicketFilter, now: float) -> list[ColumnElement[bool]]:
    where = [tickets.c.tenant == tenant]
    if filt.status is not None:
        where.append(tickets.c.status == filt.status)
    if filt.priority is not None:
        where.append(tickets.c.priority == filt.priority)
    if filt.category is not None:
        where.append(tickets.c.category == filt.category)
    if filt.min_age_s is not None:
        where.append(tickets.c.created_at <= now - filt.min_age_s)
    if filt.max_age_s is not None:
        where.append(tickets.c.created_at >= now - filt.max_age_s)
    return where


def lock_ticket(
    conn: Connection, tenant: str, ticket_id: str, *, now: float, expected_version: int | None, n_events: int
) -> RowMapping:
    """Bump the version first (taking the lock), then read the row; refuse resolved tickets."""
    where = list(_key(tenant, ticket_id))
    if expected_version is not None:
        where.append(tickets.c.version == expected_version)
    done = conn.execute(
        update(tickets)
        .where(*where)
        .values(
            version=tickets.c.version + 1,
            last_event_seq=tickets.c.last_event_seq + n_events,
            updated_at=now,
        )
    )
    if done.rowcount != 1:
        version = conn.execute(select(tickets.c.version).where(*_key(tenant, ticket_id))).scalar()
        if version is None:
            raise NotFoundError(f"no ticket {ticket_id!r} in tenant {tenant!r}")
        raise ConflictError(
            f"ticket {ticket_id} changed meanwhile (now version {version}, expected {expected_version}); "
            "reload it and try again"
        )
    row = conn.execute(select(tickets).where(*_key(tenant, ticket_id))).mappings().one()
    if row["status"] == "resolved":
        raise InvalidInputError(f"ticket {ticket_id} is resolved and cannot change", code="ticket_resolved")
    return row


def write_events(
    conn: Connection, tenant: str, ticket_id: str, last_seq: int, now: float, events: Sequence[Event]
) -> None:
    first = last_seq - len(events) + 1
    conn.execute(
        insert(ticket_events),
        [
            {
                "tenant": tenant,
                "ticket_id": ticket_id,
                "seq": first + i,
                "at": now,
                "actor": actor,
                "action": action,
                "detail": json.dumps(detail, ensure_ascii=False, sort_keys=True),
            }
            for i, (actor, action, detail) in enumerate(events)
        ],
    )


def save_ticket(conn: Connection, row: RowMapping, values: dict[str, Any]) -> Ticket:
    if values:
        conn.execute(update(tickets).where(*_key(row["tenant"], row["ticket_id"])).values(**values))
    merged = dict(row)
    merged.update(values)
    return _ticket(merged)  # type: ignore[arg-type]


def insert_ticket(conn: Connection, new: NewTicket) -> Ticket:
    """Store ``new`` as an ``open`` ticket with a fresh id and its ``created`` event (:class:`DuplicateTicket`)."""
    ticket_id = new_ticket_id()
    row = {
        "tenant": new.tenant,
        "ticket_id": ticket_id,
        "persona_id": new.persona_id,
        "player_id": new.player_id,
        "locale": new.locale,
        "status": "open",
        "category": new.category,
        "priority": new.priority,
        "reason": new.reason,
        "reason_detail": new.reason_detail,
        "question_redacted": new.question_redacted,
        "summary": new.summary,
        "suggested_reply": new.suggested_reply,
        "sources_tried": json.dumps(new.sources_tried, ensure_ascii=False),
        "transcript": json.dumps(new.transcript, ensure_ascii=False),
        "created_at": new.created_at,
        "updated_at": new.created_at,
        "resolved_at": None,
        "resolution": "",
        "resolved_by": "",
        "version": 1,
        "last_event_seq": 1,
    }
    try:
        conn.execute(insert(tickets).values(**row))
    except IntegrityError:
        raise DuplicateTicket from None
    detail = {"reason": new.reason, "priority": new.priority, "category": new.category}
    write_events(conn, new.tenant, ticket_id, 1, new.created_at, [("engine", "created", detail)])
    return _ticket(row)  # type: ignore[arg-type]


def find_open_ticket(conn: Connection, tenant: str, persona_id: str, player_id: str) -> Ticket | None:
    """The player's unresolved ticket with this persona, if any."""
    row = (
        conn.execute(
            select(tickets)
            .where(
                tickets.c.tenant == tenant,
                tickets.c.persona_id == persona_id,
                tickets.c.player_id == player_id,
                tickets.c.status != "resolved",
            )
            .order_by(tickets.c.created_at.desc())
            .limit(1)
        )
        .mappings()
        .first()
    )
    return None if row is None else _ticket(row)


def append_lines(
    conn: Connection,
    tenant: str,
    ticket_id: str,
    lines: Sequence[dict[str, Any]],
    *,
    now: float,
    actor: str = "player",
    detail: dict[str, Any] | None = None,
    expected_version: int | None = None,
    priority: str | None = None,
) -> Ticket:
    """Add the transcript lines the ticket lacks under its lock (see ``TicketStore.append_transcript``)."""
    row = lock_ticket(conn, tenant, ticket_id, now=now, expected_version=expected_version, n_events=1)
    transcript = json.loads(row["transcript"])
    known = {_line_key(line) for line in transcript}
    added = [line for line in lines if _line_key(line) not in known]
    values: dict[str, Any] = {
        "transcript": json.dumps([*transcript, *added], ensure_ascii=False),
        "status": "open",
    }
    event = {**(detail or {}), "lines": len(added)}
    rank = PRIORITY_RANK.get(row["priority"], len(PRIORITY_RANK))
    if priority is not None and PRIORITY_RANK.get(priority, len(PRIORITY_RANK)) < rank:
        values["priority"] = event["priority"] = priority
    write_events(conn, tenant, ticket_id, row["last_event_seq"], now, [(actor, "player_wrote", event)])
    return save_ticket(conn, row, values)


class TicketSql:
    """Mixed into :class:`~npc_engine.state.store.SqlStateStore` (which provides ``_tx``)."""

    _tx: Callable[[Callable[[Connection], Any]], Awaitable[Any]]

    async def create_ticket(self, new: NewTicket) -> Ticket:
        for _ in range(3):
            try:
                created: Ticket = await self._tx(lambda conn: insert_ticket(conn, new))
                return created
            except DuplicateTicket:
                if await self.open_ticket_for(new.tenant, new.persona_id, new.player_id) is not None:
                    raise ConflictError(
                        f"player {new.player_id!r} already has an unresolved ticket with {new.persona_id!r}"
                    ) from None
        raise ConflictError("could not find a free ticket id; try again")  # pragma: no cover - 2**-60

    async def get_ticket(self, tenant: str, ticket_id: str) -> Ticket | None:
        def fn(conn: Connection) -> Ticket | None:
            row = conn.execute(select(tickets).where(*_key(tenant, ticket_id))).mappings().first()
            return None if row is None else _ticket(row)

        result: Ticket | None = await self._tx(fn)
        return result

    async def list_tickets(self, tenant: str, filt: TicketFilter, *, now: float) -> list[Ticket]:
        rank = case(PRIORITY_RANK, value=tickets.c.priority, else_=len(PRIORITY_RANK))
        query = (
            select(tickets)
            .where(*_filtered(tenant, filt, now))
            .order_by(rank, tickets.c.created_at, tickets.c.ticket_id)
            .limit(filt.limit)
            .offset(filt.offset)
        )

        def fn(conn: Connection) -> list[Ticket]:
            return [_ticket(r) for r in conn.execute(query).mappings()]

        result: list[Ticket] = await self._tx(fn)
        return result

    async def count_tickets(self, tenant: str, filt: TicketFilter, *, now: float) -> int:
        query = select(func.count()).select_from(tickets).where(*_filtered(tenant, filt, now))

        def fn(conn: Connection) -> int:
            return int(conn.execute(query).scalar_one())

        result: int = await self._tx(fn)
        return result

    async def open_ticket_for(self, tenant: str, persona_id: str, player_id: str) -> Ticket | None:
        result: Ticket | None = await self._tx(
            lambda conn: find_open_ticket(conn, tenant, persona_id, player_id)
        )
        return result

    async def update_ticket(
        self,
        tenant: str,
        ticket_id: str,
        *,
        now: float,
        actor: str,
        action: TicketAction,
        detail: dict[str, Any] | None = None,
        expected_version: int | None = None,
        status: TicketStatus | None = None,
        priority: str | None = None,
        category: str | None = None,
        resolution: str | None = None,
    ) -> Ticket:
        changes: dict[str, Any] = {
            k: v
            for k, v in {"status": status, "priority": priority, "category": category}.items()
            if v is not None
        }
        if status == "resolved":
            changes.update(resolution=resolution or "", resolved_by=actor, resolved_at=now)

        def fn(conn: Connection) -> Ticket:
            row = lock_ticket(conn, tenant, ticket_id, now=now, expected_version=expected_version, n_events=1)
            write_events(conn, tenant, ticket_id, row["last_event_seq"], now, [(actor, action, detail or {})])
            return save_ticket(conn, row, changes)

        result: Ticket = await self._tx(fn)
        return result

    async def append_transcript(
        self,
        tenant: str,
        ticket_id: str,
        lines: Sequence[dict[str, Any]],
        *,
        now: float,
        actor: str = "player",
        detail: dict[str, Any] | None = None,
        expected_version: int | None = None,
        priority: str | None = None,
    ) -> Ticket:
        def fn(conn: Connection) -> Ticket:
            return append_lines(
                conn,
                tenant,
                ticket_id,
                lines,
                now=now,
                actor=actor,
                detail=detail,
                expected_version=expected_version,
                priority=priority,
            )

        result: Ticket = await self._tx(fn)
        return result

    async def add_ticket_event(
        self,
        tenant: str,
        ticket_id: str,
        *,
        now: float,
        actor: str,
        action: TicketAction,
        detail: dict[str, Any] | None = None,
    ) -> TicketEvent:
        def fn(conn: Connection) -> TicketEvent:
            done = conn.execute(
                update(tickets)
                .where(*_key(tenant, ticket_id))
                .values(last_event_seq=tickets.c.last_event_seq + 1)
            )
            if done.rowcount != 1:
                raise NotFoundError(f"no ticket {ticket_id!r} in tenant {tenant!r}")
            seq = int(
                conn.execute(select(tickets.c.last_event_seq).where(*_key(tenant, ticket_id))).scalar_one()
            )
            write_events(conn, tenant, ticket_id, seq, now, [(actor, action, detail or {})])
            return TicketEvent(ticket_id, seq, now, actor, action, detail or {})

        result: TicketEvent = await self._tx(fn)
        return result

    async def ticket_events(self, tenant: str, ticket_id: str) -> list[TicketEvent]:
        query = (
            select(
                ticket_events.c.seq,
                ticket_events.c.at,
                ticket_events.c.actor,
                ticket_events.c.action,
                ticket_events.c.detail,
            )
            .where(ticket_events.c.tenant == tenant, ticket_events.c.ticket_id == ticket_id)
            .order_by(ticket_events.c.seq)
        )

        def fn(conn: Connection) -> list[TicketEvent]:
            return [
                TicketEvent(ticket_id, seq, at, actor, action, json.loads(detail))
                for seq, at, actor, action, detail in conn.execute(query)
            ]

        result: list[TicketEvent] = await self._tx(fn)
        return result
