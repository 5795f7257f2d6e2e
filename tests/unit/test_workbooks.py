"""Reading a clerk's workbook (yuexiu_desk.workbooks): the fast reader gives the values openpyxl gives, row
and column numbers stay Excel's, and a workbook whose formulas failed is read so that the errors show."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from yuexiu_desk.workbooks import CellError, SheetFileError, open_workbook

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


def sample_with(folder: Path, sheet: str, ref: str, value: Any) -> Path:
    """The sample with one more cell, typed as a clerk would."""
    path = write_sample(folder / "ledger.xlsx")
    book = openpyxl.load_workbook(path)
    book[sheet][ref] = value
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
    with open_workbook(path) as book:
        assert book.sheetnames == ["住户", "合同"]
        assert [book.reader_of(name) for name in book.sheetnames] == ["calamine", "calamine"]
        for name in book.sheetnames:
            assert table(book.rows(name)) == openpyxl_table(path, name)
        rows = list(book.rows("住户"))
    # Excel's numbering: row 4 (index 3) holds the first data row, column C (index 2) the unit code.
    assert rows[3][2] == "1-1-101"
    assert plain(rows[3][4]) == 36000
    assert rows[3][5] is True
    assert plain(rows[5][2]) == datetime(2024, 3, 1)  # a Chinese date format is still a date
    assert rows[5][4] == time(8, 30)
    assert rows[7][9] == "末列"


def test_a_workbook_with_a_failed_formula_is_read_with_the_error_showing(tmp_path: Path) -> None:
    path = write_sample(tmp_path / "ledger.xlsx", error=True)
    with open_workbook(path) as book:
        rows = list(book.rows("住户"))
        assert book.reader_of("住户") == "openpyxl"
        assert rows[5][6] == "#DIV/0!" and isinstance(rows[5][6], CellError)
        assert table(rows) == openpyxl_table(path, "住户")
        # The other sheet has no error: it is still read fast.
        assert book.reader_of("合同") == "calamine"
        assert list(book.rows("合同"))[1] == ("1", "1-1-101")


def test_text_that_starts_like_an_error_is_text_and_read_fast(tmp_path: Path) -> None:
    """Only the cell's type marks a failed formula: a clerk's note that begins with #N/A is plain text."""
    with open_workbook(sample_with(tmp_path, "合同", "C2", "#N/A 表示暂缺")) as reader:
        assert reader.reader_of("合同") == "calamine"
        value = list(reader.rows("合同"))[1][2]
        assert value == "#N/A 表示暂缺" and not isinstance(value, CellError)


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


def rewrite_part(path: Path, part: str, change: Any) -> None:
    """The workbook with one part of its archive changed (what no spreadsheet program would write)."""
    import zipfile

    with zipfile.ZipFile(path) as archive:
        parts = {info.filename: archive.read(info) for info in archive.infolist()}
    parts[part] = change(parts[part])
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)


def test_an_error_of_any_name_is_an_error(tmp_path: Path) -> None:
    """Newer Excel and other programs have errors beyond the classic seven (#SPILL!, LibreOffice's Err:502):
    the cell's type says it is one, whatever it shows."""
    path = write_sample(tmp_path / "ledger.xlsx", error=True)
    rewrite_part(path, "xl/worksheets/sheet1.xml", lambda xml: xml.replace(b"#DIV/0!", b"Err:502"))
    with open_workbook(path) as book:
        value = list(book.rows("住户"))[5][6]
    assert value == "Err:502" and isinstance(value, CellError)


@pytest.mark.parametrize("far", ["XFD1", "A1048576", "XFD1048576"])
def test_a_stray_value_far_away_is_read_without_laying_out_the_empty_grid(tmp_path: Path, far: str) -> None:
    """One value typed after Ctrl+→ or Ctrl+↓: a grid from A1 to there would need gigabytes (calamine
    builds it before anything can be checked, and the process dies). Only the cells that exist are read;
    a small sheet's grid is laid out as usual."""
    path = write_sample(tmp_path / "ledger.xlsx")
    book = openpyxl.load_workbook(path)
    for number in range(9, 1000):  # a ledger of a thousand rows: XFD1 alone makes that 16 million cells
        book["住户"].cell(number, 1, f"1-1-{number}")
    book["住户"][far] = "误输入"
    book.save(path)
    with open_workbook(path) as reader:
        assert reader.reader_of("住户") == "openpyxl"
        found = [
            (number, column, value)
            for number, row in enumerate(reader.rows("住户"), start=1)
            for column, value in enumerate(row, start=1)
            if value == "误输入"
        ]
        assert reader.reader_of("合同") == "calamine"
    cell = openpyxl.utils.cell.coordinate_from_string(far)
    assert found == [(cell[1], openpyxl.utils.cell.column_index_from_string(cell[0]), "误输入")]


def test_a_small_sheet_with_a_far_value_is_still_read_fast(tmp_path: Path) -> None:
    with open_workbook(sample_with(tmp_path, "合同", "XFD3", "远处")) as reader:
        assert reader.reader_of("合同") == "calamine"
        assert list(reader.rows("合同"))[2][16383] == "远处"


def test_a_damaged_sheet_is_said_not_crashed(tmp_path: Path) -> None:
    import zipfile

    path = write_sample(tmp_path / "ledger.xlsx")
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("xl/worksheets/sheet1.xml")
    # Scramble the middle of the sheet's compressed bytes; the archive's directory stays intact.
    start = info.header_offset + 30 + len(info.filename) + 10
    data[start : start + 40] = bytes(range(40))
    path.write_bytes(bytes(data))
    with pytest.raises(SheetFileError), open_workbook(path) as book:
        list(book.rows("住户"))


@pytest.mark.parametrize(
    ("cell", "far"),
    [
        (b'<c r="C4"', b'<c r="XFD1048576"'),  # a far cell in a row that is not the last
        (b'<c r="C4"', b'<c r="xfd4000"'),  # lower-case column letters
        (b'<c r="C4"', b'<c r="AAAA1001"'),  # more letters than Excel has columns
        (b'<c r="C4"', b'<c r = "XFD4000"'),  # spaces around the equals sign
    ],
    ids=["row-not-last", "lower-case", "four-letters", "spaced"],
)
def test_a_far_cell_written_any_way_keeps_the_sheet_from_the_grid_reader(
    tmp_path: Path, cell: bytes, far: bytes
) -> None:
    """Layouts no spreadsheet program writes but calamine still places: each would have it lay out tens of
    millions of cells (or abort), so the exact reader takes the sheet. Only the choice is asserted: calling
    calamine on them is what must not happen."""
    path = write_sample(tmp_path / "ledger.xlsx")
    rewrite_part(path, "xl/worksheets/sheet1.xml", lambda xml: xml.replace(cell, far, 1))
    with open_workbook(path) as book:
        assert book.reader_of("住户") == "openpyxl"
        assert book.reader_of("合同") == "calamine"


def test_east_asian_builtin_date_formats_are_dates_with_either_reader(tmp_path: Path) -> None:
    """Chinese Excel and WPS store 2024年3月1日 as built-in format 31, which openpyxl does not know as a date.
    A sheet read by openpyxl (here: because of an error cell) still gives the date, as calamine does."""

    def builtin_31(styles: bytes) -> bytes:
        import re

        # The sample's Chinese date is the workbook's second own format (165): make it built-in 31.
        styles = re.sub(rb'<numFmt numFmtId="165"[^>]*/>', b"", styles)
        return styles.replace(b'numFmtId="165"', b'numFmtId="31"')

    for error in (False, True):
        path = write_sample(tmp_path / f"ledger-{error}.xlsx", error=error)
        rewrite_part(path, "xl/styles.xml", builtin_31)
        with open_workbook(path) as book:
            assert book.reader_of("住户") == ("openpyxl" if error else "calamine")
            assert plain(list(book.rows("住户"))[5][2]) == datetime(2024, 3, 1)


def test_sheet_parts_named_in_other_ways_are_still_read(tmp_path: Path) -> None:
    """A relationship target that climbs out of xl/ and back, or differs from the part's name in case."""
    path = write_sample(tmp_path / "ledger.xlsx")
    rewrite_part(
        path,
        "xl/_rels/workbook.xml.rels",
        lambda rels: rels.replace(b"/xl/worksheets/sheet1.xml", b"../xl/worksheets/sheet1.xml").replace(
            b"/xl/worksheets/sheet2.xml", b"/xl/worksheets/SHEET2.xml"
        ),
    )
    with open_workbook(path) as book:
        assert table(book.rows("住户")) == openpyxl_table(write_sample(tmp_path / "plain.xlsx"), "住户")
        assert list(book.rows("合同"))[1] == ("1", "1-1-101")


def test_a_shared_string_that_does_not_exist_is_said_not_crashed(tmp_path: Path) -> None:
    path = write_sample(tmp_path / "ledger.xlsx")
    rewrite_part(
        path,
        "xl/worksheets/sheet1.xml",
        lambda xml: xml.replace(
            '<c r="C3" t="inlineStr"><is><t>房号</t></is></c>'.encode(), b'<c r="C3" t="s"><v>999</v></c>'
        ),
    )
    with open_workbook(path) as book, pytest.raises(SheetFileError):
        list(book.rows("住户"))
