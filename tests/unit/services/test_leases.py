"""Signing leases (配租/签订): rent from the standard in force (R1, L5), term (L1), filing (L3), renewal (L2)."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
from sqlalchemy import func, select
from stdnum.iso7064 import mod_11_2

from yuexiu_desk.clock import FixedClock, local_date
from yuexiu_desk.domain.access import system_operator
from yuexiu_desk.domain.leases import LeaseStatus, RentTier, TerminationKind
from yuexiu_desk.domain.units import ChangeKind, UnitStatus
from yuexiu_desk.errors import UserError
from yuexiu_desk.services import leases as svc
from yuexiu_desk.services.households import HouseholdInput, MemberInput, register_household
from yuexiu_desk.services.units import UnitFilter, find_unit_id_by_code, list_units, unit_card
from yuexiu_desk.storage.db import Store
from yuexiu_desk.storage.models import Lease


def new_household(store: Store, tier: RentTier = RentTier.STANDARD, seq: str = "002") -> uuid.UUID:
    body = f"42010219700101{seq}"
    number = body + mod_11_2.calc_check_digit(body)
    member = MemberInput(name="测试丁", relation="本人", id_number=number, phone="13900000000")
    with store.unit_of_work() as session:
        return register_household(session, HouseholdInput(members=[member], rent_tier=tier))


def vacant_code(store: Store, unit_type: str | None = None) -> str:
    with store.read() as session:
        return list_units(session, UnitFilter(status=UnitStatus.VACANT, unit_type=unit_type))[0].code


def lease_count(store: Store) -> int:
    with store.read() as session:
        return int(session.scalar(select(func.count(Lease.id))) or 0)


def test_demo_leases_cover_every_occupied_unit_and_some_are_due(demo_store: Store, clock: FixedClock) -> None:
    today = local_date(clock.now())
    with demo_store.read() as session:
        rows = svc.list_leases(session, active_only=True)
        due = svc.leases_due(session, today)
        area = {r.code: r.gross_area for r in list_units(session)}
        rates = {
            r.id: svc.rent_standard_in_force(session, r.rent_tier, r.start).rate_fen_per_m2 for r in rows
        }
        occupied = {r.code for r in list_units(session, UnitFilter(status=UnitStatus.OCCUPIED))}
    assert {r.unit_code for r in rows} == occupied
    assert {i.kind for i in due} == {"filing", "renewal"}  # L2 and L3 reminders both have work in the demo
    for row in rows:  # R1: every demo rent is area × the standard in force at the start, rounded half up
        expected = (area[row.unit_code] * rates[row.id] / 100).quantize(
            Decimal("0.01"), rounding=ROUND_HALF_UP
        )
        assert row.monthly_rent == expected


def test_sign_a_lease_sets_rent_and_occupies_the_unit(demo_store: Store, clock: FixedClock) -> None:
    household_id = new_household(demo_store)
    code = vacant_code(demo_store, "两室一厅")
    today = local_date(clock.now())
    start = today + timedelta(days=5)
    with demo_store.unit_of_work(system_operator("李明")) as session:
        lease_id = svc.sign_lease(
            session, svc.SignLease(household_id, code, start, 36, deposit="1000"), "李明"
        )
    with demo_store.read() as session:
        row = next(r for r in svc.list_leases(session) if r.id == lease_id)
        card = unit_card(session, find_unit_id_by_code(session, code))
    assert row.monthly_rent == Decimal("604.34")  # R1: 54.94 m² × 11.00 元 (demo standard from 2024)
    assert row.deposit == Decimal("1000.00") and row.status is LeaseStatus.ACTIVE
    assert row.end == date(start.year + 3, start.month, start.day) - timedelta(days=1)
    assert row.lease_no.startswith(f"YXY01-{today.year}-")
    assert card.row.status is UnitStatus.OCCUPIED
    assert card.history[0].kind is ChangeKind.MOVE_IN and row.lease_no in card.history[0].reason


def test_low_income_households_pay_the_low_income_standard(demo_store: Store, clock: FixedClock) -> None:
    household_id = new_household(demo_store, RentTier.LOW_INCOME)
    code = vacant_code(demo_store)
    with demo_store.unit_of_work() as session:
        lease_id = svc.sign_lease(
            session, svc.SignLease(household_id, code, local_date(clock.now()), 12), "x"
        )
        lease = session.get(Lease, lease_id)
        assert lease is not None and lease.rate_fen_per_m2 == 250


def test_a_new_rent_standard_applies_from_its_date(demo_store: Store, clock: FixedClock) -> None:
    today = local_date(clock.now())
    with demo_store.unit_of_work() as session:
        svc.add_rent_standard(
            session, RentTier.STANDARD, "11.50", today + timedelta(days=30), "（测试）调价批复"
        )
        assert svc.rent_standard_in_force(session, RentTier.STANDARD, today).rate_fen_per_m2 == 1100
        assert (
            svc.rent_standard_in_force(session, RentTier.STANDARD, today + timedelta(days=30)).rate_fen_per_m2
            == 1150
        )
    with pytest.raises(UserError, match="已有"), demo_store.unit_of_work() as session:
        svc.add_rent_standard(session, RentTier.STANDARD, "12", today + timedelta(days=30))


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"unit_code": "occupied"}, "只有空置或预留"),
        ({"term_months": 72}, "超过 5 年"),  # L1
        ({"term_months": 0}, "至少 1 个月"),
        ({"deposit": "-5"}, "押金不能为负数"),
        ({"deposit": "abc"}, "押金"),
        ({"start": date(2000, 1, 1)}, "没有生效"),
        ({"unit_code": "9-9-999"}, "没有房号"),
    ],
)
def test_bad_leases_change_nothing(
    demo_store: Store, clock: FixedClock, change: dict[str, Any], words: str
) -> None:
    household_id = new_household(demo_store)
    base = svc.SignLease(household_id, vacant_code(demo_store), local_date(clock.now()), 36, deposit="1000")
    if change.get("unit_code") == "occupied":
        with demo_store.read() as session:
            change = {"unit_code": list_units(session, UnitFilter(status=UnitStatus.OCCUPIED))[0].code}
    before = lease_count(demo_store)
    with pytest.raises(UserError, match=words), demo_store.unit_of_work() as session:
        svc.sign_lease(session, dataclasses.replace(base, **change), "x")
    assert lease_count(demo_store) == before


def test_l1_a_long_term_with_a_reason_is_allowed(demo_store: Store, clock: FixedClock) -> None:
    household_id = new_household(demo_store)
    data = svc.SignLease(
        household_id, vacant_code(demo_store), local_date(clock.now()), 72, override_reason="经房管局批准"
    )
    with demo_store.unit_of_work() as session:
        lease_id = svc.sign_lease(session, data, "x")
        assert session.get(Lease, lease_id).term_override_reason == "经房管局批准"  # type: ignore[union-attr]


def test_a_household_with_an_active_lease_cannot_sign_a_second_overlapping_one(
    demo_store: Store, clock: FixedClock
) -> None:
    household_id = new_household(demo_store)
    today = local_date(clock.now())
    with demo_store.unit_of_work() as session:
        svc.sign_lease(session, svc.SignLease(household_id, vacant_code(demo_store), today, 36), "x")
    with pytest.raises(UserError, match="这一户已有生效合同"), demo_store.unit_of_work() as session:
        svc.sign_lease(session, svc.SignLease(household_id, vacant_code(demo_store), today, 12), "x")


def test_l3_filing_reminder_from_day_25_and_recording_the_filing(
    demo_store: Store, clock: FixedClock
) -> None:
    household_id = new_household(demo_store)
    today = local_date(clock.now())
    with demo_store.unit_of_work() as session:
        lease_id = svc.sign_lease(
            session, svc.SignLease(household_id, vacant_code(demo_store), today, 36), "x"
        )
        lease_no = session.get(Lease, lease_id).lease_no  # type: ignore[union-attr]

    def filing_items(on: date) -> list[svc.DueItem]:
        with demo_store.read() as session:
            return [i for i in svc.leases_due(session, on) if i.lease_no == lease_no and i.kind == "filing"]

    assert filing_items(today + timedelta(days=24)) == []
    (item,) = filing_items(today + timedelta(days=25))
    assert item.due == today + timedelta(days=30) and not item.overdue
    assert filing_items(today + timedelta(days=31))[0].overdue
    with pytest.raises(UserError, match="备案编号"), demo_store.unit_of_work() as session:
        svc.record_filing(session, lease_no, today, " ")
    with demo_store.unit_of_work() as session:
        svc.record_filing(session, lease_no, today, "江岸公租备〔2026〕0099号")
    assert filing_items(today + timedelta(days=31)) == []


def test_l2_renewal_reminder_four_months_before_the_end(demo_store: Store, clock: FixedClock) -> None:
    household_id = new_household(demo_store)
    today = local_date(clock.now())
    with demo_store.unit_of_work() as session:
        lease_id = svc.sign_lease(
            session, svc.SignLease(household_id, vacant_code(demo_store), today, 12), "x"
        )
        lease = session.get(Lease, lease_id)
        assert lease is not None
        lease_no, end = lease.lease_no, lease.end_date

    def renewal(on: date) -> list[svc.DueItem]:
        with demo_store.read() as session:
            return [i for i in svc.leases_due(session, on) if i.lease_no == lease_no and i.kind == "renewal"]

    from yuexiu_desk.domain.leases import add_months

    assert renewal(add_months(end, -4) - timedelta(days=1)) == []
    (item,) = renewal(add_months(end, -4))
    assert item.due == add_months(end, -3) and not item.overdue


def _signed(demo_store: Store, clock: FixedClock, months: int = 36) -> tuple[str, Lease]:
    household_id = new_household(demo_store)
    with demo_store.unit_of_work() as session:
        lease_id = svc.sign_lease(
            session,
            svc.SignLease(household_id, vacant_code(demo_store, "两室一厅"), local_date(clock.now()), months),
            "x",
        )
        lease = session.get(Lease, lease_id)
        assert lease is not None
    return lease.lease_no, lease


def _versions(demo_store: Store, lease_no: str) -> list[Lease]:
    with demo_store.read() as session:
        return list(session.scalars(select(Lease).where(Lease.lease_no == lease_no).order_by(Lease.version)))


def test_l2_renewal_is_a_new_version_from_the_day_after_the_end(demo_store: Store, clock: FixedClock) -> None:
    lease_no, first = _signed(demo_store, clock)
    with demo_store.unit_of_work() as session:
        svc.add_rent_standard(
            session, RentTier.STANDARD, "11.50", first.end_date + timedelta(days=1), "（测试）调价"
        )
        svc.renew_lease(session, lease_no, 36, "李明")
    old, new = _versions(demo_store, lease_no)
    assert old.status == LeaseStatus.SUPERSEDED.value and new.status == LeaseStatus.ACTIVE.value
    assert (old.start_date, old.end_date, old.monthly_rent_fen) == (first.start_date, first.end_date, 60434)
    assert new.start_date == first.end_date + timedelta(days=1) == new.effective_from
    assert new.monthly_rent_fen == 63181  # 54.94 m² × 11.50 元, the standard in force at the renewed start
    assert new.filed_on is None  # L3: the renewal is filed again
    with demo_store.read() as session:
        assert [r.version for r in svc.list_leases(session, active_only=True) if r.lease_no == lease_no] == [
            2
        ]


def test_l6_a_rent_tier_change_takes_effect_on_its_date_and_keeps_history(
    demo_store: Store, clock: FixedClock
) -> None:
    lease_no, first = _signed(demo_store, clock)
    when = first.start_date + timedelta(days=40)
    with pytest.raises(UserError, match="依据"), demo_store.unit_of_work() as session:
        svc.change_rent_tier(session, lease_no, RentTier.LOW_INCOME, when, "", "x")
    with demo_store.unit_of_work() as session:
        svc.change_rent_tier(session, lease_no, RentTier.LOW_INCOME, when, "低保证明 江岸民〔2026〕12号", "x")
    old, new = _versions(demo_store, lease_no)
    assert (old.rent_tier, old.monthly_rent_fen) == ("standard", 60434)
    assert (new.rent_tier, new.effective_from, new.monthly_rent_fen) == ("low_income", when, 13735)
    assert (new.start_date, new.end_date) == (old.start_date, old.end_date)
    with pytest.raises(UserError, match="已经是"), demo_store.unit_of_work() as session:
        svc.change_rent_tier(session, lease_no, RentTier.LOW_INCOME, when, "重复", "x")


def test_l7_l8_l9_termination_sets_a_move_out_deadline_and_needs_evidence_for_violations(
    demo_store: Store, clock: FixedClock
) -> None:
    lease_no, _ = _signed(demo_store, clock)
    today = local_date(clock.now())
    with pytest.raises(UserError, match="证据"), demo_store.unit_of_work() as session:
        svc.terminate_lease(session, lease_no, TerminationKind.SUBLET, today, "", "x")
    with demo_store.unit_of_work() as session:
        vacate_by = svc.terminate_lease(
            session, lease_no, TerminationKind.ARREARS, today, "累计欠租 6 个月，催缴无效", "x"
        )
    assert vacate_by == today + timedelta(days=90)  # L9: 合理的搬迁期 (setting, default 90 days)
    (lease,) = _versions(demo_store, lease_no)
    assert lease.status == LeaseStatus.TERMINATED.value and lease.end_kind == "arrears"
    with demo_store.read() as session:
        assert unit_card(session, lease.unit_id).row.status is UnitStatus.OCCUPIED  # until the move-out
        assert any(r.lease_no == lease_no for r in svc.list_leases(session))
    with pytest.raises(UserError, match="已于"), demo_store.unit_of_work() as session:
        svc.terminate_lease(session, lease_no, TerminationKind.EXPIRY, today, "", "x")
    with pytest.raises(UserError, match="不能续签"), demo_store.unit_of_work() as session:
        svc.renew_lease(session, lease_no, 12, "x")
