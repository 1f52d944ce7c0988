"""The HTTP server: :func:`create_app` builds a FastAPI app around one :class:`~npc_engine.engine.Engine`.

``create_app(Settings(...))`` builds the engine on start-up (lifespan) and closes it on
shutdown; ``create_app(engine)`` serves an engine the caller built and still owns (tests
inject one over fakes). Everything a route needs lives on ``app.state`` (engine, metrics,
rate limiter, key cache, idempotency, the console's templates); routes reach it through
:mod:`npc_engine.server.deps`. Nothing is created at import time, and a worker keeps
nothing another worker needs: N workers can serve one tenant behind a load balancer.

Routes, one small module per resource (the contract: ``docs/http-api.md``; OpenAPI at
``/docs``):

* ``/v1/npcs/...`` NPC turns, events, conversations (:mod:`.api.npcs`, role ``game``)
* ``/v1/support/...`` support turns, staff-reply claims (:mod:`.api.support`, ``game``)
* ``/v1/tickets/...`` the ticket queue (:mod:`.api.tickets`, ``staff``)
* ``/v1/personas``, ``/v1/world`` (:mod:`.api.admin`, ``admin``)
* ``/v1/chat/completions``, ``/v1/models`` OpenAI-compatible (:mod:`.api.openai_compat`, ``game``)
* ``/healthz``, ``/readyz``, ``/metrics`` (:mod:`.api.health`, no key)
* ``/console`` the support staff console (:mod:`npc_engine.server.console`, HTML)

Errors are JSON ``{"code", "message", "request_id"}`` (:mod:`npc_engine.server.errors`).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from npc_engine import __version__
from npc_engine.engine import Engine
from npc_engine.server import console
from npc_engine.server.api import admin, health, npcs, openai_compat, support, tickets
from npc_engine.server.deps import LoginRequired
from npc_engine.server.errors import CONSOLE_PREFIX, ERROR_STATUS, install_error_handlers, status_for
from npc_engine.server.idempotency import Idempotency
from npc_engine.server.limits import KeyCache, RateLimiter
from npc_engine.server.metrics import Metrics
from npc_engine.server.middleware import RequestContext
from npc_engine.settings import Settings

__all__ = ["CONSOLE_PREFIX", "ERROR_STATUS", "create_app", "status_for"]

_DESCRIPTION = """\
Retrieval-augmented NPCs and support agents for games.

Every `/v1` route needs `Authorization: Bearer npk_...`, a key of your tenant
(`npc-engine keys create --tenant T --role game|staff|admin`). Errors are
`{"code", "message", "request_id"}` with a stable `code`. Turn, event and claim routes
accept `Idempotency-Key`: a retry gets the first answer instead of running twice.
"""


def create_app(engine_or_settings: Engine | Settings) -> FastAPI:
    """The FastAPI app serving ``engine_or_settings`` (see the module docstring for who owns the engine)."""
    if isinstance(engine_or_settings, Engine):
        given: Engine | None = engine_or_settings
        settings = engine_or_settings.settings
    elif isinstance(engine_or_settings, Settings):
        given, settings = None, engine_or_settings
    else:
        raise TypeError(
            f"create_app() takes an Engine or a Settings, not {type(engine_or_settings).__name__}"
        )

    def serve(app: FastAPI, engine: Engine) -> None:
        app.state.engine = engine
        app.state.idempotency = Idempotency(engine.state, ttl_s=settings.idempotency_ttl_s, lock_s=15.0)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if given is not None:  # the caller's engine: the caller closes it
            yield
            return
        # a server embeds one query at a time: 1 thread unless NPC_EMBED_THREADS says otherwise
        # (more threads gain nothing on short queries, and idle OpenMP threads spin on the cores
        # the turns need)
        threads = settings.embed_threads or 1
        engine = await asyncio.to_thread(Engine.from_settings, settings, embed_threads=threads)
        serve(app, engine)
        try:
            yield
        finally:
            await engine.aclose()

    app = FastAPI(
        title="npc-engine",
        version=__version__,
        description=_DESCRIPTION,
        lifespan=lifespan,
        openapi_tags=[
            {"name": "npcs", "description": "NPC turns, game events and conversations (game keys)."},
            {"name": "support", "description": "Support turns and staff replies (game keys)."},
            {"name": "tickets", "description": "Escalated tickets (staff keys)."},
            {"name": "admin", "description": "Personas and world ingestion (admin keys)."},
            {"name": "openai", "description": "OpenAI-compatible chat completions (game keys)."},
            {"name": "health", "description": "Liveness, readiness, Prometheus metrics (no key)."},
        ],
    )
    metrics = Metrics()
    app.state.metrics = metrics
    app.state.rate_limiter = RateLimiter(settings.rate_limit_per_s, settings.rate_limit_burst)
    app.state.key_cache = KeyCache(settings.key_cache_s)
    app.state.templates = console.console_templates()
    if given is not None:  # usable at once, also by clients that do not run the lifespan
        serve(app, given)
    install_error_handlers(app)
    app.add_exception_handler(LoginRequired, console.login_redirect)

    def body_limit(path: str) -> int:
        return settings.max_upload_bytes if path.rstrip("/") == "/v1/world" else settings.max_request_bytes

    app.add_middleware(RequestContext, metrics=metrics, limit_for=body_limit)
    app.include_router(health.router)
    for module in (npcs, support, tickets, admin, openai_compat):
        app.include_router(module.router, prefix="/v1")
    app.include_router(console.router, prefix=CONSOLE_PREFIX, include_in_schema=False)
    return app
