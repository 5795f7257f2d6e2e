"""Households (一户一档): registering a household with its members, listing households with masked IDs."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from yuexiu_desk.clock import local_date
from yuexiu_desk.domain.households import (
    LEASEHOLDER_RELATION,
    SpecialGroup,
    check_composition,
    check_relation,
)
from yuexiu_desk.domain.identity import normalize_phone, parse_id_number
from yuexiu_desk.domain.leases import CURRENT_STATUSES, RentTier
from yuexiu_desk.domain.money import yuan_to_fen
from yuexiu_desk.errors import UserError
from yuexiu_desk.services import people
from yuexiu_desk.services.access import require
from yuexiu_desk.storage.models import Household, HouseholdMember, Lease, Unit


@dataclass(frozen=True)
class MemberInput:
    name: str
    relation: str
    id_number: str
    phone: str = ""
    employer: str = ""
    annual_income: str = ""  # 元, as typed; empty when not declared
    groups: frozenset[SpecialGroup] = frozenset()


@dataclass(frozen=True)
class HouseholdInput:
    members: list[MemberInput]
    rent_tier: RentTier = RentTier.STANDARD
    notes: str = ""
    is_demo: bool = False


def _member_error(position: int, name: str, exc: UserError) -> UserError:
    who = f"第 {position} 位成员" + (f"（{name}）" if name else "")
    return UserError(f"{who}：{exc.message}")


def register_household(session: Session, data: HouseholdInput) -> uuid.UUID:
    """Check every member and save the household in one go; nothing is saved if any member is wrong."""
    require(session, "household.edit")
    if not data.members:
        raise UserError("请至少登记一位家庭成员（承租人本人）。")
    now = session.info["clock"].now()
    today = local_date(now)
    household = Household(
        rent_tier=data.rent_tier.value, notes=data.notes, is_demo=data.is_demo, created_at=now, updated_at=now
    )
    seen: dict[str, int] = {}
    relations = []
    for position, m in enumerate(data.members, start=1):
        try:
            name = m.name.strip()
            if not name:
                raise UserError("请填写姓名。")
            relation = check_relation(m.relation)
            ident = parse_id_number(m.id_number, today=today)
            phone = normalize_phone(m.phone) if m.phone.strip() else ""
            if relation == LEASEHOLDER_RELATION and not phone:
                raise UserError("承租人必须留联系电话。")
            income = yuan_to_fen(m.annual_income, "年收入") if m.annual_income.strip() else None
            if income is not None and income < 0:
                raise UserError("年收入不能为负数。")
        except UserError as exc:
            raise _member_error(position, m.name.strip(), exc) from None
        if ident.number in seen:
            raise UserError(f"第 {seen[ident.number]} 位和第 {position} 位成员的身份证号相同，请核对。")
        seen[ident.number] = position
        others = people.members_with_id_number(session, ident.number)
        if others:
            raise UserError(
                f"第 {position} 位成员（{name}）已登记在另一户中，同一人不能同时属于两户；如已搬离请先办理减员。"
            )
        relations.append(relation)
        member = HouseholdMember(
            position=position,
            name=name,
            relation=relation,
            is_leaseholder=relation == LEASEHOLDER_RELATION,
            sex=ident.sex.value,
            birth_date=ident.birth_date,
            id_kind=ident.kind.value,
            employer=m.employer.strip(),
            joined_on=today,
        )
        people.store_id_number(session, member, ident.number)
        people.store_phone(session, member, phone)
        people.store_profile(session, member, income, frozenset(m.groups))
        household.members.append(member)
    check_composition(relations)
    session.add(household)
    session.flush()
    return household.id


@dataclass(frozen=True)
class MemberRow:
    id: uuid.UUID
    name: str
    relation: str
    sex: str
    birth_date: date
    id_number_masked: str
    phone_masked: str
    groups: list[SpecialGroup]


@dataclass(frozen=True)
class HouseholdRow:
    id: uuid.UUID
    unit_code: str | None
    leaseholder: str
    rent_tier: RentTier
    members: list[MemberRow] = field(default_factory=list)

    @property
    def flags(self) -> list[SpecialGroup]:
        return sorted({g for m in self.members for g in m.groups})

    def as_json(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "unit_code": self.unit_code,
            "leaseholder": self.leaseholder,
            "rent_tier": self.rent_tier.value,
            "members": [
                {
                    "name": m.name,
                    "relation": m.relation,
                    "sex": m.sex,
                    "birth_date": m.birth_date.isoformat(),
                    "id_number": m.id_number_masked,
                    "phone": m.phone_masked,
                    "flags": [g.value for g in m.groups],
                }
                for m in self.members
            ],
            "flags": [g.value for g in self.flags],
        }


def households_with_id_number(session: Session, text: str) -> set[uuid.UUID]:
    """The households anyone with this ID number belongs or belonged to: the search by ID number. The numbers
    are sealed, so it goes through their keyed hash (services.people); a 15-digit number is converted first."""
    number = parse_id_number(text).number
    return {m.household_id for m in people.members_by_id_number(session, number)}


def list_households(session: Session) -> list[HouseholdRow]:
    """Every household with its current members (IDs and phones masked), ordered by the unit it lives in."""
    unit_of: dict[uuid.UUID, tuple[str, tuple[int, int, int, int]]] = {
        hid: (code, (b, e, f, r))
        for hid, code, b, e, f, r in session.execute(
            select(Lease.household_id, Unit.code, Unit.building_no, Unit.entrance, Unit.floor, Unit.room)
            .join(Unit, Unit.id == Lease.unit_id)
            .where(Lease.status.in_(CURRENT_STATUSES))
        )
    }
    households = session.scalars(select(Household).options(selectinload(Household.members)))
    rows = []
    for h in households:
        current = [m for m in h.members if m.left_on is None]
        leaseholder = next((m.name for m in current if m.is_leaseholder), "")
        code = unit_of.get(h.id)
        rows.append(
            HouseholdRow(
                id=h.id,
                unit_code=code[0] if code else None,
                leaseholder=leaseholder,
                rent_tier=RentTier(h.rent_tier),
                members=[
                    MemberRow(
                        m.id,
                        m.name,
                        m.relation,
                        m.sex,
                        m.birth_date,
                        people.masked_id_number(m),
                        people.masked_phone(m),
                        people.special_groups(m),
                    )
                    for m in current
                ],
            )
        )
    far = (10**6, 0, 0, 0)
    rows.sort(key=lambda r: (unit_of[r.id][1] if r.id in unit_of else far, r.leaseholder))
    return rows
