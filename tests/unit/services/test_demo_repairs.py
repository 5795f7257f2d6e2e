"""The demo's two years of repairs and complaints show what the statistics are for: a few hundred orders in
every category, summer plumbing on the top floors, the leaking drain stack of 1栋2单元 room 03, repeat units,
late orders, reopenings, follow-ups, and complaints with return visits and one overdue."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from yuexiu_desk.domain.repairs import RepairCategory
from yuexiu_desk.services import complaints, workorders
from yuexiu_desk.storage.db import Store
from yuexiu_desk.storage.models import ChangeJournal
from yuexiu_desk.storage.repair_models import WorkOrder, WorkOrderEvent


def test_two_years_of_orders_with_seasons_hotspots_repeats_and_breaches(demo_store: Store) -> None:
    with demo_store.read() as session:
        stats = workorders.repair_statistics(session, date(2024, 11, 20), date(2026, 11, 20))
        first, last = session.execute(
            select(func.min(WorkOrder.reported_at), func.max(WorkOrder.reported_at))
        ).one()
        journaled = session.scalar(
            select(func.count()).select_from(ChangeJournal).where(ChangeJournal.table_name == "work_order")
        )
        events = session.scalar(select(func.count()).select_from(WorkOrderEvent))
        open_breaches = workorders.breaches(session, open_only=True)
    assert 300 <= stats.orders <= 600
    assert (last - first).days > 700
    assert {f.category for f in stats.by_category} == set(RepairCategory)
    assert stats.by_category[0].category is RepairCategory.PLUMBING
    seasons = dict(stats.by_season)
    assert seasons["夏"] > seasons["春"] and seasons["夏"] > seasons["冬"]
    stack = [u for u in stats.repeat_units if u.unit_code.startswith("1-2-") and u.unit_code.endswith("03")]
    assert len(stack) >= 5
    assert stats.response_breaches > 0 and stats.completion_breaches > 0
    assert stats.reopened_orders > 0 and stats.followed_up > stats.orders // 2
    assert 3.5 < (stats.avg_satisfaction or 0) < 5
    assert journaled == stats.orders and events > 3 * stats.orders
    assert any(b.row.urgency.value == "urgent" and b.completion for b in open_breaches)


def test_complaints_by_every_channel_with_return_visits_and_one_overdue(demo_store: Store) -> None:
    with demo_store.read() as session:
        rows = complaints.list_complaints(session)
    assert len(rows) >= 40
    assert len({r.channel for r in rows}) >= 5
    assert sum(1 for r in rows if r.satisfaction is not None) > len(rows) // 2
    assert rows[0].overdue and rows[0].replied_at is None
    assert any(r.complainant == "" for r in rows)  # anonymous suggestion-box slips
