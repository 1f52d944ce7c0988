"""Releasing a streamed reply to the player only once each piece has passed the guards.

Model deltas go through :class:`~npc_engine.turn.reply_format.TextStreamExtractor` (the
``text`` field of the JSON reply) into a :class:`GuardedRelease`, which holds text back
until a sentence ends (or a long clause does), checks everything released so far plus
the new piece with the output guard and the content policy, and only then lets it go.
A leak found mid-stream stops the release: the player never sees the leaking sentence,
and the turn retries or falls back (the client is told to reset what it showed).
"""

from __future__ import annotations

import re
from collections.abc import Callable

__all__ = ["GuardedRelease"]

_BOUNDARY = re.compile(r"[.!?。！？…\n](?=\s|$)|[。！？]")
_HOLD_CHARS = 120  # release at a space when a clause runs this long without ending


class GuardedRelease:
    """``push`` decoded text, get back what may be shown now; ``failed`` once a check fails."""

    def __init__(self, check: Callable[[str], bool]) -> None:
        self._check = check  # full text so far -> may it be shown?
        self.released = ""
        self._pending = ""
        self.failed = False

    def push(self, text: str) -> str:
        if self.failed or not text:
            return ""
        self._pending += text
        cut = 0
        for match in _BOUNDARY.finditer(self._pending):
            cut = match.end()
        if not cut and len(self._pending) > _HOLD_CHARS:
            cut = self._pending.rfind(" ", 0, len(self._pending) - 1) + 1
        return self._release(cut) if cut else ""

    def finish(self) -> str:
        """Release the tail (call after the whole reply has been validated)."""
        return self._release(len(self._pending)) if not self.failed else ""

    def _release(self, cut: int) -> str:
        piece = self._pending[:cut]
        if not self._check(self.released + piece):
            self.failed = True
            return ""
        self.released += piece
        self._pending = self._pending[cut:]
        return piece
