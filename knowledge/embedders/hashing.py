"""A deterministic, dependency-free fake embedder for tests.

Feature hashing of lower-cased word unigrams, bigrams and character trigrams into
``dim`` signed buckets, L2-normalised. Texts sharing words land close; it knows no
synonyms and no languages. It records every call in ``calls``, unless ``record=False``
(what ``NPC_EMBEDDER=hash`` builds: a server would otherwise keep every text it embedded).
"""

from __future__ import annotations

import hashlib
import itertools
import re
from collections.abc import Sequence

import numpy as np

from knowledge.embedders.base import EmbedKind

__all__ = ["HashEmbedder"]

_WORD = re.compile(r"\w+", re.UNICODE)


class HashEmbedder:
    def __init__(self, dim: int = 256, *, record: bool = True) -> None:
        self.dim = dim
        self.id = f"hash-{dim}"
        self.record = record
        self.calls: list[tuple[EmbedKind, tuple[str, ...]]] = []

    def _vector(self, text: str) -> np.ndarray:
        vec = np.zeros(self.dim, dtype=np.float32)
        words = _WORD.findall(text.lower())
        features = words + [f"{a} {b}" for a, b in itertools.pairwise(words)]
        for word in words:
            padded = f"#{word}#"
            features += [padded[i : i + 3] for i in range(len(padded) - 2)]
        for feature in features:
            digest = hashlib.blake2b(feature.encode(), digest_size=8).digest()
            bucket = int.from_bytes(digest[:4], "little") % self.dim
            vec[bucket] += 1.0 if digest[4] & 1 else -1.0
        norm = float(np.linalg.norm(vec))
        return vec / norm if norm else vec

    def embed_sync(self, texts: Sequence[str], *, kind: EmbedKind) -> np.ndarray:
        if self.record:
            self.calls.append((kind, tuple(texts)))
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.vstack([self._vector(t) for t in texts])

    async def embed(self, texts: Sequence[str], *, kind: EmbedKind) -> np.ndarray:
        return self.embed_sync(texts, kind=kind)
