"""The household import template as a clerk opens it: sheets, headers, text-formatted ID column, dropdowns,
a 说明 sheet that explains every column, and a file that is written whole or not at all."""

from __future__ import annotations

import errno
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest
from openpyxl.worksheet.worksheet import Worksheet

from yuexiu_desk.domain.households import RELATIONS
from yuexiu_desk.errors import EnvironmentProblem, UserError
from yuexiu_desk.export.household_template import write_household_template

# The file format, spelled out here so a change to it is a deliberate change to this test too.
MEMBER_HEADERS = [
    "房号",
    "户序号",
    "姓名",
    "与承租人关系",
    "身份证号",
    "联系电话",
    "工作单位",
    "年收入(元)",
    "孤寡空巢老人",
    "残疾",
    "行动不便",
]
LEASE_HEADERS = [
    "户序号",
    "房号",
    "合同开始日期",
    "租期(月)",
    "签约日期",
    "押金(元)",
    "租金档次",
    "超5年理由",
    "备案日期",
    "备案编号",
]


@pytest.fixture
def template(tmp_path: Path) -> Path:
    return write_household_template(tmp_path / "t.xlsx")


def column_of(sheet: Worksheet, header: str) -> str:
    cell = next(c for c in sheet[1] if c.value == header)
    return str(cell.column_letter)


def dropdown(sheet: Worksheet, header: str) -> list[str]:
    """The choices of the list validation that covers the column of header, from row 2 down."""
    letter = column_of(sheet, header)
    for validation in sheet.data_validations.dataValidation:
        if validation.type == "list" and f"{letter}2:{letter}1048576" in str(validation.sqref):
            return str(validation.formula1).strip('"').split(",")
    raise AssertionError(f"no dropdown on {header}")


def test_sheets_and_headers(template: Path) -> None:
    book = openpyxl.load_workbook(template)
    assert book.sheetnames == ["住户", "合同", "说明"]
    assert [c.value for c in book["住户"][1]] == MEMBER_HEADERS
    assert [c.value for c in book["合同"][1]] == LEASE_HEADERS
    for name in ("住户", "合同"):
        sheet = book[name]
        assert sheet.freeze_panes == "A2"  # the header stays in view
        assert sheet.max_row == 1  # no example rows that would be imported
        assert all(sheet[1][i].font.b for i in range(sheet.max_column))
        assert all((sheet.column_dimensions[c.column_letter].width or 0) >= 8 for c in sheet[1])
    # Required columns have dark red headers, optional ones black.
    member = book["住户"]
    assert member["A1"].font.color.rgb.endswith("9C0006")
    assert member[f"{column_of(member, '工作单位')}1"].font.color is None


def test_id_and_phone_columns_are_text_so_excel_keeps_every_digit(template: Path) -> None:
    """D1: an 18-digit number in a General cell becomes 4.2E+17 and loses its last three digits."""
    book = openpyxl.load_workbook(template)
    member, lease = book["住户"], book["合同"]
    for header in ("身份证号", "联系电话", "房号", "户序号"):
        assert member.column_dimensions[column_of(member, header)].number_format == "@", header
    for header in ("合同开始日期", "签约日期", "备案日期"):
        assert lease.column_dimensions[column_of(lease, header)].number_format == "yyyy-mm-dd", header


def test_dropdowns_for_relation_flags_and_rent_tier(template: Path) -> None:
    book = openpyxl.load_workbook(template)
    member, lease = book["住户"], book["合同"]
    assert dropdown(member, "与承租人关系") == list(RELATIONS)
    for flag in ("孤寡空巢老人", "残疾", "行动不便"):
        assert dropdown(member, flag) == ["是", "否"]
    assert dropdown(lease, "租金档次") == ["标准租金", "低收入减免"]


def test_the_guide_explains_every_column_and_keeps_the_example_apart(template: Path) -> None:
    book = openpyxl.load_workbook(template)
    guide = book["说明"]
    rows = [[c.value for c in row] for row in guide.iter_rows()]
    explained = {(r[0], r[1]) for r in rows if r[0] in ("住户", "合同") and r[3]}
    assert explained == {("住户", h) for h in MEMBER_HEADERS} | {("合同", h) for h in LEASE_HEADERS}
    text = "\n".join(str(v) for row in rows for v in row if v)
    assert "身份证号" in text and "文本" in text and "4.2E+17" in text
    assert "超5年理由" in text and "5 年" in text  # L1
    assert "本人" in text
    # The worked example is in 说明 only, in its own style (italic grey on a yellow fill).
    example = [c for row in guide.iter_rows() for c in row if c.font.i]
    assert {"42010219580704002X", "本人", "标准租金"} <= {c.value for c in example}
    assert all(c.fill.fgColor.rgb.endswith("FFF2CC") for c in example)


def test_the_template_reads_back_in_read_only_mode(template: Path) -> None:
    """The importer opens files read-only; the template has exactly one row per data sheet then."""
    book = openpyxl.load_workbook(template, read_only=True, data_only=True)
    try:
        assert [list(book[name].iter_rows(values_only=True)) for name in ("住户", "合同")] == [
            [tuple(MEMBER_HEADERS)],
            [tuple(LEASE_HEADERS)],
        ]
    finally:
        book.close()


def test_an_existing_file_is_replaced_whole(tmp_path: Path) -> None:
    out = tmp_path / "t.xlsx"
    out.write_bytes(b"old")
    assert write_household_template(out) == out
    assert openpyxl.load_workbook(out).sheetnames == ["住户", "合同", "说明"]
    assert [p.name for p in tmp_path.iterdir()] == ["t.xlsx"]


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from openpyxl.workbook.workbook import Workbook

    out = tmp_path / "t.xlsx"
    out.write_bytes(b"old")

    def full_disk(self: Workbook, target: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Workbook, "save", full_disk)
    with pytest.raises(EnvironmentProblem, match="无法保存模板文件") as caught:
        write_household_template(out)
    assert "No space left on device" in caught.value.message
    assert out.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["t.xlsx"]


def test_bad_targets(tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"\.xlsx"):
        write_household_template(tmp_path / "t.xls")
    blocker = tmp_path / "file"
    blocker.write_text("", encoding="utf-8")
    with pytest.raises(EnvironmentProblem, match="无法保存模板文件"):
        write_household_template(blocker / "t.xlsx")


def test_openpyxl_is_loaded_only_when_a_template_or_an_import_is_asked_for() -> None:
    code = (
        "import sys\n"
        "import yuexiu_desk.export.household_template, yuexiu_desk.services.household_import\n"
        "print('openpyxl' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
