"""Fixtures for NPC turns: the demo world ingested once with the fast fakes, engines per test."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from knowledge.embedders.hashing import HashEmbedder
from knowledge.stores.memory import MemoryVectorStore
from npc_engine.engine import Engine
from npc_engine.llm.base import ChatModel
from npc_engine.llm.scripted import ScriptedChatModel, ScriptItem
from npc_engine.settings import Settings
from npc_engine.state.store import SqlStateStore
from tests.conftest import postgres_url  # noqa: F401  (moved to tests/conftest.py; re-exported for old imports)

DEMO_WORLD = Path(__file__).resolve().parents[2] / "examples" / "demo_world"


class Clock:
    """Game time the test moves by hand."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Backends:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.state_url = f"sqlite:///{root / 'state.db'}"
        self.state = SqlStateStore(self.state_url)
        self.embedder = HashEmbedder()
        self.vectors = MemoryVectorStore()


@pytest.fixture(scope="session")
def turn_backends(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backends]:
    backends = Backends(tmp_path_factory.mktemp("turns"))
    engine = Engine(
        settings=Settings(_env_file=None, embedder="hash", vector_store="memory", data_dir=backends.root),  # type: ignore[call-arg]
        state=backends.state,
        embedder=backends.embedder,
        vectors=backends.vectors,
    )
    asyncio.run(engine.ingest(DEMO_WORLD))
    yield backends
    backends.state.close()


MakeEngine = Callable[..., Engine]


@pytest.fixture
def make_engine(turn_backends: Backends) -> MakeEngine:
    """``make_engine(script, clock=..., model=..., **settings)``: an engine over the shared demo world."""

    def make(
        script: Sequence[ScriptItem] = ('{"text": "Aye.", "emotion": "neutral", "actions": []}',),
        *,
        clock: Callable[[], float] | None = None,
        model: ChatModel | None = None,
        state: Any = None,
        **settings: Any,
    ) -> Engine:
        return Engine(
            settings=Settings(  # type: ignore[call-arg]
                _env_file=None,
                embedder="hash",
                vector_store="memory",
                data_dir=turn_backends.root,
                **settings,
            ),
            state=state or turn_backends.state,
            embedder=turn_backends.embedder,
            vectors=turn_backends.vectors,
            chat_model=model or ScriptedChatModel(script),
            clock=clock or Clock(),
        )

    return make


@pytest.fixture
def player() -> str:
    """A player id no other test uses (conversations are per NPC and player)."""
    return f"p-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(scope="session")
def postgres_turn_state(request: pytest.FixtureRequest, turn_backends: Backends) -> Iterator[SqlStateStore]:
    """The demo world ingested once into the session's PostgreSQL schema, with the same fakes."""
    state = SqlStateStore(request.getfixturevalue("postgres_url"))
    settings = Settings(_env_file=None, embedder="hash", vector_store="memory", data_dir=turn_backends.root)  # type: ignore[call-arg]
    engine = Engine(
        settings=settings,
        state=state,
        embedder=turn_backends.embedder,
        vectors=turn_backends.vectors,  # the same vectors: the ingest writes what is there already
    )
    asyncio.run(engine.ingest(DEMO_WORLD))
    yield state
    state.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def turn_state(request: pytest.FixtureRequest, turn_backends: Backends) -> SqlStateStore:
    """The state store of the demo world on each backend: ``make_engine(state=turn_state)``."""
    if request.param == "sqlite":
        return turn_backends.state
    state: SqlStateStore = request.getfixturevalue("postgres_turn_state")
    return state
