"""Who may be told a lore chunk: the gate, the asker, and the check.

A lore document's gate says who may know it (everyone, factions, roles, named NPCs),
which player progress flags it needs, the minimum relationship stage, and whether it is
a secret. Every distinct gate becomes a :class:`GateProfile` with a stable ``gate_id``.

Retrieval never asks the vector store "find text, then hide what is gated". It first
computes which ``gate_id`` values the asker may see (:func:`allowed_gate_ids`, pure
Python over the few distinct profiles in the catalog) and puts that list *inside* the
vector query's filter, so gated text is never returned, never scored against, never
enters a prompt. Every result is then checked again with :meth:`GateProfile.admits`
(defence in depth: a stale or foreign vector cannot slip through).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

__all__ = ["OPEN_GATE", "Asker", "GateProfile", "allowed_gate_ids"]


@dataclass(frozen=True, slots=True)
class Asker:
    """The persona asking and the player it is talking to.

    ``factions``/``roles`` include the persona's own faction/role and its knowledge
    scope. ``stage_rank`` is the rank of the NPC-player relationship stage in the
    world's ordered list of stages.
    """

    persona_id: str
    factions: frozenset[str] = frozenset()
    roles: frozenset[str] = frozenset()
    flags: frozenset[str] = frozenset()
    stage_rank: int = 0


@dataclass(frozen=True, slots=True)
class GateProfile:
    everyone: bool = True
    factions: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()
    npcs: tuple[str, ...] = ()
    requires_flags: tuple[str, ...] = ()
    min_stage_rank: int = 0
    secret: bool = False

    @classmethod
    def from_gating(cls, gating: Mapping[str, object] | None) -> GateProfile:
        """Build from a document's resolved gating dict (see ``knowledge.loaders.lore``)."""
        if not gating:
            return OPEN_GATE
        return cls(
            everyone=bool(gating.get("everyone", True)),
            factions=_sorted(gating.get("factions")),
            roles=_sorted(gating.get("roles")),
            npcs=_sorted(gating.get("npcs")),
            requires_flags=_sorted(gating.get("requires_flags")),
            min_stage_rank=int(gating.get("min_stage_rank", 0) or 0),  # type: ignore[call-overload]
            secret=bool(gating.get("secret", False)),
        )

    def to_json(self) -> str:
        return json.dumps(
            {
                "everyone": self.everyone,
                "factions": self.factions,
                "roles": self.roles,
                "npcs": self.npcs,
                "requires_flags": self.requires_flags,
                "min_stage_rank": self.min_stage_rank,
                "secret": self.secret,
            },
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str) -> GateProfile:
        return cls.from_gating(json.loads(text))

    @property
    def gate_id(self) -> str:
        return "g" + hashlib.sha256(self.to_json().encode()).hexdigest()[:15]

    def admits(self, asker: Asker) -> bool:
        if not self.everyone and not (
            asker.persona_id in self.npcs
            or (asker.factions & set(self.factions))
            or (asker.roles & set(self.roles))
        ):
            return False
        if not set(self.requires_flags) <= asker.flags:
            return False
        return asker.stage_rank >= self.min_stage_rank


OPEN_GATE = GateProfile()


def _sorted(value: object) -> tuple[str, ...]:
    if not value:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(sorted({str(v) for v in value}))  # type: ignore[attr-defined]


def allowed_gate_ids(profiles: Iterable[GateProfile], asker: Asker) -> tuple[str, ...]:
    """The gate ids this asker may see, sorted (a stable filter, cache-friendly)."""
    return tuple(sorted({p.gate_id for p in profiles if p.admits(asker)}))
