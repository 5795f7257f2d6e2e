"""收费: scan → payment → receipt printed in three interactions, the checked bills, refusals shown in red
beside the button (nothing saved), overpayment as credit after a question, and this desk's payments of the
day with 补打收据 and 作废."""

from __future__ import annotations

from pathlib import Path

import pytest
import shiboken6
from PySide6.QtCore import Qt
from sqlalchemy import func, select

from yuexiu_desk.domain.billing import Channel, Period
from yuexiu_desk.domain.units import UnitStatus
from yuexiu_desk.gui.moneydialogs import receipts_dir
from yuexiu_desk.gui.oprunner import OpRunner
from yuexiu_desk.gui.pages.collection import CollectionPage
from yuexiu_desk.services.billing import account_of, current_lease_for_unit, open_bills
from yuexiu_desk.services.lookup import unit_payload
from yuexiu_desk.services.units import UnitFilter, list_units
from yuexiu_desk.storage.billing_models import MoneyVoid, Payment
from yuexiu_desk.storage.db import require_station

ONE_MONTH = "1-1-302"  # 杨甲 owes one month's rent, 604.34 元, in the demo
SEVEN_MONTHS = "1-2-1002"  # 徐乙 owes seven months of 604.34 元 (L7)


@pytest.fixture
def runner(demo_store):
    runner = OpRunner(demo_store)
    yield runner
    runner.shutdown()


@pytest.fixture
def page(qtbot, demo_store, runner):
    page = CollectionPage(demo_store, runner)
    qtbot.addWidget(page)
    page.resize(1130, 760)
    page.show()
    qtbot.waitExposed(page)
    return page


def payments(store):
    with store.read() as session:
        return session.scalar(select(func.count()).select_from(Payment))


def payment(store, receipt_no):
    with store.read() as session:
        found = session.scalar(select(Payment).where(Payment.receipt_no == receipt_no))
        assert found is not None
        session.expunge(found)
        return found


def household_state(store, code):
    """(balance fen, [(period, open fen)]) of the household living in a unit."""
    with store.read() as session:
        household = current_lease_for_unit(session, code).household_id
        account = account_of(session, household)
        bills = [(b.period, b.open_fen) for b in open_bills(session, household)]
    return (account.balance_fen if account else 0), bills


def pdf_text(path):
    import pypdfium2

    document = pypdfium2.PdfDocument(str(path))
    try:
        return "".join(page.get_textpage().get_text_range() for page in document)
    finally:
        document.close()


def opened_paths(messages):
    return [Path(url.toLocalFile()) for url in messages.opened_urls]


def test_scan_pay_and_print_the_receipt_in_three_interactions(
    qtbot, page, demo_store, unit_id, wait_job, messages
):
    with demo_store.read() as session:
        station_code = require_station(session).code
    scanned = unit_payload(station_code, unit_id(ONE_MONTH))  # what the scanner types
    before = payments(demo_store)
    interactions = 0

    # (1) The scan: the household, what it owes, the amount ready to take.
    assert page.load_text(scanned)
    interactions += 1
    assert page.current is not None and page.current.unit_code == ONE_MONTH
    assert page.code_label.text() == ONE_MONTH
    assert "杨甲" in page.holder_label.text() and page.current.lease_no in page.holder_label.text()
    assert page.balance_label.text() == "欠 604.34 元"
    assert page.bills_model.rowCount() == 1
    index = page.bills_model.index(0, 0)
    assert index.data(Qt.ItemDataRole.CheckStateRole) == Qt.CheckState.Checked
    assert index.data() == "2026年10月"
    assert page.bills_model.index(0, 4).data(Qt.ItemDataRole.ForegroundRole).name() == "#c62828"  # overdue
    assert page.amount_edit.text() == "604.34"
    assert page.amount_edit.selectedText() == "604.34"  # typing replaces it

    # (2) The channel.
    page.choose_channel(Channel.WECHAT)
    interactions += 1
    assert page.reference_edit.isEnabled()
    assert "*" in page.reference_title.text()  # asked for, though not required

    # (3) 收款并打印收据.
    with wait_job(page.runner):
        qtbot.mouseClick(page.pay_button, Qt.MouseButton.LeftButton)
    interactions += 1
    assert interactions <= 4

    assert payments(demo_store) == before + 1
    (row,) = page.today_model.rows
    receipt_no = row.receipt_no
    saved = payment(demo_store, receipt_no)
    assert (saved.amount_fen, saved.channel, saved.operator) == (60434, "wechat", page.runner.operator)
    assert household_state(demo_store, ONE_MONTH) == (0, [])

    receipt = receipts_dir(demo_store.paths) / f"{receipt_no}.pdf"
    assert receipt.read_bytes().startswith(b"%PDF")
    assert opened_paths(messages) == [receipt]
    text = pdf_text(receipt)
    assert receipt_no in text and "604.34" in text and "杨甲" in text and "微信" in text

    assert page.status_label.text() == (
        f"{ONE_MONTH} 杨甲：已收款 604.34 元，收据号 {receipt_no}；已结清。收据已打开，请打印。"
    )
    # Ready for the next household; the channel is remembered.
    assert page.current is None and not page.form_panel.isEnabled()
    assert page.selected_channel() is Channel.WECHAT
    assert not messages.shown


def test_enter_takes_the_money_with_the_channel_used_last(qtbot, page, demo_store, wait_job, messages):
    page.load_text(ONE_MONTH)
    page.choose_channel(Channel.CASH)
    assert not page.reference_edit.isEnabled()
    with wait_job(page.runner):
        qtbot.keyClick(page.amount_edit, Qt.Key.Key_Return)
    # The next household: typed code + Enter, then Enter again — cash is still chosen.
    qtbot.keyClicks(page.unit_edit, "2-2-902")
    qtbot.keyClick(page.unit_edit, Qt.Key.Key_Return)
    assert page.current is not None and page.current.unit_code == "2-2-902"
    assert page.selected_channel() is Channel.CASH
    with wait_job(page.runner):
        qtbot.keyClick(page.amount_edit, Qt.Key.Key_Return)
    assert [(r.unit_code, r.channel) for r in page.today_model.rows] == [
        ("2-2-902", Channel.CASH),
        (ONE_MONTH, Channel.CASH),
    ]
    assert len(messages.opened_urls) == 2
    assert page.today_title.text() == "今日收款（本台）：2 笔，合计 1,242.89 元"


def test_unchecked_bills_are_left_open(page, demo_store, wait_job):
    page.load_text(SEVEN_MONTHS)
    assert page.bills_model.rowCount() == 7
    assert page.amount_edit.text() == "4230.38"
    # The clerk takes the five latest months only: the two oldest stay open, whatever oldest-first says.
    page.bills_model.set_checked(0, False)
    page.bills_model.set_checked(1, False)
    assert page.amount_edit.text() == "3021.70"
    assert "已勾选 5 笔，3,021.70 元" in page.selection_label.text()
    page.choose_channel(Channel.ALIPAY)
    page.reference_edit.setText("2026112022001400000001")
    with wait_job(page.runner):
        page.pay_button.click()
    balance, bills = household_state(demo_store, SEVEN_MONTHS)
    assert bills == [("2026-04", 60434), ("2026-05", 60434)]
    assert balance == 2 * 60434
    saved = payment(demo_store, page.today_model.rows[0].receipt_no)
    assert saved.reference == "2026112022001400000001"


def test_nothing_checked_is_refused(page, demo_store):
    page.load_text(ONE_MONTH)
    page.choose_channel(Channel.CASH)
    page.bills_model.set_checked(0, False)
    assert page.amount_edit.text() == ""
    assert page.pay() is None
    assert "请至少勾选一笔" in page.error_label.text()


@pytest.mark.parametrize(
    ("amount", "sentence", "through_the_service"),
    [
        ("604.345", "缴费金额“604.345”最多两位小数（精确到分）。", False),
        ("六百", "缴费金额“六百”不是数字，请填写元为单位的金额，例如 604.34。", False),
        ("0", "缴费金额必须大于零。", True),
        ("-5", "缴费金额必须大于零。", True),
    ],
)
def test_a_bad_amount_is_said_beside_the_button_and_nothing_is_saved(
    page, demo_store, wait_job, messages, amount, sentence, through_the_service
):
    before = payments(demo_store)
    page.load_text(ONE_MONTH)
    page.choose_channel(Channel.CASH)
    page.amount_edit.setText(amount)
    if through_the_service:
        with wait_job(page.runner):
            assert page.pay() is not None
    else:
        assert page.pay() is None
    assert page.error_label.isVisible() and page.error_label.text() == sentence
    assert not messages.shown  # inline, not a message box
    assert payments(demo_store) == before
    assert not opened_paths(messages)
    # The clerk corrects the figure and tries again.
    assert page.current is not None and page.amount_edit.selectedText() == amount
    page.amount_edit.setText("604.34")
    with wait_job(page.runner):
        page.pay()
    assert payments(demo_store) == before + 1
    assert not page.error_label.isVisible()


def test_no_channel_yet_is_asked_for(page, demo_store):
    page.load_text(ONE_MONTH)
    assert page.selected_channel() is None  # nothing assumed on the first payment of the session
    assert page.pay() is None
    assert page.error_label.text().startswith("请选择缴费方式")


def test_a_unit_without_a_lease_is_refused_when_scanned(page, demo_store, unit_id):
    with demo_store.read() as session:
        vacant = list_units(session, UnitFilter(status=UnitStatus.VACANT))[0].code
    assert not page.load_text(vacant)
    assert page.lookup_error.isVisible()
    assert page.lookup_error.text() == f"房源 {vacant} 没有生效的租赁合同，不能收费；请核对房号或先办理签约。"
    assert page.current is None
    assert not page.load_text("不是房号")
    assert "既不是本系统的标签，也不是房号" in page.lookup_error.text()
    assert page.load_text(ONE_MONTH)
    assert not page.lookup_error.isVisible()


def test_a_bank_reference_already_used_is_refused(page, demo_store, wait_job, messages):
    with demo_store.read() as session:
        used, receipt_no = session.execute(
            select(Payment.reference, Payment.receipt_no).where(Payment.reference != "").limit(1)
        ).one()
    before = payments(demo_store)
    page.load_text(ONE_MONTH)
    page.choose_channel(Channel.BANK_TRANSFER)
    page.reference_edit.setText(used)
    with wait_job(page.runner):
        page.pay()
    assert page.error_label.text() == (
        f"交易流水号 {used} 已登记在收据 {receipt_no} 上，请勿重复收款；如需更正请先作废原收据。"
    )
    assert payments(demo_store) == before and not messages.shown


def test_overpayment_becomes_credit_after_a_question(page, demo_store, wait_job, messages):
    before = payments(demo_store)
    page.load_text(ONE_MONTH)
    page.choose_channel(Channel.CASH)
    page.amount_edit.setText("700")
    assert page.pay() is None  # answered No: nothing happens
    assert messages.texts("question") == ["多收 95.66 元将转为预存，继续吗？"]
    assert payments(demo_store) == before

    messages.answer_yes = True
    with wait_job(page.runner):
        page.pay()
    assert payments(demo_store) == before + 1
    assert household_state(demo_store, ONE_MONTH) == (-9566, [])
    assert "已收款 700.00 元" in page.status_label.text()
    assert page.status_label.text().endswith("预存 95.66 元。收据已打开，请打印。")
    text = pdf_text(opened_paths(messages)[-1])
    assert "700.00" in text and "95.66" in text


def test_paying_exactly_the_total_asks_nothing(page, demo_store, wait_job, messages):
    page.load_text(ONE_MONTH)
    page.choose_channel(Channel.CASH)
    page.amount_edit.setText("300")  # part of the month
    with wait_job(page.runner):
        page.pay()
    assert not messages.texts("question")
    assert household_state(demo_store, ONE_MONTH) == (30434, [("2026-10", 30434)])


def test_the_clerks_own_figure_survives_a_refresh(page):
    page.load_text(SEVEN_MONTHS)
    page.amount_edit.setText("1000")
    page.refresh()
    assert page.amount_edit.text() == "1000"
    page.bills_model.set_checked(6, False)  # a change of bills puts their total back
    assert page.amount_edit.text() == "3626.04"


def test_reprint_and_void_from_todays_list(qtbot, page, demo_store, wait_job, messages):
    page.load_text(ONE_MONTH)
    page.choose_channel(Channel.WECHAT)
    with wait_job(page.runner):
        page.pay()
    (row,) = page.today_model.rows
    original = receipts_dir(demo_store.paths) / f"{row.receipt_no}.pdf"
    assert page.select_receipt(row.receipt_no)
    assert page.reprint_button.isEnabled() and page.void_button.isEnabled()

    with wait_job(page.runner):
        page.reprint_button.click()
    assert opened_paths(messages) == [original, original]

    page.void_button.click()
    dialog = page.dialog
    assert dialog.isVisible() and row.receipt_no in dialog.windowTitle()
    with wait_job(page.runner):
        dialog.ok_button.click()  # no reason: refused inside the dialog
    assert dialog.isVisible()
    assert dialog.error_label.text() == "请写明作废原因（例如“金额录错”“重复收款”）。"
    assert not messages.shown
    with demo_store.read() as session:
        assert session.scalar(select(func.count()).select_from(MoneyVoid)) == 0

    dialog.reason_edit.setText("收错房号")
    with wait_job(page.runner):
        dialog.ok_button.click()
    assert not shiboken6.isValid(dialog) or not dialog.isVisible()
    voided = receipts_dir(demo_store.paths) / f"{row.receipt_no}-作废.pdf"
    assert opened_paths(messages)[-1] == voided
    text = pdf_text(voided)
    assert row.receipt_no in text and "作废" in text and "收错房号" in text
    assert original.exists()  # the original paper's file is kept
    assert page.status_label.text().startswith(
        f"收据 {row.receipt_no}（{ONE_MONTH}，604.34 元）已作废：收错房号。"
    )

    # The list says so; the bill is open again.
    (after,) = page.today_model.rows
    assert after.voided and page.today_model.index(0, 7).data() == "已作废：收错房号"
    assert page.today_model.index(0, 0).data(Qt.ItemDataRole.ForegroundRole).name() == "#8a94a0"
    assert page.select_receipt(row.receipt_no)
    assert not page.void_button.isEnabled() and page.reprint_button.isEnabled()
    assert page.today_title.text() == "今日收款（本台）：0 笔，合计 0.00 元；另有 1 笔已作废"
    assert household_state(demo_store, ONE_MONTH) == (60434, [(str(Period(2026, 10)), 60434)])

    with wait_job(page.runner):
        page.reprint()
    assert opened_paths(messages)[-1] == voided
