"""The month's money figures: the rent ledger (租金台账) rows per household, the fund report (资金报表) totals,
ageing of arrears at a month's end, and month close (结账) / reopen (反结账).

Every figure is counted in one month by its accounting date: a bill in its billing month, a payment on the
day it was paid, a void on the day it was made. So for every household and month
closing = opening + billed − voided bills − paid + voided payments, and the report's totals are the sums
of the ledger's rows. A closed month accepts nothing dated in it (services.billing.require_open), so the
totals frozen at close stay true.
"""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from yuexiu_desk.clock import local_date
from yuexiu_desk.domain.billing import DEFAULT_BILLING, BillingRules, Channel, Period
from yuexiu_desk.errors import UserError
from yuexiu_desk.services import audit
from yuexiu_desk.services.access import require
from yuexiu_desk.services.billing import closed_periods, next_number
from yuexiu_desk.storage.billing_models import Bill, MoneyVoid, MonthClose, Payment
from yuexiu_desk.storage.models import HouseholdMember, Lease, Unit


@dataclass
class LedgerFigures:
    """One household's money in one month (fen)."""

    opening_fen: int = 0
    billed_fen: int = 0
    bill_voids_fen: int = 0
    paid_fen: int = 0
    payment_voids_fen: int = 0
    last_paid_on: date | None = None

    @property
    def closing_fen(self) -> int:
        return (
            self.opening_fen + self.billed_fen - self.bill_voids_fen - self.paid_fen + self.payment_voids_fen
        )

    @property
    def voided_fen(self) -> int:
        """The month's voids as they change what is owed (+: more owed)."""
        return self.payment_voids_fen - self.bill_voids_fen


def _month_figures(session: Session, period: Period) -> dict[uuid.UUID, LedgerFigures]:
    first, last, key = period.first_day, period.last_day, str(period)
    figures: dict[uuid.UUID, LedgerFigures] = defaultdict(LedgerFigures)
    for household_id, before, during in session.execute(
        select(
            Bill.household_id,
            func.sum(case((Bill.period < key, Bill.amount_fen), else_=0)),
            func.sum(case((Bill.period == key, Bill.amount_fen), else_=0)),
        )
        .where(Bill.period <= key)
        .group_by(Bill.household_id)
    ):
        figures[household_id].opening_fen += before
        figures[household_id].billed_fen += during
    for household_id, before, during in session.execute(
        select(
            Bill.household_id,
            func.sum(case((MoneyVoid.voided_on < first, Bill.amount_fen), else_=0)),
            func.sum(case((MoneyVoid.voided_on >= first, Bill.amount_fen), else_=0)),
        )
        .join(MoneyVoid, MoneyVoid.bill_id == Bill.id)
        .where(MoneyVoid.voided_on <= last)
        .group_by(Bill.household_id)
    ):
        figures[household_id].opening_fen -= before
        figures[household_id].bill_voids_fen += during
    for household_id, before, during, last_paid in session.execute(
        select(
            Payment.household_id,
            func.sum(case((Payment.paid_on < first, Payment.amount_fen), else_=0)),
            func.sum(case((Payment.paid_on >= first, Payment.amount_fen), else_=0)),
            func.max(Payment.paid_on),
        )
        .where(Payment.paid_on <= last)
        .group_by(Payment.household_id)
    ):
        figures[household_id].opening_fen -= before
        figures[household_id].paid_fen += during
        figures[household_id].last_paid_on = last_paid
    for household_id, before, during in session.execute(
        select(
            Payment.household_id,
            func.sum(case((MoneyVoid.voided_on < first, Payment.amount_fen), else_=0)),
            func.sum(case((MoneyVoid.voided_on >= first, Payment.amount_fen), else_=0)),
        )
        .join(MoneyVoid, MoneyVoid.payment_id == Payment.id)
        .where(MoneyVoid.voided_on <= last)
        .group_by(Payment.household_id)
    ):
        figures[household_id].opening_fen += before
        figures[household_id].payment_voids_fen += during
    return dict(figures)


def months_overdue_at(
    session: Session, day: date, rules: BillingRules = DEFAULT_BILLING
) -> dict[uuid.UUID, tuple[int, int]]:
    """Each household's (months overdue, overdue fen) as it stood at the end of day.

    Rebuilt from the money tables as of that day, applying payments to the oldest bills first: the clerk
    may have chosen other bills at the desk, which changes which month is open but not how much.
    """
    bills: dict[uuid.UUID, list[tuple[str, int]]] = defaultdict(list)
    voided_bills = {
        bill_id
        for bill_id in session.scalars(
            select(MoneyVoid.bill_id).where(MoneyVoid.bill_id.is_not(None), MoneyVoid.voided_on <= day)
        )
    }
    for bill_id, household_id, period, amount in session.execute(
        select(Bill.id, Bill.household_id, Bill.period, Bill.amount_fen)
        .where(Bill.period <= str(Period.of(day)))
        .order_by(Bill.period)
    ):
        if bill_id not in voided_bills:
            bills[household_id].append((period, amount))
    paid: dict[uuid.UUID, int] = defaultdict(int)
    voided_payments = set(
        session.scalars(
            select(MoneyVoid.payment_id).where(MoneyVoid.payment_id.is_not(None), MoneyVoid.voided_on <= day)
        )
    )
    for payment_id, household_id, amount in session.execute(
        select(Payment.id, Payment.household_id, Payment.amount_fen).where(Payment.paid_on <= day)
    ):
        if payment_id not in voided_payments:
            paid[household_id] += amount
    result = {}
    for household_id, items in bills.items():
        money = paid.get(household_id, 0)
        open_by_period: dict[str, int] = defaultdict(int)
        for period, amount in items:
            take = min(money, amount)
            money -= take
            if amount - take:
                open_by_period[period] += amount - take
        overdue = [(p, f) for p, f in open_by_period.items() if rules.due_on(Period.parse(p)) < day]
        if overdue:
            result[household_id] = (len(overdue), sum(f for _p, f in overdue))
    return result


@dataclass(frozen=True)
class LedgerEntry:
    household_id: uuid.UUID
    unit_code: str
    leaseholder: str
    lease_no: str
    monthly_rent_fen: int
    figures: LedgerFigures
    months_overdue: int


def ledger_entries(
    session: Session, period: Period, rules: BillingRules = DEFAULT_BILLING
) -> list[LedgerEntry]:
    """The rent ledger of a month: every household with money in or before it, by unit."""
    figures = _month_figures(session, period)
    overdue = months_overdue_at(session, min(period.last_day, local_date(session.info["clock"].now())), rules)
    leases: dict[uuid.UUID, tuple[str, str, int]] = {}
    for household_id, lease_no, code, rent in session.execute(
        select(Lease.household_id, Lease.lease_no, Unit.code, Lease.monthly_rent_fen)
        .join(Unit, Unit.id == Lease.unit_id)
        .where(Lease.effective_from <= period.last_day)
        .order_by(Lease.effective_from, Lease.version)
    ):
        leases[household_id] = (lease_no, code, rent)
    names = dict(
        session.execute(
            select(HouseholdMember.household_id, HouseholdMember.name).where(
                HouseholdMember.is_leaseholder.is_(True)
            )
        ).all()
    )
    entries = []
    for household_id, figure in figures.items():
        if not (figure.opening_fen or figure.billed_fen or figure.paid_fen or figure.voided_fen):
            continue
        lease_no, code, rent = leases.get(household_id, ("", "", 0))
        entries.append(
            LedgerEntry(
                household_id,
                code,
                names.get(household_id, ""),
                lease_no,
                rent,
                figure,
                overdue.get(household_id, (0, 0))[0],
            )
        )
    entries.sort(key=lambda e: _unit_sort_key(e.unit_code))
    return entries


def _unit_sort_key(code: str) -> tuple[int, ...]:
    parts = code.split("-")
    return tuple(int(p) if p.isdigit() else 0 for p in parts)


@dataclass(frozen=True)
class FundFigures:
    """The fund report's figures for one month (fen)."""

    period: str
    opening_fen: int
    billed_fen: int
    bill_voids_fen: int
    collected_by_channel: dict[str, int]  # Channel value → fen
    payment_voids_fen: int
    closing_fen: int
    arrears_by_band: list[tuple[str, int, int]]  # (band label, households, fen)

    @property
    def collected_fen(self) -> int:
        return sum(self.collected_by_channel.values())

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def band_labels(rules: BillingRules) -> list[str]:
    labels = []
    lower = 1
    for upper in rules.age_bands:
        labels.append(f"{lower}个月" if lower == upper else f"{lower}–{upper}个月")
        lower = upper + 1
    labels.append(f"{lower}个月以上")
    return labels


def _band_index(months: int, rules: BillingRules) -> int:
    for index, upper in enumerate(rules.age_bands):
        if months <= upper:
            return index
    return len(rules.age_bands)


def fund_figures(session: Session, period: Period, rules: BillingRules = DEFAULT_BILLING) -> FundFigures:
    figures = _month_figures(session, period)
    by_channel = dict.fromkeys([c.value for c in Channel], 0)
    for channel, amount in session.execute(
        select(Payment.channel, func.sum(Payment.amount_fen))
        .where(Payment.paid_on >= period.first_day, Payment.paid_on <= period.last_day)
        .group_by(Payment.channel)
    ):
        by_channel[channel] = by_channel.get(channel, 0) + amount
    labels = band_labels(rules)
    counts = [0] * len(labels)
    amounts = [0] * len(labels)
    as_of = min(period.last_day, local_date(session.info["clock"].now()))
    for months, fen in months_overdue_at(session, as_of, rules).values():
        index = _band_index(months, rules)
        counts[index] += 1
        amounts[index] += fen
    total = LedgerFigures()
    for figure in figures.values():
        total.opening_fen += figure.opening_fen
        total.billed_fen += figure.billed_fen
        total.bill_voids_fen += figure.bill_voids_fen
        total.paid_fen += figure.paid_fen
        total.payment_voids_fen += figure.payment_voids_fen
    assert total.paid_fen == sum(by_channel.values())
    return FundFigures(
        period=str(period),
        opening_fen=total.opening_fen,
        billed_fen=total.billed_fen,
        bill_voids_fen=total.bill_voids_fen,
        collected_by_channel={k: v for k, v in by_channel.items() if v or k != Channel.DEPOSIT.value},
        payment_voids_fen=total.payment_voids_fen,
        closing_fen=total.closing_fen,
        arrears_by_band=list(zip(labels, counts, amounts, strict=True)),
    )


def history(session: Session, period: Period, months: int = 12) -> list[tuple[str, int, int]]:
    """(period, billed fen, collected fen) for the months up to period, oldest first, for the trend chart."""
    first = period.shifted(-(months - 1))
    billed = dict(
        session.execute(
            select(Bill.period, func.sum(Bill.amount_fen))
            .where(Bill.period >= str(first), Bill.period <= str(period))
            .group_by(Bill.period)
        ).all()
    )
    collected: dict[str, int] = defaultdict(int)
    for paid_on, amount in session.execute(
        select(Payment.paid_on, Payment.amount_fen).where(
            Payment.paid_on >= first.first_day, Payment.paid_on <= period.last_day
        )
    ):
        collected[str(Period.of(paid_on))] += amount
    rows = []
    for offset in range(months):
        key = str(first.shifted(offset))
        rows.append((key, int(billed.get(key, 0)), collected.get(key, 0)))
    return rows


# ---- month close ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CloseState:
    closed: bool
    closed_at: str
    operator: str
    totals: dict[str, Any] | None


def close_state(session: Session, period: Period) -> CloseState:
    last = session.scalar(
        select(MonthClose).where(MonthClose.period == str(period)).order_by(MonthClose.seq.desc()).limit(1)
    )
    if last is None or last.action != "close":
        return CloseState(False, "", "", None)
    return CloseState(True, last.created_at.isoformat(), last.operator, json.loads(last.totals))


def close_month(
    session: Session, period: Period, operator: str, rules: BillingRules = DEFAULT_BILLING
) -> FundFigures:
    """Close a month that has ended and reconciles with the bank; its totals are frozen with the close."""
    require(session, "month.close")
    from yuexiu_desk.services.reconcile import reconciliation

    today = local_date(session.info["clock"].now())
    if today <= period.last_day:
        raise UserError(f"{period.label}还没有结束，月末之后才能结账。")
    if str(period) in closed_periods(session):
        raise UserError(f"{period.label}已经结账。")
    earlier_open = [
        p
        for p in _periods_with_money(session)
        if Period.parse(p) < period and p not in closed_periods(session)
    ]
    if earlier_open:
        raise UserError(f"请先结账更早的月份：{'、'.join(sorted(earlier_open))}。")
    state = reconciliation(session, period)
    if not state.reconciles:
        raise UserError(f"{period.label}的银行对账还没有对平（见对账页的未匹配项和差额），对平后才能结账。")
    figures = fund_figures(session, period, rules)
    session.add(
        MonthClose(
            seq=next_number(session, "month-close"),
            period=str(period),
            action="close",
            totals=json.dumps(figures.as_json(), ensure_ascii=False, sort_keys=True),
            operator=operator,
            created_at=session.info["clock"].now(),
        )
    )
    session.flush()
    audit.record(
        session,
        operator,
        "month_close",
        str(period),
        {
            "billed_fen": figures.billed_fen,
            "collected_fen": figures.collected_fen,
            "closing_fen": figures.closing_fen,
        },
    )
    return figures


def reopen_month(session: Session, period: Period, reason: str, operator: str) -> None:
    """Reopen a closed month (反结账), logged with the reason; later months must be reopened first."""
    require(session, "month.reopen")
    closed = closed_periods(session)
    if str(period) not in closed:
        raise UserError(f"{period.label}没有结账，无需反结账。")
    later = sorted(p for p in closed if Period.parse(p) > period)
    if later:
        raise UserError(f"请先反结账更晚的月份：{'、'.join(later)}。")
    if len(reason.strip()) < 4:
        raise UserError("反结账要写明原因（例如哪一笔需要更正），会记入日志。")
    session.add(
        MonthClose(
            seq=next_number(session, "month-close"),
            period=str(period),
            action="reopen",
            reason=reason.strip(),
            operator=operator,
            created_at=session.info["clock"].now(),
        )
    )
    session.flush()
    audit.record(session, operator, "month_reopen", str(period))  # the reason is in month_close


def _periods_with_money(session: Session) -> set[str]:
    periods = set(session.scalars(select(Bill.period).distinct()))
    for (paid_on,) in session.execute(select(func.min(Payment.paid_on))):
        if paid_on is not None:
            start = Period.of(paid_on)
            today = Period.of(local_date(session.info["clock"].now()))
            while start <= today:
                periods.add(str(start))
                start = start.shifted(1)
    return periods
