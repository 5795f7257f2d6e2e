"""The USB scanner from any screen: a fast "YX…" burst + Enter opens the unit and types nothing;
people typing are unaffected."""

from __future__ import annotations

import time

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QGuiApplication, QKeyEvent
from PySide6.QtWidgets import QApplication, QLineEdit

from yuexiu_desk.domain.units import UnitStatus
from yuexiu_desk.gui.mainwindow import SCAN_BLOCKED
from yuexiu_desk.gui.scanner import ScannerFilter, monotonic_ms
from yuexiu_desk.services.lookup import unit_payload
from yuexiu_desk.services.station import DEMO_STATION_CODE
from yuexiu_desk.services.units import UnitFilter, list_units

STALL_S = 0.06  # a GUI-thread stall longer than the scanner's 35 ms gap (a refresh at 50k units, a repaint)


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


def test_ctrl_v_during_burst_replays_held_keys_before_pasting(qtbot, scanner_time):
    scanner, edit = make_filter(qtbot, scanner_time)
    try:
        QGuiApplication.clipboard().setText("abc")
        qtbot.keyClicks(edit, "YX1")
        assert scanner.holding == "YX1" and edit.text() == ""
        qtbot.keyClick(edit, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)  # presses the Ctrl key too
        assert edit.text() == "YX1abc"
        assert scanner.holding == ""
    finally:
        scanner.uninstall(QApplication.instance())


def test_ctrl_a_during_burst_selects_the_replayed_keys(qtbot, scanner_time):
    scanner, edit = make_filter(qtbot, scanner_time)
    try:
        qtbot.keyClicks(edit, "YX1")
        qtbot.keyClick(edit, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
        assert edit.text() == "YX1"
        assert edit.selectedText() == "YX1"
        scanner_time.advance(200)
        qtbot.keyClick(edit, "z")  # replaces the selection
        assert edit.text() == "z"
    finally:
        scanner.uninstall(QApplication.instance())


def test_shortcut_during_burst_gets_the_held_keys_to_their_box_first(window, qtbot, scanner_time):
    search = window.register.search
    search.setFocus()
    qtbot.keyClicks(search, "YX1")
    assert window.scanner.holding == "YX1"
    qtbot.keyClick(search, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)  # 查找/扫码
    assert search.text() == "YX1"
    qtbot.waitUntil(window.lookup_edit.hasFocus)
    assert window.lookup_edit.text() == ""


# --- key releases ----------------------------------------------------------------------------------


class KeyLog(QLineEdit):
    """A line edit that records the key events it receives, in order."""

    def __init__(self) -> None:
        super().__init__()
        self.log: list[tuple[str, str]] = []

    def keyPressEvent(self, event):
        self.log.append(("press", event.text() or str(event.key())))
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event):
        self.log.append(("release", event.text() or str(event.key())))
        super().keyReleaseEvent(event)


def logging_filter(qtbot, scanner_time):
    scanner = ScannerFilter(time_source=scanner_time)
    scanner.install(QApplication.instance())
    edit = KeyLog()
    qtbot.addWidget(edit)
    edit.show()
    edit.setFocus()
    return scanner, edit


def test_two_held_ys_get_each_release_after_its_press(qtbot, scanner_time):
    scanner, edit = logging_filter(qtbot, scanner_time)
    try:
        for _ in range(2):  # "YY" typed fast: the second Y ends the first hold and starts a new one
            qtbot.keyPress(edit, Qt.Key.Key_Y)
            qtbot.keyRelease(edit, Qt.Key.Key_Y)
        assert edit.log == [("press", "y"), ("release", "y")]  # the first y, replayed as a pair
        assert scanner.holding == "y"
        scanner_time.advance(1000)
        qtbot.waitUntil(lambda: scanner.holding == "")
        assert edit.log == [("press", "y"), ("release", "y"), ("press", "y"), ("release", "y")]
        assert edit.text() == "yy"
    finally:
        scanner.uninstall(QApplication.instance())


class BusyKeyLog(KeyLog):
    """Runs the event loop on its first key press, as a widget opening a dialog would."""

    def keyPressEvent(self, event):
        super().keyPressEvent(event)
        if len(self.log) == 1:
            QApplication.processEvents()


def test_release_arriving_while_held_keys_are_replayed_waits_for_its_press(qtbot, scanner_time):
    scanner = ScannerFilter(time_source=scanner_time)
    scanner.install(QApplication.instance())
    edit = BusyKeyLog()
    qtbot.addWidget(edit)
    edit.show()
    edit.setFocus()
    try:
        qtbot.keyClick(edit, Qt.Key.Key_Y)
        qtbot.keyClick(edit, Qt.Key.Key_X)
        qtbot.keyPress(edit, Qt.Key.Key_Y)  # the second y is still down ...
        assert scanner.holding == "yxy" and edit.log == []
        # ... and its release is queued when the held keys are handed out
        QApplication.postEvent(
            edit, QKeyEvent(QEvent.Type.KeyRelease, Qt.Key.Key_Y, Qt.KeyboardModifier.NoModifier, "y")
        )
        scanner.flush()
        assert edit.log == [
            ("press", "y"),
            ("release", "y"),
            ("press", "x"),
            ("release", "x"),
            ("press", "y"),
            ("release", "y"),
        ]
        assert edit.text() == "yxy"
    finally:
        scanner.uninstall(QApplication.instance())


def test_release_of_a_key_still_down_when_replayed_follows_its_press(qtbot, scanner_time):
    scanner, edit = logging_filter(qtbot, scanner_time)
    try:
        qtbot.keyPress(edit, Qt.Key.Key_Y)  # held, and still down
        qtbot.keyPress(edit, Qt.Key.Key_E)  # "Ye" is no label: Y is replayed, e passes
        qtbot.keyRelease(edit, Qt.Key.Key_Y)
        qtbot.keyRelease(edit, Qt.Key.Key_E)
        assert edit.log == [("press", "y"), ("press", "e"), ("release", "y"), ("release", "e")]
        assert edit.text() == "ye"
    finally:
        scanner.uninstall(QApplication.instance())


def test_a_scan_lets_no_release_through_and_leaves_nothing_to_swallow(qtbot, scanner_time):
    scanner, edit = logging_filter(qtbot, scanner_time)
    try:
        got = []
        scanner.scanned.connect(got.append)
        qtbot.keyClicks(edit, "YX1U-YXY01-ABC")  # Y three times, each pressed and released
        qtbot.keyClick(edit, Qt.Key.Key_Return)
        assert got == ["YX1U-YXY01-ABC"]
        assert edit.log == []
        scanner_time.advance(200)
        qtbot.keyClick(edit, "q")
        qtbot.keyClick(edit, Qt.Key.Key_Return)
        assert edit.log == [("press", "q"), ("release", "q"), ("press", "\r"), ("release", "\r")]
    finally:
        scanner.uninstall(QApplication.instance())


# --- when the keys were typed, not when the GUI thread got to them ---------------------------------


def typed_events(text, start_ms, gap_ms=4):
    """Press/release pairs as a scanner types them, with realistic timestamps, ending in Enter."""
    events = []
    t = start_ms
    for ch in [*text, "\r"]:
        key = Qt.Key.Key_Return if ch == "\r" else Qt.Key(ord(ch.upper()))
        for kind, at in ((QEvent.Type.KeyPress, t), (QEvent.Type.KeyRelease, t + 1)):
            event = QKeyEvent(kind, key, Qt.KeyboardModifier.NoModifier, ch)
            event.setTimestamp(at)
            events.append(event)
        t += gap_ms
    return events


STALL_EVENT = QEvent.Type(QEvent.registerEventType())


class Staller(QObject):
    """Receives a posted event and blocks the GUI thread for a moment, like a slow refresh."""

    def event(self, event):
        if event.type() == STALL_EVENT:
            time.sleep(STALL_S)
            return True
        return super().event(event)


def test_gui_stall_mid_burst_is_still_one_scan(window, qtbot, unit_id):
    window.scanner.time_source = monotonic_ms  # real time: the stall really is 60 ms long
    target = unit_id("1-2-1603")
    payload = unit_payload(DEMO_STATION_CODE, target)
    search = window.register.search
    search.setFocus()
    staller = Staller()
    events = typed_events(payload, int(monotonic_ms()))
    middle = len(events) // 2
    # Everything is queued at once, like keys piling up in the window system while the GUI thread is busy.
    for event in events[:middle]:
        QApplication.postEvent(search, event)
    QApplication.postEvent(staller, QEvent(STALL_EVENT))
    for event in events[middle:]:
        QApplication.postEvent(search, event)
    qtbot.waitUntil(lambda: window.cards.card(target) is not None)
    assert window.cards.card(target).code == "1-2-1603"
    assert search.text() == ""
    assert window.scanner.holding == ""
    assert window.register.model.rowCount() == 194


def test_idle_timer_due_during_a_stall_waits_for_the_queued_keys(qtbot):
    scanner = ScannerFilter()  # real time
    scanner.install(QApplication.instance())
    edit = QLineEdit()
    qtbot.addWidget(edit)
    edit.show()
    edit.setFocus()
    try:
        got = []
        scanner.scanned.connect(got.append)
        payload = "YX1U-YXY01-5ABZ5E2GABADPPMVALSITPS3W4-3"
        events = typed_events(payload, int(monotonic_ms()))
        first, rest = events[:12], events[12:]
        for event in first:
            QApplication.sendEvent(edit, event)
        assert scanner.holding == payload[:6]
        time.sleep(STALL_S)  # the GUI thread stalls: the idle timer (50 ms) is now overdue ...

        def deliver_rest():  # ... and fires before the rest of the burst, queued meanwhile, arrives
            for event in rest:
                QApplication.postEvent(edit, event)

        QTimer.singleShot(1, deliver_rest)
        with qtbot.waitSignal(scanner.scanned, timeout=2000):
            pass
        assert got == [payload]
        assert edit.text() == ""
    finally:
        scanner.uninstall(QApplication.instance())


def test_slow_typing_delivered_in_one_batch_is_typed(qtbot, scanner_time):
    """A person's keys that reach the GUI thread together (after a stall) are still a person's keys."""
    scanner, edit = make_filter(qtbot, scanner_time)
    try:
        for event in typed_events("YX12", int(monotonic_ms()), gap_ms=180)[:-2]:  # no Enter
            QApplication.sendEvent(edit, event)
        assert edit.text() == "YX12"
        assert scanner.holding == ""
    finally:
        scanner.uninstall(QApplication.instance())


# --- scanning from a unit card and over a modal dialog ---------------------------------------------


def test_scan_while_a_unit_card_has_focus_opens_or_raises_the_card(window, qtbot, scanner_time, unit_id):
    first, second = unit_id("1-1-101"), unit_id("2-2-903")
    card = window.open_unit(first)
    card.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is card)
    focus = QApplication.focusWidget()
    assert focus is not None and focus.window() is card
    scan(qtbot, focus, unit_payload(DEMO_STATION_CODE, second), scanner_time)
    other = window.cards.card(second)
    assert other is not None and other.isVisible()
    assert card.status_dialog is None  # the swallowed Enter did not press the card's default button
    qtbot.waitUntil(lambda: QApplication.activeWindow() is other)

    focus = QApplication.focusWidget()
    assert focus is not None and focus.window() is other
    scan(qtbot, focus, unit_payload(DEMO_STATION_CODE, first), scanner_time)
    assert window.cards.card(first) is card  # the open card comes to the front, no second one
    qtbot.waitUntil(lambda: QApplication.activeWindow() is card)
    assert len(window.cards.cards()) == 2
    assert other.status_dialog is None


def test_scan_over_a_modal_dialog_asks_to_finish_it_first(window, qtbot, scanner_time, unit_id, demo_store):
    with demo_store.read() as session:
        vacant = list_units(session, UnitFilter(status=UnitStatus.VACANT))[0]
    card = window.open_unit(vacant.id)
    dialog = card.change_status()
    assert dialog.isModal() or dialog.windowModality() != Qt.WindowModality.NonModal
    dialog.reason_edit.setFocus()
    dialog.reason_edit.setText("配租")
    other = unit_id("2-2-903")
    scan(qtbot, dialog.reason_edit, unit_payload(DEMO_STATION_CODE, other), scanner_time)
    assert window.cards.card(other) is None  # no card behind the dialog
    assert window.statusBar().currentMessage() == SCAN_BLOCKED
    assert window.toast.isVisible() and window.toast.text() == SCAN_BLOCKED
    assert dialog.isVisible()
    assert dialog.reason_edit.text() == "配租"  # the payload was not typed into the form

    dialog.reject()
    qtbot.waitUntil(lambda: QApplication.activeModalWidget() is None)
    window.register.search.setFocus()
    scan(qtbot, window.register.search, unit_payload(DEMO_STATION_CODE, other), scanner_time)
    assert window.cards.card(other) is not None


def test_the_register_follows_a_scan_once_the_card_is_painted(window, qtbot, scanner_time, unit_id):
    target = unit_id("2-2-903")
    search = window.register.search
    search.setFocus()
    scan(qtbot, search, unit_payload(DEMO_STATION_CODE, target), scanner_time)
    card = window.cards.card(target)
    assert card is not None and card.isVisible()
    view = window.register.view
    qtbot.waitUntil(
        lambda: view.currentIndex().isValid() and view.currentIndex().siblingAtColumn(0).data() == "2-2-903"
    )
    assert window.register.selected_codes() == ["2-2-903"]
    assert "2-2-903" in window.statusBar().currentMessage()
