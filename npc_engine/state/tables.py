"""SQLAlchemy tables of the state store (one metadata; migrations in ``migrations/``).

Every table's primary key starts with ``tenant``: no row exists outside a tenant.
"""

from __future__ import annotations

from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, Text, func

__all__ = [
    "kb_chunks",
    "kb_gates",
    "kb_revisions",
    "kb_sources",
    "metadata",
    "personas",
    "tenants",
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
