"""households, members, rent standards, leases, reveal log

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 13:32:16.906357
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "household",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("rent_tier", sa.String(length=20), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("is_demo", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_household")),
    )
    op.create_table(
        "rent_standard",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tier", sa.String(length=20), nullable=False),
        sa.Column("rate_fen_per_m2", sa.Integer(), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("approval_doc", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rent_standard")),
        sa.UniqueConstraint("tier", "effective_from", name=op.f("uq_rent_standard_tier")),
    )
    op.create_table(
        "household_member",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("household_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("relation", sa.String(length=20), nullable=False),
        sa.Column("is_leaseholder", sa.Boolean(), nullable=False),
        sa.Column("sex", sa.String(length=10), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column("id_kind", sa.String(length=30), nullable=False),
        sa.Column("id_number", sa.String(length=18), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("employer", sa.String(length=100), nullable=False),
        sa.Column("annual_income_fen", sa.Integer(), nullable=True),
        sa.Column("elderly_alone", sa.Boolean(), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("mobility_impaired", sa.Boolean(), nullable=False),
        sa.Column("joined_on", sa.Date(), nullable=False),
        sa.Column("left_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["household_id"], ["household.id"], name=op.f("fk_household_member_household_id_household")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_household_member")),
    )
    with op.batch_alter_table("household_member", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_household_member_household_id"), ["household_id"], unique=False)
        batch_op.create_index("ix_household_member_id_number", ["id_number"], unique=False)

    op.create_table(
        "lease",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("lease_no", sa.String(length=30), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.Uuid(), nullable=False),
        sa.Column("unit_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("signed_on", sa.Date(), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("rent_tier", sa.String(length=20), nullable=False),
        sa.Column("rate_fen_per_m2", sa.Integer(), nullable=False),
        sa.Column("gross_area_hundredths", sa.Integer(), nullable=False),
        sa.Column("monthly_rent_fen", sa.Integer(), nullable=False),
        sa.Column("deposit_fen", sa.Integer(), nullable=False),
        sa.Column("term_override_reason", sa.Text(), nullable=False),
        sa.Column("filed_on", sa.Date(), nullable=True),
        sa.Column("filing_ref", sa.String(length=50), nullable=False),
        sa.Column("ended_on", sa.Date(), nullable=True),
        sa.Column("end_kind", sa.String(length=30), nullable=False),
        sa.Column("end_reason", sa.Text(), nullable=False),
        sa.Column("change_note", sa.Text(), nullable=False),
        sa.Column("operator", sa.String(length=50), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["household_id"], ["household.id"], name=op.f("fk_lease_household_id_household")
        ),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"], name=op.f("fk_lease_unit_id_unit")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lease")),
        sa.UniqueConstraint("lease_no", "version", name=op.f("uq_lease_lease_no")),
    )
    with op.batch_alter_table("lease", schema=None) as batch_op:
        batch_op.create_index("ix_lease_household_status", ["household_id", "status"], unique=False)
        batch_op.create_index("ix_lease_unit_status", ["unit_id", "status"], unique=False)

    op.create_table(
        "reveal_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("field", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("operator", sa.String(length=50), nullable=False),
        sa.Column("revealed_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"], ["household_member.id"], name=op.f("fk_reveal_log_member_id_household_member")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reveal_log")),
    )
    with op.batch_alter_table("reveal_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reveal_log_member_id"), ["member_id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("reveal_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reveal_log_member_id"))

    op.drop_table("reveal_log")
    with op.batch_alter_table("lease", schema=None) as batch_op:
        batch_op.drop_index("ix_lease_unit_status")
        batch_op.drop_index("ix_lease_household_status")

    op.drop_table("lease")
    with op.batch_alter_table("household_member", schema=None) as batch_op:
        batch_op.drop_index("ix_household_member_id_number")
        batch_op.drop_index(batch_op.f("ix_household_member_household_id"))

    op.drop_table("household_member")
    op.drop_table("rent_standard")
    op.drop_table("household")
