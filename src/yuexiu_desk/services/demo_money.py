"""A year of made-up rent history for the demo station, written through the billing services.

Most households pay within the first days of the following month (by WeChat, bank withholding, Alipay,
cash or transfer), some pay a month or two late, and a few stopped paying: some at each step of the
arrears ladder, one past 6 months cumulative (L7), with the dunning steps the station took.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from yuexiu_desk.clock import local_date
from yuexiu_desk.domain.billing import Channel, DunningMethod, Period
from yuexiu_desk.domain.money import fen_to_decimal
from yuexiu_desk.services import arrears, billing, funds
from yuexiu_desk.storage.billing_models import Bill, MoneyVoid, Payment, StatementLine
from yuexiu_desk.storage.models import Lease, Unit

DEMO_OPERATOR = "演示数据"
HISTORY_MONTHS = 12
# (channel, weight) of the on-time payers.
_CHANNELS = (
    (Channel.WECHAT, 35),
    (Channel.BANK_WITHHOLDING, 25),
    (Channel.ALIPAY, 15),
    (Channel.CASH, 15),
    (Channel.BANK_TRANSFER, 10),
)
# How many months ago each arrears household stopped paying (reminder ×3, notice ×3, L7 ×1).
_STOPPED = (1, 1, 2, 3, 4, 5, 7)


@dataclass
class _Payer:
    unit_code: str
    lease_no: str
    channel: Channel
    late_months: int  # 0 on time; 1–2 pays that much later
    stopped_months: int | None  # stopped paying this many months ago


def install_demo_money(session: Session, rng: random.Random) -> None:
    today = local_date(session.info["clock"].now())
    this_month = Period.of(today)
    periods = [this_month.shifted(-n) for n in range(HISTORY_MONTHS, 0, -1)]
    leases = session.execute(
        select(Lease.lease_no, Unit.code).join(Unit, Unit.id == Lease.unit_id).order_by(Unit.code)
    ).all()
    payers = []
    order = list(range(len(leases)))
    rng.shuffle(order)
    for rank, index in enumerate(order):
        lease_no, code = leases[index]
        stopped = _STOPPED[rank] if rank < len(_STOPPED) else None
        late = 0 if rank >= len(_STOPPED) + 18 else (rng.choice((1, 2)) if stopped is None else 0)
        channel = rng.choices([c for c, _w in _CHANNELS], weights=[w for _c, w in _CHANNELS])[0]
        payers.append(_Payer(code, lease_no, channel, late, stopped))
    reference_no = 0
    for period in periods:
        billing.run_bills(session, period, DEMO_OPERATOR)
        bills = dict(
            session.execute(
                select(Bill.lease_no, Bill.amount_fen).where(
                    Bill.period == str(period), Bill.charge_kind == "rent"
                )
            ).all()
        )
        for payer in payers:
            if payer.stopped_months is not None and period >= this_month.shifted(-payer.stopped_months):
                continue
            amount = bills.get(payer.lease_no)
            if amount is None:
                continue
            pay_month = period.shifted(1 + payer.late_months)
            if pay_month > this_month:
                continue
            paid_on = pay_month.first_day + timedelta(days=rng.randint(0, 9 if not payer.late_months else 25))
            if paid_on > today:
                continue
            reference = ""
            if payer.channel.via_bank:
                reference_no += 1
                reference = f"DEMO{paid_on:%Y%m%d}{reference_no:05d}"
            billing.record_payment(
                session,
                billing.PaymentInput(
                    unit_code=payer.unit_code,
                    amount=str(fen_to_decimal(amount)),
                    channel=payer.channel,
                    reference=reference,
                    paid_on=paid_on,
                ),
                DEMO_OPERATOR,
            )
    _dunning_history(session, today)
    _reconciled_and_closed(session, periods[:-1])


def _reconciled_and_closed(session: Session, periods: list[Period]) -> None:
    """The bank statements of all but the last month, matched to the payments and confirmed, and those
    months closed: the station has done its month-ends until the one now due."""
    now = session.info["clock"].now()
    for period in periods:
        for payment in session.scalars(
            select(Payment)
            .where(Payment.paid_on >= period.first_day, Payment.paid_on <= period.last_day)
            .order_by(Payment.paid_on, Payment.receipt_no)
        ):
            if not Channel(payment.channel).via_bank:
                continue
            session.add(
                StatementLine(
                    period=str(period),
                    fingerprint=hashlib.sha256(f"demo {payment.receipt_no}".encode()).hexdigest(),
                    source=f"演示银行流水-{period}.xlsx",
                    line_no=0,
                    booked_on=payment.paid_on,
                    amount_fen=payment.amount_fen,
                    reference=payment.reference,
                    counterparty=payment.payer,
                    summary=f"{Channel(payment.channel).label}收租",
                    payment_id=payment.id,
                    matched_by="reference",
                    confirmed_at=now,
                    operator=DEMO_OPERATOR,
                    created_at=now,
                )
            )
        session.flush()
        funds.close_month(session, period, DEMO_OPERATOR)


def _dunning_history(session: Session, today: date) -> None:
    """The steps the station took with the households now in arrears, as the ladder prescribes."""
    for row in arrears.arrears(session, today):
        steps: list[tuple[DunningMethod, int, str, str]] = [
            (DunningMethod.PHONE, 20, "承租人表示本月内缴清", "")
        ]
        if row.months_overdue >= 3:
            steps.append((DunningMethod.NOTICE, 12, "已送达催缴通知书", "承租人本人签收回执"))
            steps.append((DunningMethod.VISIT, 8, "上门面谈，承租人称收入中断", "走访记录及照片存档"))
        if row.months_overdue >= 6:
            steps.append((DunningMethod.LEGAL, 2, "已报站长，拟解除合同并移交法务", "站长审批单"))
        for method, days_ago, outcome, proof in steps:
            arrears.record_dunning(
                session,
                arrears.DunningInput(row.unit_code, method, today - timedelta(days=days_ago), outcome, proof),
                DEMO_OPERATOR,
            )


def write_statement(session: Session, period: Period, out: Path) -> Path:
    """The month's credits to the station's account as a bank exports them: a title and account line above
    the header, one line per payment that came through the bank, a total at the bottom."""
    from openpyxl import Workbook

    from yuexiu_desk.files import write_atomically

    voided = set(session.scalars(select(MoneyVoid.payment_id).where(MoneyVoid.payment_id.is_not(None))))
    payments = [
        p
        for p in session.scalars(
            select(Payment)
            .where(Payment.paid_on >= period.first_day, Payment.paid_on <= period.last_day)
            .order_by(Payment.paid_on, Payment.receipt_no)
        )
        if Channel(p.channel).via_bank and p.id not in voided
    ]
    book = Workbook()
    sheet = book.active
    sheet.title = "交易明细"
    sheet.append(["（演示）某银行 账户交易明细"])
    sheet.append(["账号：6217 0000 0000 0000 194", "户名：悦秀苑公租房服务站"])
    sheet.append(["交易日期", "交易流水号", "对方户名", "贷方金额", "摘要"])
    for p in payments:
        sheet.append(
            [
                p.paid_on,
                p.reference,
                p.payer,
                fen_to_decimal(p.amount_fen),
                f"{Channel(p.channel).label} 房租",
            ]
        )
    sheet.append(
        ["合计", "", "", fen_to_decimal(sum(p.amount_fen for p in payments)), f"共 {len(payments)} 笔"]
    )
    write_atomically(out, book.save, "演示银行流水")
    return out
