"""The clients: :class:`NpcClient` (blocking) and :class:`AsyncNpcClient` (asyncio).

Both have the same resources (``npcs``, ``support``, ``tickets``, ``personas``, ``world``)
with the same methods, over HTTP (the default) or in this process
(:meth:`NpcClient.in_process`). Settings resolve as: argument, else environment
(``NPC_API_KEY``, ``NPC_BASE_URL``), else default.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Awaitable, Callable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING

import httpx

from ._backend import AsyncBackend, SyncBackend
from ._http import AsyncHttpBackend, SyncHttpBackend, _async_sleep
from ._options import DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT, ClientOptions, resolve_api_key, resolve_base_url
from .resources import (
    AsyncNpcs,
    AsyncPersonas,
    AsyncSupport,
    AsyncTickets,
    AsyncWorld,
    Npcs,
    Personas,
    Support,
    Tickets,
    World,
)

if TYPE_CHECKING:
    from npc_engine.engine import Engine

__all__ = ["AsyncNpcClient", "NpcClient"]


def _options(
    api_key: str | None,
    base_url: str | httpx.URL | None,
    timeout: float | httpx.Timeout,
    max_retries: int,
    default_headers: Mapping[str, str] | None,
) -> ClientOptions:
    return ClientOptions(
        api_key=resolve_api_key(api_key),
        base_url=resolve_base_url(base_url),
        timeout=timeout,
        max_retries=max_retries,
        default_headers=dict(default_headers or {}),
    )


def _with(
    options: ClientOptions,
    api_key: str | None,
    base_url: str | httpx.URL | None,
    timeout: float | httpx.Timeout | None,
    max_retries: int | None,
    default_headers: Mapping[str, str] | None,
) -> ClientOptions:
    changes: dict[str, object] = {}
    if api_key is not None:
        changes["api_key"] = api_key
    if base_url is not None:
        changes["base_url"] = resolve_base_url(base_url)
    if timeout is not None:
        changes["timeout"] = timeout
    if max_retries is not None:
        changes["max_retries"] = max_retries
    if default_headers is not None:
        changes["default_headers"] = {**options.default_headers, **default_headers}
    return dataclasses.replace(options, **changes)  # type: ignore[arg-type]


def _not_httpx(wanted: str, given: object) -> str:
    kind = type(given)
    message = f"http_client must be an {wanted}, not {kind.__module__}.{kind.__qualname__}"
    if not kind.__module__.startswith("httpx."):  # e.g. starlette's TestClient, built on httpx2
        message += "; wrap other clients in an httpx transport (httpx.MockTransport, httpx.ASGITransport)"
    return message


def _in_process_options(tenant: str) -> ClientOptions:
    return ClientOptions(api_key=None, base_url=f"in-process://{tenant}", max_retries=0)


class NpcClient:
    """A blocking client of the npc-engine API.

    ``with NpcClient(api_key="npk_...") as client: client.npcs.turn(...)``. ``close()`` (or
    leaving the ``with`` block) closes the connection pool the client created; an
    ``http_client`` you passed in stays yours to close.
    """

    npcs: Npcs
    support: Support
    tickets: Tickets
    personas: Personas
    world: World

    def __init__(
        self,
        *,
        api_key: str | None = None,
        base_url: str | httpx.URL | None = None,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        http_client: httpx.Client | None = None,
        default_headers: Mapping[str, str] | None = None,
        _sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if http_client is not None and not isinstance(http_client, httpx.Client):
            raise TypeError(_not_httpx("httpx.Client", http_client))
        options = _options(api_key, base_url, timeout, max_retries, default_headers)
        http = http_client if http_client is not None else httpx.Client(timeout=timeout)
        backend = SyncHttpBackend(options, http, owns_http=http_client is None, sleep=_sleep)
        self._setup(options, backend, owns_backend=True)

    def _setup(self, options: ClientOptions, backend: SyncBackend, *, owns_backend: bool) -> None:
        self._options = options
        self._backend = backend
        self._owns_backend = owns_backend
        self.npcs = Npcs(backend)
        self.support = Support(backend)
        self.tickets = Tickets(backend)
        self.personas = Personas(backend)
        self.world = World(backend)

    @classmethod
    def in_process(cls, engine: Engine, *, tenant: str | None = None) -> NpcClient:
        """A client calling ``engine`` directly (no server, no key); ``tenant`` defaults to the engine's.

        The engine is async: the client runs it on a private event loop in a daemon thread,
        stopped by ``close()``. The engine stays yours to close.
        """
        from ._inprocess import SyncInProcessBackend

        backend = SyncInProcessBackend(engine, tenant=tenant)
        client = cls.__new__(cls)
        client._setup(_in_process_options(backend.tenant), backend, owns_backend=True)
        return client

    @property
    def base_url(self) -> str:
        return self._options.base_url

    @property
    def api_key(self) -> str | None:
        return self._options.api_key

    @property
    def timeout(self) -> float | httpx.Timeout:
        return self._options.timeout

    @property
    def max_retries(self) -> int:
        return self._options.max_retries

    def with_options(
        self,
        *,
        api_key: str | None = None,
        base_url: str | httpx.URL | None = None,
        timeout: float | httpx.Timeout | None = None,
        max_retries: int | None = None,
        http_client: httpx.Client | None = None,
        default_headers: Mapping[str, str] | None = None,
    ) -> NpcClient:
        """A copy with some settings changed, sharing this client's connections.

        ``default_headers`` are added to this client's. Closing the copy closes nothing.
        """
        options = _with(self._options, api_key, base_url, timeout, max_retries, default_headers)
        backend: SyncBackend = self._backend
        if isinstance(backend, SyncHttpBackend):
            http = http_client if http_client is not None else backend.http
            backend = SyncHttpBackend(options, http, owns_http=False, sleep=backend._sleep)
        client = type(self).__new__(type(self))
        client._setup(options, backend, owns_backend=False)
        return client

    def close(self) -> None:
        """Release what this client opened (its connection pool, or its in-process loop thread)."""
        if self._owns_backend:
            self._backend.close()

    def __enter__(self) -> NpcClient:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class AsyncNpcClient:
    """An asyncio client of the npc-engine API; the same resources and methods as :class:`NpcClient`.

    ``async with AsyncNpcClient(api_key="npk_...") as client: await client.npcs.turn(...)``.
    """

    npcs: AsyncNpcs
    support: AsyncSupport
    tickets: AsyncTickets
    personas: AsyncPersonas
    world: AsyncWorld

    def __init__(
        self,
        *,
        api_key: str | None = None,
        base_url: str | httpx.URL | None = None,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        http_client: httpx.AsyncClient | None = None,
        default_headers: Mapping[str, str] | None = None,
        _sleep: Callable[[float], Awaitable[None]] = _async_sleep,
    ) -> None:
        if http_client is not None and not isinstance(http_client, httpx.AsyncClient):
            raise TypeError(_not_httpx("httpx.AsyncClient", http_client))
        options = _options(api_key, base_url, timeout, max_retries, default_headers)
        http = http_client if http_client is not None else httpx.AsyncClient(timeout=timeout)
        backend = AsyncHttpBackend(options, http, owns_http=http_client is None, sleep=_sleep)
        self._setup(options, backend, owns_backend=True)

    def _setup(self, options: ClientOptions, backend: AsyncBackend, *, owns_backend: bool) -> None:
        self._options = options
        self._backend = backend
        self._owns_backend = owns_backend
        self.npcs = AsyncNpcs(backend)
        self.support = AsyncSupport(backend)
        self.tickets = AsyncTickets(backend)
        self.personas = AsyncPersonas(backend)
        self.world = AsyncWorld(backend)

    @classmethod
    def in_process(cls, engine: Engine, *, tenant: str | None = None) -> AsyncNpcClient:
        """A client awaiting ``engine`` directly (no server, no key); ``tenant`` defaults to the engine's."""
        from ._inprocess import AsyncInProcessBackend

        backend = AsyncInProcessBackend(engine, tenant=tenant)
        client = cls.__new__(cls)
        client._setup(_in_process_options(backend.tenant), backend, owns_backend=True)
        return client

    @property
    def base_url(self) -> str:
        return self._options.base_url

    @property
    def api_key(self) -> str | None:
        return self._options.api_key

    @property
    def timeout(self) -> float | httpx.Timeout:
        return self._options.timeout

    @property
    def max_retries(self) -> int:
        return self._options.max_retries

    def with_options(
        self,
        *,
        api_key: str | None = None,
        base_url: str | httpx.URL | None = None,
        timeout: float | httpx.Timeout | None = None,
        max_retries: int | None = None,
        http_client: httpx.AsyncClient | None = None,
        default_headers: Mapping[str, str] | None = None,
    ) -> AsyncNpcClient:
        """A copy with some settings changed, sharing this client's connections (see :meth:`NpcClient.with_options`)."""
        options = _with(self._options, api_key, base_url, timeout, max_retries, default_headers)
        backend: AsyncBackend = self._backend
        if isinstance(backend, AsyncHttpBackend):
            http = http_client if http_client is not None else backend.http
            backend = AsyncHttpBackend(options, http, owns_http=False, sleep=backend._sleep)
        client = type(self).__new__(type(self))
        client._setup(options, backend, owns_backend=False)
        return client

    async def close(self) -> None:
        """Release the connection pool this client created."""
        if self._owns_backend:
            await self._backend.aclose()

    async def __aenter__(self) -> AsyncNpcClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()
