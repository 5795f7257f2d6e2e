"""安全巡查 as the safety officer uses it: what is due (overdue first, in red), open hazards, the C/D alert,
a blank record printed to start a round, a hazard sent to repairs, and closing refused before re-inspection."""

from __future__ import annotations

from pathlib import Path

import pypdfium2
from PySide6.QtCore import Qt

from yuexiu_desk.services import hazards, users, workorders
from yuexiu_desk.storage.db import Store


def safety_page(window):
    window.show_page(8)
    page = window.safety
    assert window.current_page() is page
    return page


def test_due_overdue_first_hazards_and_the_alert_show(window) -> None:
    page = safety_page(window)
    rows = page.due_model.rows
    assert rows and rows[0].overdue  # the demo's one overdue round leads, in red
    assert page.due_model.index(0, 0).data(Qt.ItemDataRole.ForegroundRole) is not None
    assert not any(r.overdue for r in rows[1:] if r.due_date < rows[0].due_date)
    assert page.hazard_model.rowCount() > 0
    assert all(h.status.value != "closed" for h in page.hazard_model.rows)
    assert page.alert_label.isVisible() and "C/D" in page.alert_label.text()
    assert page.summary_label.text().startswith(f"到期 {len(rows)} 项，其中逾期 ")


def test_a_blank_record_starts_its_round_and_prints(
    window, demo_store: Store, wait_job, messages, tmp_path: Path
) -> None:
    page = safety_page(window)
    page.due_table.selectRow(0)
    chosen = page.due_model.row(0)
    out = tmp_path / "blank.pdf"
    with wait_job(window.runner):
        page.print_blank(out)
    assert messages.opened_urls and messages.opened_urls[-1].toLocalFile() == str(out)
    text = "".join(pg.get_textpage().get_text_range() for pg in pypdfium2.PdfDocument(str(out)))
    assert chosen.title in text
    refreshed = [d for d in page.due_model.rows if (d.template, d.scope) == (chosen.template, chosen.scope)]
    assert refreshed and refreshed[0].open_round  # the round is now in progress


def test_a_hazard_goes_to_repairs_and_cannot_close_unchecked(
    window, demo_store: Store, wait_job, messages
) -> None:
    demo_store.operator = users.sign_in(demo_store, "safety", users.DEMO_PASSWORD)
    page = safety_page(window)
    row = next(
        i for i, h in enumerate(page.hazard_model.rows) if not h.work_order_id and h.status.value == "open"
    )
    hazard = page.hazard_model.row(row)
    page.hazard_table.selectRow(row)
    with wait_job(window.runner):
        page.raise_repair()
    (said,) = messages.texts("information")
    order_no = said.split("维修工单 ")[1].split("；")[0]
    with demo_store.read() as session:
        assert hazards.hazard_row(session, hazard.hazard_no).work_order_id == order_no
        assert workorders.get_work_order(session, order_no).hazard_id is not None
    row = [h.hazard_no for h in page.hazard_model.rows].index(hazard.hazard_no)
    page.hazard_table.selectRow(row)
    with wait_job(window.runner):
        page.close_hazard()
    assert "复查" in messages.texts("warning")[-1]
    with demo_store.read() as session:
        assert hazards.hazard_row(session, hazard.hazard_no).status.value != "closed"
