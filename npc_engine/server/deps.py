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

import structlog
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from npc_engine.auth import ROLE_ALLOWS, Capability, Principal, require, session_principal, verify_key
from npc_engine.engine import Engine
from npc_engine.errors import AuthenticationError, PermissionDeniedError
from npc_engine.support.desk import TicketDesk

__all__ = [
    "CONSOLE_COOKIE",
    "AdminDep",
    "ConsolePostDep",
    "ConsoleSession",
    "ConsoleSessionDep",
    "DeskDep",
    "EngineDep",
    "EventsDep",
    "GameDep",
    "LoginRequired",
    "PrincipalDep",
    "RepliesDep",
    "StaffDep",
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


_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="ApiKey",
    description="An API key of this tenant: `Authorization: Bearer npk_...` (npc-engine keys create).",
)


async def api_principal(
    request: Request,
    engine: EngineDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller behind ``Authorization: Bearer <key>``, or 401 ``unauthenticated``.

    A verified key is cached for ``NPC_KEY_CACHE_S`` (:class:`~npc_engine.server.limits.KeyCache`);
    the tenant's rate limit is checked here (429 ``rate_limited``). The principal's tenant is
    bound to the request's log context and kept on ``request.state.principal``.
    """
    if credentials is None or credentials.scheme.lower() != "bearer" or not credentials.credentials:
        raise AuthenticationError(
            "no API key; send it as 'Authorization: Bearer npk_...' (create one with npc-engine keys create)"
        )
    secret = credentials.credentials
    keys = request.app.state.key_cache
    principal = keys.get(secret)
    if principal is None:
        principal = await verify_key(engine.state, secret)
        if principal is None:
            raise AuthenticationError(
                "the API key is unknown or revoked; check it or ask an admin for a new one"
            )
        keys.put(secret, principal)
    request.state.principal = principal
    structlog.contextvars.bind_contextvars(tenant=principal.tenant, key_id=principal.key_id)
    request.app.state.rate_limiter.check(principal.tenant)
    return principal


PrincipalDep = Annotated[Principal, Depends(api_principal)]


def allowed(capability: Capability) -> object:
    """A dependency: the caller's principal, if its role allows ``capability`` (else 403 ``forbidden``)."""

    async def dependency(principal: PrincipalDep) -> Principal:
        require(principal, capability)
        return principal

    return Depends(dependency)


GameDep = Annotated[Principal, allowed("turns")]
EventsDep = Annotated[Principal, allowed("events")]
RepliesDep = Annotated[Principal, allowed("replies")]
StaffDep = Annotated[Principal, allowed("tickets")]
AdminDep = Annotated[Principal, allowed("world")]


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
