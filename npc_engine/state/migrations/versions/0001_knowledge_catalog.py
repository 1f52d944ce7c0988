"""Tenants, worlds, personas and the knowledge catalog.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tenants",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_table(
        "kb_sources",
        sa.Column("tenant", sa.String(64), primary_key=True),
        sa.Column("root", sa.String(1024), primary_key=True),
        sa.Column("rel", sa.String(1024), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_table(
        "kb_chunks",
        sa.Column("tenant", sa.String(64), primary_key=True),
        sa.Column("chunk_id", sa.String(300), primary_key=True),
        sa.Column("root", sa.String(1024), nullable=False),
        sa.Column("rel", sa.String(1024), nullable=False),
        sa.Column("source_id", sa.String(300), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("ordinal", sa.Integer, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("gate_id", sa.String(32), nullable=False),
        sa.Column("meta", sa.Text, nullable=False),
    )
    op.create_index("ix_kb_chunks_source_id", "kb_chunks", ["source_id"])
    op.create_table(
        "kb_gates",
        sa.Column("tenant", sa.String(64), primary_key=True),
        sa.Column("gate_id", sa.String(32), primary_key=True),
        sa.Column("profile", sa.Text, nullable=False),
    )
    op.create_table(
        "worlds",
        sa.Column("tenant", sa.String(64), primary_key=True),
        sa.Column("root", sa.String(1024), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("data", sa.Text, nullable=False),
    )
    op.create_table(
        "personas",
        sa.Column("tenant", sa.String(64), primary_key=True),
        sa.Column("persona_id", sa.String(120), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("source", sa.String(1024), nullable=False),
        sa.Column("data", sa.Text, nullable=False),
    )
    op.create_table(
        "kb_revisions",
        sa.Column("tenant", sa.String(64), primary_key=True),
        sa.Column("revision", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    for name in ("kb_revisions", "personas", "worlds", "kb_gates", "kb_chunks", "kb_sources", "tenants"):
        op.drop_table(name)
