"""Reading a clerk's workbook (yuexiu_desk.workbooks): the fast reader gives the values openpyxl gives, row
and column numbers stay Excel's, and a workbook whose formulas failed is read so that the errors show."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from yuexiu_desk import workbooks
from yuexiu_desk.workbooks import SheetFileError, open_workbook

CHINESE_DATE = 'yyyy"年"m"月"d"日"'


def write_sample(path: Path, *, error: bool = False) -> Path:
    """Cells of every kind a ledger holds, starting at C3 below two empty rows, and a second sheet."""
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "住户"
    sheet["C3"], sheet["D3"], sheet["E3"], sheet["F3"] = "房号", "身份证号", "年收入(元)", "残疾"
    sheet["C4"], sheet["D4"], sheet["E4"], sheet["F4"] = "1-1-101", "42010219800101001X", 36000, True
    sheet["C5"], sheet["D5"], sheet["E5"], sheet["F5"] = " 1-1-102 ", 4.20102198e17, 1234.56, False
    sheet["C6"] = date(2024, 3, 1)
    sheet["C6"].number_format = CHINESE_DATE
    sheet["D6"] = datetime(2024, 3, 1, 8, 30)
    sheet["E6"] = time(8, 30)
    sheet["F6"] = timedelta(hours=30)
    sheet["G6"] = "#DIV/0!" if error else "备注"
    # Row 7 left empty between data rows; row 8 has one value far right.
    sheet["J8"] = "末列"
    other = book.create_sheet("合同")
    other.append(["户序号", "房号"])
    other.append(["1", "1-1-101"])
    book.save(path)
    return path


def plain(value: Any) -> Any:
    """A value as a person reads it in the cell, whichever reader gave it."""
    if value == "":
        return None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    return value


def table(rows: Any) -> list[list[Any]]:
    found = [[plain(v) for v in row] for row in rows]
    width = max((len(r) for r in found), default=0)
    padded = [r + [None] * (width - len(r)) for r in found]
    while padded and all(v is None for v in padded[-1]):
        padded.pop()
    return padded


def openpyxl_table(path: Path, name: str) -> list[list[Any]]:
    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        return table(book[name].iter_rows(values_only=True))
    finally:
        book.close()


def test_the_fast_reader_reads_every_kind_of_cell_as_openpyxl_does(tmp_path: Path) -> None:
    path = write_sample(tmp_path / "ledger.xlsx")
    book = open_workbook(path)
    try:
        assert isinstance(book, workbooks._CalamineRows)
        assert book.sheetnames == ["住户", "合同"]
        for name in book.sheetnames:
            assert table(book.rows(name)) == openpyxl_table(path, name)
        rows = list(book.rows("住户"))
    finally:
        book.close()
    # Excel's numbering: row 4 (index 3) holds the first data row, column C (index 2) the unit code.
    assert rows[3][2] == "1-1-101"
    assert plain(rows[3][4]) == 36000
    assert rows[3][5] is True
    assert plain(rows[5][2]) == datetime(2024, 3, 1)  # a Chinese date format is still a date
    assert rows[5][4] == time(8, 30)
    assert rows[7][9] == "末列"


def test_a_workbook_with_a_failed_formula_is_read_with_the_error_showing(tmp_path: Path) -> None:
    path = write_sample(tmp_path / "ledger.xlsx", error=True)
    book = open_workbook(path)
    try:
        rows = list(book.rows("住户"))
        assert isinstance(book, workbooks._OpenpyxlRows)
        assert rows[5][6] == "#DIV/0!"
        assert table(rows) == openpyxl_table(path, "住户")
    finally:
        book.close()


def test_text_that_starts_like_an_error_is_text_and_read_fast(tmp_path: Path) -> None:
    """Only the cell's type marks a failed formula: a clerk's note that begins with #N/A is plain text."""
    path = write_sample(tmp_path / "ledger.xlsx")
    book = openpyxl.load_workbook(path)
    book["合同"]["C2"] = "#N/A 表示暂缺"
    book.save(path)
    reader = open_workbook(path)
    try:
        assert isinstance(reader, workbooks._CalamineRows)
        assert list(reader.rows("合同"))[1][2] == "#N/A 表示暂缺"
    finally:
        reader.close()


@pytest.mark.parametrize(
    "content",
    [b"not a zip file", b"PK\x03\x04 broken", b""],
    ids=["text", "broken zip", "empty"],
)
def test_a_file_that_is_not_a_workbook_is_refused(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "ledger.xlsx"
    path.write_bytes(content)
    with pytest.raises(SheetFileError):
        open_workbook(path)


def test_a_zip_that_is_not_a_workbook_is_refused(tmp_path: Path) -> None:
    import zipfile

    path = tmp_path / "ledger.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "这不是工作簿")
    with pytest.raises(SheetFileError):
        open_workbook(path)
