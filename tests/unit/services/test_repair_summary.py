"""The repair statistics read a daily summary of the work orders (services.repair_summary) that every write
keeps up to date; they must still say exactly what the orders themselves say.

Random sequences of desk work go through the services on a copy of the demo station: reports for units and
public areas (some just either side of a station midnight that starts a month, some at "…:59.9996", which
SQLite's date functions round up to the next second), dispatch and re-dispatch, start, completion, follow-up
visits that close or reopen, reopening, refused steps, and time passing (breaches of unfinished orders
depend on it). After every step the statistics of periods that begin and end at month ends are compared
with a recomputation from the work_order rows written out plainly here, for now and for a moment given,
and the summary kept step by step is compared with one rebuilt from the orders. The upgrade to 0011 fills
the summary so that an existing station's statistics are what they were.
"""

from __future__ import annotations

import importlib.util
import shutil
import tempfile
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from sqlalchemy import event as sa_event
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from yuexiu_desk.clock import FixedClock
from yuexiu_desk.domain.access import system_operator
from yuexiu_desk.domain.repairs import (
    DEFAULT_REPAIR_RULES,
    RepairCategory,
    Urgency,
    WorkOrderStatus,
)
from yuexiu_desk.errors import UserError
from yuexiu_desk.paths import StationPaths
from yuexiu_desk.services import workorders as svc
from yuexiu_desk.services.repair_summary import rebuild_repair_summary
from yuexiu_desk.storage import migrate
from yuexiu_desk.storage.db import Store, make_engine
from yuexiu_desk.storage.models import Unit
from yuexiu_desk.storage.repair_models import RepairDaySummary, WorkOrder

NOW = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)  # the demo station's clock (10:00 in Wuhan)
OPERATOR = "测试员"
BEIJING = timezone(timedelta(hours=8))
UNIT_CODES = ("1-2-1603", "1-2-1602", "1-2-1403", "1-1-803", "2-1-202")  # two on one floor, two buildings
PUBLIC_PLACE = "1栋2单元电梯厅"
_S = WorkOrderStatus
MICROSECOND = timedelta(microseconds=1)
# Station midnights that start November and October 2026, in UTC.
NOV_1 = datetime(2026, 10, 31, 16, 0, tzinfo=UTC)
OCT_1 = datetime(2026, 9, 30, 16, 0, tzinfo=UTC)
# Report times at the month edges: on the midnight, a microsecond either side, "23:59:59.9996" (which
# SQLite's date functions round to the next second), and a few hours either side.
EDGE_MOMENTS = tuple(
    edge + offset
    for edge in (NOV_1, OCT_1)
    for offset in (
        timedelta(0),
        -MICROSECOND,
        MICROSECOND,
        -400 * MICROSECOND,
        timedelta(hours=-3),
        timedelta(hours=3),
    )
)
# How long after an order's previous step the next one is recorded (never later than the clock).
STEP_DELAYS = (
    timedelta(0),
    MICROSECOND,
    timedelta(seconds=1, microseconds=400),
    timedelta(minutes=59),
    timedelta(hours=2, microseconds=1),
    timedelta(hours=25),
    timedelta(days=4),
    timedelta(days=400),  # i.e. now
)
# Both dates included; each begins or ends at one of the month edges above, or spans everything.
PERIODS = (
    (date(2024, 1, 1), date(2027, 12, 31)),
    (date(2026, 10, 1), date(2026, 10, 31)),
    (date(2026, 10, 31), date(2026, 11, 1)),
    (date(2026, 11, 1), date(2026, 12, 31)),
)


# ---- the statistics, recomputed plainly from the work_order rows ----------------------------------------


@dataclass(frozen=True)
class Order:
    unit_id: uuid.UUID | None
    unit_code: str
    building: int | None
    entrance: int | None
    floor: int | None
    category: str
    urgency: str
    status: str
    reported_at: datetime
    response_due_at: datetime
    completion_due_at: datetime
    dispatched_at: datetime | None
    completed_at: datetime | None
    cost_fen: int
    satisfaction: int | None
    reopen_count: int


def read_orders(session: Session) -> list[Order]:
    return [
        Order(
            o.unit_id,
            code or "",
            o.building_no,
            o.entrance,
            o.floor,
            o.category,
            o.urgency,
            o.status,
            o.reported_at,
            o.response_due_at,
            o.completion_due_at,
            o.dispatched_at,
            o.completed_at,
            o.cost_fen,
            o.satisfaction,
            o.reopen_count,
        )
        for o, code in session.execute(
            select(WorkOrder, Unit.code).outerjoin(Unit, Unit.id == WorkOrder.unit_id)
        )
    ]


def _season(month: int) -> str:
    return {12: "冬", 1: "冬", 2: "冬", 3: "春", 4: "春", 5: "春", 6: "夏", 7: "夏", 8: "夏"}.get(month, "秋")


def _mean_hours(spans: list[timedelta]) -> float | None:
    return sum(s.total_seconds() for s in spans) / len(spans) / 3600 if spans else None


def expected_statistics(orders: list[Order], start: date, end: date, at: datetime) -> svc.RepairStatistics:
    rules = DEFAULT_REPAIR_RULES
    low = datetime.combine(start, time.min, BEIJING)
    high = datetime.combine(end + timedelta(days=1), time.min, BEIJING)
    chosen = [o for o in orders if low <= o.reported_at < high]
    stats = svc.RepairStatistics(start, end)
    if not chosen:
        return stats
    stats.orders = len(chosen)
    stats.open_orders = sum(o.status in ("reported", "dispatched", "in_progress") for o in chosen)
    stats.closed_orders = sum(o.status == "closed" for o in chosen)
    stats.public_area_orders = sum(o.unit_id is None for o in chosen)
    stats.reopened_orders = sum(o.reopen_count > 0 for o in chosen)
    stats.cost_fen = sum(o.cost_fen for o in chosen)

    categories = list(RepairCategory)
    by_category = []
    for category in categories:
        mine = [o for o in chosen if o.category == category.value]
        if mine:
            scores = [o.satisfaction for o in mine if o.satisfaction is not None]
            by_category.append(
                svc.CategoryFigures(
                    category,
                    len(mine),
                    sum(o.cost_fen for o in mine),
                    sum(scores) / len(scores) if scores else None,
                )
            )
    stats.by_category = sorted(by_category, key=lambda f: (-f.orders, categories.index(f.category)))
    months = Counter(o.reported_at.astimezone(BEIJING).strftime("%Y-%m") for o in chosen)
    stats.by_month = sorted(months.items())
    seasons = Counter(_season(o.reported_at.astimezone(BEIJING).month) for o in chosen)
    stats.by_season = [(s, seasons[s]) for s in "春夏秋冬"]
    stats.by_urgency = [(u, sum(o.urgency == u.value for o in chosen)) for u in Urgency]

    buildings: dict[int, list[Order]] = defaultdict(list)
    entrances: dict[tuple[int, int | None], list[Order]] = defaultdict(list)
    floors: dict[tuple[int, int | None], list[Order]] = defaultdict(list)
    for o in chosen:
        if o.building is not None:
            buildings[o.building].append(o)
            entrances[(o.building, o.entrance)].append(o)
            floors[(o.building, o.floor)].append(o)

    def units(group: list[Order]) -> int:
        return len({o.unit_id for o in group if o.unit_id is not None})

    stats.by_building = [svc.PlaceFigures(f"{b}栋", len(g), units(g)) for b, g in sorted(buildings.items())]
    stats.by_entrance = [
        svc.PlaceFigures(f"{b}栋{e}单元", len(g), units(g)) for (b, e), g in sorted(entrances.items())
    ]
    busiest = sorted(floors.items(), key=lambda item: (-len(item[1]), item[0]))[: svc.HOTSPOT_FLOORS]
    stats.hotspot_floors = [svc.PlaceFigures(f"{b}栋{f}层", len(g), units(g)) for (b, f), g in busiest]

    per_unit: dict[uuid.UUID, list[Order]] = defaultdict(list)
    for o in chosen:
        if o.unit_id is not None:
            per_unit[o.unit_id].append(o)
    candidates = [(u, g) for u, g in per_unit.items() if len(g) >= rules.repeat_min_orders]
    top = sorted(candidates, key=lambda item: (-len(item[1]), item[0].hex))[: svc.REPEAT_UNITS]
    window = timedelta(days=rules.repeat_window_days)
    repeat_units = []
    for unit_id, group in top:
        everything = [o for o in orders if o.unit_id == unit_id]  # earlier orders may predate the period
        # The window is counted from the whole second (SQLite's datetime() drops the fraction).
        repeats = sum(
            any(
                (o.reported_at - window).replace(microsecond=0) <= e.reported_at < o.reported_at
                for e in everything
            )
            for o in group
        )
        present = {o.category for o in group}
        labels = "、".join(c.label for c in categories if c.value in present)
        repeat_units.append(svc.RepeatUnit(group[0].unit_code, len(group), repeats, labels))
    stats.repeat_units = sorted(repeat_units, key=lambda u: (-u.orders, -u.repeats, u.unit_code))

    stats.avg_response_hours = _mean_hours(
        [o.dispatched_at - o.reported_at for o in chosen if o.dispatched_at is not None]
    )
    stats.avg_completion_hours = _mean_hours(
        [o.completed_at - o.reported_at for o in chosen if o.completed_at is not None]
    )
    stats.response_breaches = sum((o.dispatched_at or at) > o.response_due_at for o in chosen)
    stats.completion_breaches = sum((o.completed_at or at) > o.completion_due_at for o in chosen)
    scores = [o.satisfaction for o in chosen if o.satisfaction is not None]
    stats.followed_up = len(scores)
    stats.avg_satisfaction = sum(scores) / len(scores) if scores else None
    stats.satisfaction_counts = dict(sorted(Counter(scores).items()))
    return stats


def assert_same_statistics(actual: svc.RepairStatistics, expected: svc.RepairStatistics) -> None:
    """Equal in every figure; the average times to within float rounding (the services add whole
    microseconds, the recomputation adds float seconds)."""
    for name in ("avg_response_hours", "avg_completion_hours"):
        mine, theirs = getattr(actual, name), getattr(expected, name)
        assert (mine is None) == (theirs is None), name
        assert theirs is None or mine == pytest.approx(theirs, rel=1e-10, abs=0), name
    cleared = {"avg_response_hours": None, "avg_completion_hours": None}
    assert replace(actual, **cleared) == replace(expected, **cleared)


def check_against_orders(store: Store, also_at: datetime | None = None) -> None:
    """Every period as of the clock's now, and (also_at) the widest one as of another moment."""
    asked: list[tuple[date, date, datetime | None]] = [(start, end, None) for start, end in PERIODS]
    if also_at is not None:
        asked.append((*PERIODS[0], also_at))
    with store.read() as session:
        orders = read_orders(session)
        for start, end, moment in asked:
            actual = svc.repair_statistics(session, start, end, now=moment)
            expected = expected_statistics(orders, start, end, moment or store.clock.now())
            assert_same_statistics(actual, expected)


def summary_rows(session: Session) -> list[tuple[Any, ...]]:
    return [tuple(row) for row in session.execute(select(RepairDaySummary.__table__).order_by(text("1, 2")))]


def check_summary_is_rebuilt_the_same(store: Store) -> None:
    """The rows kept step by step are the rows a rebuild from the orders gives (the rebuild is rolled back)."""
    with store.read() as session:
        kept = summary_rows(session)
        rebuild_repair_summary(session)
        rebuilt = summary_rows(session)
        session.rollback()
    assert kept == rebuilt


# ---- random desk work -----------------------------------------------------------------------------------


def open_copy(template: Path, clock: FixedClock) -> Store:
    """A throw-away copy of the demo station, without waiting for the disk at each commit."""
    target = Path(tempfile.mkdtemp(prefix="repairs-"))
    for name in ("station.sqlite3", "station.sqlite3-wal"):
        if (template / name).exists():
            shutil.copy2(template / name, target / name)
    store = Store.open(StationPaths(target), clock)
    sa_event.listen(store.engine, "connect", lambda dbapi, _record: dbapi.execute("PRAGMA synchronous=OFF"))
    store.engine.dispose()
    return store


class RepairMachine(RuleBasedStateMachine):
    def __init__(self, template: Path) -> None:
        super().__init__()
        self.clock = FixedClock(NOW)
        self.store = open_copy(template, self.clock)
        self.numbers: list[str] = []

    def teardown(self) -> None:
        self.store.close()
        shutil.rmtree(self.store.paths.root, ignore_errors=True)

    def act(self, action: Callable[[Session], Any]) -> Any:
        with self.store.unit_of_work(system_operator(OPERATOR)) as session:
            return action(session)

    def pick(self, data: st.DataObject, statuses: set[WorkOrderStatus]) -> tuple[str, datetime] | None:
        """One of this run's orders in one of statuses, with the time of its latest step."""
        with self.store.read() as session:
            found = [n for n in self.numbers if svc.get_work_order(session, n).status in statuses]
            if not found:
                return None
            number = data.draw(st.sampled_from(found))
            return number, svc.work_order_events(session, number)[-1].occurred_at

    def after(self, last: datetime, delay: timedelta) -> datetime:
        return min(last + delay, self.clock.now())

    @rule(
        unit=st.sampled_from((*UNIT_CODES, None)),
        category=st.sampled_from(list(RepairCategory)),
        urgency=st.sampled_from(list(Urgency)),
        edge=st.none() | st.sampled_from(EDGE_MOMENTS),
        seconds_ago=st.integers(min_value=0, max_value=120 * 86400),
        microsecond=st.integers(min_value=0, max_value=999_999),
    )
    def report(
        self,
        unit: str | None,
        category: RepairCategory,
        urgency: Urgency,
        edge: datetime | None,
        seconds_ago: int,
        microsecond: int,
    ) -> None:
        now = self.clock.now()
        when = edge if edge is not None else now - timedelta(seconds=seconds_ago, microseconds=microsecond)
        row = self.act(
            lambda s: svc.create_work_order(
                s,
                category=category,
                urgency=urgency,
                description="报修内容",
                unit_code=unit,
                location="" if unit else PUBLIC_PLACE,
                operator=OPERATOR,
                reported_at=min(when, now),
            )
        )
        self.numbers.append(row.number)

    @rule(data=st.data(), delay=st.sampled_from(STEP_DELAYS), contractor=st.booleans())
    def dispatch(self, data: st.DataObject, delay: timedelta, contractor: bool) -> None:
        found = self.pick(data, {_S.REPORTED, _S.DISPATCHED})  # a second dispatch re-assigns
        if found is not None:
            number, last = found
            who = "江城维修公司" if contractor else "王师傅"
            kind = "contractor" if contractor else "worker"
            self.act(lambda s: svc.dispatch(s, number, who, OPERATOR, kind, at=self.after(last, delay)))

    @rule(data=st.data(), delay=st.sampled_from(STEP_DELAYS))
    def start(self, data: st.DataObject, delay: timedelta) -> None:
        found = self.pick(data, {_S.DISPATCHED})
        if found is not None:
            number, last = found
            self.act(lambda s: svc.start(s, number, OPERATOR, at=self.after(last, delay)))

    @rule(
        data=st.data(),
        delay=st.sampled_from(STEP_DELAYS),
        cost=st.sampled_from(("0", "0.01", "35.50", "1200")),
    )
    def complete(self, data: st.DataObject, delay: timedelta, cost: str) -> None:
        found = self.pick(data, {_S.DISPATCHED, _S.IN_PROGRESS})
        if found is not None:
            number, last = found
            self.act(
                lambda s: svc.complete(
                    s,
                    number,
                    labour="王师傅 1 工时",
                    materials="更换角阀 1 个",
                    cost_yuan=cost,
                    payer="station",
                    operator=OPERATOR,
                    at=self.after(last, delay),
                )
            )

    @rule(
        data=st.data(),
        delay=st.sampled_from(STEP_DELAYS),
        score=st.integers(min_value=1, max_value=5),
        fixed=st.booleans(),
    )
    def follow_up(self, data: st.DataObject, delay: timedelta, score: int, fixed: bool) -> None:
        found = self.pick(data, {_S.COMPLETED})
        if found is not None:
            number, last = found
            self.act(
                lambda s: svc.follow_up(s, number, score, OPERATOR, fixed=fixed, at=self.after(last, delay))
            )

    @rule(data=st.data(), delay=st.sampled_from(STEP_DELAYS))
    def reopen(self, data: st.DataObject, delay: timedelta) -> None:
        found = self.pick(data, {_S.COMPLETED, _S.CLOSED})
        if found is not None:
            number, last = found
            self.act(lambda s: svc.reopen(s, number, "住户反映又坏了", OPERATOR, at=self.after(last, delay)))

    @rule(data=st.data())
    def refused(self, data: st.DataObject) -> None:
        """A follow-up with a satisfaction of 6 is refused whatever the order's state, and changes nothing."""
        found = self.pick(data, set(WorkOrderStatus))
        if found is not None:
            number, _last = found
            with pytest.raises(UserError):
                self.act(lambda s: svc.follow_up(s, number, 6, OPERATOR))

    @rule(
        hours=st.sampled_from((1, 5, 23, 30, 24 * 9)), microsecond=st.integers(min_value=0, max_value=999_999)
    )
    def time_passes(self, hours: int, microsecond: int) -> None:
        self.clock.advance(timedelta(hours=hours, microseconds=microsecond))

    @invariant()
    def statistics_are_what_the_orders_say(self) -> None:
        check_against_orders(self.store, also_at=NOV_1 + timedelta(days=2))
        check_summary_is_rebuilt_the_same(self.store)


def test_statistics_from_the_summary_match_the_orders_through_random_desk_work(
    _template_dirs: dict[str, Path],
) -> None:
    template = _template_dirs["demo"]
    run_state_machine_as_test(
        lambda: RepairMachine(template),
        settings=settings(
            max_examples=12,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )


# ---- the demo station and the upgrade -------------------------------------------------------------------


def test_the_demo_stations_summary_is_built_from_its_orders(demo_store: Store) -> None:
    """The demo inserts its two years of orders without the services, then rebuilds the summary."""
    with demo_store.read() as session:
        assert len(summary_rows(session)) > 300
    check_against_orders(demo_store)
    check_summary_is_rebuilt_the_same(demo_store)


def _desk_work(store: Store, clock: FixedClock) -> None:
    """Orders in every state through the services, some reported on either side of a month's first
    midnight, one dispatched at "…:59.9996" (which SQLite's own date functions round up)."""

    def act(action: Callable[[Session], Any]) -> Any:
        with store.unit_of_work(system_operator(OPERATOR)) as session:
            return action(session)

    def new(unit: str | None, category: str, urgency: str, at: datetime) -> str:
        row = act(
            lambda s: svc.create_work_order(
                s,
                category=category,
                urgency=urgency,
                description="报修内容",
                unit_code=unit,
                location="" if unit else PUBLIC_PLACE,
                operator=OPERATOR,
                reported_at=at,
            )
        )
        return str(row.number)

    def done(number: str, at: datetime, cost: str = "35.50") -> None:
        act(
            lambda s: svc.complete(
                s,
                number,
                labour="王师傅 1 工时",
                materials="疏通，无材料",
                cost_yuan=cost,
                payer="station",
                operator=OPERATOR,
                at=at,
            )
        )

    late = new("1-2-1603", "plumbing", "urgent", NOV_1 - 400 * MICROSECOND)
    act(
        lambda s: svc.dispatch(
            s, late, "王师傅", OPERATOR, at=NOV_1 + timedelta(hours=3, microseconds=999_600)
        )
    )
    done(late, NOV_1 + timedelta(days=2))
    act(lambda s: svc.follow_up(s, late, 2, OPERATOR, fixed=False, at=NOV_1 + timedelta(days=3)))
    done(late, NOV_1 + timedelta(days=4), "12")
    act(lambda s: svc.follow_up(s, late, 4, OPERATOR, at=NOV_1 + timedelta(days=5)))

    on_time = new("1-2-1602", "electrical", "normal", NOV_1)
    act(lambda s: svc.dispatch(s, on_time, "李师傅", OPERATOR, at=NOV_1 + timedelta(hours=1)))
    act(lambda s: svc.start(s, on_time, OPERATOR, at=NOV_1 + timedelta(hours=2)))
    done(on_time, NOV_1 + timedelta(hours=5))
    act(lambda s: svc.follow_up(s, on_time, 5, OPERATOR, at=NOV_1 + timedelta(days=1)))
    act(lambda s: svc.reopen(s, on_time, "一周后又跳闸", OPERATOR, at=NOV_1 + timedelta(days=8)))

    public = new(None, "elevator", "urgent", NOV_1 - MICROSECOND)
    act(
        lambda s: svc.dispatch(
            s, public, "江城电梯维保", OPERATOR, "contractor", at=NOV_1 + timedelta(hours=1)
        )
    )

    new("2-1-202", "walls", "planned", OCT_1 + timedelta(hours=3))  # never dispatched: late by now
    waiting = new("1-1-803", "doors_windows", "normal", clock.now() - timedelta(hours=2))
    act(lambda s: svc.dispatch(s, waiting, "王师傅", OPERATOR))
    done(waiting, clock.now(), "0")


def _all_statistics(store: Store) -> dict[tuple[date, date, datetime | None], svc.RepairStatistics]:
    with store.read() as session:
        return {
            (start, end, moment): svc.repair_statistics(session, start, end, now=moment)
            for start, end in PERIODS
            for moment in (None, NOV_1 + timedelta(days=1))
        }


def _migration(name: str) -> Any:
    path = Path(migrate.__file__).parent / "migrations" / "versions" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_upgrade_to_0011_fills_the_summary_with_what_the_services_would_have_kept(
    demo_paths: StationPaths, clock: FixedClock
) -> None:
    store = Store.open(demo_paths, clock)
    try:
        _desk_work(store, clock)
        check_against_orders(store, also_at=NOV_1 + timedelta(days=1))
        before = _all_statistics(store)
        with store.read() as session:
            kept = summary_rows(session)
    finally:
        store.close()
    # The work orders as a build before 0011 left them: the same orders, no summary table and no index. (The
    # station cannot be downgraded past 0012, which seals personal data, so 0011's own upgrade is run on it.)
    engine = make_engine(demo_paths.database)
    try:
        with engine.begin() as conn:
            conn.execute(text("DROP TABLE repair_day_summary"))
            conn.execute(text("DROP INDEX ix_work_order_unfinished"))
            tables = conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'table'")).scalars().all()
            assert "repair_day_summary" not in tables and "work_order" in tables
            with Operations.context(MigrationContext.configure(conn)):
                _migration("0011_repair_statistics").upgrade()  # fills the summary from the orders
    finally:
        engine.dispose()
    store = Store.open(demo_paths, clock)
    try:
        with store.read() as session:
            assert migrate.current_revision(session.connection()) == migrate.SCHEMA_HEAD
            assert summary_rows(session) == kept
        after = _all_statistics(store)
    finally:
        store.close()
    assert after == before
