"""SQLAlchemy tables of the state store (one metadata; migrations in ``migrations/``).

Every table's primary key starts with ``tenant``: no row exists outside a tenant. Three
tables are keyed otherwise but still name their tenant in every row: ``api_keys`` and
``staff_sessions`` (found by a secret's hash before the tenant is known) and ``staff_replies``
(a serial id, which keeps replies in order).
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    DateTime,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    func,
    text,
)

__all__ = [
    "affect_events",
    "api_keys",
    "conversation_leases",
    "conversations",
    "idempotency_keys",
    "kb_chunks",
    "kb_gates",
    "kb_revisions",
    "kb_sources",
    "memories",
    "messages",
    "metadata",
    "personas",
    "staff_replies",
    "staff_sessions",
    "tenants",
    "ticket_events",
    "tickets",
    "worlds",
]

metadata = MetaData()

tenants = Table(
    "tenants",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

kb_sources = Table(
    "kb_sources",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("root", String(1024), primary_key=True),
    Column("rel", String(1024), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("digest", String(64), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

kb_chunks = Table(
    "kb_chunks",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("chunk_id", String(300), primary_key=True),
    Column("root", String(1024), nullable=False),
    Column("rel", String(1024), nullable=False),
    Column("source_id", String(300), nullable=False, index=True),
    Column("kind", String(16), nullable=False),
    Column("ordinal", Integer, nullable=False),
    Column("title", Text, nullable=False),
    Column("text", Text, nullable=False),
    Column("gate_id", String(32), nullable=False),
    Column("meta", Text, nullable=False),
)

kb_gates = Table(
    "kb_gates",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("gate_id", String(32), primary_key=True),
    Column("profile", Text, nullable=False),
)

kb_revisions = Table(
    "kb_revisions",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("revision", Integer, nullable=False),
)

worlds = Table(
    "worlds",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("root", String(1024), nullable=False),
    Column("digest", String(64), nullable=False),
    Column("data", Text, nullable=False),
)

personas = Table(
    "personas",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("persona_id", String(120), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("source", String(1024), nullable=False),
    Column("data", Text, nullable=False),
)

# -- conversations (migration 0002) ------------------------------------------------------------
# One conversation per (tenant, persona, player): the NPC's ongoing relationship with that
# player. ``version`` is the optimistic-concurrency counter every turn commits against.
conversations = Table(
    "conversations",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("persona_id", String(120), primary_key=True),
    Column("player_id", String(200), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("started_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    Column("affect", Text, nullable=False),  # JSON (npc_engine.affect.state_to_json)
    Column("summary", Text, nullable=False),
    Column("summarised_upto", Integer, nullable=False),  # last message seq folded into the summary
    Column("turns", Integer, nullable=False),
    Column("last_message_seq", Integer, nullable=False),
    Column("last_event_seq", Integer, nullable=False),
    # the turn lease of an existing conversation (migration 0005; see ConversationSql.begin_turn)
    Column("lease_holder", String(64), nullable=True),
    Column("lease_expires", Float, nullable=True),
)

messages = Table(
    "messages",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("persona_id", String(120), primary_key=True),
    Column("player_id", String(200), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("role", String(16), nullable=False),  # player | npc
    Column("text", Text, nullable=False),
    Column("meta", Text, nullable=False),  # JSON: emotion, actions, citations, usage, fallback
    Column("at", Float, nullable=False),
)

affect_events = Table(
    "affect_events",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("persona_id", String(120), primary_key=True),
    Column("player_id", String(200), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("event", Text, nullable=False),  # JSON (npc_engine.affect.event_to_json)
    Column("changes", Text, nullable=False),  # JSON: what the step changed, for audits
)

memories = Table(
    "memories",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("persona_id", String(120), primary_key=True),
    Column("player_id", String(200), primary_key=True),
    Column("memory_id", String(64), primary_key=True),
    Column("text", Text, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("key", String(64), nullable=True),
    Column("importance", Float, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("last_used_at", Float, nullable=False),
    Column("vector", LargeBinary, nullable=True),  # float32, unit-normalised
)

# Who is running a turn on a conversation that has no row yet (its first turn; later turns
# lease the conversations row itself). A lease expires, so a crashed worker blocks nobody.
conversation_leases = Table(
    "conversation_leases",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("persona_id", String(120), primary_key=True),
    Column("player_id", String(200), primary_key=True),
    Column("holder", String(64), nullable=False),
    Column("expires_at", Float, nullable=False),
)

# -- support tickets and access (migration 0003) -----------------------------------------------
# ``version`` is the compare-and-set counter of staff changes; ``last_event_seq`` numbers the
# audit trail (views add events without changing the version). JSON columns are Text.
tickets = Table(
    "tickets",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("ticket_id", String(32), primary_key=True),
    Column("persona_id", String(120), nullable=False),
    Column("player_id", String(200), nullable=False),
    Column("locale", String(16), nullable=False),
    Column("status", String(24), nullable=False),  # open | waiting_on_player | resolved
    Column("category", String(120), nullable=False),
    Column("priority", String(16), nullable=False),  # low | normal | high | urgent
    Column("reason", String(40), nullable=False),
    Column("reason_detail", Text, nullable=False),
    Column("question_redacted", Text, nullable=False),
    Column("summary", Text, nullable=False),
    Column("suggested_reply", Text, nullable=False),
    Column("sources_tried", Text, nullable=False),  # JSON list
    Column("transcript", Text, nullable=False),  # JSON list, original text (staff only)
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    Column("resolved_at", Float, nullable=True),
    Column("resolution", Text, nullable=False),  # PII-redacted
    Column("resolved_by", String(200), nullable=False),
    Column("version", Integer, nullable=False),
    Column("last_event_seq", Integer, nullable=False),
    Index("ix_tickets_queue", "tenant", "status", "priority", "created_at"),
    Index("ix_tickets_player", "tenant", "persona_id", "player_id", "status"),
    # at most one unresolved ticket per player and persona (a second escalation joins it)
    Index(
        "ux_tickets_one_unresolved",
        "tenant",
        "persona_id",
        "player_id",
        unique=True,
        sqlite_where=text("status != 'resolved'"),
        postgresql_where=text("status != 'resolved'"),
    ),
)

ticket_events = Table(
    "ticket_events",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("ticket_id", String(32), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("at", Float, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("action", String(24), nullable=False),
    Column("detail", Text, nullable=False),  # JSON object, no raw PII
)

# Staff answers waiting for the game to pick them up (``delivered_at`` NULL until then).
staff_replies = Table(
    "staff_replies",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("tenant", String(64), nullable=False),
    Column("persona_id", String(120), nullable=False),
    Column("player_id", String(200), nullable=False),
    Column("ticket_id", String(32), nullable=False),
    Column("staff", String(200), nullable=False),
    Column("text", Text, nullable=False),
    Column("at", Float, nullable=False),
    Column("delivered_at", Float, nullable=True),
    Index("ix_staff_replies_pending", "tenant", "player_id", "delivered_at"),
)

# API keys: only the SHA-256 of the secret is stored (see ``npc_engine.auth``).
api_keys = Table(
    "api_keys",
    metadata,
    Column("key_id", String(32), primary_key=True),
    Column("tenant", String(64), nullable=False, index=True),
    Column("role", String(16), nullable=False),  # game | staff | admin
    Column("name", String(200), nullable=False),
    Column("secret_hash", String(64), nullable=False, unique=True),
    Column("created_at", Float, nullable=False),
    Column("revoked_at", Float, nullable=True),
)

# Staff console logins: only the SHA-256 of the session token is stored.
staff_sessions = Table(
    "staff_sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("key_id", String(32), nullable=False, index=True),
    Column("tenant", String(64), nullable=False),
    Column("staff", String(200), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
)

# -- idempotency (migration 0004) -----------------------------------------------------------------
# A request retried with the same ``Idempotency-Key`` gets the first answer (see
# ``npc_engine.state.idempotency_sql``). ``request_hash`` fingerprints the first request;
# ``status_code`` is NULL while it runs and ``locked_until`` lets another worker take over a
# request whose worker died.
idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("request_hash", String(64), nullable=False),
    Column("status_code", Integer, nullable=True),
    Column("response", Text, nullable=True),
    Column("created_at", Float, nullable=False),
    Column("locked_until", Float, nullable=False),
    Index("ix_idempotency_keys_created", "created_at"),
)
