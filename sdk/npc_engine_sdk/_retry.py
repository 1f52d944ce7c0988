"""When to try a call again, and how long to wait first.

A call is tried at most ``1 + max_retries`` times. Between tries the client waits what the
server's ``Retry-After`` says (seconds or an HTTP date, at most :data:`MAX_RETRY_AFTER_S`),
or else an exponential backoff with full jitter: a random time between 0 and
``min(MAX_DELAY_S, BASE_DELAY_S * 2**retry)``.

What is retried: connection failures and timeouts, and the statuses in
:data:`RETRYABLE_STATUSES`, except ``409 idempotency_key_reused`` (the key was used for a
different request; trying again cannot help). A call the server may have acted on before
failing is retried only when a replay is safe: reads, deletes, ingestion, and calls that send
an ``Idempotency-Key`` (the server then answers a replay with the first answer). Other writes
(a staff reply, a status change, a resolution) are retried only where the server surely did
not act: the connection was never made, or the answer was 408, 409, 429 or 503.
"""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Callable

import httpx

__all__ = [
    "BASE_DELAY_S",
    "MAX_DELAY_S",
    "MAX_RETRY_AFTER_S",
    "RETRYABLE_STATUSES",
    "parse_retry_after",
    "retry_delay",
    "should_retry_error",
    "should_retry_status",
]

BASE_DELAY_S = 0.5
MAX_DELAY_S = 8.0
MAX_RETRY_AFTER_S = 60.0
RETRYABLE_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504})
_MAYBE_ACTED = frozenset({500, 502, 504})  # the server may have done the work before failing
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date); ``None`` if absent or bad."""
    if value is None or not value.strip():
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    if seconds != seconds:  # NaN
        return None
    return max(0.0, seconds)


def retry_delay(
    retries_done: int, *, retry_after: float | None = None, rand: Callable[[], float] = random.random
) -> float:
    """Seconds to wait before retry number ``retries_done + 1``."""
    if retry_after is not None:
        return min(retry_after, MAX_RETRY_AFTER_S)
    return rand() * min(MAX_DELAY_S, BASE_DELAY_S * 2**retries_done)


def should_retry_status(status_code: int, code: str | None, *, replay_safe: bool) -> bool:
    """Whether an error answer is worth another try."""
    if status_code not in RETRYABLE_STATUSES:
        return False
    if status_code == 409 and code == "idempotency_key_reused":
        return False
    return replay_safe or status_code not in _MAYBE_ACTED


def should_retry_error(exc: httpx.TransportError, *, replay_safe: bool) -> bool:
    """Whether a transport failure (no answer) is worth another try."""
    if isinstance(exc, httpx.UnsupportedProtocol):  # a bad base_url: trying again cannot help
        return False
    return replay_safe or isinstance(exc, _NOT_SENT)
