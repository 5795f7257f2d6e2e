"""The cash desk through the main window: a real scanner burst on the 收费 page brings up the household's bills
(not the unit card), and the payment with its printed receipt takes three interactions; the arrears list
sends the clerk to the desk with the household loaded."""

from __future__ import annotations

from PySide6.QtCore import Qt

from yuexiu_desk.domain.billing import Channel, DunningStage
from yuexiu_desk.gui.mainwindow import PAGE_NAMES
from yuexiu_desk.services.lookup import unit_payload
from yuexiu_desk.services.station import DEMO_STATION_CODE

ONE_MONTH = "1-1-302"  # owes October's rent, 604.34 元, in the demo


def scan_into(qtbot, widget, text, scanner_time):
    """What a USB scanner does: the payload's characters a few milliseconds apart, then Enter."""
    widget.setFocus()
    for ch in text:
        scanner_time.advance(3)
        qtbot.keyClick(widget, ch)
    scanner_time.advance(3)
    qtbot.keyClick(widget, Qt.Key.Key_Return)


def test_scan_on_the_cash_desk_then_pay_and_print_in_three_interactions(
    window, qtbot, scanner_time, unit_id, wait_job, messages, demo_store
):
    window.show_page(PAGE_NAMES.index("收费"))
    page = window.collection
    assert page is not None and window.current_page() is page
    interactions = 0

    scan_into(qtbot, page.amount_edit, unit_payload(DEMO_STATION_CODE, unit_id(ONE_MONTH)), scanner_time)
    interactions += 1
    qtbot.waitUntil(lambda: page.current is not None)
    assert page.current.unit_code == ONE_MONTH
    assert window.cards.card(unit_id(ONE_MONTH)) is None  # the desk, not the unit card
    assert page.amount_edit.text() == "604.34"

    page.choose_channel(Channel.CASH)
    interactions += 1
    with wait_job(window.runner):
        qtbot.mouseClick(page.pay_button, Qt.MouseButton.LeftButton)
    interactions += 1

    assert interactions <= 4
    (row,) = page.today_model.rows
    receipt = demo_store.paths.receipts / f"{row.receipt_no}.pdf"
    assert receipt.read_bytes().startswith(b"%PDF")
    assert [u.toLocalFile() for u in messages.opened_urls] == [str(receipt)]
    assert "已收款 604.34 元" in page.status_label.text()


def test_from_the_l7_list_to_the_desk(window, qtbot):
    """L7 households are one click away on the arrears page, and one more brings up their bills to collect."""
    window.show_page(PAGE_NAMES.index("欠费催缴"))
    arrears = window.arrears
    assert arrears is not None
    arrears.show_stage(DunningStage.TERMINATION)
    (row,) = arrears.shown_rows()
    assert row.months_overdue >= 6
    arrears.collect_requested.emit(row.unit_code)
    assert window.current_page() is window.collection
    assert window.collection.current is not None and window.collection.current.unit_code == row.unit_code


def test_unit_card_shows_what_the_household_owes(window, unit_id, demo_store):
    from yuexiu_desk.services.arrears import arrears

    with demo_store.read() as session:
        owing = arrears(session, stage=DunningStage.TERMINATION)[0]
    card = window.open_unit(unit_id(owing.unit_code))
    assert card is not None
    assert "欠费" in card.lease_label.text()
    assert f"{owing.balance_fen // 100:,}." in card.lease_label.text()
