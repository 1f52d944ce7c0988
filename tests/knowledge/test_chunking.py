"""Token-aware chunking keeps headings with their text and respects the budget."""

from __future__ import annotations

from knowledge.chunking import chunk_markdown, chunk_text
from knowledge.tokens import count_tokens

LONG = "The forge burns day and night. " * 300


def test_every_chunk_starts_with_its_heading_trail() -> None:
    md = f"# Forge\nIntro.\n\n## History\n{LONG}\n\n## Today\nIt still burns."
    pieces = chunk_markdown(md, title="The Forge", max_tokens=120, overlap=10)
    history = [p for p in pieces if p.heading == "The Forge > Forge > History"]
    assert len(history) > 3
    assert all(p.text.startswith("The Forge > Forge > History\n") for p in history)
    assert pieces[-1].text == "The Forge > Forge > Today\nIt still burns."


def test_no_chunk_exceeds_the_token_budget() -> None:
    pieces = chunk_markdown(f"# A\n{LONG}", title="T", max_tokens=100, overlap=20)
    assert max(count_tokens(p.text) for p in pieces) <= 100


def test_consecutive_pieces_overlap() -> None:
    text = " ".join(f"Sentence number {i} is here." for i in range(200))
    pieces = chunk_text(text, max_tokens=80, overlap=15)
    first_tail = pieces[0].text.split()[-3:]
    assert " ".join(first_tail) in pieces[1].text


def test_headings_inside_code_fences_are_not_headings() -> None:
    md = "# Real\ntext\n```\n# not a heading\n```\nmore"
    pieces = chunk_markdown(md, max_tokens=200, overlap=0)
    assert len(pieces) == 1 and "# not a heading" in pieces[0].text


def test_chinese_text_without_spaces_is_split_on_sentences() -> None:
    text = "铁炉堡的大熔炉在四百一十二年点燃。" * 200
    pieces = chunk_text(text, max_tokens=60, overlap=0)
    assert len(pieces) > 5
    assert all(count_tokens(p.text) <= 60 for p in pieces)
