"""Ingestion: content-hash dedupe, changes, deletions, and bad input that changes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge.ingest import ingest_world
from npc_engine.errors import SourceFileError
from tests.knowledge.conftest import STAGES, write


async def test_first_ingest_embeds_every_chunk(mini_world: Path, make_kb) -> None:
    kb = make_kb()
    report = await ingest_world(kb, mini_world, stages=STAGES)
    assert report.files == 4
    assert report.documents == 5
    assert report.chunks_embedded == 5
    assert await kb.vector_count() == 5


async def test_reingesting_unchanged_files_embeds_nothing(mini_world: Path, make_kb) -> None:
    kb = make_kb()
    await ingest_world(kb, mini_world, stages=STAGES)
    calls_before = len(kb.embedder.calls)
    report = await ingest_world(kb, mini_world, stages=STAGES)
    assert report.chunks_embedded == 0
    assert report.files_changed == 0
    assert len(kb.embedder.calls) == calls_before


async def test_a_changed_file_replaces_its_old_chunks(mini_world: Path, make_kb) -> None:
    kb = make_kb()
    await ingest_world(kb, mini_world, stages=STAGES)
    path = mini_world / "lore" / "forge.md"
    path.write_text(path.read_text().replace("412", "977"), encoding="utf-8")
    report = await ingest_world(kb, mini_world, stages=STAGES)
    assert (report.files_changed, report.chunks_embedded, report.chunks_deleted) == (1, 1, 1)
    hits = await kb.search("when was the great forge lit", kinds=("lore",), asker=None)
    assert "977" in hits[0].text
    assert all("412" not in h.text for h in hits)
    assert await kb.vector_count() == 5


async def test_a_deleted_file_loses_its_chunks(mini_world: Path, make_kb) -> None:
    kb = make_kb()
    await ingest_world(kb, mini_world, stages=STAGES)
    (mini_world / "faq" / "general.yaml").unlink()
    report = await ingest_world(kb, mini_world, stages=STAGES)
    assert report.files_removed == 1
    assert report.chunks_deleted == 2
    hits = await kb.search("reset my password", kinds=("faq", "ticket"))
    assert all(not h.source_id.startswith("faq:") for h in hits)
    assert await kb.vector_count() == 3


@pytest.mark.parametrize(
    ("rel", "content", "expect"),
    [
        ("lore/empty.md", b"", "empty"),
        ("lore/binary.md", b"---\nid: x\n---\n\x00\x01\x02\xff\xfe", "UTF-8"),
        ("faq/broken.yaml", b"- id: a\n  question: [unclosed\n", "invalid YAML"),
        (
            "tickets/bad.jsonl",
            b'{"id": "T-9", "question": "q", "resolution": "r", "category": "x"}\n{nope\n',
            "bad.jsonl:2",
        ),
        ("faq/wrong.yaml", b"- id: a\n  question: q\n  answer: a\n  categroy: x\n", "categroy"),
    ],
)
async def test_a_bad_file_is_rejected_and_the_index_is_untouched(
    mini_world: Path, make_kb, rel: str, content: bytes, expect: str
) -> None:
    kb = make_kb()
    await ingest_world(kb, mini_world, stages=STAGES)
    revision = await kb.catalog.revision(kb.tenant)
    chunks = await kb.catalog.load_chunks(kb.tenant)
    (mini_world / "lore" / "forge.md").write_text(
        "---\nid: forge\n---\n# Changed\nThis change must not land.\n", encoding="utf-8"
    )
    target = mini_world / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(content)
    with pytest.raises(SourceFileError) as info:
        await ingest_world(kb, mini_world, stages=STAGES)
    assert expect in str(info.value)
    assert str(target) in str(info.value)
    assert await kb.catalog.revision(kb.tenant) == revision
    assert await kb.catalog.load_chunks(kb.tenant) == chunks
    assert await kb.vector_count() == 5


async def test_a_huge_file_is_rejected_before_it_is_read(mini_world: Path, make_kb) -> None:
    kb = make_kb()
    await ingest_world(kb, mini_world, stages=STAGES)
    huge = mini_world / "lore" / "huge.md"
    huge.write_bytes(b"---\nid: huge\n---\n" + b"word " * 2_100_000)  # about 10 MB
    with pytest.raises(SourceFileError, match="over the 2,000,000-byte limit"):
        await ingest_world(kb, mini_world, stages=STAGES, max_bytes=2_000_000)
    assert await kb.vector_count() == 5


async def test_a_duplicate_id_across_files_names_both(mini_world: Path, make_kb) -> None:
    kb = make_kb()
    write(mini_world, "faq/more.yaml", "- {id: refund-window, question: q, answer: a, category: payments}\n")
    with pytest.raises(SourceFileError, match=r"duplicate id 'faq:refund-window'"):
        await ingest_world(kb, mini_world, stages=STAGES)


async def test_an_unknown_stage_in_front_matter_names_file_line_and_field(mini_world: Path, make_kb) -> None:
    write(mini_world, "lore/bad.md", "---\nid: bad\nsecret: false\nmin_stage: freind\n---\nText.\n")
    with pytest.raises(SourceFileError) as info:
        await ingest_world(make_kb(), mini_world, stages=STAGES)
    message = str(info.value)
    assert "bad.md:4" in message and "min_stage" in message and "freind" in message


async def test_a_secret_without_a_gate_is_rejected(mini_world: Path, make_kb) -> None:
    write(
        mini_world,
        "lore/open-secret.md",
        "---\nsecret: true\ncanary: CANARY-OPEN-0000\n---\nCANARY-OPEN-0000\n",
    )
    with pytest.raises(SourceFileError, match="a secret needs a gate"):
        await ingest_world(make_kb(), mini_world, stages=STAGES)


async def test_tenants_do_not_share_knowledge(mini_world: Path, make_kb, make_vector_store) -> None:
    from npc_engine.state.store import SqlStateStore

    store, vectors = SqlStateStore("sqlite://"), make_vector_store()
    kb_a = make_kb("game-a", store, vectors)
    kb_b = make_kb("game-b", store, vectors)
    await ingest_world(kb_a, mini_world, stages=STAGES)
    assert await kb_b.search("great forge", kinds=("lore",)) == []
    assert (await kb_a.search("great forge", kinds=("lore",)))[0].source_id == "lore:forge"
