"""Gathers what a receipt (收据) and a reminder notice (催缴通知书) print from the store, and writes them.

The layouts live in printing.receipts; this module only reads records (a receipt reprints identically
any time, with the red void note once the payment is voided).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from yuexiu_desk.domain.billing import Channel
from yuexiu_desk.printing.receipts import (
    NoticeData,
    ReceiptData,
    ReceiptLine,
    VoidNote,
    write_notices,
    write_receipt,
)
from yuexiu_desk.services.arrears import IssuedNotice
from yuexiu_desk.services.billing import charge_kinds, find_payment, payment_void
from yuexiu_desk.storage.billing_models import Allocation, Bill
from yuexiu_desk.storage.db import require_station
from yuexiu_desk.storage.models import HouseholdMember, Unit

NOTICE_PAY_WITHIN_DAYS = 15  # the "please pay by" day printed on a reminder notice [U]


def receipt_data(session: Session, receipt_no: str) -> ReceiptData:
    payment = find_payment(session, receipt_no)
    station = require_station(session)
    names = {k.code: k.name for k in charge_kinds(session)}
    lines = [
        ReceiptLine(period, names.get(kind, kind), amount)
        for period, kind, amount in session.execute(
            select(Bill.period, Bill.charge_kind, Allocation.amount_fen)
            .join(Bill, Bill.id == Allocation.bill_id)
            .where(Allocation.payment_id == payment.id)
            .order_by(Bill.period, Allocation.created_at)
        )
    ]
    allocated = sum(line.amount_fen for line in lines)
    unit = session.get(Unit, payment.unit_id)
    leaseholder = session.scalar(
        select(HouseholdMember.name).where(
            HouseholdMember.household_id == payment.household_id, HouseholdMember.is_leaseholder.is_(True)
        )
    )
    void = payment_void(session, payment.id)
    return ReceiptData(
        receipt_no=payment.receipt_no,
        station_code=station.code,
        payment_id=payment.id,
        station_name=station.name,
        estate_name=station.estate_name,
        unit_code=unit.code if unit else "",
        payer=payment.payer,
        leaseholder=leaseholder or "",
        paid_on=payment.paid_on,
        channel_label=Channel(payment.channel).label,
        reference=payment.reference,
        amount_fen=payment.amount_fen,
        lines=lines,
        credit_fen=payment.amount_fen - allocated,
        balance_after_fen=payment.balance_after_fen,
        operator=payment.operator,
        printed_at=session.info["clock"].now(),
        void=None if void is None else VoidNote(void.voided_on, void.reason, void.operator),
    )


def print_receipt(session: Session, receipt_no: str, out: Path) -> Path:
    write_receipt(receipt_data(session, receipt_no), out)
    return out


def notice_data(
    session: Session, issued: Sequence[IssuedNotice], station_phone: str = ""
) -> list[NoticeData]:
    station = require_station(session)
    return [
        NoticeData(
            notice_no=n.notice_no,
            station_code=station.code,
            notice_id=n.action_id,
            station_name=station.name,
            estate_name=station.estate_name,
            unit_code=n.row.unit_code,
            leaseholder=n.row.leaseholder,
            lease_no=n.row.lease_no,
            months_overdue=n.row.months_overdue,
            periods=list(n.row.overdue_periods),
            amount_due_fen=n.row.amount_due_fen,
            stage_label=n.row.stage.label,
            pay_by=n.issued_on + timedelta(days=NOTICE_PAY_WITHIN_DAYS),
            issued_on=n.issued_on,
            station_phone=station_phone,
        )
        for n in issued
    ]


def print_notices(session: Session, issued: Sequence[IssuedNotice], out: Path) -> int:
    """Write the notices, one page each; returns the page count."""
    return write_notices(notice_data(session, issued), out)
