"""The output guard: nothing gated, no system-prompt text, no out-of-world words reach the player.

Gating keeps secret text out of the prompt, but a model can still be *told* a secret by
an earlier turn, invent one, or echo its own instructions when a player asks it to. The
guard checks every reply before it leaves the engine:

* ``canary`` — a secret's canary phrase, anywhere, any case;
* ``gated_text`` — a run of ``shingle`` consecutive words (or, for scripts written without
  spaces, ``cjk_shingle`` characters) shared with a text the player may not see;
* ``system_prompt`` — a run shared with the engine's own instructions;
* ``out_of_world`` — a term from the world's list, as a whole word.

A reply with any violation is not sent: the turn retries once, then falls back to the
grounded composer (which only uses text the player may see).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

__all__ = ["OutputGuard", "Violation"]

ViolationKind = Literal["canary", "gated_text", "system_prompt", "out_of_world"]
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_SPACELESS = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\u0e00-\u0e7f]")


@dataclass(frozen=True, slots=True)
class Violation:
    kind: ViolationKind
    source: str  # which secret / term / "system"
    evidence: str  # the shared run (never logged in full for secrets)


def _normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def _word_shingles(text: str, n: int) -> set[tuple[str, ...]]:
    words = _WORD.findall(_normalise(text))
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


def _char_shingles(text: str, n: int) -> set[str]:
    chars = "".join(ch for ch in _normalise(text) if _SPACELESS.match(ch))
    return {chars[i : i + n] for i in range(len(chars) - n + 1)}


class OutputGuard:
    def __init__(
        self,
        *,
        gated_texts: Iterable[tuple[str, str]] = (),
        canaries: Iterable[tuple[str, str]] = (),
        system_texts: Sequence[str] = (),
        out_of_world_terms: Sequence[str] = (),
        shingle: int = 8,
        cjk_shingle: int = 10,
    ) -> None:
        """``gated_texts`` and ``canaries`` are (source id, text) pairs the player may not see."""
        self.shingle = shingle
        self.cjk_shingle = cjk_shingle
        self._canaries = [(source, _normalise(c)) for source, c in canaries if c.strip()]
        self._gated: dict[tuple[str, ...] | str, str] = {}
        for source, text in gated_texts:
            for sh in _word_shingles(text, shingle):
                self._gated.setdefault(sh, source)
            for csh in _char_shingles(text, cjk_shingle):
                self._gated.setdefault(csh, source)
        self._system: set[tuple[str, ...] | str] = set()
        for text in system_texts:
            self._system |= _word_shingles(text, shingle)
            self._system |= _char_shingles(text, cjk_shingle)
        self._terms = [
            (term, re.compile(rf"(?<![^\W_]){re.escape(_normalise(term))}(?![^\W_])"))
            for term in out_of_world_terms
            if term.strip()
        ]

    def check(self, reply: str) -> list[Violation]:
        """Every violation in ``reply``; an empty list means it may be sent."""
        text = _normalise(reply)
        found: list[Violation] = []
        for source, canary in self._canaries:
            if canary in text:
                found.append(Violation("canary", source, "canary phrase"))
        shingles: set[tuple[str, ...] | str] = set(_word_shingles(reply, self.shingle))
        shingles |= _char_shingles(reply, self.cjk_shingle)
        seen_sources: set[str] = set()
        ordered = sorted(shingles, key=str)  # deterministic order of violations
        for sh in ordered:
            owner = self._gated.get(sh)
            if owner is not None and owner not in seen_sources:
                seen_sources.add(owner)
                found.append(Violation("gated_text", owner, f"{self.shingle}-word run from a gated text"))
        system_hits = [sh for sh in ordered if sh in self._system]
        if system_hits:
            first = system_hits[0]
            found.append(
                Violation("system_prompt", "system", " ".join(first) if isinstance(first, tuple) else first)
            )
        for term, pattern in self._terms:
            if pattern.search(text):
                found.append(Violation("out_of_world", term, term))
        return found
