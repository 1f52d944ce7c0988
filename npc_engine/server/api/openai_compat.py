"""OpenAI-compatible chat: ``POST /v1/chat/completions`` and ``GET /v1/models``.

Any OpenAI client talks to the key's tenant's personas: ``model`` is ``npc:<id>`` or
``support:<id>`` (``GET /v1/models`` lists them), ``user`` (or ``X-Player-Id``) the player::

    client = openai.OpenAI(base_url="https://npc.example.com/v1", api_key="npk_...")
    out = client.chat.completions.create(
        model="npc:brannoc",
        user="player-42",
        messages=[{"role": "user", "content": "Hello, smith!"}],
        extra_body={"npc": {"locale": "en", "region": "GB", "flags": ["met_brannoc"]}},
    )
    out.choices[0].message.content      # what Brannoc says
    out.model_extra["npc"]["emotion"]   # the extension: emotion, relationship, actions ...

:func:`create_chat_completion`'s docstring (the route's description in the OpenAPI spec) says
what is read, what is ignored, and how a stream treats a reset.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any, Literal

import structlog
from fastapi import APIRouter, Header, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ValidationError

from npc_engine.errors import InvalidInputError, NpcEngineError, UsageError
from npc_engine.server.api.common import metrics, timed
from npc_engine.server.api.openai_models import (
    MODEL_FORMS,
    AssistantMessage,
    ChatCompletion,
    ChatCompletionChunk,
    ChatCompletionRequest,
    ChatMessage,
    Choice,
    ChunkChoice,
    ChunkDelta,
    CompletionUsage,
    ModelCard,
    ModelList,
    NpcTurnMeta,
    PlayerContext,
    StreamError,
    StreamErrorDetail,
    SupportTurnMeta,
)
from npc_engine.server.deps import EngineDep, GameDep
from npc_engine.server.errors import ERROR_RESPONSES
from npc_engine.server.sse import SSE_HEADERS
from npc_engine.support.types import SupportReply
from npc_engine.turn.types import (
    NpcReply,
    Player,
    TurnDelta,
    player_words,
)
from personas.schema import SupportPersona

__all__ = ["ChatCompletion", "ChatCompletionChunk", "ChatCompletionRequest", "ModelList", "router"]

log = structlog.get_logger("npc_engine.server.openai")

router = APIRouter(tags=["openai"], responses=ERROR_RESPONSES)

_MODEL = re.compile(r"^(npc|support):(.+)$")
_MODEL_FORMS = MODEL_FORMS


def _inline_schema(model: type[BaseModel]) -> dict[str, Any]:
    """``model``'s JSON schema with its ``$defs`` inlined (for a media type that is not JSON)."""
    schema = model.model_json_schema()
    defs = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, list):
            return [resolve(item) for item in node]
        if not isinstance(node, dict):
            return node
        ref = node.get("$ref", "")
        return (
            resolve(defs[ref[8:]]) if ref.startswith("#/$defs/") else {k: resolve(v) for k, v in node.items()}
        )

    return {k: resolve(v) for k, v in schema.items()}


_ANSWER = {
    "description": 'A chat completion; with `stream`, `data: <chunk>` events and `data: [DONE]`, or a last `data: {"error": ...}`.',
    "content": {
        "text/event-stream": {
            "schema": {"oneOf": [_inline_schema(ChatCompletionChunk), _inline_schema(StreamError)]}
        }
    },
}


# -- routes -------------------------------------------------------------------------------------
@router.get(
    "/models",
    operation_id="list_models",
    summary="List the personas as OpenAI models",
    response_model=ModelList,
)
async def list_models(principal: GameDep, engine: EngineDep) -> ModelList:
    """The tenant's personas as OpenAI models named ``npc:<id>`` and ``support:<id>``.

    Example: ``{"object": "list", "data": [{"id": "npc:brannoc", "object": "model", "created": 0,
    "owned_by": "ironhold"}, {"id": "support:aria", ...}]}``.
    """
    personas = await engine.state.list_personas(principal.tenant)
    cards = [ModelCard(id=f"{p['kind']}:{p['id']}", owned_by=principal.tenant) for p in personas]
    return ModelList(data=cards)


@router.post(
    "/chat/completions",
    operation_id="create_chat_completion",
    summary="Talk to an NPC or a support agent (OpenAI-compatible)",
    response_model=ChatCompletion,
    responses={200: _ANSWER},
)
async def create_chat_completion(
    body: ChatCompletionRequest,
    request: Request,
    principal: GameDep,
    engine: EngineDep,
    x_player_id: Annotated[
        str | None, Header(alias="X-Player-Id", description="the player, without `user`")
    ] = None,
) -> ChatCompletion | StreamingResponse:
    """One turn: the last `user` message is what the player says; the answer is the persona's reply.

    Example body: `{"model": "npc:brannoc", "user": "player-42", "messages": [{"role": "user",
    "content": "Hello, smith."}], "npc": {"locale": "en", "flags": ["met_brannoc"]}}`.

    Only the **last** `user` message is read. The engine keeps the conversation itself (history,
    memories, emotion), so earlier messages and `system` prompts are ignored; so are `max_tokens`,
    `max_completion_tokens`, `temperature` and OpenAI's other options (the engine's settings
    govern). The extension field `npc` is the player's context (a `Player` without its id); the
    answer's `npc` field is the turn's metadata (NPC: emotion, relationship, actions, citations,
    fallback, turn; support: answered, escalated, reason, ticket_id, citations, staff_replies,
    confidence).

    With `"stream": true` the answer is `chat.completion.chunk` events as OpenAI sends them
    (`delta.role`, content deltas, `finish_reason: "stop"` with `npc`, the usage chunk if
    `stream_options.include_usage`, `data: [DONE]`). That protocol cannot take shown text back,
    and the client must end with exactly the reply's text: a support turn's deltas are final
    once released and are sent as they come, but an NPC turn's text may be reset until the reply
    is final (a retry after an invalid reply, the fallback after the stream guard cut a leak, a
    conflict retry), so it is held back and sent whole with the final reply
    (`POST /v1/npcs/{id}/turns` streams NPC deltas live, with resets). Errors found before the
    stream starts are ordinary JSON errors; one after it started is a last
    `data: {"error": {"message", "type", "code"}}` event.
    """
    kind, persona_id = _persona_of(body.model)
    player = _player(body.user, x_player_id, body.npc)
    text = _last_user_text(body.messages)
    tenant = principal.tenant
    player_words(text, limit=engine.settings.max_input_chars)  # checked before a stream starts ...
    persona = await engine.persona(persona_id, tenant)  # ... so these are ordinary HTTP errors
    if isinstance(persona, SupportPersona) != (kind == "support"):
        right = "support" if isinstance(persona, SupportPersona) else "npc"
        raise InvalidInputError(f"{persona_id!r} is a {right} persona: use model '{right}:{persona_id}'")

    def observe(reply: NpcReply | SupportReply) -> None:
        metrics(request).observe_turn(kind, tenant, reply)

    head = ChatCompletionChunk(
        id=f"chatcmpl-{uuid.uuid4().hex}", created=int(time.time()), model=body.model, choices=[]
    )
    if body.stream:
        items = (  # a generator: it starts when the response iterates it, in one task
            engine.stream_npc_turn(persona_id, player, text, tenant=tenant)
            if kind == "npc"
            else engine.stream_support_turn(persona_id, player, text, tenant=tenant)
        )
        usage = body.stream_options is not None and body.stream_options.include_usage
        events = _events(items, head, live=kind == "support", include_usage=usage, on_final=observe)
        return StreamingResponse(events, media_type="text/event-stream", headers=SSE_HEADERS)
    reply: NpcReply | SupportReply = await timed(
        request,
        engine.npc_turn(persona_id, player, text, tenant=tenant)
        if kind == "npc"
        else engine.support_turn(persona_id, player, text, tenant=tenant),
    )
    observe(reply)
    return ChatCompletion(
        id=head.id,
        created=head.created,
        model=head.model,
        choices=[Choice(message=AssistantMessage(content=reply.text))],
        usage=_usage(reply),
        npc=_meta(reply),
    )


# -- helpers ------------------------------------------------------------------------------------
def _persona_of(model: str) -> tuple[Literal["npc", "support"], str]:
    found = _MODEL.match(model.strip())
    if found is None:
        raise InvalidInputError(f"model {model!r} is not a persona; use {_MODEL_FORMS}")
    return ("npc" if found.group(1) == "npc" else "support"), found.group(2)


def _player(user: str | None, header: str | None, context: PlayerContext | None) -> Player:
    if user and header and user != header:
        raise InvalidInputError("`user` and the X-Player-Id header name different players; send one")
    if not (user or header):
        raise InvalidInputError("no player: send the player's id as `user` or in the X-Player-Id header")
    fields = context.model_dump(exclude_unset=True) if context else {}
    try:  # Player's rules are the ones that count
        return Player.model_validate({"id": user or header, **fields})
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'player'}: {e['msg']}" for e in exc.errors())
        raise InvalidInputError(
            f"the player is not valid ({problems}); its id is `user` or X-Player-Id, the rest `npc`"
        ) from None


def _last_user_text(messages: list[ChatMessage]) -> str:
    user = next((m for m in reversed(messages) if m.role == "user"), None)
    if user is None:
        raise InvalidInputError(
            "messages has no user message; the last one with role 'user' is what the player says"
        )
    if user.content is None or isinstance(user.content, str):
        return user.content or ""
    if any(part.type != "text" for part in user.content):
        raise InvalidInputError("the user message may hold only text parts (type 'text')")
    return "\n".join(part.text or "" for part in user.content)


def _usage(reply: NpcReply | SupportReply) -> CompletionUsage:
    prompt, completion = reply.usage.prompt_tokens, reply.usage.completion_tokens
    return CompletionUsage(
        prompt_tokens=prompt, completion_tokens=completion, total_tokens=prompt + completion
    )


def _meta(reply: NpcReply | SupportReply) -> NpcTurnMeta | SupportTurnMeta:
    meta = NpcTurnMeta if isinstance(reply, NpcReply) else SupportTurnMeta
    return meta.model_validate(reply, from_attributes=True)


async def _events(
    items: AsyncIterator[TurnDelta | NpcReply] | AsyncIterator[TurnDelta | SupportReply],
    head: ChatCompletionChunk,
    *,
    live: bool,
    include_usage: bool,
    on_final: Callable[[NpcReply | SupportReply], None],
) -> AsyncIterator[str]:
    """The SSE body. ``live``: send deltas as they come, else hold the text until the reply.

    A reset stops a live stream too: the client then gets the rest of the final text when what
    it was shown starts it, and an error event when not (never a wrong text).
    """

    def chunk(delta: ChunkDelta | None, finish: Literal["stop"] | None = None, **extra: Any) -> str:
        """A chunk (``delta=None``: with no choice, as the usage chunk is); ``extra``: usage, npc."""
        choices = [] if delta is None else [ChunkChoice(delta=delta, finish_reason=finish)]
        data = head.model_copy(update={"choices": choices, **extra})
        body = data.model_dump(mode="json", exclude={"usage", "npc"} - extra.keys())
        for choice in body["choices"]:  # a delta names only what it carries, as OpenAI's do
            choice["delta"] = {k: v for k, v in choice["delta"].items() if v is not None}
        return f"data: {json.dumps(body, ensure_ascii=False, separators=(',', ':'))}\n\n"

    yield chunk(ChunkDelta(role="assistant", content=""))
    sent, reply = "", None
    try:
        async for item in items:
            if not isinstance(item, TurnDelta):
                reply = item
            elif item.reset:
                live = False  # shown text cannot be taken back: the rest comes with the reply
            elif live and item.text:
                sent += item.text
                yield chunk(ChunkDelta(content=item.text))
        if reply is None or not reply.text.startswith(sent):
            raise RuntimeError("the reply's streamed text was reset after it was sent")
        on_final(reply)
    except Exception as exc:  # the status line is sent: the error is the last event
        yield _error_event(exc)
        return
    if reply.text[len(sent) :]:
        yield chunk(ChunkDelta(content=reply.text[len(sent) :]))
    yield chunk(ChunkDelta(), "stop", npc=_meta(reply))
    if include_usage:
        yield chunk(None, usage=_usage(reply))
    yield "data: [DONE]\n\n"


def _error_event(exc: Exception) -> str:
    """The OpenAI-style error event that ends a stream."""
    if isinstance(exc, NpcEngineError):
        log.warning("openai.stream_error", code=exc.code, error=exc.message)
        kind = "invalid_request_error" if isinstance(exc, UsageError) else "server_error"
        detail = StreamErrorDetail(message=exc.message, type=kind, code=exc.code)
    else:
        log.error("openai.stream_error", code="internal_error", exc_info=exc)
        message = "the turn failed on the server; the request id is in the server's logs"
        detail = StreamErrorDetail(message=message, type="server_error", code="internal_error")
    return f"data: {StreamError(error=detail).model_dump_json()}\n\n"
