"""The staff console, through the real app (``TestClient``): sign-in, queue, ticket, actions, safety."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from npc_engine.server import create_app
from npc_engine.settings import Settings
from tests.server.conftest import GAME_B, ConsoleWorld, form_token, sign_in


@pytest.fixture
def client(console_world: ConsoleWorld) -> Iterator[TestClient]:
    with TestClient(create_app(console_world.engine)) as client:
        yield client


@pytest.fixture
def staff(client: TestClient, console_world: ConsoleWorld) -> TestClient:
    """A client signed in as game A's staff member "Alice Agent"."""
    assert sign_in(client, console_world.keys["a-staff"]).status_code == 303
    return client


def ticket_rows(html: str) -> list[str]:
    return re.findall(r'<tr data-ticket="([^"]+)">', html)


def audit_rows(html: str) -> list[tuple[str, str]]:
    """(who, what) of each audit-trail row."""
    table = html.split('data-testid="audit"', 1)[1]
    return re.findall(r"<tr><td>[^<]*</td><td>([^<]*)</td><td>([^<]*)</td>", table)


def post_form(client: TestClient, page_url: str, action: str, data: dict[str, str]) -> Any:
    """Post a form as a browser does: with the CSRF token of the page it is on."""
    token = form_token(client.get(page_url).text)
    return client.post(action, data={**data, "csrf": token}, follow_redirects=False)


# -- sign in and out -----------------------------------------------------------------------
def test_healthz_answers_ok(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}


def test_without_a_session_every_page_redirects_to_sign_in(
    client: TestClient, console_world: ConsoleWorld
) -> None:
    ticket = console_world.open("p-1")
    for url in ["/console/", f"/console/tickets/{ticket.ticket_id}"]:
        answer = client.get(url, follow_redirects=False)
        assert answer.status_code == 303
        assert answer.headers["location"] == "/console/login"
    posted = client.post(
        f"/console/tickets/{ticket.ticket_id}/reply", data={"text": "hi"}, follow_redirects=False
    )
    assert posted.headers["location"] == "/console/login"


def test_an_unknown_key_is_refused(client: TestClient) -> None:
    answer = sign_in(client, "npk_not-a-real-key")
    assert answer.status_code == 401
    assert "That key was not accepted." in answer.text
    assert "npc_console=" not in answer.headers.get("set-cookie", "")


def test_a_game_key_cannot_open_the_console(client: TestClient, console_world: ConsoleWorld) -> None:
    answer = sign_in(client, console_world.keys["a-game"])
    assert answer.status_code == 403
    assert "A game key cannot open the console" in answer.text
    assert client.get("/console/", follow_redirects=False).status_code == 303


def test_sign_in_without_the_form_nonce_is_refused(client: TestClient, console_world: ConsoleWorld) -> None:
    answer = client.post(
        "/console/login", data={"key": console_world.keys["a-staff"]}, follow_redirects=False
    )
    assert answer.status_code == 403
    assert "npc_console=" not in answer.headers.get("set-cookie", "")


def test_sign_in_sets_a_strict_http_only_cookie_scoped_to_the_console(
    client: TestClient, console_world: ConsoleWorld
) -> None:
    answer = sign_in(client, console_world.keys["a-staff"])
    assert answer.status_code == 303
    assert answer.headers["location"] == "/console/"
    cookie = next(c for c in answer.headers.get_list("set-cookie") if c.startswith("npc_console="))
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")}
    assert {"httponly", "samesite", "path"} <= attributes
    assert "samesite=strict" in cookie.lower() and "path=/console" in cookie.lower()
    assert "secure" not in attributes  # plain http here; see the https test


def test_the_cookie_is_secure_over_https(console_world: ConsoleWorld) -> None:
    with TestClient(create_app(console_world.engine), base_url="https://testserver") as client:
        cookie = next(
            c
            for c in sign_in(client, console_world.keys["a-staff"]).headers.get_list("set-cookie")
            if c.startswith("npc_console=")
        )
    assert "secure" in cookie.lower()


def test_an_admin_key_may_sign_in(client: TestClient, console_world: ConsoleWorld) -> None:
    assert sign_in(client, console_world.keys["a-admin"]).status_code == 303
    assert "Ada Admin" in client.get("/console/").text


def test_signing_out_ends_the_session_on_the_server(staff: TestClient) -> None:
    token = staff.cookies.get("npc_console")
    answer = post_form(staff, "/console/", "/console/logout", {})
    assert answer.status_code == 303
    assert "You are signed out." in staff.get("/console/login?done=signed_out").text
    staff.cookies.set("npc_console", token or "", path="/console")  # a copied cookie is dead too
    assert staff.get("/console/", follow_redirects=False).status_code == 303


def test_sign_in_page_redirects_a_signed_in_user_to_the_queue(staff: TestClient) -> None:
    answer = staff.get("/console/login", follow_redirects=False)
    assert answer.headers["location"] == "/console/"


# -- queue ----------------------------------------------------------------------------------
@pytest.fixture
def queue(console_world: ConsoleWorld) -> dict[str, str]:
    """Four tickets of game A, by player: fresh, hours old, days old, and a resolved one."""
    w = console_world
    ids = {
        "fresh": w.open("p-fresh", age_s=20 * 60, priority="urgent", category="account"),
        "hours": w.open("p-hours", age_s=5 * 3600, priority="high", category="billing"),
        "days": w.open("p-days", age_s=3 * 86400, priority="low", category="bugs"),
        "done": w.open("p-done", age_s=2 * 3600, priority="normal", category="billing"),
    }
    asyncio.run(w.desk.resolve("ironhold", ids["done"].ticket_id, staff="Earlier", resolution="Fixed."))
    return {name: t.ticket_id for name, t in ids.items()}


def test_the_queue_lists_the_tenants_tickets(staff: TestClient, queue: dict[str, str]) -> None:
    page = staff.get("/console/")
    assert page.status_code == 200
    assert set(ticket_rows(page.text)) == set(queue.values())
    assert "p-fresh" in page.text and "urgent" in page.text


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status=open", {"fresh", "hours", "days"}),
        ("status=resolved", {"done"}),
        ("priority=high", {"hours"}),
        ("category=billing", {"hours", "done"}),
        ("age=lt1h", {"fresh"}),
        ("age=lt1d", {"fresh", "hours", "done"}),
        ("age=gt1d", {"days"}),
        ("status=open&category=billing&age=lt1d", {"hours"}),
    ],
)
def test_the_queue_filters(staff: TestClient, queue: dict[str, str], query: str, expected: set[str]) -> None:
    page = staff.get(f"/console/?{query}")
    assert set(ticket_rows(page.text)) == {queue[name] for name in expected}


def test_the_filter_form_keeps_the_chosen_values(staff: TestClient, queue: dict[str, str]) -> None:
    page = staff.get("/console/?status=open&priority=high&category=billing&age=lt1d").text
    assert '<option value="open" selected>' in page
    assert '<option value="high" selected>' in page
    assert '<option value="lt1d" selected>' in page
    assert 'name="category" value="billing"' in page


def test_an_unknown_filter_value_is_a_readable_400(staff: TestClient) -> None:
    page = staff.get("/console/?status=closed")
    assert page.status_code == 400
    assert "unknown status &#39;closed&#39;" in page.text
    assert page.headers["content-type"].startswith("text/html")


def test_the_queue_pages_by_25(staff: TestClient, console_world: ConsoleWorld) -> None:
    for n in range(27):
        console_world.open(f"p-{n:02d}", age_s=60.0 * (n + 1))
    first = staff.get("/console/")
    assert len(ticket_rows(first.text)) == 25
    assert 'href="/console/?page=2" rel="next"' in first.text
    second = staff.get("/console/?page=2")
    assert len(ticket_rows(second.text)) == 2
    assert 'rel="prev"' in second.text and 'rel="next"' not in second.text
    assert not set(ticket_rows(first.text)) & set(ticket_rows(second.text))


# -- one ticket -----------------------------------------------------------------------------
def test_the_ticket_page_shows_everything_staff_need(staff: TestClient, console_world: ConsoleWorld) -> None:
    ticket = console_world.open("p-7", message="My account was hacked", category="account")
    page = staff.get(f"/console/tickets/{ticket.ticket_id}").text
    assert "p-7 reports: My account was hacked" in page  # summary
    assert "sensitive topic — payments" in page  # reason and detail
    assert "account" in page and "normal" in page
    assert re.search(r"<strong>player</strong> · 2023-11-14 \d\d:\d\d UTC</span>My account was hacked", page)
    assert "faq:refunds" in page and "0.41" in page  # sources tried, with score
    assert re.search(r'<textarea id="reply-text"[^>]*>Sorry about that! I have asked billing', page)
    assert ("engine", "created") in audit_rows(page)
    assert ("Alice Agent", "viewed") in audit_rows(page)


def test_a_reply_reaches_the_desk_and_the_audit_trail(staff: TestClient, console_world: ConsoleWorld) -> None:
    ticket = console_world.open("p-8")
    url = f"/console/tickets/{ticket.ticket_id}"
    answer = post_form(staff, url, f"{url}/reply", {"text": "  We refunded you.  "})
    assert answer.status_code == 303
    assert answer.headers["location"] == f"{url}?done=replied"
    page = staff.get(f"{url}?done=replied").text
    assert "Reply sent" in page
    assert "waiting on player" in page
    assert ("Alice Agent", "replied") in audit_rows(page)
    assert "We refunded you." in page  # in the transcript


def test_staff_can_change_the_status(staff: TestClient, console_world: ConsoleWorld) -> None:
    ticket = console_world.open("p-9")
    url = f"/console/tickets/{ticket.ticket_id}"
    answer = post_form(staff, url, f"{url}/status", {"status": "waiting_on_player"})
    assert answer.headers["location"] == f"{url}?done=status"
    page = staff.get(url).text
    assert '<dd data-testid="status">waiting on player</dd>' in page
    assert ("Alice Agent", "status changed") in audit_rows(page)


def test_resolved_is_not_a_status_to_set(staff: TestClient, console_world: ConsoleWorld) -> None:
    ticket = console_world.open("p-10")
    url = f"/console/tickets/{ticket.ticket_id}"
    answer = post_form(staff, url, f"{url}/status", {"status": "resolved"})
    assert answer.status_code == 400


@pytest.mark.parametrize(("send", "done"), [(True, "resolved_sent"), (False, "resolved")])
def test_resolving_closes_the_ticket(
    staff: TestClient, console_world: ConsoleWorld, send: bool, done: str
) -> None:
    ticket = console_world.open(f"p-11-{send}")
    url = f"/console/tickets/{ticket.ticket_id}"
    form = {"resolution": "Refunded the duplicate charge."} | ({"send_to_player": "1"} if send else {})
    answer = post_form(staff, url, f"{url}/resolve", form)
    assert answer.headers["location"] == f"{url}?done={done}"
    page = staff.get(f"{url}?done={done}").text
    assert "Ticket resolved" in page
    assert '<dd class="pre" data-testid="resolution">Refunded the duplicate charge.</dd>' in page
    assert "Alice Agent" in page and ("Alice Agent", "resolved") in audit_rows(page)
    assert 'name="text"' not in page and "Resolve</button>" not in page  # no more actions
    pending = asyncio.run(
        console_world.desk.pending_replies("ironhold", ticket.player_id, mark_delivered=False)
    )
    assert [r.text for r in pending] == (["Refunded the duplicate charge."] if send else [])


def test_an_empty_reply_is_refused(staff: TestClient, console_world: ConsoleWorld) -> None:
    ticket = console_world.open("p-12")
    url = f"/console/tickets/{ticket.ticket_id}"
    answer = post_form(staff, url, f"{url}/reply", {"text": "   "})
    assert answer.status_code == 400
    assert "the reply is empty" in answer.text


# -- CSRF, tenants, escaping ------------------------------------------------------------------
@pytest.mark.parametrize("token", [None, "", "0" * 64])
def test_a_form_without_the_sessions_csrf_token_is_refused(
    staff: TestClient, console_world: ConsoleWorld, token: str | None
) -> None:
    ticket = console_world.open("p-13")
    url = f"/console/tickets/{ticket.ticket_id}"
    data = {"text": "forged"} | ({} if token is None else {"csrf": token})
    answer = staff.post(f"{url}/reply", data=data, follow_redirects=False)
    assert answer.status_code == 403
    assert "security token" in answer.text
    assert "forged" not in staff.get(url).text


def test_the_csrf_token_changes_with_each_session(client: TestClient, console_world: ConsoleWorld) -> None:
    sign_in(client, console_world.keys["a-staff"])
    first = form_token(client.get("/console/").text)
    post_form(client, "/console/", "/console/logout", {})
    sign_in(client, console_world.keys["a-staff"])
    assert form_token(client.get("/console/").text) != first


def test_staff_of_another_game_never_see_the_ticket(client: TestClient, console_world: ConsoleWorld) -> None:
    ticket = console_world.open("p-14")
    sign_in(client, console_world.keys["b-staff"])
    assert ticket.ticket_id not in client.get("/console/").text
    page = client.get(f"/console/tickets/{ticket.ticket_id}")
    assert page.status_code == 404
    assert "p-14" not in page.text and "Dragon Pack" not in page.text
    token = form_token(client.get("/console/").text)
    for action, data in [
        ("reply", {"text": "x"}),
        ("resolve", {"resolution": "x"}),
        ("status", {"status": "open"}),
    ]:
        answer = client.post(f"/console/tickets/{ticket.ticket_id}/{action}", data={**data, "csrf": token})
        assert answer.status_code == 404, action
    events = asyncio.run(console_world.desk.events("ironhold", ticket.ticket_id))
    assert [e.action for e in events] == ["created"]
    assert GAME_B not in {e.actor for e in events}


def test_player_text_is_escaped(staff: TestClient, console_world: ConsoleWorld) -> None:
    ticket = console_world.open("p-15", message="<script>alert('pwned')</script>")
    page = staff.get(f"/console/tickets/{ticket.ticket_id}").text
    assert "<script>" not in page
    assert "&lt;script&gt;alert(&#39;pwned&#39;)&lt;/script&gt;" in page


def test_console_pages_forbid_scripts_framing_and_caching(staff: TestClient) -> None:
    headers = staff.get("/console/").headers
    assert "default-src 'none'" in headers["content-security-policy"]
    assert headers["x-frame-options"] == "DENY"
    assert headers["cache-control"] == "no-store"


def test_an_unknown_ticket_is_an_html_404(staff: TestClient) -> None:
    page = staff.get("/console/tickets/T-NOSUCHTICKET")
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert "Back to the queue" in page.text


def test_an_unknown_console_page_is_an_html_404(client: TestClient) -> None:
    page = client.get("/console/nowhere/at/all")
    assert page.status_code == 404
    assert "There is no such page." in page.text


# -- the app factory -----------------------------------------------------------------------
def test_given_settings_the_app_builds_its_engine_on_start_up(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, embedder="hash", vector_store="memory", data_dir=tmp_path)  # type: ignore[call-arg]
    app = create_app(settings)
    assert not hasattr(app.state, "engine")  # nothing is built before start-up
    with TestClient(app) as client:
        assert client.get("/healthz").status_code == 200
        engine = app.state.engine
        assert engine.settings is settings
    assert (tmp_path / "state.db").exists()


def test_create_app_refuses_anything_else() -> None:
    with pytest.raises(TypeError, match="an Engine or a Settings"):
        create_app("sqlite://")  # type: ignore[arg-type]


def test_opening_a_ticket_is_audited_but_the_page_after_an_action_is_not(
    staff: TestClient, console_world: ConsoleWorld
) -> None:
    ticket = console_world.open("p-16")
    url = f"/console/tickets/{ticket.ticket_id}"
    post_form(staff, url, f"{url}/reply", {"text": "On it."})
    page = staff.get(f"{url}?done=replied").text
    assert audit_rows(page) == [("engine", "created"), ("Alice Agent", "viewed"), ("Alice Agent", "replied")]


def test_an_overlong_reply_is_refused_with_the_limit(staff: TestClient, console_world: ConsoleWorld) -> None:
    ticket = console_world.open("p-17")
    url = f"/console/tickets/{ticket.ticket_id}"
    answer = post_form(staff, url, f"{url}/reply", {"text": "x" * 4001})
    assert answer.status_code == 400
    assert "keep it to 4000" in answer.text
