"""An HTTP API world for tests: the demo world in two games, keys of every role, apps on demand.

``ApiWorld.build(root)`` ingests the demo world (fast fakes: hash embedder, in-memory vectors,
SQLite in ``root``) into two tenants and makes a key of each role in each. ``app()`` serves
the engine; ``restart()`` builds a fresh engine and app over the same state file, as a
restarted server would (the in-memory vector store is carried over: only the process state
is new).
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from knowledge.embedders.hashing import HashEmbedder
from knowledge.stores.memory import MemoryVectorStore
from npc_engine.auth import create_key
from npc_engine.engine import Engine
from npc_engine.llm.scripted import ScriptedChatModel, ScriptItem
from npc_engine.server.app import create_app
from npc_engine.settings import Settings
from npc_engine.state.store import SqlStateStore

DEMO_WORLD = Path(__file__).resolve().parent.parent / "examples" / "demo_world"
GAME_A, GAME_B = "ironhold", "starfall"
ROLES = ("game", "staff", "admin")


def npc_json(text: str, emotion: str = "joy", actions: list[dict[str, Any]] | None = None) -> str:
    return json.dumps({"text": text, "emotion": emotion, "actions": actions or []})


DEFAULT_SCRIPT: tuple[ScriptItem, ...] = (
    npc_json(
        "Aye, take this horseshoe for luck.",
        actions=[{"name": "give_item", "args": {"item_id": "horseshoe"}}],
    ),
)


@dataclass
class ApiWorld:
    root: Path
    engine: Engine
    vectors: MemoryVectorStore
    keys: dict[str, str] = field(default_factory=dict)  # "a-game", "a-staff", "a-admin", "b-game", ...
    state_url: str | None = None  # None: SQLite in root

    @staticmethod
    def settings(root: Path, **overrides: Any) -> Settings:
        fields: dict[str, Any] = {"embedder": "hash", "vector_store": "memory", "llm": "scripted"}
        return Settings(_env_file=None, data_dir=root, **(fields | overrides))  # type: ignore[call-arg]

    @classmethod
    def build(
        cls,
        root: Path,
        script: tuple[ScriptItem, ...] = DEFAULT_SCRIPT,
        *,
        state_url: str | None = None,
        **overrides: Any,
    ) -> ApiWorld:
        """``state_url``: an empty database to keep the state in (default: SQLite in ``root``)."""
        vectors = MemoryVectorStore()
        engine = cls._engine(root, vectors, script, state_url=state_url, **overrides)
        world = cls(root, engine, vectors, state_url=state_url)

        async def setup() -> None:
            for tenant, label in ((GAME_A, "a"), (GAME_B, "b")):
                await engine.ingest(DEMO_WORLD, tenant=tenant)
                for role in ROLES:
                    _, secret = await create_key(
                        engine.state, tenant=tenant, role=role, name=f"{label}-{role} key"
                    )
                    world.keys[f"{label}-{role}"] = secret

        asyncio.run(setup())
        return world

    @classmethod
    def _engine(
        cls,
        root: Path,
        vectors: MemoryVectorStore,
        script: tuple[ScriptItem, ...],
        delay_s: float = 0.0,
        *,
        state_url: str | None = None,
        **overrides: Any,
    ) -> Engine:
        return Engine(
            settings=cls.settings(root, **overrides),
            state=SqlStateStore(state_url or f"sqlite:///{root / 'state.db'}"),
            embedder=HashEmbedder(),
            vectors=vectors,
            chat_model=ScriptedChatModel(script, delay_s=delay_s),
        )

    @property
    def model(self) -> ScriptedChatModel:
        model = self.engine.chat_model
        assert isinstance(model, ScriptedChatModel)
        return model

    def app(self) -> FastAPI:
        return create_app(self.engine)

    def restart(
        self, script: tuple[ScriptItem, ...] = DEFAULT_SCRIPT, *, delay_s: float = 0.0, **overrides: Any
    ) -> ApiWorld:
        """A new engine (new process state) over the same stored state and vectors.

        ``delay_s``: the scripted model takes that long to answer; ``overrides``: Settings fields.
        """
        self.engine.close()
        self.engine = self._engine(
            self.root, self.vectors, script, delay_s, state_url=self.state_url, **overrides
        )
        return self

    def auth(self, label: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[label]}"}

    def close(self) -> None:
        self.engine.close()
