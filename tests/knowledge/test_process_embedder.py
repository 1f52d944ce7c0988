"""The e5 embedder in its own process gives the same vectors, survives its child dying, and stops cleanly."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Iterator, Sequence

import numpy as np
import pytest

from knowledge.embedders.base import EmbedKind
from knowledge.embedders.e5 import E5Embedder
from knowledge.embedders.process import ProcessEmbedder
from npc_engine.errors import EmbedderError

TEXTS = ["How do you temper a blade properly?", "矮人的大熔炉是哪一年点燃的？"]


@pytest.fixture(scope="module")
def process_embedder() -> Iterator[ProcessEmbedder]:
    embedder = ProcessEmbedder(threads=1)
    yield embedder
    embedder.close()


@pytest.mark.parametrize("kind", ["query", "document"])
async def test_the_child_gives_the_same_vectors_as_the_model_in_process(
    process_embedder: ProcessEmbedder, kind: str
) -> None:
    local = E5Embedder(threads=1)
    try:
        expected = local.embed_sync(TEXTS, kind=kind)  # type: ignore[arg-type]
    finally:
        local.close()
    got = await process_embedder.embed(TEXTS, kind=kind)  # type: ignore[arg-type]
    assert got.shape == (2, process_embedder.dim) and got.dtype == np.float32
    np.testing.assert_allclose(got, expected, atol=1e-5)


async def test_no_texts_give_an_empty_matrix_without_a_round_trip(process_embedder: ProcessEmbedder) -> None:
    assert (await process_embedder.embed([], kind="query")).shape == (0, process_embedder.dim)


async def test_a_dead_child_is_replaced_on_the_next_call() -> None:
    embedder = ProcessEmbedder(threads=1)
    try:
        await embedder.embed(["hello"], kind="query")
        first = embedder.pid
        assert first is not None
        os.kill(first, signal.SIGKILL)
        time.sleep(0.2)
        vector = await embedder.embed(["hello"], kind="query")
        assert vector.shape == (1, embedder.dim) and embedder.pid not in (None, first)
    finally:
        embedder.close()


async def test_a_child_that_dies_mid_call_is_an_embedder_error() -> None:
    embedder = ProcessEmbedder(threads=1)
    try:
        await embedder.embed(["hello"], kind="query")
        process = embedder._process
        assert process is not None and process.stdout is not None
        process.stdout.close()  # the parent can no longer read the answer: as if the child vanished
        with pytest.raises(EmbedderError, match="stopped"):
            embedder.embed_sync(["hello"], kind="query")
        assert (await embedder.embed(["hello"], kind="query")).shape == (1, embedder.dim)
    finally:
        embedder.close()


async def test_close_stops_the_child() -> None:
    embedder = ProcessEmbedder(threads=1)
    await embedder.embed(["hello"], kind="query")
    pid = embedder.pid
    assert pid is not None
    embedder.close()
    assert embedder.pid is None
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


class CountingEmbedder(ProcessEmbedder):
    """Records how many texts each request to the child carried."""

    def __init__(self) -> None:
        super().__init__(threads=1)
        self.requests: list[int] = []

    def embed_sync(self, texts: Sequence[str], *, kind: EmbedKind) -> np.ndarray:
        self.requests.append(len(texts))
        return super().embed_sync(texts, kind=kind)


QUESTIONS = [f"Question number {i}: where is the forge of Ironhold?" for i in range(8)]


async def test_concurrent_calls_are_sent_together_and_each_gets_its_own_rows() -> None:
    embedder = CountingEmbedder()
    try:
        alone = [await embedder.embed([q], kind="query") for q in QUESTIONS]
        embedder.requests.clear()
        together = await asyncio.gather(*(embedder.embed([q], kind="query") for q in QUESTIONS))
    finally:
        embedder.close()
    assert len(embedder.requests) < len(QUESTIONS)  # coalesced while the child was busy
    assert sum(embedder.requests) == len(QUESTIONS)
    for mine, single in zip(together, alone, strict=True):
        assert mine.shape == (1, embedder.dim)
        np.testing.assert_allclose(mine, single, atol=1e-5)


async def test_queries_and_documents_are_never_mixed_in_one_request() -> None:
    embedder = CountingEmbedder()
    try:
        query, document = await asyncio.gather(
            embedder.embed(["a question"], kind="query"),
            embedder.embed(["a question"], kind="document"),
        )
    finally:
        embedder.close()
    assert embedder.requests == [1, 1]
    assert not np.allclose(query, document)  # e5 prefixes "query: " and "passage: " differently


async def test_callers_waiting_when_the_child_died_are_answered_by_its_replacement(
    process_embedder: ProcessEmbedder,
) -> None:
    await process_embedder.embed(["warm"], kind="query")
    pid = process_embedder.pid
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    time.sleep(0.2)
    results = await asyncio.gather(
        *(process_embedder.embed([q], kind="query") for q in QUESTIONS[:3]), return_exceptions=True
    )
    assert all(isinstance(r, np.ndarray) and r.shape == (1, process_embedder.dim) for r in results), results
    assert process_embedder.pid not in (None, pid)
    again = await process_embedder.embed(["after the crash"], kind="query")
    assert again.shape == (1, process_embedder.dim)
