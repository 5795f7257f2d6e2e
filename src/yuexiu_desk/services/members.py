"""Changes of a household's members with the day they take effect (一户一档 history, L6 income review):
someone joins or leaves, or a member's employer, annual income or special-group flags change.

The member row holds the latest state; every change also adds a MemberChange row with what it was, what
it became, from when, why and who recorded it. ID numbers and phones go through services.people only.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from yuexiu_desk.clock import local_date
from yuexiu_desk.domain.households import LEASEHOLDER_RELATION, SpecialGroup, check_relation
from yuexiu_desk.domain.identity import Sex, normalize_phone, parse_id_number
from yuexiu_desk.domain.leases import CURRENT_STATUSES
from yuexiu_desk.domain.money import format_yuan, yuan_to_fen
from yuexiu_desk.errors import UserError
from yuexiu_desk.services import people
from yuexiu_desk.services.access import require
from yuexiu_desk.services.households import MemberInput
from yuexiu_desk.storage.models import Household, HouseholdMember, Lease, MemberChange, Unit

log = logging.getLogger(__name__)

MIN_REASON = 2
MAX_NAME = 50  # the column widths of household_member
MAX_EMPLOYER = 100

LEASEHOLDER_CANNOT_LEAVE = (
    "承租人不能办理成员迁出：承租人离开须先变更或解除租赁合同（在“租赁合同”页办理），再办理退出交接。"
)


@dataclass(frozen=True)
class MemberRules:
    """How far ahead a change may be dated.

    A change is known ahead when the household reports it: a child moving out at the end of the month, a
    new job from the first of next month. 31 days covers "from the first of next month" from any day of
    the year. Further ahead plans change, and the member row is written at once (nothing is scheduled),
    so the register, the duplicate-ID check and printed forms would show a far-off change as done.
    """

    max_days_ahead: int = 31


DEFAULT_RULES = MemberRules()


class ChangeKind(StrEnum):
    JOINED = "joined"
    LEFT = "left"
    EMPLOYER = "employer"
    INCOME = "income"
    FLAGS = "flags"

    @property
    def label(self) -> str:
        return {
            ChangeKind.JOINED: "迁入",
            ChangeKind.LEFT: "迁出",
            ChangeKind.EMPLOYER: "工作单位",
            ChangeKind.INCOME: "年收入",
            ChangeKind.FLAGS: "特殊群体",
        }[self]


# ---- views ------------------------------------------------------------------------------------------


def _groups(member: HouseholdMember) -> frozenset[SpecialGroup]:
    return frozenset(people.special_groups(member))


def groups_text(groups: Iterable[SpecialGroup]) -> str:
    """Labels in the enum's order (孤寡空巢老人、残疾、行动不便), whatever order they came in."""
    chosen = set(groups)
    return "、".join(g.label for g in SpecialGroup if g in chosen)


@dataclass(frozen=True)
class MemberView:
    """One member as the desk shows them: numbers masked, income in fen."""

    id: uuid.UUID
    household_id: uuid.UUID
    position: int
    name: str
    relation: str
    is_leaseholder: bool
    sex: Sex
    birth_date: date
    id_number_masked: str
    phone_masked: str
    employer: str
    annual_income_fen: int | None
    groups: frozenset[SpecialGroup]
    joined_on: date
    left_on: date | None

    def is_current(self, on: date) -> bool:
        """A member counts from the day they join to the day they leave, both included."""
        return self.joined_on <= on and (self.left_on is None or self.left_on >= on)

    @property
    def income_text(self) -> str:
        """The income as a clerk types it back (no thousands separator): "36000.00", "" when not declared."""
        return "" if self.annual_income_fen is None else format_yuan(self.annual_income_fen).replace(",", "")


def _view(member: HouseholdMember) -> MemberView:
    return MemberView(
        id=member.id,
        household_id=member.household_id,
        position=member.position,
        name=member.name,
        relation=member.relation,
        is_leaseholder=member.is_leaseholder,
        sex=Sex(member.sex),
        birth_date=member.birth_date,
        id_number_masked=people.masked_id_number(member),
        phone_masked=people.masked_phone(member),
        employer=member.employer,
        annual_income_fen=people.income_fen(member),
        groups=_groups(member),
        joined_on=member.joined_on,
        left_on=member.left_on,
    )


def _members_of(session: Session, household_id: uuid.UUID) -> list[HouseholdMember]:
    return list(
        session.scalars(
            select(HouseholdMember)
            .where(HouseholdMember.household_id == household_id)
            .order_by(HouseholdMember.position)
        )
    )


def household_members(session: Session, household_id: uuid.UUID) -> list[MemberView]:
    """Everyone who has belonged to the household: those still there (by position), then those who left
    (most recent first)."""
    views = [_view(m) for m in _members_of(session, household_id)]
    staying = [v for v in views if v.left_on is None]
    gone = sorted(
        (v for v in views if v.left_on is not None), key=lambda v: v.left_on or date.min, reverse=True
    )
    return staying + gone


def current_members(session: Session, household_id: uuid.UUID, on: date) -> list[MemberView]:
    """The members on a given day: joined on or before it, and not left before it."""
    rows = session.scalars(
        select(HouseholdMember)
        .where(
            HouseholdMember.household_id == household_id,
            HouseholdMember.joined_on <= on,
            or_(HouseholdMember.left_on.is_(None), HouseholdMember.left_on >= on),
        )
        .order_by(HouseholdMember.position)
    )
    return [_view(m) for m in rows]


def _value_text(kind: ChangeKind, value: str) -> str:
    if kind is ChangeKind.INCOME:
        return format_yuan(int(value)) if value else "未申报"
    if kind is ChangeKind.FLAGS:
        return groups_text(SpecialGroup(v) for v in value.split(",") if v) or "无"
    return value or "（空）"


@dataclass(frozen=True)
class ChangeRow:
    """One line of a household's 变更记录. old_value/new_value are as stored (income in fen, flags as codes)."""

    id: uuid.UUID
    member_id: uuid.UUID
    member_name: str
    kind: ChangeKind
    old_value: str
    new_value: str
    effective_on: date
    reason: str
    operator: str
    created_at: datetime

    @property
    def description(self) -> str:
        if self.kind is ChangeKind.JOINED:
            return f"迁入（{self.new_value}）" if self.new_value else "迁入"
        if self.kind is ChangeKind.LEFT:
            return f"迁出（{self.old_value}）" if self.old_value else "迁出"
        old, new = _value_text(self.kind, self.old_value), _value_text(self.kind, self.new_value)
        label = "年收入（元）" if self.kind is ChangeKind.INCOME else self.kind.label
        return f"{label}：{old} → {new}"


def member_history(session: Session, household_id: uuid.UUID) -> list[ChangeRow]:
    """The household's member changes, newest effective date first (ties: latest recorded first)."""
    rows = session.execute(
        select(MemberChange, HouseholdMember.name)
        .join(HouseholdMember, HouseholdMember.id == MemberChange.member_id)
        .where(MemberChange.household_id == household_id)
        .order_by(MemberChange.effective_on.desc(), MemberChange.created_at.desc())
    )
    return [
        ChangeRow(
            id=change.id,
            member_id=change.member_id,
            member_name=name,
            kind=ChangeKind(change.kind),
            old_value=values[0],
            new_value=values[1],
            effective_on=change.effective_on,
            reason=change.reason,
            operator=change.operator,
            created_at=change.created_at,
        )
        for change, name in rows
        for values in [people.change_values(change)]
    ]


# ---- checks shared by the three changes ---------------------------------------------------------------


def _today(session: Session) -> date:
    return local_date(session.info["clock"].now())


def _open_household(session: Session, household_id: uuid.UUID) -> Household:
    household = session.get(Household, household_id)
    if household is None:
        raise UserError("找不到这一户，可能已被删除；请刷新住户列表后重试。")
    statuses = set(session.scalars(select(Lease.status).where(Lease.household_id == household_id)))
    if statuses and not statuses & set(CURRENT_STATUSES):
        raise UserError("这一户的合同已结束并已办理退出，不能再变更家庭成员。")
    return household


def _check_effective_on(
    session: Session, household: Household, effective_on: date, rules: MemberRules
) -> None:
    """Not later than the rules allow, and not before the household lived here (its first lease's start,
    or the day it was registered when it has no lease yet)."""
    latest = _today(session) + timedelta(days=rules.max_days_ahead)
    if effective_on > latest:
        raise UserError(
            f"生效日期 {effective_on} 太远：最晚只能登记到 {latest}（今天起 {rules.max_days_ahead} 天内），请临近时再办理。"
        )
    first_start = session.scalar(select(func.min(Lease.start_date)).where(Lease.household_id == household.id))
    if first_start is not None:
        if effective_on < first_start:
            raise UserError(f"生效日期 {effective_on} 早于本户合同的起租日期 {first_start}，请核对。")
    else:
        registered = local_date(household.created_at)
        if effective_on < registered:
            raise UserError(f"生效日期 {effective_on} 早于本户的登记日期 {registered}，请核对。")


def _check_reason(reason: str, examples: str) -> str:
    cleaned = reason.strip()
    if len(cleaned) < MIN_REASON:
        raise UserError(f"请填写变更原因（例如{examples}），它会记入本户档案。")
    return cleaned


def _member(session: Session, member_id: uuid.UUID) -> HouseholdMember:
    member = session.get(HouseholdMember, member_id)
    if member is None:
        raise UserError("找不到这位家庭成员，可能已被删除；请刷新住户列表后重试。")
    return member


def _still_member(member: HouseholdMember) -> None:
    if member.left_on is not None:
        raise UserError(f"{member.name} 已登记于 {member.left_on} 迁出，不能再办理变更。")


def _not_before_joining(member: HouseholdMember, effective_on: date) -> None:
    if effective_on < member.joined_on:
        raise UserError(f"生效日期 {effective_on} 早于 {member.name} 的入户日期 {member.joined_on}，请核对。")


def _income_fen(text: str) -> int | None:
    if not text.strip():
        return None
    fen = yuan_to_fen(text, "年收入")
    if fen < 0:
        raise UserError("年收入不能为负数。")
    return fen


def _employer(text: str) -> str:
    cleaned = text.strip()
    if len(cleaned) > MAX_EMPLOYER:
        raise UserError(f"工作单位最多 {MAX_EMPLOYER} 个字，请简写。")
    return cleaned


def _flags_value(groups: Iterable[SpecialGroup]) -> str:
    return ",".join(sorted(g.value for g in groups))


def _record(
    session: Session,
    member: HouseholdMember,
    kind: ChangeKind,
    effective_on: date,
    reason: str,
    operator: str,
    old: str = "",
    new: str = "",
) -> None:
    change = MemberChange(
        household_id=member.household_id,
        member_id=member.id,
        kind=kind.value,
        old_value=old,
        new_value=new,
        effective_on=effective_on,
        reason=reason,
        operator=operator,
        created_at=session.info["clock"].now(),
    )
    if kind in (ChangeKind.INCOME, ChangeKind.FLAGS):
        # Income and health/disability flags are personal data, in the history as in the member row.
        people.store_change_values(session, change, old, new)
    session.add(change)


# ---- the three changes -------------------------------------------------------------------------------


def add_member(
    session: Session,
    household_id: uuid.UUID,
    data: MemberInput,
    effective_on: date,
    reason: str,
    operator: str,
    rules: MemberRules = DEFAULT_RULES,
) -> uuid.UUID:
    """新增成员: someone joins the household on effective_on. The same checks as registration (D1–D4 ID,
    D6 phone, relation, income in fen), plus: not the leaseholder, not already in a household."""
    require(session, "household.edit")
    household = _open_household(session, household_id)
    today = _today(session)
    name = data.name.strip()
    if not name:
        raise UserError("请填写新成员的姓名。")
    if len(name) > MAX_NAME:
        raise UserError(f"姓名最多 {MAX_NAME} 个字，请核对。")
    relation = check_relation(data.relation)
    if relation == LEASEHOLDER_RELATION:
        raise UserError("新增成员不能是承租人本人：一户只有一位承租人，更换承租人须变更租赁合同。")
    ident = parse_id_number(data.id_number, today=today)
    phone = normalize_phone(data.phone) if data.phone.strip() else ""
    employer = _employer(data.employer)
    income = _income_fen(data.annual_income)
    clean_reason = _check_reason(reason, "新生儿落户、婚入、投靠子女")
    _check_effective_on(session, household, effective_on, rules)
    if ident.birth_date > effective_on:
        raise UserError(f"{name} 的出生日期 {ident.birth_date} 晚于迁入日期 {effective_on}，请核对。")
    for other in people.members_with_id_number(session, ident.number):
        if other.household_id == household.id:
            raise UserError(f"身份证号与本户成员 {other.name} 相同，这个人已在本户，无需新增。")
        unit = session.scalar(
            select(Unit.code)
            .join(Lease, Lease.unit_id == Unit.id)
            .where(Lease.household_id == other.household_id, Lease.status.in_(CURRENT_STATUSES))
        )
        where = f"（{unit}）" if unit else ""
        raise UserError(f"{name} 已登记在另一户{where}中，同一人不能同时属于两户；请先在原户办理成员迁出。")
    position = session.scalar(
        select(func.max(HouseholdMember.position)).where(HouseholdMember.household_id == household.id)
    )
    member = HouseholdMember(
        household_id=household.id,
        position=(position or 0) + 1,
        name=name,
        relation=relation,
        is_leaseholder=False,
        sex=ident.sex.value,
        birth_date=ident.birth_date,
        id_kind=ident.kind.value,
        employer=employer,
        joined_on=effective_on,
    )
    people.store_id_number(session, member, ident.number)
    people.store_phone(session, member, phone)
    people.store_profile(session, member, income, frozenset(data.groups))
    session.add(member)
    session.flush()
    _record(session, member, ChangeKind.JOINED, effective_on, clean_reason, operator, new=relation)
    household.updated_at = session.info["clock"].now()
    session.flush()
    log.info("member %s joined household %s from %s", member.id, household.id, effective_on)
    return member.id


def remove_member(
    session: Session,
    member_id: uuid.UUID,
    effective_on: date,
    reason: str,
    operator: str,
    rules: MemberRules = DEFAULT_RULES,
) -> None:
    """成员迁出: the member leaves; effective_on is their last day in the household (they still count on it).

    The leaseholder cannot leave this way: the lease names them, so it must be changed or ended first.
    """
    require(session, "household.edit")
    member = _member(session, member_id)
    _still_member(member)
    if member.is_leaseholder:
        raise UserError(LEASEHOLDER_CANNOT_LEAVE)
    household = _open_household(session, member.household_id)
    clean_reason = _check_reason(reason, "子女婚后迁出、另购住房、死亡注销")
    _check_effective_on(session, household, effective_on, rules)
    if effective_on < member.joined_on:
        raise UserError(f"迁出日期 {effective_on} 早于 {member.name} 的入户日期 {member.joined_on}，请核对。")
    last_change = session.scalar(
        select(func.max(MemberChange.effective_on)).where(MemberChange.member_id == member.id)
    )
    if last_change is not None and effective_on < last_change:
        raise UserError(
            f"迁出日期 {effective_on} 早于 {member.name} 最近一次变更的生效日期 {last_change}，请核对。"
        )
    member.left_on = effective_on
    _record(session, member, ChangeKind.LEFT, effective_on, clean_reason, operator, old=member.relation)
    household.updated_at = session.info["clock"].now()
    session.flush()
    log.info("member %s left household %s on %s", member.id, household.id, effective_on)


def change_member(
    session: Session,
    member_id: uuid.UUID,
    effective_on: date,
    reason: str,
    operator: str,
    employer: str | None = None,
    annual_income: str | None = None,
    flags: Iterable[SpecialGroup | str] | None = None,
    rules: MemberRules = DEFAULT_RULES,
) -> list[ChangeKind]:
    """修改就业/收入/特殊群体: None leaves a field as it is; annual_income is yuan as typed ("" = not declared),
    flags the full new set. One MemberChange per field that really changes; returns their kinds."""
    require(session, "household.edit")
    member = _member(session, member_id)
    _still_member(member)
    household = _open_household(session, member.household_id)
    new_employer = None if employer is None else _employer(employer)
    new_income = None if annual_income is None else _income_fen(annual_income)
    try:
        new_groups = None if flags is None else frozenset(SpecialGroup(f) for f in flags)
    except ValueError:
        raise UserError("特殊群体只能是：孤寡空巢老人、残疾、行动不便。") from None
    clean_reason = _check_reason(reason, "年度复核、更换工作单位、办理残疾证")
    _check_effective_on(session, household, effective_on, rules)
    _not_before_joining(member, effective_on)

    changes: list[tuple[ChangeKind, str, str]] = []
    if new_employer is not None and new_employer != member.employer:
        changes.append((ChangeKind.EMPLOYER, member.employer, new_employer))
    current_income = people.income_fen(member)
    if annual_income is not None and new_income != current_income:
        old_income = "" if current_income is None else str(current_income)
        changes.append((ChangeKind.INCOME, old_income, "" if new_income is None else str(new_income)))
    old_groups = _groups(member)
    if new_groups is not None and new_groups != old_groups:
        changes.append((ChangeKind.FLAGS, _flags_value(old_groups), _flags_value(new_groups)))
    if not changes:
        raise UserError(f"{member.name} 的工作单位、年收入和特殊群体都与现有记录相同，没有需要保存的变更。")

    for kind, old, new in changes:
        _record(session, member, kind, effective_on, clean_reason, operator, old=old, new=new)
    if new_employer is not None:
        member.employer = new_employer
    if annual_income is not None or new_groups is not None:
        people.store_profile(
            session,
            member,
            new_income if annual_income is not None else current_income,
            new_groups if new_groups is not None else old_groups,
        )
    household.updated_at = session.info["clock"].now()
    session.flush()
    kinds = [kind for kind, _old, _new in changes]
    # Only which fields changed: income and health/disability flags are personal data (PIPL) and stay
    # out of the log.
    log.info("member %s changed from %s: %s", member.id, effective_on, ", ".join(kinds))
    return kinds
