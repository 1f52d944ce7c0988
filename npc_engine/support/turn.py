"""The support turn (DESIGN.md, "Support turn"): answer from the FAQ and resolved tickets, or escalate.

1. Check the message (empty, too long: a clear error; control characters dropped) and
   pick the reply language (``locale``, else the message's language).
2. Redact PII: only the redacted text is embedded, searched, summarised or logged; the
   original stays in the conversation record that staff may see.
3. Triggers (:mod:`npc_engine.support.triggers`): the player asks for a person, a
   sensitive topic, strong negative sentiment, repeated failed answers.
4. Retrieve FAQ entries and tickets (the FAQ also on its own, so FAQ/ticket agreement
   can be measured) and assess them (:mod:`npc_engine.support.confidence`): a
   calibrated confidence, the category, its evidence. Resolved tickets an outage kept out
   of the knowledge base are learned first (:mod:`npc_engine.support.resolutions`). When the
   search had to do without vector similarity (vector store or embedder down), keyword
   matches alone are not trusted: the question is escalated, its reason detail naming the
   outage rather than claiming nothing matched.
5. Answer when nothing triggered and the confidence clears the persona's
   ``escalation.min_confidence``: the chosen source's own text, with citations
   (:mod:`npc_engine.support.answer`). Otherwise escalate: open a ticket (or add to the
   player's open one) with transcript, summary, category, priority, reason, the sources
   tried and a suggested reply, and tell the player honestly what happens next.
6. Commit in one transaction: the ticket change, the staff replies waiting for the player
   (delivered with this reply), the exchange and, with an ``Idempotency-Key``, the answer.
"""

from __future__ import annotations

import asyncio
import functools
import re
import time
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

import structlog

from knowledge.types import SearchHit
from npc_engine.errors import BackendError, ConflictError, InvalidInputError
from npc_engine.locale import detect_language, normalise_locale
from npc_engine.state.records import (
    Conversation,
    ConversationKey,
    Receipt,
    SupportOutcome,
    SupportWrite,
    TurnWrite,
)
from npc_engine.support.answer import adapt_answer, introduced, pick_source, source_text
from npc_engine.support.calibration import Calibrations, support_search
from npc_engine.support.confidence import Assessment, assess
from npc_engine.support.sentiment import PastExchange, count_failed_answers
from npc_engine.support.tickets import NewTicket
from npc_engine.support.triggers import (
    EscalationReason,
    TriggerHit,
    check_triggers,
    priority_for,
    what_happens_next,
)
from npc_engine.support.types import Citation, StaffReplyOut, SupportReply
from npc_engine.turn.types import Player, TurnDelta, Usage, player_words
from personas.schema import SupportPersona

if TYPE_CHECKING:
    from npc_engine.engine import Engine

__all__ = ["SupportTurns"]

log = structlog.get_logger("npc_engine.support")

_HISTORY = 40  # messages loaded for transcripts and the repeated-failure count
_SENTENCE_END = re.compile(r"(?<=[.!?。！？\n])(?=\s*\S)")  # split after, keeping the spaces
_MAX_RETRIES = 4


def _ms(since: float) -> float:
    return round((time.perf_counter() - since) * 1000, 3)


def _degraded_detail(why: str, hits: int) -> str:
    """What staff read on a ticket escalated while the knowledge search could not rank by meaning."""
    found = f"{hits} keyword match(es), not trusted to answer alone" if hits else "no keyword match either"
    return f"knowledge search degraded ({why}); {found}"


def _citation(hit: SearchHit) -> Citation:
    category = hit.metadata.get("category")
    return Citation(
        id=hit.source_id,
        kind=hit.kind,
        title=hit.title[:200],
        category=category if isinstance(category, str) else None,
        score=round(hit.dense_score, 4) if hit.dense_score is not None else None,
    )


class SupportTurns:
    """Support turns for one :class:`~npc_engine.engine.Engine`."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.calibrations = Calibrations()

    async def _persona(self, persona_id: str, tenant: str) -> SupportPersona:
        persona = await self.engine.persona(persona_id, tenant)
        if not isinstance(persona, SupportPersona):
            raise InvalidInputError(f"{persona_id!r} is an NPC, not a support agent; use the NPC turn for it")
        return persona

    async def run(
        self,
        persona_id: str,
        player: Player | str | dict[str, Any],
        text: str,
        *,
        locale: str | None = None,
        tenant: str | None = None,
        receipt: Callable[[SupportReply], Receipt] | None = None,
    ) -> SupportReply:
        """One support turn. ``receipt(reply)`` (the request's idempotent answer) commits with the
        exchange; that reply then has no ``persist`` timing."""
        started = time.perf_counter()
        engine, settings = self.engine, self.engine.settings
        who = Player.of(player)
        words = player_words(text, limit=self.engine.settings.max_input_chars)
        name = engine._tenant(tenant)
        persona = await self._persona(persona_id, name)
        fallback = normalise_locale(who.locale) if who.locale else "en"
        reply_locale = normalise_locale(locale) if locale else detect_language(words, default=fallback)
        redacted = engine.redactor.redact(words).text
        key = ConversationKey(name, persona.id, who.id)
        timings: dict[str, float] = {}

        t = time.perf_counter()
        conv = await engine.state.load_conversation(key, history_limit=_HISTORY)
        history = [
            PastExchange(
                player_message=p.text,
                answered=bool(a.meta.get("answered")),
                escalated=bool(a.meta.get("escalated")),
            )
            for p, a in zip(conv.history, conv.history[1:], strict=False)
            if p.role == "player" and a.role == "agent"
        ]
        trigger: TriggerHit | None = check_triggers(
            redacted, persona, locale=reply_locale, failures=count_failed_answers(history, redacted)
        )
        timings["triggers"] = _ms(t)

        t = time.perf_counter()
        kb = engine.knowledge(name)
        await engine.resolutions.catch_up(name)  # resolutions an outage kept out of the knowledge base
        revision = await engine.state.revision(name)  # one catalog read for the searches and the calibration
        found = await support_search(
            kb, redacted, asyncio.ensure_future(self._embed(redacted)), revision=revision
        )
        merged = found.hits
        calibration = await self.calibrations.get(kb, revision=revision)
        threshold = persona.escalation.min_confidence
        if threshold is None:
            threshold = calibration.model.threshold
        assessment: Assessment = assess(
            merged, stats=calibration.stats, model=calibration.model, threshold=threshold
        )
        timings["retrieve"] = _ms(t)

        t = time.perf_counter()
        source = pick_source(merged, assessment.category, reply_locale) if assessment.category else None
        usage, model_id, adapted = Usage(), "extractive", False
        reason: EscalationReason | None = None
        detail = ""
        if trigger is not None:
            reason, detail = trigger.reason, trigger.evidence
        elif found.degraded is not None:  # BM25 alone is not trusted to answer: say why, not "no match"
            reason, detail = EscalationReason.NO_KNOWLEDGE, _degraded_detail(found.degraded, len(merged))
            log.warning(
                "support.search_degraded",
                tenant=name,
                persona=persona.id,
                why=found.degraded,
                hits=len(merged),
            )
        elif assessment.category is None or source is None:
            reason, detail = EscalationReason.NO_KNOWLEDGE, "no FAQ entry or ticket matched"
        elif not assessment.answerable:
            reason = EscalationReason.LOW_CONFIDENCE
            detail = f"confidence {assessment.confidence:.2f} < {threshold:.2f}"

        citations: list[Citation] = []
        if reason is None and source is not None:
            answer = source_text(source)
            source_locale = str(source.metadata.get("locale") or "en").split("-")[0]
            text_out = introduced(answer, source_locale=source_locale, locale=reply_locale)
            if (
                source_locale != reply_locale
                and settings.support_adapt
                and engine.chat_model.id != "composer"
            ):
                try:
                    result = await adapt_answer(
                        engine.chat_model,
                        answer,
                        locale=reply_locale,
                        agent_name=persona.name,
                        question=redacted,
                        embedder=engine.embedder,
                        timeout_s=settings.llm_timeout_s,
                    )
                    usage = Usage(
                        prompt_tokens=result.prompt_tokens, completion_tokens=result.completion_tokens
                    )
                    if result.ok:
                        text_out, adapted, model_id = result.text, True, engine.chat_model.id
                    else:
                        log.info(
                            "support.adaptation_rejected", persona=persona.id, problems=list(result.problems)
                        )
                except (TimeoutError, BackendError) as exc:
                    log.warning("support.adaptation_failed", persona=persona.id, error=str(exc))
            citations = [_citation(source)]
            if persona.brand_voice.sign_off:
                text_out = f"{text_out}\n{persona.brand_voice.sign_off}"
        timings["answer"] = _ms(t)

        t = time.perf_counter()
        now = engine.clock()  # one time for the player's line, wherever it goes: retries dedupe it
        escalation: NewTicket | None = None
        if reason is not None:
            priority = priority_for(
                reason, trigger.topic if trigger else None, trigger.sentiment if trigger else 0.0
            )
            escalation = NewTicket(
                tenant=name,
                persona_id=persona.id,
                player_id=who.id,
                locale=reply_locale,
                category=assessment.category or "unknown",
                priority=str(priority),
                reason=str(reason),
                reason_detail=detail,
                question_redacted=redacted,
                summary=self._summary(reason, detail, assessment, redacted, conv),
                suggested_reply=engine.redactor.redact(source_text(source)).text if source else "",
                sources_tried=[c.model_dump() for c in map(_citation, merged[:8])],
                transcript=[
                    *({"role": m.role, "text": m.text, "at": m.at} for m in conv.history),
                    {"role": "player", "text": words, "at": now},
                ],
                created_at=now,
            )
        if receipt is not None:  # the answer is stored with the exchange: fix it first
            timings["total"] = _ms(started)

        def build_reply(outcome: SupportOutcome) -> SupportReply:
            """The reply, built inside the turn's transaction: it names the ticket and the staff replies."""
            ticket_id = outcome.ticket.ticket_id if reason is not None and outcome.ticket else None
            return SupportReply(
                persona_id=persona.id,
                player_id=who.id,
                text=f"{what_happens_next(reason, reply_locale)} (#{ticket_id})" if reason else text_out,
                locale=reply_locale,
                answered=reason is None,
                escalated=reason is not None,
                reason=str(reason) if reason else None,
                reason_detail=detail,
                ticket_id=ticket_id,
                confidence=round(assessment.confidence, 4),
                category=assessment.category,
                citations=citations,
                staff_replies=[
                    StaffReplyOut(
                        reply_id=s.reply_id, ticket_id=s.ticket_id, staff=s.staff, text=s.text, at=s.at
                    )
                    for s in outcome.staff_replies
                ],
                usage=usage,
                timings_ms=dict(timings) if receipt is not None else {},
                model=model_id,
                adapted=adapted,
                debug={"features": assessment.features, "evidence": list(assessment.evidence)},
            )

        player_line = None if escalation else {"role": "player", "text": words, "at": now}
        reply = await self._persist(key, conv, words, build_reply, escalation, player_line, receipt)
        if receipt is None:
            timings["persist"] = _ms(t)  # the ticket, the staff replies and the exchange
            timings["total"] = _ms(started)
            reply.timings_ms = timings
        log.info(
            "support.turn",
            tenant=name,
            persona=persona.id,
            answered=reply.answered,
            reason=reply.reason,
            confidence=reply.confidence,
            category=reply.category,
            ticket_id=reply.ticket_id,
            timings_ms=reply.timings_ms,
        )
        return reply

    async def stream(
        self,
        persona_id: str,
        player: Player | str | dict[str, Any],
        text: str,
        *,
        locale: str | None = None,
        tenant: str | None = None,
        receipt: Callable[[SupportReply], Receipt] | None = None,
    ) -> AsyncIterator[TurnDelta | SupportReply]:
        """The reply's text sentence by sentence, then the :class:`SupportReply`.

        Text is released only once it is final: an answer after it passed the source check,
        an escalation after its ticket is stored, so nothing shown is ever taken back.
        """
        reply = await self.run(persona_id, player, text, locale=locale, tenant=tenant, receipt=receipt)
        for piece in _SENTENCE_END.split(reply.text):
            if piece:
                yield TurnDelta(text=piece)
        yield reply

    async def _embed(self, text: str) -> Any:
        try:
            return (await self.engine.embedder.embed([text], kind="query"))[0]
        except BackendError as exc:
            log.warning("support.embed_failed", error=str(exc), code=exc.code)
            return None

    @staticmethod
    def _summary(
        reason: EscalationReason, detail: str, assessment: Assessment, question: str, conv: Conversation
    ) -> str:
        topic = assessment.category or "a topic the knowledge base does not cover"
        earlier = sum(1 for m in conv.history if m.role == "player")
        lines = [
            f"Escalated: {reason.value.replace('_', ' ')} ({detail})."
            if detail
            else f"Escalated: {reason.value}.",
            f'The player asks about {topic}: "{question[:400]}"',
            f"Best match confidence {assessment.confidence:.2f}.",
        ]
        if earlier:
            lines.append(f"{earlier} earlier message(s) from the player in this conversation.")
        return " ".join(lines)

    async def _persist(
        self,
        key: ConversationKey,
        conv: Conversation,
        words: str,
        build_reply: Callable[[SupportOutcome], SupportReply],
        escalation: NewTicket | None,
        player_line: dict[str, Any] | None,
        receipt: Callable[[SupportReply], Receipt] | None,
    ) -> SupportReply:
        """Commit the turn in one transaction (:meth:`TicketDesk.commit_turn`): the ticket change, the
        staff replies delivered, the exchange (original words: only staff see the record) and the
        receipt. A concurrent write rolls all of it back: run again on the fresh conversation."""
        engine = self.engine

        def exchange(
            outcome: SupportOutcome, conv: Conversation, at: float
        ) -> tuple[TurnWrite, SupportReply]:
            reply = build_reply(outcome)
            meta = {
                "answered": reply.answered,
                "escalated": reply.escalated,
                "reason": reply.reason,
                "ticket_id": reply.ticket_id,
                "citations": [c.id for c in reply.citations],
                "confidence": reply.confidence,
            }
            write = TurnWrite(
                key=key,
                expected_version=conv.version,
                started_at=conv.started_at if conv.started_at is not None else at,
                at=at,
                affect=conv.affect or {},
                summary=conv.summary,
                summarised_upto=conv.summarised_upto,
                turns_added=1,
                messages=[("player", words, {"locale": reply.locale}), ("agent", reply.text, meta)],
                receipt=receipt(reply) if receipt is not None else None,
            )
            return write, reply

        for _ in range(_MAX_RETRIES):
            now = engine.clock()
            support = SupportWrite(
                key=key,
                now=now,
                exchange=functools.partial(exchange, conv=conv, at=now),
                escalation=escalation,
                player_line=player_line,
            )
            try:
                _, reply = await engine.desk.commit_turn(support)
                return reply
            except ConflictError:
                conv = await engine.state.load_conversation(key, history_limit=0)
        raise ConflictError(f"support conversation {key.persona_id}/{key.player_id} kept changing; retry")
