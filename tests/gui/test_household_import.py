"""Importing ledgers from the 住户档案 page (issue 3): the template, a good file checked then confirmed, and a
broken file whose every problem is listed (表, 行, 列, 问题) while nothing is imported."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import shiboken6
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QFileDialog
from sqlalchemy import func, select
from stdnum.iso7064 import mod_11_2

from yuexiu_desk.domain.units import UnitStatus
from yuexiu_desk.export.household_template import write_household_template
from yuexiu_desk.gui.householdimport import (
    NOTHING_IMPORTED,
    ImportPreviewDialog,
    ImportProblemsDialog,
)
from yuexiu_desk.services.units import UnitFilter, list_units
from yuexiu_desk.storage.models import ChangeEvent, Household, HouseholdMember, Lease, Unit


def ident(body17: str) -> str:
    return body17 + mod_11_2.calc_check_digit(body17)


HEAD_ID = ident("42010219760412031")
SPOUSE_ID = ident("42010219790923042")


def households_page(window):
    window.show_page(3)
    page = window.households
    assert window.current_page() is page
    return page


def vacant_code(store) -> str:
    with store.read() as session:
        return list_units(session, UnitFilter(status=UnitStatus.VACANT))[0].code


def write_book(folder: Path, code: str, head_id: str = HEAD_ID) -> Path:
    """The real template, filled in like a clerk does: one household of two on a vacant unit, its lease."""
    path = write_household_template(folder / "台账.xlsx")
    book = openpyxl.load_workbook(path)
    rows: dict[str, list[dict[str, Any]]] = {
        "住户": [
            {
                "房号": code,
                "户序号": "1",
                "姓名": "导入甲",
                "与承租人关系": "本人",
                "身份证号": head_id,
                "联系电话": "13912340001",
                "年收入(元)": 30000,
            },
            {"房号": code, "户序号": "1", "姓名": "导入乙", "与承租人关系": "配偶", "身份证号": SPOUSE_ID},
        ],
        "合同": [
            {
                "户序号": "1",
                "房号": code,
                "合同开始日期": date(2026, 12, 1),
                "租期(月)": 36,
                "签约日期": date(2026, 11, 10),
                "押金(元)": 1000,
                "租金档次": "标准租金",
            }
        ],
    }
    for sheet, values in rows.items():
        worksheet = book[sheet]
        headers = [cell.value for cell in worksheet[1]]
        for row in values:
            assert set(row) <= set(headers)
            worksheet.append([row.get(h) for h in headers])
    book.save(path)
    return path


def state(store) -> tuple[Any, ...]:
    with store.read() as session:
        counts = tuple(
            session.scalar(select(func.count()).select_from(t))
            for t in (Household, HouseholdMember, Lease, ChangeEvent)
        )
        statuses = tuple(session.execute(select(Unit.code, Unit.status).order_by(Unit.code)))
    return counts, statuses


def choose_file(monkeypatch: pytest.MonkeyPatch, method: str, path: Path | None, kind: str = "") -> list[Any]:
    asked: list[Any] = []

    def dialog(*args: Any, **kwargs: Any) -> tuple[str, str]:
        asked.append(args)
        return (str(path) if path else "", kind)

    monkeypatch.setattr(QFileDialog, method, dialog)
    return asked


def test_export_template_writes_the_file_and_offers_to_open_it(
    window, tmp_path, monkeypatch, wait_job, messages
):
    page = households_page(window)
    choose_file(monkeypatch, "getSaveFileName", tmp_path / "模板", "Excel 工作簿 (*.xlsx)")
    messages.answer_yes = True
    with wait_job(window.runner):
        assert page.export_template() is not None
    out = tmp_path / "模板.xlsx"
    assert out.is_file()
    assert {"住户", "合同"} <= set(openpyxl.load_workbook(out, read_only=True).sheetnames)
    assert "模板已生成" in [title for _kind, title, _text in messages.shown]
    assert [url.toLocalFile() for url in messages.opened_urls] == [str(out)]


def test_export_template_cancelled_does_nothing(window, monkeypatch, messages):
    page = households_page(window)
    choose_file(monkeypatch, "getSaveFileName", None)
    assert page.export_template() is None
    assert not window.runner.is_busy and not messages.shown


def test_file_menu_has_both_actions(window):
    texts = [a.text() for a in window.menuBar().actions()[0].menu().actions()]
    assert "导出导入模板…" in texts and "从 Excel 导入住户…" in texts
    assert window.act_import.isEnabled() and window.act_template.isEnabled()


def test_import_a_good_file_checks_then_confirms(
    window, demo_store, tmp_path, monkeypatch, wait_job, messages, unit_id
):
    code = vacant_code(demo_store)
    path = write_book(tmp_path, code)
    choose_file(monkeypatch, "getOpenFileName", path)
    before = state(demo_store)
    page = households_page(window)

    with wait_job(window.runner):
        window.act_import.trigger()  # the 文件 menu: lands on this page
        assert window.runner.is_busy  # the check runs in the background …
        assert page.import_busy.isVisibleTo(page) and not page.import_button.isEnabled()
    assert not page.import_busy.isVisibleTo(page) and page.import_button.isEnabled()
    dialog = page.importer.dialog
    assert isinstance(dialog, ImportPreviewDialog) and dialog.isVisible()
    assert "1 户，2 人，1 份合同" in dialog.summary_label.text()
    assert dialog.warnings_table is None
    assert state(demo_store) == before  # the check wrote nothing

    with wait_job(window.runner):
        dialog.confirm_button.click()
        assert dialog.busy and not dialog.confirm_button.isEnabled()
    assert not shiboken6.isValid(dialog) or not dialog.isVisible()
    assert any("已导入 1 户，2 人，1 份合同" in t for t in messages.texts("information"))

    page.search.setText("导入甲")
    assert page.proxy.rowCount() == 1
    row = page.row_at(0)
    assert row.unit_code == code and len(row.members) == 2
    assert "*" in page.proxy.index(0, 3).data()
    register = window.register
    line = register.model.row_of(unit_id(code))
    assert line is not None and register.model.unit_row(line).status is UnitStatus.OCCUPIED


def refused(window, monkeypatch, wait_job, path: Path) -> tuple[ImportProblemsDialog, list[list[str]]]:
    """Import path from the 住户档案 page; the problems dialog that must come up, and its rows as shown."""
    choose_file(monkeypatch, "getOpenFileName", path)
    page = households_page(window)
    with wait_job(window.runner):
        page.import_households()
    dialog = page.importer.dialog
    assert isinstance(dialog, ImportProblemsDialog) and dialog.isVisible()
    model = dialog.table.model()
    return dialog, [[model.index(r, c).data() for c in range(4)] for r in range(model.rowCount())]


def test_import_a_broken_file_lists_every_problem_and_imports_nothing(
    window, demo_store, tmp_path, monkeypatch, wait_job, messages
):
    code = vacant_code(demo_store)
    bad = HEAD_ID[:-1] + ("0" if HEAD_ID[-1] != "0" else "1")  # a wrong check digit
    path = write_book(tmp_path, code, head_id=bad)
    before = state(demo_store)
    dialog, cells = refused(window, monkeypatch, wait_job, path)
    assert dialog.nothing_label.text() == NOTHING_IMPORTED == "未导入任何数据，请改正后重新导入。"
    model = dialog.table.model()
    headers = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(4)]
    assert headers == ["表", "行", "列", "问题"]
    assert ["住户", "2", "身份证号"] in [line[:3] for line in cells]
    assert not messages.texts("warning")  # the table, not a message box
    assert state(demo_store) == before

    copied = dialog.table.copy()
    assert copied.startswith("表\t行\t列\t问题\n") and "住户\t2\t身份证号\t" in copied
    assert QGuiApplication.clipboard().text() == copied

    out = tmp_path / "问题"
    choose_file(monkeypatch, "getSaveFileName", out, "CSV 表格 (*.csv)")
    saved = dialog.save_problems()
    assert saved == tmp_path / "问题.csv"
    text = saved.read_text(encoding="utf-8-sig")
    assert text.splitlines()[0] == "表,行,列,问题" and "住户,2,身份证号," in text

    choose_file(monkeypatch, "getSaveFileName", tmp_path / "问题.txt", "文本文件 (*.txt)")
    saved_txt = dialog.save_problems()
    assert saved_txt is not None and "“住户”表第 2 行“身份证号”" in saved_txt.read_text(encoding="utf-8")
    assert NOTHING_IMPORTED in saved_txt.read_text(encoding="utf-8")


def test_a_formula_error_in_the_ledger_is_listed_with_its_cell(
    window, demo_store, tmp_path, monkeypatch, wait_job, messages
):
    """A cell whose formula failed (Excel shows #DIV/0!) is neither blank nor data: the clerk sees where."""
    path = write_book(tmp_path, vacant_code(demo_store))
    book = openpyxl.load_workbook(path)
    book["住户"]["H2"] = "#DIV/0!"  # 年收入(元) of the first member; openpyxl stores it as an error cell
    book.save(path)
    before = state(demo_store)
    _, cells = refused(window, monkeypatch, wait_job, path)
    assert cells == [
        [
            "住户",
            "2",
            "年收入(元)",
            "这一格显示的是公式出错（#DIV/0!），不是数据；请在 Excel 中改正公式或直接填入内容。",
        ]
    ]
    assert state(demo_store) == before


def test_a_file_that_is_not_a_workbook_is_one_sentence(
    window, demo_store, tmp_path, monkeypatch, wait_job, messages
):
    path = tmp_path / "不是表格.xlsx"
    path.write_text("hello", encoding="utf-8")
    choose_file(monkeypatch, "getOpenFileName", path)
    before = state(demo_store)
    page = households_page(window)
    with wait_job(window.runner):
        page.import_households()
    assert NOTHING_IMPORTED in messages.texts("warning")[-1]
    assert page.import_button.isEnabled()
    assert state(demo_store) == before
