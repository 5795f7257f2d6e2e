"""The monthly fund report (资金报表) as an .xlsx: its figures, the check that they balance, and its three sheets.

资金报表 is the printable statement of the month (labels in column A, yuan in column B), 欠费账龄 the arrears
by age band, 收缴趋势 up to twelve months of billed against collected with a bar chart. The figures arrive
in fen from the billing services; this module adds nothing to them but the sums it prints.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from yuexiu_desk.domain.money import fen_to_decimal
from yuexiu_desk.errors import UserError
from yuexiu_desk.export.rent_ledger import MONEY_FORMAT, TOTAL_LABEL
from yuexiu_desk.files import write_atomically

if TYPE_CHECKING:
    from openpyxl.workbook.workbook import Workbook
    from openpyxl.worksheet.worksheet import Worksheet


@dataclass(frozen=True)
class FundReport:
    """One month's money at the station, in fen. Owed amounts are negative when tenants are in credit overall."""

    period_label: str  # e.g. "2026年10月"
    station_name: str
    opening_fen: int  # owed at the start of the month
    billed_fen: int
    bill_voids_fen: int  # bills voided this month: owed less
    collected_by_channel: Sequence[tuple[str, int]]  # (channel label, fen)
    payment_voids_fen: int  # receipts voided this month: owed more
    closing_fen: int  # owed at the end of the month
    arrears_by_band: Sequence[tuple[str, int, int]]  # (band label such as "1个月以内", households, fen)
    reconciled: bool  # the month's collections agree with the bank statement
    reconciled_note: str
    closed: bool  # the month is closed: its figures can no longer change
    history: Sequence[tuple[str, int, int]]  # (period label, billed fen, collected fen), oldest first

    @property
    def collected_fen(self) -> int:
        return sum(fen for _, fen in self.collected_by_channel)

    @property
    def computed_closing_fen(self) -> int:
        return (
            self.opening_fen
            + self.billed_fen
            - self.bill_voids_fen
            - self.collected_fen
            + self.payment_voids_fen
        )


REPORT_SHEET = "资金报表"
BANDS_SHEET = "欠费账龄"
TREND_SHEET = "收缴趋势"
MAX_HISTORY = 12

LABEL_OPENING = "期初欠费"
LABEL_BILLED = "加：本月应收"
LABEL_BILL_VOIDS = "减：账单作废"
LABEL_COLLECTED = "减：本月实收合计"
LABEL_PAYMENT_VOIDS = "加：收据作废"
LABEL_CLOSING = "期末欠费"
LABEL_CHECK = "核对：期初欠费 + 本月应收 − 账单作废 − 本月实收 + 收据作废"
LABEL_CHECK_RESULT = "核对结果"
LABEL_RECONCILED = "银行对账"
LABEL_NOTE = "对账说明"
LABEL_CLOSED = "结账状态"
BANDS_HEADERS = ("账龄", "户数", "欠费金额(元)", "金额占比")
TREND_HEADERS = ("月份", "应收(元)", "实收(元)", "收缴率")
PERCENT_FORMAT = "0.0%"
DRAFT_MARK = "（未结账，数字可能变动）"

_FONT = "等线"  # as in household_template: the default CJK font of current Chinese Office
_RATIO = Decimal("0.0001")  # ratios kept to 0.01 %, shown to 0.1 %


def write_fund_report(report: FundReport, out: Path) -> None:
    """Write the report to out (.xlsx), whole or not at all.

    A closing balance that does not follow from the other figures raises ValueError: the billing services
    produced inconsistent figures, which is a bug and must not reach the bureau on paper.
    """
    if out.suffix.lower() != ".xlsx":
        raise UserError(f"报表文件“{out.name}”应以 .xlsx 结尾。")
    if report.computed_closing_fen != report.closing_fen:
        raise ValueError(
            f"fund report {report.period_label} does not balance: opening {report.opening_fen} + billed "
            f"{report.billed_fen} - bill voids {report.bill_voids_fen} - collected {report.collected_fen} "
            f"+ payment voids {report.payment_voids_fen} = {report.computed_closing_fen}, "
            f"not the closing {report.closing_fen}"
        )
    if len(report.history) > MAX_HISTORY:
        raise ValueError(f"fund report history has {len(report.history)} months, at most {MAX_HISTORY}")
    book = _build_workbook(report)
    write_atomically(out, book.save, "资金报表")


class _Styles:
    """The few fonts and fills of the report, made once per workbook."""

    def __init__(self) -> None:
        from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

        self.title = Font(name=_FONT, size=14, bold=True)
        self.plain = Font(name=_FONT, size=11)
        self.bold = Font(name=_FONT, size=11, bold=True)
        self.header_fill = PatternFill("solid", fgColor="DDEBF7")
        self.header_border = Border(bottom=Side(style="thin", color="5B9BD5"))
        self.total_border = Border(top=Side(style="thin"), bottom=Side(style="double"))
        self.center = Alignment(horizontal="center", vertical="center")
        self.indented = Alignment(indent=2)
        self.wrap = Alignment(wrap_text=True, vertical="top")


def _build_workbook(report: FundReport) -> Workbook:
    from openpyxl import Workbook

    styles = _Styles()
    book = Workbook()
    first = book.active
    assert first is not None
    book.remove(first)
    title = f"{report.station_name} {report.period_label}"
    draft = "" if report.closed else DRAFT_MARK
    _report_sheet(book.create_sheet(REPORT_SHEET), report, f"{title} 资金报表{draft}", styles)
    _bands_sheet(book.create_sheet(BANDS_SHEET), report, f"{title} 欠费账龄{draft}", styles)
    _trend_sheet(book.create_sheet(TREND_SHEET), report, f"{title} 收缴趋势", styles)
    return book


def _report_sheet(sheet: Worksheet, report: FundReport, title: str, styles: _Styles) -> None:
    sheet.column_dimensions["A"].width = 58
    sheet.column_dimensions["B"].width = 20
    _line(sheet, styles.title, title)
    _line(sheet, styles.plain, "金额单位：元")
    _header(sheet, ("项目", "金额(元)"), styles)

    _amount(sheet, styles.plain, LABEL_OPENING, report.opening_fen)
    _amount(sheet, styles.plain, LABEL_BILLED, report.billed_fen)
    _amount(sheet, styles.plain, LABEL_BILL_VOIDS, report.bill_voids_fen)
    # The total of the channels listed under it, as a number rather than =SUM() for the reason given in
    # rent_ledger: a file read without recalculation would show no total.
    _amount(sheet, styles.bold, LABEL_COLLECTED, report.collected_fen)
    for index, (channel, fen) in enumerate(report.collected_by_channel):
        label, _ = _amount(sheet, styles.plain, f"其中：{channel}" if index == 0 else channel, fen)
        label.alignment = styles.indented
    _amount(sheet, styles.plain, LABEL_PAYMENT_VOIDS, report.payment_voids_fen)
    for cell in _amount(sheet, styles.bold, LABEL_CLOSING, report.closing_fen):
        cell.border = styles.total_border

    sheet.append([])
    # The check is printed so that whoever signs the paper copy sees that the month balances.
    _amount(sheet, styles.plain, LABEL_CHECK, report.computed_closing_fen)
    _line(sheet, styles.plain, LABEL_CHECK_RESULT, "与期末欠费相符")
    sheet.append([])
    _line(sheet, styles.plain, LABEL_RECONCILED, "已对账" if report.reconciled else "未对账")
    _, note = _line(sheet, styles.plain, LABEL_NOTE, "")
    _literal_text(note, report.reconciled_note or "—").alignment = styles.wrap
    _line(sheet, styles.plain, LABEL_CLOSED, "已结账" if report.closed else "未结账")
    sheet.append([])
    _line(sheet, styles.plain, "制表：", "复核：")
    _line(sheet, styles.plain, "站长：", "日期：")
    _printable(sheet, landscape=False)


def _bands_sheet(sheet: Worksheet, report: FundReport, title: str, styles: _Styles) -> None:
    for letter, width in zip("ABCD", (16, 10, 18, 12), strict=True):
        sheet.column_dimensions[letter].width = width
    _line(sheet, styles.title, title)
    header_row = _header(sheet, BANDS_HEADERS, styles)
    total_households = sum(households for _, households, _ in report.arrears_by_band)
    total_fen = sum(fen for _, _, fen in report.arrears_by_band)
    for band, households, fen in report.arrears_by_band:
        _line(sheet, styles.plain, band, households, fen_to_decimal(fen), _ratio(fen, total_fen))
        _formats(sheet, 3, MONEY_FORMAT, PERCENT_FORMAT)
    totals = _line(
        sheet,
        styles.bold,
        TOTAL_LABEL,
        total_households,
        fen_to_decimal(total_fen),
        _ratio(total_fen, total_fen),
    )
    _formats(sheet, 3, MONEY_FORMAT, PERCENT_FORMAT)
    for cell in totals:
        cell.border = styles.total_border
    sheet.freeze_panes = f"A{header_row + 1}"
    _printable(sheet, landscape=False)


def _trend_sheet(sheet: Worksheet, report: FundReport, title: str, styles: _Styles) -> None:
    from openpyxl.chart import BarChart, Reference
    from openpyxl.chart.data_source import AxDataSource, StrRef

    for letter, width in zip("ABCD", (14, 16, 16, 10), strict=True):
        sheet.column_dimensions[letter].width = width
    _line(sheet, styles.title, title)
    header_row = _header(sheet, TREND_HEADERS, styles)
    for period, billed, collected in report.history:
        _line(
            sheet,
            styles.plain,
            period,
            fen_to_decimal(billed),
            fen_to_decimal(collected),
            _ratio(collected, billed),
        )
        _formats(sheet, 2, MONEY_FORMAT, MONEY_FORMAT, PERCENT_FORMAT)
    sheet.freeze_panes = f"A{header_row + 1}"
    _printable(sheet, landscape=True)
    if not report.history:
        _line(sheet, styles.plain, "暂无往月数据。")
        return

    last_row = header_row + len(report.history)
    chart = BarChart()
    chart.type = "col"
    chart.grouping = "clustered"
    chart.title = f"近{len(report.history)}个月应收与实收"
    chart.y_axis.title = "元"
    chart.y_axis.number_format = "#,##0"
    # openpyxl 3.1 marks both axes deleted unless told otherwise, and Excel then draws no axis labels.
    chart.x_axis.delete = False
    chart.y_axis.delete = False
    chart.add_data(
        Reference(sheet, min_col=2, max_col=3, min_row=header_row, max_row=last_row), titles_from_data=True
    )
    # The months are text (2026年10月), so the categories are a string reference: set_categories would make
    # a numeric one, which a reader without recalculation shows as 1, 2, 3….
    months = Reference(sheet, min_col=1, min_row=header_row + 1, max_row=last_row)
    for series in chart.series:
        series.cat = AxDataSource(strRef=StrRef(f=str(months)))
    chart.width, chart.height = 22, 11  # cm: fits beside the table on a landscape A4 page
    sheet.add_chart(chart, "F2")


def _header(sheet: Worksheet, headers: Sequence[str], styles: _Styles) -> int:
    sheet.append(list(headers))
    row: int = sheet.max_row
    for cell in sheet[row]:
        cell.font, cell.fill, cell.border = styles.bold, styles.header_fill, styles.header_border
        cell.alignment = styles.center
    return row


def _line(sheet: Worksheet, font: Any, *values: object) -> tuple[Any, ...]:
    """Append values as a row in font; returns its cells."""
    sheet.append(list(values))
    cells = tuple(sheet[sheet.max_row][: len(values)])
    for cell in cells:
        cell.font = font
    return cells


def _amount(sheet: Worksheet, font: Any, label: str, fen: int) -> tuple[Any, ...]:
    cells = _line(sheet, font, label, fen_to_decimal(fen))
    cells[1].number_format = MONEY_FORMAT
    return cells


def _formats(sheet: Worksheet, column: int, *number_formats: str) -> None:
    """Number formats for the last row's cells, from the given column (1 = A) on."""
    for offset, number_format in enumerate(number_formats):
        sheet.cell(row=sheet.max_row, column=column + offset).number_format = number_format


def _ratio(part: int, whole: int) -> Decimal | None:
    # A share of money, not money: exact in Decimal, blank when there is nothing to divide by.
    if whole == 0:
        return None
    return (Decimal(part) / Decimal(whole)).quantize(_RATIO, rounding=ROUND_HALF_UP)


def _literal_text(cell: Any, text: str) -> Any:
    """Put text in cell as typed, where openpyxl would store =… as a formula or #N/A as an error value."""
    cell.value = text
    cell.data_type = "s"
    return cell


def _printable(sheet: Worksheet, *, landscape: bool) -> None:
    sheet.page_setup.orientation = "landscape" if landscape else "portrait"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.oddFooter.center.text = "第 &P 页，共 &N 页"
