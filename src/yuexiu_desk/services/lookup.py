"""One way in for everything scanned or typed: a label payload or a unit code → the unit.

The scanner box, image decoding and the CLI all resolve text here, so they accept and refuse the same things.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from yuexiu_desk.domain.units import UnitCode
from yuexiu_desk.errors import UserError
from yuexiu_desk.labels.payload import Payload, RecordKind, looks_like_payload, parse
from yuexiu_desk.services.units import find_unit_id_by_code
from yuexiu_desk.storage.db import require_station
from yuexiu_desk.storage.models import Lease, Unit

# A work-order number as printed on its slip, e.g. YXY01-WX2026-00012.
WORK_ORDER_NUMBER = re.compile(r"^[0-9A-Za-z]{1,8}-[Ww][Xx]\d{4}-\d{1,6}$")


@dataclass(frozen=True)
class Resolved:
    kind: RecordKind
    record_id: uuid.UUID
    code: str
    via: str  # "label", "form" (a printed form's QR), "work_order" (a work-order slip's QR) or "code"
    # A work-order slip resolves to its unit (record_id, code) and names the order here.
    work_order_id: uuid.UUID | None = None
    work_order_number: str = ""


def resolve(session: Session, text: str) -> Resolved:
    """What text (a scanned payload or a typed unit code) points at, or a UserError saying why not."""
    cleaned = text.strip()
    if not cleaned:
        raise UserError("没有读到内容，请扫描标签或输入房号（例如 1-2-1603）。")
    if WORK_ORDER_NUMBER.match(cleaned):
        # Checked first: a number starts with the station code, which may itself start like a payload (YX…).
        return _resolve_work_order(session, _payload_of_number(session, cleaned))
    if looks_like_payload(cleaned):
        station = require_station(session)
        payload = parse(cleaned, station.code)
        if payload.kind is RecordKind.FORM:
            return _resolve_form(session, payload)
        unit = session.get(Unit, payload.record_id)
        if unit is None:
            raise UserError("标签有效，但本站数据中没有这个房源（可能已被删除或数据目录不对）。")
        return Resolved(payload.kind, unit.id, unit.code, "label")
    if UnitCode.looks_like(cleaned):
        unit_id = find_unit_id_by_code(session, cleaned)
        unit = session.get(Unit, unit_id)
        assert unit is not None
        return Resolved(RecordKind.UNIT, unit_id, unit.code, "code")
    raise UserError(
        f"“{cleaned[:40]}”既不是本系统的标签，也不是房号；请扫描房源标签或输入房号（例如 1-2-1603）。"
    )


def unit_payload(station_code: str, unit_id: uuid.UUID) -> str:
    return Payload(RecordKind.UNIT, station_code, unit_id).encode()


def _resolve_form(session: Session, payload: Payload) -> Resolved:
    """A printed form's QR → the unit of the lease or household it belongs to (the clerk sees that unit)."""
    from yuexiu_desk.formdefs import RESERVED_CODES, RecordType, form_for_code
    from yuexiu_desk.inspection_templates import ROUND_FORM
    from yuexiu_desk.printing.repairs import WORK_ORDER_FORM
    from yuexiu_desk.services.form_print import NO_RECORD

    if payload.form == ROUND_FORM:
        return _resolve_round(session, payload)
    if payload.form == WORK_ORDER_FORM:
        return _resolve_work_order(session, payload)
    if payload.form in RESERVED_CODES:
        return _resolve_money_record(session, payload, RESERVED_CODES[payload.form])
    definition = form_for_code(payload.form or "")
    if payload.record_id == NO_RECORD:
        raise UserError(f"这是一张空白的{definition.title}，没有关联合同或住户；请扫描房源标签或输入房号。")
    if definition.record is RecordType.LEASE:
        lease = session.get(Lease, payload.record_id)
    else:
        lease = session.scalar(
            select(Lease)
            .where(Lease.household_id == payload.record_id)
            .order_by(Lease.start_date.desc())
            .limit(1)
        )
    unit = session.get(Unit, lease.unit_id) if lease is not None else None
    if unit is None:
        raise UserError(f"这张{definition.title}对应的记录不在本站数据中（可能数据目录不对）。")
    return Resolved(RecordKind.UNIT, unit.id, unit.code, "form")


def _resolve_money_record(session: Session, payload: Payload, title: str) -> Resolved:
    """A receipt's QR → the unit it was paid for; a reminder notice's → the unit of the household dunned."""
    from yuexiu_desk.printing.receipts import NOTICE_FORM, RECEIPT_FORM
    from yuexiu_desk.storage.billing_models import DunningAction, Payment

    unit_id: uuid.UUID | None = None
    if payload.form == RECEIPT_FORM:
        payment = session.get(Payment, payload.record_id)
        unit_id = payment.unit_id if payment is not None else None
    elif payload.form == NOTICE_FORM:
        action = session.get(DunningAction, payload.record_id)
        if action is not None:
            unit_id = session.scalar(select(Lease.unit_id).where(Lease.lease_no == action.lease_no).limit(1))
    unit = session.get(Unit, unit_id) if unit_id is not None else None
    if unit is None:
        raise UserError(f"这张{title}对应的记录不在本站数据中（可能数据目录不对）。")
    return Resolved(RecordKind.UNIT, unit.id, unit.code, "form")


def _resolve_round(session: Session, payload: Payload) -> Resolved:
    """An inspection record's QR → its unit when the round is for one unit; otherwise the round is named (a
    building's record opens in the inspection round, not on a unit card)."""
    from yuexiu_desk.inspection_templates import Level, Scope, load_template
    from yuexiu_desk.storage.inspection_models import InspectionRound

    round_ = session.get(InspectionRound, payload.record_id)
    if round_ is None:
        raise UserError("这张检查记录表对应的检查轮次不在本站数据中（可能数据目录不对）。")
    if round_.scope_kind == Level.UNIT.value:
        unit_id = find_unit_id_by_code(session, round_.scope_value)
        return Resolved(RecordKind.UNIT, unit_id, round_.scope_value, "form")
    scope = (
        Scope.parse(f"{round_.scope_kind}:{round_.scope_value}")
        if round_.scope_value
        else Scope(Level.ESTATE)
    )
    title = load_template(round_.template).title
    raise UserError(
        f"这是{scope.label}的{title}（检查轮次 {round_.round_no}），不是房源；"
        f"请在检查轮次中打开它（yuexiu-desk inspections show {round_.round_no}）。"
    )


def round_no_of(session: Session, text: str) -> str:
    """A scanned inspection record's QR, or a typed round number (XC2026-0001) → the round number."""
    from yuexiu_desk.inspection_templates import ROUND_FORM
    from yuexiu_desk.storage.inspection_models import InspectionRound

    cleaned = text.strip()
    if not looks_like_payload(cleaned):
        return cleaned.upper()
    payload = parse(cleaned, require_station(session).code)
    if payload.kind is not RecordKind.FORM or payload.form != ROUND_FORM:
        raise UserError("这不是检查记录表的二维码，请扫描检查记录表右上角的二维码或输入轮次编号。")
    round_ = session.get(InspectionRound, payload.record_id)
    if round_ is None:
        raise UserError("这张检查记录表对应的检查轮次不在本站数据中（可能数据目录不对）。")
    return round_.round_no


def _resolve_work_order(session: Session, payload: Payload) -> Resolved:
    """A work-order slip's QR → its unit, with the order named; a public-area order has no unit to open."""
    from yuexiu_desk.storage.repair_models import WorkOrder

    order = session.get(WorkOrder, payload.record_id)
    if order is None:
        raise UserError("这张维修派工单对应的维修单不在本站数据中（可能数据目录不对）。")
    unit = session.get(Unit, order.unit_id) if order.unit_id is not None else None
    if unit is None:
        raise UserError(
            f"这是公共区域的维修单 {order.number}（{order.location}），没有对应房源；请在维修台账中按单号查看。"
        )
    return Resolved(RecordKind.UNIT, unit.id, unit.code, "work_order", order.id, order.number)


def resolve_work_order(session: Session, text: str) -> uuid.UUID:
    """A scanned work-order slip or a typed work-order number → the order's id (public areas included)."""
    from yuexiu_desk.printing.repairs import WORK_ORDER_FORM
    from yuexiu_desk.storage.repair_models import WorkOrder

    cleaned = text.strip()
    if WORK_ORDER_NUMBER.match(cleaned):
        return _payload_of_number(session, cleaned).record_id
    if looks_like_payload(cleaned):
        payload = parse(cleaned, require_station(session).code)
        if payload.form == WORK_ORDER_FORM and session.get(WorkOrder, payload.record_id) is not None:
            return payload.record_id
    raise UserError(
        "这不是本站的维修派工单，请扫描派工单右上角的二维码或输入维修单号（例如 YXY01-WX2026-00012）。"
    )


def _payload_of_number(session: Session, number: str) -> Payload:
    """The slip payload of a typed work-order number (what scanning its slip would give)."""
    from yuexiu_desk.printing.repairs import WORK_ORDER_FORM
    from yuexiu_desk.storage.repair_models import WorkOrder

    found = session.scalar(select(WorkOrder.id).where(WorkOrder.number == number.strip().upper()))
    if found is None:
        raise UserError(f"没有编号为“{number.strip()}”的维修单，请核对编号或扫描派工单上的二维码。")
    return Payload(RecordKind.FORM, require_station(session).code, found, form=WORK_ORDER_FORM)
