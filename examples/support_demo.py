"""A scripted support conversation on the demo world (run by scripts/demo.sh after ingest).

Shows: an answer with its citation, a Chinese question answered from the Chinese FAQ, an
escalation to staff with a ticket, a staff reply delivered on the player's next call, and
the resolved ticket retrieved for a later paraphrase.
"""

from __future__ import annotations

import asyncio

from npc_engine.engine import Engine
from npc_engine.logging import configure_logging
from npc_engine.settings import Settings


def show(label: str, reply) -> None:  # type: ignore[no-untyped-def]
    print(f"\n> {label}")
    print(f"  {reply.text}")
    if reply.answered:
        cited = ", ".join(c.id for c in reply.citations)
        print(f"  [answered, confidence {reply.confidence:.2f}, category {reply.category}, cites {cited}]")
    else:
        print(f"  [escalated: {reply.reason} ({reply.reason_detail}); ticket {reply.ticket_id}]")
    for staff in reply.staff_replies:
        print(f"  staff reply from {staff.staff}: {staff.text}")


async def main() -> None:
    configure_logging("WARNING")  # keep the engine's info events out of the printed conversation
    # composer: answers are the sources' own words; no local model call is needed here
    engine = Engine.from_settings(Settings(llm="composer", embed_threads=1))
    try:
        player = "demo-support-player"
        question = "I forgot my password. How do I reset it?"
        show(question, await engine.support_turn("aria", player, question))
        question = "为什么要做实名认证？怎么认证？"
        show(question, await engine.support_turn("aria", player, question))
        question = "I was charged twice for the gem pack, my card is 4111 1111 1111 1111"
        escalated = await engine.support_turn("aria", player, question)
        show(question, escalated)
        ticket = await engine.desk.get(engine.settings.tenant, escalated.ticket_id or "")
        print(
            f"\n  ticket {ticket.ticket_id}: priority {ticket.priority}, summary (PII redacted): {ticket.summary}"
        )
        await engine.desk.reply(
            engine.settings.tenant,
            ticket.ticket_id,
            staff="sam",
            text="Refund of the duplicate charge started.",
        )
        question = "Thanks! Also, can I change my character's name?"
        show(question, await engine.support_turn("aria", player, question))
        await engine.desk.resolve(
            engine.settings.tenant,
            ticket.ticket_id,
            staff="sam",
            resolution="Duplicate gem pack charges are refunded by billing within 5 business days.",
            reply_to_player=False,
        )
        hits = await engine.knowledge().search("charged twice for a gem pack", kinds=("ticket",), k=3)
        found = ", ".join(h.source_id for h in hits)
        print(f"\n  resolved and learned: 'charged twice for a gem pack' now finds {found}")
        print(f"  (ticket:{ticket.ticket_id} is the one just resolved, stored with its card number redacted)")
    finally:
        engine.close()


if __name__ == "__main__":
    asyncio.run(main())
