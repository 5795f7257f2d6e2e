"""Check-in handover (入住交接) and move-out (退出): readings, keys, the room checklist, damages and settlement.

What is asked is the form definition's (forms/checkin.toml, forms/moveout.toml): every meter, key and
checklist item is stored under its key there, so adding an item to the TOML adds it here with no code
change. Move-out ends the lease and returns the unit to vacant (or under repair) through an 异动 event.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from sqlalchemy import select
from sqlalchemy.orm import Session

from yuexiu_desk.clock import local_date
from yuexiu_desk.domain.leases import (
    CURRENT_STATUSES,
    DEFAULT_RULES,
    LeaseRules,
    LeaseStatus,
)
from yuexiu_desk.domain.money import format_yuan, yuan_to_fen
from yuexiu_desk.domain.units import UnitStatus
from yuexiu_desk.errors import UserError
from yuexiu_desk.formdefs import FormDefinition, SectionType, load_form
from yuexiu_desk.services.access import require
from yuexiu_desk.services.units import change_status
from yuexiu_desk.storage.models import Handover, HandoverDamage, HandoverValue, Lease, Unit

CHECKIN = "checkin"
MOVEOUT = "moveout"


@dataclass(frozen=True)
class HandoverInput:
    held_on: date
    readings: Mapping[str, str] = field(default_factory=dict)  # "meters.water_meter" → "123.45" as typed
    counts: Mapping[str, str] = field(default_factory=dict)  # "keys.door_keys" → "3"
    results: Mapping[str, tuple[str, str]] = field(default_factory=dict)  # "kitchen.gas_stove" → (完好, note)
    notes: str = ""


@dataclass(frozen=True)
class MoveOutInput(HandoverInput):
    move_out_date: date | None = None  # the last day the household has the unit; defaults to held_on
    damages: Sequence[tuple[str, str]] = ()  # (description, amount in 元 as typed)
    unit_after: UnitStatus = UnitStatus.VACANT  # or UNDER_REPAIR when the flat needs work first
    confirm_lower_readings: bool = False  # a meter was replaced, so a lower reading is right


def _keys(definition: FormDefinition, kind: SectionType) -> dict[str, str]:
    """Storage key → label for the readings or counts of a form."""
    return {
        f"{section.id}.{f.id}": f.label
        for section in definition.sections
        if section.type is kind
        for f in section.fields
    }


def _number(text: str, label: str) -> int:
    """A meter reading as typed → hundredths; refuses negatives, words and more than two decimals."""
    raw = str(text).strip()
    if not raw:
        raise UserError(f"请填写{label}读数。")
    try:
        value = Decimal(raw)
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite() or value < 0 or value != value.quantize(Decimal("0.01")):
        raise UserError(f"{label}读数“{raw}”不对：应为不小于 0 的数字，最多两位小数。")
    return int(value * 100)


def _values(definition: FormDefinition, data: HandoverInput) -> list[HandoverValue]:
    readings, counts = _keys(definition, SectionType.READINGS), _keys(definition, SectionType.COUNTS)
    items = {item.id: item for item in definition.items}
    unknown = (
        (set(data.readings) - set(readings))
        | (set(data.counts) - set(counts))
        | (set(data.results) - set(items))
    )
    if unknown:
        raise UserError(
            f"表单中没有这些项目：{'、'.join(sorted(unknown))}；请按当前的{definition.title}填写。"
        )
    values: list[HandoverValue] = []
    for key, label in readings.items():
        values.append(HandoverValue(key=key, reading_hundredths=_number(data.readings.get(key, ""), label)))
    for key, label in counts.items():
        raw = str(data.counts.get(key, "")).strip()
        if not raw.isdigit():
            raise UserError(f"请填写交接的{label}数量（0 或正整数）。")
        values.append(HandoverValue(key=key, count=int(raw)))
    missing = [item.label for key, item in items.items() if key not in data.results]
    if missing:
        raise UserError(f"还有 {len(missing)} 项未查验（{'、'.join(missing[:5])}…），请逐项填写后再保存。")
    for key, item in items.items():
        result, note = data.results[key]
        if result not in item.results:
            raise UserError(f"“{item.label}”的状况只能是：{'、'.join(item.results)}。")
        if result != item.results[0] and not note.strip():
            raise UserError(f"“{item.label}”为“{result}”，请在备注中写明部位和程度。")
        values.append(HandoverValue(key=key, result=result, note=note.strip()))
    return values


def _lease(session: Session, lease_no: str) -> Lease:
    lease: Lease | None = session.scalar(
        select(Lease).where(Lease.lease_no == lease_no.strip(), Lease.status.in_(CURRENT_STATUSES))
    )
    if lease is None:
        raise UserError(f"没有编号为 {lease_no.strip()} 的生效合同，请核对合同编号。")
    return lease


def _existing(session: Session, lease_no: str, kind: str) -> Handover | None:
    """The lease's check-in or move-out, whichever version of the lease it was recorded on (a change of
    rent tier or a renewal makes a new version; the tenancy, and its handovers, stay the same)."""
    found: Handover | None = session.scalar(
        select(Handover)
        .join(Lease, Lease.id == Handover.lease_id)
        .where(Lease.lease_no == lease_no, Handover.kind == kind)
        .limit(1)
    )
    return found


def record_checkin(session: Session, lease_no: str, data: HandoverInput, operator: str) -> uuid.UUID:
    """Save the check-in handover of an active lease (all readings, keys and checklist items answered)."""
    require(session, "handover.record")
    lease = _lease(session, lease_no)
    if _existing(session, lease.lease_no, CHECKIN) is not None:
        raise UserError(f"合同 {lease.lease_no} 已办理入住交接，不能重复办理。")
    if data.held_on > local_date(session.info["clock"].now()):
        raise UserError("交接日期不能晚于今天。")
    handover = Handover(
        lease_id=lease.id,
        kind=CHECKIN,
        held_on=data.held_on,
        notes=data.notes.strip(),
        operator=operator,
        created_at=session.info["clock"].now(),
    )
    handover.values = _values(load_form(CHECKIN), data)
    session.add(handover)
    session.flush()
    return handover.id


@dataclass(frozen=True)
class Settlement:
    """The move-out settlement (fen). Rent of the move-out month is billed to the day (R1) and damages are
    billed, so both are part of what the household owes; unpaid_bills is the rest of it (earlier bills,
    water, electricity …; negative when the household had paid ahead)."""

    rent_to_day_fen: int
    unpaid_bills_fen: int
    damages_fen: int
    deposit_fen: int

    @property
    def balance_fen(self) -> int:
        """Positive: refunded to the household; negative: the household still owes it."""
        return self.deposit_fen - self.rent_to_day_fen - self.unpaid_bills_fen - self.damages_fen


def record_moveout(
    session: Session, lease_no: str, data: MoveOutInput, operator: str, rules: LeaseRules = DEFAULT_RULES
) -> Settlement:
    """Save the move-out inspection and settlement, end the lease, and free the unit through an 异动."""
    require(session, "handover.record")
    lease = _lease(session, lease_no)
    checkin = _existing(session, lease.lease_no, CHECKIN)
    move_out = data.move_out_date or data.held_on
    if move_out < lease.start_date:
        raise UserError(f"退出日期 {move_out} 早于合同开始日期 {lease.start_date}，请核对。")
    if checkin is not None and move_out < checkin.held_on:
        raise UserError(f"退出日期 {move_out} 早于入住交接日期 {checkin.held_on}，请核对。")
    if data.held_on > local_date(session.info["clock"].now()):
        raise UserError("查验日期不能晚于今天。")
    if data.unit_after not in (UnitStatus.VACANT, UnitStatus.UNDER_REPAIR):
        raise UserError("退出后房源只能转为“空置”或“维修中”。")
    values = _values(load_form(MOVEOUT), data)
    if checkin is not None and not data.confirm_lower_readings:
        before = {v.key: v.reading_hundredths for v in checkin.values if v.reading_hundredths is not None}
        lower = [
            v.key
            for v in values
            if v.reading_hundredths is not None and v.reading_hundredths < before.get(v.key, 0)
        ]
        if lower:
            labels = _keys(load_form(MOVEOUT), SectionType.READINGS)
            raise UserError(
                f"{'、'.join(labels[k] for k in lower)}读数低于入住时；如果换过表，请勾选“已换表”后再保存。"
            )
    damages = []
    for position, (description, amount) in enumerate(data.damages, start=1):
        if not description.strip():
            raise UserError(f"第 {position} 项损坏没有写明内容。")
        fen = yuan_to_fen(amount, f"第 {position} 项损坏的赔偿金额")
        if fen < 0:
            raise UserError(f"第 {position} 项损坏的赔偿金额不能为负数。")
        damages.append(HandoverDamage(position=position, description=description.strip(), amount_fen=fen))
    # Imported here: the unit card imports this module, and start-up should not pay for billing.
    from yuexiu_desk.services.billing import bill_final_month

    damages_fen = sum(d.amount_fen for d in damages)
    final = bill_final_month(
        session,
        lease.lease_no,
        move_out,
        damages_fen,
        "；".join(f"{d.description} {format_yuan(d.amount_fen)} 元" for d in damages),
        operator,
        lease_rules=rules,
    )
    settlement = Settlement(
        rent_to_day_fen=final.final_rent_fen,
        unpaid_bills_fen=final.owed_fen - final.final_rent_fen - damages_fen,
        damages_fen=damages_fen,
        deposit_fen=lease.deposit_fen,
    )
    handover = Handover(
        lease_id=lease.id,
        kind=MOVEOUT,
        held_on=data.held_on,
        move_out_date=move_out,
        notes=data.notes.strip(),
        rent_to_day_fen=settlement.rent_to_day_fen,
        damages_fen=settlement.damages_fen,
        unpaid_bills_fen=settlement.unpaid_bills_fen,
        deposit_fen=settlement.deposit_fen,
        balance_fen=settlement.balance_fen,
        operator=operator,
        created_at=session.info["clock"].now(),
    )
    handover.values = values
    handover.damages = damages
    session.add(handover)
    if lease.status == LeaseStatus.ACTIVE.value:
        lease.ended_on = move_out
        lease.end_kind = "move_out"
        lease.end_reason = "退出交接"
    # A terminated lease keeps its termination date, kind and reason; the move-out day is on the handover.
    lease.status = LeaseStatus.ENDED.value
    unit = session.get(Unit, lease.unit_id)
    assert unit is not None
    reason = f"退租腾空（合同 {lease.lease_no}，{move_out} 退出）"
    if data.unit_after is UnitStatus.UNDER_REPAIR:
        reason = f"退租后需维修（合同 {lease.lease_no}，{move_out} 退出）"
    change_status(session, unit.id, data.unit_after, reason, operator)
    session.flush()
    return settlement


def handover_values(session: Session, lease_no: str, kind: str) -> dict[str, HandoverValue] | None:
    """The saved answers of a lease's check-in or move-out by key (for the filled forms), or None."""
    lease: Lease | None = session.scalar(
        select(Lease).where(Lease.lease_no == lease_no.strip()).order_by(Lease.version.desc()).limit(1)
    )
    if lease is None:
        return None
    handover = _existing(session, lease.lease_no, kind)
    return None if handover is None else {v.key: v for v in handover.values}
