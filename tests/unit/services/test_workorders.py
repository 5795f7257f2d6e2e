"""Work orders from intake to follow-up: every step timed and journaled, completion needs who and what and
who pays, a follow-up needs a completion and a satisfaction of 1–5, reopening counts, SLA breaches and the
statistics (categories, seasons, hotspots, repeat units, times, satisfaction)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from yuexiu_desk.clock import FixedClock
from yuexiu_desk.domain.access import system_operator
from yuexiu_desk.domain.repairs import EventKind, RepairCategory, Urgency, WorkOrderChannel, WorkOrderStatus
from yuexiu_desk.errors import UserError
from yuexiu_desk.services import workorders as svc
from yuexiu_desk.services.repair_summary import rebuild_repair_summary
from yuexiu_desk.storage.db import Store
from yuexiu_desk.storage.models import ChangeJournal
from yuexiu_desk.storage.repair_models import WorkOrder, WorkOrderEvent

OPERATOR = "周管家"


def _new(store: Store, **kwargs: Any) -> str:
    fields: dict[str, Any] = {
        "category": "plumbing",
        "description": "卫生间下水管漏水",
        "unit_code": "1-2-1603",
        "urgency": "urgent",
        "operator": OPERATOR,
    }
    fields.update(kwargs)
    with store.unit_of_work(system_operator(OPERATOR)) as session:
        return svc.create_work_order(session, **fields).number


def _complete(store: Store, number: str, clock: FixedClock) -> None:
    with store.unit_of_work(system_operator(OPERATOR)) as session:
        svc.dispatch(session, number, "王师傅", OPERATOR)
    clock.advance(timedelta(hours=1))
    with store.unit_of_work(system_operator(OPERATOR)) as session:
        svc.start(session, number, OPERATOR)
    clock.advance(timedelta(hours=2))
    with store.unit_of_work(system_operator(OPERATOR)) as session:
        svc.complete(
            session,
            number,
            labour="王师傅 2 工时",
            materials="更换角阀 1 个",
            cost_yuan="35.50",
            payer="station",
            operator=OPERATOR,
        )


def _counts(store: Store) -> tuple[int, int, int]:
    with store.read() as session:
        return (
            session.scalar(select(func.count()).select_from(WorkOrder)) or 0,
            session.scalar(select(func.count()).select_from(WorkOrderEvent)) or 0,
            session.scalar(select(func.count()).select_from(ChangeJournal)) or 0,
        )


def test_the_full_lifecycle_is_timed_step_by_step_and_journaled(demo_store: Store, clock: FixedClock) -> None:
    before = _counts(demo_store)
    number = _new(demo_store)
    _complete(demo_store, number, clock)
    clock.advance(timedelta(days=2))
    with demo_store.unit_of_work(system_operator(OPERATOR)) as session:
        row = svc.follow_up(session, number, 5, OPERATOR, comment="修得很及时")
        events = svc.work_order_events(session, number)
    assert row.status is WorkOrderStatus.CLOSED and row.satisfaction == 5
    assert [e.kind for e in events] == [
        EventKind.REPORT,
        EventKind.DISPATCH,
        EventKind.START,
        EventKind.COMPLETE,
        EventKind.FOLLOW_UP,
    ]
    assert [e.to_status for e in events][-1] is WorkOrderStatus.CLOSED
    times = [e.occurred_at for e in events]
    assert times == sorted(times) and times[-1] - times[0] == timedelta(days=2, hours=3)
    assert "35.50 元" in events[3].note and "服务站承担" in events[3].note
    orders, event_rows, journal = _counts(demo_store)
    # One order, five events, each write journaled (the order's inserts and updates, the events' inserts).
    assert (orders - before[0], event_rows - before[1]) == (1, 5)
    assert journal - before[2] >= 1 + 5 + 5
    assert row.number.startswith("YXY01-WX2026-")


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"labour": ""}, "维修人员及工时"),
        ({"labour": " "}, "维修人员及工时"),
        ({"materials": ""}, "所用材料或所做工作"),
        ({"payer": ""}, "费用由谁承担"),
        ({"payer": "房东"}, "没有“房东”这种费用承担方"),
        ({"cost_yuan": "abc"}, "维修费用“abc”不是数字"),
        ({"cost_yuan": "-5"}, "不能为负数"),
    ],
)
def test_completing_without_who_or_what_is_refused_and_nothing_is_saved(
    demo_store: Store, changes: dict[str, str], words: str
) -> None:
    number = _new(demo_store)
    with demo_store.unit_of_work(system_operator(OPERATOR)) as session:
        svc.dispatch(session, number, "王师傅", OPERATOR)
    before = _counts(demo_store)
    fields = {"labour": "王师傅 1 工时", "materials": "疏通", "cost_yuan": "0", "payer": "station"}
    fields.update(changes)
    with pytest.raises(UserError, match=words), demo_store.unit_of_work(system_operator(OPERATOR)) as session:
        svc.complete(session, number, operator=OPERATOR, **fields)
    assert _counts(demo_store) == before
    with demo_store.read() as session:
        assert svc.get_work_order(session, number).status is WorkOrderStatus.DISPATCHED


def test_a_follow_up_before_completion_and_a_satisfaction_outside_1_to_5_change_nothing(
    demo_store: Store, clock: FixedClock
) -> None:
    number = _new(demo_store)
    before = _counts(demo_store)
    with (
        pytest.raises(UserError, match="还未完工（已报修），完工后才能回访"),
        demo_store.unit_of_work() as session,
    ):
        svc.follow_up(session, number, 5, OPERATOR)
    assert _counts(demo_store) == before
    _complete(demo_store, number, clock)
    before = _counts(demo_store)
    for bad in (0, 6):
        with pytest.raises(UserError, match="1 到 5 之间"), demo_store.unit_of_work() as session:
            svc.follow_up(session, number, bad, OPERATOR)
    assert _counts(demo_store) == before
    with demo_store.read() as session:
        row = svc.get_work_order(session, number)
    assert row.status is WorkOrderStatus.COMPLETED and row.satisfaction is None


def test_not_fixed_at_the_follow_up_reopens_to_the_same_worker_and_counts(
    demo_store: Store, clock: FixedClock
) -> None:
    number = _new(demo_store)
    _complete(demo_store, number, clock)
    clock.advance(timedelta(days=1))
    with demo_store.unit_of_work(system_operator(OPERATOR)) as session:
        row = svc.follow_up(session, number, 2, OPERATOR, comment="还在漏", fixed=False)
    assert (row.status, row.reopen_count, row.assignee, row.completed_at) == (
        WorkOrderStatus.DISPATCHED,
        1,
        "王师傅",
        None,
    )
    clock.advance(timedelta(hours=3))
    with demo_store.unit_of_work(system_operator(OPERATOR)) as session:
        svc.complete(
            session,
            number,
            labour="王师傅 1 工时",
            materials="更换管段",
            cost_yuan="20",
            payer="contractor",
            operator=OPERATOR,
        )
        svc.follow_up(session, number, 4, OPERATOR)
        row = svc.reopen(session, number, "一周后又漏了", OPERATOR)
    assert row.reopen_count == 2 and row.status is WorkOrderStatus.DISPATCHED
    assert row.cost_fen == 3550 + 2000  # both visits were paid for
    with pytest.raises(UserError, match="还未完工（已派单），不能返修"), demo_store.unit_of_work() as session:
        svc.reopen(session, number, "又漏了", OPERATOR)


def test_a_public_area_order_needs_a_location_and_a_hazard_raises_an_inspection_order(
    demo_store: Store,
) -> None:
    with (
        pytest.raises(UserError, match="请填写报修的房号，或公共区域的位置"),
        demo_store.unit_of_work() as session,
    ):
        svc.create_work_order(session, category="elevator", description="电梯异响", operator=OPERATOR)
    with demo_store.unit_of_work(system_operator(OPERATOR)) as session:
        row = svc.create_work_order(
            session,
            category=RepairCategory.PUBLIC_AREA,
            description="井盖松动",
            location="1栋北侧道路",
            hazard_id="HZ-2026-0007",
            operator=OPERATOR,
        )
    assert (row.unit_code, row.location, row.channel, row.hazard_id) == (
        "",
        "1栋北侧道路",
        WorkOrderChannel.INSPECTION,
        "HZ-2026-0007",
    )
    assert row.as_json()["unit_code"] is None
    with pytest.raises(UserError, match="没有房号"), demo_store.unit_of_work() as session:
        svc.create_work_order(
            session, category="walls", description="渗水", unit_code="9-9-999", operator=OPERATOR
        )


def test_times_typed_for_earlier_steps_must_be_in_order_and_not_in_the_future(
    demo_store: Store, clock: FixedClock
) -> None:
    now = clock.now()
    number = _new(demo_store, reported_at=now - timedelta(hours=5))
    with pytest.raises(UserError, match="早于上一步"), demo_store.unit_of_work() as session:
        svc.dispatch(session, number, "王师傅", OPERATOR, at=now - timedelta(hours=6))
    with pytest.raises(UserError, match="晚于现在"), demo_store.unit_of_work() as session:
        svc.dispatch(session, number, "王师傅", OPERATOR, at=now + timedelta(hours=1))


def test_sla_breaches_count_late_responses_and_open_orders_past_their_target(
    demo_store: Store, clock: FixedClock
) -> None:
    now = clock.now()
    late = _new(demo_store, reported_at=now - timedelta(hours=30))  # urgent: 2 h / 24 h, not even dispatched
    on_time = _new(demo_store, reported_at=now - timedelta(hours=1))
    with demo_store.read() as session:
        found = {b.row.number: b for b in svc.breaches(session, open_only=True)}
    assert late in found and on_time not in found
    assert found[late].response and found[late].completion and found[late].overdue_hours == pytest.approx(6)


def _stats(store: Store, start: date, end: date) -> svc.RepairStatistics:
    with store.read() as session:
        return svc.repair_statistics(session, start, end)


def test_statistics_by_category_place_repeat_unit_time_and_satisfaction(
    empty_store_with_units: Callable[[], Store], clock: FixedClock
) -> None:
    store = empty_store_with_units()
    start = clock.now()
    # Two leaks in the same unit 20 days apart (a repeat), one electrical fault two floors down.
    first = _new(store, reported_at=start - timedelta(days=40))
    second = _new(store, reported_at=start - timedelta(days=20))
    third = _new(store, category="electrical", unit_code="1-2-1403", reported_at=start - timedelta(days=10))
    for number in (first, second, third):
        _complete(store, number, clock)
    with store.unit_of_work(system_operator(OPERATOR)) as session:
        svc.follow_up(session, first, 5, OPERATOR)
        svc.follow_up(session, second, 3, OPERATOR)
    stats = _stats(store, date(2026, 1, 1), date(2026, 12, 31))
    assert stats.orders == 3 and stats.cost_fen == 3 * 3550
    assert [(f.category, f.orders) for f in stats.by_category] == [
        (RepairCategory.PLUMBING, 2),
        (RepairCategory.ELECTRICAL, 1),
    ]
    assert [(p.place, p.orders, p.units) for p in stats.by_building] == [("1栋", 3, 2)]
    assert [(p.place, p.orders) for p in stats.by_entrance] == [("1栋2单元", 3)]
    assert stats.hotspot_floors[0].place == "1栋16层" and stats.hotspot_floors[0].orders == 2
    assert [(u.unit_code, u.orders, u.repeats) for u in stats.repeat_units] == [("1-2-1603", 2, 1)]
    assert stats.avg_satisfaction == pytest.approx(4.0) and stats.satisfaction_counts == {5: 1, 3: 1}
    assert dict(stats.by_season)["秋"] == 3 and sum(n for _m, n in stats.by_month) == 3
    assert stats.avg_response_hours is not None and stats.avg_completion_hours is not None
    assert _stats(store, date(2025, 1, 1), date(2025, 12, 31)).orders == 0
    with pytest.raises(UserError, match="早于开始日期"):
        _stats(store, date(2026, 2, 1), date(2026, 1, 1))


@pytest.fixture
def empty_store_with_units(demo_paths: Any, clock: FixedClock) -> Any:
    """The demo station with its repair history removed, so statistics are of this test's orders only."""
    stores: list[Store] = []

    def make() -> Store:
        store = Store.open(demo_paths, clock)
        stores.append(store)
        with store.unit_of_work(system_operator("测试")) as session:
            _wipe(session)
        return store

    yield make
    for store in stores:
        store.close()


def _wipe(session: Session) -> None:
    session.execute(WorkOrderEvent.__table__.delete())
    session.execute(WorkOrder.__table__.delete())
    # Deleting orders behind the services' back: bring the statistics' summary back in step with them.
    rebuild_repair_summary(session)


def test_listing_open_orders_newest_first(demo_store: Store) -> None:
    number = _new(demo_store, urgency=Urgency.PLANNED)
    with demo_store.read() as session:
        rows = svc.list_work_orders(session, open_only=True)
    assert rows[0].number == number
    assert all(r.status.value in {"reported", "dispatched", "in_progress"} for r in rows)
    assert set(rows[0].as_json()) >= {
        "id",
        "unit_code",
        "category",
        "urgency",
        "status",
        "reported_at",
        "completed_at",
    }
