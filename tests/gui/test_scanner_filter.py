"""The USB scanner from any screen: a fast "YX…" burst + Enter opens the unit and types nothing;
people typing are unaffected."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLineEdit

from yuexiu_desk.gui.scanner import ScannerFilter
from yuexiu_desk.services.lookup import unit_payload
from yuexiu_desk.services.station import DEMO_STATION_CODE


def type_slowly(qtbot, widget, text, scanner_time, gap_ms=180):
    for ch in text:
        scanner_time.advance(gap_ms)
        qtbot.keyClick(widget, ch)


def scan(qtbot, widget, text, scanner_time, gap_ms=4):
    for ch in text:
        scanner_time.advance(gap_ms)
        qtbot.keyClick(widget, ch)
    scanner_time.advance(gap_ms)
    qtbot.keyClick(widget, Qt.Key.Key_Return)


def test_burst_in_filter_box_opens_card_and_leaves_filter_alone(window, qtbot, scanner_time, unit_id):
    target = unit_id("1-2-1603")
    payload = unit_payload(DEMO_STATION_CODE, target)
    search = window.register.search
    search.setFocus()
    scan(qtbot, search, payload, scanner_time)
    card = window.cards.card(target)
    assert card is not None and card.isVisible()
    assert card.code == "1-2-1603"
    assert search.text() == ""
    assert window.register.model.rowCount() == 194
    assert window.scanner.holding == ""


def test_burst_with_shift_and_lower_case_still_scans(window, qtbot, scanner_time, unit_id):
    target = unit_id("2-1-1402")
    payload = unit_payload(DEMO_STATION_CODE, target)
    lookup = window.lookup_edit
    lookup.setFocus()
    for ch in payload.lower():
        scanner_time.advance(3)
        qtbot.keyPress(lookup, Qt.Key.Key_Shift)  # scanners press Shift around letters
        qtbot.keyClick(lookup, ch)
        qtbot.keyRelease(lookup, Qt.Key.Key_Shift)
    scanner_time.advance(3)
    qtbot.keyClick(lookup, Qt.Key.Key_Enter)
    assert window.cards.card(target) is not None
    assert lookup.text() == ""


def test_scan_while_on_house_map_page(window, qtbot, scanner_time, unit_id):
    window.show_page(1)
    widget = window.housemap.map_widget(1)
    widget.setFocus()
    target = unit_id("1-1-101")
    scan(qtbot, widget, unit_payload(DEMO_STATION_CODE, target), scanner_time)
    assert window.cards.card(target) is not None


def test_slow_typing_of_yx_keeps_the_text(window, qtbot, scanner_time):
    search = window.register.search
    search.setFocus()
    type_slowly(qtbot, search, "YX12", scanner_time)
    assert search.text() == "YX12"
    assert window.cards.cards() == []


def test_corrupted_payload_shows_message_and_opens_nothing(window, qtbot, scanner_time, unit_id):
    payload = unit_payload(DEMO_STATION_CODE, unit_id("1-2-1603"))
    broken = payload[:-1] + ("A" if payload[-1] != "A" else "B")
    search = window.register.search
    search.setFocus()
    scan(qtbot, search, broken, scanner_time)
    assert window.cards.cards() == []
    assert search.text() == ""
    assert window.toast.isVisible()
    assert "标签校验失败" in window.toast.text()
    assert "标签校验失败" in window.statusBar().currentMessage()


def test_foreign_station_label_is_refused(window, qtbot, scanner_time, unit_id):
    payload = unit_payload("ZZZ09", unit_id("1-2-1603"))
    window.lookup_edit.setFocus()
    scan(qtbot, window.lookup_edit, payload, scanner_time)
    assert window.cards.cards() == []
    assert "其他服务站" in window.toast.text()


def test_typed_code_in_lookup_box_opens_card(window, qtbot, scanner_time):
    window.act_lookup.trigger()
    type_slowly(qtbot, window.lookup_edit, "2-2-903", scanner_time)
    qtbot.keyClick(window.lookup_edit, Qt.Key.Key_Return)
    assert [c.code for c in window.cards.cards()] == ["2-2-903"]
    assert window.lookup_edit.text() == ""


def test_unknown_code_in_lookup_box_explains(window, qtbot, scanner_time):
    window.lookup_edit.setText("3-1-101")
    qtbot.keyClick(window.lookup_edit, Qt.Key.Key_Return)
    assert window.cards.cards() == []
    assert "没有房号为 3-1-101" in window.toast.text()
    assert window.lookup_edit.text() == "3-1-101"


# --- the filter on its own ------------------------------------------------------------------------


def make_filter(qtbot, scanner_time):
    scanner = ScannerFilter(time_source=scanner_time)
    scanner.install(QApplication.instance())
    edit = QLineEdit()
    qtbot.addWidget(edit)
    edit.show()
    edit.setFocus()
    return scanner, edit


def test_fast_word_starting_with_y_is_replayed_in_order(qtbot, scanner_time):
    scanner, edit = make_filter(qtbot, scanner_time)
    try:
        got = []
        scanner.scanned.connect(got.append)
        qtbot.keyClicks(edit, "Yes yx")  # fast, but "Ye" is not our prefix
        assert edit.text().startswith("Yes ")
        scanner_time.advance(100)
        qtbot.keyClick(edit, "!")
        assert edit.text() == "Yes yx!"
        assert got == []
    finally:
        scanner.uninstall(QApplication.instance())


def test_short_fast_burst_is_typed_and_enter_passes(qtbot, scanner_time):
    scanner, edit = make_filter(qtbot, scanner_time)
    try:
        got = []
        scanner.scanned.connect(got.append)
        with qtbot.waitSignal(edit.returnPressed, timeout=1000):
            qtbot.keyClicks(edit, "YX12")
            qtbot.keyClick(edit, Qt.Key.Key_Return)
        assert edit.text() == "YX12"
        assert got == []
    finally:
        scanner.uninstall(QApplication.instance())


def test_held_y_is_released_when_nothing_follows(qtbot, scanner_time):
    scanner, edit = make_filter(qtbot, scanner_time)
    try:
        qtbot.keyClick(edit, "y")
        assert edit.text() == ""  # held for a moment: it may be the start of a scan
        scanner_time.advance(1000)
        qtbot.waitUntil(lambda: edit.text() == "y", timeout=2000)
    finally:
        scanner.uninstall(QApplication.instance())


def test_complete_burst_emits_text_and_swallows_everything(qtbot, scanner_time):
    scanner, edit = make_filter(qtbot, scanner_time)
    try:
        with qtbot.waitSignal(scanner.scanned, timeout=1000) as blocker:
            qtbot.keyClicks(edit, "YX1U-TEST-1234")
            qtbot.keyClick(edit, Qt.Key.Key_Return)
        assert blocker.args == ["YX1U-TEST-1234"]
        assert edit.text() == ""
    finally:
        scanner.uninstall(QApplication.instance())


def test_ctrl_key_during_burst_replays_held_keys(qtbot, scanner_time):
    scanner, edit = make_filter(qtbot, scanner_time)
    try:
        qtbot.keyClicks(edit, "YX1")
        qtbot.keyClick(edit, Qt.Key.Key_Left)
        assert edit.text() == "YX1"
        assert edit.cursorPosition() == 2
    finally:
        scanner.uninstall(QApplication.instance())
