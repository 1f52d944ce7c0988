"""What every resource shares: its backend, and how a turn's call is built."""

from __future__ import annotations

from typing import Any

from .._backend import AsyncBackend, SyncBackend
from .._request import Call, segment
from ..types import PlayerLike, player_of

__all__ = ["AsyncResource", "SyncResource", "player_body", "turn_call"]


class SyncResource:
    def __init__(self, backend: SyncBackend) -> None:
        self._backend = backend


class AsyncResource:
    def __init__(self, backend: AsyncBackend) -> None:
        self._backend = backend


def player_body(player: PlayerLike) -> dict[str, Any]:
    """The ``Player`` JSON of a :class:`~npc_engine_sdk.types.Player`, a dict, or a bare id."""
    return player_of(player).model_dump(exclude_none=True)


def turn_call(
    kind: str,
    persona_id: str,
    *,
    player: PlayerLike,
    text: str,
    locale: str | None,
    debug: bool,
    idempotency_key: str | None,
    stream: bool,
) -> Call:
    """``POST /v1/{kind}/{persona_id}/turns`` (kind: ``npcs`` or ``support``)."""
    who = player_body(player)
    body: dict[str, Any] = {"player": who, "text": text}
    if locale is not None:
        body["locale"] = locale
    if debug:
        body["debug"] = True
    if stream:
        body["stream"] = True
    return Call(
        op=f"{kind}.turn",
        method="POST",
        path=f"/v1/{kind}/{segment(persona_id)}/turns",
        args={"persona_id": persona_id, "player": who, "text": text, "locale": locale, "debug": debug},
        json=body,
        idempotent=True,
        idempotency_key=idempotency_key,
        stream=stream,
    )
