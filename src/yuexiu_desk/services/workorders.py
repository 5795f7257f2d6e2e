"""Repair work orders (维修台账): intake, dispatch, repair, completion, follow-up visit (回访), reopening,
SLA breaches and the statistics of the bid's data-driven improvement.

Lifecycle: reported → dispatched → in progress → completed → (follow-up) closed; a follow-up that finds the
repair not done, or a later complaint, reopens the order back to dispatched and counts it. Every step is a
WorkOrderEvent with its time, who did it and a note. Response and completion targets come from RepairRules
(settings, [U] defaults) and are fixed on the order at intake.

create_work_order is also how an inspection hazard raises its work order (hazard_id=…). Every write that
changes an order also moves its share of the statistics' daily summary (services.repair_summary) in the
same transaction; code that writes orders any other way must call rebuild_repair_summary.
"""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Select, String, case, exists, func, literal_column, select
from sqlalchemy.orm import Session, aliased

from yuexiu_desk.clock import STATION_TZ, local_date, local_text
from yuexiu_desk.domain.money import yuan_to_fen
from yuexiu_desk.domain.repairs import (
    DEFAULT_REPAIR_RULES,
    OPEN_STATUSES,
    AssigneeKind,
    EventKind,
    Payer,
    RepairCategory,
    RepairRules,
    Urgency,
    WorkOrderChannel,
    WorkOrderStatus,
    check_satisfaction,
    check_transition,
    parse_assignee_kind,
    parse_category,
    parse_channel,
    parse_payer,
    parse_urgency,
    season_of,
)
from yuexiu_desk.errors import UserError
from yuexiu_desk.services import repair_summary
from yuexiu_desk.services.access import require
from yuexiu_desk.services.units import find_unit_id_by_code
from yuexiu_desk.storage.db import require_station
from yuexiu_desk.storage.models import Unit
from yuexiu_desk.storage.repair_models import RepairDaySummary, WorkOrder, WorkOrderEvent

MIN_TEXT = 2
# A time typed for a step done earlier (a dispatch by phone an hour ago) may be a little ahead of the PC's
# clock, never more.
CLOCK_SLACK = timedelta(minutes=5)
_S = WorkOrderStatus


# ---- views ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WorkOrderRow:
    id: uuid.UUID
    number: str
    unit_code: str  # "" for a public area
    location: str
    channel: WorkOrderChannel
    category: RepairCategory
    urgency: Urgency
    status: WorkOrderStatus
    description: str
    assignee: str
    reported_at: datetime
    response_due_at: datetime
    completion_due_at: datetime
    dispatched_at: datetime | None
    completed_at: datetime | None
    cost_fen: int
    payer: str
    satisfaction: int | None
    reopen_count: int
    hazard_id: str | None
    photos: tuple[str, ...] = ()  # file names relative to the station folder

    @property
    def place(self) -> str:
        return self.unit_code or self.location

    def response_breached(self, now: datetime) -> bool:
        return (self.dispatched_at or now) > self.response_due_at

    def completion_breached(self, now: datetime) -> bool:
        return (self.completed_at or now) > self.completion_due_at

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.number,
            "uuid": str(self.id),
            "unit_code": self.unit_code or None,
            "location": self.location,
            "category": self.category.value,
            "urgency": self.urgency.value,
            "status": self.status.value,
            "reported_at": self.reported_at.isoformat(),
            "completed_at": self.completed_at.isoformat() if self.completed_at else None,
            "assignee": self.assignee,
            "hazard_id": self.hazard_id,
            "reopen_count": self.reopen_count,
            "photos": list(self.photos),
        }


def _query() -> Select[Any]:
    query = select(WorkOrder, Unit.code).outerjoin(Unit, Unit.id == WorkOrder.unit_id)
    return query  # type: ignore[return-value]


def _row(order: WorkOrder, unit_code: str | None) -> WorkOrderRow:
    return WorkOrderRow(
        id=order.id,
        number=order.number,
        unit_code=unit_code or "",
        location=order.location,
        channel=WorkOrderChannel(order.channel),
        category=RepairCategory(order.category),
        urgency=Urgency(order.urgency),
        status=WorkOrderStatus(order.status),
        description=order.description,
        assignee=order.assignee,
        reported_at=order.reported_at,
        response_due_at=order.response_due_at,
        completion_due_at=order.completion_due_at,
        dispatched_at=order.dispatched_at,
        completed_at=order.completed_at,
        cost_fen=order.cost_fen,
        payer=order.payer,
        satisfaction=order.satisfaction,
        reopen_count=order.reopen_count,
        hazard_id=order.hazard_id,
        photos=tuple(order.photos.splitlines()),
    )


def list_work_orders(
    session: Session,
    open_only: bool = False,
    unit_code: str | None = None,
    limit: int | None = None,
    awaiting_visit: bool = False,
) -> list[WorkOrderRow]:
    """Newest first; open_only keeps reported, dispatched and in-progress orders, and with awaiting_visit
    also the completed ones still waiting for their follow-up visit (回访)."""
    query = _query().order_by(WorkOrder.reported_at.desc(), WorkOrder.number.desc())
    if open_only:
        wanted = [s.value for s in OPEN_STATUSES]
        if awaiting_visit:
            wanted.append(WorkOrderStatus.COMPLETED.value)
        query = query.where(WorkOrder.status.in_(wanted))
    if unit_code:
        query = query.where(WorkOrder.unit_id == find_unit_id_by_code(session, unit_code))
    if limit is not None:
        query = query.limit(limit)
    return [_row(order, code) for order, code in session.execute(query)]


def get_work_order(session: Session, number: str) -> WorkOrderRow:
    order = _order(session, number)
    code = session.scalar(select(Unit.code).where(Unit.id == order.unit_id)) if order.unit_id else None
    return _row(order, code)


@dataclass(frozen=True)
class EventRow:
    kind: EventKind
    from_status: str
    to_status: WorkOrderStatus
    occurred_at: datetime
    actor: str
    note: str


def work_order_events(session: Session, number: str) -> list[EventRow]:
    order = _order(session, number)
    events = session.scalars(
        select(WorkOrderEvent)
        .where(WorkOrderEvent.work_order_id == order.id)
        .order_by(WorkOrderEvent.position)
    )
    return [
        EventRow(
            EventKind(e.kind), e.from_status, WorkOrderStatus(e.to_status), e.occurred_at, e.actor, e.note
        )
        for e in events
    ]


# ---- intake ---------------------------------------------------------------------------------------------


def _order(session: Session, number: str) -> WorkOrder:
    cleaned = (number or "").strip().upper()
    order = session.scalar(select(WorkOrder).where(WorkOrder.number == cleaned))
    if order is None:
        raise UserError(f"没有编号为“{number.strip()}”的维修单，请核对编号（例如 YXY01-WX2026-00012）。")
    return order


def _next_number(session: Session, year: int) -> str:
    from yuexiu_desk.services.billing import next_number

    station = require_station(session)
    return f"{station.code}-WX{year}-{next_number(session, f'work-order-{year}'):05d}"


def checked_time(
    session: Session, at: datetime | None, not_before: datetime | None, what: str, earlier: str = "上一步"
) -> datetime:
    """When something happened: now if not given; never in the future, never before the earlier step."""
    now: datetime = session.info["clock"].now()
    if at is None:
        return now
    if at.tzinfo is None:
        raise ValueError("a recorded time must be aware (the station's wall clock or UTC)")
    if at > now + CLOCK_SLACK:
        raise UserError(f"{what}时间 {local_text(at)} 晚于现在，请填写已经发生的时间。")
    if not_before is not None and at < not_before:
        raise UserError(
            f"{what}时间 {local_text(at)} 早于{earlier}（{local_text(not_before)}），请核对时间。"
        )
    return at


def required_text(value: str, message: str) -> str:
    cleaned = (value or "").strip()
    if len(cleaned) < MIN_TEXT:
        raise UserError(message)
    return cleaned


def create_work_order(
    session: Session,
    *,
    category: RepairCategory | str,
    description: str,
    unit_code: str | None = None,
    location: str = "",
    urgency: Urgency | str = Urgency.NORMAL,
    channel: WorkOrderChannel | str | None = None,
    reporter: str = "",
    hazard_id: str | None = None,
    photos: Sequence[str] = (),
    operator: str,
    reported_at: datetime | None = None,
    rules: RepairRules = DEFAULT_REPAIR_RULES,
) -> WorkOrderRow:
    """Record a repair request (报修) for a unit (unit_code) or a public place (location).

    From an inspection: create_work_order(session, category=…, description=…, unit_code=… or location=…,
    hazard_id=str(hazard.id), operator=…): the channel then defaults to "inspection".
    """
    require(session, "workorder.manage")
    category = parse_category(category)
    urgency = parse_urgency(urgency)
    if channel is None:
        channel = WorkOrderChannel.INSPECTION if hazard_id else WorkOrderChannel.PHONE
    channel = parse_channel(channel)
    description = required_text(description, "请写明报修内容（至少两个字），例如“卫生间下水管漏水”。")
    location = (location or "").strip()
    unit = (
        session.get(Unit, find_unit_id_by_code(session, unit_code))
        if unit_code and unit_code.strip()
        else None
    )
    unit_id = None if unit is None else unit.id
    if unit_id is None and len(location) < MIN_TEXT:
        raise UserError("请填写报修的房号，或公共区域的位置（例如“1栋2单元电梯厅”）。")
    if len(location) > 100:
        raise UserError("位置描述太长（最多 100 字），详细情况请写在报修内容里。")
    hazard = (hazard_id or "").strip() or None
    when = checked_time(session, reported_at, None, "报修")
    order = WorkOrder(
        number=_next_number(session, local_date(when).year),
        unit_id=unit_id,
        building_no=None if unit is None else unit.building_no,
        entrance=None if unit is None else unit.entrance,
        floor=None if unit is None else unit.floor,
        location=location,
        channel=channel.value,
        hazard_id=hazard,
        category=category.value,
        urgency=urgency.value,
        description=description,
        reporter=(reporter or "").strip()[:50],
        photos="\n".join(p.strip() for p in photos if p.strip()),
        status=_S.REPORTED.value,
        reported_at=when,
        response_due_at=rules.response_due(urgency, when),
        completion_due_at=rules.completion_due(urgency, when),
        operator=operator,
        updated_at=session.info["clock"].now(),
    )
    session.add(order)
    session.flush()
    _event(
        session, order, EventKind.REPORT, _S.REPORTED, when, order.reporter or operator, description, operator
    )
    repair_summary.add_order(session, order)
    return get_work_order(session, order.number)


def _event(
    session: Session,
    order: WorkOrder,
    kind: EventKind,
    to_status: WorkOrderStatus,
    at: datetime,
    actor: str,
    note: str,
    operator: str,
) -> None:
    from_status = "" if kind is EventKind.REPORT else order.status
    position = session.scalar(
        select(func.coalesce(func.max(WorkOrderEvent.position), 0)).where(
            WorkOrderEvent.work_order_id == order.id
        )
    )
    session.add(
        WorkOrderEvent(
            work_order_id=order.id,
            position=(position or 0) + 1,
            kind=kind.value,
            from_status=from_status,
            to_status=to_status.value,
            occurred_at=at,
            actor=actor[:100],
            note=note,
            operator=operator,
        )
    )
    order.status = to_status.value
    order.updated_at = session.info["clock"].now()
    session.flush()


def _last_event_at(session: Session, order: WorkOrder) -> datetime | None:
    at: datetime | None = session.scalar(
        select(func.max(WorkOrderEvent.occurred_at)).where(WorkOrderEvent.work_order_id == order.id)
    )
    return None if at is None else at.replace(tzinfo=UTC)


# ---- the lifecycle --------------------------------------------------------------------------------------


def dispatch(
    session: Session,
    number: str,
    assignee: str,
    operator: str,
    assignee_kind: AssigneeKind | str = AssigneeKind.WORKER,
    note: str = "",
    at: datetime | None = None,
) -> WorkOrderRow:
    """派单 to a worker or a contractor; a second dispatch re-assigns (the first one counts as the response)."""
    require(session, "workorder.manage")
    order = _order(session, number)
    check_transition(EventKind.DISPATCH, WorkOrderStatus(order.status), order.number)
    who = required_text(assignee, "请填写派给谁（维修工姓名或外包单位名称）。")
    kind = parse_assignee_kind(assignee_kind)
    when = checked_time(session, at, _last_event_at(session, order), "派单")
    with repair_summary.tracked(session, order):
        order.assignee, order.assignee_kind = who[:100], kind.value
        if order.dispatched_at is None:
            order.dispatched_at = when
        _event(session, order, EventKind.DISPATCH, _S.DISPATCHED, when, who, note.strip(), operator)
    return get_work_order(session, order.number)


def start(
    session: Session, number: str, operator: str, note: str = "", at: datetime | None = None
) -> WorkOrderRow:
    require(session, "workorder.manage")
    order = _order(session, number)
    check_transition(EventKind.START, WorkOrderStatus(order.status), order.number)
    when = checked_time(session, at, _last_event_at(session, order), "开工")
    with repair_summary.tracked(session, order):
        order.started_at = order.started_at or when
        _event(session, order, EventKind.START, _S.IN_PROGRESS, when, order.assignee, note.strip(), operator)
    return get_work_order(session, order.number)


def complete(
    session: Session,
    number: str,
    *,
    labour: str,
    materials: str,
    cost_yuan: str,
    payer: Payer | str,
    operator: str,
    note: str = "",
    at: datetime | None = None,
) -> WorkOrderRow:
    """完工: who did the work and how long (labour), what was used or done (materials), the cost and who pays.

    The cost of every visit adds up on the order (a reopened order's first repair was paid too).
    """
    require(session, "workorder.manage")
    order = _order(session, number)
    check_transition(EventKind.COMPLETE, WorkOrderStatus(order.status), order.number)
    who = required_text(labour, "完工须填写维修人员及工时（例如“王师傅 2 工时”）。")
    what = required_text(
        materials, "完工须填写所用材料或所做工作（例如“更换角阀 1 个”；没有材料请写“无材料，疏通”）。"
    )
    if not str(payer or "").strip():
        raise UserError(
            "完工须填写费用由谁承担：station（服务站）、tenant（租户）、contractor（施工单位）或 property（物业公司）。"
        )
    paid_by = parse_payer(str(payer))
    cost = yuan_to_fen(cost_yuan, "维修费用")
    if cost < 0:
        raise UserError("维修费用不能为负数；没有费用请填 0。")
    when = checked_time(session, at, _last_event_at(session, order), "完工")
    detail = f"人工：{who}；材料：{what}；费用 {cost / 100:.2f} 元，{paid_by.label}承担"
    with repair_summary.tracked(session, order):
        order.labour, order.materials, order.payer = who, what, paid_by.value
        order.cost_fen += cost
        order.completed_at = when
        _event(
            session, order, EventKind.COMPLETE, _S.COMPLETED, when, order.assignee or who,
            f"{detail}。{note.strip()}".rstrip("。") + "。", operator,
        )  # fmt: skip
    return get_work_order(session, order.number)


def follow_up(
    session: Session,
    number: str,
    satisfaction: int,
    operator: str,
    comment: str = "",
    fixed: bool = True,
    visitor: str = "",
    at: datetime | None = None,
) -> WorkOrderRow:
    """回访: the tenant's satisfaction (1–5) and comment. Fixed → closed; not fixed → reopened (返修)."""
    require(session, "workorder.manage")
    order = _order(session, number)
    check_transition(EventKind.FOLLOW_UP, WorkOrderStatus(order.status), order.number)
    score = check_satisfaction(satisfaction)
    when = checked_time(session, at, _last_event_at(session, order), "回访")
    note = f"满意度 {score}；{comment.strip() or '无意见'}" + ("" if fixed else "；住户反映未修好")
    with repair_summary.tracked(session, order):
        order.followed_up_at, order.satisfaction, order.follow_up_comment = when, score, comment.strip()
        if fixed:
            order.closed_at = when
        to_status = _S.CLOSED if fixed else _S.COMPLETED
        _event(session, order, EventKind.FOLLOW_UP, to_status, when, visitor or operator, note, operator)
    if fixed:
        return get_work_order(session, order.number)
    # reopen moves the order's share of the statistics itself.
    return reopen(session, order.number, "回访时住户反映未修好", operator, at=when)


def reopen(
    session: Session, number: str, reason: str, operator: str, at: datetime | None = None
) -> WorkOrderRow:
    """返修: the tenant says it is not fixed. Back to the same assignee (dispatched), counted on the order."""
    require(session, "workorder.manage")
    order = _order(session, number)
    check_transition(EventKind.REOPEN, WorkOrderStatus(order.status), order.number)
    why = required_text(reason, "返修须写明原因（例如“回访时仍漏水”）。")
    when = checked_time(session, at, _last_event_at(session, order), "返修")
    with repair_summary.tracked(session, order):
        order.reopen_count += 1
        order.completed_at = None
        order.closed_at = None
        _event(
            session, order, EventKind.REOPEN, _S.DISPATCHED, when, order.assignee or operator, why, operator
        )
    return get_work_order(session, order.number)


# ---- SLA ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Breach:
    row: WorkOrderRow
    response: bool
    completion: bool
    overdue_hours: float  # beyond the completion target (or the response target when only that is missed)


def breaches(
    session: Session, now: datetime | None = None, open_only: bool = False, since: date | None = None
) -> list[Breach]:
    """Orders that missed (or, still open, are past) their response or completion target, worst first."""
    at: datetime = now or session.info["clock"].now()
    query = _query().where(
        (func.coalesce(WorkOrder.dispatched_at, at) > WorkOrder.response_due_at)
        | (func.coalesce(WorkOrder.completed_at, at) > WorkOrder.completion_due_at)
    )
    if open_only:
        query = query.where(WorkOrder.status.in_([s.value for s in OPEN_STATUSES]))
    if since is not None:
        query = query.where(WorkOrder.reported_at >= _local_midnight_utc(since))
    found = []
    for order, code in session.execute(query):
        row = _row(order, code)
        response, completion = row.response_breached(at), row.completion_breached(at)
        late = (
            (row.completed_at or at) - row.completion_due_at
            if completion
            else (row.dispatched_at or at) - row.response_due_at
        )
        found.append(Breach(row, response, completion, late.total_seconds() / 3600))
    return sorted(found, key=lambda b: -b.overdue_hours)


# ---- statistics -----------------------------------------------------------------------------------------


def _local_midnight_utc(day: date) -> datetime:
    return datetime.combine(day, time.min, STATION_TZ).astimezone(UTC)


@dataclass(frozen=True)
class CategoryFigures:
    category: RepairCategory
    orders: int
    cost_fen: int
    avg_satisfaction: float | None


@dataclass(frozen=True)
class PlaceFigures:
    """Orders of a building, an entrance ("1-2") or a floor ("1栋16层"); unit-less orders count nowhere here."""

    place: str
    orders: int
    units: int  # how many different units reported


@dataclass(frozen=True)
class RepeatUnit:
    unit_code: str
    orders: int
    repeats: int  # orders reported within the repeat window after the unit's previous one
    categories: str


@dataclass
class RepairStatistics:
    start: date
    end: date
    orders: int = 0
    open_orders: int = 0
    closed_orders: int = 0
    public_area_orders: int = 0
    reopened_orders: int = 0
    cost_fen: int = 0
    by_category: list[CategoryFigures] = field(default_factory=list)
    by_month: list[tuple[str, int]] = field(default_factory=list)  # ("2026-07", orders)
    by_season: list[tuple[str, int]] = field(default_factory=list)  # ("夏", orders) over all years
    by_urgency: list[tuple[Urgency, int]] = field(default_factory=list)
    by_building: list[PlaceFigures] = field(default_factory=list)
    by_entrance: list[PlaceFigures] = field(default_factory=list)
    hotspot_floors: list[PlaceFigures] = field(default_factory=list)  # the busiest floors first
    repeat_units: list[RepeatUnit] = field(default_factory=list)
    avg_response_hours: float | None = None
    avg_completion_hours: float | None = None
    response_breaches: int = 0
    completion_breaches: int = 0
    avg_satisfaction: float | None = None
    satisfaction_counts: dict[int, int] = field(default_factory=dict)
    followed_up: int = 0


HOTSPOT_FLOORS = 10
REPEAT_UNITS = 30


def _not_by_date_index() -> Any:
    """work_order.reported_at as "+reported_at", which SQLite will not look up in an index.

    Statistics cover most of the table (months to years of orders): reading it once, or along an index
    that holds every column a query needs, costs a fraction of walking the reported_at index and fetching
    each row from the table, which is what SQLite's planner picks without ANALYZE figures."""
    from yuexiu_desk.storage.models import UTCDateTime

    return literal_column("+work_order.reported_at", UTCDateTime())


def repair_statistics(
    session: Session,
    start: date,
    end: date,
    now: datetime | None = None,
    rules: RepairRules = DEFAULT_REPAIR_RULES,
) -> RepairStatistics:
    """Figures of the orders reported between two station dates (both included).

    Totals, categories, urgencies, months, times and satisfaction come from repair_day_summary (at most a
    row per day and category, kept up to date by every write); the breaches of orders not yet dispatched or
    completed depend on `now` and are counted from those orders alone; places and repeat units need the
    units of each order and are grouped along covering indexes of work_order."""
    if end < start:
        raise UserError(f"结束日期 {end} 早于开始日期 {start}，请检查日期范围。")
    at: datetime = now or session.info["clock"].now()
    low, high = _local_midnight_utc(start), _local_midnight_utc(end + timedelta(days=1))
    stats = RepairStatistics(start, end)

    summary = RepairDaySummary
    month = func.substr(summary.reported_on, 1, 7, type_=String)
    figures = [func.sum(getattr(summary, name)) for name in repair_summary.SUMMED]
    by_category: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])  # orders, cost, rated, score sum
    by_urgency: Counter[Urgency] = Counter()
    by_month: Counter[str] = Counter()
    scores: Counter[int] = Counter()
    response_us = completion_us = responded = completed = 0
    for year_month, category, *row in session.execute(
        select(month, summary.category, *figures)
        .where(summary.reported_on >= start, summary.reported_on <= end)
        .group_by(month, summary.category)
    ):
        sums = dict(zip(repair_summary.SUMMED, row, strict=True))
        n = sums["orders"]
        stats.orders += n
        stats.cost_fen += sums["cost_fen"]
        stats.open_orders += sums["open_orders"]
        stats.closed_orders += sums["closed_orders"]
        stats.public_area_orders += sums["public_area_orders"]
        stats.reopened_orders += sums["reopened_orders"]
        stats.response_breaches += sums["response_breaches"]
        stats.completion_breaches += sums["completion_breaches"]
        responded += sums["responded"]
        response_us += sums["response_us"]
        completed += sums["completed"]
        completion_us += sums["completion_us"]
        by_month[year_month] += n
        for urgency in repair_summary.URGENCIES:
            by_urgency[urgency] += sums[f"urgency_{urgency.value}"]
        category_figures = by_category[category]
        category_figures[0] += n
        category_figures[1] += sums["cost_fen"]
        for score in repair_summary.SCORES:
            rated = sums[f"satisfaction_{score}"]
            scores[score] += rated
            category_figures[2] += rated
            category_figures[3] += score * rated
    if stats.orders == 0:
        return stats
    late_response, late_completion = _unfinished_breaches(session, low, high, at)
    stats.response_breaches += late_response
    stats.completion_breaches += late_completion
    microseconds_per_hour = 3600 * 1_000_000
    stats.avg_response_hours = response_us / responded / microseconds_per_hour if responded else None
    stats.avg_completion_hours = completion_us / completed / microseconds_per_hour if completed else None
    stats.followed_up = sum(scores.values())
    stats.avg_satisfaction = (
        sum(score * n for score, n in scores.items()) / stats.followed_up if stats.followed_up else None
    )
    order = {c.value: n for n, c in enumerate(RepairCategory)}
    stats.by_category = sorted(
        (
            CategoryFigures(RepairCategory(c), n, cost, total / rated if rated else None)
            for c, (n, cost, rated, total) in by_category.items()
        ),
        key=lambda f: (-f.orders, order[f.category.value]),
    )
    stats.by_urgency = [(u, by_urgency[u]) for u in Urgency]
    stats.satisfaction_counts = {score: n for score, n in sorted(scores.items()) if n}
    stats.by_month = sorted(by_month.items())
    seasons: Counter[str] = Counter()
    for m, n in stats.by_month:
        seasons[season_of(int(m[5:]))] += n
    stats.by_season = [(s, seasons[s]) for s in "春夏秋冬"]

    reported = _not_by_date_index()
    scan_range = (reported >= low) & (reported < high)

    # Building × entrance × floor, with the different units of each: a unit lies in exactly one such
    # group, so the units of a building, an entrance or a floor are sums of these.
    buildings: dict[int | None, list[int]] = defaultdict(lambda: [0, 0])
    entrances: dict[tuple[int | None, int | None], list[int]] = defaultdict(lambda: [0, 0])
    floors: dict[tuple[int | None, int | None], list[int]] = defaultdict(lambda: [0, 0])
    for building, entrance, floor_no, n, units in session.execute(
        select(
            WorkOrder.building_no,
            WorkOrder.entrance,
            WorkOrder.floor,
            func.count(),
            func.count(func.distinct(WorkOrder.unit_id)),
        )
        .where(scan_range, WorkOrder.building_no.is_not(None))  # along ix_work_order_place, which covers it
        .group_by(WorkOrder.building_no, WorkOrder.entrance, WorkOrder.floor)
    ):
        for bucket in (buildings[building], entrances[(building, entrance)], floors[(building, floor_no)]):
            bucket[0] += n
            bucket[1] += units
    stats.by_building = [PlaceFigures(f"{b}栋", n, u) for b, (n, u) in sorted(buildings.items())]
    stats.by_entrance = [PlaceFigures(f"{b}栋{e}单元", n, u) for (b, e), (n, u) in sorted(entrances.items())]
    stats.hotspot_floors = [
        PlaceFigures(f"{b}栋{f}层", n, u)
        for (b, f), (n, u) in sorted(floors.items(), key=lambda kv: (-kv[1][0], kv[0]))[:HOTSPOT_FLOORS]
    ]
    stats.repeat_units = _repeat_units(session, scan_range, low, high, rules)
    return stats


def _unfinished_breaches(session: Session, low: datetime, high: datetime, at: datetime) -> tuple[int, int]:
    """Orders reported in [low, high) not yet dispatched and past their response target at `at`, and not yet
    completed and past their completion target: read along ix_work_order_unfinished, which holds only
    those orders (a few hundred at a busy station) and every column this reads."""
    response_open = WorkOrder.dispatched_at.is_(None)
    completion_open = WorkOrder.completed_at.is_(None)
    late_response, late_completion = session.execute(
        select(
            func.count(case((response_open & (WorkOrder.response_due_at < at), 1))),
            func.count(case((completion_open & (WorkOrder.completion_due_at < at), 1))),
        ).where(
            # Written as the index's own condition, which is how SQLite knows the index holds these rows.
            response_open | completion_open,
            WorkOrder.reported_at >= low,
            WorkOrder.reported_at < high,
        )
    ).one()
    return int(late_response), int(late_completion)


def _repeat_units(
    session: Session, scan_range: Any, low: datetime, high: datetime, rules: RepairRules
) -> list[RepeatUnit]:
    """Units with at least repeat_min_orders orders in the period, the most first (counted along the
    (unit, reported_at) index), and for those only: how many of their orders came within the repeat window
    after an earlier order of the same unit (which may predate the period), and in which categories."""
    orders = func.count()
    top = session.execute(
        select(WorkOrder.unit_id, orders)
        .where(
            WorkOrder.unit_id.is_not(None), scan_range
        )  # along ix_work_order_unit_reported, which covers it
        .group_by(WorkOrder.unit_id)
        .having(orders >= rules.repeat_min_orders)
        .order_by(orders.desc(), WorkOrder.unit_id)
        .limit(REPEAT_UNITS)
    ).all()
    if not top:
        return []
    ids = [unit_id for unit_id, _n in top]
    earlier = aliased(WorkOrder)
    repeat = exists().where(
        earlier.unit_id == WorkOrder.unit_id,
        earlier.reported_at < WorkOrder.reported_at,
        earlier.reported_at >= func.datetime(WorkOrder.reported_at, f"-{rules.repeat_window_days} days"),
    )
    details = {
        unit_id: (code, n, repeats, cats)
        for unit_id, code, n, repeats, cats in session.execute(
            select(
                WorkOrder.unit_id,
                Unit.code,
                func.count(),
                func.sum(case((repeat, 1), else_=0)),
                func.group_concat(func.distinct(WorkOrder.category)),
            )
            .join(Unit, Unit.id == WorkOrder.unit_id)
            .where(WorkOrder.unit_id.in_(ids), WorkOrder.reported_at >= low, WorkOrder.reported_at < high)
            .group_by(WorkOrder.unit_id, Unit.code)
        )
    }
    found = []
    for unit_id in ids:
        code, n, repeats, cats = details[unit_id]
        labels = "、".join(
            RepairCategory(c).label for c in sorted((cats or "").split(","), key=_category_order) if c
        )
        found.append(RepeatUnit(code, n, repeats or 0, labels))
    return sorted(found, key=lambda u: (-u.orders, -u.repeats, u.unit_code))


def _category_order(code: str) -> int:
    return [c.value for c in RepairCategory].index(code) if code in {c.value for c in RepairCategory} else 99


# ---- paper and spreadsheet ------------------------------------------------------------------------------


def slip_data(session: Session, number: str) -> Any:
    """What the work-order slip (派工单) prints for this order."""
    from yuexiu_desk.printing.repairs import SlipData

    row = get_work_order(session, number)
    order = _order(session, number)
    station = require_station(session)
    events = work_order_events(session, number)
    return SlipData(
        number=row.number,
        station_code=station.code,
        work_order_id=row.id,
        station_name=station.name,
        place=row.place,
        location=row.location,
        category=row.category.label,
        urgency=row.urgency.label,
        channel=row.channel.label,
        reporter=order.reporter,
        description=row.description,
        assignee=row.assignee,
        reported_at=row.reported_at,
        response_due_at=row.response_due_at,
        completion_due_at=row.completion_due_at,
        status=row.status.label,
        history=tuple((e.occurred_at, e.kind.label, e.actor, e.note) for e in events),
        printed_at=session.info["clock"].now(),
    )


def print_slip(session: Session, number: str, out: Path) -> Path:
    from yuexiu_desk.printing.repairs import write_slip

    write_slip(slip_data(session, number), out)
    return out


def ledger_rows(session: Session, start: date, end: date) -> list[Any]:
    """The repair ledger's rows (orders reported between two station dates), oldest first."""
    from yuexiu_desk.export.repair_ledger import RepairLedgerRow

    low, high = _local_midnight_utc(start), _local_midnight_utc(end + timedelta(days=1))
    query = (
        _query()
        .where(WorkOrder.reported_at >= low, WorkOrder.reported_at < high)
        .order_by(WorkOrder.reported_at, WorkOrder.number)
    )
    rows = []
    for order, code in session.execute(query):
        rows.append(
            RepairLedgerRow(
                number=order.number,
                reported_on=local_date(order.reported_at),
                place=code or order.location,
                channel=WorkOrderChannel(order.channel).label,
                category=RepairCategory(order.category).label,
                urgency=Urgency(order.urgency).label,
                description=order.description,
                assignee=order.assignee,
                status=WorkOrderStatus(order.status).label,
                response_hours=_hours(order.reported_at, order.dispatched_at),
                completion_hours=_hours(order.reported_at, order.completed_at),
                labour=order.labour,
                materials=order.materials,
                cost_fen=order.cost_fen,
                payer=Payer(order.payer).label if order.payer else "",
                satisfaction=order.satisfaction,
                reopen_count=order.reopen_count,
            )
        )
    return rows


def _hours(start: datetime, end: datetime | None) -> float | None:
    return None if end is None else round((end - start).total_seconds() / 3600, 1)


def export_ledger(session: Session, start: date, end: date, out: Path) -> RepairStatistics:
    """The repairs ledger (维修台账) with its statistics sheet and chart, as .xlsx."""
    require(session, "workorder.manage")
    from yuexiu_desk.export.repair_ledger import write_repair_ledger

    stats = repair_statistics(session, start, end)
    station = require_station(session)
    write_repair_ledger(ledger_rows(session, start, end), stats, station.name, out)
    return stats
