"""Token-aware chunking that keeps headings with their text.

A Markdown body is cut into sections at headings. Each chunk starts with its heading
trail (``Title > Section > Subsection``), so a chunk read alone (by the embedder, by a
prompt) still says what it is about. Sections longer than the budget are split on
paragraph, then sentence, then token boundaries, with a small token overlap between
consecutive pieces. Token counts are tiktoken ``cl100k_base`` counts.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from knowledge.tokens import count_tokens, encoding

__all__ = ["TextPiece", "chunk_markdown", "chunk_text"]

_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_SENTENCE = re.compile(r"(?<=[.!?。！？])\s+|(?<=[。！？])")


@dataclass(frozen=True, slots=True)
class TextPiece:
    heading: str  # the heading trail, "" when none
    text: str  # the chunk text, heading trail included


def _sections(markdown: str) -> list[tuple[list[str], str]]:
    trail: list[tuple[int, str]] = []
    out: list[tuple[list[str], str]] = []
    buf: list[str] = []
    in_fence = False

    def flush() -> None:
        text = "\n".join(buf).strip()
        if text:
            out.append(([t for _, t in trail], text))
        buf.clear()

    for line in markdown.splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            in_fence = not in_fence
        match = None if in_fence else _HEADING.match(line)
        if match:
            flush()
            level = len(match.group(1))
            trail[:] = [t for t in trail if t[0] < level]
            trail.append((level, match.group(2).strip()))
        else:
            buf.append(line)
    flush()
    if not out and trail:  # headings only
        out.append(([t for _, t in trail[:-1]], trail[-1][1]))
    return out


def _split(text: str, budget: int, counter: Callable[[str], int]) -> list[str]:
    """Split text into pieces of at most ``budget`` tokens on natural boundaries."""
    if counter(text) <= budget:
        return [text]
    for pattern in (r"\n\s*\n", None):
        parts = re.split(pattern, text) if pattern else [p for p in _SENTENCE.split(text) if p]
        parts = [p.strip() for p in parts if p and p.strip()]
        if len(parts) > 1:
            pieces: list[str] = []
            current = ""
            for part in parts:
                candidate = f"{current}\n\n{part}" if current and pattern else f"{current} {part}".strip()
                if counter(candidate) <= budget:
                    current = candidate
                    continue
                if current:
                    pieces.append(current)
                if counter(part) <= budget:
                    current = part
                else:
                    sub = _split(part, budget, counter)
                    pieces.extend(sub[:-1])
                    current = sub[-1]
            if current:
                pieces.append(current)
            return pieces
    enc = encoding()
    ids = enc.encode(text, disallowed_special=())
    return [enc.decode(ids[i : i + budget]) for i in range(0, len(ids), budget)]


def _tail(text: str, tokens: int) -> str:
    if tokens <= 0:
        return ""
    enc = encoding()
    ids = enc.encode(text, disallowed_special=())
    return enc.decode(ids[-tokens:]) if len(ids) > tokens else ""


def chunk_markdown(
    markdown: str, *, title: str = "", max_tokens: int = 320, overlap: int = 40
) -> list[TextPiece]:
    """Chunk a Markdown body; every piece carries its heading trail (title first)."""
    pieces: list[TextPiece] = []
    for headings, text in _sections(markdown):
        trail_parts = [title] if title else []
        trail_parts += [h for h in headings if h != title]
        trail = " > ".join(trail_parts)
        prefix = f"{trail}\n" if trail else ""
        budget = max(16, max_tokens - count_tokens(prefix) - overlap)
        previous = ""
        for part in _split(text, budget, count_tokens):
            lead = _tail(previous, overlap)
            body = f"{lead} {part}".strip() if lead else part
            pieces.append(TextPiece(heading=trail, text=prefix + body))
            previous = part
    if not pieces and title:
        pieces.append(TextPiece(heading=title, text=title))
    return pieces


def chunk_text(text: str, *, title: str = "", max_tokens: int = 320, overlap: int = 40) -> list[TextPiece]:
    """Chunk plain text (FAQ answers, tickets): same rules, no heading parsing."""
    prefix = f"{title}\n" if title else ""
    budget = max(16, max_tokens - count_tokens(prefix) - overlap)
    out: list[TextPiece] = []
    previous = ""
    for part in _split(text.strip(), budget, count_tokens):
        lead = _tail(previous, overlap)
        out.append(TextPiece(heading=title, text=prefix + (f"{lead} {part}".strip() if lead else part)))
        previous = part
    return out
