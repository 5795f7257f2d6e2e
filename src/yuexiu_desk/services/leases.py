"""Leases (租赁合同): rent standards in force, signing (配租/签订), listing, filing with the bureau (备案), what is due."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from yuexiu_desk.clock import local_date
from yuexiu_desk.domain.leases import (
    CURRENT_STATUSES,
    DEFAULT_RULES,
    LeaseRules,
    LeaseStatus,
    RentTier,
    TerminationKind,
    check_term,
    lease_deadlines,
    lease_end,
    monthly_rent_fen,
)
from yuexiu_desk.domain.money import fen_to_decimal, yuan_to_fen
from yuexiu_desk.domain.units import UnitStatus
from yuexiu_desk.errors import UserError
from yuexiu_desk.services.access import require
from yuexiu_desk.services.units import change_status, find_unit_id_by_code
from yuexiu_desk.storage.db import require_station
from yuexiu_desk.storage.models import Handover, Household, HouseholdMember, Lease, RentStandard, Unit


def add_rent_standard(
    session: Session, tier: RentTier, rate_yuan: str, effective_from: date, approval_doc: str = ""
) -> uuid.UUID:
    """A new version of a tier's rent standard (L5); earlier versions stay for leases signed under them."""
    rate = yuan_to_fen(rate_yuan, "租金标准")
    if rate <= 0:
        raise UserError("租金标准必须大于零（元/平方米·月）。")
    clash = session.scalar(
        select(RentStandard.id).where(
            RentStandard.tier == tier.value, RentStandard.effective_from == effective_from
        )
    )
    if clash is not None:
        raise UserError(f"{tier.label}在 {effective_from} 已有一条租金标准，请换一个生效日期。")
    standard = RentStandard(
        tier=tier.value,
        rate_fen_per_m2=rate,
        effective_from=effective_from,
        approval_doc=approval_doc.strip(),
        created_at=session.info["clock"].now(),
    )
    session.add(standard)
    session.flush()
    return standard.id


def rent_standard_in_force(session: Session, tier: RentTier, on: date) -> RentStandard:
    standard: RentStandard | None = session.scalar(
        select(RentStandard)
        .where(RentStandard.tier == tier.value, RentStandard.effective_from <= on)
        .order_by(RentStandard.effective_from.desc())
        .limit(1)
    )
    if standard is None:
        raise UserError(f"{on} 没有生效的{tier.label}标准，请先录入房管局批准的租金标准。")
    return standard


@dataclass(frozen=True)
class SignLease:
    household_id: uuid.UUID
    unit_code: str
    start: date
    term_months: int
    deposit: str = "0"  # 元, as typed
    signed_on: date | None = None  # defaults to today
    override_reason: str = ""  # needed when the term breaks L1


def _next_lease_no(session: Session, year: int) -> str:
    station = require_station(session)
    prefix = f"{station.code}-{year}-"
    # A range (not LIKE) so the unique index on lease_no is used; the number is compared as a number so
    # that -10000 follows -9999.
    numbers = session.scalars(
        select(Lease.lease_no).where(Lease.lease_no >= prefix, Lease.lease_no < prefix[:-1] + ".")
    )
    last = max((int(n.rsplit("-", 1)[1]) for n in numbers if n.rsplit("-", 1)[1].isdigit()), default=0)
    return f"{prefix}{last + 1:04d}"


def sign_lease(
    session: Session, data: SignLease, operator: str, rules: LeaseRules = DEFAULT_RULES
) -> uuid.UUID:
    """Sign a lease for a vacant or reserved unit; the unit becomes occupied through an 异动 event."""
    require(session, "lease.edit")
    household = session.get(Household, data.household_id)
    if household is None:
        raise UserError("找不到这一户，请先登记家庭信息。")
    unit_id = find_unit_id_by_code(session, data.unit_code)
    unit = session.get(Unit, unit_id)
    assert unit is not None
    status = UnitStatus(unit.status)
    if status not in (UnitStatus.VACANT, UnitStatus.RESERVED):
        raise UserError(f"房源 {unit.code} 当前为“{status.label}”，只有空置或预留的房源才能签约。")
    end = lease_end(data.start, data.term_months)
    check_term(data.start, end, rules, data.override_reason)
    today = local_date(session.info["clock"].now())
    signed_on = data.signed_on or today
    if signed_on > today:
        raise UserError("签约日期不能晚于今天。")
    active = session.scalars(
        select(Lease).where(
            Lease.status.in_(CURRENT_STATUSES),
            (Lease.unit_id == unit_id) | (Lease.household_id == data.household_id),
        )
    ).all()
    for other in active:
        if other.start_date <= end and data.start <= other.end_date:
            whose = "该房源" if other.unit_id == unit_id else "这一户"
            raise UserError(
                f"{whose}已有生效合同 {other.lease_no}（{other.start_date} 至 {other.end_date}），日期重叠，请先终止或调整。"
            )
    tier = RentTier(household.rent_tier)
    standard = rent_standard_in_force(session, tier, data.start)
    deposit = yuan_to_fen(data.deposit, "押金")
    if deposit < 0:
        raise UserError("押金不能为负数。")
    lease = Lease(
        lease_no=_next_lease_no(session, signed_on.year),
        version=1,
        household_id=household.id,
        unit_id=unit_id,
        status=LeaseStatus.ACTIVE.value,
        signed_on=signed_on,
        start_date=data.start,
        effective_from=data.start,
        end_date=end,
        rent_tier=tier.value,
        rate_fen_per_m2=standard.rate_fen_per_m2,
        gross_area_hundredths=unit.gross_area_hundredths,
        monthly_rent_fen=monthly_rent_fen(unit.gross_area_hundredths, standard.rate_fen_per_m2),
        deposit_fen=deposit,
        term_override_reason=data.override_reason.strip(),
        change_note="签订",
        operator=operator,
        created_at=session.info["clock"].now(),
    )
    session.add(lease)
    session.flush()
    change_status(session, unit_id, UnitStatus.OCCUPIED, f"配租签约入住（合同 {lease.lease_no}）", operator)
    return lease.id


@dataclass(frozen=True)
class LeaseRow:
    id: uuid.UUID
    lease_no: str
    version: int
    unit_code: str
    leaseholder: str
    start: date
    end: date
    monthly_rent: Decimal
    deposit: Decimal
    rent_tier: RentTier
    status: LeaseStatus
    signed_on: date
    filed_on: date | None

    def as_json(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "lease_no": self.lease_no,
            "version": self.version,
            "unit_code": self.unit_code,
            "leaseholder": self.leaseholder,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "monthly_rent": float(self.monthly_rent),
            "deposit": float(self.deposit),
            "rent_tier": self.rent_tier.value,
            "status": self.status.value,
            "signed_on": self.signed_on.isoformat(),
            "filed_on": self.filed_on.isoformat() if self.filed_on else None,
        }


def list_leases(session: Session, active_only: bool = False) -> list[LeaseRow]:
    query = (
        select(Lease, Unit.code, HouseholdMember.name)
        .join(Unit, Unit.id == Lease.unit_id)
        .join(
            HouseholdMember,
            (HouseholdMember.household_id == Lease.household_id) & HouseholdMember.is_leaseholder,
        )
        .order_by(Unit.building_no, Unit.entrance, Unit.floor, Unit.room, Lease.lease_no, Lease.version)
    )
    if active_only:
        query = query.where(Lease.status == LeaseStatus.ACTIVE.value)
    return [
        LeaseRow(
            id=lease.id,
            lease_no=lease.lease_no,
            version=lease.version,
            unit_code=code,
            leaseholder=name,
            start=lease.start_date,
            end=lease.end_date,
            monthly_rent=fen_to_decimal(lease.monthly_rent_fen),
            deposit=fen_to_decimal(lease.deposit_fen),
            rent_tier=RentTier(lease.rent_tier),
            status=LeaseStatus(lease.status),
            signed_on=lease.signed_on,
            filed_on=lease.filed_on,
        )
        for lease, code, name in session.execute(query)
    ]


def _active_lease(session: Session, lease_no: str) -> Lease:
    lease: Lease | None = session.scalar(
        select(Lease).where(Lease.lease_no == lease_no.strip(), Lease.status == LeaseStatus.ACTIVE.value)
    )
    if lease is None:
        raise UserError(f"没有编号为 {lease_no.strip()} 的生效合同，请核对合同编号。")
    return lease


def record_filing(session: Session, lease_no: str, filed_on: date, reference: str) -> None:
    """L3: the lease was filed with the bureau on filed_on under the bureau's reference."""
    require(session, "lease.edit")
    lease = _active_lease(session, lease_no)
    if filed_on < lease.signed_on:
        raise UserError(f"备案日期 {filed_on} 早于签约日期 {lease.signed_on}，请核对。")
    if filed_on > local_date(session.info["clock"].now()):
        raise UserError("备案日期不能晚于今天。")
    if not reference.strip():
        raise UserError("请填写房管局的备案编号。")
    lease.filed_on = filed_on
    lease.filing_ref = reference.strip()


@dataclass(frozen=True)
class DueItem:
    lease_no: str
    unit_code: str
    leaseholder: str
    kind: str  # "filing" or "renewal"
    due: date
    overdue: bool

    @property
    def label(self) -> str:
        return {"filing": "合同备案", "renewal": "续租申请"}[self.kind]


def leases_due(session: Session, today: date, rules: LeaseRules = DEFAULT_RULES) -> list[DueItem]:
    """Filings from day 25 after signing (L3) and renewals from the reminder date (L2), soonest first."""
    items = []
    for row in list_leases(session, active_only=True):
        deadlines = lease_deadlines(row.signed_on, row.end, rules)
        if row.filed_on is None and today >= deadlines.filing_alert:
            items.append(
                DueItem(
                    row.lease_no,
                    row.unit_code,
                    row.leaseholder,
                    "filing",
                    deadlines.filing_due,
                    today > deadlines.filing_due,
                )
            )
        if today >= deadlines.renewal_reminder:
            due = deadlines.renewal_application_due
            items.append(DueItem(row.lease_no, row.unit_code, row.leaseholder, "renewal", due, today > due))
    return sorted(items, key=lambda i: (i.due, i.unit_code))


def _current(session: Session, lease_no: str) -> Lease:
    lease: Lease | None = session.scalar(
        select(Lease).where(Lease.lease_no == lease_no.strip(), Lease.status.in_(CURRENT_STATUSES))
    )
    if lease is None:
        raise UserError(f"没有编号为 {lease_no.strip()} 的生效合同，请核对合同编号。")
    return lease


def _new_version(session: Session, old: Lease, operator: str, note: str, **changes: Any) -> Lease:
    """A copy of old with the changes, one version up; old is kept as superseded (history is never overwritten)."""
    columns = {c.key: getattr(old, c.key) for c in Lease.__table__.columns if c.key not in {"id"}}
    columns.update(
        version=old.version + 1,
        status=LeaseStatus.ACTIVE.value,
        change_note=note,
        operator=operator,
        created_at=session.info["clock"].now(),
        **changes,
    )
    old.status = LeaseStatus.SUPERSEDED.value
    session.flush()  # the old version leaves "active" before the new one arrives
    new = Lease(**columns)
    session.add(new)
    session.flush()
    return new


def renew_lease(
    session: Session, lease_no: str, term_months: int, operator: str, rules: LeaseRules = DEFAULT_RULES
) -> uuid.UUID:
    """L2 renewal: a new version from the day after the current end, at the standard then in force.

    The renewed term is filed with the bureau again (L3), so its filing starts empty.
    """
    require(session, "lease.edit")
    old = _current(session, lease_no)
    if old.status != LeaseStatus.ACTIVE.value:
        raise UserError(f"合同 {old.lease_no} 已解除，不能续签；如需继续租住请重新配租签约。")
    today = local_date(session.info["clock"].now())
    if today > old.end_date:
        raise UserError(f"合同 {old.lease_no} 已于 {old.end_date} 到期，不能续签；请办理退出或重新签约。")
    start = old.end_date + timedelta(days=1)
    end = lease_end(start, term_months)
    check_term(start, end, rules)
    tier = RentTier(old.rent_tier)
    standard = rent_standard_in_force(session, tier, start)
    new = _new_version(
        session,
        old,
        operator,
        f"续签：{start} 至 {end}",
        signed_on=today,
        start_date=start,
        end_date=end,
        effective_from=start,
        rate_fen_per_m2=standard.rate_fen_per_m2,
        monthly_rent_fen=monthly_rent_fen(old.gross_area_hundredths, standard.rate_fen_per_m2),
        filed_on=None,
        filing_ref="",
        term_override_reason="",
    )
    return new.id


def change_rent_tier(
    session: Session, lease_no: str, tier: RentTier, effective_from: date, reason: str, operator: str
) -> uuid.UUID:
    """L6: the household's rent tier changes from a date (e.g. a low-income reduction is granted or ends)."""
    require(session, "lease.edit")
    old = _current(session, lease_no)
    if tier.value == old.rent_tier:
        raise UserError(f"合同 {old.lease_no} 已经是{tier.label}，无需变更。")
    if not (old.effective_from <= effective_from <= old.end_date):
        raise UserError(f"变更生效日期应在 {old.effective_from} 至 {old.end_date} 之间。")
    if len(reason.strip()) < 2:
        raise UserError("请填写变更依据（例如低保证明编号或复核结论）。")
    standard = rent_standard_in_force(session, tier, effective_from)
    new = _new_version(
        session,
        old,
        operator,
        f"租金档次变更为{tier.label}：{reason.strip()}",
        effective_from=effective_from,
        rent_tier=tier.value,
        rate_fen_per_m2=standard.rate_fen_per_m2,
        monthly_rent_fen=monthly_rent_fen(old.gross_area_hundredths, standard.rate_fen_per_m2),
    )
    household = session.get(Household, old.household_id)
    assert household is not None
    household.rent_tier = tier.value
    household.updated_at = session.info["clock"].now()
    return new.id


def terminate_lease(
    session: Session,
    lease_no: str,
    kind: TerminationKind,
    on: date,
    reason: str,
    operator: str,
    rules: LeaseRules = DEFAULT_RULES,
) -> date:
    """End a lease by notice or decision (L7, L8, L9); returns the day the household must have moved out.

    The unit stays occupied until the move-out inspection (services.handover.record_moveout) frees it.
    """
    require(session, "lease.edit")
    lease = _current(session, lease_no)
    if lease.status == LeaseStatus.TERMINATED.value:
        raise UserError(f"合同 {lease.lease_no} 已于 {lease.ended_on} 解除，等待退出交接。")
    if on < lease.start_date:
        raise UserError(f"解除日期 {on} 早于合同开始日期 {lease.start_date}，请核对。")
    detail = reason.strip()
    if kind.is_violation and len(detail) < 4:
        raise UserError(f"“{kind.label}”属于违约收回，请写明事实和证据（时间、地点、记录编号）。")
    vacate_by = on + timedelta(days=rules.relocation_days) if kind is not TerminationKind.EXPIRY else on
    lease.status = LeaseStatus.TERMINATED.value
    lease.ended_on = on
    lease.end_kind = kind.value
    lease.end_reason = detail or kind.label
    lease.vacate_by = vacate_by
    return vacate_by


@dataclass(frozen=True)
class LeaseSummary:
    """What a unit card and the handover dialogs show of one lease (its current version)."""

    lease_no: str
    unit_code: str
    leaseholder: str
    start: date
    end: date
    monthly_rent: Decimal
    deposit: Decimal
    status: LeaseStatus
    has_checkin: bool
    has_moveout: bool
    balance_fen: int = 0  # the household's money position: > 0 owed, < 0 credit (services.billing)
    members: tuple[str, ...] = ()  # the others living there now, e.g. "王芳（配偶）"
    versions: tuple[LeaseVersionLine, ...] = ()  # the lease's history, oldest first


@dataclass(frozen=True)
class LeaseVersionLine:
    version: int
    effective_from: date
    monthly_rent: Decimal
    rent_tier: RentTier
    status: LeaseStatus
    note: str


def _balance_fen(session: Session, household_id: uuid.UUID) -> int:
    # Imported here: the desk's start-up imports this module but needs no billing model yet.
    from yuexiu_desk.storage.billing_models import Account

    return session.scalar(select(Account.balance_fen).where(Account.household_id == household_id)) or 0


def _summaries(session: Session, *where: Any) -> list[LeaseSummary]:
    rows = session.execute(
        select(Lease, Unit.code, HouseholdMember.name)
        .join(Unit, Unit.id == Lease.unit_id)
        .join(
            HouseholdMember,
            (HouseholdMember.household_id == Lease.household_id) & HouseholdMember.is_leaseholder,
        )
        .where(*where)
        .order_by(Lease.version.desc())
        .limit(1)
    ).all()
    found = []
    for lease, code, name in rows:  # the latest version only; two small indexed queries in all
        kinds = set(
            session.scalars(
                select(Handover.kind)
                .join(Lease, Lease.id == Handover.lease_id)
                .where(Lease.lease_no == lease.lease_no)
            )
        )
        found.append(
            LeaseSummary(
                lease_no=lease.lease_no,
                unit_code=code,
                leaseholder=name,
                start=lease.start_date,
                end=lease.end_date,
                monthly_rent=fen_to_decimal(lease.monthly_rent_fen),
                deposit=fen_to_decimal(lease.deposit_fen),
                status=LeaseStatus(lease.status),
                has_checkin="checkin" in kinds,
                has_moveout="moveout" in kinds,
                balance_fen=_balance_fen(session, lease.household_id),
                members=tuple(
                    f"{member_name}（{relation}）"
                    for member_name, relation in session.execute(
                        select(HouseholdMember.name, HouseholdMember.relation)
                        .where(
                            HouseholdMember.household_id == lease.household_id,
                            HouseholdMember.is_leaseholder.is_(False),
                            HouseholdMember.left_on.is_(None),
                        )
                        .order_by(HouseholdMember.position)
                    )
                ),
                versions=tuple(
                    LeaseVersionLine(
                        v.version,
                        v.effective_from,
                        fen_to_decimal(v.monthly_rent_fen),
                        RentTier(v.rent_tier),
                        LeaseStatus(v.status),
                        v.change_note,
                    )
                    for v in session.scalars(
                        select(Lease).where(Lease.lease_no == lease.lease_no).order_by(Lease.version)
                    )
                ),
            )
        )
    return found


def lease_summary(session: Session, lease_no: str) -> LeaseSummary:
    """The latest version of a lease by number, with whether its check-in / move-out are done."""
    found = _summaries(session, Lease.lease_no == lease_no.strip().upper())
    if not found:
        raise UserError(f"没有编号为 {lease_no.strip()} 的租赁合同，请核对合同编号。")
    return found[0]


def current_lease_of_unit(session: Session, unit_id: uuid.UUID) -> LeaseSummary | None:
    """The lease that currently binds a household to this unit (active or terminated awaiting move-out)."""
    found = _summaries(session, Lease.unit_id == unit_id, Lease.status.in_(CURRENT_STATUSES))
    return found[0] if found else None
