"""Guards on what goes into a turn and what comes out of it."""

from npc_engine.guard.injection import InjectionReport, scan_injection
from npc_engine.guard.output import OutputGuard, Violation

__all__ = ["InjectionReport", "OutputGuard", "Violation", "scan_injection"]
