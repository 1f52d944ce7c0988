"""Response models tolerate what a newer server adds; the Player model refuses typos."""

from __future__ import annotations

import pydantic
import pytest
from npc_engine_sdk import NpcReply, Player, SupportReply, Ticket, TicketPage, TurnDelta

from tests.sdk.scripted import MakeClient, ScriptedServer, answer, npc_reply


def test_unknown_response_fields_are_kept_not_refused(make_client: MakeClient) -> None:
    body = npc_reply(mood_music="tavern", emotion={"label": "joy", "intensity": 0.5, "vector": {}, "hue": 3})
    server = ScriptedServer(answer(200, body))
    reply = make_client(server).npcs.turn("brannoc", player="p1", text="Hi")
    assert reply.model_extra == {"mood_music": "tavern"}
    assert reply.emotion.model_extra == {"hue": 3}


def test_fields_the_server_leaves_out_get_defaults() -> None:
    reply = NpcReply.model_validate({"persona_id": "brannoc", "player_id": "p1", "text": "Aye."})
    assert reply.actions == [] and reply.citations == [] and reply.usage.prompt_tokens == 0
    assert reply.emotion.label == "neutral" and reply.fallback is False and reply.debug == {}


def test_a_reply_parses_every_documented_field() -> None:
    reply = NpcReply.model_validate(npc_reply())
    assert reply.actions[0].name == "give_item" and reply.actions[0].args == {"item_id": "horseshoe"}
    assert reply.relationship.axes == {"trust": 0.1} and reply.usage.completion_tokens == 2
    assert reply.timings_ms["total"] == 12.5 and reply.citations == ["lore:forge"]


def test_a_support_reply_parses_citations_and_staff_replies() -> None:
    reply = SupportReply.model_validate(
        {
            "persona_id": "aria",
            "player_id": "p1",
            "text": "Use a Name Change Scroll.",
            "answered": True,
            "escalated": False,
            "citations": [{"id": "faq:name", "kind": "faq", "title": "Names", "score": 0.8}],
            "staff_replies": [{"ticket_id": "T-1", "staff": "Alice", "text": "Done.", "at": 5.0}],
        }
    )
    assert reply.citations[0].id == "faq:name" and reply.staff_replies[0].staff == "Alice"
    assert reply.staff_replies[0].reply_id is None


def test_a_ticket_page_parses_tickets_with_extra_fields() -> None:
    page = TicketPage.model_validate(
        {"tickets": [{"ticket_id": "T-1", "tenant": "x", "status": "open"}], "total": 9}
    )
    assert (
        page.total == 9
        and isinstance(page.tickets[0], Ticket)
        and page.tickets[0].model_extra == {"tenant": "x"}
    )


def test_a_delta_defaults_to_no_reset() -> None:
    assert TurnDelta.model_validate({"text": "Aye"}).reset is False


def test_a_player_refuses_unknown_fields() -> None:
    with pytest.raises(pydantic.ValidationError):
        Player.model_validate({"id": "p1", "age_ratng": 16})


@pytest.mark.parametrize(
    "player",
    [
        "p1",
        {"id": "p1", "flags": ["met_brannoc"]},
        Player(id="p1", flags=["met_brannoc"]),
    ],
)
def test_a_player_may_be_an_id_a_dict_or_a_player(make_client: MakeClient, player: object) -> None:
    server = ScriptedServer(answer(200, npc_reply()))
    make_client(server).npcs.turn("brannoc", player=player, text="Hi")  # type: ignore[arg-type]
    sent = server.body()["player"]
    assert sent["id"] == "p1" and set(sent) <= {"id", "flags"}


def test_a_players_unset_fields_are_not_sent(make_client: MakeClient) -> None:
    server = ScriptedServer(answer(200, npc_reply()))
    make_client(server).npcs.turn("brannoc", player=Player(id="p1", locale="de", age_rating=16), text="Hi")
    assert server.body()["player"] == {"id": "p1", "locale": "de", "age_rating": 16, "flags": []}
