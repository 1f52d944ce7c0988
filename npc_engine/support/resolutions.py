"""The resolved-ticket history: resolved tickets join the knowledge base, even after an outage.

A ticket staff resolve is learned by :meth:`Resolutions.learn` (the desk's ``on_resolved``
hook): its redacted question and resolution become one ``ticket`` document, catalog source
``desk::tickets/<id>``, retrievable by later support turns. Ingest writes the vectors
before the catalog, so when the embedder or the vector store is down the hook fails (the
desk logs it; the ticket stays resolved) and the catalog has no source for the ticket.

:meth:`Resolutions.catch_up` closes that gap without a restart: it lists the tenant's
resolved tickets, learns those whose source the catalog lacks (at most ``batch`` per call),
and reports ``support.resolutions_caught_up``. It does that work only while the tenant may be
behind on this worker, and otherwise returns at once:

* on its first call for a tenant in this process: a worker that starts after an outage (or
  after a worker whose hook failed went away) learns what was missed;
* after this worker's hook failed for the tenant;
* while a call left tickets for the next one (more than ``batch`` were missing).

A catch-up that fails (the backend is still down) is tried again no sooner than ``retry_s``
later, so an outage costs each worker at most one failed attempt per tenant and ``retry_s``.
The support turn calls :meth:`catch_up` before it searches, and a resolution learned calls
it too, so a ticket resolved during an outage is learned by the first of them once the
backend is back.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import structlog

from knowledge.ingest import ingest_documents
from knowledge.types import Document
from npc_engine.errors import BackendError, NpcEngineError
from npc_engine.support.pii import PiiRedactor
from npc_engine.support.tickets import Ticket, TicketFilter

if TYPE_CHECKING:
    from npc_engine.engine import Engine

__all__ = ["ROOT", "Resolutions", "resolution_document"]

log = structlog.get_logger("npc_engine.support")

ROOT = "desk"
"""The catalog root of resolved tickets (one source ``tickets/<id>`` each)."""
_PAGE = 500


def _rel(ticket_id: str) -> str:
    return f"tickets/{ticket_id}"


def _learnable(ticket: Ticket) -> bool:
    """Whether the ticket has a question and an answer to learn (redaction never empties text)."""
    return bool((ticket.question_redacted or ticket.summary).strip() and ticket.resolution.strip())


def resolution_document(ticket: Ticket, redactor: PiiRedactor) -> Document | None:
    """The knowledge document of a resolved ticket (redacted), or ``None`` when it has nothing to learn."""
    if not _learnable(ticket):
        return None
    question = ticket.question_redacted or ticket.summary
    resolution = redactor.redact(ticket.resolution).text
    return Document(
        kind="ticket",
        doc_id=ticket.ticket_id,
        title=question[:300],
        body=resolution,
        source_path=f"{ROOT}/{ticket.ticket_id}",
        locale=ticket.locale,
        category=ticket.category,  # "unknown" too: similar questions then get the staff answer
        extra={"question": question, "resolution": resolution},
    )


class Resolutions:
    """Learning resolved tickets for one :class:`~npc_engine.engine.Engine` (see the module docstring)."""

    def __init__(
        self,
        engine: Engine,
        *,
        retry_s: float = 30.0,
        batch: int = 100,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.engine = engine
        self.retry_s = retry_s
        self.batch = batch
        self._monotonic = monotonic
        self._current: set[str] = set()  # tenants with every resolved ticket learned, as far as we know
        self._retry_at: dict[str, float] = {}  # after a failed catch-up: not before then
        self._misses: dict[str, int] = {}  # failed hooks per tenant (a catch-up they overlap is not trusted)
        self._unlearnable: set[tuple[str, str]] = set()  # (tenant, ticket id) refused for good: not retried
        self._locks: dict[str, asyncio.Lock] = {}

    async def learn(self, ticket: Ticket) -> None:
        """Index a resolved ticket; if that fails, remember that the tenant is behind, and raise."""
        try:
            await self._ingest(ticket)
        except Exception as exc:
            self._current.discard(ticket.tenant)
            self._misses[ticket.tenant] = self._misses.get(ticket.tenant, 0) + 1
            self._retry_at.pop(ticket.tenant, None)  # the next support turn tries again
            log.warning(
                "support.resolution_deferred",
                tenant=ticket.tenant,
                ticket_id=ticket.ticket_id,
                error=f"{type(exc).__name__}: {exc}",
            )
            raise
        await self.catch_up(ticket.tenant)  # the backend answers: learn what an outage kept out

    async def catch_up(self, tenant: str) -> int:
        """Learn the tenant's resolved tickets the knowledge base lacks, when it may lack some.

        Returns how many were learned. Never raises for a backend failure: it logs
        ``support.resolutions_behind`` and tries again after ``retry_s``.
        """
        if tenant in self._current or self._monotonic() < self._retry_at.get(tenant, 0.0):
            return 0
        async with self._locks.setdefault(tenant, asyncio.Lock()):
            if tenant in self._current:
                return 0
            misses = self._misses.get(tenant, 0)
            try:
                learned, more = await self._learn_missing(tenant)
            except BackendError as exc:
                self._retry_at[tenant] = self._monotonic() + self.retry_s
                log.warning(
                    "support.resolutions_behind",
                    tenant=tenant,
                    error=str(exc),
                    code=exc.code,
                    retry_s=self.retry_s,
                )
                return 0
            self._retry_at.pop(tenant, None)
            if not more and self._misses.get(tenant, 0) == misses:
                self._current.add(tenant)
            if learned:
                log.info("support.resolutions_caught_up", tenant=tenant, learned=learned, more=more)
            return learned

    async def _learn_missing(self, tenant: str) -> tuple[int, bool]:
        """(tickets learned, whether more are missing than one batch allowed)."""
        state = self.engine.state
        known = await state.sources(tenant, ROOT)
        learned, offset = 0, 0
        while True:
            page = await state.list_tickets(
                tenant, TicketFilter(status="resolved", limit=_PAGE, offset=offset), now=self.engine.clock()
            )
            for ticket in page:
                if (
                    _rel(ticket.ticket_id) in known
                    or (tenant, ticket.ticket_id) in self._unlearnable
                    or not _learnable(ticket)
                ):
                    continue
                if learned >= self.batch:
                    return learned, True
                try:
                    await self._ingest(ticket)
                except BackendError:
                    raise
                except NpcEngineError as exc:  # this ticket can never be learned: say so once, go on
                    self._unlearnable.add((tenant, ticket.ticket_id))
                    log.error(
                        "support.resolution_unlearnable",
                        tenant=tenant,
                        ticket_id=ticket.ticket_id,
                        code=exc.code,
                    )
                    continue
                learned += 1
            if len(page) < _PAGE:
                return learned, False
            offset += _PAGE

    async def _ingest(self, ticket: Ticket) -> None:
        engine = self.engine
        doc = resolution_document(ticket, engine.redactor)
        if doc is None:
            return
        await ingest_documents(
            engine.knowledge(ticket.tenant),
            [doc],
            root=ROOT,
            rel=_rel(ticket.ticket_id),
            chunk_tokens=engine.settings.chunk_tokens,
            chunk_overlap=engine.settings.chunk_overlap,
        )
