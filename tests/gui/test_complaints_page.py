"""投诉建议 as the front desk handles one: overdue first in red, intake with the phone masked in the list, a
handling note, the reply, a return visit outside 1–5 refused, then 4 closing it; the public notice carries no
name, phone or unit."""

from __future__ import annotations

from pathlib import Path

import pypdfium2
from PySide6.QtCore import Qt

from yuexiu_desk.services import complaints, users
from yuexiu_desk.storage.db import Store


def complaints_page(window):
    window.show_page(10)
    page = window.complaints
    assert window.current_page() is page
    return page


def test_a_complaint_from_intake_to_return_visit(
    window, demo_store: Store, wait_job, messages, tmp_path: Path
):
    demo_store.operator = users.sign_in(demo_store, "frontdesk", users.DEMO_PASSWORD)
    page = complaints_page(window)
    first = page.model.rows[0]
    if first.overdue:
        assert page.model.index(0, 0).data(Qt.ItemDataRole.ForegroundRole) is not None
    dialog = page.intake_dialog()
    page.channel_combo.setCurrentIndex(page.channel_combo.findData("phone"))
    page.category_combo.setCurrentIndex(page.category_combo.findData("environment"))
    page.content_edit.setText("2栋楼道夜间灯不亮")
    page.name_edit.setText("赵小明")
    page.phone_edit.setText("13912345678")
    dialog.accept()
    with wait_job(window.runner):
        page.add(dialog)
    (added,) = [c for c in page.model.rows if c.content == "2栋楼道夜间灯不亮"]
    assert "13912345678" not in added.phone and added.complainant != "赵小明"

    def select() -> None:
        page.table.selectRow([c.number for c in page.model.rows].index(added.number))

    select()
    with wait_job(window.runner):
        page.note("已通知物业更换灯泡")
    select()
    with wait_job(window.runner):
        page.reply("楼道灯已于当日更换。")
    select()
    visit = page.visit_dialog()
    page.satisfaction_spin.setValue(4)
    visit.accept()
    with wait_job(window.runner):
        page.visit(visit)
    with demo_store.read() as session:
        done = complaints.get_complaint(session, added.number)
    assert (done.status.value, done.satisfaction) == ("closed", 4)
    assert added.number not in [c.number for c in page.model.rows]

    notice = tmp_path / "notice.pdf"
    with wait_job(window.runner):
        page.print_notice(notice)
    text = "".join(p.get_textpage().get_text_range() for p in pypdfium2.PdfDocument(str(notice)))
    assert "楼道灯已于当日更换" in text
    assert "赵小明" not in text and "13912345678" not in text


def test_a_return_visit_score_outside_1_to_5_is_refused(window, demo_store: Store, wait_job, messages):
    page = complaints_page(window)
    number = page.model.row(0).number
    page.table.selectRow(0)
    with wait_job(window.runner):
        page.reply("已处理完毕。")
    page.table.selectRow([c.number for c in page.model.rows].index(number))
    visit = page.visit_dialog()
    visit.accept()
    page.satisfaction_spin.setRange(0, 9)  # what a bad value from elsewhere would be
    page.satisfaction_spin.setValue(7)
    with wait_job(window.runner):
        page.visit(visit)
    assert "满意度" in messages.texts("warning")[-1]
    with demo_store.read() as session:
        assert complaints.get_complaint(session, number).status.value == "replied"
