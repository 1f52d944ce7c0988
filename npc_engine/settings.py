"""One validated `Settings` object (env prefix ``NPC_``), passed explicitly.

Nothing here runs at import time: build ``Settings()`` in an entry point (CLI,
server) and hand it down. Tests build ``Settings(_env_file=None, ...)`` so they
never read the developer's environment file.

Backends are chosen by string ids (imported lazily, see ``npc_engine.backends``):

=================  ===================================================================
``embedder``       ``e5`` (bundled multilingual-e5-small, default), ``hash`` (fake, tests)
``vector_store``   ``chroma`` (embedded under ``data_dir``), ``chroma+http://HOST:PORT``
                   (a ``chroma run`` server; each request bounded by ``vector_timeout_s``),
                   ``memory`` (in-process, tests)
``state_url``      an SQLAlchemy URL; default ``sqlite:///<data_dir>/state.db``;
                   ``postgresql+psycopg://...`` at scale
``llm``            ``llamacpp`` (bundled SmolLM2-135M GGUF, default), ``llamacpp:PATH.gguf``,
                   ``openai:<base_url>#<model>``, ``langchain:<module>.<Class>``,
                   ``composer`` (no LLM), ``scripted`` (tests)
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
    vector_timeout_s: float = Field(
        default=10.0, gt=0, le=600, description="Longest wait for one request to a Chroma server."
    )
    state_url: str | None = None
    embed_threads: int = Field(default=0, ge=0, description="0: all cores for ingest, 1 when serving.")
    embed_batch: int = Field(default=32, ge=1, le=1024)
    embed_process: bool = Field(
        default=True, description="Run the e5 embedder in a child process (its own GIL); false: in-process."
    )
    chunk_tokens: int = Field(default=320, ge=32, le=4096)
    chunk_overlap: int = Field(default=40, ge=0, le=1024)
    max_file_bytes: int = Field(default=2_000_000, ge=1)
    search_k: int = Field(default=5, ge=1, le=100)
    # -- NPC turns -------------------------------------------------------------------------
    llm: str = "llamacpp"
    llm_threads: int = Field(default=1, ge=1, le=64, description="llama.cpp threads; 1 on small machines.")
    llm_timeout_s: float = Field(default=20.0, gt=0, le=600)
    llm_temperature: float = Field(default=0.7, ge=0.0, le=2.0)
    reply_max_tokens: int = Field(default=200, ge=16, le=4096)
    prompt_budget: int = Field(default=3072, ge=512, le=200_000, description="Prompt tokens (tiktoken).")
    history_share: float = Field(default=0.5, gt=0.0, lt=1.0)
    npc_lore_k: int = Field(default=3, ge=0, le=20)
    memory_k: int = Field(default=5, ge=0, le=50)
    max_memories: int = Field(default=200, ge=1, le=10_000, description="Per NPC and player.")
    max_input_chars: int = Field(default=1000, ge=1, le=100_000)
    affect_half_life_s: float = Field(default=600.0, gt=0)
    # -- support ---------------------------------------------------------------------------
    support_adapt: bool = Field(
        default=True,
        description="Let the model restate an answer whose source is in another language (checked).",
    )
    pii_player_id_patterns: list[str] = Field(
        default_factory=list, description="Regexes of this game's player ids, redacted like PII."
    )

    # -- HTTP server -------------------------------------------------------------------------
    max_request_bytes: int = Field(default=256 * 1024, ge=1024, description="Largest JSON request body.")
    max_upload_bytes: int = Field(default=50 * 1024 * 1024, ge=1024, description="Largest world upload.")
    request_timeout_s: float = Field(default=60.0, gt=0, le=3600, description="Whole-request limit.")
    rate_limit_per_s: float = Field(
        default=100.0, ge=0, description="Requests per second per tenant and worker; 0: no limit."
    )
    rate_limit_burst: int = Field(default=200, ge=1, description="Requests a tenant may send at once.")
    idempotency_ttl_s: float = Field(default=86_400.0, gt=0, description="How long a retry is recognised.")
    key_cache_s: float = Field(
        default=5.0, ge=0, le=300, description="How long a verified API key is trusted before rechecking."
    )

    @field_validator("data_dir")
    @classmethod
    def _expand(cls, value: Path) -> Path:
        return value.expanduser()

    def resolved_state_url(self) -> str:
        if self.state_url:
            return self.state_url
        return f"sqlite:///{(self.data_dir / 'state.db').resolve()}"
