"""``npc-engine chat``: talk to an NPC from a terminal, or drive one from a script.

Interactive (stdin is a terminal, no ``--json``): the reply streams as the NPC speaks,
then a line with its emotion, relationship stage and actions. ``/event TYPE`` sends a
game event (``/event gift_received``), ``/quit`` leaves.

Scripted (``--json``, or stdin not a terminal): one line in, one JSON object out per line,
so ``echo "Hello" | npc-engine chat brannoc --player p1 --json`` prints one reply. A bad
line gets ``{"ok": false, "error": {...}}`` and the session goes on.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from npc_engine.errors import NpcEngineError

__all__ = ["chat"]


def _line_out(payload: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(payload, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def _status(reply: Any) -> str:
    emotion = f"{reply.emotion.label} {reply.emotion.intensity:.2f}"
    parts = [emotion, reply.relationship.stage + (" (changed)" if reply.relationship.stage_changed else "")]
    if reply.actions:
        parts.append("actions: " + ", ".join(f"{a.name}{json.dumps(a.args)}" for a in reply.actions))
    if getattr(reply, "fallback", False):
        parts.append(f"composer: {reply.fallback_reason}")
    if getattr(reply, "blocked", None):
        parts.append(reply.blocked)
    return "[" + " · ".join(parts) + "]"


async def _session(engine: Any, npc: str, player: Any, locale: str | None, as_json: bool) -> int:
    from npc_engine.turn.types import NpcReply, TurnDelta

    persona = await engine.persona(npc)  # fail fast on an unknown NPC, before reading input
    interactive = sys.stdin.isatty() and not as_json
    errors = 0
    while True:
        if interactive:
            sys.stdout.write("you> ")
            sys.stdout.flush()
        line = await asyncio.to_thread(sys.stdin.readline)
        if not line:
            break
        text = line.strip()
        if not text:
            continue
        if text in ("/quit", "/exit"):
            break
        try:
            if text.startswith("/event"):
                outcome = await engine.npc_event(npc, player, text.removeprefix("/event").strip() or "?")
                if as_json or not interactive:
                    _line_out({"ok": True, **outcome.model_dump(mode="json")})
                else:
                    state = "applied" if outcome.applied else f"ignored: {outcome.ignored_reason}"
                    sys.stdout.write(
                        f"  ({outcome.event} {state}) [{outcome.emotion.label} · "
                        f"{outcome.relationship.stage}]\n"
                    )
                continue
            if as_json or not interactive:
                reply = await engine.npc_turn(npc, player, text, locale=locale)
                if as_json:
                    _line_out({"ok": True, **reply.model_dump(mode="json")})
                else:
                    sys.stdout.write(f"{persona.name}: {reply.text}\n  {_status(reply)}\n")
                continue
            sys.stdout.write(f"{persona.name}: ")
            async for item in engine.stream_npc_turn(npc, player, text, locale=locale):
                if isinstance(item, TurnDelta):
                    if item.reset:
                        sys.stdout.write(f"\r\033[K{persona.name}: ")
                    sys.stdout.write(item.text)
                    sys.stdout.flush()
                elif isinstance(item, NpcReply):
                    sys.stdout.write(f"\n  {_status(item)}\n")
        except NpcEngineError as exc:
            errors += 1
            if as_json or not interactive:
                _line_out({"ok": False, "error": exc.to_dict()})
            else:
                sys.stdout.write(f"\nerror: {exc}\n")
    return errors


def chat(
    npc: Annotated[str, typer.Argument(help="The NPC's persona id, e.g. brannoc.")],
    player: Annotated[str, typer.Option("--player", help="The player's id (the NPC remembers them).")],
    flags: Annotated[str, typer.Option("--flags", help="The player's progress flags, comma-separated.")] = "",
    llm: Annotated[
        str | None, typer.Option("--llm", help="Chat model id (llamacpp, openai:URL#model, composer ...).")
    ] = None,
    locale: Annotated[
        str | None, typer.Option("--locale", help="Reply language, e.g. es; default: the message's.")
    ] = None,
    region: Annotated[
        str | None, typer.Option("--region", help="The player's region (ISO 3166-1, e.g. DE).")
    ] = None,
    age_rating: Annotated[
        int | None, typer.Option("--age-rating", min=0, max=21, help="The player's age band.")
    ] = None,
    name: Annotated[str | None, typer.Option("--name", help="The player's character name.")] = None,
    data_dir: Annotated[Path | None, typer.Option("--data-dir", help="Where state and vectors live.")] = None,
    tenant: Annotated[str | None, typer.Option("--tenant", help="Tenant (one game).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON reply per input line.")] = False,
) -> None:
    """Chat with NPC as player P: type lines; /event TYPE sends a game event; /quit ends."""
    from npc_engine.cli.main import _guard, _settings

    def body() -> None:
        from pydantic import ValidationError

        from npc_engine.engine import Engine
        from npc_engine.errors import InvalidInputError
        from npc_engine.turn.types import Player

        try:
            who = Player(
                id=player,
                name=name,
                region=region,
                age_rating=age_rating,
                flags=[f.strip() for f in flags.split(",") if f.strip()],
            )
        except ValidationError as exc:
            problem = exc.errors()[0]
            raise InvalidInputError(f"--{problem['loc'][0]}: {problem['msg']}") from None
        if not as_json:  # a person is reading: the status line says why the composer answered
            from npc_engine.logging import configure_logging

            configure_logging("ERROR")
        settings = _settings(data_dir, tenant, embed_threads=1, llm=llm)
        engine = Engine.from_settings(settings)
        try:
            errors = asyncio.run(_session(engine, npc, who, locale, as_json))
        finally:
            engine.close()
        if errors and not as_json:
            raise typer.Exit(1)

    _guard(as_json, body)
