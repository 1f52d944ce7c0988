"""What each method sends: method, path (ids percent-encoded), query and body (docs/http-api.md)."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path
from typing import Any

import pytest
from npc_engine_sdk import AsyncNpcClient, NpcClient

from tests.sdk.scripted import MakeAsyncClient, MakeClient, ScriptedServer, answer, npc_reply

TICKET = {"ticket_id": "T-1", "status": "open"}
CONVERSATION = {"persona_id": "brannoc", "player_id": "p 1", "turns": 2}
EVENT = {"persona_id": "brannoc", "player_id": "p1", "event": "gift_received", "applied": True}
STAFF_REPLY = {"ticket_id": "T-1", "staff": "Alice", "text": "Done.", "at": 1.0}


def sent(server: ScriptedServer) -> tuple[str, str, dict[str, Any] | None]:
    request = server.last
    body = (
        server.body()
        if request.content and request.headers.get("content-type") == "application/json"
        else None
    )
    return request.method, request.url.raw_path.decode().split("?")[0], body


@pytest.mark.parametrize(
    "player_id",
    ["player one", "guild/alice", "ünïcødé-玩家", "50%off", "what?#frag", "..", "a+b&c=d"],
)
def test_odd_player_ids_are_one_encoded_path_segment(make_client: MakeClient, player_id: str) -> None:
    from urllib.parse import quote, unquote

    server = ScriptedServer(answer(200, CONVERSATION), answer(204))
    client = make_client(server)
    client.npcs.conversation("brannoc", player_id)
    client.npcs.reset("brannoc", player_id)
    for request in server.requests:
        path = request.url.raw_path.decode().split("?")[0]
        prefix, _, last = path.rpartition("/")
        assert prefix == "/v1/npcs/brannoc/conversations"
        assert unquote(last) == player_id
        assert last in (quote(player_id, safe=""), player_id.replace(".", "%2E"))


def test_an_empty_id_is_refused_before_sending(make_client: MakeClient) -> None:
    server = ScriptedServer(answer(200, CONVERSATION))
    with pytest.raises(ValueError, match="non-empty"):
        make_client(server).npcs.conversation("brannoc", "")
    assert server.requests == []


def test_npc_turn(make_client: MakeClient) -> None:
    server = ScriptedServer(answer(200, npc_reply()))
    make_client(server).npcs.turn(
        "brannoc", player={"id": "p1", "flags": ["met"]}, text="Hello", locale="de", debug=True
    )
    assert sent(server) == (
        "POST",
        "/v1/npcs/brannoc/turns",
        {"player": {"id": "p1", "flags": ["met"]}, "text": "Hello", "locale": "de", "debug": True},
    )


def test_npc_event_from_a_type_and_a_magnitude(make_client: MakeClient) -> None:
    server = ScriptedServer(answer(200, EVENT))
    outcome = make_client(server).npcs.event("brannoc", player="p1", event="gift_received", magnitude=2.5)
    assert outcome.applied and outcome.event == "gift_received"
    assert sent(server) == (
        "POST",
        "/v1/npcs/brannoc/events",
        {"player": {"id": "p1", "flags": []}, "event": {"type": "gift_received", "magnitude": 2.5}},
    )


def test_npc_event_from_a_dict(make_client: MakeClient) -> None:
    server = ScriptedServer(answer(200, EVENT))
    make_client(server).npcs.event("brannoc", player="p1", event={"type": "attacked", "magnitude": 3})
    assert server.body()["event"] == {"type": "attacked", "magnitude": 3}


def test_conversation_pages_with_limit_and_before(make_client: MakeClient) -> None:
    server = ScriptedServer(answer(200, CONVERSATION))
    view = make_client(server).npcs.conversation("brannoc", "p 1", limit=10, before=40)
    assert view.turns == 2 and view.messages == []
    assert dict(server.last.url.params) == {"limit": "10", "before": "40"}


def test_reset_is_a_delete(make_client: MakeClient) -> None:
    server = ScriptedServer(answer(204))
    make_client(server).npcs.reset("brannoc", "p1")
    assert sent(server)[:2] == ("DELETE", "/v1/npcs/brannoc/conversations/p1")


def test_support_turn(make_client: MakeClient) -> None:
    body = {"persona_id": "aria", "player_id": "p1", "text": "Hi", "escalated": True, "ticket_id": "T-9"}
    server = ScriptedServer(answer(200, body))
    reply = make_client(server).support.turn("aria", player="p1", text="I want a human")
    assert reply.escalated and reply.ticket_id == "T-9"
    assert sent(server) == (
        "POST",
        "/v1/support/aria/turns",
        {"player": {"id": "p1", "flags": []}, "text": "I want a human"},
    )


def test_claim_replies(make_client: MakeClient) -> None:
    server = ScriptedServer(answer(200, {"replies": [STAFF_REPLY]}))
    replies = make_client(server).support.claim_replies("p1", persona_id="aria")
    assert [r.text for r in replies] == ["Done."]
    assert sent(server) == (
        "POST",
        "/v1/support/replies/claim",
        {"player_id": "p1", "persona_id": "aria"},
    )


def test_ticket_list_sends_only_the_filters_given(make_client: MakeClient) -> None:
    server = ScriptedServer(answer(200, {"tickets": [TICKET], "total": 31}))
    page = make_client(server).tickets.list(status="open", limit=10, offset=20)
    assert page.total == 31 and page.tickets[0].ticket_id == "T-1"
    assert dict(server.last.url.params) == {"status": "open", "limit": "10", "offset": "20"}


def test_ticket_get_and_events(make_client: MakeClient) -> None:
    event = {"ticket_id": "T-1", "seq": 1, "at": 1.0, "actor": "engine", "action": "created"}
    server = ScriptedServer(answer(200, TICKET), answer(200, {"events": [event]}))
    client = make_client(server)
    assert client.tickets.get("T-1").status == "open"
    assert [e.action for e in client.tickets.events("T-1")] == ["created"]
    assert [r.url.path for r in server.requests] == ["/v1/tickets/T-1", "/v1/tickets/T-1/events"]


def test_ticket_reply_status_and_resolve(make_client: MakeClient) -> None:
    server = ScriptedServer(answer(201, STAFF_REPLY), answer(200, TICKET), answer(200, TICKET))
    client = make_client(server)
    client.tickets.reply("T-1", text="Done.")
    client.tickets.set_status("T-1", status="waiting_on_player", staff="Alice")
    client.tickets.resolve("T-1", resolution="Refunded.", reply_to_player=False)
    assert [(r.url.path, server.body(i)) for i, r in enumerate(server.requests)] == [
        ("/v1/tickets/T-1/replies", {"text": "Done."}),
        ("/v1/tickets/T-1/status", {"status": "waiting_on_player", "staff": "Alice"}),
        ("/v1/tickets/T-1/resolve", {"resolution": "Refunded.", "reply_to_player": False}),
    ]


def test_personas_list_and_get(make_client: MakeClient) -> None:
    personas = {"personas": [{"id": "brannoc", "kind": "npc", "name": "Brannoc"}]}
    server = ScriptedServer(answer(200, personas), answer(200, {"id": "brannoc", "kind": "npc"}))
    client = make_client(server)
    assert [(p.id, p.kind, p.name) for p in client.personas.list()] == [("brannoc", "npc", "Brannoc")]
    assert client.personas.get("brannoc")["kind"] == "npc"
    assert [r.url.path for r in server.requests] == ["/v1/personas", "/v1/personas/brannoc"]


def test_world_ingest_packs_a_folder_as_a_gzipped_tarball(make_client: MakeClient, tmp_path: Path) -> None:
    (tmp_path / "lore").mkdir()
    (tmp_path / "world.yaml").write_text("name: test\n")
    (tmp_path / "lore" / "forge.md").write_text("# Forge\n")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "HEAD").write_text("ref")
    server = ScriptedServer(answer(200, {"files": 1, "personas": 0, "world_changed": True, "new_field": 1}))
    result = make_client(server).world.ingest(tmp_path, force=True)
    assert result.world_changed is True and result.model_extra == {"new_field": 1}
    request = server.last
    assert request.headers["content-type"] == "application/gzip"
    assert dict(request.url.params) == {"force": "true"}
    with tarfile.open(fileobj=io.BytesIO(request.content), mode="r:gz") as tar:
        assert sorted(tar.getnames()) == ["lore/forge.md", "world.yaml"]


def test_world_ingest_sends_bytes_as_they_are(make_client: MakeClient) -> None:
    server = ScriptedServer(answer(200, {"files": 0}))
    make_client(server).world.ingest(b"\x1f\x8b already packed")
    assert server.last.content == b"\x1f\x8b already packed"
    assert dict(server.last.url.params) == {"force": "false"}


def test_world_ingest_of_a_missing_path_fails_before_sending(make_client: MakeClient, tmp_path: Path) -> None:
    server = ScriptedServer(answer(200, {}))
    with pytest.raises(FileNotFoundError):
        make_client(server).world.ingest(tmp_path / "nope")
    assert server.requests == []


async def test_the_async_client_sends_the_same_requests_as_the_sync_client(
    make_client: MakeClient, make_async_client: MakeAsyncClient
) -> None:
    sync_server = ScriptedServer(answer(200, npc_reply()))
    async_server = ScriptedServer(answer(200, npc_reply()))
    sync_client: NpcClient = make_client(sync_server)
    async_client: AsyncNpcClient = make_async_client(async_server)
    kwargs: dict[str, Any] = {"player": {"id": "a/b c"}, "text": "Hi", "idempotency_key": "k1"}
    sync_reply = sync_client.npcs.turn("brannoc", **kwargs)
    async_reply = await async_client.npcs.turn("brannoc", **kwargs)
    assert sync_reply == async_reply
    a, b = sync_server.last, async_server.last
    assert (a.method, a.url, a.content) == (b.method, b.url, b.content)
    assert a.headers == b.headers


def test_sync_and_async_clients_have_the_same_methods() -> None:
    import inspect

    for name in ("npcs", "support", "tickets", "personas", "world"):
        sync_cls = NpcClient.__annotations__[name]
        async_cls = AsyncNpcClient.__annotations__[name]
        sync_cls = getattr(__import__("npc_engine_sdk.resources", fromlist=[sync_cls]), sync_cls)
        async_cls = getattr(__import__("npc_engine_sdk.resources", fromlist=[async_cls]), async_cls)
        public = {n for n in dir(sync_cls) if not n.startswith("_")}
        assert public == {n for n in dir(async_cls) if not n.startswith("_")}
        for method in public:
            assert inspect.signature(getattr(sync_cls, method)).parameters.keys() == (
                inspect.signature(getattr(async_cls, method)).parameters.keys()
            ), f"{name}.{method}"
