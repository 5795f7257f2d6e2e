"""The quarterly inspection report as an .xlsx: a summary sheet (rounds done vs due, items checked, defects by
kind and by building, hazards opened / closed / overdue) and one detail sheet per checklist template, whose
result columns are the template's items (inspection_templates.excel_columns): an item added to the TOML is a
new column with no code change.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from yuexiu_desk.files import write_atomically
from yuexiu_desk.inspection_templates import Template, excel_columns

if TYPE_CHECKING:
    from yuexiu_desk.services.inspections import QuarterReport

SUMMARY_SHEET = "巡查汇总"
FIXED_COLUMNS = ("轮次编号", "结束日期", "检查范围", "位置")
_FONT = "等线"


def write_inspection_workbook(
    report: QuarterReport, templates: dict[str, Template], estate: str, out: Path
) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = SUMMARY_SHEET
    bold = Font(name=_FONT, bold=True)
    head_fill = PatternFill("solid", fgColor="DDDDDD")
    sheet.append([f"{estate} {report.quarter} 房屋巡查及安全检查报告"])
    sheet["A1"].font = Font(name=_FONT, bold=True, size=14)
    sheet.append([f"统计期间：{report.start.isoformat()} 至 {report.end.isoformat()}"])
    sheet.append([])
    sheet.append(["检查表", "应检轮次", "已检轮次", "完成率", "检查项次", "发现隐患"])
    for figures in report.templates:
        rate = figures.done / figures.due if figures.due else None
        sheet.append([figures.title, figures.due, figures.done, rate, figures.items_checked, figures.defects])
        sheet.cell(sheet.max_row, 4).number_format = "0.0%"
    sheet.append(
        [
            "合计",
            report.rounds_due,
            report.rounds_done,
            None,
            report.items_checked,
            sum(t.defects for t in report.templates),
        ]
    )
    sheet.append([])
    sheet.append(["隐患类别", "隐患数"])
    for kind, count in report.defects_by_kind.items():
        sheet.append([kind, count])
    sheet.append([])
    sheet.append(["楼栋", "隐患数"])
    for building, count in report.defects_by_building.items():
        sheet.append([building, count])
    sheet.append([])
    sheet.append(["本季度新增隐患", report.hazards_opened])
    sheet.append(["本季度关闭隐患", report.hazards_closed])
    sheet.append(["逾期未整改隐患", report.hazards_overdue])
    for row in sheet.iter_rows(min_row=4):
        for cell in row:
            if cell.font is None or not cell.font.bold:
                cell.font = Font(name=_FONT)
    for cell in sheet[4]:
        cell.font, cell.fill = bold, head_fill
    sheet.column_dimensions["A"].width = 28
    for template_id, rows in report.details.items():
        template = templates[template_id]
        detail = book.create_sheet(template.title[:31])
        columns = excel_columns(template)
        detail.append([*FIXED_COLUMNS, *(label for _id, label in columns)])
        for cell in detail[1]:
            cell.font, cell.fill = bold, head_fill
            cell.alignment = Alignment(wrap_text=True, vertical="center")
        for round_no, closed_on, scope_label, place_label, answers in rows:
            detail.append(
                [
                    round_no,
                    closed_on,
                    scope_label,
                    place_label,
                    *(answers.get(item_id, "") for item_id, _ in columns),
                ]
            )
            detail.cell(detail.max_row, 2).number_format = "yyyy-mm-dd"
        detail.freeze_panes = "E2"
        for index in range(1, len(FIXED_COLUMNS) + len(columns) + 1):
            detail.column_dimensions[detail.cell(1, index).column_letter].width = 14
    write_atomically(Path(out), book.save, "巡查报告")
