"""The NPC turn, end to end (DESIGN.md, "NPC turn").

1. Load the persona, the player context and the conversation (serialised per
   conversation: an in-process lock, plus a compare-and-set commit across workers).
2. Guard the input: size limit, prompt-injection signals, content policy (a blocked
   input gets an in-character deflection from the composer, not an error).
3. Appraise the message: emotion and relationship move, deterministically, logged.
4. Retrieve lore this NPC may know for this player (gated before the query, re-checked
   after), lorebook keyword triggers, and this player's memories.
5. Build the prompt under the token budget, static parts first.
6. Generate (streaming when asked), constrained to the reply schema.
7. Validate (parse, allow-listed actions, output guard, policy, character); retry once;
   then the grounded composer answers, so the NPC never goes silent.
8. Persist the turn atomically; fold cut history into the summary.
9. Return the reply; log one ``turn.done`` event with per-stage timings.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import random
import time
import uuid
import weakref
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import structlog

from npc_engine.affect import (
    GameEvent,
    decay,
    event_from_json,
    event_to_json,
    initial_state,
    replay,
    stage_of,
    state_from_json,
    state_to_json,
    step,
)
from npc_engine.affect.state import AffectState
from npc_engine.errors import BackendError, ConflictError, InvalidInputError
from npc_engine.locale import detect_language, normalise_locale
from npc_engine.state.records import Conversation, ConversationKey, Receipt, TenantVersions, TurnWrite
from npc_engine.turn.attempt import HISTORY_LIMIT, TurnAttempt
from npc_engine.turn.resources import PersonaKit, TurnResources
from npc_engine.turn.types import (
    EmotionOut,
    EventOutcome,
    GameEventIn,
    NpcReply,
    Player,
    RelationshipOut,
    TurnDelta,
    player_words,
)
from personas.schema import NpcPersona

if TYPE_CHECKING:
    from npc_engine.engine import Engine

__all__ = ["MAX_CONFLICT_RETRIES", "VERSIONS_TTL_S", "NpcTurns", "emotion_out", "relationship_out"]

log = structlog.get_logger("npc_engine.turn")

MAX_CONFLICT_RETRIES = 4
VERSIONS_TTL_S = 1.0  # how stale a worker's view of another worker's ingest may be


LEASE_TTL_S = 15.0
"""A turn lease lapses this long after its last renewal (every third of it while the turn runs),
so a conversation whose worker died is free again within seconds, not after the longest turn."""


@dataclass(slots=True)
class _Lease:
    holder: str
    released: bool = False


def emotion_out(state: AffectState) -> EmotionOut:
    label, intensity = state.emotion.dominant()
    return EmotionOut(
        label=label,
        intensity=round(intensity, 4),
        vector={k: round(v, 4) for k, v in state.emotion.as_dict().items()},
    )


def relationship_out(
    state: AffectState, persona: NpcPersona, stages: list[str], before: str
) -> RelationshipOut:
    stage = stage_of(state.relationship, persona, stages)
    return RelationshipOut(
        stage=stage,
        axes={k: round(v, 4) for k, v in state.relationship.as_dict().items()},
        stage_changed=stage != before,
    )


class NpcTurns:
    """NPC turns and game events for one :class:`~npc_engine.engine.Engine`."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.resources = TurnResources()
        self._tenant_versions: dict[str, tuple[float, TenantVersions]] = {}
        self._locks: weakref.WeakValueDictionary[ConversationKey, asyncio.Lock] = (
            weakref.WeakValueDictionary()
        )

    def _lock(self, key: ConversationKey) -> asyncio.Lock:
        lock = self._locks.get(key)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[key] = lock
        return lock

    @contextlib.asynccontextmanager
    async def _serialised(
        self, key: ConversationKey, *, history_limit: int
    ) -> AsyncIterator[tuple[_Lease, Conversation]]:
        """Run one turn at a time per conversation: in this worker (a lock) and across workers (a lease).

        Yields the lease and the conversation, loaded in the same round trip as the lease
        was taken. A commit that names the lease's holder releases it in its own
        transaction (the caller then sets ``lease.released``); otherwise it is released here.
        """
        lease = _Lease(uuid.uuid4().hex)
        async with self._lock(key):
            conv = await self.acquire(key, lease, history_limit=history_limit)
            heartbeat = asyncio.create_task(self._renew(key, lease))
            try:
                yield lease, conv
            finally:
                heartbeat.cancel()
                if not lease.released:
                    await self.engine.state.release_lease(key, lease.holder)

    async def acquire(self, key: ConversationKey, lease: _Lease, *, history_limit: int) -> Conversation:
        """Take (or take again) the conversation's lease for ``lease.holder`` and load it, waiting while busy.

        A turn whose commit lost a race calls this again before it retries: a first turn that
        held the lease table while another first turn created the row must lease the row now,
        or its retry would run beside the next turns instead of before or after them.
        """
        wait_s = self.engine.settings.llm_timeout_s * 3 + 30  # two model tries and the composer, with room
        deadline = time.monotonic() + wait_s
        delay = 0.005
        while True:
            conv = await self.engine.state.begin_turn(
                key, lease.holder, now=time.time(), ttl_s=LEASE_TTL_S, history_limit=history_limit
            )
            if conv is not None:
                return conv
            if time.monotonic() > deadline:
                raise ConflictError(
                    f"conversation {key.persona_id}/{key.player_id} is busy with another turn; retry later"
                )
            await asyncio.sleep(delay * (1 + random.random()))
            delay = min(delay * 2, 0.2)

    async def _renew(self, key: ConversationKey, lease: _Lease) -> None:
        """Keep a long turn's lease alive; a worker that dies stops renewing and its lease lapses."""
        while not lease.released:
            await asyncio.sleep(LEASE_TTL_S / 3)
            if lease.released:
                return
            try:
                await self.engine.state.renew_lease(key, lease.holder, now=time.time(), ttl_s=LEASE_TTL_S)
            except BackendError as exc:  # the next renewal may work; the commit does not depend on it
                log.warning("turn.lease_renew_failed", error=str(exc), code=exc.code)

    async def _versions(self, tenant: str) -> TenantVersions:
        """The tenant's world digest and catalog revision, re-read at most every ``VERSIONS_TTL_S``.

        Another worker's ingest is seen within that time; this worker's own ingest clears
        the cache at once (:meth:`forget_versions`).
        """
        now = time.monotonic()
        cached = self._tenant_versions.get(tenant)
        if cached is not None and now - cached[0] < VERSIONS_TTL_S:
            return cached[1]
        versions = await self.engine.state.tenant_versions(tenant)
        self._tenant_versions[tenant] = (now, versions)
        return versions

    def forget_versions(self, tenant: str | None = None) -> None:
        if tenant is None:
            self._tenant_versions.clear()
        else:
            self._tenant_versions.pop(tenant, None)

    async def _kit(self, tenant: str, persona_id: str, digest: str | None = None) -> PersonaKit:
        """The persona's cached resources; ``digest`` is the world digest when the caller has read it."""
        if digest is None:
            digest = await self.engine.state.world_digest(tenant)
        digest = digest or ""
        cached = self.resources.cached_kit(tenant, digest, persona_id)
        if cached is not None:
            return cached
        persona = await self.engine.persona(persona_id, tenant)
        if not isinstance(persona, NpcPersona):
            raise InvalidInputError(
                f"{persona_id!r} is a support agent, not an NPC; use the support turn for it"
            )
        world = await self.engine.world(tenant)
        return self.resources.kit(tenant, digest, persona, world)

    def _locale(self, text: str, player: Player, locale: str | None, kit: PersonaKit) -> str:
        if locale:
            return normalise_locale(locale)
        fallback = (
            normalise_locale(player.locale) if player.locale else kit.world.default_locale.split("-")[0]
        )
        return detect_language(text, default=fallback)

    async def _embed(self, text: str) -> np.ndarray | None:
        try:
            return (await self.engine.embedder.embed([text], kind="query"))[0]
        except BackendError as exc:
            log.warning("turn.embed_failed", error=str(exc), code=exc.code)
            return None

    # -- turns ------------------------------------------------------------------------------
    async def run(
        self, persona_id: str, player: Player | str | dict[str, Any], text: str, **kw: Any
    ) -> NpcReply:
        reply: NpcReply | None = None
        async for item in self.stream(persona_id, player, text, streaming=False, **kw):
            if isinstance(item, NpcReply):
                reply = item
        assert reply is not None  # stream always ends with the reply or raises
        return reply

    async def stream(
        self,
        persona_id: str,
        player: Player | str | dict[str, Any],
        text: str,
        *,
        locale: str | None = None,
        tenant: str | None = None,
        streaming: bool = True,
        receipt: Callable[[NpcReply], Receipt] | None = None,
    ) -> AsyncIterator[TurnDelta | NpcReply]:
        """The turn's guarded text deltas, then its reply.

        ``receipt``: the reply is fixed before the commit, and ``receipt(reply)`` (the
        request's answer, for its idempotency key) is committed in the same transaction as
        the turn; that reply then has no ``persist`` timing.
        """
        started = time.perf_counter()
        who = Player.of(player)
        words = player_words(text, limit=self.engine.settings.max_input_chars)
        name = self.engine._tenant(tenant)
        # The query embedding is the turn's longest step: it runs on the embedder's thread
        # while the conversation loads and the input is guarded and appraised.
        vector_task = asyncio.create_task(self._embed(words))
        await asyncio.sleep(0)  # let it reach the embedder now, before this turn's own work
        try:
            versions = await self._versions(name)
            kit = await self._kit(name, persona_id, versions.world_digest)
            reply_locale = self._locale(words, who, locale, kit)
            key = ConversationKey(name, kit.persona.id, who.id)
            async with self._serialised(key, history_limit=HISTORY_LIMIT) as (lease, conv):
                load_ms = (time.perf_counter() - started) * 1000
                snapshot: Conversation | None = conv
                for attempt_no in range(MAX_CONFLICT_RETRIES):
                    attempt = TurnAttempt(
                        self,
                        kit,
                        who,
                        words,
                        reply_locale,
                        key,
                        vector_task,
                        streaming,
                        conversation=snapshot,
                        kb_revision=versions.kb_revision,
                    )
                    snapshot = None  # set again below when a conflict sends the turn round again
                    async for delta in attempt.run():
                        yield delta
                    commit_started = time.perf_counter()
                    write = attempt.write(lease.holder)
                    fixed: NpcReply | None = None
                    if receipt is not None:  # the answer is stored with the turn: fix it first
                        attempt.timings["load"] += load_ms
                        fixed = attempt.reply(
                            write.expected_version + 1, total_ms=(time.perf_counter() - started) * 1000
                        )
                        write = dataclasses.replace(write, receipt=receipt(fixed))
                    try:
                        version = await self.engine.state.commit_turn(write)
                    except ConflictError:
                        log.info("turn.conflict_retry", persona=key.persona_id, attempt=attempt_no + 1)
                        if fixed is not None:
                            attempt.timings["load"] -= load_ms
                        if attempt.streamed:
                            yield TurnDelta(text="", reset=True)
                        snapshot = await self.acquire(key, lease, history_limit=HISTORY_LIMIT)
                        continue
                    lease.released = True
                    if fixed is not None:
                        reply = fixed
                    else:
                        attempt.timings["load"] += load_ms
                        attempt.timings["persist"] = (time.perf_counter() - commit_started) * 1000
                        reply = attempt.reply(version, total_ms=(time.perf_counter() - started) * 1000)
                    log.info(
                        "turn.done",
                        tenant=name,
                        persona=key.persona_id,
                        turn=reply.turn,
                        fallback=reply.fallback,
                        fallback_reason=reply.fallback_reason,
                        blocked=reply.blocked,
                        timings_ms=reply.timings_ms,
                        prompt_tokens=reply.usage.prompt_tokens,
                        completion_tokens=reply.usage.completion_tokens,
                    )
                    yield reply
                    return
        finally:
            if not vector_task.done():
                vector_task.cancel()
        raise ConflictError(
            f"conversation {key.persona_id}/{key.player_id} kept changing under this turn "
            f"({MAX_CONFLICT_RETRIES} tries); retry the request"
        )

    # -- game events ------------------------------------------------------------------------
    async def event(
        self,
        persona_id: str,
        player: Player | str | dict[str, Any],
        event: GameEventIn | str | dict[str, Any],
        *,
        tenant: str | None = None,
        receipt: Callable[[EventOutcome], Receipt] | None = None,
    ) -> EventOutcome:
        """Apply a game event (``gift_received``, ``attacked`` ...) to the NPC's feelings about the player.

        ``receipt(outcome)`` is committed with the event (see :meth:`stream`).
        """
        who = Player.of(player)
        happened = (
            event
            if isinstance(event, GameEventIn)
            else GameEventIn(type=event)
            if isinstance(event, str)
            else GameEventIn.model_validate(event)
        )
        name = self.engine._tenant(tenant)
        kit = await self._kit(name, persona_id)
        persona, stages = kit.persona, kit.world.relationship_stages
        key = ConversationKey(name, persona.id, who.id)
        half_life = self.engine.settings.affect_half_life_s
        async with self._serialised(key, history_limit=0) as (lease, first):
            loaded: Conversation | None = first
            for _ in range(MAX_CONFLICT_RETRIES):
                conv = loaded or await self.acquire(key, lease, history_limit=0)
                loaded = None
                now = self.engine.clock()
                before = state_from_json(conv.affect) if conv.affect else initial_state(persona, now)
                game_event = GameEvent(type=happened.type, at=now, magnitude=happened.magnitude)
                result = step(before, game_event, persona, stages, half_life_s=half_life)
                ignored = result.changes.get("ignored")
                shown = decay(result.state, persona, now, half_life_s=half_life)
                outcome = EventOutcome(
                    persona_id=persona.id,
                    player_id=who.id,
                    event=happened.type,
                    applied=ignored is None,
                    ignored_reason=ignored,
                    emotion=emotion_out(shown),
                    relationship=relationship_out(shown, persona, stages, result.stage_before),
                )
                if ignored is None:
                    write = TurnWrite(
                        key=key,
                        expected_version=conv.version,
                        started_at=conv.started_at if conv.started_at is not None else now,
                        at=now,
                        affect=state_to_json(result.state),
                        summary=conv.summary,
                        summarised_upto=conv.summarised_upto,
                        turns_added=0,
                        events=[(event_to_json(game_event), result.changes)],
                        lease_holder=lease.holder,
                        receipt=receipt(outcome) if receipt is not None else None,
                    )
                    try:
                        await self.engine.state.commit_turn(write)
                    except ConflictError:
                        continue
                    lease.released = True
                else:
                    log.info(
                        "turn.event_ignored", persona=persona.id, event_type=happened.type, reason=ignored
                    )
                return outcome
        raise ConflictError(f"conversation {key.persona_id}/{key.player_id} kept changing; retry the event")

    async def affect(
        self, persona_id: str, player_id: str, *, tenant: str | None = None, replayed: bool = False
    ) -> AffectState:
        """The stored emotion/relationship state, or (``replayed``) the one rebuilt from the event log."""
        name = self.engine._tenant(tenant)
        kit = await self._kit(name, persona_id)
        key = ConversationKey(name, kit.persona.id, player_id)
        conv = await self.engine.state.load_conversation(key, history_limit=0)
        if conv.affect is None or conv.started_at is None:
            raise InvalidInputError(f"{persona_id!r} has not met player {player_id!r} yet")
        if not replayed:
            return state_from_json(conv.affect)
        events = [event_from_json(e) for e in await self.engine.state.affect_log(key)]
        return replay(
            kit.persona,
            kit.world.relationship_stages,
            events,
            start=initial_state(kit.persona, conv.started_at),
            half_life_s=self.engine.settings.affect_half_life_s,
        )
