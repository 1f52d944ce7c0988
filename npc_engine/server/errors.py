"""Every error the server answers, as JSON ``{"code", "message", "request_id"}`` (one place).

* :class:`~npc_engine.errors.NpcEngineError` maps by class (:data:`ERROR_STATUS`); its
  ``code`` is the stable, machine-readable one (``input_too_long``, ``rate_limited`` ...).
* FastAPI's own errors: a body or parameter that does not match the schema is
  ``422 invalid_request`` with the fields named; an unknown route ``404 not_found``; a wrong
  method ``405 method_not_allowed``.
* Anything else is a bug: ``500 internal_error``, logged with its stack trace, never sent.

Console pages (``/console``) get an HTML page with the message instead.
"""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from npc_engine.errors import (
    AuthenticationError,
    BackendError,
    ConflictError,
    NotFoundError,
    NpcEngineError,
    PermissionDeniedError,
    RateLimitedError,
    RequestTimeoutError,
    RequestTooLargeError,
    UsageError,
)

__all__ = [
    "CONSOLE_PREFIX",
    "ERROR_RESPONSES",
    "ERROR_STATUS",
    "ErrorOut",
    "error_response",
    "install_error_handlers",
    "request_id_of",
    "status_for",
]

log = structlog.get_logger("npc_engine.server")

CONSOLE_PREFIX = "/console"
ERROR_STATUS: tuple[tuple[type[NpcEngineError], int], ...] = (
    (AuthenticationError, 401),
    (PermissionDeniedError, 403),
    (NotFoundError, 404),
    (ConflictError, 409),
    (RequestTooLargeError, 413),
    (RateLimitedError, 429),
    (UsageError, 400),
    (RequestTimeoutError, 504),
    (BackendError, 503),
)
"""The HTTP status of each error class; the first match wins, anything else is a 500."""

_HTTP_CODES = {
    404: "not_found",
    405: "method_not_allowed",
    413: "request_too_large",
    415: "unsupported_media_type",
}


class ErrorOut(BaseModel):
    """Every error body."""

    code: str
    message: str
    request_id: str | None = None


def _described(description: str) -> dict[str, Any]:
    return {"model": ErrorOut, "description": description}


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: _described("A value is wrong; `message` says which and how to fix it."),
    401: _described("No API key, or an unknown or revoked one."),
    403: _described("The key's role does not allow this route."),
    404: _described("No such persona, ticket, conversation or route in this tenant."),
    409: _described(
        "A concurrent change won, or the Idempotency-Key is busy or was used for another request."
    ),
    413: _described("The request body is over the limit."),
    422: _described("The body or a parameter does not match the schema."),
    429: _described("Over the tenant's rate; retry after `Retry-After` seconds."),
    503: _described("A backend is down; retry."),
    504: _described("The request ran over the server's time limit."),
}
"""The error answers every ``/v1`` route declares in the OpenAPI spec."""


def status_for(exc: NpcEngineError) -> int:
    return next((status for cls, status in ERROR_STATUS if isinstance(exc, cls)), 500)


def request_id_of(request: Request) -> str | None:
    rid = request.scope.get("state", {}).get("request_id")
    return rid if isinstance(rid, str) else None


def error_response(
    request: Request, status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    body = ErrorOut(code=code, message=message, request_id=request_id_of(request))
    counter = getattr(request.app.state, "metrics", None)
    if counter is not None:
        counter.error(code)
    return JSONResponse(body.model_dump(), status_code=status, headers=headers)


def _is_console(request: Request) -> bool:
    path = request.url.path.removeprefix(request.scope.get("root_path", ""))
    return path == CONSOLE_PREFIX or path.startswith(CONSOLE_PREFIX + "/")


def _engine_error(request: Request, exc: Exception) -> Response:
    from npc_engine.server import console

    assert isinstance(exc, NpcEngineError)
    status = status_for(exc)
    if status >= 500:
        log.error("server.backend_error", code=exc.code, path=request.url.path, error=exc.message)
    if _is_console(request):
        return console.error_page(request, exc.message, status=status)
    headers = None
    if isinstance(exc, RateLimitedError):
        headers = {"Retry-After": str(max(1, int(-(-exc.retry_after // 1))))}
    return error_response(request, status, exc.code, exc.message, headers)


def _http_error(request: Request, exc: Exception) -> Response:
    from npc_engine.server import console

    assert isinstance(exc, StarletteHTTPException)
    if _is_console(request):
        message = "There is no such page." if exc.status_code == 404 else str(exc.detail)
        return console.error_page(request, message, status=exc.status_code)
    code = _HTTP_CODES.get(exc.status_code, "http_error")
    if exc.status_code == 404:
        message = f"no route {request.method} {request.url.path}; see /docs for the API"
    elif exc.status_code == 405:
        message = f"{request.method} is not allowed on {request.url.path}; see /docs for the API"
    else:
        message = str(exc.detail)
    return error_response(request, exc.status_code, code, message, dict(exc.headers or {}))


def _problems(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors()[:10]:
        where = ".".join(str(p) for p in err.get("loc", ())) or "request"
        parts.append(f"{where}: {err.get('msg', 'invalid')}")
    return "; ".join(parts)


def _validation_error(request: Request, exc: Exception) -> Response:
    from npc_engine.server import console

    assert isinstance(exc, RequestValidationError)
    problems = _problems(exc)
    if _is_console(request):
        return console.error_page(request, f"The request was not valid ({problems}).", status=400)
    return error_response(
        request, 422, "invalid_request", f"the request does not match the API schema: {problems}"
    )


def _unexpected(request: Request, exc: Exception) -> Response:
    log.error("server.internal_error", path=request.url.path, exc_info=exc)
    rid = request_id_of(request)  # answered outside RequestContext, which would have added the header
    return error_response(
        request,
        500,
        "internal_error",
        "the server failed unexpectedly; the request id identifies it in the server's logs",
        {"X-Request-Id": rid} if rid else None,
    )


def install_error_handlers(app: Any) -> None:
    app.add_exception_handler(NpcEngineError, _engine_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _unexpected)
