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


def test_a_round_filled_in_on_screen_by_scanning_units(
    window, demo_store: Store, wait_job, messages, unit_id
) -> None:
    from yuexiu_desk.services import inspections
    from yuexiu_desk.services.lookup import unit_payload

    demo_store.operator = users.sign_in(demo_store, "safety", users.DEMO_PASSWORD)
    page = safety_page(window)
    row = next(
        i
        for i, d in enumerate(page.due_model.rows)
        if d.template == "quarterly_inspection" and not d.open_round
    )
    chosen = page.due_model.row(row)
    page.due_table.selectRow(row)
    with wait_job(window.runner):
        page.fill_in()
    dialog = page.round_dialog
    assert dialog.isVisible() and dialog.info.answered == 0 and dialog.info.expected > 0
    # A unit outside the round's building: said, offered, declined — nothing added.
    other = "2-1-101" if not chosen.scope.endswith(":2") else "1-1-101"
    inside = "1-1-101" if other == "2-1-101" else "2-1-101"
    assert not dialog.jump(unit_payload("YXY01", unit_id(other)))
    assert "不在本轮检查" in messages.texts("question")[-1]
    # Scanning a unit of the round jumps to its items.
    assert dialog.jump(unit_payload("YXY01", unit_id(inside)))
    labels = {i.location_label for i in dialog.model.rows}
    assert inside in labels and len(labels) < 5  # the unit's items (and its entrance's and building's)
    at = next(
        i
        for i, item in enumerate(dialog.model.rows)
        if item.location_label == inside and not item.photo_required and not item.structural
    )
    item_id = dialog.model.row(at).item_id
    dialog.table.selectRow(at)
    with wait_job(window.runner):
        dialog.answer("defect", severity="minor", note="卫生间地漏返味")
    (answered,) = [i for i in dialog.model.rows if i.item_id == item_id and i.location_label == inside]
    assert (
        answered.result is not None
        and answered.result.value == "defect"
        and answered.note == "卫生间地漏返味"
    )
    with wait_job(window.runner):
        dialog.close_round()
    assert "未填" in messages.texts("warning")[-1] or "还有" in messages.texts("warning")[-1]
    dialog.jump("")
    with wait_job(window.runner):
        dialog.rest_ok()
    with wait_job(window.runner):
        dialog.close_round()
    assert not dialog.isVisible()
    with demo_store.read() as session:
        info = inspections.round_info(session, inspections.find_round(session, dialog.round_no))
    assert info.status != "open" and info.defects == 1 and info.answered == info.expected


def test_an_item_added_to_a_template_in_forms_shows_in_the_round_on_screen(
    window, demo_store: Store, tmp_path: Path, monkeypatch
) -> None:
    import shutil

    from yuexiu_desk import paths
    from yuexiu_desk.domain.access import system_operator
    from yuexiu_desk.gui.rounddialog import RoundDialog
    from yuexiu_desk.services import inspections

    copy = tmp_path / "forms"
    shutil.copytree(paths.forms_dir(), copy)
    monkeypatch.setattr(paths, "forms_dir", lambda: copy)
    path = copy / "inspections" / "monthly_fire.toml"
    anchor = '  { id = "hydrants", label = "室内外消火栓"'
    text = path.read_text(encoding="utf-8")
    assert anchor in text
    added = '  { id = "fire_doors", label = "防火卷帘门", look = "手动升降是否正常" },\n'
    path.write_text(text.replace(anchor, added + anchor), encoding="utf-8")
    with demo_store.unit_of_work(system_operator("测试")) as session:
        round_no = inspections.start_round(session, "monthly_fire", "building:1", "测试").round_no
    dialog = RoundDialog(window.runner, round_no, window)
    labels = [dialog.model.index(r, 2).data() for r in range(dialog.model.rowCount())]
    assert "防火卷帘门" in labels
    dialog.close()
