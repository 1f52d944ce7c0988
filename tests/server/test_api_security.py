"""Who may call what: every ``/v1`` route needs a live key of a role allowed there, and a key
sees only its own tenant (another tenant's ids are "not found").

The call table below holds one valid request per operation of the OpenAPI spec; a test fails
when a route is added without a row here, so every new route gets these checks too.
"""

from __future__ import annotations

import asyncio
import dataclasses
import io
import re
import shutil
import tarfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
from fastapi.testclient import TestClient

from npc_engine.auth import create_key
from npc_engine.support.tickets import Ticket
from tests.api_world import DEMO_WORLD, GAME_A, GAME_B, ApiWorld
from tests.server.conftest import new_ticket

UNAUTHENTICATED = {"/healthz", "/readyz", "/metrics"}


@dataclass(frozen=True)
class Call:
    """One valid request to one operation, and the role the contract gives that route."""

    method: str
    route: str  # the OpenAPI path template
    role: str  # game | staff | admin (admin may call every route)
    url: str
    json: Any = None
    content: bytes | None = None
    headers: Mapping[str, str] = field(default_factory=dict)

    def send(self, client: TestClient, auth: Mapping[str, str] | None = None) -> httpx.Response:
        return client.request(
            self.method,
            self.url,
            json=self.json,
            content=self.content,
            headers={**self.headers, **(auth or {})},
        )

    def allows(self, role: str) -> bool:
        return role == "admin" or role == self.role

    def __str__(self) -> str:
        return f"{self.method} {self.route}"


def definition_archive() -> bytes:
    """The demo world's definition (world.yaml and personas, no knowledge) as a .tar.gz.

    Uploading it to a tenant that already holds the demo world changes nothing, so it is a
    valid request that leaves the other rows of the table working.
    """
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        archive.add(DEMO_WORLD / "world.yaml", arcname="world.yaml")
        archive.add(DEMO_WORLD / "personas", arcname="personas")
    return buffer.getvalue()


def call_table(ticket_id: str, player: str) -> list[Call]:
    """Every operation, in an order where each request is valid after the ones before it."""
    turn = {"player": {"id": player}, "text": "Hello smith, how is the forge?"}
    return [
        Call("POST", "/v1/npcs/{persona_id}/turns", "game", "/v1/npcs/brannoc/turns", json=turn),
        Call(
            "POST",
            "/v1/npcs/{persona_id}/events",
            "game",
            "/v1/npcs/brannoc/events",
            json={"player": {"id": player}, "event": {"type": "gift_received"}},
        ),
        Call(
            "GET",
            "/v1/npcs/{persona_id}/conversations/{player_id}",
            "game",
            f"/v1/npcs/brannoc/conversations/{player}",
        ),
        Call(
            "DELETE",
            "/v1/npcs/{persona_id}/conversations/{player_id}",
            "game",
            f"/v1/npcs/brannoc/conversations/{player}",
        ),
        Call(
            "POST",
            "/v1/support/{persona_id}/turns",
            "game",
            "/v1/support/aria/turns",
            json={"player": {"id": player}, "text": "How do I reset my password?"},
        ),
        Call(
            "POST",
            "/v1/support/replies/claim",
            "game",
            "/v1/support/replies/claim",
            json={"player_id": player},
        ),
        Call("GET", "/v1/tickets", "staff", "/v1/tickets"),
        Call("GET", "/v1/tickets/{ticket_id}", "staff", f"/v1/tickets/{ticket_id}"),
        Call("GET", "/v1/tickets/{ticket_id}/events", "staff", f"/v1/tickets/{ticket_id}/events"),
        Call(
            "POST",
            "/v1/tickets/{ticket_id}/replies",
            "staff",
            f"/v1/tickets/{ticket_id}/replies",
            json={"text": "We refunded the second charge."},
        ),
        Call(
            "POST",
            "/v1/tickets/{ticket_id}/status",
            "staff",
            f"/v1/tickets/{ticket_id}/status",
            json={"status": "waiting_on_player"},
        ),
        Call(
            "POST",
            "/v1/tickets/{ticket_id}/resolve",
            "staff",
            f"/v1/tickets/{ticket_id}/resolve",
            json={"resolution": "Refunded the second charge."},
        ),
        Call("GET", "/v1/personas", "admin", "/v1/personas"),
        Call("GET", "/v1/personas/{persona_id}", "admin", "/v1/personas/brannoc"),
        Call("GET", "/v1/models", "game", "/v1/models"),
        Call(
            "POST",
            "/v1/chat/completions",
            "game",
            "/v1/chat/completions",
            json={"model": "npc:brannoc", "user": player, "messages": [{"role": "user", "content": "Hello"}]},
        ),
        Call(
            "POST",
            "/v1/world",
            "admin",
            "/v1/world",
            content=definition_archive(),
            headers={"Content-Type": "application/gzip"},
        ),
    ]


def open_ticket(world: ApiWorld, player: str, tenant: str = GAME_A) -> Ticket:
    """A ticket of the support agent aria, as an escalation opens it."""
    new = dataclasses.replace(new_ticket(player, tenant=tenant), persona_id="aria")
    return asyncio.run(world.engine.desk.open(new))


def table(world: ApiWorld, player: str = "p-sec") -> list[Call]:
    return call_table(open_ticket(world, player).ticket_id, player)


def assert_error(answer: httpx.Response, status: int, code: str, where: object = "") -> dict[str, Any]:
    """``answer`` is the error ``{code, message, request_id}`` with this status and code."""
    assert answer.status_code == status, f"{where}: {answer.status_code} {answer.text}"
    body = answer.json()
    assert set(body) == {"code", "message", "request_id"}, f"{where}: {body}"
    assert body["code"] == code, f"{where}: {body}"
    assert body["message"], f"{where}: {body}"
    assert body["request_id"] == answer.headers["x-request-id"], f"{where}: {body}"
    assert "Traceback" not in answer.text and 'File "' not in answer.text, f"{where}: {answer.text}"
    return body


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def new_key(world: ApiWorld, role: str, tenant: str = GAME_A) -> str:
    _, secret = asyncio.run(create_key(world.engine.state, tenant=tenant, role=role, name=f"extra {role}"))
    return secret


def key_id(secret: str) -> str:
    return secret.split("_")[1]


# -- the route table -----------------------------------------------------------------------
def test_the_call_table_covers_every_operation_of_the_api(api_world: ApiWorld) -> None:
    spec = api_world.app().openapi()["paths"]
    operations = {(method.upper(), path) for path, ops in spec.items() for method in ops}
    covered = {(call.method, call.route) for call in call_table("T-X", "p")}
    assert covered == {op for op in operations if op[1] not in UNAUTHENTICATED}


def test_only_health_readiness_and_metrics_are_open_without_a_key(api_world: ApiWorld) -> None:
    app = api_world.app()
    spec = app.openapi()["paths"]
    open_paths = {path for path, ops in spec.items() if any(not op.get("security") for op in ops.values())}
    assert open_paths == UNAUTHENTICATED
    with TestClient(app) as client:
        for path in sorted(UNAUTHENTICATED):
            assert client.get(path).status_code == 200, path


def test_each_role_may_call_its_own_routes(api_world: ApiWorld) -> None:
    with TestClient(api_world.app()) as client:
        for call in table(api_world):
            if call.role != "admin":
                answer = call.send(client, api_world.auth(f"a-{call.role}"))
                assert answer.status_code < 300, f"{call}: {answer.status_code} {answer.text}"


def test_an_admin_key_may_call_every_route(api_world: ApiWorld) -> None:
    with TestClient(api_world.app()) as client:
        for call in table(api_world):
            answer = call.send(client, api_world.auth("a-admin"))
            assert answer.status_code < 300, f"{call}: {answer.status_code} {answer.text}"


# -- 401: no key, a wrong key, a revoked key ------------------------------------------------
def test_every_route_refuses_a_request_without_a_key(api_world: ApiWorld) -> None:
    with TestClient(api_world.app()) as client:
        for call in table(api_world):
            assert_error(call.send(client), 401, "unauthenticated", call)


def test_a_request_without_a_key_is_refused_before_its_body_is_validated(api_world: ApiWorld) -> None:
    with TestClient(api_world.app()) as client:
        for call in table(api_world):
            if call.json is not None:
                answer = client.request(call.method, call.url, json={"unexpected": True})
                assert_error(answer, 401, "unauthenticated", call)


def test_every_route_refuses_a_malformed_or_unknown_key(api_world: ApiWorld) -> None:
    admin = api_world.keys["a-admin"]
    tampered = admin[:-4] + ("AAAA" if not admin.endswith("AAAA") else "BBBB")
    wrong = {
        "not a key": {"Authorization": "Bearer nonsense"},
        "prefix only": {"Authorization": "Bearer npk_"},
        "unknown key id": bearer("npk_kunknownkeyid0000_" + "x" * 43),
        "right key id, wrong secret": bearer(tampered),
        "no scheme": {"Authorization": admin},
        "basic scheme": {"Authorization": "Basic YWRtaW46YWRtaW4="},
        "empty bearer": {"Authorization": "Bearer "},
    }
    with TestClient(api_world.app()) as client:
        for call in table(api_world):
            for what, header in wrong.items():
                assert_error(call.send(client, header), 401, "unauthenticated", f"{call} with {what}")


def test_every_route_refuses_a_revoked_key(api_world: ApiWorld) -> None:
    world = api_world.restart(key_cache_s=0)
    retired = new_key(world, "admin")
    calls = table(world)
    with TestClient(world.app()) as client:
        assert client.get("/v1/personas", headers=bearer(retired)).status_code == 200
        asyncio.run(world.engine.state.revoke_api_key(key_id(retired), now=time.time()))
        for call in calls:
            assert_error(call.send(client, bearer(retired)), 401, "unauthenticated", call)


def test_revoking_one_key_leaves_the_tenants_other_keys_working(api_world: ApiWorld) -> None:
    world = api_world.restart(key_cache_s=0)
    asyncio.run(world.engine.state.revoke_api_key(key_id(world.keys["a-admin"]), now=time.time()))
    with TestClient(world.app()) as client:
        assert_error(client.get("/v1/models", headers=world.auth("a-admin")), 401, "unauthenticated")
        assert client.get("/v1/models", headers=world.auth("a-game")).status_code == 200


# -- 403: a role below the route's ---------------------------------------------------------
def test_a_game_key_is_forbidden_on_ticket_persona_and_world_routes(api_world: ApiWorld) -> None:
    with TestClient(api_world.app()) as client:
        refused = [call for call in table(api_world) if not call.allows("game")]
        assert {call.role for call in refused} == {"staff", "admin"}
        for call in refused:
            assert_error(call.send(client, api_world.auth("a-game")), 403, "forbidden", call)


def test_a_staff_key_is_forbidden_on_turn_event_conversation_claim_openai_and_admin_routes(
    api_world: ApiWorld,
) -> None:
    with TestClient(api_world.app()) as client:
        refused = [call for call in table(api_world) if not call.allows("staff")]
        assert {call.role for call in refused} == {"game", "admin"}
        for call in refused:
            assert_error(call.send(client, api_world.auth("a-staff")), 403, "forbidden", call)


def test_a_forbidden_request_changes_nothing(api_world: ApiWorld) -> None:
    ticket = open_ticket(api_world, "p-forbidden")
    calls = call_table(ticket.ticket_id, "p-forbidden")
    with TestClient(api_world.app()) as client:
        for call in calls:
            role = "staff" if call.role == "game" else "game"
            assert call.send(client, api_world.auth(f"a-{role}")).status_code == 403, call
        after = client.get(f"/v1/tickets/{ticket.ticket_id}/events", headers=api_world.auth("a-staff"))
        conversation = client.get(
            "/v1/npcs/brannoc/conversations/p-forbidden", headers=api_world.auth("a-game")
        )
    assert [event["action"] for event in after.json()["events"]] == ["created"]
    assert_error(conversation, 404, "not_found")
    assert api_world.model.requests == []


# -- tenants: a key sees only its own ------------------------------------------------------
def test_another_tenants_ticket_is_not_found_on_every_ticket_route(api_world: ApiWorld) -> None:
    theirs = open_ticket(api_world, "p-iso").ticket_id
    ticket_calls = [call for call in call_table(theirs, "p-iso") if "{ticket_id}" in call.route]
    with TestClient(api_world.app()) as client:
        for label in ("b-staff", "b-admin"):
            for call in ticket_calls:
                assert_error(call.send(client, api_world.auth(label)), 404, "not_found", f"{call} as {label}")


def test_another_tenants_ticket_id_is_answered_exactly_like_an_unknown_one(api_world: ApiWorld) -> None:
    theirs = open_ticket(api_world, "p-iso").ticket_id
    unknown = "T-AAAAAAAAAAAA"
    with TestClient(api_world.app()) as client:
        found = client.get(f"/v1/tickets/{theirs}", headers=api_world.auth("b-staff"))
        missing = client.get(f"/v1/tickets/{unknown}", headers=api_world.auth("b-staff"))
    assert_error(found, 404, "not_found")
    assert found.json()["message"].replace(theirs, "<id>") == missing.json()["message"].replace(
        unknown, "<id>"
    )
    assert GAME_A not in found.text


def test_another_tenant_cannot_change_a_ticket(api_world: ApiWorld) -> None:
    theirs = open_ticket(api_world, "p-iso").ticket_id
    writes = [
        call for call in call_table(theirs, "p-iso") if "{ticket_id}" in call.route and call.method == "POST"
    ]
    with TestClient(api_world.app()) as client:
        for call in writes:
            assert call.send(client, api_world.auth("b-staff")).status_code == 404, call
        events = client.get(f"/v1/tickets/{theirs}/events", headers=api_world.auth("a-staff")).json()[
            "events"
        ]
        ticket = client.get(f"/v1/tickets/{theirs}", headers=api_world.auth("a-staff")).json()
        claimed = client.post(
            "/v1/support/replies/claim", json={"player_id": "p-iso"}, headers=api_world.auth("a-game")
        ).json()
    assert [event["action"] for event in events] == ["created"]
    assert ticket["status"] == "open" and ticket["resolution"] == ""
    assert claimed == {"replies": []}


def test_another_tenants_tickets_are_not_in_the_queue(api_world: ApiWorld) -> None:
    theirs = open_ticket(api_world, "p-iso", tenant=GAME_A).ticket_id
    ours = open_ticket(api_world, "p-iso", tenant=GAME_B).ticket_id
    with TestClient(api_world.app()) as client:
        queue = client.get("/v1/tickets", params={"limit": 1000}, headers=api_world.auth("b-staff")).json()
    listed = {ticket["ticket_id"] for ticket in queue["tickets"]}
    assert ours in listed and theirs not in listed
    assert queue["total"] == len(listed)


def test_staff_replies_are_claimed_only_by_the_tickets_tenant(api_world: ApiWorld) -> None:
    ticket = open_ticket(api_world, "p-shared").ticket_id
    claim = {"player_id": "p-shared"}
    with TestClient(api_world.app()) as client:
        sent = client.post(
            f"/v1/tickets/{ticket}/replies", json={"text": "Refunded."}, headers=api_world.auth("a-staff")
        )
        assert sent.status_code == 201
        other = client.post("/v1/support/replies/claim", json=claim, headers=api_world.auth("b-game")).json()
        own = client.post("/v1/support/replies/claim", json=claim, headers=api_world.auth("a-game")).json()
    assert other == {"replies": []}
    assert [reply["text"] for reply in own["replies"]] == ["Refunded."]


def test_another_tenants_conversation_with_the_same_player_is_not_found(api_world: ApiWorld) -> None:
    turn = {"player": {"id": "p-shared"}, "text": "Hello smith"}
    with TestClient(api_world.app()) as client:
        assert (
            client.post("/v1/npcs/brannoc/turns", json=turn, headers=api_world.auth("a-game")).status_code
            == 200
        )
        ours = client.get("/v1/npcs/brannoc/conversations/p-shared", headers=api_world.auth("a-game"))
        theirs = client.get("/v1/npcs/brannoc/conversations/p-shared", headers=api_world.auth("b-game"))
    assert ours.status_code == 200
    assert_error(theirs, 404, "not_found")


def test_another_tenant_deleting_a_conversation_leaves_it_in_place(api_world: ApiWorld) -> None:
    turn = {"player": {"id": "p-shared"}, "text": "Hello smith"}
    url = "/v1/npcs/brannoc/conversations/p-shared"
    with TestClient(api_world.app()) as client:
        assert (
            client.post("/v1/npcs/brannoc/turns", json=turn, headers=api_world.auth("a-game")).status_code
            == 200
        )
        assert client.delete(url, headers=api_world.auth("b-game")).status_code in (204, 404)
        kept = client.get(url, headers=api_world.auth("a-game"))
    assert kept.status_code == 200 and kept.json()["turns"] == 1


def test_a_turn_in_another_tenant_starts_its_own_conversation(api_world: ApiWorld) -> None:
    said = "Remember the password quillfeather"
    turn = {"player": {"id": "p-shared"}, "text": said}
    with TestClient(api_world.app()) as client:
        for _ in range(2):
            answer = client.post("/v1/npcs/brannoc/turns", json=turn, headers=api_world.auth("a-game"))
        assert answer.json()["turn"] == 2
        other = {"player": {"id": "p-shared"}, "text": "Hello smith"}
        theirs = client.post("/v1/npcs/brannoc/turns", json=other, headers=api_world.auth("b-game"))
    assert theirs.status_code == 200 and theirs.json()["turn"] == 1
    asked = "\n".join(message.content for message in api_world.model.requests[-1].messages)
    assert "quillfeather" not in asked


def test_an_idempotency_key_replays_only_within_its_tenant(api_world: ApiWorld) -> None:
    turn = {"player": {"id": "p-shared"}, "text": "Hello smith"}
    with TestClient(api_world.app()) as client:
        for label in ("a-game", "b-game"):
            headers = {**api_world.auth(label), "Idempotency-Key": "same-key-1"}
            answer = client.post("/v1/npcs/brannoc/turns", json=turn, headers=headers)
            assert answer.status_code == 200, f"{label}: {answer.text}"
            assert "idempotent-replayed" not in answer.headers, label
        theirs = client.get("/v1/npcs/brannoc/conversations/p-shared", headers=api_world.auth("b-game"))
    assert theirs.status_code == 200 and theirs.json()["turns"] == 1
    assert len(api_world.model.requests) == 2  # each tenant's turn ran


def ingest_extra_persona(world: ApiWorld, tenant: str, persona_id: str) -> None:
    """Give ``tenant`` one more NPC (a copy of Brannoc named ``persona_id``) than the demo world has."""
    folder = world.root / f"{tenant}-plus"
    shutil.copytree(DEMO_WORLD / "personas", folder / "personas")
    shutil.copy(DEMO_WORLD / "world.yaml", folder / "world.yaml")
    text = (DEMO_WORLD / "personas" / "brannoc.yaml").read_text(encoding="utf-8")
    text = re.sub(r"(?m)^id: brannoc$", f"id: {persona_id}", text, count=1)
    text = re.sub(r"(?m)^name: .*$", "name: Tamsin Emberhand", text, count=1)
    (folder / "personas" / f"{persona_id}.yaml").write_text(text, encoding="utf-8")
    asyncio.run(world.engine.ingest(folder, tenant=tenant))


def test_an_admin_lists_and_reads_only_its_own_tenants_personas(api_world: ApiWorld) -> None:
    ingest_extra_persona(api_world, GAME_A, "tamsin")
    with TestClient(api_world.app()) as client:
        ours = client.get("/v1/personas", headers=api_world.auth("a-admin")).json()["personas"]
        theirs = client.get("/v1/personas", headers=api_world.auth("b-admin")).json()["personas"]
        read = client.get("/v1/personas/tamsin", headers=api_world.auth("b-admin"))
    assert "tamsin" in {p["id"] for p in ours}
    assert {p["id"] for p in theirs} == {p["id"] for p in ours} - {"tamsin"}
    assert_error(read, 404, "not_found")


def test_the_models_list_holds_only_the_tenants_own_personas(api_world: ApiWorld) -> None:
    ingest_extra_persona(api_world, GAME_A, "tamsin")
    with TestClient(api_world.app()) as client:
        ours = client.get("/v1/models", headers=api_world.auth("a-game")).json()["data"]
        theirs = client.get("/v1/models", headers=api_world.auth("b-game")).json()["data"]
    assert "npc:tamsin" in {m["id"] for m in ours}
    assert {m["id"] for m in theirs} == {m["id"] for m in ours} - {"npc:tamsin"}
    assert {m["owned_by"] for m in theirs} == {GAME_B}


def test_a_persona_only_another_tenant_has_cannot_be_talked_to(api_world: ApiWorld) -> None:
    ingest_extra_persona(api_world, GAME_A, "tamsin")
    turn = {"player": {"id": "p-1"}, "text": "Hello"}
    chat = {"model": "npc:tamsin", "user": "p-1", "messages": [{"role": "user", "content": "Hello"}]}
    with TestClient(api_world.app()) as client:
        npc = client.post("/v1/npcs/tamsin/turns", json=turn, headers=api_world.auth("b-game"))
        openai = client.post("/v1/chat/completions", json=chat, headers=api_world.auth("b-game"))
        assert (
            client.post("/v1/npcs/tamsin/turns", json=turn, headers=api_world.auth("a-game")).status_code
            == 200
        )
    assert_error(npc, 404, "not_found")
    assert_error(openai, 404, "not_found")


def test_an_uploaded_world_lands_only_in_the_uploading_admins_tenant(api_world: ApiWorld) -> None:
    before = asyncio.run(api_world.engine.state.list_personas(GAME_A))
    with TestClient(api_world.app()) as client:
        answer = client.post(
            "/v1/world",
            content=definition_archive(),
            headers={**api_world.auth("b-admin"), "Content-Type": "application/gzip"},
        )
    assert answer.status_code == 200, answer.text
    assert not (api_world.root / "worlds" / GAME_A).exists()
    assert (api_world.root / "worlds" / GAME_B / "world.yaml").is_file()
    assert asyncio.run(api_world.engine.state.list_personas(GAME_A)) == before
