"""A support turn in one transaction: its ticket, the staff replies it delivers, its exchange, its receipt.

:meth:`SupportTurnSql.commit_support_turn` runs a
:class:`~npc_engine.state.records.SupportWrite` with the helpers the single-purpose methods
use (:func:`~npc_engine.state.staff_reply_sql.take_pending`,
:func:`~npc_engine.state.ticket_sql.insert_ticket` and
:func:`~npc_engine.state.ticket_sql.append_lines`,
:func:`~npc_engine.state.conversation_sql.write_turn`), so a worker killed at any point leaves
all of it or none: a retry with the same ``Idempotency-Key`` finds the answer, or finds
nothing done (no ticket line twice, no staff reply handed out to an answer that was lost).

Order, and why:

1. Mark the pending staff replies delivered. It is a write, so on SQLite the transaction holds
   the write lock from its first statement (every later read sees the latest state).
2. The ticket: the same lock order as a staff reply (ticket, then conversation), so the two
   cannot deadlock on PostgreSQL.
3. The exchange (compare-and-set on the conversation's version) and, last, the receipt.

On PostgreSQL a concurrent transaction can resolve the ticket just read, or open the
player's ticket first (the insert then fails on the one-unresolved-ticket index, which
aborts the transaction): the whole transaction is run again, a bounded number of times.
A conversation that moved is :class:`~npc_engine.errors.ConflictError` for the caller, who
reloads it and builds the write again.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy.engine import Connection

from npc_engine.errors import ConflictError, InvalidInputError, NotFoundError
from npc_engine.state.conversation_sql import write_turn
from npc_engine.state.records import SupportOutcome, SupportWrite
from npc_engine.state.staff_reply_sql import take_pending
from npc_engine.state.ticket_sql import DuplicateTicket, append_lines, find_open_ticket, insert_ticket

__all__ = ["SupportTurnSql"]

R = TypeVar("R")
_ATTEMPTS = 5


class _TicketMoved(Exception):
    """The ticket read was resolved (or is gone) before its lock was taken: roll back, run again."""


def _ticket_step(conn: Connection, write: SupportWrite[Any]) -> SupportOutcome:
    """Open or join the player's ticket (an escalation), or add the player's line to it."""
    key, new, line = write.key, write.escalation, write.player_line
    if new is None and line is None:
        return SupportOutcome(None, None)
    ticket = find_open_ticket(conn, key.tenant, key.persona_id, key.player_id)
    try:
        if new is not None and ticket is None:
            return SupportOutcome(insert_ticket(conn, new), "created")
        if new is not None and ticket is not None:
            merged = append_lines(
                conn,
                key.tenant,
                ticket.ticket_id,
                new.transcript,
                now=write.now,
                actor="engine",
                detail={"escalation": new.reason},
                priority=new.priority,
            )
            return SupportOutcome(merged, "merged")
        if ticket is None or line is None:
            return SupportOutcome(None, None)
        return SupportOutcome(
            append_lines(conn, key.tenant, ticket.ticket_id, [line], now=write.now), "player_wrote"
        )
    except NotFoundError:
        raise _TicketMoved from None
    except InvalidInputError as exc:
        if exc.code != "ticket_resolved":
            raise
        raise _TicketMoved from None


class SupportTurnSql:
    """Mixed into :class:`~npc_engine.state.store.SqlStateStore` (which provides ``_tx``)."""

    _tx: Callable[[Callable[[Connection], Any]], Awaitable[Any]]

    async def commit_support_turn(self, write: SupportWrite[R]) -> tuple[SupportOutcome, R]:
        """Commit ``write`` in one transaction; returns what it did and the exchange's answer.

        :class:`ConflictError` (nothing written) when the conversation is no longer at the
        exchange's ``expected_version``, or the player's tickets kept changing.
        """
        key = write.key
        if write.escalation is not None and (
            write.escalation.tenant,
            write.escalation.persona_id,
            write.escalation.player_id,
        ) != (key.tenant, key.persona_id, key.player_id):
            raise InvalidInputError("the escalation is for another conversation than the support turn's")

        def fn(conn: Connection) -> tuple[SupportOutcome, R]:
            delivered = take_pending(
                conn, key.tenant, key.player_id, persona_id=key.persona_id, mark_delivered=True, now=write.now
            )
            step = _ticket_step(conn, write)
            outcome = SupportOutcome(step.ticket, step.action, tuple(delivered))
            turn, answer = write.exchange(outcome)
            if turn.key != key:
                raise InvalidInputError("the exchange is for another conversation than the support turn's")
            write_turn(conn, turn)
            return outcome, answer

        for _ in range(_ATTEMPTS):
            try:
                result: tuple[SupportOutcome, R] = await self._tx(fn)
                return result
            except (_TicketMoved, DuplicateTicket):
                continue
        raise ConflictError(f"the tickets of player {key.player_id!r} kept changing; try again")
