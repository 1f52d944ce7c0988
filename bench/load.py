"""Load and crash benchmark (issue 7): N stateless workers on PostgreSQL and a Chroma server.

The deployment a studio runs when it outgrows one machine, on loopback:

* state in PostgreSQL (``--postgres``, default the project's 127.0.0.1:5432 ``test`` database,
  in a private schema dropped afterwards);
* vectors in a Chroma server (``chroma run``, started here on a free port);
* ``--workers`` API workers, each its own ``npc-engine serve`` process on its own port, as
  behind a load balancer: clients spread their requests over them;
* an instant scripted model (``NPC_LLM=scripted``), so the figures are the engine's, the
  workers' and the databases', not a model's; the bundled e5 embedder in each worker.

``--players`` simulated players each hold a conversation with an NPC for ``--seconds``: send
a turn, wait for the reply, send the next. Every turn carries an ``Idempotency-Key``; a
failed or unanswered request is retried with the same key (on the next worker) until it is
acknowledged, as the SDK does. With ``--crash worker`` one worker is killed with SIGKILL
mid-run and restarted; with ``--crash all`` every worker is, at once. ``--server uvicorn`` runs
the workers as one ``npc-engine serve --workers N`` instead: ``--crash worker`` then kills one
of uvicorn's children (its supervisor starts another), ``--crash all`` the whole server.

Backend faults, for the middle third of the run (``--faults``):

* ``llm``: the workers' model is an OpenAI-compatible server (``NPC_LLM=openai:...``, a
  :class:`~npc_engine.llm.faulty.FaultyOpenAIServer`) that fails 40% of its calls: 5xx and 429
  errors, garbage, dropped connections, hangs and trickles (``NPC_LLM_TIMEOUT_S=2``). Every turn
  must still be answered (the grounded fallback composer); once it heals, by the model again
  (``healed_model_share``: the share of model-written replies after the fault);
* ``chroma``: the Chroma server is stopped, then started again on the same port. Turns are
  answered from lexical search (or a 503 the client retries); ``recovered_s``: seconds from the
  restart until every worker's ``/readyz`` is 200 again, with no worker restarted;
* ``postgres``: the workers' connections to PostgreSQL are cut (a
  :class:`~npc_engine.devservices.CuttableProxy` closes them and refuses new ones), then let
  through again: requests get ``503 state_store_error`` meanwhile (retried by the client), and
  nothing is half-written; ``recovered_s`` as for Chroma;
* ``all``: the three at once.

A request with no answer within 30 s counts as a hang (``hangs``, and in ``errors``).

Then the store is checked against what the clients saw acknowledged:

* ``lost``: acknowledged turns whose player message is not in the store;
* ``duplicates``: turns stored more than once (a retry that ran the turn again);
* ``errors``: requests that got an error answer other than a retryable one (a 5xx other
  than 503, or any 4xx), or turns never acknowledged by the end.

Last line: ``turns_per_s=... p50_ms=... p99_ms=... errors=... lost=... duplicates=... unavailable=...
hangs=... fallbacks=...`` (and ``healed_model_share=``, ``recovered_s=`` with faults).
Soak (``--soak WINDOWS``): the steady load for ``WINDOWS`` x ``--seconds`` on one deployment,
the same players throughout (their conversations and memories grow as in a long-running
server), measured window by window; last line ``turns= turns_per_s= p99_ms= errors= lost=
duplicates= tput_last_vs_first= p99_last_vs_first= rss_first_mb= rss_last_mb= rss_growth_mb=``
(throughput and p99 of the last window against the first; the workers' resident memory,
each worker's process group summed, after the first window and after the last).

Usage: ``python bench/load.py [--players 100] [--seconds 30] [--workers 2] [--crash none|worker|all]
[--faults none|llm|chroma|postgres|all] [--server processes|uvicorn] [--soak WINDOWS]``
"""

# ruff: noqa: E402  (the imports below must come after the sys.path fix)
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# the repository first; this folder off the path (its http.py would shadow the standard library's)
sys.path[:] = [str(ROOT), *(p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench")]

import argparse
import asyncio
import collections
import contextlib
import os
import random
import signal
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import httpx
from sqlalchemy.engine import make_url

from bench._served import CLI, ingest_with_key
from npc_engine.devservices import (
    ChromaServer,
    CuttableProxy,
    chroma_server,
    free_port,
    postgres_schema,
    wait_ready,
)
from npc_engine.llm.faulty import FaultyOpenAIServer

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
QUESTIONS = [
    "How do you temper a blade properly?",
    "What is the Great Forge of Ironhold?",
    "Tell me about the Kingsbridge Accord.",
    "Where can I find good iron ore?",
    "What is starsteel?",
    "Can you repair my shield?",
]


class Workers:
    """``count`` ``npc-engine serve`` processes on their own ports, sharing the environment."""

    def __init__(self, count: int, env: dict[str, str], log_dir: Path) -> None:
        self.env, self.log_dir = env, log_dir
        self.ports = [free_port() for _ in range(count)]
        self.procs: list[subprocess.Popen[bytes] | None] = [None] * count

    @property
    def urls(self) -> list[str]:
        return [f"http://127.0.0.1:{p}" for p in self.ports]

    def start(self, i: int) -> None:
        log = (self.log_dir / f"worker-{i}.log").open("ab")
        self.procs[i] = subprocess.Popen(
            [*CLI, "serve", "--port", str(self.ports[i]), "--log-level", "warning"],
            env=self.env,
            stdout=log,
            stderr=log,
            start_new_session=True,  # its embedder child dies with its process group
        )
        log.close()

    def kill(self, i: int) -> None:
        proc = self.procs[i]
        if proc is not None and proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)

    def wait_ready(self, i: int, timeout_s: float = 120.0) -> None:
        try:
            wait_ready(self.urls[i], process=self.procs[i], timeout_s=timeout_s)
        except (RuntimeError, TimeoutError) as exc:
            raise RuntimeError(f"worker {i}: {exc}; see {self.log_dir}/worker-{i}.log") from None

    def __enter__(self) -> Workers:
        for i in range(len(self.ports)):
            self.start(i)
        for i in range(len(self.ports)):
            self.wait_ready(i)
        return self

    def __exit__(self, *exc: object) -> None:
        for i in range(len(self.ports)):
            self.kill(i)


class UvicornWorkers(Workers):
    """One ``npc-engine serve --workers N`` on one port: uvicorn's supervisor and its N children.

    ``kill_child(i)`` kills child ``i`` with SIGKILL (the supervisor starts a new one); ``kill(0)``
    kills the whole server (supervisor and children), ``start(0)`` starts it again.
    """

    def __init__(self, count: int, env: dict[str, str], log_dir: Path) -> None:
        super().__init__(1, env, log_dir)
        self.children = count

    def start(self, i: int) -> None:
        log = (self.log_dir / "server.log").open("ab")
        self.procs[0] = subprocess.Popen(
            [
                *CLI,
                "serve",
                "--port",
                str(self.ports[0]),
                "--workers",
                str(self.children),
                "--log-level",
                "warning",
            ],
            env=self.env,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
        log.close()

    def child_pids(self) -> list[int]:
        """The supervisor's worker processes, oldest first (their own embedder children excluded)."""
        proc = self.procs[0]
        if proc is None:
            return []
        children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children")
        pids = [int(p) for p in children.read_text().split()] if children.exists() else []
        return [p for p in pids if _cmdline(p) and "spawn_main" in _cmdline(p)] or pids

    def kill_child(self, i: int) -> int:
        pids = self.child_pids()
        if not pids:
            raise RuntimeError(f"no uvicorn worker to kill; see {self.log_dir}/server.log")
        victim = pids[i % len(pids)]
        os.kill(victim, signal.SIGKILL)
        return victim

    def wait_children(self, timeout_s: float = 120.0) -> None:
        """Until the supervisor runs ``children`` workers again and the port answers ``/readyz``."""
        deadline = time.monotonic() + timeout_s
        while len(self.child_pids()) < self.children:
            if time.monotonic() > deadline:
                raise RuntimeError(f"uvicorn did not restart its worker; see {self.log_dir}/server.log")
            time.sleep(0.2)
        self.wait_ready(0, timeout_s=max(1.0, deadline - time.monotonic()))


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


@dataclass
class Tally:
    acknowledged: dict[str, list[str]] = field(default_factory=dict)  # player -> texts, in order
    latencies_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    retries: int = 0
    unavailable: int = 0  # 503 answers (a backend down: retried)
    hangs: int = 0  # requests with no answer within the client's timeout (each is also an error)
    # (when the turn was sent, in s since the start; its fallback reason, None: the model answered)
    answered: list[tuple[float, str | None]] = field(default_factory=list)
    began: float = field(default_factory=time.monotonic)


async def player(
    n: int,
    urls: list[str],
    secret: str,
    deadline: float,
    tally: Tally,
    *,
    max_attempts: int = 60,
    timeout_s: float = 30.0,
    prefix: str = "load-",
) -> None:
    """One player: a turn, then the next, each retried with its key until acknowledged.

    A request unanswered after ``timeout_s`` counts as a hang (an error: the engine promises an
    answer or a 503 in bounded time), and is retried like a dropped connection.
    """
    player_id = f"{prefix}{n}"
    said: list[str] = tally.acknowledged.setdefault(player_id, [])
    headers = {"Authorization": f"Bearer {secret}"}
    async with httpx.AsyncClient(timeout=timeout_s, headers=headers) as http:
        turn = 0
        while time.monotonic() < deadline:
            key = str(uuid.uuid4())
            text = f"{QUESTIONS[turn % len(QUESTIONS)]} [{key[:8]}]"
            body = {"player": {"id": player_id}, "text": text}
            started, sent_at = time.perf_counter(), time.monotonic() - tally.began
            for attempt in range(max_attempts):
                url = urls[(n + turn + attempt) % len(urls)]  # a retry goes to the next worker
                try:
                    answer = await http.post(
                        f"{url}/v1/npcs/brannoc/turns", json=body, headers={"Idempotency-Key": key}
                    )
                except httpx.TimeoutException:
                    tally.hangs += 1
                    tally.errors.append(f"no answer from {url} within {timeout_s:.0f} s")
                    answer = None
                except httpx.TransportError:
                    answer = None
                if answer is not None and answer.status_code == 200:
                    said.append(text)
                    tally.latencies_ms.append((time.perf_counter() - started) * 1000)
                    reply = answer.json()
                    tally.answered.append(
                        (sent_at, reply.get("fallback_reason") or None if reply.get("fallback") else None)
                    )
                    break
                if answer is not None and answer.status_code not in (409, 429, 503):
                    tally.errors.append(f"{answer.status_code} {answer.text[:200]}")
                    break
                if answer is not None and answer.status_code == 503:
                    tally.unavailable += 1
                tally.retries += 1
                await asyncio.sleep(min(2.0, 0.05 * 2**attempt) * (0.5 + random.random()))
            else:
                tally.errors.append(f"turn of {player_id} never acknowledged")
            turn += 1


async def stored_turns(state_url: str, players: list[str]) -> dict[str, list[str]]:
    """What the store holds: each player's messages to brannoc, in order."""
    from npc_engine.state.records import ConversationKey
    from npc_engine.state.store import SqlStateStore

    store = SqlStateStore(state_url)
    try:
        out: dict[str, list[str]] = {}
        for player_id in players:
            messages = await store.list_messages(
                ConversationKey("default", "brannoc", player_id), limit=100_000
            )
            out[player_id] = [m.text for m in messages if m.role == "player"]
        return out
    finally:
        store.close()


def check(acknowledged: dict[str, list[str]], stored: dict[str, list[str]]) -> tuple[int, int]:
    """(lost, duplicates): acknowledged turns missing from the store; turns stored twice."""
    lost = duplicates = 0
    for player_id, texts in acknowledged.items():
        kept = stored.get(player_id, [])
        counts: dict[str, int] = {}
        for text in kept:
            counts[text] = counts.get(text, 0) + 1
        lost += sum(1 for t in texts if counts.get(t, 0) == 0)
        duplicates += sum(c - 1 for c in counts.values() if c > 1)
    return lost, duplicates


@dataclass
class Result:
    turns_per_s: float
    p50_ms: float
    p99_ms: float
    errors: int
    lost: int
    duplicates: int
    retries: int
    turns: int
    unavailable: int = 0  # 503 answers, retried
    hangs: int = 0  # requests unanswered within the client's timeout (counted in errors too)
    fallbacks: int = 0  # turns answered by the grounded composer (the model failed)
    healed_model_share: float | None = None  # LLM faults: share of model replies once healed
    recovered_s: float | None = None  # Chroma/PostgreSQL back to every worker ready again
    error_samples: list[str] = field(default_factory=list)
    healed_fallbacks: dict[str, int] = field(default_factory=dict)  # fallback reasons once healed

    def line(self) -> str:
        extra = f" unavailable={self.unavailable} hangs={self.hangs} fallbacks={self.fallbacks}"
        if self.healed_model_share is not None:
            extra += f" healed_model_share={self.healed_model_share:.3f}"
        if self.recovered_s is not None:
            extra += f" recovered_s={self.recovered_s:.1f}"
        return (
            f"turns_per_s={self.turns_per_s:.1f} p50_ms={self.p50_ms:.1f} p99_ms={self.p99_ms:.1f} "
            f"errors={self.errors} lost={self.lost} duplicates={self.duplicates}{extra}"
        )


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


@dataclass
class Deployment:
    workers: Workers
    secret: str  # a game key of tenant "default"
    state_url: str
    chroma: ChromaServer
    llm: FaultyOpenAIServer | None  # the model server, with --faults llm
    postgres: CuttableProxy | None  # the workers' way to PostgreSQL, with --faults postgres


SCRIPTED = "scripted:Aye, that I know. Ask me more, lad."
LLM_TIMEOUT_S = 2.0  # the workers' NPC_LLM_TIMEOUT_S with --faults llm: what a hung model costs
LLM_FAULTS = {"error": 0.15, "garbage": 0.15, "drop": 0.05, "hang": 0.03, "trickle": 0.02}  # 40% of calls


@contextmanager
def deployment(
    *,
    workers: int,
    postgres: str = DEFAULT_POSTGRES,
    embedder: str = "e5",
    log: bool = True,
    server: str = "processes",
    llm_server: bool = False,
    postgres_proxy: bool = False,
) -> Iterator[Deployment]:
    """PostgreSQL (a private schema), a Chroma server and ``workers`` API workers, the world ingested.

    ``server``: ``processes`` (one ``serve`` per worker, each on its port, as behind a load
    balancer) or ``uvicorn`` (one ``serve --workers N``: uvicorn's supervisor on one port).
    ``llm_server``: the workers' model is an OpenAI-compatible server (a
    :class:`FaultyOpenAIServer`, healthy until told otherwise) instead of the scripted one.
    ``postgres_proxy``: the workers reach PostgreSQL through a :class:`CuttableProxy`.
    """
    say = print if log else (lambda *a, **k: None)
    with contextlib.ExitStack() as stack:
        tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="npc-load-"))
        state_url = stack.enter_context(postgres_schema(postgres, prefix="npc_load"))
        root = Path(tmp)
        chroma = stack.enter_context(chroma_server(root / "chroma"))
        llm = stack.enter_context(FaultyOpenAIServer(seed=7, hang_s=60.0)) if llm_server else None
        proxy = None
        workers_state_url = state_url
        if postgres_proxy:
            real = make_url(state_url)
            proxy = stack.enter_context(CuttableProxy(f"{real.host or '127.0.0.1'}:{real.port or 5432}"))
            workers_state_url = real.set(host="127.0.0.1", port=proxy.port).render_as_string(
                hide_password=False
            )
        env = {
            **os.environ,
            "NPC_DATA_DIR": str(root / "data"),
            "NPC_STATE_URL": state_url,
            "NPC_VECTOR_STORE": chroma.spec,
            "NPC_EMBEDDER": embedder,
            "NPC_EMBED_THREADS": "1",
            "NPC_LLM": llm.spec if llm is not None else SCRIPTED,
            "NPC_LLM_TIMEOUT_S": str(LLM_TIMEOUT_S),
            "NPC_RATE_LIMIT_PER_S": "0",
        }
        if server == "uvicorn":  # /metrics sums the workers
            env["PROMETHEUS_MULTIPROC_DIR"] = str(root / "metrics")
            (root / "metrics").mkdir()
        started = time.perf_counter()
        secret = ingest_with_key(env, key_name="load")
        env["NPC_STATE_URL"] = workers_state_url  # set up directly; served through the proxy, if any
        say(f"PostgreSQL + Chroma server up, world ingested in {time.perf_counter() - started:.1f} s")
        pool = UvicornWorkers(workers, env, root) if server == "uvicorn" else Workers(workers, env, root)
        with pool:
            if isinstance(pool, UvicornWorkers):
                pool.wait_children()
            say(f"{workers} workers ready ({server}) on ports {pool.ports}")
            yield Deployment(pool, secret, state_url, chroma, llm, proxy)


async def _all_ready(urls: list[str], timeout_s: float) -> float:
    """Seconds until every worker's ``/readyz`` answers 200 (each backend it checks is back)."""
    began = time.monotonic()
    last: dict[str, str] = {}
    async with httpx.AsyncClient(timeout=5) as http:
        pending = set(urls)
        while pending:
            if time.monotonic() - began > timeout_s:
                raise RuntimeError(f"workers not ready {timeout_s:.0f} s after the restart: {last}")
            for url in list(pending):
                try:
                    answer = await http.get(f"{url}/readyz")
                except httpx.TransportError as exc:
                    last[url] = f"{type(exc).__name__}: {exc}"
                    continue
                if answer.status_code == 200:
                    pending.discard(url)
                    last.pop(url, None)
                else:
                    last[url] = answer.text[:300]
            await asyncio.sleep(0.2)
    return time.monotonic() - began


def run(
    *,
    players: int,
    seconds: float,
    workers: int,
    crash: str = "none",
    faults: str = "none",
    server: str = "processes",
    postgres: str = DEFAULT_POSTGRES,
    embedder: str = "e5",
    log: bool = True,
    timeout_s: float = 30.0,
) -> Result:
    """Start the services and workers, run the load (with its crash or fault), check the store.

    See :func:`load_on` for the run itself.
    """
    with deployment(
        workers=workers,
        postgres=postgres,
        embedder=embedder,
        log=log,
        server=server,
        llm_server=faults in ("llm", "all"),
        postgres_proxy=faults in ("postgres", "all"),
    ) as dep:
        return load_on(
            dep, players=players, seconds=seconds, crash=crash, faults=faults, log=log, timeout_s=timeout_s
        )


def load_on(
    dep: Deployment,
    *,
    players: int,
    seconds: float,
    crash: str = "none",
    faults: str = "none",
    log: bool = True,
    timeout_s: float = 30.0,
    prefix: str = "load-",
) -> Result:
    """Run the load on a running deployment (with its crash or fault) and check the store.

    The run has three thirds: healthy; then the crash (at its start: killed, restarted at once)
    or the fault (for the whole middle third); then healed. ``crash``: ``worker`` (one worker,
    SIGKILL; with ``server="uvicorn"`` one of the supervisor's children) or ``all`` (the whole
    server). ``faults``: ``llm`` (the model server fails :data:`LLM_FAULTS` of its calls),
    ``chroma`` (the Chroma server is stopped, then started again), ``postgres`` (the workers'
    connections to PostgreSQL cut, then let through), ``all`` (the three at once). Players are
    ``{prefix}0``, ``{prefix}1``, ...: runs on one deployment use prefixes of their own.
    """
    say = print if log else (lambda *a, **k: None)
    llm_fault, chroma_fault = faults in ("llm", "all"), faults in ("chroma", "all")
    postgres_fault = faults in ("postgres", "all")
    if (llm_fault and dep.llm is None) or (postgres_fault and dep.postgres is None):
        raise ValueError(f"--faults {faults} needs a deployment with a model server and a PostgreSQL proxy")
    pool, tally = dep.workers, Tally()
    recovered: list[float] = []

    async def crash_at(third: float) -> None:
        await asyncio.sleep(third)
        if isinstance(pool, UvicornWorkers) and crash == "worker":
            victim = pool.kill_child(0)
            say(f"killed uvicorn worker {victim} with SIGKILL at {third:.0f} s")
            await asyncio.to_thread(pool.wait_children)
            say("uvicorn started a new worker")
            return
        victims = [0] if crash == "worker" else list(range(len(pool.ports)))
        for i in victims:
            pool.kill(i)
        if isinstance(pool, UvicornWorkers):
            say(f"killed the whole server (uvicorn's supervisor and workers) with SIGKILL at {third:.0f} s")
        else:
            say(f"killed worker(s) {victims} with SIGKILL at {third:.0f} s")
        await asyncio.sleep(1.0)
        for i in victims:
            pool.start(i)
        for i in victims:
            await asyncio.to_thread(pool.wait_ready, i)
        if isinstance(pool, UvicornWorkers):
            await asyncio.to_thread(pool.wait_children)
        say(f"restarted worker(s) {victims}")

    async def fault_at(third: float) -> None:
        await asyncio.sleep(third)
        if llm_fault and dep.llm is not None:
            dep.llm.faults = LLM_FAULTS
        if chroma_fault:
            await asyncio.to_thread(dep.chroma.stop)
        if postgres_fault and dep.postgres is not None:
            dep.postgres.cut()
        say(f"faults on at {third:.0f} s: {faults}")
        await asyncio.sleep(third)
        if llm_fault and dep.llm is not None:
            dep.llm.faults = {}
        if postgres_fault and dep.postgres is not None:
            dep.postgres.heal()
        if chroma_fault:
            # started from this (the main) thread, whose life the server's is tied to; not from a
            # worker thread of asyncio's, which ends with the event loop and would take it along
            dep.chroma.start(wait=False)
            await asyncio.to_thread(dep.chroma.wait_until_up)
        if chroma_fault or postgres_fault:
            recovered.append(await _all_ready(pool.urls, timeout_s=60))
            say(f"backends back; every worker ready again after {recovered[-1]:.1f} s")
        say(f"faults off at {2 * third:.0f} s")

    async def load() -> float:
        deadline = time.monotonic() + seconds
        began = tally.began = time.monotonic()
        tasks = [
            asyncio.create_task(
                player(n, pool.urls, dep.secret, deadline, tally, timeout_s=timeout_s, prefix=prefix)
            )
            for n in range(players)
        ]
        events = [crash_at(seconds / 3)] if crash != "none" else []
        events += [fault_at(seconds / 3)] if faults != "none" else []
        await asyncio.gather(*events, *tasks)
        return time.monotonic() - began

    elapsed = asyncio.run(load())
    stored = asyncio.run(stored_turns(dep.state_url, list(tally.acknowledged)))
    lost, duplicates = check(tally.acknowledged, stored)
    turns = sum(len(t) for t in tally.acknowledged.values())
    healed: float | None = None
    healed_fallbacks: dict[str, int] = {}
    if llm_fault:  # turns sent after the faults ended: their model calls all came after
        after = [reason for at, reason in tally.answered if at > 2 * seconds / 3 + 0.5]
        healed = sum(r is None for r in after) / len(after) if after else None
        healed_fallbacks = dict(collections.Counter(r for r in after if r is not None))
    return Result(
        turns_per_s=turns / elapsed,
        p50_ms=percentile(tally.latencies_ms, 0.5),
        p99_ms=percentile(tally.latencies_ms, 0.99),
        errors=len(tally.errors),
        lost=lost,
        duplicates=duplicates,
        retries=tally.retries,
        turns=turns,
        unavailable=tally.unavailable,
        hangs=tally.hangs,
        fallbacks=sum(1 for _, r in tally.answered if r is not None),
        healed_fallbacks=healed_fallbacks,
        healed_model_share=healed,
        recovered_s=recovered[0] if recovered else None,
        error_samples=tally.errors[:5],
    )


def group_rss_mb(pgid: int) -> float:
    """Resident memory of a process group (a worker and its embedder child), read from /proc."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()  # after "pid (comm)": state ppid pgrp ...
            if int(fields[2]) == pgid:
                total += int(fields[21]) * os.sysconf("SC_PAGE_SIZE")  # rss, in pages
        except (OSError, IndexError, ValueError):
            continue  # gone meanwhile
    return total / 2**20


@dataclass
class Soak:
    """``windows`` runs of :func:`load_on` on one deployment, the same players throughout."""

    windows: list[Result]
    rss_mb: list[float]  # the workers' resident memory (process groups summed) after each window
    lost: int  # over every window
    duplicates: int  # in the store at the end (each window's check sees the whole history)

    def line(self) -> str:
        first, last = self.windows[0], self.windows[-1]
        turns = sum(w.turns for w in self.windows)
        return (
            f"turns={turns} turns_per_s={sum(w.turns_per_s for w in self.windows) / len(self.windows):.1f} "
            f"p99_ms={max(w.p99_ms for w in self.windows):.1f} errors={sum(w.errors for w in self.windows)} "
            f"lost={self.lost} duplicates={self.duplicates} "
            f"tput_last_vs_first={last.turns_per_s / first.turns_per_s:.2f} "
            f"p99_last_vs_first={last.p99_ms / first.p99_ms:.2f} "
            f"rss_first_mb={self.rss_mb[0]:.0f} rss_last_mb={self.rss_mb[-1]:.0f} "
            f"rss_growth_mb={self.rss_mb[-1] - self.rss_mb[0]:.0f}"
        )


def soak(
    *, players: int, seconds: float, windows: int, workers: int, postgres: str = DEFAULT_POSTGRES,
    embedder: str = "e5", log: bool = True,
) -> Soak:  # fmt: skip
    """The steady load for ``windows`` x ``seconds`` on one deployment, measured window by window.

    The same players go on talking from window to window, so their conversations, memories and
    the stored receipts grow as in a long-running server: a leak shows as memory that keeps
    growing after the first window (the warm-up), a cost that grows with history as a falling
    throughput ratio.
    """
    with deployment(workers=workers, postgres=postgres, embedder=embedder, log=log) as dep:
        return soak_on(dep, players=players, seconds=seconds, windows=windows, log=log)


def soak_on(
    dep: Deployment, *, players: int, seconds: float, windows: int, log: bool = True, prefix: str = "soak-"
) -> Soak:
    """:func:`soak` on a running deployment."""
    say = print if log else (lambda *a, **k: None)
    results: list[Result] = []
    rss: list[float] = []
    for w in range(windows):
        result = load_on(dep, players=players, seconds=seconds, log=False, prefix=prefix)
        results.append(result)
        rss.append(sum(group_rss_mb(p.pid) for p in dep.workers.procs if p is not None))
        say(
            f"window {w + 1}/{windows}: {result.turns} turns, {result.turns_per_s:.1f} turns/s, "
            f"p50 {result.p50_ms:.0f} ms, p99 {result.p99_ms:.0f} ms, {result.errors} errors, "
            f"{result.lost} lost, workers' RSS {rss[-1]:.0f} MB"
        )
    return Soak(results, rss, lost=sum(r.lost for r in results), duplicates=results[-1].duplicates)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--players", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--crash", choices=["none", "worker", "all"], default="none")
    parser.add_argument("--faults", choices=["none", "llm", "chroma", "postgres", "all"], default="none")
    parser.add_argument(
        "--server",
        choices=["processes", "uvicorn"],
        default="processes",
        help="one `serve` per worker on its own port, or one `serve --workers N` (uvicorn's supervisor)",
    )
    parser.add_argument("--postgres", default=os.environ.get("NPCENGINE_TEST_POSTGRES_URL", DEFAULT_POSTGRES))
    parser.add_argument(
        "--soak",
        type=int,
        default=0,
        metavar="WINDOWS",
        help="steady load for WINDOWS x --seconds on one deployment, the same players throughout; "
        "prints each window's throughput, latency and the workers' memory",
    )
    args = parser.parse_args()
    if args.soak < 0:
        parser.error(f"--soak {args.soak}: give the number of windows (1 or more), or leave it out")
    if args.soak:
        if args.crash != "none" or args.faults != "none" or args.server != "processes":
            parser.error("--soak runs the steady load: leave out --crash, --faults and --server")
        outcome = soak(
            players=args.players, seconds=args.seconds, windows=args.soak, workers=args.workers,
            postgres=args.postgres,
        )  # fmt: skip
        print(outcome.line())
        return
    result = run(
        players=args.players,
        seconds=args.seconds,
        workers=args.workers,
        crash=args.crash,
        faults=args.faults,
        server=args.server,
        postgres=args.postgres,
    )
    print(
        f"{result.turns} turns acknowledged by {args.workers} workers for {args.players} players in "
        f"{args.seconds:.0f} s ({result.retries} retries, {result.unavailable} answered 503, "
        f"{result.fallbacks} by the fallback composer); store checked: {result.lost} lost, "
        f"{result.duplicates} duplicated"
    )
    if result.healed_fallbacks:
        print(f"fallbacks after the faults ended, by reason: {result.healed_fallbacks}")
    for sample in result.error_samples:
        print(f"error: {sample}")
    print(result.line())


if __name__ == "__main__":
    main()
