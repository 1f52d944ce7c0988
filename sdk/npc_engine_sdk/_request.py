"""A call, described once: how to send it over HTTP and what it means to the engine.

Resources build a :class:`Call`; the HTTP backends send ``method``/``path``/``json`` and the
in-process backend dispatches on ``op`` with ``args``. Both answer with the same JSON, which
the resource parses into the SDK's models, so the two modes cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

__all__ = ["Call", "segment"]

_MAX_KEY = 255


def segment(value: str) -> str:
    """One path segment, percent-encoded (player ids may hold spaces, slashes, any character)."""
    if not isinstance(value, str) or not value:
        raise ValueError(f"a path id must be a non-empty string, not {value!r}")
    if value in (".", ".."):  # else URL normalisation would remove the segment
        return value.replace(".", "%2E")
    return quote(value, safe="")


@dataclass(frozen=True, slots=True)
class Call:
    op: str  # what the in-process backend runs, e.g. "npcs.turn"
    method: str
    path: str  # already encoded, starting with "/v1/"
    args: Mapping[str, Any] = field(default_factory=dict)  # the call's arguments, for in-process
    json: Any = None
    params: Mapping[str, Any] | None = None
    content: bytes | None = None
    content_type: str | None = None
    idempotent: bool = False  # send an Idempotency-Key (one per call, the same on every retry)
    idempotency_key: str | None = None  # the caller's own key
    replay_safe: bool = False  # sending it twice does no harm (besides GET and DELETE)
    stream: bool = False

    def __post_init__(self) -> None:
        key = self.idempotency_key
        if key is not None and (not 1 <= len(key) <= _MAX_KEY or not all("!" <= ch <= "~" for ch in key)):
            raise ValueError("an idempotency key is 1 to 255 printable ASCII characters without spaces")

    @property
    def safe_to_replay(self) -> bool:
        return self.replay_safe or self.method in ("GET", "HEAD", "DELETE") or self.wants_idempotency_key

    @property
    def wants_idempotency_key(self) -> bool:
        return self.idempotent or self.idempotency_key is not None

    def query(self) -> dict[str, Any] | None:
        """The query parameters that have a value."""
        if not self.params:
            return None
        return {k: v for k, v in self.params.items() if v is not None}
