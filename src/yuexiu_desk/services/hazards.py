"""Hazards (隐患) found by inspections, followed to closure: 整改 (rectification) → 验收 (re-inspection) → closed.

Every defect recorded in a round opens a hazard with a responsible party, a severity and a deadline by
severity (settings, [U] defaults). A structural defect carries a danger grade (S1); C or D escalates at once
(escalated_at, listed by manager_alerts until acknowledged). A hazard closes only after a re-inspection found
it fixed. raise_work_order is the seam to the repair ledger: it takes the function that creates a work order.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from yuexiu_desk.clock import local_date
from yuexiu_desk.errors import UserError
from yuexiu_desk.inspection_templates import RESPONSIBLE, CheckItem, DangerGrade, Scope, Severity, Template
from yuexiu_desk.services.access import require
from yuexiu_desk.storage.billing_models import Counter, Setting
from yuexiu_desk.storage.inspection_models import Hazard, InspectionResult, InspectionRound

# [U] How many days the responsible party has to rectify, by severity; a setting (the key below) overrides.
DEADLINE_SETTING = "inspections.hazard_deadline_days"
DEFAULT_DEADLINE_DAYS = {Severity.MINOR: 30, Severity.MAJOR: 7, Severity.CRITICAL: 1}


class HazardStatus(StrEnum):
    OPEN = "open"  # 待整改 / 整改中
    VERIFIED = "verified"  # 复查验收合格，待关闭
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return {"open": "待整改", "verified": "验收合格", "closed": "已关闭"}[self]


KIND_LABELS = {
    "structure": "结构安全",
    "facility": "设施设备",
    "hygiene": "公共卫生",
    "unit": "户内",
    "falling": "墙体及附着物",
    "manhole": "井盖",
    "elevator": "电梯",
    "fire": "消防",
}


def kind_label(kind: str) -> str:
    return KIND_LABELS.get(kind, kind)


def next_number(session: Session, name: str) -> int:
    counter = session.get(Counter, name)
    if counter is None:
        counter = Counter(name=name, value=0)
        session.add(counter)
    counter.value += 1
    session.flush()
    return counter.value


def deadline_days(session: Session) -> dict[Severity, int]:
    """Days to rectify by severity: the station's setting where there is one, else the defaults."""
    days = dict(DEFAULT_DEADLINE_DAYS)
    setting = session.get(Setting, DEADLINE_SETTING)
    if setting is not None:
        stored = json.loads(setting.value)
        for key, value in stored.items():
            days[Severity(key)] = int(value)
    return days


def set_deadline_days(session: Session, days: dict[Severity, int]) -> None:
    for severity, value in days.items():
        if not 0 <= value <= 365:
            raise UserError(f"{severity.label}隐患的整改期限应为 0 到 365 天，现在是 {value} 天。")
    merged = {
        **{k.value: v for k, v in deadline_days(session).items()},
        **{k.value: v for k, v in days.items()},
    }
    setting = session.get(Setting, DEADLINE_SETTING)
    if setting is None:
        session.add(Setting(key=DEADLINE_SETTING, value=json.dumps(merged)))
    else:
        setting.value = json.dumps(merged)


def _today(session: Session) -> date:
    return local_date(session.info["clock"].now())


def open_hazard(
    session: Session,
    round_: InspectionRound,
    result: InspectionResult,
    template: Template,
    item: CheckItem,
    location: Scope,
    operator: str,
) -> Hazard:
    """The hazard of a defect just recorded (or the one it already opened, brought up to date)."""
    severity = Severity(result.severity)
    grade = DangerGrade(result.danger_grade) if result.danger_grade else None
    now = session.info["clock"].now()
    days = deadline_days(session)[severity]
    hazard: Hazard | None = session.scalar(select(Hazard).where(Hazard.result_id == result.id))
    if hazard is None:
        year = round_.started_on.year
        found_on = round_.started_on  # the day of the inspection, also when results are typed in later
        hazard = Hazard(
            hazard_no=f"YH{year}-{next_number(session, f'hazard-{year}'):04d}",
            round_id=round_.id,
            result_id=result.id,
            template=template.id,
            item_key=item.id,
            location=str(location),
            unit_code=location.unit_code,
            building_no=location.path[0] if location.path else None,
            kind=item.kind,
            responsible=item.responsible,
            found_on=found_on,
            deadline=found_on + timedelta(days=days),
            description=item.label,
            severity=severity.value,
            status=HazardStatus.OPEN.value,
            operator=operator,
            created_at=now,
        )
        session.add(hazard)
    hazard.description = f"{item.label}：{result.note}" if result.note else item.label
    hazard.severity = severity.value
    hazard.danger_grade = grade.value if grade else ""
    hazard.deadline = hazard.found_on + timedelta(days=days)
    if grade is not None and grade.escalates and hazard.escalated_at is None:
        hazard.escalated_at = now  # S1: C or D → the manager at once
    session.flush()
    return hazard


def withdraw_hazard(session: Session, result: InspectionResult) -> None:
    """A defect re-recorded as ok or n/a in the same open round: its hazard was a mistake, not a finding."""
    hazard = session.scalar(select(Hazard).where(Hazard.result_id == result.id))
    if hazard is not None and hazard.status == HazardStatus.OPEN.value and hazard.work_order_id is None:
        session.delete(hazard)
        session.flush()
    elif hazard is not None:
        raise UserError(f"该项已生成隐患 {hazard.hazard_no} 并已处理，不能再改为无隐患；请通过复查验收处理。")


def fixed_by_round(session: Session, round_: InspectionRound, item_key: str, location: str, on: date) -> int:
    """A later round found this item at this place in order: its open hazards count as re-inspected fixed."""
    hazards = session.scalars(
        select(Hazard).where(
            Hazard.item_key == item_key,
            Hazard.location == location,
            Hazard.status == HazardStatus.OPEN.value,
            Hazard.round_id != round_.id,
        )
    ).all()
    for hazard in hazards:
        hazard.reinspections += 1
        hazard.reinspected_on = on
        hazard.reinspection_note = f"巡查 {round_.round_no} 复查合格"
        hazard.fixed_round_id = round_.id
        hazard.status = HazardStatus.VERIFIED.value
    return len(hazards)


def find_hazard(session: Session, hazard_no: str) -> Hazard:
    cleaned = (hazard_no or "").strip().upper()
    hazard: Hazard | None = session.scalar(select(Hazard).where(Hazard.hazard_no == cleaned))
    if hazard is None:
        try:
            hazard = session.get(Hazard, uuid.UUID(cleaned.lower()))
        except ValueError:
            hazard = None
    if hazard is None:
        raise UserError(f"没有编号为 {hazard_no.strip()} 的隐患，请核对编号（例如 YH2026-0001）。")
    return hazard


@dataclass(frozen=True)
class HazardRow:
    id: str
    hazard_no: str
    unit_code: str
    location: str
    location_label: str
    kind: str
    description: str
    severity: Severity
    danger_grade: str
    responsible: str
    found_on: date
    deadline: date
    status: HazardStatus
    overdue: bool
    escalated: bool
    work_order_id: str | None

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.hazard_no,
            "uuid": self.id,
            "unit_code": self.unit_code,
            "location": self.location,
            "location_label": self.location_label,
            "kind": self.kind,
            "description": self.description,
            "severity": self.severity.value,
            "danger_grade": self.danger_grade,
            "responsible": self.responsible,
            "found_on": self.found_on.isoformat(),
            "deadline": self.deadline.isoformat(),
            "status": self.status.value,
            "overdue": self.overdue,
            "escalated": self.escalated,
            "work_order_id": self.work_order_id,
        }


def _row(hazard: Hazard, today: date) -> HazardRow:
    status = HazardStatus(hazard.status)
    return HazardRow(
        id=str(hazard.id),
        hazard_no=hazard.hazard_no,
        unit_code=hazard.unit_code,
        location=hazard.location,
        location_label=Scope.parse(hazard.location).label,
        kind=hazard.kind,
        description=hazard.description,
        severity=Severity(hazard.severity),
        danger_grade=hazard.danger_grade,
        responsible=hazard.responsible,
        found_on=hazard.found_on,
        deadline=hazard.deadline,
        status=status,
        overdue=status is HazardStatus.OPEN and hazard.deadline < today,
        escalated=hazard.escalated_at is not None,
        work_order_id=hazard.work_order_id,
    )


def list_hazards(session: Session, open_only: bool = False) -> list[HazardRow]:
    """Hazards, overdue and most severe first; open_only leaves out the closed ones."""
    query = select(Hazard)
    if open_only:
        query = query.where(Hazard.status != HazardStatus.CLOSED.value)
    today = _today(session)
    rows = [_row(h, today) for h in session.scalars(query)]
    order = list(Severity)
    rows.sort(
        key=lambda r: (r.status is HazardStatus.CLOSED, not r.overdue, -order.index(r.severity), r.deadline)
    )
    return rows


def hazard_row(session: Session, hazard_no: str) -> HazardRow:
    return _row(find_hazard(session, hazard_no), _today(session))


def record_rectification(session: Session, hazard_no: str, note: str, operator: str) -> HazardRow:
    """What the responsible party did about it (整改); it stays open until a re-inspection accepts it."""
    require(session, "hazard.manage")
    hazard = find_hazard(session, hazard_no)
    if hazard.status == HazardStatus.CLOSED.value:
        raise UserError(f"隐患 {hazard.hazard_no} 已关闭，不能再登记整改。")
    if not note.strip():
        raise UserError("请写明整改情况（做了什么、谁做的）。")
    hazard.rectification = note.strip()
    session.flush()
    return _row(hazard, _today(session))


def reinspect(
    session: Session, hazard_no: str, fixed: bool, note: str, operator: str, on: date | None = None
) -> HazardRow:
    """A re-inspection (复查验收): fixed → verified, ready to close; not fixed → stays open, counted."""
    require(session, "hazard.manage")
    hazard = find_hazard(session, hazard_no)
    if hazard.status == HazardStatus.CLOSED.value:
        raise UserError(f"隐患 {hazard.hazard_no} 已关闭，无需复查。")
    today = _today(session)
    day = on or today
    if day > today:
        raise UserError("复查日期不能晚于今天。")
    if day < hazard.found_on:
        raise UserError(f"复查日期 {day} 早于发现隐患的日期 {hazard.found_on}，请核对。")
    if not fixed and not note.strip():
        raise UserError("复查不合格时，请写明还存在什么问题。")
    hazard.reinspections += 1
    hazard.reinspected_on = day
    hazard.reinspection_note = note.strip() or ("复查合格" if fixed else "")
    hazard.status = (HazardStatus.VERIFIED if fixed else HazardStatus.OPEN).value
    session.flush()
    return _row(hazard, today)


def close_hazard(session: Session, hazard_no: str, operator: str, on: date | None = None) -> HazardRow:
    """Close a hazard; refused unless a re-inspection found it fixed (整改 → 验收 → 关闭)."""
    require(session, "hazard.manage")
    hazard = find_hazard(session, hazard_no)
    if hazard.status == HazardStatus.CLOSED.value:
        raise UserError(f"隐患 {hazard.hazard_no} 已经关闭。")
    if hazard.status != HazardStatus.VERIFIED.value:
        raise UserError(
            f"隐患 {hazard.hazard_no} 还没有复查验收合格，不能关闭；请整改后先复查（hazards reinspect），合格后再关闭。"
        )
    today = _today(session)
    hazard.closed_on = on or today
    hazard.status = HazardStatus.CLOSED.value
    session.flush()
    return _row(hazard, today)


def manager_alerts(session: Session) -> list[HazardRow]:
    """Escalated hazards (S1 grade C or D) the manager has not acknowledged yet."""
    today = _today(session)
    hazards = session.scalars(
        select(Hazard)
        .where(Hazard.escalated_at.is_not(None), Hazard.acknowledged_at.is_(None))
        .order_by(Hazard.escalated_at)
    )
    return [_row(h, today) for h in hazards]


def acknowledge_alert(session: Session, hazard_no: str, operator: str) -> None:
    require(session, "hazard.acknowledge")
    hazard = find_hazard(session, hazard_no)
    if hazard.escalated_at is None:
        raise UserError(f"隐患 {hazard.hazard_no} 没有上报站长的警示，无需确认。")
    if hazard.acknowledged_at is None:
        hazard.acknowledged_at = session.info["clock"].now()
        hazard.acknowledged_by = operator
        session.flush()


# -- the seam to the repair ledger ------------------------------------------------------------------------

# Hazard kind → work-order category and severity → urgency, as the repair ledger (services.workorders) names
# them; the integrator maps them if that module names them differently.
WORK_ORDER_CATEGORY = {
    "structure": "walls",
    "falling": "walls",
    "unit": "walls",
    "facility": "public_area",
    "hygiene": "public_area",
    "manhole": "public_area",
    "fire": "public_area",
    "elevator": "elevator",
}
WORK_ORDER_URGENCY = {Severity.MINOR: "normal", Severity.MAJOR: "urgent", Severity.CRITICAL: "urgent"}


@dataclass(frozen=True)
class WorkOrderRequest:
    """What a repair work order raised from a hazard needs to know."""

    hazard_id: uuid.UUID
    hazard_no: str
    unit_code: str  # "" when the place is not a unit (then location_label says where)
    location_label: str
    category: str
    urgency: str
    description: str
    responsible: str
    deadline: date
    source: str = "inspection"


# The function that creates the work order in the same session and returns its id (str() is stored).
CreateWorkOrder = Callable[[Session, WorkOrderRequest, str], Any]


def raise_work_order(session: Session, hazard_no: str, create: CreateWorkOrder, operator: str) -> str:
    """Raise a repair work order for a hazard in one action and remember its id on the hazard."""
    require(session, "hazard.manage")
    hazard = find_hazard(session, hazard_no)
    if hazard.work_order_id:
        raise UserError(f"隐患 {hazard.hazard_no} 已经生成过维修工单 {hazard.work_order_id}，不能重复生成。")
    if hazard.status == HazardStatus.CLOSED.value:
        raise UserError(f"隐患 {hazard.hazard_no} 已关闭，不需要再派维修工单。")
    request = WorkOrderRequest(
        hazard_id=hazard.id,
        hazard_no=hazard.hazard_no,
        unit_code=hazard.unit_code,
        location_label=Scope.parse(hazard.location).label,
        category=WORK_ORDER_CATEGORY.get(hazard.kind, "public_area"),
        urgency=WORK_ORDER_URGENCY[Severity(hazard.severity)],
        description=f"【隐患 {hazard.hazard_no}】{hazard.description}",
        responsible=RESPONSIBLE.get(hazard.responsible, hazard.responsible),
        deadline=hazard.deadline,
    )
    work_order_id = str(create(session, request, operator))
    hazard.work_order_id = work_order_id
    session.flush()
    return work_order_id


def _create_repair(session: Session, request: WorkOrderRequest, operator: str) -> Any:
    from yuexiu_desk.services.workorders import create_work_order

    row = create_work_order(
        session,
        category=request.category,
        description=request.description,
        unit_code=request.unit_code or None,
        location="" if request.unit_code else request.location_label,
        urgency=request.urgency,
        hazard_id=str(request.hazard_id),
        operator=operator,
    )
    return row.number


def raise_repair(session: Session, hazard_no: str, operator: str) -> str:
    """转维修: the repair work order for a hazard, in one action (its number is kept on the hazard)."""
    return raise_work_order(session, hazard_no, _create_repair, operator)
