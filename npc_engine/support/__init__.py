"""Customer support: PII redaction before anything is embedded, indexed or logged."""

from npc_engine.support.pii import PiiKind, PiiMatch, PiiRedactor, Redaction, redact_processor

__all__ = ["PiiKind", "PiiMatch", "PiiRedactor", "Redaction", "redact_processor"]
