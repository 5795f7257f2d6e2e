"""资金对账 page: a month's figures as the fund report has them, the bank statement reconciled, month close."""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook, load_workbook
from sqlalchemy import select

from yuexiu_desk.domain.billing import Channel, Period
from yuexiu_desk.domain.money import fen_to_decimal, format_yuan
from yuexiu_desk.gui.mainwindow import PAGE_NAMES
from yuexiu_desk.services import funds
from yuexiu_desk.storage.billing_models import MoneyVoid, Payment

OCTOBER = Period(2026, 10)


def funds_page(window):
    window.show_page(PAGE_NAMES.index("资金对账"))
    page = window.funds
    assert page is not None and window.current_page() is page
    return page


def october_statement(store, path: Path) -> int:
    """The bank's October statement as the bank would send it: every bank payment of the month."""
    with store.read() as session:
        voided = set(session.scalars(select(MoneyVoid.payment_id)))
        payments = [
            p
            for p in session.scalars(
                select(Payment).where(
                    Payment.paid_on >= OCTOBER.first_day, Payment.paid_on <= OCTOBER.last_day
                )
            )
            if Channel(p.channel).via_bank and p.id not in voided
        ]
    book = Workbook()
    sheet = book.active
    sheet.append(["中国建设银行 账户交易明细"])
    sheet.append(["交易日期", "交易流水号", "对方户名", "贷方金额", "摘要"])
    for p in payments:
        sheet.append([p.paid_on.isoformat(), p.reference, p.payer, str(fen_to_decimal(p.amount_fen)), "房租"])
    book.save(path)
    return len(payments)


def test_page_opens_on_the_month_to_close_with_the_fund_report_figures(window, demo_store):
    page = funds_page(window)
    assert page.period == OCTOBER  # the demo closed every month up to September
    with demo_store.read() as session:
        figures = funds.fund_figures(session, OCTOBER)
    assert page.figure_labels["billed"].text() == f"{format_yuan(figures.billed_fen)} 元"
    assert page.figure_labels["collected"].text() == f"{format_yuan(figures.collected_fen)} 元"
    assert page.figure_labels["closing"].text() == f"{format_yuan(figures.closing_fen)} 元"
    assert "未对平" in page.status.text()
    assert not page.close_button.isEnabled()
    assert len(page.chart.rows) == 12 and page.chart.rows[-1][0] == "2026-10"
    page.chart.grab()  # paints without error


def test_statement_import_confirm_and_close_then_reopen(window, demo_store, wait_job, messages, tmp_path):
    page = funds_page(window)
    statement = tmp_path / "流水.xlsx"
    lines = october_statement(demo_store, statement)
    with wait_job(window.runner):
        page.import_statement(statement)
    assert any(str(lines) in t for t in messages.texts("information"))
    with wait_job(window.runner):
        page.confirm_all()
    page.refresh()
    assert page.view is not None and page.view.state.reconciles
    assert page.close_button.isEnabled()
    messages.answer_yes = True
    with wait_job(window.runner):
        page.close_month()
    assert page.view is not None and page.view.closed.closed
    assert "已结账" in page.status.text() and not page.bill_button.isEnabled()
    with wait_job(window.runner):
        page.reopen_month("更正 10 月一笔收款")
    assert page.view is not None and not page.view.closed.closed
    assert page.reopen_button.isEnabled() is False


def test_fund_report_export_reads_back(window, demo_store, wait_job, messages, tmp_path):
    page = funds_page(window)
    out = tmp_path / "资金报表.xlsx"
    messages.answer_yes = True
    with wait_job(window.runner):
        page.export("report", out)
    assert messages.opened_urls and messages.opened_urls[-1].toLocalFile() == str(out)
    book = load_workbook(out)
    texts = [str(c.value) for row in book.worksheets[0].iter_rows() for c in row if c.value is not None]
    assert any("2026年10月" in t for t in texts)


def test_bill_run_from_the_page_and_again(window, wait_job, messages):
    page = funds_page(window)
    page.select_month(Period(2026, 11))
    with wait_job(window.runner):
        page.run_bills()
    assert "出账" in messages.texts("information")[-1] and "张账单" in messages.texts("information")[-1]
    with wait_job(window.runner):
        page.run_bills()
    assert "没有需要新出的账单" in messages.texts("information")[-1]
