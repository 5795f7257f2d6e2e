"""Complaints and suggestions (投诉建议): intake by channel, handling notes, the reply to the complainant,
the return visit (回访) with satisfaction, overdue ones first, and the public notice of results.

The time limit of each category is ComplaintRules ([U] defaults), fixed on the complaint at intake. The
complainant's name and phone are personal data: stored and shown only through services.people (masked);
the public notice carries neither, nor the unit.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import case, select
from sqlalchemy.orm import Session

from yuexiu_desk.clock import STATION_TZ, local_date
from yuexiu_desk.domain.identity import normalize_phone
from yuexiu_desk.domain.repairs import (
    DEFAULT_COMPLAINT_RULES,
    ComplaintCategory,
    ComplaintChannel,
    ComplaintRules,
    ComplaintStatus,
    check_satisfaction,
    parse_complaint_category,
    parse_complaint_channel,
)
from yuexiu_desk.errors import UserError
from yuexiu_desk.services import people
from yuexiu_desk.services.access import require
from yuexiu_desk.services.units import find_unit_id_by_code
from yuexiu_desk.services.workorders import checked_time, required_text
from yuexiu_desk.storage.db import require_station
from yuexiu_desk.storage.models import Unit
from yuexiu_desk.storage.repair_models import Complaint, ComplaintNote

_S = ComplaintStatus
UNANSWERED = (_S.RECEIVED.value, _S.HANDLING.value)


@dataclass(frozen=True)
class ComplaintRow:
    id: uuid.UUID
    number: str
    channel: ComplaintChannel
    category: ComplaintCategory
    content: str
    complainant: str  # masked
    phone: str  # masked
    unit_code: str
    handler: str
    status: ComplaintStatus
    received_at: datetime
    due_at: datetime
    replied_at: datetime | None
    satisfaction: int | None
    overdue: bool  # past its time limit without a reply (or replied after it)

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.number,
            "uuid": str(self.id),
            "channel": self.channel.value,
            "category": self.category.value,
            "complainant": self.complainant,
            "phone": self.phone,
            "unit_code": self.unit_code or None,
            "handler": self.handler,
            "status": self.status.value,
            "received_at": self.received_at.isoformat(),
            "due_at": self.due_at.isoformat(),
            "replied_at": self.replied_at.isoformat() if self.replied_at else None,
            "satisfaction": self.satisfaction,
            "overdue": self.overdue,
        }


def _row(complaint: Complaint, unit_code: str | None, now: datetime) -> ComplaintRow:
    answered = complaint.replied_at or now
    return ComplaintRow(
        id=complaint.id,
        number=complaint.number,
        channel=ComplaintChannel(complaint.channel),
        category=ComplaintCategory(complaint.category),
        content=complaint.content,
        complainant=people.masked_complainant_name(complaint),
        phone=people.masked_complainant_phone(complaint),
        unit_code=unit_code or "",
        handler=complaint.handler,
        status=ComplaintStatus(complaint.status),
        received_at=complaint.received_at,
        due_at=complaint.due_at,
        replied_at=complaint.replied_at,
        satisfaction=complaint.satisfaction,
        overdue=answered > complaint.due_at,
    )


def _complaint(session: Session, number: str) -> Complaint:
    cleaned = (number or "").strip().upper()
    found = session.scalar(select(Complaint).where(Complaint.number == cleaned))
    if found is None:
        raise UserError(f"没有编号为“{number.strip()}”的投诉建议，请核对编号（例如 YXY01-TS2026-0003）。")
    return found


def get_complaint(session: Session, number: str) -> ComplaintRow:
    complaint = _complaint(session, number)
    code = (
        session.scalar(select(Unit.code).where(Unit.id == complaint.unit_id)) if complaint.unit_id else None
    )
    return _row(complaint, code, session.info["clock"].now())


def list_complaints(session: Session, open_only: bool = False) -> list[ComplaintRow]:
    """Unanswered ones past their limit first (most overdue first), then the other open ones by time limit,
    then the answered ones, newest first."""
    now: datetime = session.info["clock"].now()
    query = select(Complaint, Unit.code).outerjoin(Unit, Unit.id == Complaint.unit_id)
    if open_only:
        query = query.where(Complaint.status != _S.CLOSED.value)
    unanswered = Complaint.status.in_(UNANSWERED)
    query = query.order_by(
        case((unanswered, 0), else_=1),
        case((unanswered, Complaint.due_at), else_=None),
        Complaint.received_at.desc(),
    )
    return [_row(c, code, now) for c, code in session.execute(query)]


def _when(session: Session, at: datetime | None, not_before: datetime | None, what: str) -> datetime:
    return checked_time(session, at, not_before, what, earlier="受理时间")


def add_complaint(
    session: Session,
    *,
    channel: ComplaintChannel | str,
    category: ComplaintCategory | str,
    content: str,
    operator: str,
    complainant: str = "",
    phone: str = "",
    unit_code: str | None = None,
    handler: str = "",
    received_at: datetime | None = None,
    rules: ComplaintRules = DEFAULT_COMPLAINT_RULES,
) -> ComplaintRow:
    """受理 a complaint or suggestion; anonymous ones (a suggestion box slip) have no name or phone."""
    require(session, "complaint.manage")
    from yuexiu_desk.services.billing import next_number

    chan = parse_complaint_channel(channel)
    cat = parse_complaint_category(category)
    text = required_text(content, "请写明投诉或建议的内容（至少两个字）。")
    phone_number = normalize_phone(phone) if phone and phone.strip() else ""
    name = (complainant or "").strip()
    if len(name) > 50:
        raise UserError("投诉人姓名太长（最多 50 字）。")
    unit_id = find_unit_id_by_code(session, unit_code) if unit_code and unit_code.strip() else None
    when = _when(session, received_at, None, "受理")
    station = require_station(session)
    year = local_date(when).year
    complaint = Complaint(
        number=f"{station.code}-TS{year}-{next_number(session, f'complaint-{year}'):04d}",
        channel=chan.value,
        category=cat.value,
        content=text,
        unit_id=unit_id,
        handler=(handler or "").strip()[:50],
        status=_S.RECEIVED.value,
        received_at=when,
        due_at=rules.due(cat, when),
        operator=operator,
        updated_at=session.info["clock"].now(),
    )
    people.store_complainant(session, complaint, name, phone_number)
    session.add(complaint)
    session.flush()
    return get_complaint(session, complaint.number)


def add_note(
    session: Session, number: str, note: str, operator: str, handler: str = "", at: datetime | None = None
) -> ComplaintRow:
    """A handling note (处理记录); the first one moves the complaint to 处理中 and may name its handler."""
    require(session, "complaint.manage")
    complaint = _complaint(session, number)
    if complaint.status == _S.CLOSED.value:
        raise UserError(f"投诉建议 {complaint.number} 已回访办结，不能再添加处理记录。")
    text = required_text(note, "请写明处理情况（至少两个字）。")
    when = _when(session, at, complaint.received_at, "处理")
    session.add(ComplaintNote(complaint_id=complaint.id, noted_at=when, author=operator, note=text))
    if handler.strip():
        complaint.handler = handler.strip()[:50]
    if complaint.status == _S.RECEIVED.value:
        complaint.status = _S.HANDLING.value
    complaint.updated_at = session.info["clock"].now()
    session.flush()
    return get_complaint(session, complaint.number)


def notes(session: Session, number: str) -> list[tuple[datetime, str, str]]:
    complaint = _complaint(session, number)
    return [
        (n.noted_at, n.author, n.note)
        for n in session.scalars(
            select(ComplaintNote)
            .where(ComplaintNote.complaint_id == complaint.id)
            .order_by(ComplaintNote.noted_at)
        )
    ]


def reply(
    session: Session,
    number: str,
    text: str,
    operator: str,
    public_result: str = "",
    at: datetime | None = None,
) -> ComplaintRow:
    """The reply to the complainant (答复), and the sentence the public notice shows of the result."""
    require(session, "complaint.manage")
    complaint = _complaint(session, number)
    if complaint.status not in UNANSWERED:
        raise UserError(
            f"投诉建议 {complaint.number} 已经答复过（{ComplaintStatus(complaint.status).label}）。"
        )
    answer = required_text(text, "请填写给投诉人的答复内容（至少两个字）。")
    when = _when(session, at, complaint.received_at, "答复")
    complaint.reply, complaint.replied_at = answer, when
    complaint.public_result = (public_result or "").strip() or "已核实处理，并答复反映人。"
    complaint.status = _S.REPLIED.value
    if not complaint.handler:
        complaint.handler = operator[:50]
    complaint.updated_at = session.info["clock"].now()
    session.flush()
    return get_complaint(session, complaint.number)


def return_visit(
    session: Session,
    number: str,
    satisfaction: int,
    operator: str,
    comment: str = "",
    at: datetime | None = None,
) -> ComplaintRow:
    """回访 after the reply: satisfaction 1–5 and what the complainant said; closes the complaint."""
    require(session, "complaint.manage")
    complaint = _complaint(session, number)
    if complaint.status != _S.REPLIED.value:
        status = ComplaintStatus(complaint.status)
        if status is _S.CLOSED:
            raise UserError(f"投诉建议 {complaint.number} 已经回访办结。")
        raise UserError(f"投诉建议 {complaint.number} 还没有答复（{status.label}），答复后才能回访。")
    score = check_satisfaction(satisfaction)
    assert complaint.replied_at is not None
    when = _when(session, at, complaint.replied_at, "回访")
    complaint.visited_at, complaint.satisfaction, complaint.visit_comment = when, score, comment.strip()
    complaint.status = _S.CLOSED.value
    complaint.updated_at = session.info["clock"].now()
    session.flush()
    return get_complaint(session, complaint.number)


# ---- public notice ------------------------------------------------------------------------------------


def _local_midnight_utc(day: date) -> datetime:
    return datetime.combine(day, time.min, STATION_TZ).astimezone(UTC)


def notice_data(session: Session, start: date, end: date) -> Any:
    """The public results notice (投诉建议处理结果公示) of complaints received in a period and answered:
    number, date, channel, category, result, satisfaction — nothing about who or which unit."""
    from yuexiu_desk.printing.repairs import NoticeEntry, PublicNoticeData

    if end < start:
        raise UserError(f"结束日期 {end} 早于开始日期 {start}，请检查日期范围。")
    low, high = _local_midnight_utc(start), _local_midnight_utc(end + timedelta(days=1))
    received = list(
        session.scalars(
            select(Complaint)
            .where(Complaint.received_at >= low, Complaint.received_at < high)
            .order_by(Complaint.received_at, Complaint.number)
        )
    )
    entries = [
        NoticeEntry(
            number=c.number,
            received_on=local_date(c.received_at),
            channel=ComplaintChannel(c.channel).label,
            category=ComplaintCategory(c.category).label,
            result=c.public_result,
            on_time=c.replied_at is not None and c.replied_at <= c.due_at,
            satisfaction=c.satisfaction,
        )
        for c in received
        if c.replied_at is not None
    ]
    station = require_station(session)
    return PublicNoticeData(
        station_name=station.name,
        start=start,
        end=end,
        received=len(received),
        entries=tuple(entries),
        issued_on=local_date(session.info["clock"].now()),
    )


def print_notice(session: Session, start: date, end: date, out: Path) -> int:
    """Write the public notice PDF; returns how many handled complaints it lists."""
    from yuexiu_desk.printing.repairs import write_public_notice

    data = notice_data(session, start, end)
    write_public_notice(data, out)
    return len(data.entries)
