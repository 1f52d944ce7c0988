"""Python client for the npc-engine HTTP API: NPC turns, support, tickets, worlds.

::

    from npc_engine_sdk import NpcClient

    with NpcClient(api_key="npk_...") as client:
        reply = client.npcs.turn("brannoc", player="player-42", text="Hello, smith!")
        print(reply.text, reply.emotion.label)

See ``sdk/README.md`` for streaming, async, errors, retries and the in-process mode.
"""

from ._client import AsyncNpcClient, NpcClient
from ._exceptions import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    GatewayTimeoutError,
    InternalServerError,
    NotFoundError,
    NpcEngineError,
    PermissionDeniedError,
    RateLimitError,
    RequestTooLargeError,
    ServiceUnavailableError,
    UnprocessableEntityError,
)
from ._options import DEFAULT_BASE_URL, DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT
from ._streaming import AsyncTurnStream, TurnStream
from ._version import __version__
from .types import (
    Action,
    Citation,
    ConversationView,
    Emotion,
    EventOutcome,
    IngestResult,
    Memory,
    Message,
    NpcReply,
    PersonaSummary,
    Player,
    PlayerLike,
    Relationship,
    StaffReply,
    SupportReply,
    Ticket,
    TicketEvent,
    TicketPage,
    TurnDelta,
    Usage,
)

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_TIMEOUT",
    "APIConnectionError",
    "APIError",
    "APITimeoutError",
    "Action",
    "AsyncNpcClient",
    "AsyncTurnStream",
    "AuthenticationError",
    "BadRequestError",
    "Citation",
    "ConflictError",
    "ConversationView",
    "Emotion",
    "EventOutcome",
    "GatewayTimeoutError",
    "IngestResult",
    "InternalServerError",
    "Memory",
    "Message",
    "NotFoundError",
    "NpcClient",
    "NpcEngineError",
    "NpcReply",
    "PermissionDeniedError",
    "PersonaSummary",
    "Player",
    "PlayerLike",
    "RateLimitError",
    "Relationship",
    "RequestTooLargeError",
    "ServiceUnavailableError",
    "StaffReply",
    "SupportReply",
    "Ticket",
    "TicketEvent",
    "TicketPage",
    "TurnDelta",
    "TurnStream",
    "UnprocessableEntityError",
    "Usage",
    "__version__",
]
