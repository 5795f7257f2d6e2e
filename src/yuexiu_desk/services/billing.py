"""Rent billing and collection (租金收缴): the month-end bill run, payments with their receipts, allocation of
money to bills, voids, household balances and month close.

Money rules kept here:
- Nothing in the money tables is deleted or edited (the database refuses it, see migration 0005): a mistake
  is voided with a reason and entered again.
- For every household, balance = bills − payments + voided payments − voided bills, to the fen.
- An allocation counts while neither its payment nor its bill is voided; money of a voided bill becomes
  credit again, and credit is applied to the oldest open bills at the next bill run or payment.
- A closed month accepts no bill of that month and no payment or void dated in it until it is reopened.
"""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from yuexiu_desk.clock import STATION_TZ, local_date
from yuexiu_desk.domain.billing import (
    DEFAULT_BILLING,
    BillingRules,
    Channel,
    ChargeMethod,
    OpenItem,
    Period,
    RentVersion,
    allocate,
    rent_for_period,
)
from yuexiu_desk.domain.leases import (
    CURRENT_STATUSES,
    DEFAULT_RULES,
    LeaseRules,
    LeaseStatus,
    ProrateMethod,
)
from yuexiu_desk.domain.money import format_yuan, round_half_up_div, yuan_to_fen
from yuexiu_desk.errors import UserError
from yuexiu_desk.services import audit
from yuexiu_desk.services.access import require
from yuexiu_desk.services.units import find_unit_id_by_code
from yuexiu_desk.storage.billing_models import (
    Account,
    Allocation,
    Bill,
    ChargeKind,
    Counter,
    MoneyVoid,
    MonthClose,
    Payment,
)
from yuexiu_desk.storage.bulk import execute_many, new_ids, stored_value
from yuexiu_desk.storage.db import require_station
from yuexiu_desk.storage.models import HouseholdMember, Lease, Unit

RENT = "rent"


# ---- charge kinds ---------------------------------------------------------------------------------------


def charge_kinds(session: Session) -> list[ChargeKind]:
    return list(session.scalars(select(ChargeKind).order_by(ChargeKind.position)))


def _charge_kind(session: Session, code: str) -> ChargeKind:
    kind = session.scalar(select(ChargeKind).where(ChargeKind.code == code.strip()))
    if kind is None:
        names = "、".join(f"{k.code}（{k.name}）" for k in charge_kinds(session))
        raise UserError(f"没有收费项目“{code.strip()}”，可用的有：{names}。")
    return kind


def configure_charge_kind(
    session: Session, code: str, rate_yuan: str | None = None, in_bill_run: bool | None = None
) -> None:
    """Set a per-area charge's rate (元/m²·月) and whether the month-end run bills it (from the next run)."""
    kind = _charge_kind(session, code)
    if rate_yuan is not None:
        if kind.method != ChargeMethod.PER_AREA.value:
            raise UserError(f"{kind.name}不按面积计费，不能设置单价。")
        rate = yuan_to_fen(rate_yuan, f"{kind.name}单价")
        if rate <= 0:
            raise UserError(f"{kind.name}单价必须大于零。")
        kind.rate_fen = rate
    if in_bill_run is not None:
        if in_bill_run and kind.method == ChargeMethod.MANUAL.value:
            raise UserError(f"{kind.name}按抄表逐笔录入，不能加入月末出账。")
        kind.in_bill_run = in_bill_run
    session.info.pop("charge_positions", None)


# ---- month close ----------------------------------------------------------------------------------------


def closed_periods(session: Session) -> set[str]:
    """Months whose latest close/reopen record is a close."""
    latest: dict[str, str] = {}
    for period, action in session.execute(
        select(MonthClose.period, MonthClose.action).order_by(MonthClose.seq)
    ):
        latest[period] = action
    return {p for p, action in latest.items() if action == "close"}


def require_open(session: Session, period: Period, what: str) -> None:
    """Refuse a write dated in a closed month, or in any month before the latest closed one: those months'
    money is carried in the closed month's frozen opening balance."""
    closed = closed_periods(session)
    if not closed:
        return
    latest = max(closed)
    if str(period) in closed:
        raise UserError(f"{period.label}已结账，不能再{what}；如确需更改，请站长先反结账该月。")
    if str(period) < latest:
        raise UserError(
            f"{period.label}早于已结账的{Period.parse(latest).label}，不能再{what}；如确需更改，请站长先反结账。"
        )


# ---- accounts (the per-household cache of balances) ----------------------------------------------------


def _voided_ids(
    session: Session, column: Any, household_ids: Sequence[uuid.UUID] | None = None
) -> set[uuid.UUID]:
    """Ids of voided bills (column MoneyVoid.bill_id) or payments (MoneyVoid.payment_id), of the given
    households only when given: a payment at the desk must not read every void the station ever made."""
    query = select(column).where(column.is_not(None))
    if household_ids is not None:
        owner = Bill if column is MoneyVoid.bill_id else Payment
        query = query.join(owner, owner.id == column).where(owner.household_id.in_(household_ids))
    return {i for i in session.scalars(query) if i is not None}


@dataclass
class HouseholdMoney:
    """A household's bills and payments with what of them is open, computed from the money tables."""

    billed_fen: int = 0
    voided_bills_fen: int = 0
    paid_fen: int = 0
    voided_payments_fen: int = 0
    open_by_bill: dict[uuid.UUID, int] = field(default_factory=dict)
    unallocated_by_payment: dict[uuid.UUID, int] = field(default_factory=dict)
    open_by_period: dict[str, int] = field(default_factory=dict)
    bill_keys: dict[uuid.UUID, tuple[str, str, int]] = field(default_factory=dict)  # period, kind, issue

    @property
    def balance_fen(self) -> int:
        return self.billed_fen - self.paid_fen + self.voided_payments_fen - self.voided_bills_fen

    @property
    def open_fen(self) -> int:
        return sum(self.open_by_bill.values())

    @property
    def credit_fen(self) -> int:
        return sum(self.unallocated_by_payment.values())


def household_money(
    session: Session, household_ids: Sequence[uuid.UUID] | None = None
) -> dict[uuid.UUID, HouseholdMoney]:
    """Balances and open amounts straight from the money tables (for the given households, or all)."""
    bill_q = select(Bill.id, Bill.household_id, Bill.period, Bill.amount_fen, Bill.charge_kind, Bill.issue)
    pay_q = select(Payment.id, Payment.household_id, Payment.amount_fen)
    if household_ids is not None:
        bill_q = bill_q.where(Bill.household_id.in_(household_ids))
        pay_q = pay_q.where(Payment.household_id.in_(household_ids))
    voided_bills = _voided_ids(session, MoneyVoid.bill_id, household_ids)
    voided_payments = _voided_ids(session, MoneyVoid.payment_id, household_ids)
    money: dict[uuid.UUID, HouseholdMoney] = defaultdict(HouseholdMoney)
    bills: dict[uuid.UUID, tuple[uuid.UUID, str, int]] = {}
    for bill_id, household_id, period, amount, kind, issue in session.execute(bill_q):
        account = money[household_id]
        account.billed_fen += amount
        if bill_id in voided_bills:
            account.voided_bills_fen += amount
        else:
            bills[bill_id] = (household_id, period, amount)
            account.open_by_bill[bill_id] = amount
            account.bill_keys[bill_id] = (period, kind, issue)
    payments: dict[uuid.UUID, int] = {}
    for payment_id, household_id, amount in session.execute(pay_q):
        account = money[household_id]
        account.paid_fen += amount
        if payment_id in voided_payments:
            account.voided_payments_fen += amount
        else:
            payments[payment_id] = amount
            account.unallocated_by_payment[payment_id] = amount
    alloc_q = select(Allocation.payment_id, Allocation.bill_id, Allocation.amount_fen)
    if household_ids is not None:
        alloc_q = alloc_q.join(Bill, Bill.id == Allocation.bill_id).where(
            Bill.household_id.in_(household_ids)
        )
    for payment_id, bill_id, amount in session.execute(alloc_q):
        if payment_id in payments and bill_id in bills:
            account = money[bills[bill_id][0]]
            account.open_by_bill[bill_id] -= amount
            account.unallocated_by_payment[payment_id] -= amount
    for bill_id, (household_id, period, _amount) in bills.items():
        still = money[household_id].open_by_bill[bill_id]
        if still:
            periods = money[household_id].open_by_period
            periods[period] = periods.get(period, 0) + still
    return dict(money)


def refresh_accounts(session: Session, household_ids: Sequence[uuid.UUID] | None = None) -> None:
    """Recompute the account rows of these households (or all) from the money tables."""
    session.flush()
    now = session.info["clock"].now()
    computed = household_money(session, household_ids)
    existing = {
        a.household_id: a
        for a in session.scalars(
            select(Account)
            if household_ids is None
            else select(Account).where(Account.household_id.in_(household_ids))
        )
    }
    for household_id, money in computed.items():
        periods = json.dumps(dict(sorted(money.open_by_period.items())), separators=(",", ":"))
        account = existing.get(household_id)
        if account is None:
            session.add(
                Account(
                    household_id=household_id,
                    balance_fen=money.balance_fen,
                    open_fen=money.open_fen,
                    open_periods=periods,
                    updated_at=now,
                )
            )
        elif (account.balance_fen, account.open_fen, account.open_periods) != (
            money.balance_fen,
            money.open_fen,
            periods,
        ):
            account.balance_fen = money.balance_fen
            account.open_fen = money.open_fen
            account.open_periods = periods
            account.updated_at = now
    session.flush()


# ---- the month-end bill run -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Coverage:
    lease_no: str
    household_id: str  # keys in their stored form (32 hex digits): the bill run writes them as they are
    unit_id: str
    gross_area_hundredths: int
    first_day: date
    last_day: date | None  # None: the household still lives there
    versions: tuple[RentVersion, ...]


# Every version of every lease: a renewal's version starts after the month being billed, yet it is the
# one that says the lease goes on.
_LEASE_ROWS = (
    "SELECT lease_no, version, id, household_id, unit_id, status, start_date, effective_from, "
    "monthly_rent_fen, gross_area_hundredths, ended_on FROM lease"
)


def _coverages(session: Session, period: Period) -> list[_Coverage]:
    """Every lease that binds a household to a unit on some day of the period, with all its versions.

    Read with plain SQL: at bureau scale (50,000 leases) ORM rows and UUID objects cost more than the rest
    of the bill run together.
    """
    session.flush()
    connection = session.connection()
    groups: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    for row in connection.exec_driver_sql(_LEASE_ROWS).all():
        groups[row[0]].append(tuple(row))
    ended = LeaseStatus.ENDED.value
    current_statuses = set(CURRENT_STATUSES)
    move_outs: dict[str, str] = dict(
        connection.exec_driver_sql(
            "SELECT lease_id, coalesce(move_out_date, held_on) FROM handover WHERE kind = 'moveout'"
        ).all()
    )
    parse = date.fromisoformat
    month_start = period.first_day.isoformat()  # ISO dates compare as text
    month_end = period.last_day.isoformat()
    result = []
    for lease_no, rows in groups.items():
        if len(rows) > 1:
            rows.sort(key=lambda r: r[1])
            if min(r[6] for r in rows) > month_end:
                continue
        elif rows[0][6] > month_end:
            continue
        current = rows[-1]
        status = current[5]
        if len(rows) == 1 and status in current_statuses and current[7] <= month_start:
            # Most leases: one version, in force all month; no dates to parse.
            result.append(
                _Coverage(
                    lease_no,
                    current[3],
                    current[4],
                    current[9],
                    period.first_day,
                    None,
                    (RentVersion(period.first_day, current[8]),),
                )
            )
            continue
        last_day: date | None = None
        if status == ended:
            text = move_outs.get(current[2]) or current[10]
            last_day = parse(text) if text else None
            if last_day is None or last_day < period.first_day:
                continue
        elif status not in current_statuses:
            continue
        result.append(
            _Coverage(
                lease_no=lease_no,
                household_id=current[3],
                unit_id=current[4],
                gross_area_hundredths=current[9],
                first_day=parse(min(r[6] for r in rows)),
                last_day=last_day,
                versions=tuple(RentVersion(parse(r[7]), r[8]) for r in rows),
            )
        )
    return result


@dataclass(frozen=True)
class _NewBill:
    household_id: str  # stored form, as in _Coverage
    unit_id: str
    lease_no: str
    charge_kind: str
    amount_fen: int
    first_day: date
    last_day: date
    detail: str


def _bills_for(
    coverage: _Coverage, period: Period, kinds: Sequence[ChargeKind], method: ProrateMethod
) -> list[_NewBill]:
    bills = []
    for kind in kinds:
        if kind.method == ChargeMethod.LEASE_RENT.value:
            versions = coverage.versions
        elif kind.method == ChargeMethod.PER_AREA.value and kind.rate_fen > 0:
            monthly = round_half_up_div(coverage.gross_area_hundredths * kind.rate_fen, 100)
            versions = (RentVersion(coverage.first_day, monthly),)
        else:
            continue
        billed = rent_for_period(versions, coverage.first_day, coverage.last_day, period, method)
        if billed is None or billed[0] <= 0:
            continue
        amount, first, last, detail = billed
        bills.append(
            _NewBill(
                coverage.household_id,
                coverage.unit_id,
                coverage.lease_no,
                kind.code,
                amount,
                first,
                last,
                detail,
            )
        )
    return bills


def check_run_period(session: Session, period: Period) -> None:
    this_month = Period.of(local_date(session.info["clock"].now()))
    if this_month.months_until(period) > 1:
        raise UserError(f"不能为 {period} 出账：最多只能提前出下个月（{this_month.shifted(1)}）的账单。")
    require_open(session, period, "出账")


def run_bills(
    session: Session,
    period: Period,
    operator: str,
    rules: BillingRules = DEFAULT_BILLING,
    lease_rules: LeaseRules = DEFAULT_RULES,
) -> int:
    """The month-end bill run: one bill per lease and charge kind for the period; returns how many were made.

    Re-running a period creates nothing twice: a lease that already has a bill of a kind for the period
    (even a voided one, which was corrected by hand) is skipped. Credit a household holds is applied to
    the new bills at once.
    """
    require(session, "bill.run")
    check_run_period(session, period)
    kinds = [k for k in charge_kinds(session) if k.in_bill_run]
    done = set(
        session.execute(select(Bill.lease_no, Bill.charge_kind).where(Bill.period == str(period))).all()
    )
    planned = [
        bill
        for coverage in _coverages(session, period)
        for bill in _bills_for(coverage, period, kinds, lease_rules.prorate_method)
        if (bill.lease_no, bill.charge_kind) not in done
    ]
    if not planned:
        return 0
    _insert_bills(session, planned, period, rules, operator)
    connection = session.connection()
    # Households holding credit (paid more than their open bills) get it applied to the new bills.
    with_credit = {
        row[0]
        for row in connection.exec_driver_sql("SELECT household_id FROM account WHERE balance_fen < open_fen")
    } & {b.household_id for b in planned}
    for household_id in sorted(with_credit):
        apply_credit(session, uuid.UUID(hex=household_id))
    _refresh_after_run(session, planned, period, with_credit)
    return len(planned)


def _insert_bills(
    session: Session, planned: Sequence[_NewBill], period: Period, rules: BillingRules, operator: str
) -> None:
    """One executemany for the bills and one for their journal rows (what the ORM would write, faster)."""
    session.flush()
    moment = session.info["clock"].now()
    created = stored_value("bill", "created_at", moment)
    due = stored_value("bill", "due_on", rules.due_on(period))
    # Dates are stored as ISO text (what the Date type's bind processor makes of them).
    assert stored_value("bill", "first_day", period.first_day) == period.first_day.isoformat()
    key = str(period)
    ids = new_ids(len(planned))
    rows = [
        (
            bill_id,
            b.household_id,
            b.unit_id,
            b.lease_no,
            key,
            b.charge_kind,
            1,
            b.amount_fen,
            b.first_day.isoformat(),
            b.last_day.isoformat(),
            b.detail,
            due,
            operator,
            created,
        )
        for bill_id, b in zip(ids, planned, strict=True)
    ]
    connection = session.connection()
    execute_many(
        connection,
        "bill",
        (
            "id",
            "household_id",
            "unit_id",
            "lease_no",
            "period",
            "charge_kind",
            "issue",
            "amount_fen",
            "first_day",
            "last_day",
            "detail",
            "due_on",
            "operator",
            "created_at",
        ),
        rows,
    )
    journal_operator = session.info.get("operator")
    if not journal_operator:
        raise RuntimeError("a write to a journaled table needs session.info['operator']")
    execute_many(
        connection,
        "change_journal",
        ("record_id",),
        [(bill_id,) for bill_id in ids],
        constants={
            "table_name": "bill",
            "operation": "insert",
            "station_id": session.info.get("station_id"),
            "operator": journal_operator,
            "recorded_at": moment,
        },
    )


def _refresh_after_run(
    session: Session, planned: Sequence[_NewBill], period: Period, recomputed: set[str]
) -> None:
    """Add the new bills to the households' accounts (those holding credit are recomputed in full).

    One upsert per household in a single executemany; SQLite's JSON functions add the month to
    open_periods in place.
    """
    added: dict[str, int] = defaultdict(int)
    for bill in planned:
        if bill.household_id not in recomputed:
            added[bill.household_id] += bill.amount_fen
    if recomputed:
        refresh_accounts(session, [uuid.UUID(hex=h) for h in sorted(recomputed)])
    if not added:
        session.expire_all()
        return
    now = stored_value("account", "updated_at", session.info["clock"].now())
    path = f'$."{period}"'
    session.connection().exec_driver_sql(
        "INSERT INTO account (household_id, balance_fen, open_fen, open_periods, updated_at) "
        "VALUES (?, ?, ?, json_object(?, ?), ?) "
        "ON CONFLICT (household_id) DO UPDATE SET "
        "balance_fen = balance_fen + excluded.balance_fen, open_fen = open_fen + excluded.open_fen, "
        "open_periods = json_set(open_periods, ?, coalesce(json_extract(open_periods, ?), 0) + excluded.open_fen), "
        "updated_at = excluded.updated_at",
        [(h, fen, fen, str(period), fen, now, path, path) for h, fen in added.items()],
    )
    session.expire_all()


# ---- bills entered by hand, voids of bills ------------------------------------------------------------


def current_lease_for_unit(session: Session, unit_code: str) -> Lease:
    unit_id = find_unit_id_by_code(session, unit_code)
    lease = session.scalar(
        select(Lease).where(Lease.unit_id == unit_id, Lease.status.in_(CURRENT_STATUSES)).limit(1)
    )
    if lease is None:
        code = session.get(Unit, unit_id).code  # type: ignore[union-attr]
        raise UserError(f"房源 {code} 没有生效的租赁合同，不能收费；请核对房号或先办理签约。")
    return lease


def add_bill(
    session: Session,
    unit_code: str,
    charge_kind: str,
    period: Period,
    amount_yuan: str,
    detail: str,
    operator: str,
    rules: BillingRules = DEFAULT_BILLING,
) -> uuid.UUID:
    """A bill entered by hand: metered water or electricity, damages, a charge the run does not make."""
    require(session, "bill.run")
    kind = _charge_kind(session, charge_kind)
    amount = yuan_to_fen(amount_yuan, f"{kind.name}金额")
    if amount <= 0:
        raise UserError(f"{kind.name}金额必须大于零。")
    require_open(session, period, "录入该月账单")
    lease = current_lease_for_unit(session, unit_code)
    issue = _next_issue(session, lease.lease_no, period, kind.code)
    bill = _make_bill(session, lease, kind.code, period, amount, detail.strip(), issue, operator, rules)
    apply_credit(session, lease.household_id)
    refresh_accounts(session, [lease.household_id])
    return bill.id


def _make_bill(
    session: Session,
    lease: Lease,
    kind: str,
    period: Period,
    amount: int,
    detail: str,
    issue: int,
    operator: str,
    rules: BillingRules,
    first_day: date | None = None,
    last_day: date | None = None,
) -> Bill:
    bill = Bill(
        household_id=lease.household_id,
        unit_id=lease.unit_id,
        lease_no=lease.lease_no,
        period=str(period),
        charge_kind=kind,
        issue=issue,
        amount_fen=amount,
        first_day=first_day or period.first_day,
        last_day=last_day or period.last_day,
        detail=detail,
        due_on=rules.due_on(period),
        operator=operator,
        created_at=session.info["clock"].now(),
    )
    session.add(bill)
    session.flush()
    return bill


def void_bill(session: Session, bill_id: uuid.UUID, reason: str, operator: str) -> None:
    """Void a bill with a reason; money already applied to it becomes the household's credit again, and goes
    to its other open bills at once (oldest first)."""
    require(session, "bill.void")
    bill = session.get(Bill, bill_id)
    if bill is None:
        raise UserError("找不到这张账单。")
    if session.scalar(select(MoneyVoid.id).where(MoneyVoid.bill_id == bill_id)) is not None:
        raise UserError(f"{bill.period} 的这张账单已经作废。")
    _void(session, reason, operator, bill_id=bill.id)
    refresh_accounts(session, [bill.household_id])
    apply_credit(session, bill.household_id)
    audit.record(
        session,
        operator,
        "bill_void",
        str(bill.id),
        {
            "lease_no": bill.lease_no,
            "period": bill.period,
            "kind": bill.charge_kind,
            "amount_fen": bill.amount_fen,
        },
    )


def _void(session: Session, reason: str, operator: str, **target: uuid.UUID) -> MoneyVoid:
    if len(reason.strip()) < 2:
        raise UserError("请写明作废原因（例如“金额录错”“重复收款”）。")
    today = local_date(session.info["clock"].now())
    require_open(session, Period.of(today), "作废")
    void = MoneyVoid(
        voided_on=today,
        reason=reason.strip(),
        operator=operator,
        created_at=session.info["clock"].now(),
        **target,
    )
    session.add(void)
    session.flush()
    return void


# ---- payments -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PaymentInput:
    unit_code: str
    amount: str  # 元 as typed
    channel: Channel
    reference: str = ""
    paid_on: date | None = None  # default today
    bill_ids: tuple[uuid.UUID, ...] = ()  # chosen bills; empty: oldest open bills first
    payer: str = ""
    note: str = ""


@dataclass(frozen=True)
class PaymentResult:
    payment_id: uuid.UUID
    receipt_no: str
    amount_fen: int
    allocated: tuple[tuple[uuid.UUID, int], ...]  # (bill id, fen)
    credit_fen: int  # of this payment, left as credit
    balance_fen: int  # the household's balance afterwards (< 0: credit)


def next_number(session: Session, name: str) -> int:
    counter = session.get(Counter, name)
    if counter is None:
        counter = Counter(name=name, value=0)
        session.add(counter)
    counter.value += 1
    session.flush()
    return counter.value


def _receipt_no(session: Session, year: int) -> str:
    station = require_station(session)
    return f"{station.code}-SJ{year}-{next_number(session, f'receipt-{year}'):06d}"


def _positions(session: Session) -> dict[str, int]:
    """Charge kinds' order on bills (rent before property fee …), read once per session."""
    cached: dict[str, int] | None = session.info.get("charge_positions")
    if cached is None:
        cached = {k.code: k.position for k in charge_kinds(session)}
        session.info["charge_positions"] = cached
    return cached


def open_items(
    session: Session, household_id: uuid.UUID, money: HouseholdMoney | None = None
) -> list[OpenItem]:
    """The household's bills with money still owed, oldest first (period, then charge kind, then issue)."""
    if money is None:
        money = household_money(session, [household_id]).get(household_id, HouseholdMoney())
    positions = _positions(session)
    items = []
    for bill_id, open_fen in money.open_by_bill.items():
        if open_fen > 0:
            period, kind, issue = money.bill_keys[bill_id]
            items.append(OpenItem(bill_id, (period, f"{positions.get(kind, 99):03d}", issue), open_fen))
    return sorted(items, key=lambda i: i.order)


def apply_credit(session: Session, household_id: uuid.UUID) -> int:
    """Apply the household's unallocated payment money to its open bills, oldest first; returns fen applied."""
    session.flush()
    money = household_money(session, [household_id]).get(household_id)
    if money is None or money.credit_fen <= 0 or money.open_fen <= 0:
        return 0
    items = open_items(session, household_id)
    applied_total = 0
    now = session.info["clock"].now()
    paid_on = dict(
        session.execute(
            select(Payment.id, Payment.paid_on).where(Payment.id.in_(list(money.unallocated_by_payment)))
        ).all()
    )
    for payment_id in sorted(money.unallocated_by_payment, key=lambda p: (paid_on[p], str(p))):
        credit = money.unallocated_by_payment[payment_id]
        if credit <= 0:
            continue
        applied, _left = allocate(credit, items)
        for bill_id, fen in applied:
            session.add(Allocation(payment_id=payment_id, bill_id=bill_id, amount_fen=fen, created_at=now))
            applied_total += fen
            for item in items:
                if item.key == bill_id:
                    item.open_fen -= fen
    refresh_accounts(session, [household_id])
    return applied_total


def record_payment(
    session: Session, data: PaymentInput, operator: str, rules: BillingRules = DEFAULT_BILLING
) -> PaymentResult:
    """Money received at the desk: allocated to the chosen bills or the oldest open ones; the rest is credit."""
    require(session, "payment.record")
    amount = yuan_to_fen(data.amount, "缴费金额")
    if amount <= 0:
        raise UserError("缴费金额必须大于零。")
    lease = current_lease_for_unit(session, data.unit_code)
    today = local_date(session.info["clock"].now())
    paid_on = data.paid_on or today
    if paid_on > today:
        raise UserError("缴费日期不能晚于今天。")
    require_open(session, Period.of(paid_on), "登记该月的缴费")
    reference = data.reference.strip()
    if reference:
        clash = session.execute(
            select(Payment.receipt_no)
            .where(Payment.reference == reference)
            .where(Payment.id.not_in(select(MoneyVoid.payment_id).where(MoneyVoid.payment_id.is_not(None))))
        ).first()
        if clash is not None:
            raise UserError(
                f"交易流水号 {reference} 已登记在收据 {clash[0]} 上，请勿重复收款；如需更正请先作废原收据。"
            )
    items = open_items(session, lease.household_id)
    if data.bill_ids:
        chosen = set(data.bill_ids)
        unknown = chosen - {i.key for i in items}
        if unknown:
            raise UserError("所选账单不属于该户或已经结清，请重新选择。")
        items = [i for i in items if i.key in chosen]
    payer = data.payer.strip() or _leaseholder_name(session, lease.household_id)
    before = session.get(Account, lease.household_id)
    payment = Payment(
        balance_after_fen=(before.balance_fen if before else 0) - amount,
        receipt_no=_receipt_no(session, paid_on.year),
        household_id=lease.household_id,
        unit_id=lease.unit_id,
        lease_no=lease.lease_no,
        amount_fen=amount,
        channel=data.channel.value,
        reference=reference,
        payer=payer,
        paid_on=paid_on,
        note=data.note.strip(),
        operator=operator,
        created_at=session.info["clock"].now(),
    )
    session.add(payment)
    session.flush()
    applied, left = allocate(amount, items)
    now = session.info["clock"].now()
    periods = {i.key: i.order[0] for i in items}
    paid_by_period: dict[str, int] = defaultdict(int)
    for bill_id, fen in applied:
        session.add(Allocation(payment_id=payment.id, bill_id=bill_id, amount_fen=fen, created_at=now))
        paid_by_period[periods[bill_id]] += fen
    account = _adjust_account(session, lease.household_id, -amount, paid_by_period)
    audit.record(
        session,
        operator,
        "payment",
        payment.receipt_no,
        {
            "lease_no": lease.lease_no,
            "amount_fen": amount,
            "channel": payment.channel,
            "paid_on": str(paid_on),
        },
    )
    return PaymentResult(
        payment.id,
        payment.receipt_no,
        amount,
        tuple((bill_id, fen) for bill_id, fen in applied),  # type: ignore[misc]
        left,
        account.balance_fen,
    )


def _adjust_account(
    session: Session, household_id: uuid.UUID, balance_change: int, paid_by_period: dict[str, int]
) -> Account:
    """Apply one payment's effect to the household's account row (cheaper than recomputing it)."""
    account = session.get(Account, household_id)
    now = session.info["clock"].now()
    if account is None:
        account = Account(
            household_id=household_id, balance_fen=0, open_fen=0, open_periods="{}", updated_at=now
        )
        session.add(account)
    periods = json.loads(account.open_periods)
    for period, fen in paid_by_period.items():
        periods[period] -= fen
        if periods[period] == 0:
            del periods[period]
    account.balance_fen += balance_change
    account.open_fen -= sum(paid_by_period.values())
    account.open_periods = json.dumps(dict(sorted(periods.items())), separators=(",", ":"))
    account.updated_at = now
    session.flush()
    return account


def _leaseholder_name(session: Session, household_id: uuid.UUID) -> str:
    name = session.scalar(
        select(HouseholdMember.name).where(
            HouseholdMember.household_id == household_id, HouseholdMember.is_leaseholder.is_(True)
        )
    )
    return name or ""


def find_payment(session: Session, receipt_no: str) -> Payment:
    payment = session.scalar(select(Payment).where(Payment.receipt_no == receipt_no.strip().upper()))
    if payment is None:
        raise UserError(f"没有收据号为 {receipt_no.strip()} 的缴费记录，请核对收据号。")
    return payment


def void_payment(session: Session, receipt_no: str, reason: str, operator: str) -> None:
    """Void a payment (the receipt is taken back); the bills it paid are open again."""
    require(session, "payment.void")
    payment = find_payment(session, receipt_no)
    if session.scalar(select(MoneyVoid.id).where(MoneyVoid.payment_id == payment.id)) is not None:
        raise UserError(f"收据 {payment.receipt_no} 已经作废。")
    closed = closed_periods(session)
    if closed and str(Period.of(payment.paid_on)) <= max(closed):
        raise UserError(
            f"收据 {payment.receipt_no} 所在的{Period.of(payment.paid_on).label}已结账，请站长先反结账后再作废。"
        )
    _void(session, reason, operator, payment_id=payment.id)
    refresh_accounts(session, [payment.household_id])
    audit.record(session, operator, "payment_void", payment.receipt_no, {"amount_fen": payment.amount_fen})


def payment_void(session: Session, payment_id: uuid.UUID) -> MoneyVoid | None:
    return session.scalar(select(MoneyVoid).where(MoneyVoid.payment_id == payment_id))


# ---- what a household owes ------------------------------------------------------------------------------


@dataclass(frozen=True)
class OpenBill:
    bill_id: uuid.UUID
    period: str
    charge_kind: str
    charge_name: str
    amount_fen: int
    open_fen: int
    due_on: date
    detail: str

    def overdue(self, today: date) -> bool:
        return self.due_on < today


def open_bills(session: Session, household_id: uuid.UUID) -> list[OpenBill]:
    items = open_items(session, household_id)
    names = {k.code: k.name for k in charge_kinds(session)}
    bills = {b.id: b for b in session.scalars(select(Bill).where(Bill.id.in_([i.key for i in items])))}
    result = []
    for item in items:
        bill = bills[item.key]  # type: ignore[index]
        result.append(
            OpenBill(
                bill.id,
                bill.period,
                bill.charge_kind,
                names.get(bill.charge_kind, bill.charge_kind),
                bill.amount_fen,
                item.open_fen,
                bill.due_on,
                bill.detail,
            )
        )
    return result


def account_of(session: Session, household_id: uuid.UUID) -> Account | None:
    return session.get(Account, household_id)


def describe_fen(fen: int) -> str:
    """'欠 604.34 元', '预存 10.00 元' or '已结清' for a balance."""
    if fen > 0:
        return f"欠 {format_yuan(fen)} 元"
    if fen < 0:
        return f"预存 {format_yuan(-fen)} 元"
    return "已结清"


# ---- move-out ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FinalBilling:
    final_rent_fen: int  # the rent of the move-out month, to the move-out day (R1)
    damages_fen: int
    owed_fen: int  # everything the household owes now, before the deposit (< 0: credit)
    deposit_applied_fen: int  # deposit used to pay what is owed (a payment of channel "deposit")
    refund_fen: int  # deposit left over, paid back to the household


def bill_final_month(
    session: Session,
    lease_no: str,
    move_out: date,
    damages_fen: int,
    damages_detail: str,
    operator: str,
    rules: BillingRules = DEFAULT_BILLING,
    lease_rules: LeaseRules = DEFAULT_RULES,
) -> FinalBilling:
    """At move-out: bills of the move-out month to the day (re-issuing one billed in full), no bills after it,
    damages billed, then the deposit pays what is owed and the rest is refunded."""
    versions = list(session.scalars(select(Lease).where(Lease.lease_no == lease_no).order_by(Lease.version)))
    current = versions[-1]
    period = Period.of(move_out)
    require_open(session, period, "办理退出结算")
    kinds = [k for k in charge_kinds(session) if k.in_bill_run]
    coverage = _Coverage(
        lease_no=lease_no,
        household_id=current.household_id.hex,
        unit_id=current.unit_id.hex,
        gross_area_hundredths=current.gross_area_hundredths,
        first_day=min(v.start_date for v in versions),
        last_day=move_out,
        versions=tuple(RentVersion(v.effective_from, v.monthly_rent_fen) for v in versions),
    )
    due = {b.charge_kind: b for b in _bills_for(coverage, period, kinds, lease_rules.prorate_method)}
    voided = set(_voided_ids(session, MoneyVoid.bill_id))
    existing = [
        b
        for b in session.scalars(
            select(Bill).where(Bill.lease_no == lease_no, Bill.period >= str(period)).order_by(Bill.issue)
        )
        if b.id not in voided and b.charge_kind in {k.code for k in kinds}
    ]
    billed_kinds = set()
    for bill in existing:
        if bill.period > str(period):
            _void(session, f"{move_out} 已退出，不再计费", operator, bill_id=bill.id)
            continue
        billed_kinds.add(bill.charge_kind)
        wanted = due.get(bill.charge_kind)
        if wanted is None or wanted.amount_fen != bill.amount_fen:
            _void(session, f"{move_out} 退出，按实际天数重新计费", operator, bill_id=bill.id)
            billed_kinds.discard(bill.charge_kind)
    for code, wanted in due.items():
        if code in billed_kinds:
            continue
        issue = _next_issue(session, lease_no, period, code)
        _make_bill(
            session,
            current,
            code,
            period,
            wanted.amount_fen,
            wanted.detail,
            issue,
            operator,
            rules,
            wanted.first_day,
            wanted.last_day,
        )
    if damages_fen > 0:
        _make_bill(
            session,
            current,
            "damages",
            period,
            damages_fen,
            damages_detail,
            _next_issue(session, lease_no, period, "damages"),
            operator,
            rules,
        )
    apply_credit(session, current.household_id)
    refresh_accounts(session, [current.household_id])
    account = session.get(Account, current.household_id)
    owed = account.balance_fen if account else 0
    applied = min(max(owed, 0), current.deposit_fen)
    if applied > 0:
        payment = Payment(
            balance_after_fen=owed - applied,
            receipt_no=_receipt_no(session, move_out.year),
            household_id=current.household_id,
            unit_id=current.unit_id,
            lease_no=lease_no,
            amount_fen=applied,
            channel=Channel.DEPOSIT.value,
            reference="",
            payer=_leaseholder_name(session, current.household_id),
            paid_on=local_date(session.info["clock"].now()),
            note=f"退出结算：押金抵扣（合同 {lease_no}）",
            operator=operator,
            created_at=session.info["clock"].now(),
        )
        session.add(payment)
        session.flush()
        now = session.info["clock"].now()
        for bill_id, fen in allocate(applied, open_items(session, current.household_id))[0]:
            session.add(Allocation(payment_id=payment.id, bill_id=bill_id, amount_fen=fen, created_at=now))
        refresh_accounts(session, [current.household_id])
    rent = due.get(RENT)
    return FinalBilling(
        final_rent_fen=rent.amount_fen if rent else 0,
        damages_fen=damages_fen,
        owed_fen=owed,
        deposit_applied_fen=applied,
        refund_fen=current.deposit_fen - applied,
    )


def _next_issue(session: Session, lease_no: str, period: Period, code: str) -> int:
    last = session.scalar(
        select(func.max(Bill.issue)).where(
            Bill.lease_no == lease_no, Bill.period == str(period), Bill.charge_kind == code
        )
    )
    return (last or 0) + 1


# ---- the desk's day ------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeskPayment:
    """One payment entered at this desk today, as the list under the form shows it."""

    receipt_no: str
    unit_code: str
    payer: str
    amount_fen: int
    channel: Channel
    reference: str
    entered_at: datetime
    void_reason: str | None  # None: not voided

    @property
    def voided(self) -> bool:
        return self.void_reason is not None


def payments_at_desk(session: Session, operator: str, day: date) -> list[DeskPayment]:
    """Payments entered by this operator on the station's calendar day, newest first (the desk's day list)."""
    start = datetime.combine(day, time.min, STATION_TZ).astimezone(UTC)
    query = (
        select(Payment, Unit.code, MoneyVoid.reason)
        .join(Unit, Unit.id == Payment.unit_id)
        .outerjoin(MoneyVoid, MoneyVoid.payment_id == Payment.id)
        .where(
            Payment.operator == operator,
            Payment.created_at >= start,
            Payment.created_at < start + timedelta(days=1),
        )
        .order_by(Payment.created_at.desc(), Payment.receipt_no.desc())
    )
    return [
        DeskPayment(
            p.receipt_no,
            code,
            p.payer,
            p.amount_fen,
            Channel(p.channel),
            p.reference,
            p.created_at,
            reason,
        )
        for p, code, reason in session.execute(query)
    ]
