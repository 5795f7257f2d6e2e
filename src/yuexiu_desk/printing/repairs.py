"""Printed papers of the repair ledger and of complaints: the work-order slip (维修派工单) the worker takes to
the unit and brings back signed, with a QR code that finds the order again, and the public notice of handled
complaints (投诉建议处理结果公示) for the notice board, which carries no names, phones or units.

The data arrives ready-made (SlipData, PublicNoticeData); which order or period to print belongs to the
services. Same font, QR corner and atomic write as the other printed papers.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, BinaryIO
from xml.sax.saxutils import escape

from yuexiu_desk.clock import local_text
from yuexiu_desk.files import write_atomically
from yuexiu_desk.labels.payload import Payload, RecordKind
from yuexiu_desk.printing.fonts import cjk_font
from yuexiu_desk.printing.forms import PT_PER_MM, QR_RIGHT_MM, QR_SIDE_MM, QR_TOP_MM, QUIET_MODULES
from yuexiu_desk.printing.labels import draw_qr_modules, qr_modules

# The letter naming a work-order slip in its QR payload (Payload.form); forms/*.toml must not use it.
WORK_ORDER_FORM = "W"

PAGE_W_MM, PAGE_H_MM = 210.0, 297.0
MARGIN_MM = 15.0


@dataclass(frozen=True)
class SlipData:
    number: str
    station_code: str
    work_order_id: uuid.UUID
    station_name: str
    place: str  # the unit code or the public location
    location: str
    category: str
    urgency: str
    channel: str
    reporter: str
    description: str
    assignee: str
    reported_at: datetime
    response_due_at: datetime
    completion_due_at: datetime
    status: str
    history: tuple[tuple[datetime, str, str, str], ...]  # (when, step, who, note)
    printed_at: datetime


@dataclass(frozen=True)
class NoticeEntry:
    number: str
    received_on: date
    channel: str
    category: str
    result: str
    on_time: bool
    satisfaction: int | None


@dataclass(frozen=True)
class PublicNoticeData:
    station_name: str
    start: date
    end: date
    received: int
    entries: tuple[NoticeEntry, ...]
    issued_on: date


def slip_payload(data: SlipData) -> str:
    return Payload(RecordKind.FORM, data.station_code, data.work_order_id, form=WORK_ORDER_FORM).encode()


def _day(value: date) -> str:
    return f"{value.year}年{value.month}月{value.day}日"


def _styles(font: str) -> dict[str, Any]:
    from reportlab.lib.styles import ParagraphStyle

    body = ParagraphStyle("repairs-body", fontName=font, fontSize=10, leading=14, wordWrap="CJK")
    return {
        "body": body,
        "small": ParagraphStyle("repairs-small", parent=body, fontSize=8.5, leading=11),
        "title": ParagraphStyle("repairs-title", parent=body, fontSize=17, leading=24, alignment=1),
        "sub": ParagraphStyle("repairs-sub", parent=body, fontSize=10, leading=14, alignment=1),
    }


def _p(text: str, style: Any) -> Any:
    from reportlab.platypus import Paragraph

    return Paragraph(escape(text).replace("\n", "<br/>"), style)


def _table(
    rows: list[list[Any]], widths_mm: list[float], header: bool = False, row_height: float | None = None
) -> Any:
    from reportlab.platypus import Table, TableStyle

    table = Table(
        rows,
        colWidths=[w * PT_PER_MM for w in widths_mm],
        rowHeights=None if row_height is None else [row_height] * len(rows),
        repeatRows=1 if header else 0,
    )
    style: list[tuple[Any, ...]] = [
        ("GRID", (0, 0), (-1, -1), 0.6, (0, 0, 0)),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
    ]
    if header:
        style.append(("BACKGROUND", (0, 0), (-1, 0), (0.88, 0.88, 0.88)))
    table.setStyle(TableStyle(style))
    return table


def write_slip(data: SlipData, out: Path) -> None:
    """One A4 page: the order, the targets, the steps so far, and blank lines for the worker to fill in."""

    def render(handle: BinaryIO) -> None:
        from reportlab.platypus import SimpleDocTemplate, Spacer

        font = cjk_font()
        st = _styles(font)
        doc = SimpleDocTemplate(
            handle,
            pagesize=(PAGE_W_MM * PT_PER_MM, PAGE_H_MM * PT_PER_MM),
            leftMargin=MARGIN_MM * PT_PER_MM,
            rightMargin=MARGIN_MM * PT_PER_MM,
            topMargin=(QR_TOP_MM + QR_SIDE_MM + 2) * PT_PER_MM,
            bottomMargin=MARGIN_MM * PT_PER_MM,
            title=f"维修派工单 {data.number}",
            author=data.station_name,
        )
        body, small = st["body"], st["small"]
        width = PAGE_W_MM - 2 * MARGIN_MM
        half = width / 4
        info = [
            [_p("维修单号", body), _p(data.number, body), _p("状态", body), _p(data.status, body)],
            [_p("报修位置", body), _p(data.place, body), _p("类别", body), _p(data.category, body)],
            [_p("紧急程度", body), _p(data.urgency, body), _p("报修渠道", body), _p(data.channel, body)],
            [
                _p("报修时间", body),
                _p(local_text(data.reported_at), body),
                _p("报修人", body),
                _p(data.reporter or "—", body),
            ],
            [
                _p("响应时限", body),
                _p(local_text(data.response_due_at), body),
                _p("完工时限", body),
                _p(local_text(data.completion_due_at), body),
            ],
            [_p("维修人员/单位", body), _p(data.assignee or "（未派单）", body), _p("", body), _p("", body)],
            [_p("报修内容", body), _p(data.description, body), "", ""],
        ]
        info_table = _table(info, [half * 0.7, half * 1.3, half * 0.7, half * 1.3])
        from reportlab.platypus import TableStyle

        info_table.setStyle(TableStyle([("SPAN", (1, 6), (3, 6)), ("SPAN", (1, 5), (3, 5))]))
        history = [[_p(h, small) for h in ("时间", "环节", "经办", "说明")]]
        for when, step, who, note in data.history:
            history.append([_p(local_text(when), small), _p(step, small), _p(who, small), _p(note, small)])
        fill = [
            [_p("到场时间", body), _p("", body), _p("完工时间", body), _p("", body)],
            [_p("人工（人员及工时）", body), _p("", body), "", ""],
            [_p("材料（名称及数量）", body), _p("", body), "", ""],
            [
                _p("费用（元）", body),
                _p("", body),
                _p("费用承担", body),
                _p("□服务站 □租户 □施工单位 □物业公司", small),
            ],
            [_p("住户意见及签字", body), _p("", body), "", ""],
            [_p("维修人员签字", body), _p("", body), _p("服务站经办", body), _p("", body)],
        ]
        # Rows tall enough to write in by hand.
        fill_table = _table(fill, [half * 0.9, half * 1.1, half * 0.7, half * 1.3], row_height=26)
        fill_table.setStyle(
            TableStyle(
                [
                    ("SPAN", (1, 1), (3, 1)),
                    ("SPAN", (1, 2), (3, 2)),
                    ("SPAN", (1, 4), (3, 4)),
                ]
            )
        )
        story = [
            _p(f"{data.station_name}", st["sub"]),
            _p("维修派工单", st["title"]),
            Spacer(1, 4 * PT_PER_MM),
            info_table,
            Spacer(1, 4 * PT_PER_MM),
            _p("处理记录", body),
            _table(history, [32, 20, 35, width - 87], header=True),
            Spacer(1, 4 * PT_PER_MM),
            _p("完工登记（维修人员填写，带回服务站扫码录入）", body),
            fill_table,
            Spacer(1, 3 * PT_PER_MM),
            _p(f"打印时间：{local_text(data.printed_at)}。扫描右上角二维码可直接打开本维修单。", small),
        ]
        payload = slip_payload(data)

        def first_page(canvas: Any, _doc: Any) -> None:
            _draw_qr(canvas, payload)
            canvas.setFont(font, 7)
            canvas.drawRightString(
                (PAGE_W_MM - QR_RIGHT_MM) * PT_PER_MM,
                (PAGE_H_MM - QR_TOP_MM - QR_SIDE_MM - 3) * PT_PER_MM,
                data.number,
            )

        doc.build(story, onFirstPage=first_page)

    write_atomically(out, render, "维修派工单")


def _draw_qr(canvas: Any, payload: str) -> None:
    matrix = qr_modules(payload)
    side = QR_SIDE_MM * PT_PER_MM
    module = side / (len(matrix) + 2 * QUIET_MODULES)
    left = (PAGE_W_MM - QR_RIGHT_MM - QR_SIDE_MM) * PT_PER_MM
    bottom = (PAGE_H_MM - QR_TOP_MM - QR_SIDE_MM) * PT_PER_MM
    draw_qr_modules(canvas, matrix, left + QUIET_MODULES * module, bottom + QUIET_MODULES * module, module)


def write_public_notice(data: PublicNoticeData, out: Path) -> None:
    """The notice board's list of handled complaints and suggestions of a period (no personal data)."""

    def render(handle: BinaryIO) -> None:
        from reportlab.platypus import SimpleDocTemplate, Spacer

        font = cjk_font()
        st = _styles(font)
        body, small = st["body"], st["small"]
        doc = SimpleDocTemplate(
            handle,
            pagesize=(PAGE_W_MM * PT_PER_MM, PAGE_H_MM * PT_PER_MM),
            leftMargin=MARGIN_MM * PT_PER_MM,
            rightMargin=MARGIN_MM * PT_PER_MM,
            topMargin=MARGIN_MM * PT_PER_MM,
            bottomMargin=MARGIN_MM * PT_PER_MM,
            title="投诉建议处理结果公示",
            author=data.station_name,
        )
        on_time = sum(1 for e in data.entries if e.on_time)
        rated = [e.satisfaction for e in data.entries if e.satisfaction is not None]
        average = f"{sum(rated) / len(rated):.1f}" if rated else "—"
        summary = (
            f"{_day(data.start)}至{_day(data.end)}，本站共受理投诉建议 {data.received} 件，"
            f"已办结答复 {len(data.entries)} 件，其中按时答复 {on_time} 件；回访满意度平均 {average} 分（满分 5 分）。"
            "为保护反映人隐私，本公示不含姓名、电话及房号。欢迎继续监督。"
        )
        rows: list[list[Any]] = [
            [_p(h, small) for h in ("编号", "受理日期", "渠道", "类别", "处理结果", "满意度")]
        ]
        for e in data.entries:
            rows.append(
                [
                    _p(e.number, small),
                    _p(e.received_on.isoformat(), small),
                    _p(e.channel, small),
                    _p(e.category, small),
                    _p(e.result + ("" if e.on_time else "（超期答复）"), small),
                    _p("—" if e.satisfaction is None else f"{e.satisfaction} 分", small),
                ]
            )
        width = PAGE_W_MM - 2 * MARGIN_MM
        story = [
            _p("投诉建议处理结果公示", st["title"]),
            Spacer(1, 4 * PT_PER_MM),
            _p(summary, body),
            Spacer(1, 4 * PT_PER_MM),
            _table(rows, [34, 22, 18, 20, width - 34 - 22 - 18 - 20 - 16, 16], header=True),
            Spacer(1, 6 * PT_PER_MM),
            _p(f"{data.station_name}", body),
            _p(_day(data.issued_on), body),
        ]
        doc.build(story)

    write_atomically(out, render, "公示文件")
