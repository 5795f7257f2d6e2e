"""Bill runs, payments, allocation, credit, voids and the move-out's final bills, against the demo station.

The demo clock stands at 2026-11-20 (Beijing); the demo holds bills up to 2026-10 and a year of payments.
"""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from sqlalchemy import func, select, text

from yuexiu_desk.domain.access import system_operator
from yuexiu_desk.domain.billing import Channel, Period
from yuexiu_desk.domain.leases import RentTier
from yuexiu_desk.domain.money import fen_to_decimal
from yuexiu_desk.domain.units import UnitStatus
from yuexiu_desk.errors import UserError
from yuexiu_desk.services import billing
from yuexiu_desk.services.leases import change_rent_tier
from yuexiu_desk.storage.billing_models import Account, Allocation, Bill, MoneyVoid, Payment
from yuexiu_desk.storage.db import Store
from yuexiu_desk.storage.models import Lease, Unit

NOVEMBER = Period(2026, 11)


def yuan(fen: int) -> str:
    return str(fen_to_decimal(fen))


def active_leases(store: Store) -> int:
    with store.read() as session:
        return session.scalar(select(func.count()).select_from(Lease).where(Lease.status == "active")) or 0


def a_paid_up_unit(store: Store) -> tuple[str, uuid.UUID]:
    """A unit whose household owes nothing today (most demo households pay on time)."""
    with store.read() as session:
        row = session.execute(
            select(Unit.code, Lease.household_id)
            .join(Lease, Lease.unit_id == Unit.id)
            .join(Account, Account.household_id == Lease.household_id)
            .where(Lease.status == "active", Account.balance_fen == 0, Lease.start_date < date(2026, 1, 1))
            .order_by(Unit.code)
            .limit(1)
        ).one()
    return row[0], row[1]


def test_bill_run_makes_one_rent_bill_per_active_lease_and_a_rerun_makes_none(demo_store: Store) -> None:
    with demo_store.unit_of_work(system_operator("财务")) as session:
        created = billing.run_bills(session, NOVEMBER, "财务")
    assert created == active_leases(demo_store)
    with demo_store.unit_of_work(system_operator("财务")) as session:
        assert billing.run_bills(session, NOVEMBER, "财务") == 0
    with demo_store.read() as session:
        pairs = session.execute(select(Bill.lease_no, Bill.charge_kind).where(Bill.period == "2026-11")).all()
    assert len(pairs) == len(set(pairs)) == created


def test_bill_for_a_full_month_is_the_lease_rent(demo_store: Store) -> None:
    """R1: a whole month bills the contract's monthly rent exactly."""
    with demo_store.unit_of_work(system_operator("财务")) as session:
        billing.run_bills(session, NOVEMBER, "财务")
    with demo_store.read() as session:
        rows = session.execute(
            select(Bill.amount_fen, Lease.monthly_rent_fen)
            .join(Lease, (Lease.lease_no == Bill.lease_no) & (Lease.status == "active"))
            .where(Bill.period == "2026-11", Lease.start_date <= date(2026, 11, 1))
        ).all()
    assert rows and all(amount == rent for amount, rent in rows)


def test_tier_change_mid_month_bills_each_part_by_its_days(demo_store: Store, clock) -> None:
    """R1/L6: days before the change at the old rent, from the change at the new rent (÷ days in month)."""
    with demo_store.read() as session:
        lease = session.scalar(
            select(Lease)
            .where(
                Lease.status == "active", Lease.rent_tier == "standard", Lease.start_date < date(2026, 1, 1)
            )
            .limit(1)
        )
        assert lease is not None
        old_rent = lease.monthly_rent_fen
    with demo_store.unit_of_work(system_operator("王芳")) as session:
        change_rent_tier(
            session, lease.lease_no, RentTier.LOW_INCOME, date(2026, 11, 16), "低保证明 2026-118", "王芳"
        )
        new_rent = session.scalar(
            select(Lease.monthly_rent_fen).where(Lease.lease_no == lease.lease_no, Lease.status == "active")
        )
        billing.run_bills(session, NOVEMBER, "财务")
    with demo_store.read() as session:
        bill = session.scalar(select(Bill).where(Bill.lease_no == lease.lease_no, Bill.period == "2026-11"))
    assert bill is not None
    assert new_rent is not None and new_rent < old_rent
    expected = round(old_rent * 15 / 30) + round(new_rent * 15 / 30)
    assert abs(bill.amount_fen - expected) <= 1
    assert "11-01至11-15 15 天" in bill.detail and "11-16至11-30 15 天" in bill.detail


def test_a_bill_run_beyond_next_month_is_refused(demo_store: Store) -> None:
    with pytest.raises(UserError, match="最多只能提前出下个月"), demo_store.unit_of_work() as session:
        billing.run_bills(session, Period(2027, 1), "财务")
    with demo_store.unit_of_work() as session:
        assert billing.run_bills(session, Period(2026, 12), "财务") > 0


def test_property_fee_is_a_charge_kind_billed_beside_rent(demo_store: Store) -> None:
    with demo_store.unit_of_work(system_operator("站长")) as session:
        billing.configure_charge_kind(session, "property_fee", "1.00", in_bill_run=True)
        created = billing.run_bills(session, NOVEMBER, "财务")
    assert created == 2 * active_leases(demo_store)
    with demo_store.read() as session:
        fee, area = session.execute(
            select(Bill.amount_fen, Lease.gross_area_hundredths)
            .join(Lease, (Lease.lease_no == Bill.lease_no) & (Lease.status == "active"))
            .where(
                Bill.period == "2026-11",
                Bill.charge_kind == "property_fee",
                Lease.start_date < date(2026, 11, 1),
            )
            .limit(1)
        ).one()
    assert fee == area  # 1.00 元/m² × area in hundredths of m² = fen


def test_payment_pays_oldest_bills_first_and_the_rest_becomes_credit(demo_store: Store) -> None:
    code, household = a_paid_up_unit(demo_store)
    with demo_store.unit_of_work(system_operator("财务")) as session:
        billing.run_bills(session, NOVEMBER, "财务")
        billing.run_bills(session, Period(2026, 12), "财务")
        nov, dec = (
            session.scalar(select(Bill).where(Bill.household_id == household, Bill.period == p))
            for p in ("2026-11", "2026-12")
        )
        assert nov is not None and dec is not None
        amount = nov.amount_fen + dec.amount_fen + 1234
        result = billing.record_payment(
            session,
            billing.PaymentInput(code, yuan(amount), Channel.WECHAT, "WX-0001"),
            "财务",
        )
    assert [fen for _bill, fen in result.allocated] == [nov.amount_fen, dec.amount_fen]
    assert result.credit_fen == 1234
    assert result.balance_fen == -1234
    with demo_store.read() as session:
        assert billing.open_bills(session, household) == []


def test_credit_is_applied_to_the_next_bill_run(demo_store: Store) -> None:
    code, household = a_paid_up_unit(demo_store)
    with demo_store.unit_of_work(system_operator("财务")) as session:
        billing.record_payment(session, billing.PaymentInput(code, "100.00", Channel.CASH), "财务")
        billing.run_bills(session, NOVEMBER, "财务")
        bills = billing.open_bills(session, household)
    assert len(bills) == 1
    assert bills[0].amount_fen - bills[0].open_fen == 10000


def test_chosen_bills_are_paid_even_when_older_ones_are_open(demo_store: Store) -> None:
    with demo_store.unit_of_work(system_operator("财务")) as session:
        billing.run_bills(session, NOVEMBER, "财务")
        household = session.scalar(
            select(Account.household_id)
            .where(Account.open_fen > 0)
            .order_by(Account.open_fen.desc())
            .limit(1)
        )
        assert household is not None
        bills = billing.open_bills(session, household)
        newest = bills[-1]
        code = session.scalar(select(Unit.code).where(Unit.id == session.get(Bill, newest.bill_id).unit_id))  # type: ignore[union-attr]
        result = billing.record_payment(
            session,
            billing.PaymentInput(code, yuan(newest.open_fen), Channel.CASH, bill_ids=(newest.bill_id,)),
            "财务",
        )
        after = billing.open_bills(session, household)
    assert result.allocated == ((newest.bill_id, newest.open_fen),)
    assert [b.bill_id for b in after] == [b.bill_id for b in bills[:-1]]


@pytest.mark.parametrize(
    ("amount", "message"),
    [("604.345", "最多两位小数"), ("0", "必须大于零"), ("-5", "必须大于零"), ("六百", "不是数字")],
)
def test_bad_amounts_are_refused_and_nothing_is_saved(demo_store: Store, amount: str, message: str) -> None:
    code, _household = a_paid_up_unit(demo_store)
    with demo_store.read() as session:
        before = session.scalar(select(func.count()).select_from(Payment))
    with pytest.raises(UserError, match=message), demo_store.unit_of_work() as session:
        billing.record_payment(session, billing.PaymentInput(code, amount, Channel.CASH), "财务")
    with demo_store.read() as session:
        assert session.scalar(select(func.count()).select_from(Payment)) == before


def test_payment_on_unknown_or_vacant_unit_is_refused(demo_store: Store) -> None:
    with demo_store.read() as session:
        vacant = session.scalar(select(Unit.code).where(Unit.status == UnitStatus.VACANT.value).limit(1))
    assert vacant is not None
    with pytest.raises(UserError, match=r"9-9-999|没有"), demo_store.unit_of_work() as session:
        billing.record_payment(session, billing.PaymentInput("9-9-999", "10", Channel.CASH), "财务")
    with pytest.raises(UserError, match="没有生效的租赁合同"), demo_store.unit_of_work() as session:
        billing.record_payment(session, billing.PaymentInput(vacant, "10", Channel.CASH), "财务")


def test_a_bank_reference_is_taken_once_until_its_payment_is_voided(demo_store: Store) -> None:
    code, _household = a_paid_up_unit(demo_store)
    with demo_store.unit_of_work(system_operator("财务")) as session:
        first = billing.record_payment(
            session, billing.PaymentInput(code, "10", Channel.BANK_TRANSFER, "B-77"), "财务"
        )
    with pytest.raises(UserError, match=r"B-77.*已登记在收据"), demo_store.unit_of_work() as session:
        billing.record_payment(
            session, billing.PaymentInput(code, "10", Channel.BANK_TRANSFER, "B-77"), "财务"
        )
    with demo_store.unit_of_work(system_operator("财务")) as session:
        billing.void_payment(session, first.receipt_no, "金额录错", "财务")
        again = billing.record_payment(
            session, billing.PaymentInput(code, "12", Channel.BANK_TRANSFER, "B-77"), "财务"
        )
    assert again.receipt_no != first.receipt_no


def test_receipt_numbers_follow_on_without_gaps(demo_store: Store) -> None:
    code, _household = a_paid_up_unit(demo_store)
    with demo_store.unit_of_work(system_operator("财务")) as session:
        numbers = [
            billing.record_payment(session, billing.PaymentInput(code, "1", Channel.CASH), "财务").receipt_no
            for _ in range(3)
        ]
    tails = [int(n.rsplit("-", 1)[1]) for n in numbers]
    assert tails == [tails[0], tails[0] + 1, tails[0] + 2]
    assert all(n.startswith("YXY01-SJ2026-") for n in numbers)


def test_voiding_a_payment_reopens_its_bills_and_keeps_every_row(demo_store: Store) -> None:
    code, household = a_paid_up_unit(demo_store)
    with demo_store.unit_of_work(system_operator("财务")) as session:
        billing.run_bills(session, NOVEMBER, "财务")
        owed = billing.open_bills(session, household)[0].open_fen
        paid = billing.record_payment(session, billing.PaymentInput(code, yuan(owed), Channel.CASH), "财务")
        assert billing.open_bills(session, household) == []
        billing.void_payment(session, paid.receipt_no, "重复收款", "财务")
        reopened = billing.open_bills(session, household)
        account = session.get(Account, household)
    assert [b.open_fen for b in reopened] == [owed]
    assert account is not None and account.balance_fen == owed
    with demo_store.read() as session:
        assert session.get(Payment, paid.payment_id) is not None
        assert (
            session.scalar(select(MoneyVoid.reason).where(MoneyVoid.payment_id == paid.payment_id))
            == "重复收款"
        )
        assert (
            session.scalar(
                select(func.count()).select_from(Allocation).where(Allocation.payment_id == paid.payment_id)
            )
            == 1
        )
    with pytest.raises(UserError, match="已经作废"), demo_store.unit_of_work() as session:
        billing.void_payment(session, paid.receipt_no, "再次作废", "财务")
    with demo_store.unit_of_work(system_operator("财务")) as session:
        fresh = billing.record_payment(session, billing.PaymentInput(code, "5", Channel.CASH), "财务")
    with pytest.raises(UserError, match="作废原因"), demo_store.unit_of_work() as session:
        billing.void_payment(session, fresh.receipt_no, " ", "财务")


def test_money_rows_cannot_be_deleted_or_edited(demo_store: Store) -> None:
    for statement in (
        "DELETE FROM payment",
        "DELETE FROM bill",
        "UPDATE payment SET amount_fen = 1",
        "UPDATE bill SET amount_fen = 1",
        "DELETE FROM allocation",
    ):
        with pytest.raises(Exception, match="never"), demo_store.unit_of_work() as session:
            session.execute(text(statement))


def test_voided_bill_money_becomes_credit_for_the_next_bill(demo_store: Store) -> None:
    code, household = a_paid_up_unit(demo_store)
    with demo_store.unit_of_work(system_operator("财务")) as session:
        billing.run_bills(session, NOVEMBER, "财务")
        bill = billing.open_bills(session, household)[0]
        owed = bill.open_fen
        billing.record_payment(session, billing.PaymentInput(code, yuan(owed), Channel.CASH), "财务")
        billing.void_bill(session, bill.bill_id, "金额有误", "财务")
        account = session.get(Account, household)
        assert account is not None and account.balance_fen == -owed
        billing.add_bill(session, code, "rent", NOVEMBER, "100.00", "更正后的 11 月租金", "财务")
        account = session.get(Account, household)
    assert account is not None and account.balance_fen == 10000 - owed


def test_manual_water_bill_and_unknown_charge_kind(demo_store: Store) -> None:
    code, household = a_paid_up_unit(demo_store)
    with demo_store.unit_of_work(system_operator("财务")) as session:
        billing.add_bill(session, code, "water", Period(2026, 10), "36.50", "水表 120→131 吨", "财务")
        open_ = billing.open_bills(session, household)
    assert [(b.charge_name, b.amount_fen) for b in open_] == [("水费", 3650)]
    with pytest.raises(UserError, match="没有收费项目“gas”"), demo_store.unit_of_work() as session:
        billing.add_bill(session, code, "gas", Period(2026, 10), "10", "", "财务")


def test_final_month_is_rebilled_to_the_move_out_day_and_the_deposit_pays_the_rest(demo_store: Store) -> None:
    """R1 at move-out: a month billed in full is voided and billed again for the days lived there."""
    code, household = a_paid_up_unit(demo_store)
    with demo_store.unit_of_work(system_operator("财务")) as session:
        billing.run_bills(session, NOVEMBER, "财务")
        lease = billing.current_lease_for_unit(session, code)
        rent, deposit = lease.monthly_rent_fen, lease.deposit_fen
        final = billing.bill_final_month(session, lease.lease_no, date(2026, 11, 10), 5000, "门锁", "财务")
        bills = session.scalars(
            select(Bill).where(Bill.lease_no == lease.lease_no, Bill.period == "2026-11")
        ).all()
        voided = set(session.scalars(select(MoneyVoid.bill_id)))
    live = [b for b in bills if b.id not in voided]
    assert final.final_rent_fen == round(rent * 10 / 30)
    assert sorted((b.charge_kind, b.amount_fen) for b in live) == sorted(
        [("rent", final.final_rent_fen), ("damages", 5000)]
    )
    assert final.owed_fen == final.final_rent_fen + 5000
    assert final.deposit_applied_fen == min(deposit, final.owed_fen)
    assert final.refund_fen == deposit - final.deposit_applied_fen
    with demo_store.read() as session:
        account = session.get(Account, household)
    assert account is not None and account.balance_fen == final.owed_fen - final.deposit_applied_fen


def test_accounts_match_the_money_tables_after_the_demo_year(demo_store: Store) -> None:
    with demo_store.read() as session:
        computed = billing.household_money(session)
        accounts = {a.household_id: a for a in session.scalars(select(Account))}
    assert computed
    for household_id, money in computed.items():
        account = accounts[household_id]
        assert (account.balance_fen, account.open_fen) == (money.balance_fen, money.open_fen)
