"""lease versions take effect on a date; terminated leases carry a move-out deadline; move-out date kept

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("lease", schema=None) as batch_op:
        batch_op.add_column(sa.Column("effective_from", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("vacate_by", sa.Date(), nullable=True))
    # Every lease so far is its first version: its terms apply from its start.
    op.execute("UPDATE lease SET effective_from = start_date")
    with op.batch_alter_table("lease", schema=None) as batch_op:
        batch_op.alter_column("effective_from", existing_type=sa.Date(), nullable=False)
    with op.batch_alter_table("handover", schema=None) as batch_op:
        batch_op.add_column(sa.Column("move_out_date", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("handover", schema=None) as batch_op:
        batch_op.drop_column("move_out_date")
    with op.batch_alter_table("lease", schema=None) as batch_op:
        batch_op.drop_column("vacate_by")
        batch_op.drop_column("effective_from")
