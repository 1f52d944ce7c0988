"""The ``Engine`` facade: one object that owns the backends and exposes the engine.

Build it with :meth:`Engine.from_settings` (what the CLI and server do) or inject the
backends directly (what tests do: ``HashEmbedder``, ``MemoryVectorStore``,
``SqlStateStore("sqlite://")``). Nothing is opened or loaded at import time, and the
embedding model is loaded on first use.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import structlog
from pydantic import TypeAdapter

from knowledge.embedders.base import Embedder
from knowledge.gating import Asker
from knowledge.ingest import IngestReport, Progress, ingest_world
from knowledge.retrieval import KnowledgeBase
from knowledge.stores.base import VectorStore
from knowledge.types import Kind, SearchHit
from npc_engine.errors import InvalidInputError, NotFoundError
from npc_engine.settings import Settings
from npc_engine.state.base import StateStore
from npc_engine.state.records import Receipt
from npc_engine.world import definition_digest, load_world_definition
from personas.schema import NpcPersona, Persona, SupportPersona, World

if TYPE_CHECKING:
    from npc_engine.affect.state import AffectState
    from npc_engine.llm.base import ChatModel
    from npc_engine.support.desk import TicketDesk
    from npc_engine.support.pii import PiiRedactor
    from npc_engine.support.resolutions import Resolutions
    from npc_engine.support.turn import SupportTurns
    from npc_engine.support.types import SupportReply
    from npc_engine.turn.conversation import ConversationView
    from npc_engine.turn.runner import NpcTurns
    from npc_engine.turn.types import EventOutcome, GameEventIn, NpcReply, Player, TurnDelta

__all__ = ["Engine", "IngestResult", "asker_for"]

log = structlog.get_logger("npc_engine")
_PERSONA = TypeAdapter(Persona)


@dataclass(frozen=True, slots=True)
class IngestResult:
    knowledge: IngestReport
    personas: int
    world_changed: bool

    def as_dict(self) -> dict[str, object]:
        return {**self.knowledge.as_dict(), "personas": self.personas, "world_changed": self.world_changed}


def asker_for(
    persona: NpcPersona, world: World, *, flags: Sequence[str] = (), stage: str | None = None
) -> Asker:
    """Who is asking: the NPC (faction, role, knowledge scope) and the player's flags and stage."""
    stage_name = stage or _default_stage(world)
    factions = {persona.faction} if persona.faction else set()
    roles = {persona.role} if persona.role else set()
    return Asker(
        persona_id=persona.id,
        factions=frozenset(factions | set(persona.knowledge_scope.factions)),
        roles=frozenset(roles | set(persona.knowledge_scope.roles)),
        flags=frozenset(f.strip() for f in flags if f.strip()),
        stage_rank=world.stage_rank(stage_name),
    )


def _default_stage(world: World) -> str:
    """A new acquaintance starts at 'stranger' when the world has it, else its lowest stage."""
    return "stranger" if "stranger" in world.relationship_stages else world.relationship_stages[0]


class Engine:
    def __init__(
        self,
        *,
        settings: Settings,
        state: StateStore,
        embedder: Embedder,
        vectors: VectorStore,
        chat_model: ChatModel | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """``chat_model`` defaults to ``settings.llm``, built on first use; ``clock`` is game time in seconds."""
        self.settings = settings
        self.state = state
        self.embedder = embedder
        self.vectors = vectors
        self.clock = clock
        self._chat_model = chat_model
        self._kbs: dict[str, KnowledgeBase] = {}
        self._turns: NpcTurns | None = None
        self._support: SupportTurns | None = None
        self._desk: TicketDesk | None = None
        self._resolutions: Resolutions | None = None
        self._redactor: PiiRedactor | None = None

    @property
    def chat_model(self) -> ChatModel:
        if self._chat_model is None:
            from npc_engine.llm.factory import make_chat_model

            self._chat_model = make_chat_model(self.settings.llm, n_threads=self.settings.llm_threads)
        return self._chat_model

    @property
    def turns(self) -> NpcTurns:
        if self._turns is None:
            from npc_engine.turn.runner import NpcTurns

            self._turns = NpcTurns(self)
        return self._turns

    @property
    def redactor(self) -> PiiRedactor:
        """PII redaction (with this game's player-id patterns), applied before anything is indexed or logged."""
        if self._redactor is None:
            from npc_engine.support.pii import PiiRedactor

            self._redactor = PiiRedactor(player_id_patterns=self.settings.pii_player_id_patterns)
        return self._redactor

    @property
    def desk(self) -> TicketDesk:
        """Support tickets: what escalations open and staff work on."""
        if self._desk is None:
            from npc_engine.support.desk import TicketDesk

            self._desk = TicketDesk(
                self.state, redactor=self.redactor, clock=self.clock, on_resolved=self.resolutions.learn
            )
        return self._desk

    @property
    def resolutions(self) -> Resolutions:
        """Resolved tickets joining the knowledge base, caught up after an outage (no restart needed)."""
        if self._resolutions is None:
            from npc_engine.support.resolutions import Resolutions

            self._resolutions = Resolutions(self)
        return self._resolutions

    @property
    def support_turns(self) -> SupportTurns:
        if self._support is None:
            from npc_engine.support.turn import SupportTurns

            self._support = SupportTurns(self)
        return self._support

    @classmethod
    def from_settings(cls, settings: Settings, *, embed_threads: int | None = None) -> Engine:
        from npc_engine.backends import make_embedder, make_state_store, make_vector_store

        return cls(
            settings=settings,
            state=make_state_store(settings),
            embedder=make_embedder(settings, threads=embed_threads),
            vectors=make_vector_store(settings),
        )

    async def aclose(self) -> None:
        """:meth:`close`, after closing what only an event loop can close (the ``openai``
        backend's HTTP client, in the loop its connections belong to). The server's lifespan
        calls this."""
        model_aclose = getattr(self._chat_model, "aclose", None)
        if callable(model_aclose):
            try:
                await model_aclose()
            except Exception as exc:  # shutting down: log it, close the rest
                log.warning("engine.model_close_failed", error=f"{type(exc).__name__}: {exc}")
        self.close()

    def close(self) -> None:
        self.vectors.close()
        self.state.close()
        embedder_close = getattr(self.embedder, "close", None)
        if callable(embedder_close):
            embedder_close()
        closer = getattr(self._chat_model, "close", None)
        if callable(closer):
            closer()

    def _tenant(self, tenant: str | None) -> str:
        return tenant or self.settings.tenant

    def knowledge(self, tenant: str | None = None) -> KnowledgeBase:
        name = self._tenant(tenant)
        kb = self._kbs.get(name)
        if kb is None:
            kb = KnowledgeBase(tenant=name, embedder=self.embedder, vectors=self.vectors, catalog=self.state)
            self._kbs[name] = kb
        return kb

    # -- world ------------------------------------------------------------------------------
    async def ingest(
        self,
        root: Path,
        *,
        tenant: str | None = None,
        force: bool = False,
        progress: Progress | None = None,
    ) -> IngestResult:
        """Validate and index a world folder; unchanged files cost nothing.

        Everything is checked before anything is written: a bad persona or knowledge
        file leaves the stored world and index exactly as they were.
        """
        started = time.perf_counter()
        name = self._tenant(tenant)
        await self.state.ensure_tenant(name)
        digest = definition_digest(root)
        world_changed = force or (await self.state.world_digest(name)) != digest
        if world_changed:
            definition = load_world_definition(root)  # validates every persona before any write
            world, persona_count = definition.world, len(definition.personas)
        else:
            world = await self.world(name)
            persona_count = len(await self.state.list_personas(name))
        report = await ingest_world(
            self.knowledge(name),
            root,
            stages=world.relationship_stages,
            default_locale=world.default_locale,
            max_bytes=self.settings.max_file_bytes,
            chunk_tokens=self.settings.chunk_tokens,
            chunk_overlap=self.settings.chunk_overlap,
            batch_size=self.settings.embed_batch,
            reparse=world_changed,
            reembed=force,
            progress=progress,
        )
        if world_changed:
            await self.state.put_world(
                name,
                root=str(definition.root),
                digest=definition.digest,
                world=definition.world.model_dump(mode="json"),
                persona_docs=[p.model_dump(mode="json") for p in definition.personas.values()],
            )
        if self._turns is not None:  # this worker sees its own ingest at once
            self._turns.forget_versions(name)
        report = dataclasses.replace(report, seconds=time.perf_counter() - started)
        return IngestResult(report, persona_count, world_changed)

    async def world(self, tenant: str | None = None) -> World:
        data = await self.state.get_world(self._tenant(tenant))
        return World.model_validate(data) if data else World()

    async def persona(self, persona_id: str, tenant: str | None = None) -> NpcPersona | SupportPersona:
        data = await self.state.get_persona(self._tenant(tenant), persona_id)
        if data is None:
            known = [p["id"] for p in await self.state.list_personas(self._tenant(tenant))]
            hint = (
                f"known personas: {', '.join(known)}"
                if known
                else "ingest a world first (npc-engine ingest DIR)"
            )
            raise NotFoundError(f"no persona {persona_id!r} in tenant {self._tenant(tenant)!r}; {hint}")
        return _PERSONA.validate_python(data)

    # -- retrieval --------------------------------------------------------------------------
    async def search(
        self,
        query: str,
        *,
        persona_id: str,
        flags: Sequence[str] = (),
        stage: str | None = None,
        k: int | None = None,
        tenant: str | None = None,
        dedupe_sources: bool = True,
    ) -> list[SearchHit]:
        """What ``persona_id`` may draw on to answer ``query`` for a player with ``flags`` at ``stage``.

        An NPC searches the lore it may know; a support agent searches FAQ and tickets.
        """
        persona = await self.persona(persona_id, tenant)
        kb = self.knowledge(tenant)
        k = k or self.settings.search_k
        if isinstance(persona, SupportPersona):  # support knowledge is not gated by flags or stage
            kinds: tuple[Kind, ...] = ("faq", "ticket")
            return await kb.search(query, kinds=kinds, asker=None, k=k, dedupe_sources=dedupe_sources)
        world = await self.world(tenant)
        if stage is not None and stage not in world.relationship_stages:
            raise InvalidInputError(
                f"unknown stage {stage!r}; this world's stages are: {', '.join(world.relationship_stages)}"
            )
        asker = asker_for(persona, world, flags=flags, stage=stage)
        return await kb.search(query, kinds=("lore",), asker=asker, k=k, dedupe_sources=dedupe_sources)

    # -- NPC turns --------------------------------------------------------------------------
    async def npc_turn(
        self,
        persona_id: str,
        player: Player | str | dict[str, Any],
        text: str,
        *,
        locale: str | None = None,
        tenant: str | None = None,
        receipt: Callable[[NpcReply], Receipt] | None = None,
    ) -> NpcReply:
        """One NPC turn: the player says ``text``; the NPC replies (see :mod:`npc_engine.turn`).

        ``receipt`` renders the request's answer from the reply; it is committed with the turn
        (what makes an ``Idempotency-Key`` exactly-once even when a worker dies mid-request).
        """
        return await self.turns.run(persona_id, player, text, locale=locale, tenant=tenant, receipt=receipt)

    def stream_npc_turn(
        self,
        persona_id: str,
        player: Player | str | dict[str, Any],
        text: str,
        *,
        locale: str | None = None,
        tenant: str | None = None,
        receipt: Callable[[NpcReply], Receipt] | None = None,
    ) -> AsyncIterator[TurnDelta | NpcReply]:
        """Like :meth:`npc_turn`, yielding guarded text deltas and then the final :class:`NpcReply`."""
        return self.turns.stream(persona_id, player, text, locale=locale, tenant=tenant, receipt=receipt)

    async def npc_event(
        self,
        persona_id: str,
        player: Player | str | dict[str, Any],
        event: GameEventIn | str | dict[str, Any],
        *,
        tenant: str | None = None,
        receipt: Callable[[EventOutcome], Receipt] | None = None,
    ) -> EventOutcome:
        """A game event (``gift_received``, ``attacked``, ``quest_completed``, custom ...) for the NPC."""
        return await self.turns.event(persona_id, player, event, tenant=tenant, receipt=receipt)

    async def affect_state(
        self, persona_id: str, player_id: str, *, tenant: str | None = None, replayed: bool = False
    ) -> AffectState:
        """The NPC's stored emotion and relationship with the player (or rebuilt from the event log)."""
        return await self.turns.affect(persona_id, player_id, tenant=tenant, replayed=replayed)

    async def conversation(
        self,
        persona_id: str,
        player_id: str,
        *,
        limit: int = 50,
        before: int | None = None,
        tenant: str | None = None,
    ) -> ConversationView:
        """The NPC's conversation with the player: emotion, relationship, memories, a page of messages."""
        from npc_engine.turn.conversation import read_conversation

        return await read_conversation(self, persona_id, player_id, tenant=tenant, limit=limit, before=before)

    async def reset_conversation(self, persona_id: str, player_id: str, *, tenant: str | None = None) -> bool:
        """Forget everything the NPC keeps about the player; ``False`` when they had not talked."""
        from npc_engine.turn.conversation import reset_conversation

        return await reset_conversation(self, persona_id, player_id, tenant=tenant)

    # -- support ----------------------------------------------------------------------------
    async def support_turn(
        self,
        persona_id: str,
        player: Player | str | dict[str, Any],
        text: str,
        *,
        locale: str | None = None,
        tenant: str | None = None,
        receipt: Callable[[SupportReply], Receipt] | None = None,
    ) -> SupportReply:
        """One support turn: an answer with citations, or an escalation to staff (see :mod:`npc_engine.support.turn`).

        ``receipt`` renders the request's answer; it is committed with the exchange (see :meth:`npc_turn`).
        """
        return await self.support_turns.run(
            persona_id, player, text, locale=locale, tenant=tenant, receipt=receipt
        )

    def stream_support_turn(
        self,
        persona_id: str,
        player: Player | str | dict[str, Any],
        text: str,
        *,
        locale: str | None = None,
        tenant: str | None = None,
        receipt: Callable[[SupportReply], Receipt] | None = None,
    ) -> AsyncIterator[TurnDelta | SupportReply]:
        """Like :meth:`support_turn`, yielding the checked text sentence by sentence, then the reply."""
        return self.support_turns.stream(
            persona_id, player, text, locale=locale, tenant=tenant, receipt=receipt
        )
