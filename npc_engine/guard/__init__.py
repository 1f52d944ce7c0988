"""Guards on what goes into a turn and what comes out of it."""

from npc_engine.guard.character import character_problems
from npc_engine.guard.injection import InjectionReport, scan_injection
from npc_engine.guard.output import OutputGuard, Violation
from npc_engine.guard.policy import PolicyGuard, PolicyHit

__all__ = [
    "InjectionReport",
    "OutputGuard",
    "PolicyGuard",
    "PolicyHit",
    "Violation",
    "character_problems",
    "scan_injection",
]
