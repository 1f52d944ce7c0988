"""Lexical (BM25) search with ``bm25s``, beside dense search.

BM25 catches names, ids and error codes that embeddings blur; it is useless on
paraphrases, which is why results are fused with dense search, never used alone.
Tokens: lower-cased words; runs of CJK characters become single characters plus
bigrams (those scripts do not separate words with spaces).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence

import numpy as np

__all__ = ["LexicalIndex", "tokenize"]

_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]+")
# Function words of the languages players write in. They matter more than usual here:
# in a mostly-English corpus a Spanish "de" or a Chinese "的" is *rare*, so BM25 gives it
# a high IDF and ranks every same-language document up, whatever it is about.
_EN = (
    "a an and are as at be but by do does for from has have how i if in is it its me my of on or "
    "so that the their there this to was what when where which who why will with you your"
)
_HINDI = "का के की को से में है हैं था थे और या एक यह वह क्या कैसे क्यों कब कहाँ कितने कितना होता होते होती हो मैं मेरा मेरे मुझे आप अपने पर भी तो नहीं"
_EXTRA_ZH = "的 了 是 我 你 他 她 在 有 吗 呢 吧 么 什 怎 为 个 这 那 和 就 都 也 要 会 能 可 以 到 说 把 被 给 让 从 对 着 过 还 很 没 不"


@functools.cache
def _stopwords() -> frozenset[str]:
    from bm25s import stopwords as sw

    words: set[str] = set()
    for name in (
        "STOPWORDS_EN",
        "STOPWORDS_SPANISH",
        "STOPWORDS_FRENCH",
        "STOPWORDS_PORTUGUESE",
        "STOPWORDS_ITALIAN",
        "STOPWORDS_RUSSIAN",
        "STOPWORDS_CHINESE",
    ):
        words.update(w.lower() for w in getattr(sw, name, ()))
    words.update(_EN.split())
    words.update(_HINDI.split())
    words.update(_EXTRA_ZH.split())
    return frozenset(words)


def tokenize(text: str) -> list[str]:
    stop = _stopwords()
    out: list[str] = []
    for word in _TOKEN.findall(text.lower()):
        if _CJK.search(word):
            for run in _CJK.findall(word):
                out.extend(ch for ch in run if ch not in stop)
                out.extend(b for b in (run[i : i + 2] for i in range(len(run) - 1)) if b not in stop)
            rest = _CJK.sub(" ", word).split()
            out.extend(w for w in rest if w not in stop)
        elif word not in stop:
            out.append(word)
    return out


class LexicalIndex:
    """A BM25 index over a fixed list of texts (rebuilt when the catalog changes)."""

    def __init__(self, texts: Sequence[str]) -> None:
        import bm25s

        self.size = len(texts)
        self._bm25 = bm25s.BM25()
        corpus = [tokenize(t) or ["\u2400"] for t in texts]
        if corpus:
            self._bm25.index(corpus, show_progress=False)

    def search(self, query: str, *, k: int, mask: np.ndarray | None = None) -> list[tuple[int, float]]:
        """Top ``k`` (index, score) with score > 0; ``mask`` (bool per text) restricts the candidates."""
        if self.size == 0:
            return []
        tokens = tokenize(query)
        if not tokens:
            return []
        scores = np.asarray(self._bm25.get_scores(tokens), dtype=np.float32)
        if mask is not None:
            scores = np.where(mask, scores, 0.0)
        k = min(k, self.size)
        top = np.argpartition(-scores, k - 1)[:k] if k < self.size else np.arange(self.size)
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(int(i), float(scores[i])) for i in top if scores[i] > 0]
