"""repair statistics: a daily summary of the work orders, and an index of the unfinished ones

repair_day_summary adds up the orders of each station day and category; the statistics read it
instead of every order. It is filled here from the orders a station already holds, so an upgraded station
shows the same figures as before.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-27 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# A stored timestamp ("YYYY-MM-DD HH:MM:SS.ffffff", UTC) as whole microseconds since 1970, exactly. SQLite's
# date functions round to milliseconds (strftime('%s') of "…:59.9996" gives the next second), so the whole
# seconds are read without the fraction and the fraction's digits added as they are.
def _microseconds(column: str) -> str:
    return f"(CAST(strftime('%s', substr({column}, 1, 19)) AS INTEGER) * 1000000 + CAST(substr({column}, 21, 6) AS INTEGER))"


# The summed columns of repair_day_summary, in table order.
FIGURES = (
    "orders",
    "urgency_urgent",
    "urgency_normal",
    "urgency_planned",
    "cost_fen",
    "open_orders",
    "closed_orders",
    "public_area_orders",
    "reopened_orders",
    "responded",
    "response_us",
    "completed",
    "completion_us",
    "response_breaches",
    "completion_breaches",
    "satisfaction_1",
    "satisfaction_2",
    "satisfaction_3",
    "satisfaction_4",
    "satisfaction_5",
)

# Frozen here rather than imported from the services, so this revision does the same on every later build.
# The station's day is UTC+8 (Asia/Shanghai has kept no summer time since 1991), taken from the whole seconds
# too: date() of "…23:59:59.9996" would give the next day.
BACKFILL = f"""
INSERT INTO repair_day_summary (reported_on, category, {", ".join(FIGURES)})
SELECT
    date(substr(reported_at, 1, 19), '+8 hours'), category, count(*),
    sum(urgency = 'urgent'), sum(urgency = 'normal'), sum(urgency = 'planned'),
    coalesce(sum(cost_fen), 0),
    sum(status IN ('reported', 'dispatched', 'in_progress')), sum(status = 'closed'), sum(unit_id IS NULL),
    sum(reopen_count > 0),
    count(dispatched_at), coalesce(sum({_microseconds("dispatched_at")} - {_microseconds("reported_at")}), 0),
    count(completed_at), coalesce(sum({_microseconds("completed_at")} - {_microseconds("reported_at")}), 0),
    coalesce(sum(dispatched_at > response_due_at), 0), coalesce(sum(completed_at > completion_due_at), 0),
    coalesce(sum(satisfaction = 1), 0), coalesce(sum(satisfaction = 2), 0), coalesce(sum(satisfaction = 3), 0),
    coalesce(sum(satisfaction = 4), 0), coalesce(sum(satisfaction = 5), 0)
FROM work_order
GROUP BY 1, 2
"""


def upgrade() -> None:
    op.create_table(
        "repair_day_summary",
        sa.Column("reported_on", sa.Date(), nullable=False),
        sa.Column("category", sa.String(length=20), nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in FIGURES),
        sa.PrimaryKeyConstraint("reported_on", "category", name=op.f("pk_repair_day_summary")),
    )
    with op.batch_alter_table("work_order", schema=None) as batch_op:
        batch_op.create_index(
            "ix_work_order_unfinished",
            ["reported_at", "response_due_at", "completion_due_at", "dispatched_at", "completed_at"],
            unique=False,
            sqlite_where=sa.text("dispatched_at IS NULL OR completed_at IS NULL"),
        )
    op.execute(BACKFILL)


def downgrade() -> None:
    with op.batch_alter_table("work_order", schema=None) as batch_op:
        batch_op.drop_index("ix_work_order_unfinished")
    op.drop_table("repair_day_summary")
