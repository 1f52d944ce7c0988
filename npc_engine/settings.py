"""One validated `Settings` object (env prefix ``NPC_``), passed explicitly.

Nothing here runs at import time: build ``Settings()`` in an entry point (CLI,
server) and hand it down. Tests build ``Settings(_env_file=None, ...)`` so they
never read the developer's environment file.

Backends are chosen by string ids (imported lazily, see ``npc_engine.backends``):

=================  ===================================================================
``embedder``       ``e5`` (bundled multilingual-e5-small, default), ``hash`` (fake, tests)
``vector_store``   ``chroma`` (embedded under ``data_dir``), ``chroma+http://HOST:PORT``
                   (a ``chroma run`` server), ``memory`` (in-process, tests)
``state_url``      an SQLAlchemy URL; default ``sqlite:///<data_dir>/state.db``;
                   ``postgresql+psycopg://...`` at scale
=================  ===================================================================
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings"]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="NPC_", extra="forbid", env_file=None)

    data_dir: Path = Field(default=Path(".npc-engine"), description="Where embedded state lives.")
    tenant: str = Field(default="default", pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")
    embedder: str = "e5"
    vector_store: str = "chroma"
    state_url: str | None = None
    embed_threads: int = Field(default=0, ge=0, description="0: all cores for ingest, 1 when serving.")
    embed_batch: int = Field(default=32, ge=1, le=1024)
    chunk_tokens: int = Field(default=320, ge=32, le=4096)
    chunk_overlap: int = Field(default=40, ge=0, le=1024)
    max_file_bytes: int = Field(default=2_000_000, ge=1)
    search_k: int = Field(default=5, ge=1, le=100)

    @field_validator("data_dir")
    @classmethod
    def _expand(cls, value: Path) -> Path:
        return value.expanduser()

    def resolved_state_url(self) -> str:
        if self.state_url:
            return self.state_url
        return f"sqlite:///{(self.data_dir / 'state.db').resolve()}"
