"""Conversations: messages, affect state and its event log, memories, turn leases.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _key() -> list[sa.Column]:
    return [
        sa.Column("tenant", sa.String(64), primary_key=True),
        sa.Column("persona_id", sa.String(120), primary_key=True),
        sa.Column("player_id", sa.String(200), primary_key=True),
    ]


def upgrade() -> None:
    op.create_table(
        "conversations",
        *_key(),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("started_at", sa.Float, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
        sa.Column("affect", sa.Text, nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("summarised_upto", sa.Integer, nullable=False),
        sa.Column("turns", sa.Integer, nullable=False),
        sa.Column("last_message_seq", sa.Integer, nullable=False),
        sa.Column("last_event_seq", sa.Integer, nullable=False),
    )
    op.create_table(
        "messages",
        *_key(),
        sa.Column("seq", sa.Integer, primary_key=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("meta", sa.Text, nullable=False),
        sa.Column("at", sa.Float, nullable=False),
    )
    op.create_table(
        "affect_events",
        *_key(),
        sa.Column("seq", sa.Integer, primary_key=True),
        sa.Column("event", sa.Text, nullable=False),
        sa.Column("changes", sa.Text, nullable=False),
    )
    op.create_table(
        "memories",
        *_key(),
        sa.Column("memory_id", sa.String(64), primary_key=True),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("key", sa.String(64), nullable=True),
        sa.Column("importance", sa.Float, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("last_used_at", sa.Float, nullable=False),
        sa.Column("vector", sa.LargeBinary, nullable=True),
    )
    op.create_table(
        "conversation_leases",
        *_key(),
        sa.Column("holder", sa.String(64), nullable=False),
        sa.Column("expires_at", sa.Float, nullable=False),
    )


def downgrade() -> None:
    for table in ("conversation_leases", "memories", "affect_events", "messages", "conversations"):
        op.drop_table(table)
