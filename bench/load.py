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
mid-run and restarted; with ``--crash all`` every worker is, at once.

Then the store is checked against what the clients saw acknowledged:

* ``lost``: acknowledged turns whose player message is not in the store;
* ``duplicates``: turns stored more than once (a retry that ran the turn again);
* ``errors``: requests that got an error answer other than a retryable one (a 5xx other
  than 503, or any 4xx), or turns never acknowledged by the end.

Last line: ``turns_per_s=... p50_ms=... p99_ms=... errors=... lost=... duplicates=...``
Usage: ``python bench/load.py [--players 100] [--seconds 30] [--workers 2] [--crash none|worker|all]``
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
import json
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

from npc_engine.devservices import chroma_server, free_port, wait_ready

CLI = [sys.executable, "-m", "npc_engine.cli.main"]
WORLD = ROOT / "examples" / "demo_world"
DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
QUESTIONS = [
    "How do you temper a blade properly?",
    "What is the Great Forge of Ironhold?",
    "Tell me about the Kingsbridge Accord.",
    "Where can I find good iron ore?",
    "What is starsteel?",
    "Can you repair my shield?",
]


@contextmanager
def private_schema(base_url: str) -> Iterator[str]:
    """A fresh PostgreSQL schema for this run (dropped afterwards); yields its URL."""
    from sqlalchemy import create_engine, text

    schema = f"npc_load_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base_url)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        yield f"{base_url}{'&' if '?' in base_url else '?'}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


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


@dataclass
class Tally:
    acknowledged: dict[str, list[str]] = field(default_factory=dict)  # player -> texts, in order
    latencies_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    retries: int = 0


async def player(
    n: int, urls: list[str], secret: str, deadline: float, tally: Tally, *, max_attempts: int = 60
) -> None:
    """One player: a turn, then the next, each retried with its key until acknowledged."""
    player_id = f"load-{n}"
    said: list[str] = tally.acknowledged.setdefault(player_id, [])
    headers = {"Authorization": f"Bearer {secret}"}
    async with httpx.AsyncClient(timeout=30, headers=headers) as http:
        turn = 0
        while time.monotonic() < deadline:
            key = str(uuid.uuid4())
            text = f"{QUESTIONS[turn % len(QUESTIONS)]} [{key[:8]}]"
            body = {"player": {"id": player_id}, "text": text}
            started = time.perf_counter()
            for attempt in range(max_attempts):
                url = urls[(n + turn + attempt) % len(urls)]  # a retry goes to the next worker
                try:
                    answer = await http.post(
                        f"{url}/v1/npcs/brannoc/turns", json=body, headers={"Idempotency-Key": key}
                    )
                except httpx.TransportError:
                    answer = None
                if answer is not None and answer.status_code == 200:
                    said.append(text)
                    tally.latencies_ms.append((time.perf_counter() - started) * 1000)
                    break
                if answer is not None and answer.status_code not in (409, 429, 503):
                    tally.errors.append(f"{answer.status_code} {answer.text[:200]}")
                    break
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

    def line(self) -> str:
        return (
            f"turns_per_s={self.turns_per_s:.1f} p50_ms={self.p50_ms:.1f} p99_ms={self.p99_ms:.1f} "
            f"errors={self.errors} lost={self.lost} duplicates={self.duplicates}"
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


@contextmanager
def deployment(
    *, workers: int, postgres: str = DEFAULT_POSTGRES, embedder: str = "e5", log: bool = True
) -> Iterator[Deployment]:
    """PostgreSQL (a private schema), a Chroma server and ``workers`` API workers, the world ingested."""
    say = print if log else (lambda *a, **k: None)
    with tempfile.TemporaryDirectory(prefix="npc-load-") as tmp, private_schema(postgres) as state_url:
        root = Path(tmp)
        with chroma_server(root / "chroma") as chroma:
            env = {
                **os.environ,
                "NPC_DATA_DIR": str(root / "data"),
                "NPC_STATE_URL": state_url,
                "NPC_VECTOR_STORE": chroma.spec,
                "NPC_EMBEDDER": embedder,
                "NPC_EMBED_THREADS": "1",
                "NPC_LLM": "scripted:Aye, that I know. Ask me more, lad.",
                "NPC_RATE_LIMIT_PER_S": "0",
            }
            started = time.perf_counter()
            subprocess.run([*CLI, "ingest", str(WORLD)], env=env, check=True, stdout=subprocess.DEVNULL)
            created = subprocess.run(
                [*CLI, "keys", "create", "--tenant", "default", "--role", "game", "--name", "load", "--json"],
                env=env,
                check=True,
                capture_output=True,
                text=True,
            )
            secret = json.loads(created.stdout)["secret"]
            say(f"PostgreSQL + Chroma server up, world ingested in {time.perf_counter() - started:.1f} s")
            with Workers(workers, env, root) as pool:
                say(f"{workers} workers ready on ports {pool.ports}")
                yield Deployment(pool, secret, state_url)


def run(
    *,
    players: int,
    seconds: float,
    workers: int,
    crash: str = "none",
    postgres: str = DEFAULT_POSTGRES,
    embedder: str = "e5",
    log: bool = True,
) -> Result:
    """Start the services and workers, run the load (and the crash), check the store."""
    say = print if log else (lambda *a, **k: None)
    with deployment(workers=workers, postgres=postgres, embedder=embedder, log=log) as dep:
        pool, tally = dep.workers, Tally()

        async def load() -> float:
            deadline = time.monotonic() + seconds
            began = time.perf_counter()
            tasks = [
                asyncio.create_task(player(n, pool.urls, dep.secret, deadline, tally)) for n in range(players)
            ]
            if crash != "none":
                await asyncio.sleep(seconds / 3)
                victims = [0] if crash == "worker" else list(range(workers))
                for i in victims:
                    pool.kill(i)
                say(f"killed worker(s) {victims} with SIGKILL at {seconds / 3:.0f} s")
                await asyncio.sleep(1.0)
                for i in victims:
                    pool.start(i)
                await asyncio.to_thread(lambda: [pool.wait_ready(i) for i in victims])
                say(f"restarted worker(s) {victims}")
            await asyncio.gather(*tasks)
            return time.perf_counter() - began

        elapsed = asyncio.run(load())
        stored = asyncio.run(stored_turns(dep.state_url, list(tally.acknowledged)))
    lost, duplicates = check(tally.acknowledged, stored)
    turns = sum(len(t) for t in tally.acknowledged.values())
    return Result(
        turns_per_s=turns / elapsed,
        p50_ms=percentile(tally.latencies_ms, 0.5),
        p99_ms=percentile(tally.latencies_ms, 0.99),
        errors=len(tally.errors),
        lost=lost,
        duplicates=duplicates,
        retries=tally.retries,
        turns=turns,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--players", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--crash", choices=["none", "worker", "all"], default="none")
    parser.add_argument("--postgres", default=os.environ.get("NPCENGINE_TEST_POSTGRES_URL", DEFAULT_POSTGRES))
    args = parser.parse_args()
    result = run(
        players=args.players,
        seconds=args.seconds,
        workers=args.workers,
        crash=args.crash,
        postgres=args.postgres,
    )
    print(
        f"{result.turns} turns acknowledged by {args.workers} workers for {args.players} players in "
        f"{args.seconds:.0f} s ({result.retries} retries); store checked: {result.lost} lost, "
        f"{result.duplicates} duplicated"
    )
    print(result.line())


if __name__ == "__main__":
    main()
