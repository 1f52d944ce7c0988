"""Running calls against an :class:`npc_engine.engine.Engine` in this process (no HTTP).

The in-process backends answer each :class:`~npc_engine_sdk._request.Call` with the JSON the
server would send (engine models through ``model_dump(mode="json")``, ticket records through
:func:`dataclasses.asdict`), so the resources parse both modes with the same models. Engine
errors become the SDK's typed errors, with the status the server would give them
(:func:`npc_engine.server.app.status_for`) and no request id.

The engine is async. :class:`AsyncInProcessBackend` awaits it on the caller's loop;
:class:`SyncInProcessBackend` runs a private event loop in a daemon thread and hands it each
coroutine (``close()`` stops it). There is no retrying (nothing travels over a network) and
idempotency keys are not remembered (there is no server-side store).

``npc_engine`` is imported only here, and only when a backend is built, so the SDK imports
without it.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import shutil
import tarfile
import threading
from collections.abc import AsyncGenerator, AsyncIterator, Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

from ._exceptions import NpcEngineError, make_api_error
from ._request import Call
from ._sse import ServerSentEvent

__all__ = ["IN_PROCESS_STAFF", "AsyncInProcessBackend", "SyncInProcessBackend"]

T = TypeVar("T")
IN_PROCESS_STAFF = "in-process"
"""The staff name ticket changes are recorded under when the call names none."""


def _record(value: Any) -> dict[str, Any]:
    """A ticket-desk record as the API shows it (the tenant is implied by the key)."""
    data = dataclasses.asdict(value)
    data.pop("tenant", None)
    return data


def _reply(value: Any, debug: bool) -> dict[str, Any]:
    data: dict[str, Any] = value.model_dump(mode="json")
    if not debug:
        data["debug"] = {}
    return data


@contextlib.contextmanager
def _engine_errors() -> Iterator[None]:
    """Raise engine errors (and invalid values) as the SDK's typed errors."""
    from pydantic import ValidationError

    from npc_engine.errors import NpcEngineError as EngineError
    from npc_engine.server.app import status_for

    try:
        yield
    except EngineError as exc:
        body = {"code": exc.code, "message": exc.message, "request_id": None}
        raise make_api_error(status_for(exc), body) from exc
    except ValidationError as exc:
        body = {"code": "invalid_request", "message": str(exc), "request_id": None}
        raise make_api_error(422, body) from exc


class AsyncInProcessBackend:
    def __init__(self, engine: Any, *, tenant: str | None = None) -> None:
        try:
            from npc_engine.engine import Engine
        except ImportError as exc:
            raise NpcEngineError(
                "the in-process mode runs an npc-engine Engine in this process; install it: pip install npc-engine"
            ) from exc
        if not isinstance(engine, Engine):
            raise TypeError(f"in_process() takes an npc_engine Engine, not {type(engine).__name__}")
        self.engine = engine
        self.tenant: str = tenant or engine.settings.tenant

    async def request(self, call: Call) -> Any:
        handler = getattr(self, "_" + call.op.replace(".", "_"), None)
        if handler is None:  # pragma: no cover - every resource call has a handler
            raise NotImplementedError(f"{call.op} has no in-process handler")
        with _engine_errors():
            return await handler(**call.args)

    async def stream(self, call: Call) -> AsyncGenerator[ServerSentEvent, None]:
        from npc_engine.turn.types import TurnDelta

        a = call.args
        run = self.engine.stream_npc_turn if call.op == "npcs.turn" else self.engine.stream_support_turn
        with _engine_errors():
            items = run(a["persona_id"], a["player"], a["text"], locale=a["locale"], tenant=self.tenant)
            async for item in items:
                if isinstance(item, TurnDelta):
                    yield ServerSentEvent("delta", item.model_dump_json())
                else:
                    yield ServerSentEvent("reply", json.dumps(_reply(item, a["debug"])))

    async def aclose(self) -> None:
        """Nothing to release: the caller owns the engine."""

    # -- NPCs -------------------------------------------------------------------------------
    async def _npcs_turn(
        self, persona_id: str, player: dict[str, Any], text: str, locale: str | None, debug: bool
    ) -> Any:
        reply = await self.engine.npc_turn(persona_id, player, text, locale=locale, tenant=self.tenant)
        return _reply(reply, debug)

    async def _npcs_event(self, persona_id: str, player: dict[str, Any], event: dict[str, Any]) -> Any:
        outcome = await self.engine.npc_event(persona_id, player, event, tenant=self.tenant)
        return outcome.model_dump(mode="json")

    async def _npcs_conversation(
        self, persona_id: str, player_id: str, limit: int, before: int | None
    ) -> Any:
        view = await self.engine.conversation(
            persona_id, player_id, limit=limit, before=before, tenant=self.tenant
        )
        return view.model_dump(mode="json")

    async def _npcs_reset(self, persona_id: str, player_id: str) -> None:
        await self.engine.reset_conversation(persona_id, player_id, tenant=self.tenant)

    # -- support ----------------------------------------------------------------------------
    async def _support_turn(
        self, persona_id: str, player: dict[str, Any], text: str, locale: str | None, debug: bool
    ) -> Any:
        reply = await self.engine.support_turn(persona_id, player, text, locale=locale, tenant=self.tenant)
        return _reply(reply, debug)

    async def _support_claim_replies(self, player_id: str, persona_id: str | None) -> Any:
        replies = await self.engine.desk.pending_replies(self.tenant, player_id, persona_id=persona_id)
        return {
            "replies": [
                {
                    "reply_id": r.reply_id,
                    "ticket_id": r.ticket_id,
                    "staff": r.staff,
                    "text": r.text,
                    "at": r.at,
                }
                for r in replies
            ]
        }

    # -- tickets ----------------------------------------------------------------------------
    async def _tickets_list(
        self, status: str | None, priority: str | None, category: str | None, limit: int, offset: int
    ) -> Any:
        from npc_engine.support.tickets import TicketFilter

        filt = TicketFilter(
            status=status,  # type: ignore[arg-type]  # the desk checks it
            priority=priority,
            category=category,
            limit=limit,
            offset=offset,
        )
        desk = self.engine.desk
        tickets = await desk.list(self.tenant, filt)
        total = await desk.count(self.tenant, filt)
        return {"tickets": [_record(t) for t in tickets], "total": total}

    async def _tickets_get(self, ticket_id: str) -> Any:
        return _record(await self.engine.desk.get(self.tenant, ticket_id, viewer=IN_PROCESS_STAFF))

    async def _tickets_events(self, ticket_id: str) -> Any:
        return {"events": [_record(e) for e in await self.engine.desk.events(self.tenant, ticket_id)]}

    async def _tickets_reply(self, ticket_id: str, text: str, staff: str | None) -> Any:
        reply = await self.engine.desk.reply(
            self.tenant, ticket_id, staff=staff or IN_PROCESS_STAFF, text=text
        )
        return _record(reply)

    async def _tickets_set_status(self, ticket_id: str, status: str, staff: str | None) -> Any:
        ticket = await self.engine.desk.set_status(
            self.tenant,
            ticket_id,
            staff=staff or IN_PROCESS_STAFF,
            status=status,  # type: ignore[arg-type]  # the desk checks it
        )
        return _record(ticket)

    async def _tickets_resolve(
        self, ticket_id: str, resolution: str, reply_to_player: bool, staff: str | None
    ) -> Any:
        ticket = await self.engine.desk.resolve(
            self.tenant,
            ticket_id,
            staff=staff or IN_PROCESS_STAFF,
            resolution=resolution,
            reply_to_player=reply_to_player,
        )
        return _record(ticket)

    # -- admin ------------------------------------------------------------------------------
    async def _personas_list(self) -> Any:
        docs = await self.engine.state.list_personas(self.tenant)
        summaries = [
            {"id": d["id"], "kind": d.get("kind", "npc"), "name": d.get("name") or d["id"]} for d in docs
        ]
        return {"personas": summaries}

    async def _personas_get(self, persona_id: str) -> Any:
        from npc_engine.errors import NotFoundError

        data = await self.engine.state.get_persona(self.tenant, persona_id)
        if data is None:
            raise NotFoundError(f"no persona {persona_id!r} in tenant {self.tenant!r}")
        return data

    async def _world_ingest(self, folder: Path | None, archive: bytes, force: bool) -> Any:
        if folder is None:  # bytes: unpacked where the server keeps this tenant's uploaded world
            folder = await asyncio.to_thread(
                _unpack, archive, self.engine.settings.data_dir / "worlds" / self.tenant
            )
        result = await self.engine.ingest(folder, tenant=self.tenant, force=force)
        return result.as_dict()


def _unpack(archive: bytes, target: Path) -> Path:
    """Replace ``target`` with the archive's files, as the server does; returns the world's root.

    The ``data`` filter refuses absolute paths, ``..``, links out of the folder and devices.
    The root is the folder holding ``world.yaml``: the archive's top or its single folder.
    """
    import io

    from npc_engine.errors import InvalidInputError

    staging = target.with_name(target.name + ".unpacking")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        with tarfile.open(fileobj=io.BytesIO(archive), mode="r:*") as tar:
            tar.extractall(staging, filter="data")
    except (tarfile.TarError, EOFError, OSError) as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise InvalidInputError(f"the world is not a readable .tar.gz ({exc})") from None
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    tops = [p for p in target.iterdir() if not p.name.startswith(".")]
    if not (target / "world.yaml").is_file() and len(tops) == 1 and (tops[0] / "world.yaml").is_file():
        return tops[0]
    return target


class _LoopThread:
    """A private event loop in a daemon thread; :meth:`run` blocks until a coroutine is done."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._serve, name="npc-engine-sdk-loop", daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_forever()
        finally:
            self.loop.run_until_complete(self.loop.shutdown_asyncgens())
            self.loop.run_until_complete(self.loop.shutdown_default_executor())
            self.loop.close()

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        if not self.running:
            coro.close()
            raise RuntimeError("this in-process client is closed")
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result()

    def stop(self) -> None:
        if self.running:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join()


async def _next(events: AsyncIterator[ServerSentEvent]) -> ServerSentEvent | None:
    try:
        return await anext(events)
    except StopAsyncIteration:
        return None


class SyncInProcessBackend:
    """:class:`AsyncInProcessBackend` behind blocking calls (a private loop thread runs it)."""

    def __init__(self, engine: Any, *, tenant: str | None = None) -> None:
        self._async = AsyncInProcessBackend(engine, tenant=tenant)
        self._loop = _LoopThread()

    @property
    def tenant(self) -> str:
        return self._async.tenant

    def request(self, call: Call) -> Any:
        return self._loop.run(self._async.request(call))

    def stream(self, call: Call) -> Iterator[ServerSentEvent]:
        events = self._async.stream(call)
        try:
            while (event := self._loop.run(_next(events))) is not None:
                yield event
        finally:
            if self._loop.running:
                self._loop.run(events.aclose())

    def close(self) -> None:
        self._loop.stop()
