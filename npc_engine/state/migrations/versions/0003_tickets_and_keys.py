"""Support tickets (with their audit trail and staff replies), API keys and staff sessions.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_UNRESOLVED = sa.text("status != 'resolved'")


def upgrade() -> None:
    op.create_table(
        "tickets",
        sa.Column("tenant", sa.String(64), primary_key=True),
        sa.Column("ticket_id", sa.String(32), primary_key=True),
        sa.Column("persona_id", sa.String(120), nullable=False),
        sa.Column("player_id", sa.String(200), nullable=False),
        sa.Column("locale", sa.String(16), nullable=False),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("category", sa.String(120), nullable=False),
        sa.Column("priority", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(40), nullable=False),
        sa.Column("reason_detail", sa.Text, nullable=False),
        sa.Column("question_redacted", sa.Text, nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("suggested_reply", sa.Text, nullable=False),
        sa.Column("sources_tried", sa.Text, nullable=False),
        sa.Column("transcript", sa.Text, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
        sa.Column("resolved_at", sa.Float, nullable=True),
        sa.Column("resolution", sa.Text, nullable=False),
        sa.Column("resolved_by", sa.String(200), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("last_event_seq", sa.Integer, nullable=False),
    )
    op.create_index("ix_tickets_queue", "tickets", ["tenant", "status", "priority", "created_at"])
    op.create_index("ix_tickets_player", "tickets", ["tenant", "persona_id", "player_id", "status"])
    op.create_index(
        "ux_tickets_one_unresolved",
        "tickets",
        ["tenant", "persona_id", "player_id"],
        unique=True,
        sqlite_where=_UNRESOLVED,
        postgresql_where=_UNRESOLVED,
    )
    op.create_table(
        "ticket_events",
        sa.Column("tenant", sa.String(64), primary_key=True),
        sa.Column("ticket_id", sa.String(32), primary_key=True),
        sa.Column("seq", sa.Integer, primary_key=True),
        sa.Column("at", sa.Float, nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("action", sa.String(24), nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
    )
    op.create_table(
        "staff_replies",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("persona_id", sa.String(120), nullable=False),
        sa.Column("player_id", sa.String(200), nullable=False),
        sa.Column("ticket_id", sa.String(32), nullable=False),
        sa.Column("staff", sa.String(200), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("at", sa.Float, nullable=False),
        sa.Column("delivered_at", sa.Float, nullable=True),
    )
    op.create_index("ix_staff_replies_pending", "staff_replies", ["tenant", "player_id", "delivered_at"])
    op.create_table(
        "api_keys",
        sa.Column("key_id", sa.String(32), primary_key=True),
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("secret_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("revoked_at", sa.Float, nullable=True),
    )
    op.create_index("ix_api_keys_tenant", "api_keys", ["tenant"])
    op.create_table(
        "staff_sessions",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("key_id", sa.String(32), nullable=False),
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("staff", sa.String(200), nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("expires_at", sa.Float, nullable=False),
    )
    op.create_index("ix_staff_sessions_key_id", "staff_sessions", ["key_id"])


def downgrade() -> None:
    for table in ("staff_sessions", "api_keys", "staff_replies", "ticket_events", "tickets"):
        op.drop_table(table)
