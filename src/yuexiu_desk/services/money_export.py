"""Feeds the rent ledger (租金台账) and fund report (资金报表) workbooks from the month's figures in services.funds."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from sqlalchemy.orm import Session

from yuexiu_desk.domain.billing import DEFAULT_BILLING, BillingRules, Channel, Period
from yuexiu_desk.export.fund_report import FundReport, write_fund_report
from yuexiu_desk.export.rent_ledger import LedgerRow, write_rent_ledger
from yuexiu_desk.services import audit, funds
from yuexiu_desk.services.access import require
from yuexiu_desk.storage.db import require_station


def ledger_rows(
    session: Session, period: Period, rules: BillingRules = DEFAULT_BILLING
) -> Iterator[LedgerRow]:
    for entry in funds.ledger_entries(session, period, rules):
        f = entry.figures
        yield LedgerRow(
            unit_code=entry.unit_code,
            leaseholder=entry.leaseholder,
            lease_no=entry.lease_no,
            monthly_rent_fen=entry.monthly_rent_fen,
            opening_fen=f.opening_fen,
            billed_fen=f.billed_fen,
            paid_fen=f.paid_fen,
            voided_fen=f.voided_fen,
            closing_fen=f.closing_fen,
            months_overdue=entry.months_overdue,
            stage_label=rules.stage_for(entry.months_overdue).label if entry.months_overdue else "",
            last_paid_on=f.last_paid_on,
        )


def export_rent_ledger(session: Session, period: Period, out: Path) -> int:
    """Write the month's ledger; run in a unit of work, which records the export in the audit log."""
    require(session, "money.export")
    station = require_station(session)
    count = write_rent_ledger(ledger_rows(session, period), period.label, station.name, out)
    audit.record(
        session,
        session.info.get("operator", ""),
        "export",
        Path(out).name,
        {"kind": "rent_ledger", "period": str(period)},
    )
    return count


def fund_report(
    session: Session,
    period: Period,
    rules: BillingRules = DEFAULT_BILLING,
    figures: funds.FundFigures | None = None,
) -> FundReport:
    from yuexiu_desk.services.reconcile import reconciliation

    figures = figures or funds.fund_figures(session, period, rules)
    state = reconciliation(session, period)
    closed = funds.close_state(session, period)
    return FundReport(
        period_label=period.label,
        station_name=require_station(session).name,
        opening_fen=figures.opening_fen,
        billed_fen=figures.billed_fen,
        bill_voids_fen=figures.bill_voids_fen,
        collected_by_channel=[(Channel(c).label, fen) for c, fen in figures.collected_by_channel.items()],
        payment_voids_fen=figures.payment_voids_fen,
        closing_fen=figures.closing_fen,
        arrears_by_band=figures.arrears_by_band,
        reconciled=state.reconciles,
        reconciled_note="已对平" if state.reconciles else "未对平",
        closed=closed.closed,
        history=[
            (Period.parse(p).label, billed, collected)
            for p, billed, collected in funds.history(session, period)
        ],
    )


def export_fund_report(session: Session, period: Period, out: Path) -> funds.FundFigures:
    require(session, "money.export")
    figures = funds.fund_figures(session, period)
    write_fund_report(fund_report(session, period, figures=figures), out)
    audit.record(
        session,
        session.info.get("operator", ""),
        "export",
        Path(out).name,
        {"kind": "fund_report", "period": str(period)},
    )
    return figures
