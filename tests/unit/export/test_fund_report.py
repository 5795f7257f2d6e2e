"""The fund report as the finance clerk prints it and the bureau reads it: the month's figures in yuan with a
money format, collections by channel adding up to their total, the balance check, the arrears bands, and
the trend sheet with its bar chart of billed against collected."""

from __future__ import annotations

import errno
import subprocess
import sys
import warnings
import zipfile
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from yuexiu_desk.errors import EnvironmentProblem, UserError
from yuexiu_desk.export.fund_report import FundReport, write_fund_report

CHANNELS = [("现金", 1_208_680), ("银行转账", 5_439_060), ("微信", 966_944), ("支付宝", 120_868)]
HISTORY = [(f"2025年{m}月", 11_000_000 + m * 1234, 10_500_000 + m * 999) for m in (11, 12)] + [
    (f"2026年{m}月", 11_600_000 + m * 1234, 10_900_000 + m * 999) for m in range(1, 11)
]
BANDS = [
    ("1个月以内", 12, 725_208),
    ("1-3个月", 5, 604_340),
    ("3-6个月", 2, 362_604),
    ("6个月以上", 1, 241_736),
]


def make_report(**changes: Any) -> FundReport:
    opening, billed, bill_voids, payment_voids = 1_812_950, 11_724_196, 60_434, 52_317
    collected = sum(fen for _, fen in CHANNELS)
    report = FundReport(
        period_label="2026年10月",
        station_name="悦秀苑服务站",
        opening_fen=opening,
        billed_fen=billed,
        bill_voids_fen=bill_voids,
        collected_by_channel=CHANNELS,
        payment_voids_fen=payment_voids,
        closing_fen=opening + billed - bill_voids - collected + payment_voids,
        arrears_by_band=BANDS,
        reconciled=True,
        reconciled_note="与建设银行10月对账单核对一致",
        closed=True,
        history=HISTORY,
    )
    return replace(report, **changes)


REPORT = make_report()


def yuan(value: object) -> Decimal:
    assert isinstance(value, int | float), value
    return Decimal(str(value))


def in_yuan(fen: int) -> Decimal:
    return Decimal(fen) / 100


def lines(sheet: Any) -> dict[str, Any]:
    """Column A → the cell in column B of 资金报表 (labels are unique on the sheet)."""
    found = {row[0].value: row[1] for row in sheet.iter_rows(min_row=1, max_col=2) if row[0].value}
    assert len(found) == len([r for r in sheet.iter_rows(max_col=1) if r[0].value])
    return found


@pytest.fixture
def report_file(tmp_path: Path) -> Path:
    out = tmp_path / "fund.xlsx"
    write_fund_report(REPORT, out)
    return out


def test_three_sheets_with_chinese_titles(report_file: Path) -> None:
    book = openpyxl.load_workbook(report_file)
    assert book.sheetnames == ["资金报表", "欠费账龄", "收缴趋势"]
    assert book["资金报表"]["A1"].value == "悦秀苑服务站 2026年10月 资金报表"
    assert book["欠费账龄"]["A1"].value == "悦秀苑服务站 2026年10月 欠费账龄"
    assert book["收缴趋势"]["A1"].value == "悦秀苑服务站 2026年10月 收缴趋势"
    assert [c.value for c in book["资金报表"][3]] == ["项目", "金额(元)"]


def test_the_report_reads_back_figure_by_figure(report_file: Path) -> None:
    sheet = openpyxl.load_workbook(report_file)["资金报表"]
    got = lines(sheet)
    collected = sum(fen for _, fen in CHANNELS)
    expected = {
        "期初欠费": REPORT.opening_fen,
        "加：本月应收": REPORT.billed_fen,
        "减：账单作废": REPORT.bill_voids_fen,
        "减：本月实收合计": collected,
        "其中：现金": 1_208_680,
        "银行转账": 5_439_060,
        "微信": 966_944,
        "支付宝": 120_868,
        "加：收据作废": REPORT.payment_voids_fen,
        "期末欠费": REPORT.closing_fen,
        "核对：期初欠费 + 本月应收 − 账单作废 − 本月实收 + 收据作废": REPORT.closing_fen,
    }
    for label, fen in expected.items():
        cell = got[label]
        assert yuan(cell.value) == in_yuan(fen), label
        assert cell.data_type == "n", label
        assert cell.number_format == "#,##0.00", label
    # The channels sit, in order, right under their total, and add up to it.
    labels = [row[0].value for row in sheet.iter_rows(min_row=1, max_col=1)]
    start = labels.index("减：本月实收合计") + 1
    assert labels[start : start + len(CHANNELS)] == ["其中：现金", "银行转账", "微信", "支付宝"]
    channel_cells = [got[label] for label in labels[start : start + len(CHANNELS)]]
    assert sum(yuan(c.value) for c in channel_cells) == yuan(got["减：本月实收合计"].value)
    # The check line is the arithmetic of the lines above it, and matches the closing balance.
    check = (
        yuan(got["期初欠费"].value)
        + yuan(got["加：本月应收"].value)
        - yuan(got["减：账单作废"].value)
        - yuan(got["减：本月实收合计"].value)
        + yuan(got["加：收据作废"].value)
    )
    assert check == yuan(got["期末欠费"].value)
    assert got["核对结果"].value == "与期末欠费相符"
    assert got["银行对账"].value == "已对账"
    assert got["对账说明"].value == "与建设银行10月对账单核对一致"
    assert got["结账状态"].value == "已结账"
    assert got["期末欠费"].font.b and got["减：本月实收合计"].font.b
    assert {"制表：", "站长："} <= set(got)  # signature lines for the printed copy


def test_an_open_month_is_marked_as_a_draft_and_an_unreconciled_one_says_so(tmp_path: Path) -> None:
    out = tmp_path / "draft.xlsx"
    write_fund_report(make_report(closed=False, reconciled=False, reconciled_note="=差额 52.00 元待查"), out)
    book = openpyxl.load_workbook(out)
    assert book["资金报表"]["A1"].value == "悦秀苑服务站 2026年10月 资金报表（未结账，数字可能变动）"
    assert book["欠费账龄"]["A1"].value == "悦秀苑服务站 2026年10月 欠费账龄（未结账，数字可能变动）"
    got = lines(book["资金报表"])
    assert got["结账状态"].value == "未结账"
    assert got["银行对账"].value == "未对账"
    # The clerk's note is text even when it starts with = (it must not become a formula).
    assert (got["对账说明"].value, got["对账说明"].data_type) == ("=差额 52.00 元待查", "s")


def test_a_closing_balance_that_does_not_follow_is_a_bug_and_nothing_is_written(tmp_path: Path) -> None:
    out = tmp_path / "fund.xlsx"
    with pytest.raises(ValueError, match="does not balance"):
        write_fund_report(make_report(closing_fen=REPORT.closing_fen + 1), out)
    with pytest.raises(ValueError, match="does not balance"):
        write_fund_report(make_report(collected_by_channel=[*CHANNELS, ("现金", 1)]), out)
    assert list(tmp_path.iterdir()) == []


def test_arrears_bands_and_their_totals(report_file: Path) -> None:
    sheet = openpyxl.load_workbook(report_file)["欠费账龄"]
    assert [c.value for c in sheet[2]] == ["账龄", "户数", "欠费金额(元)", "金额占比"]
    assert sheet.freeze_panes == "A3"
    rows = list(sheet.iter_rows(min_row=3))
    assert len(rows) == len(BANDS) + 1
    total_fen = sum(fen for _, _, fen in BANDS)
    for cells, (band, households, fen) in zip(rows, BANDS, strict=False):
        assert (cells[0].value, cells[1].value) == (band, households)
        assert yuan(cells[2].value) == in_yuan(fen)
        assert cells[2].number_format == "#,##0.00"
        assert yuan(cells[3].value) == (Decimal(fen) / total_fen).quantize(Decimal("0.0001"))
        assert cells[3].number_format == "0.0%"
    totals = rows[-1]
    assert totals[0].value == "合计"
    assert totals[1].value == sum(r[1].value for r in rows[:-1]) == 20
    assert yuan(totals[2].value) == sum(yuan(r[2].value) for r in rows[:-1]) == in_yuan(total_fen)
    assert totals[2].number_format == "#,##0.00"
    assert yuan(totals[3].value) == 1


def test_trend_table_and_bar_chart_of_billed_against_collected(report_file: Path) -> None:
    sheet = openpyxl.load_workbook(report_file)["收缴趋势"]
    assert [c.value for c in sheet[2]] == ["月份", "应收(元)", "实收(元)", "收缴率"]
    rows = list(sheet.iter_rows(min_row=3, max_col=4))
    assert len(rows) == len(HISTORY) == 12
    for cells, (period, billed, collected) in zip(rows, HISTORY, strict=True):
        assert cells[0].value == period
        assert [yuan(cells[1].value), yuan(cells[2].value)] == [in_yuan(billed), in_yuan(collected)]
        assert [cells[1].number_format, cells[2].number_format] == ["#,##0.00", "#,##0.00"]
        assert yuan(cells[3].value) == (Decimal(collected) / billed).quantize(Decimal("0.0001"))

    (chart,) = sheet._charts
    assert chart.tagname == "barChart" and chart.type == "col"
    assert len(chart.series) == 2
    last = 2 + len(HISTORY)
    assert [s.val.numRef.f for s in chart.series] == [
        f"'收缴趋势'!$B$3:$B${last}",
        f"'收缴趋势'!$C$3:$C${last}",
    ]
    assert [s.cat.strRef.f for s in chart.series] == [f"'收缴趋势'!$A$3:$A${last}"] * 2
    assert [s.tx.strRef.f for s in chart.series] == ["'收缴趋势'!B2", "'收缴趋势'!C2"]  # 应收(元), 实收(元)
    assert chart.x_axis.delete is False and chart.y_axis.delete is False


def test_without_history_there_is_no_chart_and_more_than_twelve_months_is_a_bug(tmp_path: Path) -> None:
    out = tmp_path / "fund.xlsx"
    write_fund_report(make_report(history=[]), out)
    sheet = openpyxl.load_workbook(out)["收缴趋势"]
    assert sheet._charts == []
    assert sheet["A3"].value == "暂无往月数据。"
    with pytest.raises(ValueError, match="at most 12"):
        write_fund_report(make_report(history=[*HISTORY, ("2026年11月", 1, 1)]), out)


def test_a_month_with_nothing_collected_and_no_arrears(tmp_path: Path) -> None:
    out = tmp_path / "fund.xlsx"
    write_fund_report(
        make_report(
            opening_fen=-5000,
            billed_fen=0,
            bill_voids_fen=0,
            collected_by_channel=[],
            payment_voids_fen=0,
            closing_fen=-5000,
            arrears_by_band=[],
            history=[("2026年10月", 0, 0)],
        ),
        out,
    )
    book = openpyxl.load_workbook(out)
    got = lines(book["资金报表"])
    assert yuan(got["期初欠费"].value) == yuan(got["期末欠费"].value) == Decimal("-50")
    assert yuan(got["减：本月实收合计"].value) == 0
    assert "其中：现金" not in got
    bands = [[c.value for c in r] for r in book["欠费账龄"].iter_rows(min_row=3)]
    assert bands == [["合计", 0, 0, None]]  # no share of nothing
    assert [c.value for c in book["收缴趋势"][3]] == ["2026年10月", 0, 0, None]


def test_the_file_is_a_clean_xlsx(report_file: Path) -> None:
    with zipfile.ZipFile(report_file) as archive:
        assert archive.testzip() is None
        assert any(name.startswith("xl/charts/chart") for name in archive.namelist())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        openpyxl.load_workbook(report_file)
    assert caught == []


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from openpyxl.workbook.workbook import Workbook

    out = tmp_path / "fund.xlsx"
    out.write_bytes(b"old")

    def full_disk(self: Workbook, target: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Workbook, "save", full_disk)
    with pytest.raises(EnvironmentProblem, match="无法保存资金报表") as caught:
        write_fund_report(REPORT, out)
    assert "No space left on device" in caught.value.message
    assert out.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["fund.xlsx"]


def test_a_read_only_folder_gives_the_clerk_one_sentence_and_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As in test_rent_ledger: the tests run as root, so the OS's refusal is injected where it happens."""
    import yuexiu_desk.files

    folder = tmp_path / "只读"
    folder.mkdir()

    def refuse(path: Path, mode: str = "r", *args: object, **kwargs: object) -> object:
        if Path(path).parent == folder:
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return open(path, mode, *args, **kwargs)

    monkeypatch.setattr(yuexiu_desk.files, "open", refuse, raising=False)
    with pytest.raises(EnvironmentProblem, match=r"无法保存资金报表.*Permission denied.*写入权限"):
        write_fund_report(REPORT, folder / "fund.xlsx")
    assert list(folder.iterdir()) == []


def test_bad_targets(tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"\.xlsx"):
        write_fund_report(REPORT, tmp_path / "fund.csv")
    blocker = tmp_path / "file"
    blocker.write_text("", encoding="utf-8")
    with pytest.raises(EnvironmentProblem, match="无法保存资金报表"):
        write_fund_report(REPORT, blocker / "fund.xlsx")
    nested = tmp_path / "报表" / "2026" / "fund.xlsx"  # a missing folder is made
    write_fund_report(REPORT, nested)
    assert openpyxl.load_workbook(nested).sheetnames == ["资金报表", "欠费账龄", "收缴趋势"]


def test_openpyxl_is_loaded_only_when_a_report_is_written() -> None:
    code = "import sys\nimport yuexiu_desk.export.fund_report\nprint('openpyxl' in sys.modules)\n"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
