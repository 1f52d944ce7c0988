"""SDK fixtures: clients over a scripted HTTP server that never really sleep, and (for the
in-process mode) the engine fixtures of the NPC-turn tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from npc_engine_sdk import AsyncNpcClient, NpcClient

from tests.sdk.scripted import BASE, KEY, MakeAsyncClient, MakeClient, ScriptedServer, Sleeps
from tests.turn.conftest import make_engine, player, turn_backends  # noqa: F401


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def make_client(sleeps: Sleeps) -> Iterator[MakeClient]:
    """``make_client(server, **options)``: a sync client whose requests ``server`` answers."""
    made: list[NpcClient] = []

    def make(server: ScriptedServer, **options: Any) -> NpcClient:
        options.setdefault("api_key", KEY)
        options.setdefault("base_url", BASE)
        http = httpx.Client(transport=httpx.MockTransport(server.handle))
        client = NpcClient(http_client=http, _sleep=sleeps, **options)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


@pytest.fixture
async def make_async_client(sleeps: Sleeps) -> AsyncIterator[MakeAsyncClient]:
    """``make_async_client(server, **options)``: the async twin of ``make_client``."""
    made: list[httpx.AsyncClient] = []

    def make(server: ScriptedServer, **options: Any) -> AsyncNpcClient:
        options.setdefault("api_key", KEY)
        options.setdefault("base_url", BASE)
        http = httpx.AsyncClient(transport=httpx.MockTransport(server.handle))
        made.append(http)
        return AsyncNpcClient(http_client=http, _sleep=sleeps.asleep, **options)

    yield make
    for http in made:
        await http.aclose()
