from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from knowledge.embedders.hashing import HashEmbedder
from knowledge.retrieval import KnowledgeBase
from knowledge.stores.base import VectorStore
from npc_engine.state.store import SqlStateStore
from tests.vector_backends import VectorStores

STAGES = ["hostile", "wary", "stranger", "acquaintance", "friend", "confidant"]


def write(root: Path, rel: str, text: str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


@pytest.fixture
def mini_world(tmp_path: Path) -> Path:
    root = tmp_path / "mini"
    write(
        root,
        "lore/forge.md",
        """
        ---
        id: forge
        title: The Great Forge
        ---
        # The Great Forge
        The great forge of Ironhold was lit in the year 412 by the smith Hadra Coalbeard.
        """,
    )
    write(
        root,
        "lore/vault.md",
        """
        ---
        id: vault
        title: The Vault Password
        known_by: {factions: [ironhold]}
        requires_flags: [quest.vault]
        min_stage: friend
        secret: true
        canary: CANARY-VAULT-1a2b
        ---
        # The Vault
        The vault beneath the forge opens to the word CANARY-VAULT-1a2b spoken thrice.
        """,
    )
    write(
        root,
        "faq/general.yaml",
        """
        - id: refund-window
          question: How long do I have to ask for a refund?
          answer: Purchases can be refunded within 14 days from Settings > Purchases.
          category: payments
        - id: reset-password
          question: How do I reset my password?
          answer: Use Settings > Account > Security > Reset password; a code is emailed to you.
          category: account
        """,
    )
    write(
        root,
        "tickets/resolved.jsonl",
        '{"id": "T-1", "question": "my gems never arrived", "resolution": "Gem purchases can take 30 minutes; '
        'we re-sent them.", "category": "payments"}\n',
    )
    return root


@pytest.fixture
def make_kb(make_vector_store: VectorStores) -> Callable[..., KnowledgeBase]:
    """``make_kb(tenant, store, vectors)``: a knowledge base over the hash embedder; its vectors
    are a fresh store on each backend in turn (memory, embedded Chroma, the Chroma server)."""

    def factory(tenant: str = "t1", store: SqlStateStore | None = None, vectors: VectorStore | None = None):
        return KnowledgeBase(
            tenant=tenant,
            embedder=HashEmbedder(),
            vectors=vectors or make_vector_store(),
            catalog=store or SqlStateStore("sqlite://"),
        )

    return factory
