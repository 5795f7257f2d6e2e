"""The rent ledger as the bureau's clerk opens it: title, Chinese headers, every amount back to the fen in yuan
with a money format, a totals line that is the sum of the rows, a frozen header, and a file that is written
whole or not at all."""

from __future__ import annotations

import errno
import subprocess
import sys
import tempfile
import warnings
import zipfile
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from yuexiu_desk.errors import EnvironmentProblem, UserError
from yuexiu_desk.export.rent_ledger import LedgerRow, write_rent_ledger

# The file format, spelled out here so that a change to it is a deliberate change to this test too.
HEADERS = [
    "房号",
    "承租人",
    "合同编号",
    "月租金(元)",
    "期初欠费(元)",
    "本月应收(元)",
    "本月实收(元)",
    "作废调整(元)",
    "期末欠费(元)",
    "欠费月数",
    "催缴阶段",
    "最近缴费日期",
]
MONEY_FIELDS = ("monthly_rent_fen", "opening_fen", "billed_fen", "paid_fen", "voided_fen", "closing_fen")
MONEY_COLUMNS = range(3, 9)  # 0-based positions of D..I in a row of cells
FIRST_DATA_ROW = 3


def row(
    unit: str,
    opening: int,
    billed: int,
    paid: int,
    voided: int = 0,
    *,
    rent: int = 60434,
    name: str = "张三",
    months: int = 0,
    stage: str = "正常",
    paid_on: date | None = None,
) -> LedgerRow:
    """A ledger row whose closing balance follows from the others, as the billing services produce it."""
    return LedgerRow(
        unit_code=unit,
        leaseholder=name,
        lease_no=f"YX-{unit}",
        monthly_rent_fen=rent,
        opening_fen=opening,
        billed_fen=billed,
        paid_fen=paid,
        voided_fen=voided,
        closing_fen=opening + billed - paid + voided,
        months_overdue=months,
        stage_label=stage,
        last_paid_on=paid_on,
    )


ROWS = [
    row("1-1-0101", 0, 60434, 60434, paid_on=date(2026, 10, 8)),  # paid on time
    row("1-1-0102", -10000, 52317, 0, rent=52317, paid_on=date(2026, 9, 30)),  # in credit at the start
    row(
        "1-2-1603", 120868, 60434, 60434, months=2, stage="电话催缴", name="李四", paid_on=date(2026, 10, 20)
    ),
    row("2-1-0305", 0, 60434, 60434, -60434, paid_on=date(2026, 10, 2)),  # a bill voided: owed less
    row("2-3-2204", 71250, 71250, 71250, 71250, rent=71250, months=2, stage="书面催告"),  # a receipt voided
    row("3-1-0901", 5, 0, 0, name="王小五", months=1, stage="短信提醒"),  # a fen left over, never paid
]


def data_rows(path: Path, count: int) -> list[tuple[Any, ...]]:
    book = openpyxl.load_workbook(path)
    sheet = book["租金台账"]
    return [tuple(c.value for c in r) for r in sheet.iter_rows(min_row=FIRST_DATA_ROW, max_row=2 + count)]


def yuan(value: object) -> Decimal:
    """A cell's number as Decimal yuan, the way the bureau's Excel reads it (no float noise allowed)."""
    assert isinstance(value, int | float), value
    return Decimal(str(value))


def expected_yuan(fen: int) -> Decimal:
    return Decimal(fen) / 100


@pytest.fixture
def ledger(tmp_path: Path) -> Path:
    out = tmp_path / "ledger.xlsx"
    assert write_rent_ledger(ROWS, "2026年10月", "悦秀苑服务站", out) == len(ROWS)
    return out


def test_title_headers_frozen_header_and_print_setup(ledger: Path) -> None:
    book = openpyxl.load_workbook(ledger)
    assert book.sheetnames == ["租金台账"]
    sheet = book["租金台账"]
    assert sheet["A1"].value == "悦秀苑服务站 2026年10月 租金台账"
    assert sheet["A1"].font.b
    assert [c.value for c in sheet[2]] == HEADERS
    assert all(c.font.b for c in sheet[2])
    assert sheet.freeze_panes == "A3"  # title and header stay in view
    assert sheet.print_title_rows == "$2:$2"  # and the header is printed on every page
    assert sheet.page_setup.orientation == "landscape"
    # The filter covers header and leases only, so sorting never moves the totals line.
    assert sheet.auto_filter.ref == f"A2:L{2 + len(ROWS)}"
    assert all((sheet.column_dimensions[c.column_letter].width or 0) >= 9 for c in sheet[2])


def test_every_value_reads_back_as_written(ledger: Path) -> None:
    got = data_rows(ledger, len(ROWS))
    assert len(got) == len(ROWS)
    for cells, expected in zip(got, ROWS, strict=True):
        assert cells[:3] == (expected.unit_code, expected.leaseholder, expected.lease_no)
        assert [yuan(cells[i]) for i in MONEY_COLUMNS] == [
            expected_yuan(getattr(expected, name)) for name in MONEY_FIELDS
        ]
        assert cells[9:11] == (expected.months_overdue, expected.stage_label)
        if expected.last_paid_on is None:
            assert cells[11] is None
        else:
            assert cells[11] == datetime.combine(expected.last_paid_on, datetime.min.time())


def test_amounts_are_yuan_numbers_with_a_money_format_and_dates_are_dates(ledger: Path) -> None:
    sheet = openpyxl.load_workbook(ledger)["租金台账"]
    for cells in sheet.iter_rows(min_row=FIRST_DATA_ROW, max_row=3 + len(ROWS)):  # the leases and the totals
        for index in MONEY_COLUMNS:
            assert cells[index].data_type == "n"
            assert cells[index].number_format == "#,##0.00"
    for cells in sheet.iter_rows(min_row=FIRST_DATA_ROW, max_row=2 + len(ROWS)):
        assert cells[0].data_type == "s"  # 1-1-0101 stays text, never a date or a sum
        if cells[11].value is not None:
            assert cells[11].is_date
            assert cells[11].number_format == "yyyy-mm-dd"
    # The value of 604.34 yuan is stored as written, not as 604.3399999…
    with zipfile.ZipFile(ledger) as archive:
        xml = archive.read("xl/worksheets/sheet1.xml").decode()
    assert "<v>604.34</v>" in xml


def test_the_totals_line_is_the_sum_of_the_rows(ledger: Path) -> None:
    sheet = openpyxl.load_workbook(ledger)["租金台账"]
    rows = [tuple(c.value for c in r) for r in sheet.iter_rows(min_row=FIRST_DATA_ROW)]
    leases, totals, note = rows[: len(ROWS)], rows[len(ROWS)], rows[len(ROWS) + 1]
    assert totals[:3] == ("合计", f"共 {len(ROWS)} 条", None)
    for index, name in zip(MONEY_COLUMNS, MONEY_FIELDS, strict=True):
        # As a number (a formula would read back as text and show nothing in a viewer that does not
        # recalculate), equal both to the column's cells and to the fen it came from.
        assert yuan(totals[index]) == sum(yuan(r[index]) for r in leases)
        assert yuan(totals[index]) == expected_yuan(sum(getattr(r, name) for r in ROWS))
    assert totals[9:] == (None, None, None)
    assert "负数表示预交" in str(note[0])
    assert len(rows) == len(ROWS) + 2  # nothing after the note


def test_formula_and_error_lookalikes_in_names_stay_text(tmp_path: Path) -> None:
    """A name typed as =1+1 or #N/A must not become a formula (a bureau clerk's Excel would run it)."""
    out = tmp_path / "ledger.xlsx"
    rows = [row("1-1-0101", 0, 100, 0, name="=1+1"), row("1-1-0102", 0, 100, 0, name="#N/A")]
    write_rent_ledger(rows, "2026年10月", "悦秀苑服务站", out)
    sheet = openpyxl.load_workbook(out)["租金台账"]
    assert [(sheet.cell(r, 2).value, sheet.cell(r, 2).data_type) for r in (3, 4)] == [
        ("=1+1", "s"),
        ("#N/A", "s"),
    ]


def test_many_rows_each_keep_their_own_values(tmp_path: Path) -> None:
    """The writer reuses its styled cells from row to row; every row must still carry its own amounts."""
    rows = [
        row(f"{i % 9 + 1}-1-{i:04d}", (i * 7919) % 200000 - 50000, 60000 + i, (i * 104729) % 90000, i % 3 - 1)
        for i in range(1500)
    ]
    out = tmp_path / "big.xlsx"
    assert write_rent_ledger(iter(rows), "2026年10月", "悦秀苑服务站", out) == len(rows)
    got = data_rows(out, len(rows))
    assert [r[0] for r in got] == [r.unit_code for r in rows]
    assert [[yuan(r[i]) for i in MONEY_COLUMNS] for r in got] == [
        [expected_yuan(getattr(r, name)) for name in MONEY_FIELDS] for r in rows
    ]


amounts = st.integers(min_value=-(10**11), max_value=10**11)  # up to a thousand million yuan either way


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(amounts, amounts, amounts, amounts, amounts), min_size=1, max_size=8))
def test_any_amounts_come_back_exact_to_the_fen(tmp_path: Path, values: list[tuple[int, ...]]) -> None:
    rows = [
        row(f"1-1-{i:04d}", opening, billed, paid, voided, rent=rent)
        for i, (rent, opening, billed, paid, voided) in enumerate(values)
    ]
    out = tmp_path / "ledger.xlsx"
    write_rent_ledger(rows, "2026年10月", "悦秀苑服务站", out)
    got = data_rows(out, len(rows) + 1)
    for cells, expected in zip(got, rows, strict=False):
        assert [yuan(cells[i]) for i in MONEY_COLUMNS] == [
            expected_yuan(getattr(expected, name)) for name in MONEY_FIELDS
        ]
    assert [yuan(got[-1][i]) for i in MONEY_COLUMNS] == [
        expected_yuan(sum(getattr(r, name) for r in rows)) for name in MONEY_FIELDS
    ]


def test_an_empty_month_still_has_title_header_and_zero_totals(tmp_path: Path) -> None:
    out = tmp_path / "empty.xlsx"
    assert write_rent_ledger([], "2026年10月", "悦秀苑服务站", out) == 0
    sheet = openpyxl.load_workbook(out)["租金台账"]
    assert [c.value for c in sheet[2]] == HEADERS
    totals = [c.value for c in sheet[3]]
    assert totals[:2] == ["合计", "共 0 条"]
    assert [yuan(totals[i]) for i in MONEY_COLUMNS] == [Decimal(0)] * 6


def test_the_file_is_a_clean_xlsx(ledger: Path) -> None:
    with zipfile.ZipFile(ledger) as archive:
        assert archive.testzip() is None
        assert "xl/workbook.xml" in archive.namelist()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        openpyxl.load_workbook(ledger)
        book = openpyxl.load_workbook(ledger, read_only=True)  # how an importer would open it
        assert len(list(book["租金台账"].iter_rows(values_only=True))) == len(ROWS) + 4
        book.close()
    assert caught == []


def test_a_row_that_does_not_balance_is_a_bug_and_nothing_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scratch = tmp_path / "tmp"  # where openpyxl keeps the rows until the workbook is saved
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    out = tmp_path / "out" / "ledger.xlsx"
    broken = LedgerRow("1-1-0101", "张三", "YX-1", 60434, 0, 60434, 0, 0, 60433, 1, "短信提醒", None)
    with pytest.raises(ValueError, match="does not balance"):
        write_rent_ledger([*ROWS, broken], "2026年10月", "悦秀苑服务站", out)
    assert list(out.parent.iterdir()) == []
    assert list(scratch.iterdir()) == []


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from openpyxl.workbook.workbook import Workbook

    out = tmp_path / "ledger.xlsx"
    out.write_bytes(b"old")

    def full_disk(self: Workbook, target: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Workbook, "save", full_disk)
    with pytest.raises(EnvironmentProblem, match="无法保存租金台账") as caught:
        write_rent_ledger(ROWS, "2026年10月", "悦秀苑服务站", out)
    assert "No space left on device" in caught.value.message
    assert out.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["ledger.xlsx"]


def test_a_read_only_folder_gives_the_clerk_one_sentence_and_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The tests run as root, for whom chmod does not make a folder read-only, so the refusal the OS gives
    a clerk is injected where it would happen: creating the new file in that folder."""
    import yuexiu_desk.files

    folder = tmp_path / "只读"
    folder.mkdir()

    def refuse(path: Path, mode: str = "r", *args: object, **kwargs: object) -> object:
        if Path(path).parent == folder:
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return open(path, mode, *args, **kwargs)

    monkeypatch.setattr(yuexiu_desk.files, "open", refuse, raising=False)
    with pytest.raises(EnvironmentProblem, match=r"无法保存租金台账.*Permission denied.*写入权限"):
        write_rent_ledger(ROWS, "2026年10月", "悦秀苑服务站", folder / "ledger.xlsx")
    assert list(folder.iterdir()) == []


def test_a_missing_folder_is_created_but_a_file_in_the_way_is_an_environment_problem(tmp_path: Path) -> None:
    nested = tmp_path / "报表" / "2026" / "ledger.xlsx"
    assert write_rent_ledger(ROWS, "2026年10月", "悦秀苑服务站", nested) == len(ROWS)
    assert openpyxl.load_workbook(nested).sheetnames == ["租金台账"]

    blocker = tmp_path / "file"
    blocker.write_text("", encoding="utf-8")
    with pytest.raises(EnvironmentProblem, match="无法保存租金台账"):
        write_rent_ledger(ROWS, "2026年10月", "悦秀苑服务站", blocker / "ledger.xlsx")
    assert blocker.read_text(encoding="utf-8") == ""


def test_only_xlsx_targets(tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"\.xlsx"):
        write_rent_ledger(ROWS, "2026年10月", "悦秀苑服务站", tmp_path / "ledger.xls")
    assert list(tmp_path.iterdir()) == []


def test_openpyxl_is_loaded_only_when_a_ledger_is_written() -> None:
    code = "import sys\nimport yuexiu_desk.export.rent_ledger\nprint('openpyxl' in sys.modules)\n"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
