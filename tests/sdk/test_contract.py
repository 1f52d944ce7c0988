"""The SDK against the real app (``create_app(engine)`` over fakes): sync through ``TestClient``,
async through ``httpx.ASGITransport``, and the in-process mode, which must answer alike."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from npc_engine_sdk import (
    AsyncNpcClient,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    NotFoundError,
    NpcClient,
    NpcReply,
    PermissionDeniedError,
    RateLimitError,
    TurnDelta,
    UnprocessableEntityError,
)
from npc_engine_sdk.resources.world import pack_world
from pydantic import BaseModel

from npc_engine.auth import create_key
from npc_engine.engine import Engine
from npc_engine.server.app import create_app
from tests.turn.conftest import DEMO_WORLD

MakeEngine = Callable[..., Engine]
JOY = json.dumps({"text": "Aye, the forge is hot today, lad.", "emotion": "joy", "actions": []})
BASE = "http://test"
ODD_PLAYER_IDS = ["player one", "guild/alice", "玩家-ünï", "50%off?#", "..", "a+b&c=d"]


@dataclass
class Served:
    engine: Engine
    app: FastAPI
    keys: dict[str, str]  # role -> secret, tenant "default"


async def _keys(engine: Engine, tenant: str, roles: tuple[str, ...]) -> dict[str, str]:
    await engine.state.ensure_tenant(tenant)
    return {
        role: (await create_key(engine.state, tenant=tenant, role=role, name=f"sdk {role}"))[1]
        for role in roles
    }


@pytest.fixture
def served(make_engine: MakeEngine) -> Served:
    engine = make_engine([JOY])
    keys = asyncio.run(_keys(engine, engine.settings.tenant, ("game", "staff", "admin")))
    return Served(engine, create_app(engine), keys)


class ViaTestClient(httpx.BaseTransport):
    """An httpx transport that hands each request to starlette's ``TestClient``.

    Here ``TestClient`` is built on ``httpx2``, so it is not itself an ``httpx.Client``; this
    keeps the app in one event loop (the ``TestClient``'s) and gives the SDK plain httpx.
    """

    _HOP = frozenset({"host", "content-length", "transfer-encoding", "content-encoding"})

    def __init__(self, client: TestClient) -> None:
        self.client = client

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        headers = [(k, v) for k, v in request.headers.multi_items() if k.lower() not in self._HOP]
        answer = self.client.request(
            request.method, str(request.url), headers=headers, content=request.read()
        )
        kept = [(k, v) for k, v in answer.headers.multi_items() if k.lower() not in self._HOP]
        return httpx.Response(answer.status_code, headers=kept, content=answer.content)


@pytest.fixture
def http(served: Served) -> Iterator[httpx.Client]:
    """An httpx client whose requests the real app answers (through ``TestClient``)."""
    with (
        TestClient(served.app, base_url=BASE) as test_client,
        httpx.Client(transport=ViaTestClient(test_client)) as client,
    ):
        yield client


@pytest.fixture
def game(served: Served, http: httpx.Client) -> NpcClient:
    return NpcClient(api_key=served.keys["game"], base_url=BASE, http_client=http)


@pytest.fixture
def staff(served: Served, http: httpx.Client) -> NpcClient:
    return NpcClient(api_key=served.keys["staff"], base_url=BASE, http_client=http)


@pytest.fixture
def admin(served: Served, http: httpx.Client) -> NpcClient:
    return NpcClient(api_key=served.keys["admin"], base_url=BASE, http_client=http)


@pytest.fixture
def local(served: Served) -> Iterator[NpcClient]:
    with NpcClient.in_process(served.engine) as client:
        yield client


@pytest.fixture
async def agame(served: Served) -> AsyncIterator[AsyncNpcClient]:
    transport = httpx.ASGITransport(app=served.app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE) as http:
        yield AsyncNpcClient(api_key=served.keys["game"], base_url=BASE, http_client=http)


def same_shape(a: BaseModel, b: BaseModel) -> None:
    """Both modes answer with the same model, the same fields, and no field only one of them has."""
    assert type(a) is type(b)
    assert set(a.model_dump()) == set(b.model_dump())
    assert set(a.model_extra or {}) == set(b.model_extra or {})


# -- NPCs -----------------------------------------------------------------------------------------
def test_an_npc_turn_over_http_is_the_in_process_reply(
    game: NpcClient, local: NpcClient, player: str
) -> None:
    remote = game.npcs.turn("brannoc", player={"id": player + "-h", "flags": []}, text="Hello smith")
    inproc = local.npcs.turn("brannoc", player={"id": player + "-l", "flags": []}, text="Hello smith")
    same_shape(remote, inproc)
    assert remote.text == inproc.text == "Aye, the forge is hot today, lad."
    assert remote.emotion.vector and remote.emotion.label == inproc.emotion.label
    assert remote.debug == {} and remote.model_extra == {}


def test_debug_comes_back_only_when_asked_for(game: NpcClient, player: str) -> None:
    assert game.npcs.turn("brannoc", player=player, text="Hello", debug=True).debug
    assert game.npcs.turn("brannoc", player=player, text="Hello again").debug == {}


def test_a_stream_over_http_yields_deltas_then_the_reply(game: NpcClient, player: str) -> None:
    with game.npcs.stream("brannoc", player=player, text="When should I come back?") as stream:
        items = list(stream)
    assert len(items) > 1 and all(isinstance(i, TurnDelta) for i in items[:-1])
    assert isinstance(items[-1], NpcReply)
    assert "".join(i.text for i in items[:-1] if isinstance(i, TurnDelta)) == items[-1].text


def test_an_event_over_http_is_the_in_process_outcome(game: NpcClient, local: NpcClient, player: str) -> None:
    remote = game.npcs.event("brannoc", player=player + "-h", event="gift_received", magnitude=2)
    inproc = local.npcs.event("brannoc", player=player + "-l", event="gift_received", magnitude=2)
    same_shape(remote, inproc)
    assert remote.applied == inproc.applied and remote.relationship.axes == inproc.relationship.axes


@pytest.mark.parametrize("odd", ODD_PLAYER_IDS)
def test_conversations_of_odd_player_ids_are_read_and_reset(
    game: NpcClient, local: NpcClient, player: str, odd: str
) -> None:
    player_id = f"{player} {odd}"
    game.npcs.turn("brannoc", player=player_id, text="Hello there")
    remote = game.npcs.conversation("brannoc", player_id, limit=10)
    same_shape(remote, local.npcs.conversation("brannoc", player_id, limit=10))
    assert remote.player_id == player_id and [m.role for m in remote.messages] == ["player", "npc"]
    game.npcs.reset("brannoc", player_id)
    with pytest.raises(NotFoundError):
        game.npcs.conversation("brannoc", player_id)


def test_a_dot_dot_player_id_reaches_its_own_conversation(game: NpcClient) -> None:
    game.npcs.turn("brannoc", player="..", text="Hello there")
    assert game.npcs.conversation("brannoc", "..").player_id == ".."
    game.npcs.reset("brannoc", "..")


def test_an_unknown_persona_is_not_found_in_both_modes_with_a_request_id_over_http(
    game: NpcClient, local: NpcClient, player: str
) -> None:
    with pytest.raises(NotFoundError) as remote:
        game.npcs.turn("nobody", player=player, text="Hello")
    with pytest.raises(NotFoundError) as inproc:
        local.npcs.turn("nobody", player=player, text="Hello")
    assert remote.value.code == inproc.value.code == "not_found"
    assert remote.value.request_id and inproc.value.request_id is None


def test_an_unknown_persona_in_a_stream_is_not_found(game: NpcClient, player: str) -> None:
    with pytest.raises(NotFoundError):
        list(game.npcs.stream("nobody", player=player, text="Hello"))


def test_an_invalid_event_is_unprocessable_in_both_modes(
    game: NpcClient, local: NpcClient, player: str
) -> None:
    for client in (game, local):
        with pytest.raises(UnprocessableEntityError):
            client.npcs.event("brannoc", player=player, event={"type": "gift", "magnitude": 99})


def test_an_empty_message_is_a_bad_request_in_both_modes(
    game: NpcClient, local: NpcClient, player: str
) -> None:
    for client in (game, local):
        with pytest.raises(BadRequestError) as raised:
            client.npcs.turn("brannoc", player=player, text="   ")
        assert raised.value.code == "invalid_input"


# -- keys and idempotency -------------------------------------------------------------------------
def test_a_wrong_key_is_an_authentication_error(http: httpx.Client, player: str) -> None:
    client = NpcClient(api_key="npk_knope_nothing", base_url=BASE, http_client=http)
    with pytest.raises(AuthenticationError) as raised:
        client.npcs.turn("brannoc", player=player, text="Hello")
    assert raised.value.code == "unauthenticated" and raised.value.request_id


def test_a_game_key_may_not_read_tickets(game: NpcClient) -> None:
    with pytest.raises(PermissionDeniedError):
        game.tickets.list()


def test_a_retried_turn_with_the_same_key_runs_once(game: NpcClient, player: str) -> None:
    first = game.npcs.turn("brannoc", player=player, text="Hello", idempotency_key=f"{player}-1")
    again = game.npcs.turn("brannoc", player=player, text="Hello", idempotency_key=f"{player}-1")
    assert again == first and first.turn == 1
    assert game.npcs.conversation("brannoc", player).turns == 1


def test_a_reused_idempotency_key_is_a_conflict_that_is_not_retried(
    served: Served, http: httpx.Client, player: str
) -> None:
    attempts: list[httpx.Request] = []
    http.event_hooks["request"].append(attempts.append)
    game = NpcClient(api_key=served.keys["game"], base_url=BASE, http_client=http)
    game.npcs.turn("brannoc", player=player, text="Hello", idempotency_key=f"{player}-k")
    with pytest.raises(ConflictError) as raised:
        game.npcs.turn("brannoc", player=player, text="Something else", idempotency_key=f"{player}-k")
    assert raised.value.code == "idempotency_key_reused" and len(attempts) == 2


def test_the_rate_limit_answer_says_when_to_retry(make_engine: MakeEngine, player: str) -> None:
    engine = make_engine([JOY], rate_limit_per_s=0.5, rate_limit_burst=1)
    keys = asyncio.run(_keys(engine, engine.settings.tenant, ("game",)))
    waits: list[float] = []
    with (
        TestClient(create_app(engine), base_url=BASE) as test_client,
        httpx.Client(transport=ViaTestClient(test_client)) as http,
    ):
        game = NpcClient(
            api_key=keys["game"], base_url=BASE, http_client=http, max_retries=1, _sleep=waits.append
        )
        game.npcs.turn("brannoc", player=player, text="Hello")
        with pytest.raises(RateLimitError) as raised:
            game.npcs.turn("brannoc", player=player, text="Hello again")
    assert raised.value.retry_after == 2.0 and raised.value.request_id
    assert waits == [2.0]  # the one retry waited what the server said


# -- support and tickets --------------------------------------------------------------------------
def test_a_support_answer_over_http_is_the_in_process_answer(
    game: NpcClient, local: NpcClient, player: str
) -> None:
    question = "Can I change my character's name?"
    remote = game.support.turn("aria", player=player + "-h", text=question)
    inproc = local.support.turn("aria", player=player + "-l", text=question)
    same_shape(remote, inproc)
    assert remote.answered and remote.citations == inproc.citations and remote.text == inproc.text


def test_a_support_stream_over_http_ends_with_the_support_reply(game: NpcClient, player: str) -> None:
    reply = game.support.stream(
        "aria", player=player, text="Can I change my character's name?"
    ).get_final_reply()
    assert reply.answered and reply.citations


def test_an_escalation_is_worked_by_staff_and_delivered_to_the_game(
    game: NpcClient, staff: NpcClient, local: NpcClient, player: str
) -> None:
    escalated = game.support.turn("aria", player=player, text="I want to talk to a human please")
    assert escalated.escalated and escalated.ticket_id
    ticket_id = escalated.ticket_id
    ticket = staff.tickets.get(ticket_id)
    same_shape(ticket, local.tickets.get(ticket_id))
    page = staff.tickets.list(status="open", limit=1000)
    assert ticket_id in [t.ticket_id for t in page.tickets] and page.total >= 1
    same_shape(page, local.tickets.list(status="open", limit=1000))
    sent = staff.tickets.reply(ticket_id, text="A person will help you now.")
    assert sent.staff == "sdk staff" and sent.reply_id is not None
    same_shape(sent, local.tickets.reply(ticket_id, text="And a second note."))
    claimed = game.support.claim_replies(player, persona_id="aria", idempotency_key=f"{player}-claim")
    assert [r.text for r in claimed] == ["A person will help you now.", "And a second note."]
    assert game.support.claim_replies(player, persona_id="aria", idempotency_key=f"{player}-claim") == claimed
    assert game.support.claim_replies(player) == []
    waiting = staff.tickets.set_status(ticket_id, status="waiting_on_player", staff="Alice")
    assert waiting.status == "waiting_on_player"
    resolved = staff.tickets.resolve(ticket_id, resolution="Renamed.", reply_to_player=False)
    assert resolved.status == "resolved" and resolved.resolved_by == "sdk staff"
    remote_events = staff.tickets.events(ticket_id)
    local_events = local.tickets.events(ticket_id)
    assert [e.action for e in remote_events] == [e.action for e in local_events][: len(remote_events)]
    same_shape(remote_events[0], local_events[0])


def test_claimed_replies_have_the_same_shape_in_both_modes(
    game: NpcClient, staff: NpcClient, local: NpcClient, player: str
) -> None:
    ticket_id = game.support.turn("aria", player=player, text="I want to talk to a human please").ticket_id
    assert ticket_id
    staff.tickets.reply(ticket_id, text="One.")
    remote = game.support.claim_replies(player)
    staff.tickets.reply(ticket_id, text="Two.")
    inproc = local.support.claim_replies(player)
    assert [r.text for r in remote] == ["One."] and [r.text for r in inproc] == ["Two."]
    same_shape(remote[0], inproc[0])


def test_an_invalid_status_change_is_unprocessable(staff: NpcClient) -> None:
    with pytest.raises(UnprocessableEntityError):
        staff.tickets.set_status("T-NOPE", status="resolved")


def test_an_unknown_ticket_is_not_found(staff: NpcClient) -> None:
    with pytest.raises(NotFoundError):
        staff.tickets.get("T-NOPE")


# -- admin ----------------------------------------------------------------------------------------
def test_personas_over_http_are_the_in_process_personas(admin: NpcClient, local: NpcClient) -> None:
    remote = admin.personas.list()
    assert remote == local.personas.list()
    assert {"brannoc", "aria"} <= {p.id for p in remote}
    assert admin.personas.get("brannoc") == local.personas.get("brannoc")
    with pytest.raises(NotFoundError):
        admin.personas.get("nobody")


def test_a_world_is_uploaded_and_ingested(served: Served, http: httpx.Client) -> None:
    keys = asyncio.run(_keys(served.engine, "sdk-upload", ("admin",)))
    admin = NpcClient(api_key=keys["admin"], base_url=BASE, http_client=http)
    first = admin.world.ingest(DEMO_WORLD)
    assert first.world_changed and first.personas and first.chunks_embedded
    again = admin.world.ingest(pack_world(DEMO_WORLD))
    assert not again.world_changed and again.chunks_embedded == 0
    with NpcClient.in_process(served.engine, tenant="sdk-upload") as local:
        same_shape(again, local.world.ingest(pack_world(DEMO_WORLD)))
    assert {p.id for p in admin.personas.list()} >= {"brannoc", "aria"}


def test_a_broken_upload_is_a_bad_request(admin: NpcClient) -> None:
    with pytest.raises(BadRequestError):
        admin.world.ingest(b"this is not a tarball")


# -- async ----------------------------------------------------------------------------------------
async def test_the_async_client_runs_turns_events_and_conversations(
    agame: AsyncNpcClient, player: str
) -> None:
    reply = await agame.npcs.turn("brannoc", player=player, text="Hello smith")
    assert isinstance(reply, NpcReply) and reply.text == "Aye, the forge is hot today, lad."
    outcome = await agame.npcs.event("brannoc", player=player, event={"type": "attacked"})
    assert outcome.event == "attacked"
    view = await agame.npcs.conversation("brannoc", player)
    assert view.turns == 1
    await agame.npcs.reset("brannoc", player)
    with pytest.raises(NotFoundError):
        await agame.npcs.conversation("brannoc", player)


async def test_the_async_stream_yields_deltas_then_the_reply(agame: AsyncNpcClient, player: str) -> None:
    items: list[Any] = [i async for i in agame.npcs.stream("brannoc", player=player, text="Hello")]
    assert isinstance(items[0], TurnDelta) and isinstance(items[-1], NpcReply)


async def test_the_async_client_sees_the_typed_errors(agame: AsyncNpcClient, player: str) -> None:
    with pytest.raises(NotFoundError) as raised:
        await agame.support.turn("nobody", player=player, text="Hello")
    assert raised.value.request_id
    with pytest.raises(PermissionDeniedError):
        await agame.personas.list()


class LosesFirstAnswer(httpx.BaseTransport):
    """The server gets and runs each first POST, but its answer is lost on the way back."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.sent: list[httpx.Request] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(request)
        answer = self.inner.handle_request(request)
        if request.method == "POST" and sum(r.url == request.url for r in self.sent) == 1:
            raise httpx.ReadTimeout("the answer was lost", request=request)
        return answer


@pytest.mark.parametrize("path", ["turns", "events"])
def test_an_automatic_retry_after_a_lost_answer_runs_the_turn_once_on_the_server(
    served: Served, player: str, path: str
) -> None:
    with TestClient(served.app, base_url=BASE) as test_client:
        flaky = LosesFirstAnswer(ViaTestClient(test_client))
        with httpx.Client(transport=flaky) as http:
            game = NpcClient(
                api_key=served.keys["game"],
                base_url=BASE,
                http_client=http,
                max_retries=2,
                _sleep=lambda _: None,
            )
            asked_before = served.engine.chat_model.calls  # type: ignore[attr-defined]
            if path == "turns":
                result = game.npcs.turn("brannoc", player=player, text="Hello")
                assert result.turn == 1
            else:
                game.npcs.turn("brannoc", player=player, text="Hello")
                game.npcs.event("brannoc", player=player, event="gift_received")
            view = game.npcs.conversation("brannoc", player)
    posts = [r for r in flaky.sent if r.method == "POST" and r.url.path.endswith(path)]
    assert len(posts) == 2  # the lost one and its retry
    assert posts[0].headers["idempotency-key"] == posts[1].headers["idempotency-key"]
    assert view.turns == 1  # the turn ran once: the retry got the first answer back
    if path == "turns":
        assert served.engine.chat_model.calls - asked_before == 1  # type: ignore[attr-defined]
    else:
        log = asyncio.run(served.engine.state.affect_log(_key(served, player)))
        assert sum(e.get("type") == "gift_received" for e in log) == 1


def _key(served: Served, player: str) -> Any:
    from npc_engine.state.records import ConversationKey

    return ConversationKey(served.engine.settings.tenant, "brannoc", player)
