"""handovers

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 13:47:47.987499
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "handover",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("lease_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("rent_to_day_fen", sa.Integer(), nullable=False),
        sa.Column("damages_fen", sa.Integer(), nullable=False),
        sa.Column("unpaid_bills_fen", sa.Integer(), nullable=False),
        sa.Column("deposit_fen", sa.Integer(), nullable=False),
        sa.Column("balance_fen", sa.Integer(), nullable=False),
        sa.Column("operator", sa.String(length=50), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["lease_id"], ["lease.id"], name=op.f("fk_handover_lease_id_lease")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_handover")),
        sa.UniqueConstraint("lease_id", "kind", name=op.f("uq_handover_lease_id")),
    )
    with op.batch_alter_table("handover", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_handover_lease_id"), ["lease_id"], unique=False)

    op.create_table(
        "handover_damage",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("handover_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("amount_fen", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["handover_id"], ["handover.id"], name=op.f("fk_handover_damage_handover_id_handover")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_handover_damage")),
    )
    with op.batch_alter_table("handover_damage", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_handover_damage_handover_id"), ["handover_id"], unique=False)

    op.create_table(
        "handover_value",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("handover_id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("reading_hundredths", sa.Integer(), nullable=True),
        sa.Column("count", sa.Integer(), nullable=True),
        sa.Column("result", sa.String(length=20), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["handover_id"], ["handover.id"], name=op.f("fk_handover_value_handover_id_handover")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_handover_value")),
        sa.UniqueConstraint("handover_id", "key", name=op.f("uq_handover_value_handover_id")),
    )
    with op.batch_alter_table("handover_value", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_handover_value_handover_id"), ["handover_id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("handover_value", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_handover_value_handover_id"))

    op.drop_table("handover_value")
    with op.batch_alter_table("handover_damage", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_handover_damage_handover_id"))

    op.drop_table("handover_damage")
    with op.batch_alter_table("handover", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_handover_lease_id"))

    op.drop_table("handover")
