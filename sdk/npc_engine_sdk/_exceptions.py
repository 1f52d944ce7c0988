"""Every error the SDK raises, and how an error answer becomes one.

::

    NpcEngineError                      anything the SDK raises on purpose (also: no API key)
    ├── APIError                        the server answered with an error
    │   │                               .status_code .code .message .request_id .body
    │   ├── BadRequestError             400  invalid_input, input_too_long, invalid_transition, ...
    │   ├── AuthenticationError         401  unauthenticated
    │   ├── PermissionDeniedError       403  forbidden
    │   ├── NotFoundError               404  not_found
    │   ├── ConflictError               409  conflict, idempotency_in_progress, idempotency_key_reused
    │   ├── RequestTooLargeError        413  request_too_large
    │   ├── UnprocessableEntityError    422  invalid_request
    │   ├── RateLimitError              429  rate_limited (.retry_after, in seconds)
    │   └── InternalServerError         5xx  internal_error
    │       ├── ServiceUnavailableError 503  backend_error, state_store_error, ...
    │       └── GatewayTimeoutError     504  timeout
    └── APIConnectionError              no answer: the connection failed or broke
        └── APITimeoutError             no answer in time

Any other error status (405, 415, ...) is a plain :class:`APIError`. A streamed turn that
fails after it started sends an ``error`` event; it raises the same classes (the status is
derived from the event's ``code``).
"""

from __future__ import annotations

import httpx

from ._retry import parse_retry_after

__all__ = [
    "APIConnectionError",
    "APIError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "GatewayTimeoutError",
    "InternalServerError",
    "NotFoundError",
    "NpcEngineError",
    "PermissionDeniedError",
    "RateLimitError",
    "RequestTooLargeError",
    "ServiceUnavailableError",
    "UnprocessableEntityError",
]


class NpcEngineError(Exception):
    """The root of every error the SDK raises on purpose."""


class APIError(NpcEngineError):
    """The server answered with an error status (or a streamed ``error`` event).

    ``code`` is the server's stable, machine-readable code (``not_found``, ``rate_limited``
    ...); ``request_id`` names the request in the server's logs (quote it in bug reports).
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        code: str | None = None,
        request_id: str | None = None,
        body: object = None,
        retry_after: float | None = None,
    ) -> None:
        self.message = message
        self.status_code = status_code
        self.code = code
        self.request_id = request_id
        self.body = body
        self.retry_after = retry_after  # seconds, from the answer's Retry-After header
        text = f"{status_code} {code}: {message}" if code else f"{status_code}: {message}"
        super().__init__(f"{text} (request_id={request_id})" if request_id else text)


class BadRequestError(APIError):
    """400: a value is wrong; the message says which and how to fix it."""


class AuthenticationError(APIError):
    """401: no API key, or an unknown or revoked one."""


class PermissionDeniedError(APIError):
    """403: the key's role does not allow this call."""


class NotFoundError(APIError):
    """404: unknown persona, ticket, conversation (another tenant's ids are "not found" too)."""


class ConflictError(APIError):
    """409: a concurrent change won, an idempotent request still runs, or a key was reused."""


class RequestTooLargeError(APIError):
    """413: the body is over the server's limit."""


class UnprocessableEntityError(APIError):
    """422: the body or a parameter does not match the schema."""


class RateLimitError(APIError):
    """429: over the tenant's rate; ``retry_after`` says how many seconds to wait (when known)."""


class InternalServerError(APIError):
    """5xx: the server failed; safe calls are retried before this is raised."""


class ServiceUnavailableError(InternalServerError):
    """503: a backend (state store, vector store, embedder, chat model) is down."""


class GatewayTimeoutError(InternalServerError):
    """504: the request ran over the server's time limit."""


class APIConnectionError(NpcEngineError):
    """No answer: the connection could not be made, or broke before the answer was complete."""

    def __init__(self, message: str = "could not reach the npc-engine server") -> None:
        super().__init__(message)
        self.message = message


class APITimeoutError(APIConnectionError):
    """No answer within the client's ``timeout``."""

    def __init__(self, message: str = "the request to the npc-engine server timed out") -> None:
        super().__init__(message)


_BY_STATUS: dict[int, type[APIError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    413: RequestTooLargeError,
    422: UnprocessableEntityError,
    429: RateLimitError,
    503: ServiceUnavailableError,
    504: GatewayTimeoutError,
}

# The status of each documented error code: a streamed `error` event carries no status.
_STATUS_BY_CODE: dict[str, int] = {
    "invalid_input": 400,
    "input_too_long": 400,
    "invalid_transition": 400,
    "invalid_file": 400,
    "invalid_persona": 400,
    "ticket_resolved": 400,
    "usage_error": 400,
    "config_error": 400,
    "unauthenticated": 401,
    "forbidden": 403,
    "not_found": 404,
    "method_not_allowed": 405,
    "conflict": 409,
    "idempotency_in_progress": 409,
    "idempotency_key_reused": 409,
    "request_too_large": 413,
    "unsupported_media_type": 415,
    "invalid_request": 422,
    "rate_limited": 429,
    "internal_error": 500,
    "backend_error": 503,
    "state_store_error": 503,
    "vector_store_error": 503,
    "embedder_error": 503,
    "chat_model_error": 503,
    "chat_model_timeout": 503,
    "timeout": 504,
}


def status_for_code(code: str | None) -> int:
    """The HTTP status a documented error ``code`` is answered with (500 when unknown)."""
    return _STATUS_BY_CODE.get(code or "", 500)


def make_api_error(
    status_code: int,
    body: object,
    *,
    request_id: str | None = None,
    retry_after: float | None = None,
    default_message: str = "",
) -> APIError:
    """The typed error for ``status_code`` and an error body ``{"code", "message", "request_id"}``."""
    code: str | None = None
    message = default_message
    if isinstance(body, dict):
        code = body.get("code") if isinstance(body.get("code"), str) else None
        if isinstance(body.get("message"), str):
            message = body["message"]
        elif "detail" in body:  # a framework default error body
            message = str(body["detail"])
        if isinstance(body.get("request_id"), str):
            request_id = body["request_id"]
    cls = _BY_STATUS.get(status_code) or (InternalServerError if status_code >= 500 else APIError)
    message = message or f"the server answered {status_code}"
    return cls(
        message,
        status_code=status_code,
        code=code,
        request_id=request_id,
        body=body,
        retry_after=retry_after,
    )


def error_from_response(response: httpx.Response) -> APIError:
    """The typed error for an error answer (its body must have been read)."""
    body: object
    try:
        body = response.json()
    except ValueError:
        body = response.text or None
    return make_api_error(
        response.status_code,
        body,
        request_id=response.headers.get("x-request-id"),
        retry_after=parse_retry_after(response.headers.get("retry-after")),
        default_message=response.text[:500] if isinstance(body, str) else "",
    )


def error_from_event(data: object) -> APIError:
    """The typed error for a streamed ``error`` event's data."""
    body: dict[str, object] = data if isinstance(data, dict) else {"message": str(data)}
    status, code = body.get("status"), body.get("code")
    if not isinstance(status, int):
        status = status_for_code(code if isinstance(code, str) else None)
    return make_api_error(status, body)
