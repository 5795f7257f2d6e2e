"""Registering households (一户一档): checked IDs (D1–D4), one leaseholder, no person in two households, masking."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from stdnum.iso7064 import mod_11_2

from yuexiu_desk.domain.access import system_operator
from yuexiu_desk.domain.households import SpecialGroup
from yuexiu_desk.errors import UserError
from yuexiu_desk.services import people
from yuexiu_desk.services.households import HouseholdInput, MemberInput, list_households, register_household
from yuexiu_desk.storage.db import Store
from yuexiu_desk.storage.models import Household, HouseholdMember, RevealLog


def ident(body17: str) -> str:
    return body17 + mod_11_2.calc_check_digit(body17)


LEASEHOLDER_ID = ident("42010219580704002")
SPOUSE_ID = ident("42010219600211003")


def household(*members: MemberInput) -> HouseholdInput:
    return HouseholdInput(members=list(members))


def leaseholder(**changes: str) -> MemberInput:
    values = {"name": "测试甲", "relation": "本人", "id_number": LEASEHOLDER_ID, "phone": "13912345678"}
    values.update(changes)
    return MemberInput(**values, groups=frozenset({SpecialGroup.ELDERLY_ALONE}))


def count(store: Store, model: type) -> int:
    with store.read() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_demo_households_are_valid_and_fictitious(demo_store: Store) -> None:
    with demo_store.read() as session:
        rows = list_households(session)
    assert len(rows) == 185  # one per occupied demo unit
    assert all(r.unit_code for r in rows)
    assert 380 <= sum(len(r.members) for r in rows) <= 450  # ~400 people (mission.md)
    elderly = sum(1 for r in rows if SpecialGroup.ELDERLY_ALONE in r.flags)
    assert 0.08 * 185 <= elderly <= 0.25 * 185  # ~15% elderly living alone
    with demo_store.read() as session:
        numbers = [people.unsealed(m).id_number for m in session.scalars(select(HouseholdMember))]
    for number in numbers:  # every demo ID passes the real check, with 江岸区's address code (D5)
        assert number.startswith("420102")
        assert number[17] == mod_11_2.calc_check_digit(number[:17])


def test_register_and_list_with_masked_numbers(demo_store: Store) -> None:
    spouse = MemberInput(name="测试乙", relation="配偶", id_number=SPOUSE_ID, annual_income="12,000.50")
    with demo_store.unit_of_work() as session:
        household_id = register_household(session, household(leaseholder(), spouse))
    with demo_store.read() as session:
        row = next(r for r in list_households(session) if r.id == household_id)
    assert row.leaseholder == "测试甲" and row.unit_code is None
    assert [m.id_number_masked for m in row.members] == [
        "4201**********" + LEASEHOLDER_ID[-4:],
        "4201**********" + SPOUSE_ID[-4:],
    ]
    assert row.members[0].phone_masked == "139****5678"
    assert row.flags == [SpecialGroup.ELDERLY_ALONE]
    assert LEASEHOLDER_ID not in str(row.as_json())


@pytest.mark.parametrize(
    ("members", "words"),
    [
        ([], "至少登记"),
        ([MemberInput(name="测试乙", relation="配偶", id_number=SPOUSE_ID)], "没有承租人"),
        (
            [
                leaseholder(),
                MemberInput(name="测试乙", relation="本人", id_number=SPOUSE_ID, phone="13912345679"),
            ],
            "只能有一位",
        ),
        ([leaseholder(id_number=ident("42010219580704002")[:-1] + "0")], "第 1 位成员（测试甲）：身份证号"),
        (
            [leaseholder(), MemberInput(name="测试乙", relation="配偶", id_number=LEASEHOLDER_ID)],
            "身份证号相同",
        ),
        ([leaseholder(phone="")], "联系电话"),
        ([leaseholder(phone="12345")], "手机号"),
        ([leaseholder(), MemberInput(name="测试乙", relation="邻居", id_number=SPOUSE_ID)], "关系"),
        ([leaseholder(annual_income="1.234")], "两位小数"),
    ],
)
def test_bad_households_are_refused_whole(demo_store: Store, members: list[MemberInput], words: str) -> None:
    before = (count(demo_store, Household), count(demo_store, HouseholdMember))
    with pytest.raises(UserError, match=words), demo_store.unit_of_work() as session:
        register_household(session, HouseholdInput(members=members))
    assert (count(demo_store, Household), count(demo_store, HouseholdMember)) == before


def test_a_person_cannot_be_in_two_active_households(demo_store: Store) -> None:
    with demo_store.unit_of_work() as session:
        register_household(session, household(leaseholder()))
    with pytest.raises(UserError, match="另一户"), demo_store.unit_of_work() as session:
        register_household(session, household(leaseholder(name="测试丙")))


def test_revealing_a_full_number_needs_a_reason_and_is_logged(demo_store: Store) -> None:
    with demo_store.unit_of_work() as session:
        household_id = register_household(session, household(leaseholder()))
        member_id = session.get(Household, household_id).members[0].id  # type: ignore[union-attr]
    with pytest.raises(UserError, match="理由"), demo_store.unit_of_work(system_operator("李明")) as session:
        people.reveal_id_number(session, member_id, "", "李明")
    assert count(demo_store, RevealLog) == 0
    with demo_store.unit_of_work(system_operator("李明")) as session:
        assert people.reveal_id_number(session, member_id, "办理备案核对证件", "李明") == LEASEHOLDER_ID
    with demo_store.read() as session:
        entry = session.scalars(select(RevealLog)).one()
    assert (entry.operator, entry.field, entry.reason) == ("李明", "id_number", "办理备案核对证件")
