"""The turn lease moves onto the conversation's row (the lease table stays for new conversations).

Taking the lease is then the same statement that reads the conversation's state, and the
commit that ends the turn clears it, so a turn on an existing conversation spends no
statement on its lease.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(sa.Column("lease_holder", sa.String(64), nullable=True))
        batch.add_column(sa.Column("lease_expires", sa.Float, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("lease_expires")
        batch.drop_column("lease_holder")
