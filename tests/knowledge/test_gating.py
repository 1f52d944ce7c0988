"""Gating: the filter is inside the query, and every result is checked again."""

from __future__ import annotations

from pathlib import Path

from knowledge.gating import Asker, GateProfile
from knowledge.ingest import ingest_world
from tests.knowledge.conftest import STAGES

FRIEND = STAGES.index("friend")


def dwarf(flags: frozenset[str] = frozenset(), stage: int = FRIEND) -> Asker:
    return Asker("brannoc", factions=frozenset({"ironhold"}), flags=flags, stage_rank=stage)


def test_a_gate_admits_only_when_faction_flags_and_stage_all_hold() -> None:
    gate = GateProfile(
        everyone=False, factions=("ironhold",), requires_flags=("quest.vault",), min_stage_rank=FRIEND
    )
    assert gate.admits(dwarf(frozenset({"quest.vault"})))
    assert not gate.admits(dwarf())
    assert not gate.admits(dwarf(frozenset({"quest.vault"}), stage=FRIEND - 1))
    assert not gate.admits(
        Asker("elf", factions=frozenset({"silverwood"}), flags=frozenset({"quest.vault"}), stage_rank=5)
    )


def test_named_npcs_and_roles_open_a_gate() -> None:
    gate = GateProfile(everyone=False, roles=("smith",), npcs=("ithrien",))
    assert gate.admits(Asker("ithrien"))
    assert gate.admits(Asker("someone", roles=frozenset({"smith"})))
    assert not gate.admits(Asker("someone", roles=frozenset({"baker"})))


async def test_the_gate_is_inside_the_vector_query(mini_world: Path, make_kb) -> None:
    kb = make_kb()
    await ingest_world(kb, mini_world, stages=STAGES)
    secret_gate = next(
        c.gate_id for c in await kb.catalog.load_chunks(kb.tenant) if c.source_id == "lore:vault"
    )
    secret_partition = kb.collection_for("lore", secret_gate)

    def opened() -> set[str]:  # queried in the store, or read back to be searched in memory
        return {name for name, _ in kb.vectors.queries} | set(kb.vectors.fetched)

    await kb.search("vault password", kinds=("lore",), asker=dwarf())
    assert opened() and secret_partition not in opened()  # the gated partition is never opened
    await kb.search("vault password", kinds=("lore",), asker=dwarf(frozenset({"quest.vault"})))
    assert secret_partition in opened()


async def test_a_secret_is_found_only_with_faction_flags_and_stage(mini_world: Path, make_kb) -> None:
    kb = make_kb()
    await ingest_world(kb, mini_world, stages=STAGES)
    for asker in (dwarf(), dwarf(frozenset({"quest.vault"}), stage=FRIEND - 1), None):
        hits = await kb.search("CANARY-VAULT-1a2b vault word", kinds=("lore",), asker=asker, k=10)
        assert all("CANARY-VAULT-1a2b" not in h.text for h in hits)
    hits = await kb.search(
        "CANARY-VAULT-1a2b vault word", kinds=("lore",), asker=dwarf(frozenset({"quest.vault"}))
    )
    assert hits[0].source_id == "lore:vault"


async def test_a_foreign_vector_that_slips_into_the_store_is_dropped(mini_world: Path, make_kb) -> None:
    from knowledge.types import VectorRecord

    kb = make_kb()
    await ingest_world(kb, mini_world, stages=STAGES)
    open_gate = next(
        c.gate_id for c in await kb.catalog.load_chunks(kb.tenant) if c.source_id == "lore:forge"
    )
    vector = (await kb.embedder.embed(["forge secret smuggled"], kind="document"))[0].tolist()
    meta = {"tenant": kb.tenant, "kind": "lore", "gate_id": open_gate, "source_id": "lore:smuggled"}
    await kb.vectors.upsert(
        kb.collection_for("lore", open_gate),
        [VectorRecord("lore:smuggled#x", vector, "forge secret smuggled", meta)],
    )
    hits = await kb.search("forge secret smuggled", kinds=("lore",), asker=None, k=10)
    assert all(h.source_id != "lore:smuggled" for h in hits)


class _DownVectorStore:
    """A vector store whose server is gone."""

    async def query(self, *args: object, **kwargs: object) -> list[object]:
        from npc_engine.errors import VectorStoreError

        raise VectorStoreError("connection refused")

    fetch_vectors = query


async def test_a_vector_store_outage_degrades_to_gated_lexical_search(mini_world: Path, make_kb) -> None:
    from structlog.testing import capture_logs

    kb = make_kb()
    await ingest_world(kb, mini_world, stages=STAGES)
    kb.vectors = _DownVectorStore()
    with capture_logs() as logs:
        hits = await kb.search("great forge Ironhold vault", kinds=("lore",), asker=dwarf())
    assert [h.source_id for h in hits] == ["lore:forge"]  # the vault stays gated
    assert any(e["event"] == "kb.dense_unavailable" and e["log_level"] == "warning" for e in logs)


async def test_a_search_says_it_degraded_and_why_only_when_it_did(mini_world: Path, make_kb) -> None:
    kb = make_kb()
    await ingest_world(kb, mini_world, stages=STAGES)
    healthy = await kb.retrieve("great forge Ironhold vault", kinds=("lore",), asker=dwarf())
    assert healthy.degraded is None and any(h.dense_score is not None for h in healthy.hits)
    kb.vectors = _DownVectorStore()
    warm = await kb.retrieve("great forge Ironhold vault", kinds=("lore",), asker=dwarf())
    assert warm.degraded is None  # its partitions are held in memory: no round trip to fail
    cold = make_kb(store=kb.catalog, vectors=_DownVectorStore())
    down = await cold.retrieve("great forge Ironhold vault", kinds=("lore",), asker=dwarf())
    assert down.degraded == "vector store unavailable"
    assert [h.source_id for h in down.hits] == ["lore:forge"] and down.hits[0].dense_score is None
