"""``Idempotency-Key`` for turn, event and claim routes: a retry gets the first answer.

A game server that timed out waiting for a turn cannot know whether the turn ran. It
retries with the same ``Idempotency-Key``; the server then answers with the stored first
result (``Idempotent-Replayed: true``) instead of running the turn again, so the NPC does not
hear the player twice. The key is claimed in the state store (a row insert, so exactly one of
two racing workers wins; see :mod:`npc_engine.state.idempotency_sql`), which makes this hold
across restarts and across workers.

* Same key, same request, first one finished: the stored status and body.
* Same key, same request, first one still running: ``409 idempotency_in_progress`` (retry).
* Same key, another request (route or body differ): ``409 idempotency_key_reused``.
* The first one failed: nothing is kept, so a retry runs it afresh. Failed turns change no
  state (a turn commits atomically at its end), so running them again is safe.

Exactly once, even when a worker dies: NPC turns, game events, support turns and staff-reply
claims take a *receipt* (:class:`Receipts`): the answer is fixed before the commit and stored
in the same transaction as the work (:class:`~npc_engine.state.records.Receipt`). A worker
killed after that commit leaves a finished key, so the retry gets the answer; killed before
it, the key is taken over after ``lock_s`` and the work runs then, once. These are all the
routes that take an ``Idempotency-Key``.

Keys are scoped to the tenant and kept ``NPC_IDEMPOTENCY_TTL_S`` (24 h); a worker purges
old ones now and then. A worker renews its claim while it works; a claim whose worker died
is taken over ``lock_s`` (15 s) after its last renewal.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import structlog
from fastapi import Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel

from npc_engine.errors import ConflictError, InvalidInputError
from npc_engine.server.sse import SSE_HEADERS, sse_event
from npc_engine.state.idempotency_sql import IdempotencyStore
from npc_engine.state.records import Receipt

__all__ = ["IDEMPOTENCY_HEADER", "Idempotency", "Produce", "Receipts"]

log = structlog.get_logger("npc_engine.server")
IDEMPOTENCY_HEADER = "Idempotency-Key"
_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")
_PURGE_EVERY_S = 600.0


def _dumps(value: BaseModel | dict[str, Any]) -> str:
    data = value.model_dump(mode="json") if isinstance(value, BaseModel) else value
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


class Receipts:
    """Renders a request's answer for the engine to commit with its turn, and remembers it."""

    def __init__(self, tenant: str, key: str, status_code: int = 200) -> None:
        self.tenant, self.key, self.status_code = tenant, key, status_code
        self.payload: str | None = None

    def __call__(self, answer: BaseModel) -> Receipt:
        self.payload = _dumps(answer)
        return Receipt(self.tenant, self.key, self.status_code, self.payload)


Produce = Callable[[Receipts | None], Awaitable[BaseModel]]
"""A route's work: given the receipts (``None`` without an idempotency key), its answer."""


def _fingerprint(request: Request, body: BaseModel) -> str:
    canonical = json.dumps(body.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(f"{request.method} {request.url.path}\n{canonical}".encode()).hexdigest()


class Idempotency:
    def __init__(
        self, state: IdempotencyStore, *, ttl_s: float, lock_s: float, clock: Callable[[], float] = time.time
    ) -> None:
        self.state = state
        self.ttl_s = ttl_s
        self.lock_s = lock_s
        self.clock = clock
        self._last_purge = 0.0
        self._purging: asyncio.Task[int] | None = None

    async def _claim(self, tenant: str, key: str, fingerprint: str) -> Response | None:
        """``None``: this request owns the key; else the answer to send (replay or 409)."""
        if not _KEY.match(key):
            raise InvalidInputError(
                "Idempotency-Key must be 1 to 255 printable ASCII characters without spaces (a UUID is ideal)"
            )
        now = self.clock()
        self._maybe_purge(now)
        record = await self.state.claim_idempotency(tenant, key, fingerprint, now=now, lock_s=self.lock_s)
        if record is None:
            return None
        if record.request_hash != fingerprint:
            raise ConflictError(
                "this Idempotency-Key was already used for a different request; "
                "use a new key for each new request (and the same key only for its retries)",
                code="idempotency_key_reused",
            )
        if not record.done:
            raise ConflictError(
                "the first request with this Idempotency-Key is still running; retry in a moment",
                code="idempotency_in_progress",
            )
        log.info("idempotency.replayed", key_hash=hashlib.sha256(key.encode()).hexdigest()[:12])
        return Response(
            record.response or "",
            status_code=record.status_code or 200,
            media_type="application/json",
            headers={"Idempotent-Replayed": "true"},
        )

    async def json(
        self,
        request: Request,
        tenant: str,
        key: str | None,
        body: BaseModel,
        produce: Produce,
        *,
        status_code: int = 200,
    ) -> Response:
        """Run ``produce`` once per key and answer with its result as JSON."""
        if key is None:
            result = await produce(None)
            return JSONResponse(result.model_dump(mode="json"), status_code=status_code)
        replay = await self._claim(tenant, key, _fingerprint(request, body))
        if replay is not None:
            return replay
        receipts = Receipts(tenant, key, status_code)
        heartbeat = asyncio.get_running_loop().create_task(self._renew(tenant, key))
        try:
            result = await produce(receipts)
        except BaseException:
            await self._release(tenant, key)
            raise
        finally:
            heartbeat.cancel()
        payload = receipts.payload  # committed with the turn
        if payload is None:
            payload = _dumps(result)
            await self.state.finish_idempotency(tenant, key, status_code=status_code, response=payload)
        return Response(payload, status_code=status_code, media_type="application/json")

    async def stream(
        self,
        request: Request,
        tenant: str,
        key: str | None,
        body: BaseModel,
        events: Callable[[Receipts | None], AsyncIterator[tuple[str, Any]]],
    ) -> Response:
        """Stream ``events`` as SSE; with a key, store the final ``reply`` and replay it to retries."""
        receipts = Receipts(tenant, key) if key is not None else None
        if key is not None:
            replay = await self._claim(tenant, key, _fingerprint(request, body))
            if replay is not None:
                if replay.status_code != 200:
                    return replay
                return StreamingResponse(
                    _one(sse_event("reply", json.loads(bytes(replay.body)))),
                    media_type="text/event-stream",
                    headers={**SSE_HEADERS, "Idempotent-Replayed": "true"},
                )

        async def body_iter() -> AsyncIterator[bytes]:
            final: Any = None
            heartbeat = asyncio.get_running_loop().create_task(self._renew(tenant, key)) if key else None
            try:
                async for name, data in events(receipts):
                    if name == "reply":
                        final = data
                    yield sse_event(name, data)
            finally:
                if heartbeat is not None:
                    heartbeat.cancel()
                if key is not None:
                    if final is None:
                        await self._release(tenant, key)
                    elif receipts is None or receipts.payload is None:  # else committed with the turn
                        await self.state.finish_idempotency(
                            tenant, key, status_code=200, response=_dumps(final)
                        )

        return StreamingResponse(body_iter(), media_type="text/event-stream", headers=SSE_HEADERS)

    async def _renew(self, tenant: str, key: str) -> None:
        """Keep this worker's claim alive while it works; a dead worker's claim lapses after ``lock_s``."""
        while True:
            await asyncio.sleep(self.lock_s / 3)
            try:
                await self.state.renew_idempotency(tenant, key, now=self.clock(), lock_s=self.lock_s)
            except Exception as exc:
                log.warning("idempotency.renew_failed", error=str(exc))

    async def _release(self, tenant: str, key: str) -> None:
        try:
            await self.state.release_idempotency(tenant, key)
        except Exception as exc:  # the claim then expires after lock_s; never hide the real error
            log.warning("idempotency.release_failed", error=str(exc))

    def _maybe_purge(self, now: float) -> None:
        if now - self._last_purge < _PURGE_EVERY_S or (self._purging and not self._purging.done()):
            return
        self._last_purge = now
        self._purging = asyncio.get_running_loop().create_task(self._purge(now))

    async def _purge(self, now: float) -> int:
        try:
            removed = await self.state.purge_idempotency(before=now - self.ttl_s)
        except Exception as exc:
            log.warning("idempotency.purge_failed", error=str(exc))
            return 0
        if removed:
            log.info("idempotency.purged", rows=removed)
        return removed


async def _one(chunk: bytes) -> AsyncIterator[bytes]:
    yield chunk
