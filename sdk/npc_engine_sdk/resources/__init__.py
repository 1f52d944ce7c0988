"""The API's resources; each has the same methods on the sync and the async client."""

from .npcs import AsyncNpcs, Npcs
from .personas import AsyncPersonas, Personas
from .support import AsyncSupport, Support
from .tickets import AsyncTickets, Tickets
from .world import AsyncWorld, World

__all__ = [
    "AsyncNpcs",
    "AsyncPersonas",
    "AsyncSupport",
    "AsyncTickets",
    "AsyncWorld",
    "Npcs",
    "Personas",
    "Support",
    "Tickets",
    "World",
]
