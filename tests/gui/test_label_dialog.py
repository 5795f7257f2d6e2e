"""打印标签…: which units, grid, where; the PDF is written in the background and offered to open."""

from __future__ import annotations

import subprocess

from PySide6.QtCore import QItemSelectionModel
from PySide6.QtWidgets import QFileDialog


def test_print_dialog_defaults(window, tmp_path):
    dialog = window.open_print_dialog()
    assert dialog.isVisible()
    assert dialog.all_radio.isChecked()
    assert "194" in dialog.all_radio.text()
    assert not dialog.selected_radio.isEnabled()
    assert (dialog.columns_spin.value(), dialog.rows_spin.value()) == (3, 8)
    assert dialog.path_edit.text().startswith(str(tmp_path / "labels"))
    assert dialog.path_edit.text().endswith("20261120.pdf")


def test_print_typed_codes(window, qtbot, tmp_path, wait_job, messages):
    dialog = window.open_print_dialog()
    qtbot.keyClicks(dialog.codes_edit, "1-2-1603, 1-2-1602 2-1-101")
    assert dialog.codes_radio.isChecked()
    out = tmp_path / "out" / "three.pdf"
    dialog.path_edit.setText(str(out))
    with wait_job(window.runner):
        dialog.ok_button.click()
    assert not dialog.isVisible()
    assert out.read_bytes().startswith(b"%PDF")
    assert dialog.sheet.labels == 3 and dialog.sheet.pages == 1
    (question,) = messages.texts("question")
    assert "已生成 3 张标签，共 1 页" in question
    assert messages.opened_urls == []  # the clerk said no


def test_printed_sheet_shows_the_codes(window, qtbot, tmp_path, wait_job):
    dialog = window.open_print_dialog()
    dialog.codes_radio.setChecked(True)
    dialog.codes_edit.setText("1-2-1603")
    out = tmp_path / "one.pdf"
    dialog.path_edit.setText(str(out))
    with wait_job(window.runner):
        dialog.ok_button.click()
    text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True, check=True).stdout
    assert "1-2-1603" in text


def test_print_selected_register_rows(window, qtbot, tmp_path, wait_job, messages):
    page = window.register
    selection = page.view.selectionModel()
    for row in (0, 1, 2, 3):
        selection.select(
            page.model.index(row, 0),
            QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows,
        )
    dialog = window.open_print_dialog()
    assert dialog.selected_radio.isChecked()
    assert "4 套" in dialog.selected_radio.text()
    assert dialog.chosen_codes() == ["1-1-101", "1-1-102", "1-1-103", "1-1-201"]
    dialog.columns_spin.setValue(2)
    dialog.rows_spin.setValue(1)
    dialog.path_edit.setText(str(tmp_path / "four.pdf"))
    with wait_job(window.runner):
        dialog.ok_button.click()
    assert dialog.sheet.labels == 4 and dialog.sheet.pages == 2


def test_unknown_code_is_refused_and_dialog_stays(window, qtbot, tmp_path, wait_job, messages):
    dialog = window.open_print_dialog()
    dialog.codes_radio.setChecked(True)
    dialog.codes_edit.setText("1-2-1603 9-9-999")
    out = tmp_path / "bad.pdf"
    dialog.path_edit.setText(str(out))
    with wait_job(window.runner):
        dialog.ok_button.click()
    (warning,) = messages.texts("warning")
    assert "9-9-999" in warning
    assert dialog.isVisible() and dialog.ok_button.isEnabled()
    assert not out.exists()


def test_browse_sets_the_path(window, monkeypatch, tmp_path):
    chosen = tmp_path / "picked"
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", lambda *args, **kwargs: (str(chosen), "PDF 文件 (*.pdf)")
    )
    dialog = window.open_print_dialog()
    dialog.browse_button.click()
    assert dialog.path_edit.text() == str(chosen) + ".pdf"


def test_ctrl_p_opens_the_dialog(window, qtbot):
    window.activateWindow()
    window.act_print.trigger()
    assert window.print_dialog is not None and window.print_dialog.isVisible()


def test_esc_waits_while_the_pdf_is_written(window, qtbot, tmp_path, wait_job, messages, monkeypatch):
    import threading

    from PySide6.QtCore import Qt

    from yuexiu_desk.gui import dialogs

    started, gate = threading.Event(), threading.Event()
    real = dialogs.make_unit_label_sheet

    def gated(*args, **kwargs):
        started.set()
        assert gate.wait(20), "the test never opened the gate"
        return real(*args, **kwargs)

    monkeypatch.setattr(dialogs, "make_unit_label_sheet", gated)
    dialog = window.open_print_dialog()
    dialog.codes_radio.setChecked(True)
    dialog.codes_edit.setText("1-2-1603")
    dialog.path_edit.setText(str(tmp_path / "one.pdf"))
    dialog.ok_button.click()
    try:
        assert started.wait(20)
        qtbot.keyClick(dialog, Qt.Key.Key_Escape)
        assert dialog.isVisible() and not dialog.cancel_button.isEnabled()
    finally:
        with wait_job(window.runner):
            gate.set()
    assert dialog.sheet is not None and dialog.sheet.labels == 1
    (question,) = messages.texts("question")
    assert "已生成 1 张标签" in question


def test_pdf_offer_still_made_when_the_card_closed_meanwhile(
    window, qtbot, unit_id, wait_job, messages, monkeypatch, tmp_path
):
    import threading

    from yuexiu_desk.gui import dialogs

    started, gate = threading.Event(), threading.Event()
    real = dialogs.make_unit_label_sheet

    def gated(*args, **kwargs):
        started.set()
        assert gate.wait(20), "the test never opened the gate"
        return real(*args, **kwargs)

    monkeypatch.setattr(dialogs, "make_unit_label_sheet", gated)
    card = window.open_unit(unit_id("1-2-1603"))
    card.print_button.click()
    try:
        assert started.wait(20)
        card.close()
    finally:
        with wait_job(window.runner):
            gate.set()
    (question,) = messages.texts("question")
    assert "已生成 1 张标签" in question
    assert (tmp_path / "labels" / "房源标签-1-2-1603.pdf").exists()
