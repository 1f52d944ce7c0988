"""Documents that do not come from a world folder (tickets resolved in the staff console)."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge.ingest import ingest_documents, ingest_world
from knowledge.types import Document
from npc_engine.errors import SourceFileError
from tests.knowledge.conftest import STAGES


def ticket(doc_id: str, question: str, resolution: str, category: str = "account") -> Document:
    return Document(
        kind="ticket",
        doc_id=doc_id,
        title=question,
        body=resolution,
        source_path=f"desk/{doc_id}",
        category=category,
        extra={"question": question, "resolution": resolution},
    )


async def test_a_resolved_ticket_is_searchable_after_it_is_ingested(mini_world: Path, make_kb) -> None:
    kb = make_kb()
    await ingest_world(kb, mini_world, stages=STAGES)
    before = await kb.catalog.revision(kb.tenant)
    doc = ticket(
        "T-9", "my pet dragon vanished from the stable", "Pets return after a relog; we restored it."
    )
    revision = await ingest_documents(kb, [doc], root="desk", rel="tickets/T-9")
    assert revision > before
    hits = await kb.search("pet dragon vanished stable", kinds=("ticket",), k=3)
    assert hits[0].source_id == "ticket:T-9"
    assert hits[0].metadata["category"] == "account"


async def test_ingesting_the_same_rel_again_replaces_its_chunks(mini_world: Path, make_kb) -> None:
    kb = make_kb()
    await ingest_world(kb, mini_world, stages=STAGES)
    await ingest_documents(
        kb, [ticket("T-9", "dragon vanished", "old answer")], root="desk", rel="tickets/T-9"
    )
    await ingest_documents(
        kb, [ticket("T-9", "dragon vanished", "new answer")], root="desk", rel="tickets/T-9"
    )
    chunks = [c for c in await kb.catalog.load_chunks(kb.tenant) if c.source_id == "ticket:T-9"]
    assert chunks and all("new answer" in c.text and "old answer" not in c.text for c in chunks)


async def test_a_world_reingest_keeps_desk_tickets(mini_world: Path, make_kb) -> None:
    kb = make_kb()
    await ingest_world(kb, mini_world, stages=STAGES)
    await ingest_documents(kb, [ticket("T-9", "dragon vanished", "relog")], root="desk", rel="tickets/T-9")
    (mini_world / "faq" / "general.yaml").write_text(
        "- id: only\n  question: Where is the shop?\n  answer: Main menu > Shop.\n  category: store\n",
        encoding="utf-8",
    )
    await ingest_world(kb, mini_world, stages=STAGES)
    ids = {c.source_id for c in await kb.catalog.load_chunks(kb.tenant)}
    assert "ticket:T-9" in ids and "faq:only" in ids and "faq:refund-window" not in ids


async def test_an_id_taken_by_a_world_file_is_refused_and_nothing_changes(mini_world: Path, make_kb) -> None:
    kb = make_kb()
    await ingest_world(kb, mini_world, stages=STAGES)
    before = await kb.catalog.revision(kb.tenant)
    with pytest.raises(SourceFileError, match="duplicate id 'ticket:T-1'"):
        await ingest_documents(kb, [ticket("T-1", "gems", "resent")], root="desk", rel="tickets/T-1")
    assert await kb.catalog.revision(kb.tenant) == before
