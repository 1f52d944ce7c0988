"""The gating invariant on the demo world, with the real embedder and embedded Chroma.

For every secret and every NPC x flag set x relationship stage, a search never returns
the secret's canary unless the spec's three rules admit that NPC and player; when they
do, the secret is found. The admit decision here is written out from the spec
(README, "Writing a world"), independently of ``knowledge.gating``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge.loaders import parse_source, scan_world
from knowledge.types import Document
from npc_engine.engine import Engine, asker_for
from npc_engine.world import load_world_definition
from personas.schema import NpcPersona
from tests.conftest import DEMO_WORLD

pytestmark = pytest.mark.slow


def _secrets() -> list[Document]:
    definition = load_world_definition(DEMO_WORLD)
    docs: list[Document] = []
    for source in scan_world(DEMO_WORLD, max_bytes=2_000_000):
        if source.kind == "lore":
            docs += parse_source(
                source, stages=definition.world.relationship_stages, default_locale="en", max_bytes=2_000_000
            )
    return [d for d in docs if d.gating and d.gating["secret"]]


def spec_admits(doc: Document, npc: NpcPersona, flags: set[str], stage_rank: int) -> bool:
    g = doc.gating or {}
    knows = g["everyone"] or (
        npc.id in g["npcs"]  # type: ignore[operator]
        or bool({npc.faction, *npc.knowledge_scope.factions} & set(g["factions"]))  # type: ignore[arg-type]
        or bool({npc.role, *npc.knowledge_scope.roles} & set(g["roles"]))  # type: ignore[arg-type]
    )
    return bool(knows) and set(g["requires_flags"]) <= flags and stage_rank >= g["min_stage_rank"]  # type: ignore[operator, arg-type]


@pytest.fixture
def engine(demo_engine: Engine) -> Engine:
    return demo_engine


def test_the_demo_world_has_enough_secrets_with_canaries() -> None:
    secrets = _secrets()
    assert len(secrets) >= 8
    assert len({s.canary for s in secrets}) == len(secrets)


async def test_no_canary_reaches_search_results_unless_the_gate_admits(engine: Engine) -> None:
    definition = load_world_definition(Path(DEMO_WORLD))
    world = definition.world
    npcs = [p for p in definition.personas.values() if isinstance(p, NpcPersona)]
    secrets = _secrets()
    all_flags = sorted({f for s in secrets for f in s.gating["requires_flags"]})  # type: ignore[union-attr, index]
    kb = engine.knowledge()
    checked = admitted = 0
    for secret in secrets:
        assert secret.canary
        queries = [secret.canary, secret.title, secret.body[:300]]
        vectors = await engine.embedder.embed(queries, kind="query")
        flag_sets = [set(), set(secret.gating["requires_flags"]), set(all_flags)]  # type: ignore[index, arg-type]
        for npc in npcs:
            for flags in flag_sets:
                for stage in world.relationship_stages:
                    asker = asker_for(npc, world, flags=sorted(flags), stage=stage)
                    allowed = spec_admits(secret, npc, flags, world.stage_rank(stage))
                    for query, vector in zip(queries, vectors, strict=True):
                        hits = await kb.search(query, kinds=("lore",), asker=asker, k=8, query_vector=vector)
                        leaked = [h.source_id for h in hits if secret.canary in h.text]
                        if not allowed:
                            assert not leaked, (
                                f"{secret.source_id} leaked to {npc.id} flags={flags} stage={stage}"
                            )
                        checked += 1
                    if allowed:
                        admitted += 1
                        hits = await kb.search(
                            queries[2], kinds=("lore",), asker=asker, k=5, query_vector=vectors[2]
                        )
                        assert secret.source_id in {h.source_id for h in hits}, (
                            f"{secret.source_id} not found for {npc.id} flags={flags} stage={stage}"
                        )
    assert admitted > 0 and checked > 1000
