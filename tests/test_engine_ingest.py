"""Engine.ingest over a whole world: personas and knowledge together, all-or-nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge.embedders.hashing import HashEmbedder
from npc_engine.engine import Engine
from npc_engine.errors import InvalidInputError, NotFoundError, PersonaError
from npc_engine.settings import Settings
from npc_engine.state import SqlStateStore
from tests.vector_backends import VectorStores

# what these check happens before or beside the vector store: the fast fake is enough
memory_only = pytest.mark.parametrize("make_vector_store", ["memory"], indirect=True)


@pytest.fixture
def engine(tmp_path: Path, make_vector_store: VectorStores) -> Engine:
    """Over the hash embedder and each vector store in turn (memory, embedded Chroma, the server)."""
    return Engine(
        settings=Settings(data_dir=tmp_path),
        state=SqlStateStore("sqlite://"),
        embedder=HashEmbedder(),
        vectors=make_vector_store(),
    )


async def test_ingest_stores_personas_and_the_world(engine: Engine, world_copy: Path) -> None:
    result = await engine.ingest(world_copy)
    assert result.personas == 6 and result.world_changed
    assert (await engine.persona("brannoc")).faction == "ironhold"
    assert "friend" in (await engine.world()).relationship_stages


@memory_only
async def test_a_second_ingest_parses_and_embeds_nothing(engine: Engine, world_copy: Path) -> None:
    await engine.ingest(world_copy)
    calls = len(engine.embedder.calls)  # type: ignore[attr-defined]
    again = await engine.ingest(world_copy)
    assert not again.world_changed and again.knowledge.chunks_embedded == 0 and again.personas == 6
    assert len(engine.embedder.calls) == calls  # type: ignore[attr-defined]


@memory_only
async def test_a_broken_persona_changes_nothing_stored(engine: Engine, world_copy: Path) -> None:
    await engine.ingest(world_copy)
    revision = await engine.state.revision("default")
    (world_copy / "personas" / "brannoc.yaml").write_text(
        "kind: npc\nid: brannoc\nname: [\n", encoding="utf-8"
    )
    (world_copy / "lore" / "new.md").write_text(
        "---\nid: new\n---\nNew lore that must not land.\n", encoding="utf-8"
    )
    with pytest.raises(PersonaError, match=r"brannoc\.yaml"):
        await engine.ingest(world_copy)
    assert await engine.state.revision("default") == revision
    assert (await engine.persona("brannoc")).name == "Brannoc Emberhand"


async def test_changing_the_world_stages_regates_unchanged_lore(engine: Engine, world_copy: Path) -> None:
    await engine.ingest(world_copy)
    world_file = world_copy / "world.yaml"
    text = world_file.read_text(encoding="utf-8")
    world_file.write_text(text + "\n# touched\n", encoding="utf-8")
    result = await engine.ingest(world_copy)
    assert result.world_changed and result.knowledge.files_changed == result.knowledge.files
    assert result.knowledge.chunks_embedded == 0  # same content and gates: nothing re-embedded


@memory_only
async def test_searching_an_unknown_persona_or_stage_is_a_clear_error(
    engine: Engine, world_copy: Path
) -> None:
    with pytest.raises(NotFoundError, match="ingest a world first"):
        await engine.search("hello", persona_id="brannoc")
    await engine.ingest(world_copy)
    with pytest.raises(NotFoundError, match="known personas: aria, brannoc"):
        await engine.search("hello", persona_id="nobody")
    with pytest.raises(InvalidInputError, match="unknown stage 'besties'"):
        await engine.search("hello", persona_id="brannoc", stage="besties")
    with pytest.raises(InvalidInputError, match="query is empty"):
        await engine.search("   ", persona_id="brannoc")
