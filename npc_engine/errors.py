"""The one exception root of npc-engine, and the tree under it.

Every error the engine raises on purpose is an :class:`NpcEngineError` with a
stable, machine-readable ``code`` (the HTTP layer and the CLI map from it in one
place) and a message that says how to fix it.

"You called it wrong" is kept apart from "a backend failed"::

    NpcEngineError                      code
    ├── UsageError                      usage_error        caller's fault, 4xx
    │   ├── ConfigError                 config_error       bad Settings / backend id / missing extra
    │   ├── SourceFileError             invalid_file       a world, persona or knowledge file is wrong
    │   │   └── PersonaError            invalid_persona    (file, line and field are attached)
    │   ├── InvalidInputError           invalid_input      a bad argument or request value
    │   ├── NotFoundError               not_found          unknown persona, tenant, document ...
    │   ├── ConflictError               conflict           a concurrent update won the race, 409
    │   ├── AuthenticationError         unauthenticated    no, unknown, revoked or expired key/session, 401
    │   ├── PermissionDeniedError       forbidden          the key's role does not allow this, 403
    │   ├── RequestTooLargeError        request_too_large  a request body over the limit, 413
    │   └── RateLimitedError            rate_limited       over the tenant's request rate, 429 (retry_after)
    └── BackendError                    backend_error      a dependency failed, 5xx / degrade
        ├── RequestTimeoutError         timeout            the whole request ran too long, 504
        ├── EmbedderError               embedder_error
        ├── VectorStoreError            vector_store_error
        ├── StateStoreError             state_store_error
        └── ChatModelError              chat_model_error
            └── ChatModelTimeout        chat_model_timeout
"""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "AuthenticationError",
    "BackendError",
    "ChatModelError",
    "ChatModelTimeout",
    "ConfigError",
    "ConflictError",
    "EmbedderError",
    "InvalidInputError",
    "NotFoundError",
    "NpcEngineError",
    "PermissionDeniedError",
    "PersonaError",
    "RateLimitedError",
    "RequestTimeoutError",
    "RequestTooLargeError",
    "SourceFileError",
    "StateStoreError",
    "UsageError",
    "VectorStoreError",
]


class NpcEngineError(Exception):
    """Root of every error npc-engine raises on purpose."""

    code = "npc_engine_error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code

    def to_dict(self) -> dict[str, object]:
        return {"code": self.code, "message": self.message}


class UsageError(NpcEngineError):
    """The caller did something wrong: fixable by changing the input or config."""

    code = "usage_error"


class ConfigError(UsageError):
    """Invalid settings, an unknown backend id, or a missing optional extra."""

    code = "config_error"


class InvalidInputError(UsageError):
    """A bad argument value (an empty query, an unknown stage, ...)."""

    code = "invalid_input"


class NotFoundError(UsageError):
    """Something named by the caller does not exist."""

    code = "not_found"


class ConflictError(UsageError):
    """Another writer changed the same conversation and this one lost the race (after retries)."""

    code = "conflict"


class AuthenticationError(UsageError):
    """No credentials, or a key or session that is unknown, revoked or expired."""

    code = "unauthenticated"


class PermissionDeniedError(UsageError):
    """The caller is known, but its role does not allow what it asked for."""

    code = "forbidden"


class RequestTooLargeError(UsageError):
    """A request body is larger than the server accepts."""

    code = "request_too_large"


class RateLimitedError(UsageError):
    """The tenant sent more requests than its rate allows; retry after ``retry_after`` seconds."""

    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class SourceFileError(UsageError):
    """A world, persona or knowledge file is invalid.

    ``path``, ``line`` (1-based, when known) and ``field`` (a dotted path, when
    known) say where; ``str(err)`` is a one-line ``file:line: field: reason``.
    """

    code = "invalid_file"

    def __init__(
        self,
        reason: str,
        *,
        path: str | Path | None = None,
        line: int | None = None,
        field: str | None = None,
        code: str | None = None,
    ) -> None:
        self.reason = reason
        self.path = str(path) if path is not None else None
        self.line = line
        self.field = field
        where = self.path or "<input>"
        if line is not None:
            where += f":{line}"
        text = f"{where}: {field}: {reason}" if field else f"{where}: {reason}"
        super().__init__(text, code=code)

    def to_dict(self) -> dict[str, object]:
        out = super().to_dict()
        out.update({"path": self.path, "line": self.line, "field": self.field})
        return out


class PersonaError(SourceFileError):
    """A persona file does not match its schema."""

    code = "invalid_persona"


class BackendError(NpcEngineError):
    """A backend (embedder, vector store, state store, chat model) failed."""

    code = "backend_error"


class RequestTimeoutError(BackendError):
    """A request ran longer than the server's limit (``NPC_REQUEST_TIMEOUT_S``)."""

    code = "timeout"


class EmbedderError(BackendError):
    code = "embedder_error"


class VectorStoreError(BackendError):
    code = "vector_store_error"


class StateStoreError(BackendError):
    code = "state_store_error"


class ChatModelError(BackendError):
    code = "chat_model_error"


class ChatModelTimeout(ChatModelError):
    code = "chat_model_timeout"
