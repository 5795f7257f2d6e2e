"""Member changes with effective dates: joining (checked like registration, D1–D4, D6), leaving (never the
leaseholder), employer / income / special-group changes with old and new values, and the history."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from stdnum.iso7064 import mod_11_2

from yuexiu_desk.clock import FixedClock, local_date
from yuexiu_desk.domain.access import system_operator
from yuexiu_desk.domain.households import SpecialGroup
from yuexiu_desk.domain.identity import IdKind
from yuexiu_desk.errors import UserError
from yuexiu_desk.services import people
from yuexiu_desk.services.households import (
    HouseholdInput,
    HouseholdRow,
    MemberInput,
    list_households,
    register_household,
)
from yuexiu_desk.services.members import (
    LEASEHOLDER_CANNOT_LEAVE,
    ChangeKind,
    MemberRules,
    add_member,
    change_member,
    current_members,
    household_members,
    member_history,
    remove_member,
)
from yuexiu_desk.storage.db import Store
from yuexiu_desk.storage.models import ChangeJournal, HouseholdMember, Lease, MemberChange

OPERATOR = "李明"


def ident(body17: str) -> str:
    return body17 + mod_11_2.calc_check_digit(body17)


NEWBORN_ID = ident("42010220261101003")
ADULT_ID = ident("42010219900315004")


@pytest.fixture
def today(clock: FixedClock) -> date:
    return local_date(clock.now())


@pytest.fixture
def family(demo_store: Store) -> HouseholdRow:
    """A demo household with a lease and at least three members (the leaseholder first)."""
    with demo_store.read() as session:
        return next(r for r in list_households(session) if r.unit_code and len(r.members) >= 3)


def lease_start(store: Store, household_id: uuid.UUID) -> date:
    with store.read() as session:
        start = session.scalar(select(func.min(Lease.start_date)).where(Lease.household_id == household_id))
    assert start is not None
    return start


def count(store: Store, model: type) -> int:
    with store.read() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def newborn(**changes: str) -> MemberInput:
    values = {"name": "测试宝宝", "relation": "孙子女", "id_number": NEWBORN_ID}
    values.update(changes)
    return MemberInput(**values)


def add(
    store: Store, household_id: uuid.UUID, data: MemberInput, on: date, reason: str = "新生儿落户"
) -> uuid.UUID:
    with store.unit_of_work(system_operator(OPERATOR)) as session:
        return add_member(session, household_id, data, on, reason, OPERATOR)


@dataclass(frozen=True)
class Stored:
    """What the store holds for a member: its row, and its personal values opened with the station's key."""

    row: HouseholdMember
    id_number: str
    annual_income_fen: int | None
    elderly_alone: bool
    disabled: bool
    mobility_impaired: bool

    def __getattr__(self, name: str) -> Any:
        return getattr(self.row, name)


def stored(store: Store, member_id: uuid.UUID) -> Stored:
    with store.read() as session:
        member = session.get(HouseholdMember, member_id)
        assert member is not None
        values = people.unsealed(member)
        return Stored(
            member,
            values.id_number,
            values.income_fen,
            SpecialGroup.ELDERLY_ALONE in values.groups,
            SpecialGroup.DISABLED in values.groups,
            SpecialGroup.MOBILITY_IMPAIRED in values.groups,
        )


# ---- add_member -----------------------------------------------------------------------------------


def test_a_member_joins_on_the_effective_day_with_a_joined_change(
    demo_store: Store, family: HouseholdRow, today: date
) -> None:
    on = today - timedelta(days=10)
    member_id = add(demo_store, family.id, newborn(employer="", annual_income=""), on)
    member = stored(demo_store, member_id)
    assert (member.joined_on, member.left_on, member.is_leaseholder) == (on, None, False)
    assert member.position == len(family.members) + 1
    assert member.birth_date == date(2026, 11, 1)  # D1: taken from the number
    with demo_store.read() as session:
        (change,) = member_history(session, family.id)
        journal = session.scalars(
            select(ChangeJournal.table_name).where(ChangeJournal.record_id == change.id)
        ).all()
    assert (change.kind, change.effective_on, change.reason, change.operator) == (
        ChangeKind.JOINED,
        on,
        "新生儿落户",
        OPERATOR,
    )
    assert change.member_name == "测试宝宝" and change.description == "迁入（孙子女）"
    assert journal == ["member_change"]  # sync-ready: the bureau exchange will see it
    with demo_store.read() as session:
        before = current_members(session, family.id, on - timedelta(days=1))
        after = current_members(session, family.id, on)
        row = next(r for r in list_households(session) if r.id == family.id)
    assert member_id not in {m.id for m in before} and member_id in {m.id for m in after}
    assert len(row.members) == len(family.members) + 1


def test_d3_d4_legacy_and_permanent_residence_numbers_join_like_at_registration(
    demo_store: Store, family: HouseholdRow, today: date
) -> None:
    legacy = add(
        demo_store, family.id, newborn(name="测试老", relation="父母", id_number="110105491231002"), today
    )
    foreign = add(
        demo_store,
        family.id,
        newborn(name="测试外", relation="其他", id_number=ident("91560019900101001")),
        today,
    )
    assert stored(demo_store, legacy).birth_date == date(1949, 12, 31)
    with demo_store.unit_of_work(system_operator(OPERATOR)) as session:
        assert people.reveal_id_number(session, legacy, "核对证件", OPERATOR) == "11010519491231002X"
    assert stored(demo_store, foreign).id_kind == IdKind.PERMANENT_RESIDENCE.value


def test_a_new_members_numbers_are_masked_in_the_views(
    demo_store: Store, family: HouseholdRow, today: date
) -> None:
    member_id = add(
        demo_store,
        family.id,
        newborn(name="测试成", relation="子女", id_number=ADULT_ID, phone="13912345678"),
        today,
    )
    with demo_store.read() as session:
        view = next(m for m in household_members(session, family.id) if m.id == member_id)
    assert view.id_number_masked == "4201**********" + ADULT_ID[-4:]
    assert view.phone_masked == "139****5678"
    assert ADULT_ID not in repr(view) and "13912345678" not in repr(view)


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (newborn(name=" "), "姓名"),
        (newborn(relation="本人"), "不能是承租人本人"),
        (newborn(relation="邻居"), "关系"),
        (newborn(id_number=NEWBORN_ID[:-1] + ("0" if NEWBORN_ID[-1] != "0" else "1")), "校验位"),  # D2
        (newborn(id_number=ident("42010220261301003")), "出生日期"),  # D1: no 13th month
        (newborn(id_number="4201022026"), "18 位"),  # D1
        (newborn(id_number=ident("02010220261101003")), "0 开头"),  # D4: residents start 1–8
        (newborn(phone="12345"), "手机号"),  # D6
        (newborn(annual_income="-1"), "负数"),
        (newborn(annual_income="1.234"), "两位小数"),
        (newborn(annual_income="三万"), "不是数字"),
        (newborn(employer="单" * 101), "工作单位"),
    ],
)
def test_bad_new_members_are_refused_and_nothing_is_saved(
    demo_store: Store, family: HouseholdRow, today: date, data: MemberInput, words: str
) -> None:
    before = (count(demo_store, HouseholdMember), count(demo_store, MemberChange))
    with pytest.raises(UserError, match=words):
        add(demo_store, family.id, data, today)
    assert (count(demo_store, HouseholdMember), count(demo_store, MemberChange)) == before


def test_the_new_member_is_born_before_joining(demo_store: Store, family: HouseholdRow) -> None:
    with pytest.raises(UserError, match="晚于迁入日期"):
        add(demo_store, family.id, newborn(), date(2026, 10, 31))


def test_a_reason_is_required(demo_store: Store, family: HouseholdRow, today: date) -> None:
    with pytest.raises(UserError, match="变更原因"):
        add(demo_store, family.id, newborn(), today, reason=" ")


def test_someone_in_another_active_household_cannot_join(
    demo_store: Store, family: HouseholdRow, today: date
) -> None:
    with demo_store.read() as session:
        rows = list_households(session)
        other = next(r for r in rows if r.id != family.id and r.unit_code)
        member = session.get(HouseholdMember, other.members[0].id)
        assert member is not None
        their_number = people.unsealed(member).id_number
    with pytest.raises(UserError, match=f"另一户（{other.unit_code}）"):
        add(demo_store, family.id, newborn(id_number=their_number, relation="其他"), today)
    own = stored(demo_store, family.members[1].id).id_number
    with pytest.raises(UserError, match="已在本户"):
        add(demo_store, family.id, newborn(id_number=own, relation="其他"), today)


def test_after_leaving_one_household_a_person_can_join_another(
    demo_store: Store, family: HouseholdRow, today: date
) -> None:
    with demo_store.read() as session:
        target = next(r for r in list_households(session) if r.id != family.id and r.unit_code)
    leaving = family.members[-1]
    number = stored(demo_store, leaving.id).id_number
    with demo_store.unit_of_work(system_operator(OPERATOR)) as session:
        remove_member(session, leaving.id, today, "投靠亲属", OPERATOR)
    moved = add(
        demo_store,
        target.id,
        newborn(name=leaving.name, relation="其他", id_number=number),
        today,
        "投靠亲属",
    )
    assert stored(demo_store, moved).household_id == target.id


# ---- effective dates -----------------------------------------------------------------------------


def test_effective_dates_run_from_the_first_lease_start_to_the_rules_limit(
    demo_store: Store, family: HouseholdRow, today: date
) -> None:
    start = lease_start(demo_store, family.id)
    with pytest.raises(UserError, match=f"早于本户合同的起租日期 {start}"):
        add(demo_store, family.id, newborn(relation="父母", id_number=ADULT_ID), start - timedelta(days=1))
    with pytest.raises(UserError, match="最晚只能登记到"):
        add(demo_store, family.id, newborn(), today + timedelta(days=32))
    add(demo_store, family.id, newborn(), today + timedelta(days=31))  # the default allows 31 days ahead
    add(demo_store, family.id, newborn(name="测试成", relation="子女", id_number=ADULT_ID), start)


def test_the_days_ahead_are_a_setting(demo_store: Store, family: HouseholdRow, today: date) -> None:
    with (
        pytest.raises(UserError, match="今天起 0 天内"),
        demo_store.unit_of_work(system_operator(OPERATOR)) as session,
    ):
        add_member(session, family.id, newborn(), today + timedelta(days=1), "落户", OPERATOR, MemberRules(0))


def test_without_a_lease_the_registration_day_is_the_earliest(demo_store: Store, today: date) -> None:
    head = MemberInput(
        name="测试甲", relation="本人", id_number=ident("42010219580704002"), phone="13912345678"
    )
    with demo_store.unit_of_work(system_operator(OPERATOR)) as session:
        household_id = register_household(session, HouseholdInput(members=[head]))
    with pytest.raises(UserError, match=f"早于本户的登记日期 {today}"):
        add(demo_store, household_id, newborn(relation="子女", id_number=ADULT_ID), today - timedelta(days=1))
    add(demo_store, household_id, newborn(relation="子女", id_number=ADULT_ID), today)


def test_a_household_that_has_moved_out_takes_no_changes(
    demo_store: Store, family: HouseholdRow, today: date
) -> None:
    with demo_store.unit_of_work(system_operator(OPERATOR)) as session:
        for lease in session.scalars(select(Lease).where(Lease.household_id == family.id)):
            lease.status = "ended"
    with pytest.raises(UserError, match="已结束并已办理退出"):
        add(demo_store, family.id, newborn(), today)
    with (
        pytest.raises(UserError, match="已结束并已办理退出"),
        demo_store.unit_of_work(system_operator(OPERATOR)) as session,
    ):
        change_member(session, family.members[0].id, today, "复核", OPERATOR, employer="新单位")


def test_an_unknown_household_or_member_gets_a_sentence(demo_store: Store, today: date) -> None:
    with pytest.raises(UserError, match="找不到这一户"):
        add(demo_store, uuid.uuid4(), newborn(), today)
    with (
        pytest.raises(UserError, match="找不到这位家庭成员"),
        demo_store.unit_of_work(system_operator(OPERATOR)) as session,
    ):
        remove_member(session, uuid.uuid4(), today, "迁出", OPERATOR)


# ---- remove_member --------------------------------------------------------------------------------


def test_a_member_leaves_and_still_counts_on_their_last_day(
    demo_store: Store, family: HouseholdRow, today: date
) -> None:
    leaving = family.members[-1]
    on = today + timedelta(days=5)
    with demo_store.unit_of_work(system_operator(OPERATOR)) as session:
        remove_member(session, leaving.id, on, "子女婚后迁出", OPERATOR)
    assert stored(demo_store, leaving.id).left_on == on
    with demo_store.read() as session:
        assert leaving.id in {m.id for m in current_members(session, family.id, on)}
        assert leaving.id not in {m.id for m in current_members(session, family.id, on + timedelta(days=1))}
        everyone = household_members(session, family.id)
        (change,) = member_history(session, family.id)
    assert everyone[-1].id == leaving.id and everyone[-1].left_on == on  # those who left come last
    assert (change.kind, change.effective_on, change.old_value) == (ChangeKind.LEFT, on, leaving.relation)
    with (
        pytest.raises(UserError, match="已登记于"),
        demo_store.unit_of_work(system_operator(OPERATOR)) as session,
    ):
        remove_member(session, leaving.id, on, "再次迁出", OPERATOR)


def test_the_leaseholder_cannot_leave(demo_store: Store, family: HouseholdRow, today: date) -> None:
    head = family.members[0]
    assert head.relation == "本人"
    with pytest.raises(UserError) as info, demo_store.unit_of_work(system_operator(OPERATOR)) as session:
        remove_member(session, head.id, today, "去世", OPERATOR)
    assert info.value.message == LEASEHOLDER_CANNOT_LEAVE and "租赁合同" in info.value.message
    assert stored(demo_store, head.id).left_on is None


def test_leaving_before_joining_is_refused(demo_store: Store, family: HouseholdRow, today: date) -> None:
    member = family.members[1]
    joined = stored(demo_store, member.id).joined_on
    words = f"早于 {member.name} 的入户日期 {joined}"
    with pytest.raises(UserError, match=words), demo_store.unit_of_work(system_operator(OPERATOR)) as session:
        remove_member(session, member.id, joined - timedelta(days=1), "迁出", OPERATOR)
    assert count(demo_store, MemberChange) == 0


def test_leaving_before_an_earlier_recorded_change_is_refused(
    demo_store: Store, family: HouseholdRow, today: date
) -> None:
    member = family.members[1]
    with demo_store.unit_of_work(system_operator(OPERATOR)) as session:
        change_member(session, member.id, today + timedelta(days=3), "换工作", OPERATOR, employer="新单位")
    with (
        pytest.raises(UserError, match="最近一次变更"),
        demo_store.unit_of_work(system_operator(OPERATOR)) as session,
    ):
        remove_member(session, member.id, today + timedelta(days=2), "迁出", OPERATOR)


# ---- change_member --------------------------------------------------------------------------------


def test_each_changed_field_is_one_change_with_old_and_new_values(
    demo_store: Store, family: HouseholdRow, today: date
) -> None:
    member = family.members[0]
    old = stored(demo_store, member.id)
    new_groups = {SpecialGroup.DISABLED, SpecialGroup.MOBILITY_IMPAIRED}
    with demo_store.unit_of_work(system_operator(OPERATOR)) as session:
        kinds = change_member(
            session,
            member.id,
            today,
            "年度复核",
            OPERATOR,
            employer="江岸区某物业公司",
            annual_income="42,000.50",
            flags=new_groups,
        )
    assert kinds == [ChangeKind.EMPLOYER, ChangeKind.INCOME, ChangeKind.FLAGS]
    now = stored(demo_store, member.id)
    assert (now.employer, now.annual_income_fen) == ("江岸区某物业公司", 4_200_050)  # stored as fen
    assert (now.elderly_alone, now.disabled, now.mobility_impaired) == (False, True, True)
    with demo_store.read() as session:
        history = {c.kind: c for c in member_history(session, family.id)}
    assert history[ChangeKind.EMPLOYER].old_value == old.employer
    income = history[ChangeKind.INCOME]
    assert income.new_value == "4200050"
    assert income.old_value == ("" if old.annual_income_fen is None else str(old.annual_income_fen))
    assert income.description.startswith("年收入（元）：")
    assert income.description.endswith("→ 42,000.50")  # shown as yuan
    assert history[ChangeKind.FLAGS].new_value == "disabled,mobility_impaired"
    assert history[ChangeKind.FLAGS].description.endswith("→ 残疾、行动不便")


def test_only_fields_that_really_change_are_recorded(
    demo_store: Store, family: HouseholdRow, today: date
) -> None:
    member = family.members[1]
    old = stored(demo_store, member.id)
    same_income = "" if old.annual_income_fen is None else f"{old.annual_income_fen / 100:.2f}"
    with demo_store.unit_of_work(system_operator(OPERATOR)) as session:
        kinds = change_member(
            session, member.id, today, "更换单位", OPERATOR, employer=" 新单位 ", annual_income=same_income
        )
    assert kinds == [ChangeKind.EMPLOYER]
    assert count(demo_store, MemberChange) == 1


def test_nothing_changed_is_said_and_nothing_saved(
    demo_store: Store, family: HouseholdRow, today: date
) -> None:
    member = family.members[1]
    old = stored(demo_store, member.id)
    with (
        pytest.raises(UserError, match="没有需要保存的变更"),
        demo_store.unit_of_work(system_operator(OPERATOR)) as session,
    ):
        change_member(
            session, member.id, today, "复核", OPERATOR, employer=old.employer, flags=set(member.groups)
        )
    with (
        pytest.raises(UserError, match="没有需要保存的变更"),
        demo_store.unit_of_work(system_operator(OPERATOR)) as session,
    ):
        change_member(session, member.id, today, "复核", OPERATOR)
    assert count(demo_store, MemberChange) == 0


def test_income_can_be_cleared_and_is_checked(demo_store: Store, family: HouseholdRow, today: date) -> None:
    member = next(m for m in family.members if stored(demo_store, m.id).annual_income_fen is not None)
    with (
        pytest.raises(UserError, match="负数"),
        demo_store.unit_of_work(system_operator(OPERATOR)) as session,
    ):
        change_member(session, member.id, today, "复核", OPERATOR, annual_income="-5")
    with (
        pytest.raises(UserError, match="特殊群体只能是"),
        demo_store.unit_of_work(system_operator(OPERATOR)) as session,
    ):
        change_member(session, member.id, today, "复核", OPERATOR, flags=["rich"])
    with demo_store.unit_of_work(system_operator(OPERATOR)) as session:
        change_member(session, member.id, today, "失业", OPERATOR, annual_income="")
    assert stored(demo_store, member.id).annual_income_fen is None
    with demo_store.read() as session:
        (change,) = member_history(session, family.id)
    assert change.description.endswith("→ 未申报")


def test_changes_of_a_member_who_left_or_before_they_joined_are_refused(
    demo_store: Store, family: HouseholdRow, today: date
) -> None:
    member = family.members[-1]
    with (
        pytest.raises(UserError, match="入户日期"),
        demo_store.unit_of_work(system_operator(OPERATOR)) as session,
    ):
        change_member(session, member.id, today - timedelta(days=1), "复核", OPERATOR, employer="甲")
    with demo_store.unit_of_work(system_operator(OPERATOR)) as session:
        remove_member(session, member.id, today, "迁出", OPERATOR)
    with (
        pytest.raises(UserError, match="已登记于"),
        demo_store.unit_of_work(system_operator(OPERATOR)) as session,
    ):
        change_member(session, member.id, today, "复核", OPERATOR, employer="甲")


def test_income_and_health_flags_stay_out_of_the_log(
    demo_store: Store, family: HouseholdRow, today: date, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="yuexiu_desk")
    member = family.members[0]
    with demo_store.unit_of_work(system_operator(OPERATOR)) as session:
        change_member(
            session,
            member.id,
            today,
            "复核",
            OPERATOR,
            annual_income="98765.43",
            flags={SpecialGroup.DISABLED},
        )
        add_member(session, family.id, newborn(annual_income="12345.67"), today, "落户", OPERATOR)
    text = caplog.text
    assert caplog.records  # the changes are logged, without their values
    for secret in ("98765", "9876543", "12345", "1234567", "disabled", "残疾", NEWBORN_ID, "测试宝宝"):
        assert secret not in text


# ---- history ----------------------------------------------------------------------------------------


def test_history_is_newest_first(
    demo_store: Store, family: HouseholdRow, today: date, clock: FixedClock
) -> None:
    member = family.members[1]
    with demo_store.unit_of_work(system_operator(OPERATOR)) as session:
        change_member(session, member.id, today + timedelta(days=2), "换工作", OPERATOR, employer="乙单位")
    clock.advance(timedelta(minutes=1))
    add(demo_store, family.id, newborn(), today)
    clock.advance(timedelta(minutes=1))
    toggled = set(member.groups) ^ {SpecialGroup.MOBILITY_IMPAIRED}
    with demo_store.unit_of_work(system_operator(OPERATOR)) as session:
        change_member(session, member.id, today, "复核", OPERATOR, flags=toggled)
    with demo_store.read() as session:
        history = member_history(session, family.id)
    assert [(c.effective_on, c.kind) for c in history] == [
        (today + timedelta(days=2), ChangeKind.EMPLOYER),
        (today, ChangeKind.FLAGS),  # same day: the later recorded first
        (today, ChangeKind.JOINED),
    ]
