"""The repairs ledger (维修台账) as an .xlsx: one row per work order, then a statistics sheet (by category,
month, season, building, entrance, hotspot floors, repeat units, response and completion times, satisfaction)
with charts.

Rows and figures arrive ready-made (RepairLedgerRow, services.workorders.RepairStatistics); totals are
written as numbers, not formulas, for the same reason as the rent ledger: whatever reads the file without
recalculating it must still see them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from yuexiu_desk.domain.money import fen_to_decimal
from yuexiu_desk.errors import UserError
from yuexiu_desk.export.household_template import DATE_FORMAT
from yuexiu_desk.files import write_atomically

if TYPE_CHECKING:
    from yuexiu_desk.services.workorders import RepairStatistics


@dataclass(frozen=True, slots=True)
class RepairLedgerRow:
    number: str
    reported_on: date
    place: str
    channel: str
    category: str
    urgency: str
    description: str
    assignee: str
    status: str
    response_hours: float | None
    completion_hours: float | None
    labour: str
    materials: str
    cost_fen: int
    payer: str
    satisfaction: int | None
    reopen_count: int


LEDGER_SHEET = "维修台账"
STATS_SHEET = "统计"
HEADERS: tuple[str, ...] = (
    "维修单号",
    "报修日期",
    "房号/位置",
    "渠道",
    "类别",
    "紧急程度",
    "报修内容",
    "维修人员/单位",
    "状态",
    "响应用时(小时)",
    "完工用时(小时)",
    "人工",
    "材料",
    "费用(元)",
    "费用承担",
    "满意度",
    "返修次数",
)
_WIDTHS = (20, 12, 16, 8, 9, 8, 30, 14, 12, 10, 10, 16, 20, 10, 12, 7, 7)
COST_COLUMN = 14
MONEY_FORMAT = "#,##0.00"
TITLE_ROW, HEADER_ROW, FIRST_DATA_ROW = 1, 2, 3
TOTAL_LABEL = "合计"
_FONT = "等线"
_NOT_PLAIN_TEXT = ("=", "#")


def write_repair_ledger(
    rows: Sequence[RepairLedgerRow], stats: RepairStatistics, station_name: str, out: Path
) -> int:
    """Write the ledger and its statistics to out (.xlsx), whole or not at all; returns the rows written."""
    if out.suffix.lower() != ".xlsx":
        raise UserError(f"台账文件“{out.name}”应以 .xlsx 结尾。")

    def render(handle: BinaryIO) -> None:
        from openpyxl import Workbook

        book = Workbook()
        ledger = book.active
        ledger.title = LEDGER_SHEET
        _fill_ledger(ledger, rows, stats, station_name)
        _fill_stats(book.create_sheet(STATS_SHEET), stats, station_name)
        book.save(handle)

    write_atomically(out, render, "维修台账")
    return len(rows)


def _header(sheet: Any, row: int, headers: Sequence[str]) -> None:
    from openpyxl.styles import Alignment, Font, PatternFill

    for column, text in enumerate(headers, start=1):
        cell = sheet.cell(row=row, column=column, value=text)
        cell.font = Font(name=_FONT, bold=True)
        cell.fill = PatternFill("solid", fgColor="DDEBF7")
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)


def _fill_ledger(
    sheet: Any, rows: Sequence[RepairLedgerRow], stats: RepairStatistics, station_name: str
) -> None:
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    for index, width in enumerate(_WIDTHS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    title = sheet.cell(
        row=TITLE_ROW, column=1, value=f"{station_name} 维修台账（{stats.start} 至 {stats.end}）"
    )
    title.font = Font(name=_FONT, size=14, bold=True)
    _header(sheet, HEADER_ROW, HEADERS)
    sheet.freeze_panes = f"A{FIRST_DATA_ROW}"
    total_fen = 0
    for offset, r in enumerate(rows):
        excel_row = FIRST_DATA_ROW + offset
        values: list[Any] = [
            r.number,
            r.reported_on,
            r.place,
            r.channel,
            r.category,
            r.urgency,
            r.description,
            r.assignee,
            r.status,
            r.response_hours,
            r.completion_hours,
            r.labour,
            r.materials,
            fen_to_decimal(r.cost_fen),
            r.payer,
            r.satisfaction,
            r.reopen_count,
        ]
        for column, value in enumerate(values, start=1):
            cell = sheet.cell(row=excel_row, column=column, value=value)
            if isinstance(value, str) and value[:1] in _NOT_PLAIN_TEXT:
                # openpyxl would store "=…" as a formula and "#N/A" as an error: keep what the clerk typed.
                cell.data_type = "s"
            elif column == 2:
                cell.number_format = DATE_FORMAT
            elif column == COST_COLUMN:
                cell.number_format = MONEY_FORMAT
        total_fen += r.cost_fen
    total_row = FIRST_DATA_ROW + len(rows)
    bold = Font(name=_FONT, bold=True)
    sheet.cell(row=total_row, column=1, value=TOTAL_LABEL).font = bold
    sheet.cell(row=total_row, column=2, value=f"共 {len(rows)} 单").font = bold
    cost = sheet.cell(row=total_row, column=COST_COLUMN, value=fen_to_decimal(total_fen))
    cost.font, cost.number_format = bold, MONEY_FORMAT
    last = max(total_row - 1, HEADER_ROW)
    sheet.auto_filter.ref = f"A{HEADER_ROW}:{get_column_letter(len(HEADERS))}{last}"


def _fill_stats(sheet: Any, stats: RepairStatistics, station_name: str) -> None:
    """Blocks of figures one below the other, each with a title; charts to the right."""
    from openpyxl.chart import BarChart, LineChart, Reference
    from openpyxl.styles import Font

    sheet.column_dimensions["A"].width = 22
    for letter in "BCDE":
        sheet.column_dimensions[letter].width = 14
    sheet.cell(row=1, column=1, value=f"{station_name} 维修统计（{stats.start} 至 {stats.end}）").font = Font(
        name=_FONT, size=14, bold=True
    )
    row = 3

    def block(title: str, headers: Sequence[str], lines: Sequence[Sequence[Any]]) -> tuple[int, int]:
        nonlocal row
        sheet.cell(row=row, column=1, value=title).font = Font(name=_FONT, bold=True, size=12)
        _header(sheet, row + 1, headers)
        first = row + 2
        for offset, line in enumerate(lines):
            for column, value in enumerate(line, start=1):
                cell = sheet.cell(row=first + offset, column=column, value=value)
                if isinstance(value, float):
                    cell.number_format = "0.0"
        start_row, row = first, first + len(lines) + 1
        return start_row, first + len(lines) - 1

    def hours(value: float | None) -> float | None:
        return None if value is None else round(value, 1)

    block(
        "总体",
        ("指标", "数值"),
        [
            ("报修单数", stats.orders),
            ("未完成", stats.open_orders),
            ("已回访关闭", stats.closed_orders),
            ("公共区域", stats.public_area_orders),
            ("有返修的单数", stats.reopened_orders),
            ("维修费用合计(元)", fen_to_decimal(stats.cost_fen)),
            ("平均响应用时(小时)", hours(stats.avg_response_hours)),
            ("平均完工用时(小时)", hours(stats.avg_completion_hours)),
            ("响应超时单数", stats.response_breaches),
            ("完工超时单数", stats.completion_breaches),
            ("已回访单数", stats.followed_up),
            ("平均满意度(1-5)", hours(stats.avg_satisfaction)),
        ],
    )
    first, last = block(
        "按类别",
        ("类别", "单数", "费用(元)", "平均满意度"),
        [
            (f.category.label, f.orders, fen_to_decimal(f.cost_fen), hours(f.avg_satisfaction))
            for f in stats.by_category
        ],
    )
    if last >= first:
        chart = BarChart()
        chart.title, chart.y_axis.title = "各类别报修单数", "单数"
        chart.add_data(Reference(sheet, min_col=2, min_row=first - 1, max_row=last), titles_from_data=True)
        chart.set_categories(Reference(sheet, min_col=1, min_row=first, max_row=last))
        chart.height, chart.width = 7.5, 16
        sheet.add_chart(chart, "G3")
    first, last = block("按月份", ("月份", "单数"), stats.by_month)
    if last >= first:
        line = LineChart()
        line.title, line.y_axis.title = "每月报修单数", "单数"
        line.add_data(Reference(sheet, min_col=2, min_row=first - 1, max_row=last), titles_from_data=True)
        line.set_categories(Reference(sheet, min_col=1, min_row=first, max_row=last))
        line.height, line.width = 7.5, 16
        sheet.add_chart(line, "G20")
    block("按季节", ("季节", "单数"), stats.by_season)
    block("按紧急程度", ("紧急程度", "单数"), [(u.label, n) for u, n in stats.by_urgency])
    block("按楼栋", ("楼栋", "单数", "涉及户数"), [(p.place, p.orders, p.units) for p in stats.by_building])
    block("按单元", ("单元", "单数", "涉及户数"), [(p.place, p.orders, p.units) for p in stats.by_entrance])
    block(
        "报修最多的楼层",
        ("楼层", "单数", "涉及户数"),
        [(p.place, p.orders, p.units) for p in stats.hotspot_floors],
    )
    block(
        "重复报修房源",
        ("房号", "单数", "间隔内重复", "类别"),
        [(u.unit_code, u.orders, u.repeats, u.categories) for u in stats.repeat_units],
    )
    block(
        "回访满意度分布",
        ("满意度", "单数"),
        [(f"{score} 分", stats.satisfaction_counts.get(score, 0)) for score in range(5, 0, -1)],
    )
