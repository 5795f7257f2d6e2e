"""Inspection rounds (房屋巡查 / 安全检查): what is due, starting a round for a scope, recording results by item
or after a scan, closing it, and the quarterly inspection report's figures.

What a round asks is its template's (forms/inspections/*.toml): every item at every place of the item's level
inside the round's scope (plus places added after a scan outside it). A defect opens a hazard at once
(services.hazards); a round closes only when every item is answered.
"""

from __future__ import annotations

import dataclasses
import json
import math
import uuid
from collections import Counter as Tally
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from yuexiu_desk.clock import local_date
from yuexiu_desk.errors import UserError
from yuexiu_desk.inspection_templates import (
    CheckItem,
    DangerGrade,
    Level,
    Result,
    Scope,
    Severity,
    Template,
    load_all_templates,
    load_template,
    parse_choice,
)
from yuexiu_desk.services import hazards as hazard_service
from yuexiu_desk.services.access import require
from yuexiu_desk.storage.inspection_models import (
    ElevatorCertificate,
    Hazard,
    InspectionResult,
    InspectionRound,
)
from yuexiu_desk.storage.models import ChangeJournal, Unit

OPEN = "open"
CLOSED = "closed"


def _today(session: Session) -> date:
    return local_date(session.info["clock"].now())


# -- places ---------------------------------------------------------------------------------------------


def unit_places(session: Session) -> list[Scope]:
    """Every unit of the estate as a place, in building, entrance, floor, room order (read once per session:
    inspections never add units)."""
    cached: list[Scope] | None = session.info.get("inspections.unit_places")
    if cached is not None:
        return cached
    rows = session.execute(
        select(Unit.building_no, Unit.entrance, Unit.floor, Unit.room).order_by(
            Unit.building_no, Unit.entrance, Unit.floor, Unit.room
        )
    ).all()
    found = [Scope.unit(*row) for row in rows]
    session.info["inspections.unit_places"] = found
    return found


def places(units: Iterable[Scope], level: Level, within: Scope | None = None) -> list[Scope]:
    """The places at level (buildings, entrances …) that hold units, inside within when given."""
    depth = level.depth
    prefix = within.path if within is not None else ()
    if within is not None and within.level.depth > depth:
        return []
    seen: dict[tuple[int, ...], None] = {}
    for unit in units:
        if unit.path[: len(prefix)] == prefix:
            seen.setdefault(unit.path[:depth], None)
    return [Scope(level, path) for path in seen]


def _places(session: Session, level: Level, within: Scope) -> list[Scope]:
    """places() of the estate's units, remembered for the session."""
    cache: dict[tuple[Level, Scope], list[Scope]] = session.info.setdefault("inspections.places", {})
    key = (level, within)
    if key not in cache:
        cache[key] = places(unit_places(session), level, within)
    return cache[key]


def _check_place(session: Session, scope: Scope) -> None:
    if scope.level is Level.ESTATE:
        return
    if not places(unit_places(session), scope.level, scope):
        raise UserError(f"本站没有“{scope.label}”（{scope}），请核对楼栋、单元、楼层或房号。")


# -- schedules ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Due:
    template: str
    title: str
    scope: str
    scope_label: str
    cadence: str
    last_done: date | None
    due_date: date
    overdue: bool
    open_round: str  # the round in progress for it, "" when none

    def as_json(self) -> dict[str, Any]:
        return {
            "template": self.template,
            "title": self.title,
            "scope": self.scope,
            "scope_label": self.scope_label,
            "cadence": self.cadence,
            "last_done": self.last_done.isoformat() if self.last_done else None,
            "due_date": self.due_date.isoformat(),
            "overdue": self.overdue,
            "open_round": self.open_round,
        }


def due(session: Session, today: date | None = None) -> list[Due]:
    """For every template and every place of its scope level: when the next round is due, and whether it is
    overdue (from the template's cadence and the last closed round). Overdue first, then by due date."""
    today = today or _today(session)
    units = unit_places(session)
    last = {
        (t, k, v): d
        for t, k, v, d in session.execute(
            select(
                InspectionRound.template,
                InspectionRound.scope_kind,
                InspectionRound.scope_value,
                func.max(InspectionRound.closed_on),
            )
            .where(InspectionRound.status == CLOSED)
            .group_by(InspectionRound.template, InspectionRound.scope_kind, InspectionRound.scope_value)
        )
    }
    in_progress = {
        (t, k, v): n
        for t, k, v, n in session.execute(
            select(
                InspectionRound.template,
                InspectionRound.scope_kind,
                InspectionRound.scope_value,
                InspectionRound.round_no,
            ).where(InspectionRound.status == OPEN)
        )
    }
    rows: list[Due] = []
    for template in load_all_templates().values():
        for place in (
            places(units, template.scope) if template.scope is not Level.ESTATE else [Scope(Level.ESTATE)]
        ):
            key = (template.id, place.level.value, _value(place))
            done = last.get(key)
            due_date = template.cadence.due_date(done, today)
            rows.append(
                Due(
                    template=template.id,
                    title=template.title,
                    scope=str(place),
                    scope_label=place.label,
                    cadence=template.cadence.label,
                    last_done=done,
                    due_date=due_date,
                    overdue=due_date < today,
                    open_round=in_progress.get(key, ""),
                )
            )
    rows.sort(key=lambda r: (not r.overdue, r.due_date, r.template, r.scope))
    return rows


def _value(scope: Scope) -> str:
    text = str(scope)
    return text.partition(":")[2]


def _scope_of(round_: InspectionRound) -> Scope:
    return (
        Scope(Level.ESTATE)
        if round_.scope_kind == Level.ESTATE.value
        else Scope.parse(f"{round_.scope_kind}:{round_.scope_value}")
    )


# -- rounds ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RoundInfo:
    id: uuid.UUID
    round_no: str
    template: str
    title: str
    scope: str
    scope_label: str
    started_on: date
    closed_on: date | None
    inspector: str
    inspected_party: str
    status: str
    expected: int
    answered: int
    defects: int
    added: tuple[str, ...] = ()

    @property
    def unanswered(self) -> int:
        return self.expected - self.answered


def find_round(session: Session, round_no: str) -> InspectionRound:
    cleaned = (round_no or "").strip().upper()
    found: InspectionRound | None = session.scalar(
        select(InspectionRound).where(InspectionRound.round_no == cleaned)
    )
    if found is None:
        raise UserError(f"没有编号为 {round_no.strip()} 的检查轮次，请核对编号（例如 XC2026-0001）。")
    return found


def _added(round_: InspectionRound) -> list[Scope]:
    return [Scope.parse(text) for text in json.loads(round_.added_scope or "[]")]


def expected(session: Session, round_: InspectionRound, template: Template) -> list[tuple[CheckItem, Scope]]:
    """Every (item, place) the round must answer, in template order."""
    scope = _scope_of(round_)
    added = _added(round_)
    by_level: dict[Level, list[Scope]] = {}
    pairs: list[tuple[CheckItem, Scope]] = []
    for item in template.items:
        if item.per not in by_level:
            inside = _places(session, item.per, scope)
            # A place added to the round brings its own places at this level (a building added: its
            # entrances, floors and units), never the coarser ones around it.
            extra: list[Scope] = []
            for more in added:
                for place in _places(session, item.per, more):
                    if place not in inside and place not in extra:
                        extra.append(place)
            by_level[item.per] = inside + extra
        pairs.extend((item, place) for place in by_level[item.per])
    return pairs


def _results(session: Session, round_id: uuid.UUID) -> dict[tuple[str, str], InspectionResult]:
    return {
        (r.item_key, r.location): r
        for r in session.scalars(select(InspectionResult).where(InspectionResult.round_id == round_id))
    }


def round_info(session: Session, round_: InspectionRound) -> RoundInfo:
    template = load_template(round_.template)
    pairs = expected(session, round_, template)
    results = {
        (key, location): result
        for key, location, result in session.execute(
            select(InspectionResult.item_key, InspectionResult.location, InspectionResult.result).where(
                InspectionResult.round_id == round_.id
            )
        )
    }
    answered = sum(1 for item, place in pairs if (item.id, str(place)) in results)
    scope = _scope_of(round_)
    return RoundInfo(
        id=round_.id,
        round_no=round_.round_no,
        template=template.id,
        title=template.title,
        scope=str(scope),
        scope_label=scope.label,
        started_on=round_.started_on,
        closed_on=round_.closed_on,
        inspector=round_.inspector,
        inspected_party=round_.inspected_party,
        status=round_.status,
        expected=len(pairs),
        answered=answered,
        defects=sum(1 for r in results.values() if r == Result.DEFECT.value),
        added=tuple(str(p) for p in _added(round_)),
    )


def start_round(
    session: Session,
    template_id: str,
    scope_text: str,
    operator: str,
    inspector: str = "",
    inspected_party: str = "",
    started_on: date | None = None,
) -> RoundInfo:
    """Start a round of a template for a place at the template's scope level (one open round per place)."""
    require(session, "inspection.record")
    template = load_template(template_id)
    scope = Scope.parse(scope_text)
    if scope.level is not template.scope:
        raise UserError(
            f"“{template.title}”按{template.scope.label}检查，范围应写成 {template.scope.value}:…，"
            f"而不是 {scope}；可用 inspections due 查看各范围。"
        )
    _check_place(session, scope)
    today = _today(session)
    day = started_on or today
    if day > today:
        raise UserError("检查日期不能晚于今天。")
    running = session.scalar(
        select(InspectionRound.round_no).where(
            InspectionRound.template == template.id,
            InspectionRound.scope_kind == scope.level.value,
            InspectionRound.scope_value == _value(scope),
            InspectionRound.status == OPEN,
        )
    )
    if running is not None:
        raise UserError(f"{scope.label}的“{template.title}”已有进行中的轮次 {running}，请先完成它。")
    number = hazard_service.next_number(session, f"inspection-round-{day.year}")
    round_ = InspectionRound(
        round_no=f"XC{day.year}-{number:04d}",
        template=template.id,
        scope_kind=scope.level.value,
        scope_value=_value(scope),
        started_on=day,
        inspector=inspector.strip(),
        inspected_party=inspected_party.strip(),
        status=OPEN,
        operator=operator,
        created_at=session.info["clock"].now(),
    )
    session.add(round_)
    session.flush()
    return round_info(session, round_)


@dataclass(frozen=True)
class RoundItem:
    """One line of the round's checklist on screen: an item at a place, and its answer if any."""

    item_id: str
    label: str
    look: str
    section: str
    location: str
    location_label: str
    results: tuple[Result, ...]
    photo_required: bool
    structural: bool
    result: Result | None = None
    severity: Severity | None = None
    danger_grade: DangerGrade | None = None
    note: str = ""
    photo_path: str = ""


def round_items(session: Session, round_no: str, location: str | None = None) -> list[RoundItem]:
    """The round's checklist (every item at every place), or the items at and around one place."""
    round_ = find_round(session, round_no)
    template = load_template(round_.template)
    place = _place(location) if location else None
    results = _results(session, round_.id)
    sections = {item.id: section.title for section in template.sections for item in section.items}
    rows: list[RoundItem] = []
    for item, where in expected(session, round_, template):
        if place is not None and not (where.contains(place) or place.contains(where)):
            continue
        answer = results.get((item.id, str(where)))
        rows.append(
            RoundItem(
                item_id=item.id,
                label=item.label,
                look=item.look,
                section=sections[item.id],
                location=str(where),
                location_label=where.label,
                results=item.results,
                photo_required=item.photo,
                structural=item.structural,
                result=Result(answer.result) if answer else None,
                severity=Severity(answer.severity) if answer and answer.severity else None,
                danger_grade=DangerGrade(answer.danger_grade) if answer and answer.danger_grade else None,
                note=answer.note if answer else "",
                photo_path=answer.photo_path if answer else "",
            )
        )
    return rows


class OutsideScope(UserError):
    """A scanned place that is not part of the round; the screen offers add_to_scope(place)."""

    def __init__(self, message: str, place: Scope) -> None:
        super().__init__(message)
        self.place = place


def scan(session: Session, round_no: str, text: str) -> tuple[Scope, list[RoundItem]]:
    """A scanned label (or a typed unit code) during a round → that unit and the round's items there."""
    from yuexiu_desk.labels.payload import RecordKind
    from yuexiu_desk.services.lookup import resolve

    round_ = find_round(session, round_no)
    resolved = resolve(session, text)
    if resolved.kind is not RecordKind.UNIT:
        raise UserError("请扫描房源标签或输入房号。")
    unit = session.get(Unit, resolved.record_id)
    assert unit is not None
    place = Scope.unit(unit.building_no, unit.entrance, unit.floor, unit.room)
    scope = _scope_of(round_)
    # Inside the round's scope, or inside a place added to it (a building added covers its units).
    if not scope.contains(place) and not any(added.contains(place) for added in _added(round_)):
        raise OutsideScope(
            f"{place.label} 不在本轮检查（{round_.round_no}，{scope.label}）的范围内；"
            f"如需一并检查，请把它加入本轮（inspections add-scope {round_.round_no} {place.label}）。",
            place,
        )
    return place, round_items(session, round_no, str(place))


def add_to_scope(session: Session, round_no: str, place_text: str, operator: str) -> RoundInfo:
    """Add a place outside the round's scope to it (after a scan of its label): its items are asked too."""
    require(session, "inspection.record")
    round_ = find_round(session, round_no)
    if round_.status != OPEN:
        raise UserError(f"检查轮次 {round_.round_no} 已结束，不能再加入检查范围。")
    text = place_text.strip()
    place = Scope.parse(text if ":" in text or text == "estate" else f"unit:{text}")
    _check_place(session, place)
    scope = _scope_of(round_)
    added = _added(round_)
    if scope.contains(place) or place in added:
        raise UserError(f"{place.label} 已在本轮检查范围内。")
    template = load_template(round_.template)
    if not any(item.per is place.level for item in template.items):
        raise UserError(f"“{template.title}”没有按{place.level.label}检查的项目，不能加入 {place.label}。")
    round_.added_scope = json.dumps([*(str(p) for p in added), str(place)])
    session.flush()
    return round_info(session, round_)


@dataclass(frozen=True)
class Answer:
    item_id: str
    location: str  # scope string, or a unit code
    result: str  # ok / defect / na or 正常 / 有隐患 / 不适用
    severity: str = ""
    danger_grade: str = ""
    note: str = ""
    photo_path: str = ""


def _place(text: str) -> Scope:
    cleaned = text.strip()
    if cleaned and ":" not in cleaned and cleaned != "estate":
        return Scope.parse(f"unit:{cleaned}")
    return Scope.parse(cleaned)


def record_result(session: Session, round_no: str, answer: Answer, operator: str) -> Hazard | None:
    """Record (or correct) one answer of an open round. A defect opens its hazard (or updates it); an ok
    answer re-inspects the place's open hazards of that item from earlier rounds and accepts them."""
    require(session, "inspection.record")
    round_ = find_round(session, round_no)
    if round_.status != OPEN:
        raise UserError(f"检查轮次 {round_.round_no} 已结束，不能再修改检查结果。")
    template = load_template(round_.template)
    item = template.item(answer.item_id.strip())
    place = _place(answer.location)
    if (item, place) not in set(expected(session, round_, template)):
        raise UserError(
            f"本轮没有在 {place.label} 检查“{item.label}”的要求，请核对位置（{item.per.label}）。"
        )
    result = parse_choice(Result, answer.result, f"“{item.label}”的检查结果")
    if result not in item.results:
        raise UserError(f"“{item.label}”的检查结果只能是：{'、'.join(r.label for r in item.results)}。")
    severity: Severity | None = None
    grade: DangerGrade | None = None
    note = answer.note.strip()
    if result is Result.DEFECT:
        if not answer.severity.strip():
            raise UserError(f"“{item.label}”有隐患，请选择严重程度（一般、较大、重大）。")
        severity = parse_choice(Severity, answer.severity, "严重程度")
        if item.structural:
            if not answer.danger_grade.strip():
                raise UserError(f"“{item.label}”是结构安全项，有隐患时请评定危险等级（A、B、C、D）。")
            grade = parse_choice(DangerGrade, answer.danger_grade.strip().upper(), "危险等级")
        if item.note and not note:
            raise UserError(f"“{item.label}”有隐患，请在说明中写明部位和情况。")
        if item.photo and not answer.photo_path.strip():
            raise UserError(f"“{item.label}”有隐患时须拍照，请附上照片。")
    elif answer.severity.strip() or answer.danger_grade.strip():
        raise UserError(f"“{item.label}”为“{result.label}”，不需要严重程度或危险等级。")
    now = session.info["clock"].now()
    stored = _results(session, round_.id).get((item.id, str(place)))
    if stored is not None and stored.result == Result.DEFECT.value and result is not Result.DEFECT:
        hazard_service.withdraw_hazard(session, stored)
    if stored is None:
        stored = InspectionResult(round_id=round_.id, item_key=item.id, location=str(place))
        session.add(stored)
    stored.result = result.value
    stored.severity = severity.value if severity else ""
    stored.danger_grade = grade.value if grade else ""
    stored.note = note
    stored.photo_path = answer.photo_path.strip()
    stored.operator = operator
    stored.recorded_at = now
    session.flush()
    if result is Result.DEFECT:
        return hazard_service.open_hazard(session, round_, stored, template, item, place, operator)
    if result is Result.OK:
        hazard_service.fixed_by_round(session, round_, item.id, str(place), round_.started_on)
    return None


def record_rest_ok(session: Session, round_no: str, operator: str, location: str | None = None) -> int:
    """Answer every item not answered yet (at and around one place, when given) as ok; returns how many.

    Written in one go (one query for the answers, one for the hazards it re-inspects): a building's
    round has a few hundred items.
    """
    require(session, "inspection.record")
    round_ = find_round(session, round_no)
    if round_.status != OPEN:
        raise UserError(f"检查轮次 {round_.round_no} 已结束，不能再修改检查结果。")
    template = load_template(round_.template)
    place = _place(location) if location else None
    answered = set(_results(session, round_.id))
    now = session.info["clock"].now()
    new: list[dict[str, Any]] = []
    for item, where in expected(session, round_, template):
        if place is not None and not (where.contains(place) or place.contains(where)):
            continue
        if (item.id, str(where)) in answered or Result.OK not in item.results:
            continue
        new.append(
            {
                "id": uuid.uuid4(),
                "round_id": round_.id,
                "item_key": item.id,
                "location": str(where),
                "result": Result.OK.value,
                "severity": "",
                "danger_grade": "",
                "note": "",
                "photo_path": "",
                "operator": operator,
                "recorded_at": now,
            }
        )
    if new:
        # One bulk INSERT (and its change-journal rows, which the ORM listener would otherwise add one by one).
        session.execute(insert(InspectionResult), new)
        session.execute(
            insert(ChangeJournal),
            [
                {
                    "table_name": InspectionResult.__tablename__,
                    "record_id": row["id"],
                    "operation": "insert",
                    "station_id": session.info.get("station_id"),
                    "operator": session.info.get("operator") or operator,
                    "recorded_at": now,
                }
                for row in new
            ],
        )
    keys = {(r["item_key"], r["location"]) for r in new}
    open_hazards = session.scalars(
        select(Hazard).where(
            Hazard.status == hazard_service.HazardStatus.OPEN.value,
            Hazard.round_id != round_.id,
            Hazard.template == template.id,
        )
    ).all()
    for hazard in open_hazards:
        if (hazard.item_key, hazard.location) in keys:
            hazard_service.fixed_by_round(
                session, round_, hazard.item_key, hazard.location, round_.started_on
            )
    return len(new)


def close_round(session: Session, round_no: str, operator: str, closed_on: date | None = None) -> RoundInfo:
    """Close a round; refused while any item is unanswered (the message says how many)."""
    require(session, "inspection.record")
    round_ = find_round(session, round_no)
    if round_.status != OPEN:
        raise UserError(f"检查轮次 {round_.round_no} 已经结束。")
    info = round_info(session, round_)
    if info.unanswered:
        raise UserError(
            f"检查轮次 {round_.round_no} 还有 {info.unanswered} 项未填写（共 {info.expected} 项），"
            f"不能结束；请逐项填写后再结束。"
        )
    today = _today(session)
    day = closed_on or today
    if day < round_.started_on or day > today:
        raise UserError(f"结束日期应在开始日期 {round_.started_on} 与今天之间。")
    round_.closed_on = day
    round_.status = CLOSED
    session.flush()
    return dataclasses.replace(info, closed_on=day, status=CLOSED)


def list_rounds(session: Session, open_only: bool = False) -> list[RoundInfo]:
    query = select(InspectionRound).order_by(
        InspectionRound.started_on.desc(), InspectionRound.round_no.desc()
    )
    if open_only:
        query = query.where(InspectionRound.status == OPEN)
    return [round_info(session, r) for r in session.scalars(query)]


# -- elevator certificates (S5) --------------------------------------------------------------------------


@dataclass(frozen=True)
class CertificateDue:
    elevator: str
    location: str
    certificate_no: str
    expires_on: date
    days_left: int
    alert: bool  # within the template's alert window (30 days) or expired


def record_certificate(
    session: Session,
    location_text: str,
    certificate_no: str,
    expires_on: date,
    operator: str,
    elevator: str = "",
) -> None:
    require(session, "inspection.record")
    place = Scope.parse(location_text)
    _check_place(session, place)
    if not certificate_no.strip():
        raise UserError("请填写电梯使用标志（检验合格证）编号。")
    session.add(
        ElevatorCertificate(
            elevator=elevator.strip() or f"{place.label}电梯",
            location=str(place),
            certificate_no=certificate_no.strip(),
            expires_on=expires_on,
            operator=operator,
            created_at=session.info["clock"].now(),
        )
    )
    session.flush()


def certificates(session: Session, today: date | None = None) -> list[CertificateDue]:
    """Each elevator's newest certificate and whether it is within the alert window (S5, 30 days)."""
    today = today or _today(session)
    alert_days = max((t.certificate_alert_days for t in load_all_templates().values()), default=30) or 30
    newest: dict[str, ElevatorCertificate] = {}
    for cert in session.scalars(select(ElevatorCertificate).order_by(ElevatorCertificate.expires_on)):
        newest[cert.location] = cert
    rows = [
        CertificateDue(
            elevator=c.elevator,
            location=c.location,
            certificate_no=c.certificate_no,
            expires_on=c.expires_on,
            days_left=(c.expires_on - today).days,
            alert=(c.expires_on - today).days <= alert_days,
        )
        for c in newest.values()
    ]
    rows.sort(key=lambda r: r.expires_on)
    return rows


# -- the quarterly inspection report ---------------------------------------------------------------------


def parse_quarter(text: str) -> tuple[date, date]:
    """ "2026-Q3" → (first day, last day) of the quarter."""
    cleaned = (text or "").strip().upper()
    year, sep, q = cleaned.partition("-Q")
    if not sep or not year.isdigit() or len(year) != 4 or q not in ("1", "2", "3", "4"):
        raise UserError(f"季度“{text.strip()}”不对，请写成 YYYY-Qn，例如 2026-Q3。")
    start = date(int(year), 3 * int(q) - 2, 1)
    end = date(int(year) + (q == "4"), 1 if q == "4" else 3 * int(q) + 1, 1) - timedelta(days=1)
    return start, end


@dataclass(frozen=True)
class TemplateFigures:
    template: str
    title: str
    due: int
    done: int
    items_checked: int
    defects: int


@dataclass
class QuarterReport:
    quarter: str
    start: date
    end: date
    templates: list[TemplateFigures] = field(default_factory=list)
    defects_by_kind: dict[str, int] = field(default_factory=dict)
    defects_by_building: dict[str, int] = field(default_factory=dict)
    hazards_opened: int = 0
    hazards_closed: int = 0
    hazards_overdue: int = 0
    # Per template: (round_no, closed_on, scope label, place label, {item id: result text}) for the Excel sheets.
    details: dict[str, list[tuple[str, date, str, str, dict[str, str]]]] = field(default_factory=dict)

    @property
    def rounds_due(self) -> int:
        return sum(t.due for t in self.templates)

    @property
    def rounds_done(self) -> int:
        return sum(t.done for t in self.templates)

    @property
    def items_checked(self) -> int:
        return sum(t.items_checked for t in self.templates)


@cache
def _quarter_label(start: date) -> str:
    return f"{start.year}年第{(start.month - 1) // 3 + 1}季度"


def quarter_report(session: Session, quarter: str) -> QuarterReport:
    """Rounds done vs due, items checked, defects by kind and building, hazards opened / closed / overdue."""
    from yuexiu_desk.inspection_templates import result_text

    start, end = parse_quarter(quarter)
    today = _today(session)
    units = unit_places(session)
    report = QuarterReport(quarter=_quarter_label(start), start=start, end=end)
    rounds = session.scalars(
        select(InspectionRound).where(
            InspectionRound.status == CLOSED,
            InspectionRound.closed_on >= start,
            InspectionRound.closed_on <= end,
        )
    ).all()
    by_template: dict[str, list[InspectionRound]] = {}
    for r in rounds:
        by_template.setdefault(r.template, []).append(r)
    results_by_round: dict[uuid.UUID, list[InspectionResult]] = {}
    if rounds:
        for res in session.scalars(
            select(InspectionResult).where(InspectionResult.round_id.in_([r.id for r in rounds]))
        ):
            results_by_round.setdefault(res.round_id, []).append(res)
    kinds: Tally[str] = Tally()
    buildings: Tally[str] = Tally()
    days = (end - start).days + 1
    for template in load_all_templates().values():
        count = 1 if template.scope is Level.ESTATE else len(places(units, template.scope))
        cadence = template.cadence
        per_place = math.ceil(days / cadence.days) if cadence.days else 3 // cadence.months
        done = by_template.get(template.id, [])
        checked = defects = 0
        rows: list[tuple[str, date, str, str, dict[str, str]]] = []
        items = {item.id: item for item in template.items}
        for r in sorted(done, key=lambda r: (r.closed_on or start, r.round_no)):
            per_place_results: dict[str, dict[str, str]] = {}
            for res in results_by_round.get(r.id, []):
                checked += 1
                answer = Result(res.result)
                per_place_results.setdefault(res.location, {})[res.item_key] = result_text(
                    answer,
                    Severity(res.severity) if res.severity else None,
                    DangerGrade(res.danger_grade) if res.danger_grade else None,
                )
                if answer is Result.DEFECT:
                    defects += 1
                    item = items.get(res.item_key)
                    kinds[hazard_service.kind_label(item.kind if item else "other")] += 1
                    place = Scope.parse(res.location)
                    buildings[f"{place.path[0]}栋" if place.path else "全小区"] += 1
            scope_label = _scope_of(r).label
            for location, answers in sorted(per_place_results.items(), key=lambda kv: Scope.parse(kv[0])):
                assert r.closed_on is not None
                rows.append((r.round_no, r.closed_on, scope_label, Scope.parse(location).label, answers))
        report.details[template.id] = rows
        report.templates.append(
            TemplateFigures(template.id, template.title, count * per_place, len(done), checked, defects)
        )
    report.defects_by_kind = dict(kinds.most_common())
    report.defects_by_building = dict(sorted(buildings.items()))
    at = min(end, today)
    hazards = session.scalars(select(Hazard)).all()
    report.hazards_opened = sum(1 for h in hazards if start <= h.found_on <= end)
    report.hazards_closed = sum(1 for h in hazards if h.closed_on is not None and start <= h.closed_on <= end)
    report.hazards_overdue = sum(
        1 for h in hazards if h.found_on <= at and h.deadline < at and not _fixed_by(h, at)
    )
    return report


def _fixed_by(hazard: Hazard, day: date) -> bool:
    """Whether a re-inspection had found the hazard fixed on or before day."""
    fixed_on = hazard.reinspected_on if hazard.status != hazard_service.HazardStatus.OPEN.value else None
    return fixed_on is not None and fixed_on <= day
