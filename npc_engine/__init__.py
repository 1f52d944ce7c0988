"""npc-engine: retrieval-augmented dialogue for in-game NPCs and support agents.

Importing this package does no work: build an :class:`npc_engine.engine.Engine` with
``Engine.from_settings(Settings())`` (or inject backends) when you need one.
"""

from npc_engine.errors import NpcEngineError

__version__ = "0.1.0"
__all__ = ["NpcEngineError", "__version__"]
