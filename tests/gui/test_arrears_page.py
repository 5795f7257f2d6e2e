"""欠费催缴: the stage buttons and their counts, the L7 stage for the station manager, sorting, the 催缴台账
of a household, 登记催缴 (a refusal stays in the dialog, nothing saved) and reminder notices in bulk."""

from __future__ import annotations

from pathlib import Path

import pytest
import shiboken6
from PySide6.QtCore import Qt
from sqlalchemy import func, select

from yuexiu_desk.domain.billing import DunningMethod, DunningStage
from yuexiu_desk.gui.moneydialogs import notices_dir
from yuexiu_desk.gui.oprunner import OpRunner
from yuexiu_desk.gui.pages.arrears import ARREARS_COLUMNS, ArrearsPage
from yuexiu_desk.services.arrears import arrears, dunning_history, stage_counts
from yuexiu_desk.storage.billing_models import DunningAction

COLUMN = {spec.title: i for i, spec in enumerate(ARREARS_COLUMNS)}


@pytest.fixture
def runner(demo_store):
    runner = OpRunner(demo_store)
    yield runner
    runner.shutdown()


@pytest.fixture
def page(qtbot, demo_store, runner):
    page = ArrearsPage(demo_store, runner)
    qtbot.addWidget(page)
    page.resize(1130, 760)
    page.show()
    qtbot.waitExposed(page)
    return page


def service_rows(store, stage=None):
    with store.read() as session:
        return arrears(session, stage=stage)


def cell(page, row, title):
    return page.proxy.index(row, COLUMN[title]).data()


def actions(store):
    with store.read() as session:
        return session.scalar(select(func.count()).select_from(DunningAction))


def test_stage_buttons_count_the_households_of_each_stage(qtbot, page, demo_store):
    rows = service_rows(demo_store)
    counts = stage_counts(rows)
    assert page.counts() == {**counts, None: len(rows)}
    for stage in (DunningStage.REMINDER, DunningStage.NOTICE, DunningStage.TERMINATION):
        assert page.stage_buttons[stage].text() == f"{stage.label} {counts[stage]} 户"
        qtbot.mouseClick(page.stage_buttons[stage], Qt.MouseButton.LeftButton)
        assert page.stage_buttons[stage].isChecked()
        assert page.proxy.rowCount() == counts[stage]
        assert {r.stage for r in page.shown_rows()} == {stage}
    assert page.stage_buttons[None].text() == f"全部 {len(rows)} 户"
    qtbot.mouseClick(page.stage_buttons[None], Qt.MouseButton.LeftButton)
    assert page.proxy.rowCount() == len(rows)
    # Most months first, as the service orders them.
    assert [r.unit_code for r in page.shown_rows()] == [r.unit_code for r in rows]


def test_l7_termination_stage_shows_only_l7_households_flagged_for_the_manager(qtbot, page, demo_store):
    l7 = service_rows(demo_store, DunningStage.TERMINATION)
    assert l7
    qtbot.mouseClick(page.stage_buttons[DunningStage.TERMINATION], Qt.MouseButton.LeftButton)
    shown = page.shown_rows()
    assert [r.unit_code for r in shown] == [r.unit_code for r in l7]
    assert all(r.months_overdue >= 6 and r.needs_manager for r in shown)
    assert page.stage_buttons[DunningStage.TERMINATION].objectName() == "l7"  # drawn red
    for i in range(page.proxy.rowCount()):
        assert cell(page, i, "阶段") == "解除合同并移交法务 · 请站长处理"
        colour = page.proxy.index(i, 0).data(Qt.ItemDataRole.ForegroundRole)
        assert colour is not None and colour.name() == "#c62828"
    # The other stages' rows are not flagged.
    page.show_stage(DunningStage.REMINDER)
    assert all("请站长处理" not in cell(page, i, "阶段") for i in range(page.proxy.rowCount()))
    assert page.proxy.index(0, 0).data(Qt.ItemDataRole.ForegroundRole) is None


def test_columns_sort_by_their_values(page):
    page.view.sortByColumn(COLUMN["逾期金额(元)"], Qt.SortOrder.AscendingOrder)
    amounts = [r.amount_due_fen for r in page.shown_rows()]
    assert amounts == sorted(amounts) and len(set(amounts)) > 2
    page.view.sortByColumn(COLUMN["房号"], Qt.SortOrder.AscendingOrder)
    codes = [tuple(int(p) for p in r.unit_code.split("-")) for r in page.shown_rows()]
    assert codes == sorted(codes)


def test_double_click_opens_the_households_dunning_history(qtbot, page, demo_store):
    page.show_stage(DunningStage.TERMINATION)
    rect = page.view.visualRect(page.proxy.index(0, 0))
    # A real double click starts with a press: the view only opens the row it was pressed on.
    qtbot.mouseClick(page.view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(page.view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    dialog = page.dialog
    assert dialog is not None and dialog.isVisible()
    row = page.row_at(0)
    with demo_store.read() as session:
        entries = dunning_history(session, row.unit_code)
    assert dialog.model.rowCount() == len(entries) >= 4
    assert dialog.model.index(0, 2).data() == DunningMethod.LEGAL.label  # newest first
    assert row.unit_code in dialog.windowTitle()


def select_unit(page, code):
    assert page.select_units([code]) == 1
    assert [r.unit_code for r in page.selected_rows()] == [code]


def test_recording_a_phone_call_adds_to_the_history_and_the_last_step(page, demo_store, wait_job, messages):
    code = service_rows(demo_store, DunningStage.REMINDER)[0].unit_code
    select_unit(page, code)
    page.record_button.click()
    dialog = page.dialog
    assert dialog.isVisible() and dialog.method() is DunningMethod.PHONE  # what this stage asks for
    dialog.outcome_edit.setText("承租人答应周五前缴清")
    with wait_job(page.runner):
        dialog.ok_button.click()
    assert not shiboken6.isValid(dialog) or not dialog.isVisible()
    assert not messages.shown

    with demo_store.read() as session:
        newest = dunning_history(session, code)[0]
    assert (newest.method, newest.outcome, str(newest.done_on)) == (
        DunningMethod.PHONE,
        "承租人答应周五前缴清",
        "2026-11-20",
    )
    # The list shows it as the last step, with the unit still selected.
    assert [r.unit_code for r in page.selected_rows()] == [code]
    (i,) = [i for i, r in enumerate(page.shown_rows()) if r.unit_code == code]
    assert cell(page, i, "最近催缴") == "2026-11-20 电话：承租人答应周五前缴清"
    history = page.open_history()
    assert history.model.index(0, 6).data() == "承租人答应周五前缴清"


def test_a_visit_without_proof_is_refused_in_the_dialog_and_nothing_is_saved(
    page, demo_store, wait_job, messages
):
    code = service_rows(demo_store, DunningStage.NOTICE)[0].unit_code
    before = actions(demo_store)
    select_unit(page, code)
    dialog = page.record()
    dialog.method_combo.setCurrentIndex(dialog.method_combo.findData(DunningMethod.VISIT.value))
    dialog.outcome_edit.setText("上门未遇")
    with wait_job(page.runner):
        dialog.ok_button.click()
    assert dialog.isVisible()
    assert dialog.error_label.isVisible()
    assert dialog.error_label.text() == "书面通知和上门催缴要写明送达凭证（签收人、照片或回执编号）。"
    assert not messages.shown
    assert actions(demo_store) == before

    dialog.proof_edit.setText("门贴照片 IMG_2031")
    with wait_job(page.runner):
        dialog.ok_button.click()
    assert actions(demo_store) == before + 1


def test_notices_for_every_household_of_the_shown_stage(page, demo_store, wait_job, messages):
    households = service_rows(demo_store, DunningStage.NOTICE)
    assert len(households) >= 2
    page.show_stage(DunningStage.NOTICE)
    assert page.print_stage_button.text() == f"打印“书面催缴并上门”住户的催缴通知书（{len(households)} 户）"
    before = actions(demo_store)

    assert page.print_stage() is None  # asked first; answered No
    assert f"共 {len(households)} 户" in messages.texts("question")[-1]
    assert actions(demo_store) == before

    messages.answer_yes = True
    with wait_job(page.runner):
        page.print_stage_button.click()
    assert actions(demo_store) == before + len(households)
    (opened,) = [Path(url.toLocalFile()) for url in messages.opened_urls]
    assert opened.parent == notices_dir(demo_store.paths)
    import pypdfium2

    document = pypdfium2.PdfDocument(str(opened))
    try:
        texts = [p.get_textpage().get_text_range() for p in document]
    finally:
        document.close()
    assert len(texts) == len(households)  # one page per household
    for text, row in zip(texts, households, strict=True):
        assert row.unit_code in text and row.leaseholder in text and "催缴通知书" in text
    # The last step of each is now its numbered notice.
    for i in range(page.proxy.rowCount()):
        assert "书面通知 YXY01-CJ2026-" in cell(page, i, "最近催缴")
    assert "已开具催缴通知书" in page.status_label.text()


def test_notice_for_the_selected_household_only(page, demo_store, wait_job, messages):
    page.show_stage(DunningStage.TERMINATION)
    row = page.row_at(0)
    select_unit(page, row.unit_code)
    with wait_job(page.runner):
        page.print_selected_button.click()
    assert not messages.texts("question")  # chosen one by one: nothing to confirm
    (opened,) = [Path(url.toLocalFile()) for url in messages.opened_urls]
    assert opened.name.startswith("催缴通知书-YXY01-CJ2026-")
    with demo_store.read() as session:
        newest = dunning_history(session, row.unit_code)[0]
    assert newest.method is DunningMethod.NOTICE and newest.notice_no in opened.name
