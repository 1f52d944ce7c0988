"""One contract, every VectorStore: the in-memory fake, embedded Chroma and a Chroma server behave alike."""

from __future__ import annotations

import numpy as np
import pytest

from knowledge.stores.base import VectorStore
from knowledge.types import MetadataFilter, VectorRecord
from tests.vector_backends import VectorStores


@pytest.fixture
def store(make_vector_store: VectorStores) -> VectorStore:
    """A fresh store on each backend (``make_vector_store`` closes it)."""
    return make_vector_store()


def _records(n: int = 6) -> list[VectorRecord]:
    rng = np.random.default_rng(0)
    out = []
    for i in range(n):
        v = rng.normal(size=8).astype(np.float32)
        v /= np.linalg.norm(v)
        out.append(
            VectorRecord(f"r{i}", v.tolist(), f"text {i}", {"tenant": "t", "gate_id": f"g{i % 2}", "n": i})
        )
    return out


async def test_query_returns_the_nearest_first_with_cosine_similarity(store: VectorStore) -> None:
    records = _records()
    await store.upsert("col-a", records)
    hits = await store.query("col-a", records[3].vector, k=3)
    assert hits[0].id == "r3" and hits[0].score == pytest.approx(1.0, abs=1e-4)
    assert hits[0].text == "text 3" and hits[0].metadata["n"] == 3
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


async def test_the_filter_applies_inside_the_query(store: VectorStore) -> None:
    records = _records()
    await store.upsert("col-a", records)
    where = MetadataFilter(equals={"tenant": "t"}, one_of={"gate_id": ("g1",)})
    hits = await store.query("col-a", records[0].vector, k=10, where=where)
    assert {h.id for h in hits} == {"r1", "r3", "r5"}


async def test_an_empty_allow_list_matches_nothing(store: VectorStore) -> None:
    await store.upsert("col-a", _records())
    assert (
        await store.query("col-a", _records()[0].vector, k=5, where=MetadataFilter(one_of={"gate_id": ()}))
        == []
    )


async def test_upsert_replaces_and_delete_ignores_unknown_ids(store: VectorStore) -> None:
    records = _records()
    await store.upsert("col-a", records)
    await store.upsert(
        "col-a", [VectorRecord("r0", records[0].vector, "new text", {"tenant": "t", "gate_id": "g0"})]
    )
    assert (await store.query("col-a", records[0].vector, k=1))[0].text == "new text"
    await store.delete("col-a", ["r0", "does-not-exist"])
    assert await store.count("col-a") == len(records) - 1


async def test_collections_are_separate(store: VectorStore) -> None:
    await store.upsert("col-a", _records())
    assert await store.count("col-b") == 0
