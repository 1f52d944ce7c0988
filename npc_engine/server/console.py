"""The support staff console: server-rendered HTML pages under ``/console``.

==========================================  =====================================================
``GET  /console/login``                     sign-in form (a staff or admin key)
``POST /console/login``                     verify the key, start a session, set the cookie
``POST /console/logout``                    end the session
``GET  /console/``                          the queue; filters ``status``, ``priority``,
                                            ``category``, ``age`` (``lt1h``, ``lt1d``, ``gt1d``),
                                            ``page``
``GET  /console/tickets/{id}``              one ticket: summary, transcript, sources, suggested
                                            reply, audit trail
``POST /console/tickets/{id}/reply``        send a reply to the player
``POST /console/tickets/{id}/status``       set ``open`` / ``waiting_on_player``
``POST /console/tickets/{id}/resolve``      resolve (optionally sending the resolution)
==========================================  =====================================================

Sessions: a successful sign-in starts a server-side session (:func:`npc_engine.auth.start_session`)
whose opaque token goes in the ``npc_console`` cookie (HttpOnly, SameSite=Strict, Path=/console,
Secure over https). Every page resolves the cookie to its :class:`~npc_engine.auth.Principal`, and
the principal's tenant is the only tenant a page reads or writes: a ticket id of another game is
"not found". Every form POST carries the session's CSRF token (see :mod:`npc_engine.server.deps`);
the sign-in form, which has no session yet, carries a nonce that must match a short-lived
``npc_console_login`` cookie (double submit), so no other site can sign a browser in.

Every action redirects (303) back to a page that shows a fixed confirmation (``?done=...``), so a
reload never repeats it. Templates autoescape everything; pages need no JavaScript and load no
external asset (the Content-Security-Policy forbids both).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

import jinja2
import structlog
from fastapi import APIRouter, Form, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from npc_engine.auth import SESSION_TTL_S, end_session, start_session, verify_key
from npc_engine.errors import InvalidInputError
from npc_engine.server.deps import (
    CONSOLE_COOKIE,
    ConsolePostDep,
    ConsoleSession,
    ConsoleSessionDep,
    DeskDep,
    EngineDep,
    LoginRequired,
    can_use_console,
    console_session,
)
from npc_engine.support.desk import MAX_TEXT
from npc_engine.support.tickets import STATUSES, TicketFilter, TicketStatus
from npc_engine.support.triggers import Priority

__all__ = ["console_templates", "error_page", "login_redirect", "router"]

log = structlog.get_logger("npc_engine.server")

LOGIN_COOKIE = "npc_console_login"
PAGE_SIZE = 25
AGES: dict[str, tuple[str, float | None, float | None]] = {  # value: (label, min_age_s, max_age_s)
    "lt1h": ("less than an hour", None, 3600.0),
    "lt1d": ("less than a day", None, 86400.0),
    "gt1d": ("more than a day", 86400.0, None),
}
SETTABLE: tuple[TicketStatus, ...] = ("open", "waiting_on_player")  # "resolved" has its own form
DONE = {
    "replied": "Reply sent: the player gets it on their next message.",
    "status": "Status changed.",
    "resolved": "Ticket resolved.",
    "resolved_sent": "Ticket resolved, and the resolution was sent to the player.",
    "signed_out": "You are signed out.",
}
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}

router = APIRouter(default_response_class=HTMLResponse)

TextField = Annotated[str, Form(max_length=2 * MAX_TEXT)]  # the desk says when a text is too long


# -- templates ------------------------------------------------------------------------------
def console_templates() -> Jinja2Templates:
    """The console's Jinja environment: package templates, autoescape on, undefined is an error."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("npc_engine.server", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(ts=_ts, age=_age, label=_label, score=_score)
    env.globals["path_for"] = _path_for
    return Jinja2Templates(env=env)


@jinja2.pass_context
def _path_for(context: Mapping[str, Any], name: str, /, **params: Any) -> str:
    request: Request = context["request"]
    return request.url_for(name, **params).path


def _ts(value: object) -> str:
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC).strftime("%Y-%m-%d %H:%M UTC")
    return "" if value is None else str(value)


def _age(created: float, now: float) -> str:
    seconds = max(0.0, now - created)
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{int(seconds // 60)} min"
    if seconds < 86400:
        return f"{int(seconds // 3600)} h"
    return f"{int(seconds // 86400)} d"


def _label(value: object) -> str:
    return str(value).replace("_", " ")


def _score(value: object) -> str:
    return f"{value:.2f}" if isinstance(value, int | float) else str(value)


def _render(
    request: Request,
    name: str,
    context: dict[str, Any],
    *,
    session: ConsoleSession | None = None,
    status: int = 200,
) -> HTMLResponse:
    templates: Jinja2Templates = request.app.state.templates
    done = request.query_params.get("done", "")
    base = {
        "principal": session.principal if session else None,
        "csrf": session.csrf if session else "",
        "flash": DONE.get(done, ""),
    }
    return templates.TemplateResponse(
        request, f"console/{name}", {**base, **context}, status_code=status, headers=SECURITY_HEADERS
    )


def error_page(request: Request, message: str, *, status: int, title: str = "") -> HTMLResponse:
    """An HTML error page for console requests (the app's error handlers call this)."""
    titles = {400: "That did not work", 403: "Not allowed", 404: "Not found", 409: "Changed meanwhile"}
    title = title or titles.get(status, "Something went wrong")
    return _render(request, "error.html", {"title": title, "message": message}, status=status)


async def login_redirect(request: Request, exc: Exception) -> Response:
    """Exception handler for :class:`LoginRequired`: back to the sign-in page."""
    return RedirectResponse(request.url_for("console_login").path, status_code=303)


def _redirect(request: Request, name: str, done: str = "", **params: Any) -> RedirectResponse:
    target = request.url_for(name, **params).path
    return RedirectResponse(f"{target}?done={done}" if done else target, status_code=303)


def _set_cookie(response: Response, request: Request, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=_cookie_path(request),
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


def _cookie_path(request: Request) -> str:
    return request.url_for("console_queue").path.rstrip("/") or "/"


# -- sign in and out ------------------------------------------------------------------------
@router.get("/login", name="console_login")
async def login_form(request: Request, engine: EngineDep) -> Response:
    try:
        await console_session(request, engine)
        return _redirect(request, "console_queue")
    except LoginRequired:
        return _login_page(request)


def _login_page(request: Request, *, error: str = "", status: int = 200) -> HTMLResponse:
    nonce = secrets.token_urlsafe(24)
    response = _render(request, "login.html", {"login_nonce": nonce, "error": error}, status=status)
    _set_cookie(response, request, LOGIN_COOKIE, nonce, max_age=1800)
    return response


@router.post("/login", name="console_login_submit")
async def login(
    request: Request,
    engine: EngineDep,
    key: Annotated[str, Form(max_length=512)] = "",
    csrf: Annotated[str, Form(max_length=256)] = "",
) -> Response:
    expected = request.cookies.get(LOGIN_COOKIE, "")
    if not expected or not secrets.compare_digest(csrf.encode(), expected.encode()):
        return _login_page(
            request, error="The sign-in form had expired (or cookies are off); try again.", status=403
        )
    principal = await verify_key(engine.state, key.strip()) if key.strip() else None
    if principal is None:
        log.info("console.login_refused", reason="unknown_key")
        return _login_page(request, error="That key was not accepted.", status=401)
    if not can_use_console(principal):
        log.info("console.login_refused", reason="role", tenant=principal.tenant, key_id=principal.key_id)
        return _login_page(
            request, error=f"A {principal.role} key cannot open the console; use a staff key.", status=403
        )
    token = await start_session(engine.state, principal, ttl_s=SESSION_TTL_S)
    log.info("console.login", tenant=principal.tenant, staff=principal.name, key_id=principal.key_id)
    response = _redirect(request, "console_queue")
    _set_cookie(response, request, CONSOLE_COOKIE, token, max_age=int(SESSION_TTL_S))
    response.delete_cookie(LOGIN_COOKIE, path=_cookie_path(request))
    return response


@router.post("/logout", name="console_logout")
async def logout(request: Request, engine: EngineDep, session: ConsolePostDep) -> Response:
    await end_session(engine.state, session.token)
    log.info("console.logout", tenant=session.tenant, staff=session.principal.name)
    response = _redirect(request, "console_login", "signed_out")
    response.delete_cookie(CONSOLE_COOKIE, path=_cookie_path(request))
    return response


# -- queue ----------------------------------------------------------------------------------
@router.get("/", name="console_queue")
async def queue(
    request: Request,
    session: ConsoleSessionDep,
    desk: DeskDep,
    engine: EngineDep,
    status: Annotated[str, Query(max_length=32)] = "",
    priority: Annotated[str, Query(max_length=32)] = "",
    category: Annotated[str, Query(max_length=64)] = "",
    age: Annotated[str, Query(max_length=8)] = "",
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> Response:
    if age and age not in AGES:
        raise InvalidInputError(f"unknown age {age!r}; choose one of: {', '.join(AGES)}")
    _, min_age, max_age = AGES.get(age, ("", None, None))
    category = category.strip()
    found = await desk.list(
        session.tenant,
        TicketFilter(
            status=status or None,  # type: ignore[arg-type]  # the desk checks it against STATUSES
            priority=priority or None,
            category=category or None,
            min_age_s=min_age,
            max_age_s=max_age,
            limit=PAGE_SIZE + 1,
            offset=(page - 1) * PAGE_SIZE,
        ),
    )
    filters = {"status": status, "priority": priority, "category": category, "age": age}
    here = request.url_for("console_queue").path

    def page_url(number: int) -> str:
        return f"{here}?{urlencode({**{k: v for k, v in filters.items() if v}, 'page': number})}"

    return _render(
        request,
        "queue.html",
        {
            "tickets": found[:PAGE_SIZE],
            "now": engine.clock(),
            "current": filters,
            "statuses": STATUSES,
            "priorities": [p.value for p in Priority],
            "ages": [(value, text) for value, (text, _, _) in AGES.items()],
            "page": page,
            "prev_url": page_url(page - 1) if page > 1 else "",
            "next_url": page_url(page + 1) if len(found) > PAGE_SIZE else "",
        },
        session=session,
    )


# -- one ticket -----------------------------------------------------------------------------
TicketId = Annotated[str, PathParam(min_length=1, max_length=64)]


@router.get("/tickets/{ticket_id}", name="console_ticket")
async def ticket(
    request: Request, ticket_id: TicketId, session: ConsoleSessionDep, desk: DeskDep, engine: EngineDep
) -> Response:
    # Opening a ticket is audited; the page shown again right after one's own action is not a new view.
    viewer = None if request.query_params.get("done") in DONE else session.principal.name
    found = await desk.get(session.tenant, ticket_id, viewer=viewer)
    events = await desk.events(session.tenant, ticket_id)
    return _render(
        request,
        "ticket.html",
        {
            "ticket": found,
            "events": events,
            "now": engine.clock(),
            "settable": SETTABLE,
            "max_text": MAX_TEXT,
        },
        session=session,
    )


@router.post("/tickets/{ticket_id}/reply", name="console_reply")
async def reply(
    request: Request, ticket_id: TicketId, session: ConsolePostDep, desk: DeskDep, text: TextField = ""
) -> Response:
    if not text.strip():
        raise InvalidInputError("the reply is empty; write something for the player")
    await desk.reply(session.tenant, ticket_id, staff=session.principal.name, text=text.strip())
    return _redirect(request, "console_ticket", "replied", ticket_id=ticket_id)


@router.post("/tickets/{ticket_id}/status", name="console_status")
async def set_status(
    request: Request,
    ticket_id: TicketId,
    session: ConsolePostDep,
    desk: DeskDep,
    status: Annotated[str, Form(max_length=32)] = "",
) -> Response:
    if status not in SETTABLE:
        raise InvalidInputError(
            f"status must be one of: {', '.join(SETTABLE)} (resolve a ticket with the Resolve form)"
        )
    await desk.set_status(session.tenant, ticket_id, staff=session.principal.name, status=status)
    return _redirect(request, "console_ticket", "status", ticket_id=ticket_id)


@router.post("/tickets/{ticket_id}/resolve", name="console_resolve")
async def resolve(
    request: Request,
    ticket_id: TicketId,
    session: ConsolePostDep,
    desk: DeskDep,
    resolution: TextField = "",
    send_to_player: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    if not resolution.strip():
        raise InvalidInputError("the resolution is empty; say how the ticket was resolved")
    send = bool(send_to_player)
    await desk.resolve(
        session.tenant,
        ticket_id,
        staff=session.principal.name,
        resolution=resolution.strip(),
        reply_to_player=send,
    )
    return _redirect(request, "console_ticket", "resolved_sent" if send else "resolved", ticket_id=ticket_id)
