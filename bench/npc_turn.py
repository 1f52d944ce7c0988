"""NPC turn benchmark (issue 4): overhead, against a naive LangChain chain, prefix reuse, local model.

All figures come from one run on the demo world with the default embedded backends
(bundled e5 on 1 thread, as a server runs it; embedded Chroma; SQLite), so ratios compare
like with like on a noisy machine. The world is ingested by ``npc-engine ingest`` in its
own process first (see ``main``).

* ``overhead_ratio``: median full NPC turn with an instant scripted model, divided by the
  median of what no RAG turn can avoid: one query embedding plus one vector query
  (Chroma, k=40, on the lore partition). Goal <= 1.3.
* ``vs_langchain``: the same full turn divided by a naive LangChain RAG chain (a retriever
  over the same embedder and Chroma collection -> ChatPromptTemplate -> an instant fake
  chat model -> StrOutputParser), same questions, interleaved. Goal <= 1.0.
* ``prefix_share``: over a 20-turn conversation, the share of prompt tokens identical to
  the previous turn's prompt from the start (what an LLM server's prefix cache reuses),
  summed over turns 2-20. Goal >= 0.8.
* ``local_llm_ratio``: completion tokens/s of the bundled GGUF through the engine's
  ``llamacpp`` backend, divided by raw llama-cpp-python on the same prompt, same schema and
  settings (temperature 0, n_threads=1). Goal >= 0.95. Skipped with ``--skip-llm``.

Last line: ``overhead_ratio=... vs_langchain=... prefix_share=... local_llm_ratio=...``
Usage: ``python bench/npc_turn.py [--turns N] [--skip-llm]``
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# the repository first; this folder off the path (run as a script it comes first, and its
# http.py would shadow the standard library's http package)
sys.path[:] = [str(ROOT), *(p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench")]

from knowledge.gating import OPEN_GATE  # noqa: E402
from npc_engine.engine import Engine  # noqa: E402
from npc_engine.llm.base import ChatRequest, ChatResult  # noqa: E402
from npc_engine.llm.scripted import ScriptedChatModel  # noqa: E402
from npc_engine.prompt.builder import shared_prefix_ratio  # noqa: E402
from npc_engine.settings import Settings  # noqa: E402

WORLD = ROOT / "examples" / "demo_world"
REPLY = json.dumps({"text": "Aye, that I know. Ask me more, lad.", "emotion": "neutral", "actions": []})
QUESTIONS = [
    "How do you temper a blade properly?",
    "What is the Great Forge of Ironhold?",
    "Tell me about the Kingsbridge Accord.",
    "What do you think of the Lantern Watch?",
    "Where can I find good iron ore?",
    "Who rules Ironhold these days?",
    "What happened on the Greywater Road?",
    "What is starsteel?",
    "How much is a gold crown worth in silver?",
    "What festivals do the dwarves keep?",
    "What is the forge-tithe?",
    "Tell me about the clan oaths of Ironhold.",
    "What do you know of the Silverwood elves?",
    "Is the harbour of Saltmere safe at night?",
    "What are rune-wards for?",
    "Can you repair my shield?",
    "What was the War of the Broken Tide?",
    "How was Emberfall founded?",
    "What is ember-craft?",
    "What do you brew at the inn?",
]


def median_ms(values: list[float]) -> float:
    return statistics.median(values) * 1000


async def timed(coro: Any) -> float:
    started = time.perf_counter()
    await coro
    return time.perf_counter() - started


def naive_langchain_chain(engine: Engine, collection: str) -> Any:
    """retriever -> prompt -> instant fake model -> parser: the chain studios hand-roll first."""
    from langchain_core.callbacks import CallbackManagerForRetrieverRun
    from langchain_core.documents import Document
    from langchain_core.language_models.fake_chat_models import FakeListChatModel
    from langchain_core.output_parsers import StrOutputParser
    from langchain_core.prompts import ChatPromptTemplate
    from langchain_core.retrievers import BaseRetriever
    from langchain_core.runnables import RunnablePassthrough

    store = engine.vectors

    class SameStoreRetriever(BaseRetriever):
        k: int = 3

        def _get_relevant_documents(
            self, query: str, *, run_manager: CallbackManagerForRetrieverRun
        ) -> list[Document]:
            raise NotImplementedError("async only")

        async def _aget_relevant_documents(self, query: str, *, run_manager: Any) -> list[Document]:
            vector = (await engine.embedder.embed([query], kind="query"))[0].tolist()
            hits = await store.query(collection, vector, k=self.k, payload=True)
            return [Document(page_content=h.text or "", metadata={"id": h.id}) for h in hits]

    prompt = ChatPromptTemplate.from_messages(
        [
            ("system", "You are Brannoc, a gruff dwarven smith. Use the context.\n\n{context}"),
            ("human", "{question}"),
        ]
    )
    model = FakeListChatModel(responses=[REPLY])

    def fmt(docs: list[Document]) -> str:
        return "\n\n".join(d.page_content for d in docs)

    return (
        {"context": SameStoreRetriever() | fmt, "question": RunnablePassthrough()}
        | prompt
        | model
        | StrOutputParser()
    )


class RecordingModel:
    """Delegates to a model and keeps the requests (for the prefix figure and the raw-model run)."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.id, self.requests = inner, inner.id, []  # type: ignore[var-annotated]

    async def generate(self, request: ChatRequest) -> ChatResult:
        self.requests.append(request)
        return await self.inner.generate(request)

    def stream(self, request: ChatRequest) -> Any:
        self.requests.append(request)
        return self.inner.stream(request)


async def overhead_and_langchain(engine: Engine, rounds: int) -> dict[str, float]:
    kb = engine.knowledge()
    collection = kb.collection_for("lore", OPEN_GATE.gate_id)
    chain = naive_langchain_chain(engine, collection)

    async def baseline(q: str) -> None:
        vector = (await engine.embedder.embed([q], kind="query"))[0].tolist()
        await engine.vectors.query(collection, vector, k=40, payload=False)

    for q in QUESTIONS[:3]:  # warm every path
        await baseline(q)
        await chain.ainvoke(q)
        await engine.npc_turn("brannoc", "bench-warm", q)
    turn_t: list[float] = []
    base_t: list[float] = []
    chain_t: list[float] = []
    for r in range(rounds):
        for i, q in enumerate(QUESTIONS):
            player = f"bench-{r}-{i % 4}"  # conversations of a few turns each, like real traffic
            base_t.append(await timed(baseline(q)))
            chain_t.append(await timed(chain.ainvoke(q)))
            turn_t.append(await timed(engine.npc_turn("brannoc", player, q)))
    turn, base, lc = median_ms(turn_t), median_ms(base_t), median_ms(chain_t)
    print(
        f"turn (instant model)        p50 {turn:7.2f} ms   p90 {sorted(turn_t)[int(len(turn_t) * 0.9)] * 1000:7.2f} ms"
    )
    print(f"embed + one vector query    p50 {base:7.2f} ms")
    print(f"naive LangChain RAG chain   p50 {lc:7.2f} ms")
    return {"overhead_ratio": turn / base, "vs_langchain": turn / lc}


async def prefix_share(engine: Engine, model: RecordingModel, turns: int = 20) -> float:
    start = len(model.requests)
    for i in range(turns):
        await engine.npc_turn("brannoc", "bench-prefix", QUESTIONS[i % len(QUESTIONS)])
    requests = model.requests[start:]
    from knowledge.tokens import count_tokens

    shared = total = 0.0
    for prev, cur in itertools.pairwise(requests):
        tokens = sum(count_tokens(m.content) for m in cur.messages)
        shared += shared_prefix_ratio(prev.messages, cur.messages) * tokens
        total += tokens
    return shared / total


async def local_llm_ratio(data_dir: Path, runs: int) -> float:
    from npc_engine.llm.llamacpp import LlamaCppChatModel, bundled_gguf, load_llama

    settings = Settings(_env_file=None, data_dir=data_dir, embed_threads=1, llm_temperature=0.0)  # type: ignore[call-arg]
    model = RecordingModel(LlamaCppChatModel(n_threads=1))
    engine = Engine.from_settings(settings)
    engine._chat_model = model  # the engine's own llamacpp backend, recorded
    # the same model load as the engine's (repacking off: it crashes on AMX CPUs), then raw calls
    raw = load_llama(bundled_gguf(), n_threads=1, n_ctx=4096, seed=7, verbose=False)
    engine_rates: list[float] = []
    raw_rates: list[float] = []
    try:
        for i in range(runs + 1):
            q = QUESTIONS[i % len(QUESTIONS)]
            reply = await engine.npc_turn("brannoc", f"bench-llm-{i}", q)
            request = model.requests[-1]
            clean = not reply.fallback and not reply.debug["problems"]  # one model call, timed alone
            if reply.usage.completion_tokens and i and clean:
                engine_rates.append(reply.usage.completion_tokens / (reply.timings_ms["generate"] / 1000))
            started = time.perf_counter()
            out = raw.create_chat_completion(
                messages=[{"role": m.role, "content": m.content} for m in request.messages],
                max_tokens=request.max_tokens,
                temperature=request.temperature,
                response_format={"type": "json_object", "schema": request.json_schema},
                repeat_penalty=model.inner.repeat_penalty,
            )
            elapsed = time.perf_counter() - started
            if i:  # the first round warms both
                raw_rates.append(out["usage"]["completion_tokens"] / elapsed)
    finally:
        engine.close()
    eng, base = statistics.median(engine_rates), statistics.median(raw_rates)
    print(f"local model through engine  {eng:7.1f} tokens/s   raw llama-cpp-python {base:7.1f} tokens/s")
    return eng / base


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=3, help="passes over the 20 questions")
    parser.add_argument("--llm-runs", type=int, default=5)
    parser.add_argument("--skip-llm", action="store_true")
    args = parser.parse_args()
    from npc_engine.logging import configure_logging

    configure_logging("ERROR")  # events go to stderr; the figures stay readable on stdout
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        # Ingest in its own process, as a deployment does (`npc-engine ingest`): the embedder's
        # OpenMP runtime fixes its thread count once per process, so ingesting here with every
        # core would leave the serving engine below on 2 threads instead of the 1 it is
        # configured with (NPC_EMBED_THREADS=1, what a server uses).
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "npc_engine.cli.main", "ingest", str(WORLD), "--data-dir", str(data_dir)],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        print(f"ingested the demo world in {time.perf_counter() - started:.1f} s (separate process)")
        model = RecordingModel(ScriptedChatModel([REPLY]))
        engine = Engine.from_settings(Settings(_env_file=None, data_dir=data_dir, embed_threads=1))  # type: ignore[call-arg]
        engine._chat_model = model
        try:
            figures = await overhead_and_langchain(engine, args.rounds)
            figures["prefix_share"] = await prefix_share(engine, model)
        finally:
            engine.close()
        if not args.skip_llm:
            figures["local_llm_ratio"] = await local_llm_ratio(data_dir, args.llm_runs)
    print(" ".join(f"{k}={v:.3f}" for k, v in figures.items()))


if __name__ == "__main__":
    asyncio.run(main())
