"""Client settings: argument > environment > default; headers; copies; closing."""

from __future__ import annotations

import httpx
import pytest
from npc_engine_sdk import DEFAULT_BASE_URL, AsyncNpcClient, NpcClient, NpcEngineError, __version__

from tests.sdk.scripted import KEY, MakeAsyncClient, MakeClient, ScriptedServer, answer


@pytest.fixture
def no_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    monkeypatch.delenv("NPC_API_KEY", raising=False)
    monkeypatch.delenv("NPC_BASE_URL", raising=False)
    return monkeypatch


def test_the_api_key_argument_wins_over_the_environment(no_env: pytest.MonkeyPatch) -> None:
    no_env.setenv("NPC_API_KEY", "npk_from_env")
    with NpcClient(api_key="npk_from_arg") as client:
        assert client.api_key == "npk_from_arg"


def test_the_api_key_comes_from_the_environment_when_not_given(no_env: pytest.MonkeyPatch) -> None:
    no_env.setenv("NPC_API_KEY", "npk_from_env")
    with NpcClient() as client:
        assert client.api_key == "npk_from_env"


def test_no_api_key_anywhere_is_a_clear_error(no_env: pytest.MonkeyPatch) -> None:
    with pytest.raises(NpcEngineError, match="NPC_API_KEY"):
        NpcClient()
    with pytest.raises(NpcEngineError, match="api_key"):
        AsyncNpcClient()


def test_the_base_url_argument_wins_over_the_environment(no_env: pytest.MonkeyPatch) -> None:
    no_env.setenv("NPC_BASE_URL", "http://env.example:9000")
    with NpcClient(api_key=KEY, base_url="http://arg.example/") as client:
        assert client.base_url == "http://arg.example"


def test_the_base_url_comes_from_the_environment_then_the_default(no_env: pytest.MonkeyPatch) -> None:
    with NpcClient(api_key=KEY) as client:
        assert client.base_url == DEFAULT_BASE_URL == "http://127.0.0.1:8000"
    no_env.setenv("NPC_BASE_URL", "http://env.example:9000")
    with NpcClient(api_key=KEY) as client:
        assert client.base_url == "http://env.example:9000"


def test_defaults_are_a_minute_and_two_retries() -> None:
    with NpcClient(api_key=KEY) as client:
        assert client.timeout == 60.0 and client.max_retries == 2


def test_requests_carry_the_key_and_the_sdk_user_agent(make_client: MakeClient) -> None:
    server = ScriptedServer(answer(200, {"tickets": [], "total": 0}))
    make_client(server).tickets.list()
    assert server.last.headers["authorization"] == f"Bearer {KEY}"
    assert server.last.headers["user-agent"] == f"npc-engine-sdk/{__version__}"
    assert str(server.last.url).startswith("http://npc.test/v1/tickets")


def test_default_headers_are_sent(make_client: MakeClient) -> None:
    server = ScriptedServer(answer(200, {"tickets": [], "total": 0}))
    make_client(server, default_headers={"X-Game-Build": "1.2.3"}).tickets.list()
    assert server.last.headers["x-game-build"] == "1.2.3"


def test_the_timeout_is_applied_to_each_request(make_client: MakeClient) -> None:
    server = ScriptedServer(answer(200, {"tickets": [], "total": 0}))
    make_client(server, timeout=httpx.Timeout(5.0, connect=1.0)).tickets.list()
    assert server.last.extensions["timeout"] == {"connect": 1.0, "read": 5.0, "write": 5.0, "pool": 5.0}


def test_with_options_returns_a_changed_copy_and_leaves_the_original(make_client: MakeClient) -> None:
    server = ScriptedServer(answer(200, {"tickets": [], "total": 0}))
    client = make_client(server, default_headers={"X-A": "1"})
    copy = client.with_options(api_key="npk_other", max_retries=0, timeout=3.0, default_headers={"X-B": "2"})
    assert (copy.api_key, copy.max_retries, copy.timeout) == ("npk_other", 0, 3.0)
    assert (client.api_key, client.max_retries, client.timeout) == (KEY, 2, 60.0)
    copy.tickets.list()
    assert server.last.headers["authorization"] == "Bearer npk_other"
    assert server.last.headers["x-a"] == "1" and server.last.headers["x-b"] == "2"


def test_closing_a_copy_leaves_the_shared_connection_open() -> None:
    client = NpcClient(api_key=KEY)
    with client.with_options(max_retries=0):
        pass
    assert not client._backend.http.is_closed  # type: ignore[attr-defined]
    client.close()
    assert client._backend.http.is_closed  # type: ignore[attr-defined]


def test_an_injected_http_client_is_not_closed_by_the_sdk() -> None:
    http = httpx.Client()
    with NpcClient(api_key=KEY, http_client=http):
        pass
    assert not http.is_closed
    http.close()


async def test_an_injected_async_http_client_is_not_closed_by_the_sdk() -> None:
    http = httpx.AsyncClient()
    async with AsyncNpcClient(api_key=KEY, http_client=http):
        pass
    assert not http.is_closed
    await http.aclose()


async def test_the_async_client_closes_the_pool_it_created() -> None:
    client = AsyncNpcClient(api_key=KEY)
    await client.close()
    assert client._backend.http.is_closed  # type: ignore[attr-defined]


def test_the_wrong_kind_of_http_client_is_refused() -> None:
    with pytest.raises(TypeError, match=r"httpx\.Client"):
        NpcClient(api_key=KEY, http_client=httpx.AsyncClient())  # type: ignore[arg-type]


def test_a_negative_max_retries_is_refused() -> None:
    with pytest.raises(ValueError, match="max_retries"):
        NpcClient(api_key=KEY, max_retries=-1)


async def test_the_async_client_has_the_same_options(make_async_client: MakeAsyncClient) -> None:
    server = ScriptedServer(answer(200, {"tickets": [], "total": 0}))
    client = make_async_client(server).with_options(default_headers={"X-B": "2"})
    await client.tickets.list()
    assert server.last.headers["authorization"] == f"Bearer {KEY}" and server.last.headers["x-b"] == "2"
