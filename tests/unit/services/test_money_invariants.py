"""The money invariants of rent billing and collection, checked against a real store after every step of random
sequences of bill runs, hand-entered bills, payments, voids, credit, month close and reopen:

- for every household, balance = bills − payments + voided payments − voided bills, to the fen, and the
  account cache (balance, open amount, open months) agrees with the money tables;
- allocations never exceed a bill or a payment;
- a bill run is idempotent and bills every lease that covers the month (R1);
- nothing is ever deleted from or changed in the money tables (the database itself refuses it);
- a closed month's fund figures are frozen, and anything dated in it is refused.

The expected figures are computed here with plain SQL over the money tables, not with the services' code.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from sqlalchemy import event as sa_event
from sqlalchemy import exc as sa_exc
from sqlalchemy import text
from sqlalchemy.orm import Session
from stdnum.iso7064 import mod_11_2

from yuexiu_desk.clock import FixedClock, local_date
from yuexiu_desk.domain.access import system_operator
from yuexiu_desk.domain.billing import DESK_CHANNELS, Channel, Period
from yuexiu_desk.domain.leases import RentTier
from yuexiu_desk.errors import UserError
from yuexiu_desk.paths import StationPaths
from yuexiu_desk.services import billing, funds, keys
from yuexiu_desk.services import leases as lease_svc
from yuexiu_desk.services.households import HouseholdInput, MemberInput, register_household
from yuexiu_desk.storage.billing_models import MonthClose
from yuexiu_desk.storage.db import Store
from yuexiu_desk.storage.models import Building, Station, Unit

NOW = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)  # 10:00 in Beijing
OPERATOR = "测试员"
# (unit code, gross area in hundredths of m², lease start): starts mid-month, so first months are pro-rated.
UNITS = (
    ("1-1-101", 4200, date(2026, 6, 15)),
    ("1-1-102", 5494, date(2026, 8, 1)),
    ("1-1-103", 5805, date(2026, 9, 10)),
    ("1-1-104", 5494, date(2026, 10, 31)),
)
VACANT_UNIT = "1-1-105"  # no lease in the template
RUN_KINDS = ("rent", "property_fee")  # the month-end run bills both in this station
MONEY_TABLES = ("bill", "payment", "allocation", "money_void", "month_close")


@dataclass(frozen=True)
class LeaseInfo:
    unit_code: str
    lease_no: str
    household_id: uuid.UUID
    start: date


def _id_number(seq: int) -> str:
    body = f"42010219700101{seq:03d}"
    return body + mod_11_2.calc_check_digit(body)


def build_small_station(root: Path) -> list[LeaseInfo]:
    """An empty station with 4 units and 4 households, each with a lease signed through the services; one
    lease has a second version (a tier change from the middle of September)."""
    store = Store.open(StationPaths(root), FixedClock(NOW))
    try:
        with store.unit_of_work(system_operator(OPERATOR)) as session:
            station = Station(
                code="TST01", name="测试站", estate_name="测试苑", district="江岸区", created_at=NOW
            )
            session.add(station)
            session.flush()
            session.info["station_id"] = station.id
            building = Building(number=1, name="1栋", floors=1, entrances=1)
            session.add(building)
            for room, (code, area, _start) in enumerate([*UNITS, (VACANT_UNIT, 4200, None)], start=1):
                session.add(
                    Unit(
                        building=building,
                        code=code,
                        building_no=1,
                        entrance=1,
                        floor=1,
                        room=room,
                        unit_type="两室一厅",
                        gross_area_hundredths=area,
                        inner_area_hundredths=area * 8 // 10,
                        status="vacant",
                        updated_at=NOW,
                    )
                )
            # A new station's data key, as its first manager makes it, and that manager's key slot.
            made = keys.create_data_key(session)
            keys.wrap_for_account(session, made.keys, MANAGER_LOGIN, MANAGER_PASSWORD)
        store.set_keys(made.keys)
        store.forget_station()
        with store.unit_of_work(system_operator(OPERATOR)) as session:
            lease_svc.add_rent_standard(session, RentTier.STANDARD, "11.00", date(2024, 1, 1))
            lease_svc.add_rent_standard(session, RentTier.LOW_INCOME, "2.50", date(2024, 1, 1))
            billing.configure_charge_kind(session, "property_fee", rate_yuan="1.00", in_bill_run=True)
        leases = []
        for seq, (code, _area, start) in enumerate(UNITS, start=1):
            member = MemberInput(
                name=f"测试{seq}", relation="本人", id_number=_id_number(seq), phone="13900000000"
            )
            with store.unit_of_work(system_operator(OPERATOR)) as session:
                household_id = register_household(session, HouseholdInput(members=[member]))
                lease_svc.sign_lease(session, lease_svc.SignLease(household_id, code, start, 36), OPERATOR)
                lease_no = session.execute(
                    text("SELECT lease_no FROM lease WHERE household_id = :h"), {"h": household_id.hex}
                ).scalar_one()
            leases.append(LeaseInfo(code, lease_no, household_id, start))
        with store.unit_of_work(system_operator(OPERATOR)) as session:
            lease_svc.change_rent_tier(
                session,
                leases[0].lease_no,
                RentTier.LOW_INCOME,
                date(2026, 9, 16),
                "低保证明 2026-17",
                OPERATOR,
            )
    finally:
        store.close()
    return leases


@pytest.fixture(scope="module")
def small_station(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[LeaseInfo]]:
    root = tmp_path_factory.mktemp("money-station")
    return root, build_small_station(root)


def copy_station(template: Path) -> Path:
    target = Path(tempfile.mkdtemp(prefix="money-"))
    for name in ("station.sqlite3", "station.sqlite3-wal"):
        if (template / name).exists():
            shutil.copy2(template / name, target / name)
    return target


MANAGER_LOGIN, MANAGER_PASSWORD = "boss", "money station pw"


def open_copy(template: Path, clock: FixedClock) -> Store:
    """A copy of the template station, opened without waiting for the disk at each commit (synchronous=OFF:
    nothing in these throw-away copies has to survive a power cut, and fsync would be most of the run time)."""
    store = Store.open(StationPaths(copy_station(template)), clock)
    sa_event.listen(store.engine, "connect", lambda dbapi, _record: dbapi.execute("PRAGMA synchronous=OFF"))
    store.engine.dispose()  # the connections opened so far had synchronous=FULL
    with store.read() as session:
        found = keys.open_with_password(session, MANAGER_LOGIN, MANAGER_PASSWORD)
    assert not isinstance(found, str), found
    store.set_keys(found)  # what the manager's sign-in unlocks
    return store


SmallStore = tuple[Store, FixedClock, list[LeaseInfo]]


@pytest.fixture
def small_store(small_station: tuple[Path, list[LeaseInfo]]) -> Iterator[SmallStore]:
    clock = FixedClock(NOW)
    store = open_copy(small_station[0], clock)
    yield store, clock, small_station[1]
    store.close()
    shutil.rmtree(store.paths.root, ignore_errors=True)


# ---- the books, computed independently with plain SQL --------------------------------------------------------


def _uuid(value: Any) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


@dataclass
class Books:
    balance: dict[uuid.UUID, int] = field(default_factory=lambda: defaultdict(int))
    open_by_bill: dict[uuid.UUID, int] = field(default_factory=dict)  # bills not voided
    open_fen: dict[uuid.UUID, int] = field(default_factory=lambda: defaultdict(int))
    open_by_period: dict[uuid.UUID, dict[str, int]] = field(default_factory=lambda: defaultdict(dict))
    credit: dict[uuid.UUID, int] = field(default_factory=lambda: defaultdict(int))
    bill_household: dict[uuid.UUID, uuid.UUID] = field(default_factory=dict)
    bill_amount: dict[uuid.UUID, int] = field(default_factory=dict)
    # (lease, month, charge kind, issue): a bill's place, the same in every run of an example
    bill_order: dict[uuid.UUID, tuple[str, str, str, int]] = field(default_factory=dict)
    payment_household: dict[uuid.UUID, uuid.UUID] = field(default_factory=dict)
    payment_amount: dict[uuid.UUID, int] = field(default_factory=dict)
    allocated_to_bill: dict[uuid.UUID, int] = field(default_factory=lambda: defaultdict(int))
    allocated_from_payment: dict[uuid.UUID, int] = field(default_factory=lambda: defaultdict(int))
    allocations: list[tuple[uuid.UUID, uuid.UUID, int]] = field(default_factory=list)  # all, voided or not

    @property
    def households(self) -> set[uuid.UUID]:
        return set(self.bill_household.values()) | set(self.payment_household.values())


def read_books(session: Session) -> Books:
    books = Books()
    for household_id, fen in session.execute(
        text(
            """
            SELECT h, SUM(x) FROM (
                SELECT household_id AS h, amount_fen AS x FROM bill
                UNION ALL SELECT household_id, -amount_fen FROM payment
                UNION ALL SELECT p.household_id, p.amount_fen
                    FROM payment p JOIN money_void v ON v.payment_id = p.id
                UNION ALL SELECT b.household_id, -b.amount_fen
                    FROM bill b JOIN money_void v ON v.bill_id = b.id
            ) GROUP BY h
            """
        )
    ):
        books.balance[_uuid(household_id)] = int(fen)
    voided_bills = {
        _uuid(i) for (i,) in session.execute(text("SELECT bill_id FROM money_void WHERE bill_id IS NOT NULL"))
    }
    voided_payments = {
        _uuid(i)
        for (i,) in session.execute(text("SELECT payment_id FROM money_void WHERE payment_id IS NOT NULL"))
    }
    periods: dict[uuid.UUID, str] = {}
    for bill_id, household_id, period, amount, lease_no, kind, issue in session.execute(
        text("SELECT id, household_id, period, amount_fen, lease_no, charge_kind, issue FROM bill")
    ):
        key = _uuid(bill_id)
        books.bill_order[key] = (lease_no, period, kind, issue)
        books.bill_household[key] = _uuid(household_id)
        books.bill_amount[key] = amount
        periods[key] = period
        if key not in voided_bills:
            books.open_by_bill[key] = amount
    for payment_id, household_id, amount in session.execute(
        text("SELECT id, household_id, amount_fen FROM payment")
    ):
        key = _uuid(payment_id)
        books.payment_household[key] = _uuid(household_id)
        books.payment_amount[key] = amount
        if key not in voided_payments:
            books.credit[_uuid(household_id)] += amount
    for payment_id, bill_id, amount in session.execute(
        text("SELECT payment_id, bill_id, amount_fen FROM allocation")
    ):
        payment_key, bill_key = _uuid(payment_id), _uuid(bill_id)
        books.allocations.append((payment_key, bill_key, amount))
        if payment_key in voided_payments or bill_key in voided_bills:
            continue  # an allocation counts only while neither its payment nor its bill is voided
        books.allocated_to_bill[bill_key] += amount
        books.allocated_from_payment[payment_key] += amount
        books.open_by_bill[bill_key] -= amount
        books.credit[books.payment_household[payment_key]] -= amount
    for bill_id, still in books.open_by_bill.items():
        household_id = books.bill_household[bill_id]
        books.open_fen[household_id] += still
        if still:
            by_period = books.open_by_period[household_id]
            by_period[periods[bill_id]] = by_period.get(periods[bill_id], 0) + still
    return books


def check_books(session: Session) -> Books:
    """Invariants (1)–(3) of the issue: balances, the account cache, allocations within bills and payments."""
    books = read_books(session)
    computed = billing.household_money(session)
    accounts = {
        _uuid(h): (balance, open_fen, json.loads(periods))
        for h, balance, open_fen, periods in session.execute(
            text("SELECT household_id, balance_fen, open_fen, open_periods FROM account")
        )
    }
    for household_id in books.households | set(accounts) | set(computed):
        money = computed.get(household_id, billing.HouseholdMoney())
        balance = books.balance.get(household_id, 0)
        open_fen = books.open_fen.get(household_id, 0)
        by_period = books.open_by_period.get(household_id, {})
        # (1) balance = bills − payments + voided payments − voided bills, to the fen, three ways
        assert money.balance_fen == balance, household_id
        assert accounts.get(household_id, (0, 0, {}))[0] == balance, household_id
        # (2) the account cache holds what is open, in total and per billing month
        assert money.open_fen == open_fen and money.open_by_period == by_period, household_id
        assert accounts.get(household_id, (0, 0, {}))[1:] == (open_fen, by_period), household_id
        assert money.credit_fen == books.credit.get(household_id, 0), household_id
        assert balance == open_fen - books.credit.get(household_id, 0), household_id
    # (3) effective allocations never exceed their bill or their payment; every allocation stays in one household
    for payment_id, bill_id, amount in books.allocations:
        assert amount > 0
        assert books.payment_household[payment_id] == books.bill_household[bill_id]
    for bill_id, allocated in books.allocated_to_bill.items():
        assert allocated <= books.bill_amount[bill_id], bill_id
    for payment_id, allocated in books.allocated_from_payment.items():
        assert allocated <= books.payment_amount[payment_id], payment_id
    return books


def money_rows(session: Session) -> dict[str, dict[str, tuple[Any, ...]]]:
    """Every row of the final money tables, by table and id."""
    return {
        table: {row[0]: tuple(row) for row in session.execute(text(f"SELECT * FROM {table}"))}
        for table in MONEY_TABLES
    }


def close_row(session: Session, period: str, at: datetime) -> MonthClose:
    """The row close_month writes, without its bank reconciliation (not what these tests are about)."""
    seq = billing.next_number(session, "month-close")
    return MonthClose(seq=seq, period=period, action="close", operator=OPERATOR, created_at=at)


def money_months(session: Session, today: date) -> set[str]:
    """The months close_month insists are closed first: every billing month, and every month from the first
    payment's to today's."""
    months = {p for (p,) in session.execute(text("SELECT DISTINCT period FROM bill"))}
    first_paid = session.execute(text("SELECT MIN(paid_on) FROM payment")).scalar()
    if first_paid is not None:
        month = Period.of(date.fromisoformat(str(first_paid)))
        while month <= Period.of(today):
            months.add(str(month))
            month = month.shifted(1)
    return months


TAMPER = {
    "bill": "UPDATE bill SET amount_fen = amount_fen - 1",
    "payment": "UPDATE payment SET amount_fen = amount_fen + 1",
    "allocation": "UPDATE allocation SET amount_fen = amount_fen + 1",
    "money_void": "UPDATE money_void SET voided_on = '2000-01-01'",
    "month_close": "UPDATE month_close SET action = 'reopen'",
}


def refused_error(store: Store, statement: str) -> None:
    """The statement fails with the database's own error (a trigger's RAISE(ABORT)), and changes nothing."""
    with store.read() as session:
        before = money_rows(session)
    with (
        pytest.raises(sa_exc.IntegrityError, match="never"),
        store.unit_of_work(system_operator(OPERATOR)) as session,
    ):
        session.execute(text(statement))
    with store.read() as session:
        assert money_rows(session) == before


# ---- the state machine ---------------------------------------------------------------------------------------

AMOUNTS = st.integers(min_value=1, max_value=400_000)  # 0.01 … 4,000.00 元: under- and overpayments


class MoneyMachine(RuleBasedStateMachine):
    def __init__(self, template: Path, leases: list[LeaseInfo]) -> None:
        super().__init__()
        self.clock = FixedClock(NOW)
        self.store = open_copy(template, self.clock)
        self.leases = leases
        self.closed: set[str] = set()
        self.frozen: dict[str, funds.FundFigures] = {}
        self.seen: dict[str, dict[str, tuple[Any, ...]]] = {table: {} for table in MONEY_TABLES}
        self.references = 0

    def teardown(self) -> None:
        self.store.close()
        shutil.rmtree(self.store.paths.root, ignore_errors=True)

    # -- helpers --

    @property
    def today(self) -> date:
        return local_date(self.clock.now())

    @property
    def this_month(self) -> Period:
        return Period.of(self.today)

    def books(self) -> Books:
        with self.store.read() as session:
            return read_books(session)

    def attempt(self, refused: bool, match: str, action: Callable[[Session], Any]) -> Any:
        """Run action in a unit of work: it must succeed, or (refused) raise UserError and change nothing."""
        event(f"refused: {match}" if refused else "done")
        if not refused:
            with self.store.unit_of_work(system_operator(OPERATOR)) as session:
                return action(session)
        with self.store.read() as session:
            before = money_rows(session)
        with (
            pytest.raises(UserError, match=match),
            self.store.unit_of_work(system_operator(OPERATOR)) as session,
        ):
            action(session)
        with self.store.read() as session:
            assert money_rows(session) == before
        return None

    def credit_is_used(self, household_ids: set[uuid.UUID]) -> None:
        """After credit is applied, a household does not hold both credit and open bills."""
        books = self.books()
        for household_id in household_ids:
            assert books.credit.get(household_id, 0) <= 0 or books.open_fen.get(household_id, 0) <= 0

    def refuses(self, period: Period) -> bool:
        """A month is frozen when it is closed or earlier than the latest closed month (its money is carried
        in that month's opening balance)."""
        return bool(self.closed) and period <= max(Period.parse(p) for p in self.closed)

    # -- rules --

    @rule(offset=st.integers(min_value=-8, max_value=2))
    def bill_run(self, offset: int) -> None:
        """A month-end bill run (also for past months, and re-runs); at most next month may be billed."""
        period = self.this_month.shifted(offset)
        refused = offset > 1 or self.refuses(period)
        with self.store.read() as session:
            done = set(
                session.execute(
                    text("SELECT lease_no, charge_kind FROM bill WHERE period = :p"), {"p": str(period)}
                ).all()
            )
        due = [
            (lease, kind)
            for lease in self.leases
            for kind in RUN_KINDS
            if lease.start <= period.last_day and (lease.lease_no, kind) not in done
        ]
        made = self.attempt(refused, "出账|已结账", lambda s: billing.run_bills(s, period, OPERATOR))
        if refused:
            return
        assert made == len(due)  # one bill per lease and charge kind that covers the month and lacks one (R1)
        again = self.attempt(False, "", lambda s: billing.run_bills(s, period, OPERATOR))
        assert again == 0  # a bill run is idempotent
        with self.store.read() as session:
            billed = set(
                session.execute(
                    text("SELECT lease_no, charge_kind FROM bill WHERE period = :p"), {"p": str(period)}
                ).all()
            )
        for lease in self.leases:
            if lease.start <= period.last_day:
                assert {(lease.lease_no, kind) for kind in RUN_KINDS} <= billed
        self.credit_is_used({lease.household_id for lease, _kind in due})

    @rule(
        lease=st.integers(min_value=0, max_value=len(UNITS) - 1),
        kind=st.sampled_from(["water", "electricity", "damages", "rent", "property_fee"]),
        offset=st.integers(min_value=-16, max_value=3),
        fen=AMOUNTS,
    )
    def add_bill(self, lease: int, kind: str, offset: int, fen: int) -> None:
        info = self.leases[lease]
        period = self.this_month.shifted(offset)
        amount = f"{fen // 100}.{fen % 100:02d}"
        self.attempt(
            self.refuses(period),
            "已结账",
            lambda s: billing.add_bill(s, info.unit_code, kind, period, amount, "抄表录入", OPERATOR),
        )
        self.credit_is_used({info.household_id})

    @rule(
        data=st.data(),
        lease=st.integers(min_value=0, max_value=len(UNITS) - 1),
        fen=AMOUNTS,
        channel=st.sampled_from(DESK_CHANNELS),
        days_back=st.integers(min_value=0, max_value=420),
        reference=st.sampled_from(["none", "new", "reuse"]),
        choose_bills=st.booleans(),
    )
    def pay(
        self,
        data: st.DataObject,
        lease: int,
        fen: int,
        channel: Channel,
        days_back: int,
        reference: str,
        choose_bills: bool,
    ) -> None:
        info = self.leases[lease]
        paid_on = self.today - timedelta(days=days_back)
        with self.store.read() as session:
            references = dict(
                session.execute(
                    text(
                        "SELECT p.reference, v.id FROM payment p LEFT JOIN money_void v ON v.payment_id = p.id"
                        " WHERE p.reference != ''"
                    )
                ).all()
            )
        ref = ""
        if reference == "reuse" and references:
            ref = data.draw(st.sampled_from(sorted(references)), label="reused reference")
        elif reference != "none":
            self.references += 1
            ref = f"WX2026{self.references:08d}"
        # The desk refuses a transaction reference already on a payment that is not voided.
        clash = ref != "" and ref in references and references[ref] is None
        books = self.books()
        open_bills = sorted(
            (books.bill_order[b], str(b))
            for b, fen_open in books.open_by_bill.items()
            if fen_open > 0 and books.bill_household[b] == info.household_id
        )
        chosen: tuple[uuid.UUID, ...] = ()
        if choose_bills and open_bills:
            picked = data.draw(st.lists(st.sampled_from(open_bills), min_size=1, unique=True), label="bills")
            chosen = tuple(uuid.UUID(b) for _order, b in picked)
        closed = self.refuses(Period.of(paid_on))
        entry = billing.PaymentInput(info.unit_code, f"{fen / 100:.2f}", channel, ref, paid_on, chosen)
        result = self.attempt(
            closed or clash,
            "已结账" if closed else "交易流水号",
            lambda s: billing.record_payment(s, entry, OPERATOR),
        )
        if result is None:
            return
        assert result.amount_fen == fen
        assert sum(f for _b, f in result.allocated) + result.credit_fen == fen
        if chosen:
            assert {b for b, _f in result.allocated} <= set(chosen)
        assert result.balance_fen == self.books().balance[info.household_id]

    @rule(data=st.data())
    def void_payment(self, data: st.DataObject) -> None:
        with self.store.read() as session:
            payments = session.execute(
                text(
                    "SELECT p.receipt_no, p.paid_on, v.id"
                    " FROM payment p LEFT JOIN money_void v ON v.payment_id = p.id ORDER BY p.receipt_no"
                )
            ).all()
        if not payments:
            return
        receipt_no, paid_on, void_id = data.draw(st.sampled_from(payments), label="payment")
        closed = self.refuses(Period.of(date.fromisoformat(str(paid_on))))
        self.attempt(
            void_id is not None or closed,
            "已经作废" if void_id is not None else "已结账",
            lambda s: billing.void_payment(s, receipt_no, "重复收款", OPERATOR),
        )

    @rule(data=st.data())
    def void_bill(self, data: st.DataObject) -> None:
        with self.store.read() as session:
            bills = session.execute(
                text(
                    "SELECT b.id, v.id FROM bill b LEFT JOIN money_void v ON v.bill_id = b.id"
                    " ORDER BY b.lease_no, b.period, b.charge_kind, b.issue"
                )
            ).all()
        if not bills:
            return
        bill_id, void_id = data.draw(st.sampled_from(bills), label="bill")
        self.attempt(
            void_id is not None,
            "已经作废",
            lambda s: billing.void_bill(s, _uuid(bill_id), "金额录错", OPERATOR),
        )

    @rule(lease=st.integers(min_value=0, max_value=len(UNITS) - 1))
    def apply_credit(self, lease: int) -> None:
        household_id = self.leases[lease].household_id
        before = self.books().open_fen.get(household_id, 0)
        applied = self.attempt(False, "", lambda s: billing.apply_credit(s, household_id))
        assert applied == before - self.books().open_fen.get(household_id, 0)
        self.credit_is_used({household_id})

    @rule(days=st.integers(min_value=1, max_value=40))
    def time_passes(self, days: int) -> None:
        if self.today < date(2027, 3, 1):
            self.clock.advance(timedelta(days=days))

    @rule(back=st.integers(min_value=1, max_value=8))
    def close_month(self, back: int) -> None:
        """Close a month that has ended, with every earlier month that has money in it (as close_month
        requires); the fund figures at that moment are what the close freezes."""
        month = self.this_month.shifted(-back)
        if any(Period.parse(p) >= month for p in self.closed):
            return  # months are closed in order
        self.clock.advance(timedelta(minutes=1))
        with self.store.read() as session:
            months = {p for p in money_months(session, self.today) if Period.parse(p) <= month}
        months = (months | {str(month)}) - self.closed
        with self.store.unit_of_work(system_operator(OPERATOR)) as session:
            for p in sorted(months):
                session.add(close_row(session, p, self.clock.now()))
        self.closed |= months
        with self.store.read() as session:
            for p in months:
                self.frozen[p] = funds.fund_figures(session, Period.parse(p))

    @rule()
    def reopen_latest_month(self) -> None:
        if not self.closed:
            return
        latest = max(self.closed, key=Period.parse)
        self.clock.advance(timedelta(minutes=1))
        self.attempt(
            False, "", lambda s: funds.reopen_month(s, Period.parse(latest), "更正一笔错账", OPERATOR)
        )
        self.closed.discard(latest)
        del self.frozen[latest]

    @rule()
    def audit_closed_months(self) -> None:
        with self.store.read() as session:
            for period, figures in self.frozen.items():
                assert funds.fund_figures(session, Period.parse(period)) == figures, period

    @rule(table=st.sampled_from(MONEY_TABLES), delete=st.booleans())
    def tamper(self, table: str, delete: bool) -> None:
        """Raw SQL cannot delete or change a row of the money tables (migration 0005's triggers)."""
        with self.store.read() as session:
            if not session.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar():
                return
        refused_error(self.store, f"DELETE FROM {table}" if delete else TAMPER[table])

    # -- invariants, checked after every step --

    @invariant()
    def books_balance_and_nothing_is_lost_and_closed_months_are_frozen(self) -> None:
        with self.store.read() as session:
            check_books(session)
            rows = money_rows(session)
            assert billing.closed_periods(session) == self.closed
            # A write dated before a closed month moves the opening of every later one, so the first and the last
            # closed month are compared after each step; the rule audit_closed_months compares them all.
            ordered = sorted(self.frozen, key=Period.parse)
            for period in {ordered[0], ordered[-1]} if ordered else set():
                assert funds.fund_figures(session, Period.parse(period)) == self.frozen[period], period
        for table, seen in self.seen.items():
            for row_id, row in seen.items():
                assert rows[table].get(row_id) == row, (table, row_id)  # nothing deleted, nothing changed
        self.seen = rows


def test_money_invariants_hold_through_random_desk_work(small_station: tuple[Path, list[LeaseInfo]]) -> None:
    """The issue's invariants over random sequences of desk work: balances to the fen, the account cache,
    allocations within bounds, idempotent bill runs that bill every lease month (R1), append-only money
    tables, frozen closed months that refuse anything dated in them."""
    template, leases = small_station
    run_state_machine_as_test(
        lambda: MoneyMachine(template, leases),
        settings=settings(
            max_examples=25,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )


# ---- single cases ---------------------------------------------------------------------------------------------


def test_money_rows_cannot_be_deleted_or_changed_even_with_raw_sql(small_store: SmallStore) -> None:
    store, _clock, leases = small_store
    with store.unit_of_work(system_operator(OPERATOR)) as session:
        billing.run_bills(session, Period(2026, 10), OPERATOR)
        paid = billing.record_payment(
            session, billing.PaymentInput(leases[0].unit_code, "100.00", Channel.CASH), OPERATOR
        )
        billing.void_payment(session, paid.receipt_no, "录错金额", OPERATOR)
        session.add(close_row(session, "2026-09", NOW))
    with store.read() as session:
        before = money_rows(session)
    assert all(before[table] for table in MONEY_TABLES)
    for table in MONEY_TABLES:
        refused_error(store, f"DELETE FROM {table}")
        refused_error(store, TAMPER[table])
        refused_error(store, f"UPDATE {table} SET created_at = created_at")  # even a change to nothing
    with store.read() as session:
        assert money_rows(session) == before


def test_r1_a_renewed_lease_is_billed_to_the_end_of_its_current_term(small_store: SmallStore) -> None:
    """L2 has renewals signed months before the end of a term; the months left of the current term are still
    billed. Here a 3-month lease (September to November) is renewed on 20 November."""
    store, _clock, _leases = small_store
    member = MemberInput(name="测试续", relation="本人", id_number=_id_number(99), phone="13900000000")
    with store.unit_of_work(system_operator(OPERATOR)) as session:
        household_id = register_household(session, HouseholdInput(members=[member]))
        lease_id = lease_svc.sign_lease(
            session, lease_svc.SignLease(household_id, VACANT_UNIT, date(2026, 9, 1), 3), OPERATOR
        )
        lease_no = session.execute(
            text("SELECT lease_no FROM lease WHERE id = :i"), {"i": lease_id.hex}
        ).scalar_one()
    with store.unit_of_work(system_operator(OPERATOR)) as session:
        lease_svc.renew_lease(session, lease_no, 12, OPERATOR)  # the next version starts 2026-12-01
    for month in (9, 10, 11, 12):
        with store.unit_of_work(system_operator(OPERATOR)) as session:
            billing.run_bills(session, Period(2026, month), OPERATOR)
    with store.read() as session:
        billed = set(
            session.execute(
                text("SELECT period, charge_kind FROM bill WHERE lease_no = :n"), {"n": lease_no}
            ).all()
        )
    assert billed == {(f"2026-{m:02d}", kind) for m in (9, 10, 11, 12) for kind in RUN_KINDS}


def test_a_closed_month_stays_frozen_when_a_write_is_dated_before_it(small_store: SmallStore) -> None:
    """Month close freezes its totals (the issue). June to October have bills and are closed, as close_month
    requires; a payment dated in May and a water bill for January 2025 (months with no money, so never
    closed) must be refused or must leave October's fund figures as frozen."""
    store, _clock, leases = small_store
    for month in range(6, 11):
        with store.unit_of_work(system_operator(OPERATOR)) as session:
            billing.run_bills(session, Period(2026, month), OPERATOR)
    with store.unit_of_work(system_operator(OPERATOR)) as session:
        for month in range(6, 11):
            session.add(close_row(session, f"2026-{month:02d}", NOW))
    october = Period(2026, 10)
    with store.read() as session:
        frozen = funds.fund_figures(session, october)
    writes: list[Callable[[Session], Any]] = [
        lambda s: billing.record_payment(
            s,
            billing.PaymentInput(leases[0].unit_code, "100.00", Channel.CASH, paid_on=date(2026, 5, 31)),
            OPERATOR,
        ),
        lambda s: billing.add_bill(
            s, leases[1].unit_code, "water", Period(2025, 1), "35.00", "抄表", OPERATOR
        ),
    ]
    for write in writes:
        try:
            with store.unit_of_work(system_operator(OPERATOR)) as session:
                write(session)
        except UserError:
            pass  # refusing it is one way to keep the close
        with store.read() as session:
            assert funds.fund_figures(session, october) == frozen


def test_applying_credit_keeps_the_account_cache_up_to_date(small_store: SmallStore) -> None:
    """The account row is "kept up to date by every money write": money of a voided bill becomes credit, and
    applying it to the next open bill must show in the account's open amount and open months."""
    store, _clock, leases = small_store
    lease = leases[1]  # 1-1-102: 604.34 元 rent and 54.94 元 property fee a month from August
    with store.unit_of_work(system_operator(OPERATOR)) as session:
        billing.run_bills(session, Period(2026, 8), OPERATOR)
        billing.run_bills(session, Period(2026, 9), OPERATOR)
        paid = billing.record_payment(
            session, billing.PaymentInput(lease.unit_code, "604.34", Channel.CASH), OPERATOR
        )
    ((august_rent, _fen),) = paid.allocated
    with store.unit_of_work(system_operator(OPERATOR)) as session:
        # Its 604.34 元 is credit again, and goes to the open bills at once (the voided bill's rule).
        billing.void_bill(session, august_rent, "金额录错", OPERATOR)
    with store.read() as session:
        check_books(session)
    with store.unit_of_work(system_operator(OPERATOR)) as session:
        assert billing.apply_credit(session, lease.household_id) == 0  # nothing left to apply
    with store.read() as session:
        check_books(session)


def test_a_bill_run_whose_households_all_hold_credit_applies_it(small_store: SmallStore) -> None:
    """A household that paid ahead (credit) is the only one billed in June (the others moved in later): the
    run bills it and applies its credit at once."""
    store, _clock, leases = small_store
    with store.unit_of_work(system_operator(OPERATOR)) as session:
        billing.record_payment(
            session, billing.PaymentInput(leases[0].unit_code, "1000.00", Channel.CASH), OPERATOR
        )
    with store.unit_of_work(system_operator(OPERATOR)) as session:
        assert billing.run_bills(session, Period(2026, 6), OPERATOR) == len(RUN_KINDS)
    with store.read() as session:
        books = check_books(session)
    assert books.open_fen[leases[0].household_id] == 0
