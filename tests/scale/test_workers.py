"""Two stateless workers on PostgreSQL and a Chroma server: no lost turn, no duplicate, across
crashes and backend faults.

The tests share one real deployment of ``bench/load.py`` (a private PostgreSQL schema reached
through a cuttable proxy, a ``chroma run`` server on a free port, a fault-injecting
OpenAI-compatible model server, two ``npc-engine serve`` processes on their own ports) with
the hash embedder, so the load is the engine's and the databases', quickly: 100 simulated
players a run, each retrying with its ``Idempotency-Key`` until acknowledged. Each run uses
players of its own; every crash and fault is over (workers restarted, backends back) when its
run returns. ``npc-engine serve --workers 2`` (uvicorn's supervisor) gets a deployment of its own.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator

import httpx
import pytest

from bench.load import DEFAULT_POSTGRES, Deployment, deployment, load_on, run, soak_on, stored_turns


@pytest.fixture(scope="module")
def postgres(postgres_url: str) -> str:
    """The base URL of the real PostgreSQL (the load harness makes its own schema)."""
    return postgres_url.split("?", 1)[0] or DEFAULT_POSTGRES


@pytest.fixture(scope="module")
def two_workers(postgres: str) -> Iterator[Deployment]:
    with deployment(
        workers=2, postgres=postgres, embedder="hash", log=False, llm_server=True, postgres_proxy=True
    ) as dep:
        _warm(dep)
        yield dep


def _warm(dep: Deployment) -> None:
    """A first turn through each worker, so no run measures the deployment's cold start.

    (Without it the first run's players all waited on first connections and first queries: on a
    busy CI machine every turn of its 9 s took 8 s or more.)
    """

    async def go() -> list[httpx.Response]:
        async with httpx.AsyncClient(timeout=120) as http:
            return [
                await _turn(http, url, dep, f"warm-{uuid.uuid4().hex[:6]}", "hello")
                for url in dep.workers.urls
            ]

    answers = asyncio.run(go())
    assert all(a.status_code == 200 for a in answers), [a.text for a in answers]


def _prefix() -> str:
    return f"p{uuid.uuid4().hex[:6]}-"


@pytest.mark.parametrize("crash", ["none", "worker", "all"])
def test_players_on_two_workers_lose_no_acknowledged_turn_and_duplicate_none(
    two_workers: Deployment, crash: str
) -> None:
    result = load_on(two_workers, players=100, seconds=9, crash=crash, log=False, prefix=_prefix())
    # not a throughput check (that is bench/load.py's): every player's turns were acknowledged,
    # and a crash hit turns in flight (the players had to retry them on the other worker)
    assert result.turns >= 100
    assert (result.errors, result.lost, result.duplicates) == (0, 0, 0), result.error_samples
    if crash != "none":
        assert result.retries > 0


def test_a_soak_keeps_the_same_players_talking_and_measures_each_window(two_workers: Deployment) -> None:
    """``bench/load.py --soak``, short: the players' conversations go on from window to window."""
    prefix = _prefix()
    outcome = soak_on(two_workers, players=10, seconds=3, windows=2, log=False, prefix=prefix)
    first, second = outcome.windows
    assert (outcome.lost, outcome.duplicates, first.errors + second.errors) == (0, 0, 0)
    assert first.turns >= 10 and second.turns >= 10
    stored = asyncio.run(stored_turns(two_workers.state_url, [f"{prefix}{n}" for n in range(10)]))
    assert sum(len(t) for t in stored.values()) == first.turns + second.turns  # one history, both windows
    assert len(outcome.rss_mb) == 2 and all(mb > 50 for mb in outcome.rss_mb)  # two workers' processes
    assert "rss_growth_mb=" in outcome.line() and "tput_last_vs_first=" in outcome.line()


def test_uvicorn_restarts_a_killed_worker_and_no_acknowledged_turn_is_lost_or_duplicated(
    postgres: str,
) -> None:
    """``npc-engine serve --workers 2``: one of uvicorn's children killed with SIGKILL mid-load."""
    result = run(
        players=100, seconds=12, workers=2, crash="worker", server="uvicorn", postgres=postgres,
        embedder="hash", log=False,
    )  # fmt: skip
    assert result.turns >= 100 and result.retries > 0
    assert (result.errors, result.lost, result.duplicates) == (0, 0, 0), result.error_samples


def test_under_llm_faults_every_turn_is_answered_and_the_model_is_back_once_healed(
    two_workers: Deployment,
) -> None:
    """The model server fails 40% of calls (errors, garbage, drops, hangs) for the middle third."""
    # 20 players: the fault-injecting model server runs in this process, beside the clients; with
    # 100 it is itself the bottleneck (its answers then miss NPC_LLM_TIMEOUT_S after the faults end)
    result = load_on(two_workers, players=20, seconds=15, faults="llm", log=False, prefix=_prefix())
    assert (result.errors, result.hangs, result.lost, result.duplicates) == (0, 0, 0, 0), result.error_samples
    assert result.fallbacks > 0  # the faults were hit, and answered by the fallback composer
    assert result.healed_model_share is not None and result.healed_model_share >= 0.95


def test_with_chroma_stopped_and_restarted_every_turn_is_answered_and_workers_recover(
    two_workers: Deployment,
) -> None:
    """The Chroma server is down for the middle third: lexical search answers, no worker restarts."""
    result = load_on(two_workers, players=100, seconds=15, faults="chroma", log=False, prefix=_prefix())
    assert (result.errors, result.hangs, result.lost, result.duplicates) == (0, 0, 0, 0), result.error_samples
    assert result.turns > 40
    assert result.recovered_s is not None and result.recovered_s < 30


def test_with_postgresql_cut_off_turns_get_503_then_all_are_stored_once(two_workers: Deployment) -> None:
    """The workers' connections to PostgreSQL are cut for the middle third, then let through."""
    result = load_on(two_workers, players=100, seconds=15, faults="postgres", log=False, prefix=_prefix())
    assert (result.errors, result.hangs, result.lost, result.duplicates) == (0, 0, 0, 0), result.error_samples
    assert result.unavailable > 0  # the outage was seen: clear 503s, retried by the clients
    assert result.recovered_s is not None and result.recovered_s < 30


async def _turn(
    http: httpx.AsyncClient, url: str, dep: Deployment, player: str, text: str, key: str | None = None
):
    headers = {"Authorization": f"Bearer {dep.secret}", **({"Idempotency-Key": key} if key else {})}
    return await http.post(
        f"{url}/v1/npcs/brannoc/turns", json={"player": {"id": player}, "text": text}, headers=headers
    )


def test_turns_on_one_conversation_through_both_workers_are_serialised(two_workers: Deployment) -> None:
    urls, player = two_workers.workers.urls, f"p-{uuid.uuid4().hex[:6]}"

    async def go() -> list[httpx.Response]:
        async with httpx.AsyncClient(timeout=60) as http:
            return await asyncio.gather(
                *(_turn(http, urls[i % 2], two_workers, player, f"message {i}") for i in range(16))
            )

    answers = asyncio.run(go())
    assert all(a.status_code == 200 for a in answers), [a.text for a in answers if a.status_code != 200]
    assert sorted(a.json()["turn"] for a in answers) == list(range(1, 17))  # no two turns saw the same state
    stored = asyncio.run(stored_turns(two_workers.state_url, [player]))[player]
    assert sorted(stored) == sorted(f"message {i}" for i in range(16))


def test_one_idempotency_key_sent_to_both_workers_runs_the_turn_once(two_workers: Deployment) -> None:
    urls, player, key = two_workers.workers.urls, f"p-{uuid.uuid4().hex[:6]}", str(uuid.uuid4())

    async def go() -> list[httpx.Response]:
        async with httpx.AsyncClient(timeout=60) as http:
            first = await asyncio.gather(
                *(_turn(http, url, two_workers, player, "hello", key) for url in urls)
            )
            again = await _turn(http, urls[1], two_workers, player, "hello", key)
            return [*first, again]

    answers = asyncio.run(go())
    ok = [a for a in answers if a.status_code == 200]
    assert ok and all(a.json() == ok[0].json() for a in ok)
    assert all(a.status_code == 200 or a.json()["code"] == "idempotency_in_progress" for a in answers)
    assert asyncio.run(stored_turns(two_workers.state_url, [player]))[player] == ["hello"]
