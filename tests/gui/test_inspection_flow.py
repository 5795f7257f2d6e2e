"""The whole safety loop through the main window, driven as the safety officer: start a round, scan a unit's
label with the (simulated) scanner to jump to its items, record a defect, finish and close the round; the
defect is a hazard on 安全巡查, sent to repairs; on 维修台账 it is dispatched, started, completed and followed up;
back on 安全巡查 the re-inspection passes and the hazard closes."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from yuexiu_desk.gui.mainwindow import PAGE_NAMES
from yuexiu_desk.services import hazards, inspections, users, workorders
from yuexiu_desk.services.lookup import unit_payload
from yuexiu_desk.services.station import DEMO_STATION_CODE


def scan(qtbot, widget, text, scanner_time) -> None:
    """What a USB scanner does: the payload's characters a few milliseconds apart, then Enter."""
    widget.setFocus()
    for ch in text:
        scanner_time.advance(3)
        qtbot.keyClick(widget, ch)
    scanner_time.advance(3)
    qtbot.keyClick(widget, Qt.Key.Key_Return)


def test_round_by_scanner_to_hazard_work_order_follow_up_and_reinspection(
    window, qtbot, scanner_time, demo_store, unit_id, wait_job, messages
) -> None:
    demo_store.operator = users.sign_in(demo_store, "safety", users.DEMO_PASSWORD)
    window.show_page(PAGE_NAMES.index("安全巡查"))
    safety = window.safety
    row = next(
        i
        for i, d in enumerate(safety.due_model.rows)
        if d.template == "quarterly_inspection" and d.scope == "building:1" and not d.open_round
    )
    safety.due_table.selectRow(row)
    with wait_job(window.runner):
        safety.fill_in()
    dialog = safety.round_dialog
    dialog.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is dialog)

    # The scanner, not the keyboard: the burst jumps the round to 1-2-1603's items.
    scan(qtbot, dialog.scan_edit, unit_payload(DEMO_STATION_CODE, unit_id("1-2-1603")), scanner_time)
    qtbot.waitUntil(lambda: dialog.location == "unit:1-2-1603")
    assert "1-2-1603" in {i.location_label for i in dialog.model.rows}
    assert window.cards.card(unit_id("1-2-1603")) is None  # the round, not the unit card
    at = next(
        i
        for i, item in enumerate(dialog.model.rows)
        if item.location_label == "1-2-1603" and not item.photo_required and not item.structural
    )
    dialog.table.selectRow(at)
    with wait_job(window.runner):
        dialog.answer("defect", severity="major", note="卫生间顶棚渗水")
    dialog.jump("")
    with wait_job(window.runner):
        dialog.rest_ok()
    with wait_job(window.runner):
        dialog.close_round()
    assert not dialog.isVisible()
    round_no = dialog.round_no

    with demo_store.read() as session:
        (hazard,) = [
            h
            for h in hazards.list_hazards(session, open_only=True)
            if h.description.endswith("卫生间顶棚渗水")
        ]
        assert inspections.round_info(session, inspections.find_round(session, round_no)).defects == 1
    safety.refresh()
    safety.hazard_table.selectRow([h.hazard_no for h in safety.hazard_model.rows].index(hazard.hazard_no))
    with wait_job(window.runner):
        safety.raise_repair()
    order_no = messages.texts("information")[-1].split("维修工单 ")[1].split("；")[0]

    window.show_page(PAGE_NAMES.index("维修台账"))
    repairs = window.repairs

    def select_order() -> None:
        repairs.table.selectRow([w.number for w in repairs.model.rows].index(order_no))

    select_order()
    with wait_job(window.runner):
        repairs.dispatch("王师傅")
    select_order()
    with wait_job(window.runner):
        repairs.start()
    select_order()
    done = repairs.completion_dialog()
    repairs.labour_edit.setText("修补卫生间顶棚防水")
    repairs.materials_edit.setText("防水涂料 2 kg")
    repairs.cost_edit.setText("120.00")
    done.accept()
    with wait_job(window.runner):
        repairs.complete(done)
    select_order()
    visit = repairs.follow_up_dialog()
    repairs.satisfaction_spin.setValue(5)
    visit.accept()
    with wait_job(window.runner):
        repairs.follow_up(visit)
    with demo_store.read() as session:
        order = workorders.get_work_order(session, order_no)
    assert (order.status.value, order.satisfaction, order.cost_fen) == ("closed", 5, 12000)

    window.show_page(PAGE_NAMES.index("安全巡查"))
    safety.refresh()

    def select_hazard() -> None:
        safety.hazard_table.selectRow([h.hazard_no for h in safety.hazard_model.rows].index(hazard.hazard_no))

    select_hazard()
    with wait_job(window.runner):
        safety.close_hazard()  # not yet re-inspected: refused
    assert "复查" in messages.texts("warning")[-1]
    select_hazard()
    with wait_job(window.runner):
        safety.reinspect(fixed=True, note="复查无渗水")
    select_hazard()
    with wait_job(window.runner):
        safety.close_hazard()
    with demo_store.read() as session:
        closed = hazards.hazard_row(session, hazard.hazard_no)
    assert closed.status.value == "closed" and closed.work_order_id == order_no
    assert hazard.hazard_no not in [h.hazard_no for h in safety.hazard_model.rows]
