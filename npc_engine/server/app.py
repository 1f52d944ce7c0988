"""The HTTP server: :func:`create_app` builds a FastAPI app around one :class:`~npc_engine.engine.Engine`.

``create_app(Settings(...))`` builds the engine on start-up (lifespan) and closes it on
shutdown; ``create_app(engine)`` serves an engine the caller built and still owns (tests
inject one over fakes). The engine and the console's templates live on ``app.state`` (the
ticket desk is the engine's, ``engine.desk``, so resolutions are learned); routes reach
them through :mod:`npc_engine.server.deps`. Nothing is created at import time.

Routes, one small module per resource:

* ``GET /healthz`` - liveness, ``{"status": "ok"}``.
* ``/console`` - the support staff console (:mod:`npc_engine.server.console`, HTML).

Errors map from :class:`~npc_engine.errors.NpcEngineError` in one place (:data:`ERROR_STATUS`):
console requests get an HTML page with the message, any other route JSON
``{"code", "message"}``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler, request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from npc_engine import __version__
from npc_engine.engine import Engine
from npc_engine.errors import (
    AuthenticationError,
    BackendError,
    ConflictError,
    NotFoundError,
    NpcEngineError,
    PermissionDeniedError,
    UsageError,
)
from npc_engine.server import console
from npc_engine.server.deps import LoginRequired
from npc_engine.settings import Settings

__all__ = ["CONSOLE_PREFIX", "ERROR_STATUS", "create_app", "status_for"]

log = structlog.get_logger("npc_engine.server")

CONSOLE_PREFIX = "/console"
ERROR_STATUS: tuple[tuple[type[NpcEngineError], int], ...] = (
    (AuthenticationError, 401),
    (PermissionDeniedError, 403),
    (NotFoundError, 404),
    (ConflictError, 409),
    (UsageError, 400),
    (BackendError, 503),
)
"""The HTTP status of each error class; the first match wins, anything else is a 500."""


def status_for(exc: NpcEngineError) -> int:
    return next((status for cls, status in ERROR_STATUS if isinstance(exc, cls)), 500)


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

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if given is not None:  # the caller's engine: the caller closes it
            app.state.engine = given
            yield
            return
        engine = await asyncio.to_thread(Engine.from_settings, settings)
        app.state.engine = engine
        try:
            yield
        finally:
            engine.close()

    app = FastAPI(title="npc-engine", version=__version__, lifespan=lifespan)
    app.state.templates = console.console_templates()
    app.add_exception_handler(NpcEngineError, _engine_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(LoginRequired, console.login_redirect)
    app.add_api_route("/healthz", healthz, methods=["GET"], tags=["health"])
    app.include_router(console.router, prefix=CONSOLE_PREFIX, include_in_schema=False)
    return app


async def healthz() -> dict[str, str]:
    """Liveness: the process serves requests."""
    return {"status": "ok"}


def _is_console(request: Request) -> bool:
    path = request.url.path.removeprefix(request.scope.get("root_path", ""))
    return path == CONSOLE_PREFIX or path.startswith(CONSOLE_PREFIX + "/")


async def _engine_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, NpcEngineError)
    status = status_for(exc)
    if status >= 500:
        log.error("server.error", code=exc.code, path=request.url.path, exc_info=exc)
    if _is_console(request):
        return console.error_page(request, exc.message, status=status)
    return JSONResponse({"code": exc.code, "message": exc.message}, status_code=status)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if _is_console(request):
        message = "There is no such page." if exc.status_code == 404 else str(exc.detail)
        return console.error_page(request, message, status=exc.status_code)
    return await http_exception_handler(request, exc)


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    if _is_console(request):
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err.get('loc', ())[1:]) or 'request'}: {err.get('msg', 'invalid')}"
            for err in exc.errors()
        )
        return console.error_page(request, f"The request was not valid ({problems}).", status=400)
    return await request_validation_exception_handler(request, exc)
