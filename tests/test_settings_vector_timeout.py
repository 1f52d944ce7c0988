"""``NPC_VECTOR_TIMEOUT_S``: how long one request to a Chroma server may take (the frozen-server
test in ``tests/knowledge/test_chroma_server.py`` shows a store built from it keeps to it)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from knowledge.stores.chroma import ChromaVectorStore
from npc_engine.backends import make_vector_store
from npc_engine.settings import Settings


def test_the_vector_timeout_is_ten_seconds_unless_set() -> None:
    assert Settings().vector_timeout_s == 10.0


def test_the_vector_timeout_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NPC_VECTOR_TIMEOUT_S", "2.5")
    assert Settings().vector_timeout_s == 2.5


@pytest.mark.parametrize("value", ["0", "-1", "nan", "soon", "601"])
def test_a_vector_timeout_that_is_not_a_positive_number_of_seconds_is_refused(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("NPC_VECTOR_TIMEOUT_S", value)
    with pytest.raises(ValidationError) as info:
        Settings()
    (problem,) = info.value.errors()
    assert problem["loc"] == ("vector_timeout_s",)
    assert any(word in problem["msg"] for word in ("greater than 0", "less than or equal to 600", "number"))


def test_a_chroma_server_store_is_built_with_the_vector_timeout(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, vector_store="chroma+http://127.0.0.1:9", vector_timeout_s=1.5)
    store = make_vector_store(settings)
    assert isinstance(store, ChromaVectorStore)
    assert (store.url, store.timeout_s) == ("http://127.0.0.1:9", 1.5)  # nothing is connected yet
    store.close()
