"""A game server's conversation with npc-engine, through the SDK, against a running server.

``scripts/demo.sh`` starts ``npc-engine serve`` and runs this with ``NPC_BASE_URL``,
``NPC_API_KEY`` (a game key) and ``NPC_STAFF_KEY`` (a staff key) set. It shows:

1. an NPC turn: text, emotion, relationship and the validated game actions;
2. a game event (a gift) moving the NPC's trust, and the next turn seeing it;
3. the same NPC streaming its answer piece by piece;
4. a support question answered with its citation;
5. a player asking for a person: escalated to a ticket; staff answer it over the API;
   the game claims the staff reply once.
"""

from __future__ import annotations

import os
import uuid

from npc_engine_sdk import NpcClient, Player, TurnDelta

BOLD, DIM, END = "\033[1m", "\033[2m", "\033[0m"


def show(title: str) -> None:
    print(f"\n{BOLD}-- {title}{END}")


def main() -> None:
    player = Player(id=f"demo-{uuid.uuid4().hex[:6]}", name="Kael", locale="en", region="DE", age_rating=16)
    with NpcClient() as game:  # NPC_BASE_URL and NPC_API_KEY (a game key) from the environment
        show("An NPC turn: the player asks Brannoc the smith for something")
        reply = game.npcs.turn(
            "brannoc", player=player, text="Good day, smith. Could you spare me a horseshoe?"
        )
        print(f"Brannoc: {reply.text}")
        print(
            f"{DIM}emotion {reply.emotion.label} ({reply.emotion.intensity:.2f}), "
            f"relationship {reply.relationship.stage} {reply.relationship.axes}{END}"
        )
        actions = ", ".join(f"{a.name}({a.args})" for a in reply.actions) or "none this time"
        print(f"{DIM}game actions (checked against Brannoc's allow-list): {actions}{END}")
        print(
            f"{DIM}lore cited: {reply.citations}; {reply.usage.completion_tokens} tokens; "
            f"{reply.timings_ms.get('total', 0):.0f} ms; composer fallback: {reply.fallback}{END}"
        )

        show("A game event: the player gives Brannoc a gift")
        before = reply.relationship.axes["trust"]
        outcome = game.npcs.event("brannoc", player=player, event="gift_received", magnitude=2.0)
        print(
            f"{DIM}trust {before:+.2f} -> {outcome.relationship.axes['trust']:+.2f}, "
            f"emotion now {outcome.emotion.label}, stage {outcome.relationship.stage}{END}"
        )

        show("The next turn, streamed as Brannoc speaks")
        print("Brannoc: ", end="", flush=True)
        with game.npcs.stream(
            "brannoc", player=player, text="Thank you! What do you know of starsteel?"
        ) as stream:
            for item in stream:
                if isinstance(item, TurnDelta):
                    # reset: a retry or the fallback replaces what was shown (the final reply rules)
                    print(" / " if item.reset else item.text, end="", flush=True)
            final = stream.get_final_reply()
        print(f"\n{DIM}(turn {final.turn}, emotion {final.emotion.label}){END}")

        show("Support: a question the FAQ answers, with its citation")
        answer = game.support.turn("aria", player=player, text="Can I change my character's name?")
        print(f"Aria: {answer.text}")
        for cite in answer.citations:
            print(f"{DIM}  cited {cite.id}: {cite.title}{END}")

        show("Support: the player asks for a person, so Aria escalates")
        escalated = game.support.turn("aria", player=player, text="I want to talk to a human, please.")
        print(f"Aria: {escalated.text}")
        print(
            f"{DIM}escalated: {escalated.escalated} ({escalated.reason}), ticket {escalated.ticket_id}{END}"
        )

        staff_key = os.environ.get("NPC_STAFF_KEY")
        if staff_key and escalated.ticket_id:
            staff = game.with_options(api_key=staff_key)  # shares the connections; a staff key's role
            ticket = staff.tickets.get(escalated.ticket_id)
            print(f"{DIM}staff see: [{ticket.priority}] {ticket.summary}{END}")
            staff.tickets.reply(escalated.ticket_id, text="Hi Kael, Mira from support here. How can I help?")
            claimed = game.support.claim_replies(player.id)
            for staff_reply in claimed:
                print(f"Staff ({staff_reply.staff}) to the player: {staff_reply.text}")
            print(
                f"{DIM}claimed again: {len(game.support.claim_replies(player.id))} replies (each is delivered once){END}"
            )


if __name__ == "__main__":
    main()
