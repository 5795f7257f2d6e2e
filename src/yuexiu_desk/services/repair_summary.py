"""The daily summary of the work orders (repair_day_summary) that the repair statistics read.

Owns each order's share of it: services.workorders adds the share of a new order and moves an order's share
whenever one of its writes changes it, in the same transaction; rebuild_repair_summary recomputes the whole
table from the orders, for whatever inserts orders in bulk without the services (the demo builder, the
benchmark fixture).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import delete, text
from sqlalchemy.dialects.sqlite import insert
from sqlalchemy.orm import Session

from yuexiu_desk.clock import local_date
from yuexiu_desk.domain.repairs import OPEN_STATUSES, Urgency, WorkOrderStatus
from yuexiu_desk.storage.repair_models import RepairDaySummary, WorkOrder

URGENCIES = tuple(Urgency)
SCORES = range(1, 6)  # domain.repairs.check_satisfaction
# The summed columns of repair_day_summary, in the order of Share.figures.
SUMMED = (
    "orders",
    *(f"urgency_{u.value}" for u in URGENCIES),
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
    *(f"satisfaction_{score}" for score in SCORES),
)
_OPEN = frozenset(s.value for s in OPEN_STATUSES)
_MICROSECOND = timedelta(microseconds=1)

Key = tuple[date, str]  # (the station's day of reported_at, category)


@dataclass(frozen=True)
class Share:
    """What one order adds to its row of the summary."""

    key: Key
    figures: tuple[int, ...]  # one per SUMMED column


def share_of(order: WorkOrder) -> Share:
    reported = order.reported_at
    dispatched, completed = order.dispatched_at, order.completed_at
    score = order.satisfaction
    if score is not None and score not in SCORES:
        raise ValueError(f"work order {order.number} has a satisfaction of {score}, outside 1–5")
    if order.urgency not in {u.value for u in URGENCIES}:
        raise ValueError(f"work order {order.number} has an unknown urgency {order.urgency!r}")
    figures = (
        1,
        *(int(order.urgency == u.value) for u in URGENCIES),
        order.cost_fen,
        int(order.status in _OPEN),
        int(order.status == WorkOrderStatus.CLOSED.value),
        int(order.unit_id is None),
        int(order.reopen_count > 0),
        int(dispatched is not None),
        0 if dispatched is None else (dispatched - reported) // _MICROSECOND,
        int(completed is not None),
        0 if completed is None else (completed - reported) // _MICROSECOND,
        int(dispatched is not None and dispatched > order.response_due_at),
        int(completed is not None and completed > order.completion_due_at),
        *(int(score == s) for s in SCORES),
    )
    return Share((local_date(reported), order.category), figures)


def add_order(session: Session, order: WorkOrder) -> None:
    """Count a new order (after it has been flushed with its final intake fields)."""
    share = share_of(order)
    _add(session, share.key, share.figures)


@contextmanager
def tracked(session: Session, order: WorkOrder) -> Iterator[None]:
    """Around a change of an existing order: its share before the change is replaced by its share after.

    Nothing is written if the block raises (the unit of work rolls back anyway)."""
    before = share_of(order)
    yield
    after = share_of(order)
    if after == before:
        return
    if after.key == before.key:
        _add(session, after.key, tuple(a - b for a, b in zip(after.figures, before.figures, strict=True)))
        return
    _add(session, before.key, tuple(-n for n in before.figures))
    _add(session, after.key, after.figures)


def _add(session: Session, key: Key, figures: tuple[int, ...]) -> None:
    row = RepairDaySummary
    values = dict(zip(SUMMED, figures, strict=True))
    upsert = insert(row).values(reported_on=key[0], category=key[1], **values)
    session.execute(
        upsert.on_conflict_do_update(
            index_elements=["reported_on", "category"],
            set_={name: getattr(row, name) + upsert.excluded[name] for name in SUMMED},
        )
    )
    if values["orders"] < 0:
        # An order moved to another day or category: a row left without orders would otherwise show as a
        # category or month with nothing in it.
        session.execute(delete(row).where(row.reported_on == key[0], row.category == key[1], row.orders == 0))


def _microseconds(column: str) -> str:
    # A stored timestamp ("YYYY-MM-DD HH:MM:SS.ffffff", UTC) as whole microseconds since 1970, exactly what
    # share_of computes in Python. SQLite's date functions keep only milliseconds and round to them (so
    # strftime('%s') of "…:59.9996" gives the next second): the whole seconds are read without the fraction,
    # and the digits of the fraction are added as they are.
    return f"(CAST(strftime('%s', substr({column}, 1, 19)) AS INTEGER) * 1000000 + CAST(substr({column}, 21, 6) AS INTEGER))"


# The shares of all orders at once, grouped as share_of keys them (the station's day is UTC+8, as
# clock.STATION_TZ, and taken from the whole seconds for the same reason as in _microseconds: date() of
# "…23:59:59.9996" would give the next day). Migration 0011 holds its own frozen copy of this statement.
_REBUILD = f"""
INSERT INTO repair_day_summary (reported_on, category, {", ".join(SUMMED)})
SELECT
    date(substr(reported_at, 1, 19), '+8 hours'), category, count(*),
    {", ".join(f"sum(urgency = '{u.value}')" for u in URGENCIES)},
    coalesce(sum(cost_fen), 0),
    sum(status IN ({", ".join(f"'{s}'" for s in sorted(_OPEN))})),
    sum(status = '{WorkOrderStatus.CLOSED.value}'),
    sum(unit_id IS NULL),
    sum(reopen_count > 0),
    count(dispatched_at),
    coalesce(sum({_microseconds("dispatched_at")} - {_microseconds("reported_at")}), 0),
    count(completed_at),
    coalesce(sum({_microseconds("completed_at")} - {_microseconds("reported_at")}), 0),
    coalesce(sum(dispatched_at > response_due_at), 0),
    coalesce(sum(completed_at > completion_due_at), 0),
    {", ".join(f"coalesce(sum(satisfaction = {s}), 0)" for s in SCORES)}
FROM work_order
GROUP BY 1, 2
"""


def rebuild_repair_summary(session: Session) -> None:
    """Recompute repair_day_summary from work_order: call it after inserting orders without the services."""
    session.flush()
    session.execute(delete(RepairDaySummary))
    session.execute(text(_REBUILD))
