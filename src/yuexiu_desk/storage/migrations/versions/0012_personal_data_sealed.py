"""personal data sealed at rest: key slots, sealed member and complainant columns, plain values set aside

ID numbers, phones, incomes and special-group flags leave their plain columns. A migration has no key to seal
them with (keys come from a password at sign-in), so the plain values wait in unsealed_value until the first
sign-in that holds the data key seals them (services.keys.seal_waiting_values) and deletes them.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-25 22:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_MEMBER_PLAIN = ("id_number", "phone", "annual_income_fen", "elderly_alone", "disabled", "mobility_impaired")


def upgrade() -> None:
    op.create_table(
        "key_slot",
        sa.Column("holder", sa.String(length=60), nullable=False),
        sa.Column("kdf", sa.String(length=20), nullable=False),
        sa.Column("salt", sa.LargeBinary(), nullable=False),
        sa.Column("parameters", sa.Text(), nullable=False),
        sa.Column("wrapped_key", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("holder", name=op.f("pk_key_slot")),
    )
    op.create_table(
        "unsealed_value",
        sa.Column("table_name", sa.String(length=40), nullable=False),
        sa.Column("row_id", sa.Uuid(), nullable=False),
        sa.Column("column_name", sa.String(length=40), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("table_name", "row_id", "column_name", name=op.f("pk_unsealed_value")),
    )
    for column in _MEMBER_PLAIN:
        op.execute(
            "INSERT INTO unsealed_value (table_name, row_id, column_name, value) "
            f"SELECT 'household_member', id, '{column}', {column} FROM household_member "
            f"WHERE {column} IS NOT NULL"
        )
    for column in ("old_value", "new_value"):
        op.execute(
            "INSERT INTO unsealed_value (table_name, row_id, column_name, value) "
            f"SELECT 'member_change', id, '{column}', {column} FROM member_change "
            "WHERE kind IN ('income', 'flags')"
        )
    op.execute("UPDATE member_change SET old_value = '', new_value = '' WHERE kind IN ('income', 'flags')")
    op.execute(
        "INSERT INTO unsealed_value (table_name, row_id, column_name, value) "
        "SELECT 'complaint', id, 'complainant_phone', complainant_phone FROM complaint "
        "WHERE complainant_phone != ''"
    )

    # ADD/DROP COLUMN rather than a rebuild: household_member and complaint are referenced by other tables,
    # and rebuilding a referenced table under foreign_keys=ON would fail. Until sealed, a row's values are
    # the empty blob the defaults give.
    op.drop_index("ix_household_member_id_number", table_name="household_member")
    empty = sa.text("X''")
    op.add_column(
        "household_member",
        sa.Column("id_number_sealed", sa.LargeBinary(), nullable=False, server_default=empty),
    )
    op.add_column(
        "household_member",
        sa.Column("id_number_index", sa.LargeBinary(), nullable=False, server_default=empty),
    )
    op.add_column("household_member", sa.Column("phone_sealed", sa.LargeBinary(), nullable=True))
    op.add_column(
        "household_member",
        sa.Column("profile_sealed", sa.LargeBinary(), nullable=False, server_default=empty),
    )
    for column in _MEMBER_PLAIN:
        op.execute(f"ALTER TABLE household_member DROP COLUMN {column}")
    op.create_index("ix_household_member_id_number_index", "household_member", ["id_number_index"])

    op.add_column("member_change", sa.Column("values_sealed", sa.LargeBinary(), nullable=True))
    op.add_column("complaint", sa.Column("complainant_phone_sealed", sa.LargeBinary(), nullable=True))
    op.execute("ALTER TABLE complaint DROP COLUMN complainant_phone")


def downgrade() -> None:
    # Sealed values open only with a key from a password or the recovery key, which a migration never has:
    # going back would lose every ID number and phone, so it is refused.
    raise NotImplementedError("personal data sealed by 0012 cannot be unsealed by a migration")
