"""The quarterly inspection report (季度巡查报告) as an A4 PDF: the figures, a bar chart of rounds done against
due per checklist, defects by kind and by building, and the hazards opened, closed and overdue.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO
from xml.sax.saxutils import escape

from yuexiu_desk.files import write_atomically
from yuexiu_desk.printing.fonts import cjk_font

if TYPE_CHECKING:
    from yuexiu_desk.services.inspections import QuarterReport

PT_PER_MM = 72 / 25.4


def write_inspection_report(report: QuarterReport, estate: str, out: Path) -> int:
    """Write the report to out (atomically); return the number of pages."""
    font = cjk_font()
    pages = 0

    def render(handle: BinaryIO) -> None:
        nonlocal pages
        from reportlab.lib import colors
        from reportlab.lib.pagesizes import A4
        from reportlab.lib.styles import ParagraphStyle
        from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

        title = f"{estate} {report.quarter} 房屋巡查及安全检查报告"
        doc = SimpleDocTemplate(
            handle,
            pagesize=A4,
            leftMargin=18 * PT_PER_MM,
            rightMargin=18 * PT_PER_MM,
            topMargin=18 * PT_PER_MM,
            bottomMargin=18 * PT_PER_MM,
            title=title,
            author="yuexiu-desk",
            creator="yuexiu-desk",
            initialFontName=font,
        )
        body = ParagraphStyle("report-body", fontName=font, fontSize=10, leading=14, wordWrap="CJK")
        heading = ParagraphStyle(
            "report-heading", parent=body, fontSize=12.5, leading=17, spaceBefore=8, spaceAfter=4
        )
        big = ParagraphStyle("report-title", parent=body, fontSize=16, leading=22, alignment=1, spaceAfter=6)

        def grid(rows: list[list[Any]], widths: list[float]) -> Table:
            table = Table(rows, colWidths=[w * PT_PER_MM for w in widths])
            table.setStyle(
                TableStyle(
                    [
                        ("FONT", (0, 0), (-1, -1), font, 9.5),
                        ("GRID", (0, 0), (-1, -1), 0.6, colors.black),
                        ("BACKGROUND", (0, 0), (-1, 0), colors.Color(0.88, 0.88, 0.88)),
                        ("ALIGN", (1, 1), (-1, -1), "RIGHT"),
                    ]
                )
            )
            return table

        story: list[Any] = [
            Paragraph(escape(title), big),
            Paragraph(escape(f"统计期间：{report.start.isoformat()} 至 {report.end.isoformat()}"), body),
            Paragraph("一、检查完成情况", heading),
        ]
        rows: list[list[Any]] = [["检查表", "应检轮次", "已检轮次", "完成率", "检查项次", "发现隐患"]]
        for t in report.templates:
            rate = f"{t.done / t.due:.0%}" if t.due else "—"
            rows.append([t.title, t.due, t.done, rate, t.items_checked, t.defects])
        total_rate = f"{report.rounds_done / report.rounds_due:.0%}" if report.rounds_due else "—"
        rows.append(
            [
                "合计",
                report.rounds_due,
                report.rounds_done,
                total_rate,
                report.items_checked,
                sum(t.defects for t in report.templates),
            ]
        )
        story += [grid(rows, [56, 22, 22, 20, 26, 24]), Spacer(1, 4 * PT_PER_MM), _chart(report, font)]
        story.append(Paragraph("二、隐患分布", heading))
        kinds: list[list[Any]] = [
            ["隐患类别", "隐患数"],
            *([k, n] for k, n in report.defects_by_kind.items()),
        ]
        buildings: list[list[Any]] = [
            ["楼栋", "隐患数"],
            *([b, n] for b, n in report.defects_by_building.items()),
        ]
        if len(kinds) == 1:
            kinds.append(["（本季度未发现隐患）", 0])
        if len(buildings) == 1:
            buildings.append(["—", 0])
        story += [grid(kinds, [60, 30]), Spacer(1, 3 * PT_PER_MM), grid(buildings, [60, 30])]
        story.append(Paragraph("三、隐患整改", heading))
        story.append(
            grid(
                [
                    ["项目", "数量"],
                    ["本季度新增隐患", report.hazards_opened],
                    ["本季度关闭隐患（复查验收合格）", report.hazards_closed],
                    ["逾期未整改隐患", report.hazards_overdue],
                ],
                [70, 30],
            )
        )
        doc.build(story)
        pages = doc.page

    write_atomically(Path(out), render, "巡查报告")
    return pages


def _chart(report: QuarterReport, font: str) -> Any:
    """Rounds due and done per checklist, as grouped bars."""
    from reportlab.graphics.charts.barcharts import VerticalBarChart
    from reportlab.graphics.charts.legends import Legend
    from reportlab.graphics.shapes import Drawing, String
    from reportlab.lib import colors

    width, height = 170 * PT_PER_MM, 70 * PT_PER_MM
    drawing = Drawing(width, height)
    chart = VerticalBarChart()
    chart.x, chart.y = 30, 30
    chart.width, chart.height = width - 150, height - 50
    chart.data = [[t.due for t in report.templates] or [0], [t.done for t in report.templates] or [0]]
    chart.categoryAxis.categoryNames = [t.title[:6] for t in report.templates] or ["—"]
    chart.categoryAxis.labels.fontName = font
    chart.categoryAxis.labels.fontSize = 7.5
    chart.valueAxis.labels.fontName = font
    chart.valueAxis.valueMin = 0
    chart.bars[0].fillColor = colors.Color(0.75, 0.75, 0.75)
    chart.bars[1].fillColor = colors.Color(0.2, 0.4, 0.7)
    drawing.add(chart)
    legend = Legend()
    legend.x, legend.y = width - 105, height - 25
    legend.fontName = font
    legend.fontSize = 8
    legend.colorNamePairs = [(chart.bars[0].fillColor, "应检轮次"), (chart.bars[1].fillColor, "已检轮次")]
    drawing.add(legend)
    drawing.add(String(30, height - 12, "各检查表应检与已检轮次", fontName=font, fontSize=9))
    return drawing
