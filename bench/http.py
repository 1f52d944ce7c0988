"""HTTP benchmark (issue 6): NPC turns over the real server against the embedder's own rate.

One run, on the demo world, with the embedded defaults a studio gets with no configuration
(bundled e5 in its own process on 1 thread, embedded Chroma, SQLite) and an instant scripted
model (``NPC_LLM=scripted``), so the figure is the engine's and the HTTP layer's cost, not a
model's:

1. ``npc-engine ingest`` and ``npc-engine keys create`` in their own processes;
2. ``npc-engine serve`` in its own process (one worker), waited on until ``/readyz``;
3. the baseline: the same embedder, configured as the server runs it (a child process, 1
   thread), embedding one question at a time as fast as it can: queries/s;
4. the load: ``--clients`` concurrent clients (each its own player, keep-alive) sending NPC
   turns for ``--seconds``; every answer must be a 200 with a reply.

Baseline and load alternate ``--rounds`` times; the medians are compared.

* ``throughput_ratio``: HTTP NPC turns/s divided by the embedder's queries/s. Goal >= 0.8.
  A turn embeds the player's words once, so the embedder bounds a worker's turn rate; the
  ratio says how much of that the rest of the turn (HTTP, auth, rate limit, state, retrieval,
  prompt, guards, persistence) and the client on the same 2 cores leave.
* ``p50_ms`` / ``p99_ms``: latency of one turn seen by a client under that load.
* ``rss_mb``: resident memory of the server process plus its embedder child after the load
  (peak of the rounds). Goal <= 400 MB without the local LLM.

Last line: ``throughput_ratio=... p50_ms=... p99_ms=... rss_mb=...``
Usage: ``python bench/http.py [--clients 8] [--seconds 10] [--rounds 2]``
"""

# ruff: noqa: E402  (the imports below must come after the sys.path fix)
from __future__ import annotations

import sys
from pathlib import Path

# run as a script, this file's folder comes first on sys.path and its name shadows the
# standard library's `http` package (which httpx imports): take the folder off first
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse
import asyncio
import os
import statistics
import subprocess
import tempfile
import time

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._served import CLI, ingest_with_key
from bench.npc_turn import QUESTIONS
from npc_engine.backends import make_embedder
from npc_engine.devservices import free_port, wait_ready
from npc_engine.settings import Settings


def rss_mb(pid: int) -> float:
    """Resident memory of ``pid`` and all its descendants, in MB."""
    total, stack = 0, [pid]
    while stack:
        current = stack.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
        except OSError:
            continue
        total += next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:"))
        for task in Path(f"/proc/{current}/task").iterdir():
            children = (task / "children").read_text().split()
            stack.extend(int(c) for c in children)
    return total / 1024


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def embedder_rate(seconds: float) -> float:
    """Queries/s of the embedder configured as the server runs it, one query at a time."""
    embedder = make_embedder(Settings(_env_file=None), threads=1)  # type: ignore[call-arg]
    try:

        async def run() -> float:
            await embedder.embed(["warm up"], kind="query")
            done, started = 0, time.perf_counter()
            while time.perf_counter() - started < seconds:
                question = f"{QUESTIONS[done % len(QUESTIONS)]} ({done})"  # no cache can help
                await embedder.embed([question], kind="query")
                done += 1
            return done / (time.perf_counter() - started)

        return asyncio.run(run())
    finally:
        closer = getattr(embedder, "close", None)
        if callable(closer):
            closer()


async def load(
    base: str, secret: str, clients: int, seconds: float, round_no: int
) -> tuple[float, list[float]]:
    """Turns/s and per-turn latencies (ms) of ``clients`` concurrent players for ``seconds``."""
    latencies: list[float] = []
    headers = {"Authorization": f"Bearer {secret}"}
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits, timeout=60) as http:
        deadline = time.perf_counter() + seconds

        async def player(n: int) -> int:
            done = 0
            while time.perf_counter() < deadline:
                text = f"{QUESTIONS[(n + done) % len(QUESTIONS)]} ({round_no}.{done})"
                started = time.perf_counter()
                answer = await http.post(
                    "/v1/npcs/brannoc/turns", json={"player": {"id": f"r{round_no}-p{n}"}, "text": text}
                )
                latencies.append((time.perf_counter() - started) * 1000)
                if answer.status_code != 200 or not answer.json().get("text"):
                    raise RuntimeError(f"turn failed: {answer.status_code} {answer.text[:300]}")
                done += 1
            return done

        started = time.perf_counter()
        counts = await asyncio.gather(*(player(n) for n in range(clients)))
        elapsed = time.perf_counter() - started
    return sum(counts) / elapsed, latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="npc-http-bench-") as tmp:
        data_dir = Path(tmp)
        env = {
            **os.environ,
            "NPC_DATA_DIR": str(data_dir),
            "NPC_LLM": "scripted:Aye, that I know. Ask me more, lad.",
            "NPC_RATE_LIMIT_PER_S": "0",  # measure the engine, not the limiter
        }
        started = time.perf_counter()
        secret = ingest_with_key(env, key_name="bench")
        print(f"ingested the demo world and made a key in {time.perf_counter() - started:.1f} s")

        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = subprocess.Popen(
            [*CLI, "serve", "--port", str(port), "--log-level", "warning"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_ready(base, process=server)
            asyncio.run(load(base, secret, 2, 2.0, -1))  # warm up: the embedder child, caches, pools
            rates, baselines, memory, latencies = [], [], [], []
            for round_no in range(args.rounds):
                baselines.append(embedder_rate(args.seconds / 2))
                rate, lat = asyncio.run(load(base, secret, args.clients, args.seconds, round_no))
                rates.append(rate)
                latencies.extend(lat)
                memory.append(rss_mb(server.pid))
                print(
                    f"round {round_no + 1}: embedder {baselines[-1]:.1f} queries/s, "
                    f"HTTP {rate:.1f} turns/s with {args.clients} clients, "
                    f"p50 {percentile(lat, 0.5):.1f} ms, p99 {percentile(lat, 0.99):.1f} ms, "
                    f"server RSS {memory[-1]:.0f} MB"
                )
        finally:
            server.terminate()
            server.wait(timeout=30)

    ratio = statistics.median(rates) / statistics.median(baselines)
    print(
        f"throughput_ratio={ratio:.3f} p50_ms={percentile(latencies, 0.5):.1f} "
        f"p99_ms={percentile(latencies, 0.99):.1f} rss_mb={max(memory):.0f}"
    )


if __name__ == "__main__":
    main()
