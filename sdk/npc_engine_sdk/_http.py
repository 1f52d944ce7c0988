"""Sending a :class:`~npc_engine_sdk._request.Call` over HTTP, with bounded retries.

The sync and async backends are the same loop written twice: build the request (one
``Idempotency-Key`` per call, reused on every retry), send it, and on a retryable failure
wait (``Retry-After``, else jittered backoff; see :mod:`npc_engine_sdk._retry`) and try
again, at most ``max_retries`` times. A stream is retried only while no event has arrived.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import httpx

from ._exceptions import APIConnectionError, APIError, APITimeoutError, error_from_response
from ._options import ClientOptions
from ._request import Call
from ._retry import retry_delay, should_retry_error, should_retry_status
from ._sse import ServerSentEvent, aiter_sse, iter_sse

__all__ = ["AsyncHttpBackend", "SyncHttpBackend", "idempotency_key_for"]


def idempotency_key_for(call: Call) -> str | None:
    """The call's ``Idempotency-Key``: the caller's, else a new one when the route takes one."""
    if call.idempotency_key is not None:
        return call.idempotency_key
    return str(uuid.uuid4()) if call.idempotent else None


class _HttpBackend:
    def __init__(self, options: ClientOptions) -> None:
        self.options = options

    def _build(self, http: httpx.Client | httpx.AsyncClient, call: Call, key: str | None) -> httpx.Request:
        headers = self.options.headers()
        if key is not None:
            headers["Idempotency-Key"] = key
        if call.stream:
            headers["Accept"] = "text/event-stream"
        if call.content_type is not None:
            headers["Content-Type"] = call.content_type
        return http.build_request(
            call.method,
            self.options.base_url + call.path,
            params=call.query(),
            json=call.json,
            content=call.content,
            headers=headers,
            timeout=self.options.timeout,
        )

    def _delay(self, exc: Exception, call: Call, retries: int) -> float | None:
        """Seconds to wait before trying ``call`` again after ``exc``; ``None``: do not."""
        if retries >= self.options.max_retries:
            return None
        if isinstance(exc, APIError):
            if should_retry_status(exc.status_code, exc.code, replay_safe=call.safe_to_replay):
                return retry_delay(retries, retry_after=exc.retry_after)
            return None
        if isinstance(exc, httpx.TransportError) and should_retry_error(exc, replay_safe=call.safe_to_replay):
            return retry_delay(retries)
        return None

    def _translate(self, exc: httpx.TransportError, call: Call) -> APIConnectionError:
        where = f"{call.method} {self.options.base_url}{call.path}"
        if isinstance(exc, httpx.TimeoutException):
            return APITimeoutError(f"{where} timed out ({type(exc).__name__}): {exc}")
        return APIConnectionError(f"{where} failed ({type(exc).__name__}): {exc}")


def _json(response: httpx.Response) -> Any:
    if response.status_code == 204 or not response.content:
        return None
    try:
        return response.json()
    except ValueError as exc:
        raise APIError(
            f"the server answered {response.status_code} with a body that is not JSON",
            status_code=response.status_code,
            code="invalid_response",
            request_id=response.headers.get("x-request-id"),
            body=response.text[:500],
        ) from exc


def _is_sse(response: httpx.Response) -> bool:
    return response.headers.get("content-type", "").startswith("text/event-stream")


class SyncHttpBackend(_HttpBackend):
    def __init__(
        self,
        options: ClientOptions,
        http: httpx.Client,
        *,
        owns_http: bool,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(options)
        self.http = http
        self.owns_http = owns_http
        self._sleep = sleep

    def request(self, call: Call) -> Any:
        key = idempotency_key_for(call)
        retries = 0
        while True:
            try:
                response = self.http.send(self._build(self.http, call, key))
                if not response.is_success:
                    raise error_from_response(response)
                return _json(response)
            except (httpx.TransportError, APIError) as exc:
                delay = self._delay(exc, call, retries)
                if delay is None:
                    if isinstance(exc, APIError):
                        raise
                    raise self._translate(exc, call) from exc
            self._sleep(delay)
            retries += 1

    def stream(self, call: Call) -> Iterator[ServerSentEvent]:
        key = idempotency_key_for(call)
        retries = 0
        while True:
            delivered = False
            try:
                with self._open(call, key) as response:
                    if not _is_sse(response):  # e.g. an idempotent replay answered as JSON
                        response.read()
                        delivered = True
                        yield ServerSentEvent("reply", response.text)
                        return
                    for event in iter_sse(response.iter_lines()):
                        delivered = True
                        yield event
                return
            except (httpx.TransportError, APIError) as exc:
                delay = None if delivered else self._delay(exc, call, retries)
                if delay is None:
                    if isinstance(exc, APIError):
                        raise
                    raise self._translate(exc, call) from exc
            self._sleep(delay)
            retries += 1

    @contextmanager
    def _open(self, call: Call, key: str | None) -> Iterator[httpx.Response]:
        response = self.http.send(self._build(self.http, call, key), stream=True)
        try:
            if not response.is_success:
                response.read()
                raise error_from_response(response)
            yield response
        finally:
            response.close()

    def close(self) -> None:
        if self.owns_http:
            self.http.close()


async def _async_sleep(seconds: float) -> None:
    await asyncio.sleep(seconds)


class AsyncHttpBackend(_HttpBackend):
    def __init__(
        self,
        options: ClientOptions,
        http: httpx.AsyncClient,
        *,
        owns_http: bool,
        sleep: Callable[[float], Awaitable[None]] = _async_sleep,
    ) -> None:
        super().__init__(options)
        self.http = http
        self.owns_http = owns_http
        self._sleep = sleep

    async def request(self, call: Call) -> Any:
        key = idempotency_key_for(call)
        retries = 0
        while True:
            try:
                response = await self.http.send(self._build(self.http, call, key))
                if not response.is_success:
                    raise error_from_response(response)
                return _json(response)
            except (httpx.TransportError, APIError) as exc:
                delay = self._delay(exc, call, retries)
                if delay is None:
                    if isinstance(exc, APIError):
                        raise
                    raise self._translate(exc, call) from exc
            await self._sleep(delay)
            retries += 1

    async def stream(self, call: Call) -> AsyncIterator[ServerSentEvent]:
        key = idempotency_key_for(call)
        retries = 0
        while True:
            delivered = False
            try:
                async with self._open(call, key) as response:
                    if not _is_sse(response):
                        await response.aread()
                        delivered = True
                        yield ServerSentEvent("reply", response.text)
                        return
                    async for event in aiter_sse(response.aiter_lines()):
                        delivered = True
                        yield event
                return
            except (httpx.TransportError, APIError) as exc:
                delay = None if delivered else self._delay(exc, call, retries)
                if delay is None:
                    if isinstance(exc, APIError):
                        raise
                    raise self._translate(exc, call) from exc
            await self._sleep(delay)
            retries += 1

    @asynccontextmanager
    async def _open(self, call: Call, key: str | None) -> AsyncIterator[httpx.Response]:
        response = await self.http.send(self._build(self.http, call, key), stream=True)
        try:
            if not response.is_success:
                await response.aread()
                raise error_from_response(response)
            yield response
        finally:
            await response.aclose()

    async def aclose(self) -> None:
        if self.owns_http:
            await self.http.aclose()
