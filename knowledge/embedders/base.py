"""The ``Embedder`` seam: embed texts as queries or as documents."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, Protocol, runtime_checkable

import numpy as np

__all__ = ["EmbedKind", "Embedder"]

EmbedKind = Literal["query", "document"]


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors of shape ``(len(texts), dim)``.

    ``id`` names the model (it keys vector collections: vectors from two models never
    mix). Implementations call blocking code off the event loop.
    """

    id: str
    dim: int

    async def embed(self, texts: Sequence[str], *, kind: EmbedKind) -> np.ndarray: ...
