"""What a route may ask for: ``Annotated`` dependency aliases over ``app.state``.

Everything lives on ``request.app.state``, filled by :func:`~npc_engine.server.app.create_app`
and its lifespan; nothing here is a module-level singleton.

The console's session is a cookie holding an opaque session token (stored server side by
:mod:`npc_engine.auth`); its CSRF token is derived from that session token, so it is bound
to the session, needs no storage, and changes with every sign-in.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from npc_engine.auth import ROLE_ALLOWS, Principal, session_principal
from npc_engine.engine import Engine
from npc_engine.errors import PermissionDeniedError
from npc_engine.support.desk import TicketDesk

__all__ = [
    "CONSOLE_COOKIE",
    "ConsolePostDep",
    "ConsoleSession",
    "ConsoleSessionDep",
    "DeskDep",
    "EngineDep",
    "LoginRequired",
    "can_use_console",
    "csrf_token",
]

CONSOLE_COOKIE = "npc_console"


def get_engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


def get_desk(request: Request) -> TicketDesk:
    """The engine's ticket desk (it learns every resolution into the resolved-ticket history)."""
    return get_engine(request).desk


EngineDep = Annotated[Engine, Depends(get_engine)]
DeskDep = Annotated[TicketDesk, Depends(get_desk)]


class LoginRequired(Exception):
    """No valid console session: the console answers with a redirect to its sign-in page."""


def can_use_console(principal: Principal) -> bool:
    """Staff and admin keys may; game keys may not (:data:`npc_engine.auth.ROLE_ALLOWS`)."""
    return "console" in ROLE_ALLOWS.get(principal.role, frozenset())


def csrf_token(session_token: str) -> str:
    """The CSRF token of a session: an HMAC of a fixed label keyed by the (secret) session token."""
    return hmac.new(session_token.encode(), b"npc-engine console csrf v1", hashlib.sha256).hexdigest()


@dataclass(frozen=True, slots=True)
class ConsoleSession:
    """A signed-in staff member: who they are and the CSRF token their forms must carry."""

    principal: Principal
    token: str
    csrf: str

    @property
    def tenant(self) -> str:
        """The only tenant any console page reads or writes."""
        return self.principal.tenant


async def console_session(request: Request, engine: EngineDep) -> ConsoleSession:
    """The session behind the ``npc_console`` cookie, or :class:`LoginRequired`."""
    token = request.cookies.get(CONSOLE_COOKIE)
    if not token:
        raise LoginRequired
    principal = await session_principal(engine.state, token)
    if principal is None or not can_use_console(principal):
        raise LoginRequired
    return ConsoleSession(principal, token, csrf_token(token))


ConsoleSessionDep = Annotated[ConsoleSession, Depends(console_session)]


async def console_post(request: Request, session: ConsoleSessionDep) -> ConsoleSession:
    """:func:`console_session` for a form POST, which must also carry the session's CSRF token."""
    form = await request.form()
    sent = form.get("csrf")
    if not isinstance(sent, str) or not hmac.compare_digest(sent.encode(), session.csrf.encode()):
        raise PermissionDeniedError(
            "this form's security token is missing or out of date; go back, reload the page and try again"
        )
    return session


ConsolePostDep = Annotated[ConsoleSession, Depends(console_post)]
