"""Guards on what goes into a turn and what comes out of it."""

from npc_engine.guard.output import OutputGuard, Violation

__all__ = ["OutputGuard", "Violation"]
