"""Printed receipts (收据) for payments and reminder notices (催缴通知书) for households in arrears.

This module owns what a receipt and a notice show and where: the data a caller hands over (ReceiptData,
NoticeData, all money in integer fen) and the checks that it adds up, the half-A4 receipt with its red
作废 note when the payment was voided, the one-A4-page-per-household notice with its tear-off 回执, and
amounts in figures and in capitals (大写). Which payment or which households to print, and the numbering,
belong to the billing services; the vector QR code and the atomic file write are shared with forms and
labels.
"""

from __future__ import annotations

import functools
import math
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, BinaryIO
from xml.sax.saxutils import escape

from yuexiu_desk.clock import local_text
from yuexiu_desk.domain.billing import Period
from yuexiu_desk.domain.money import fen_to_decimal, format_yuan
from yuexiu_desk.errors import UserError
from yuexiu_desk.files import write_atomically
from yuexiu_desk.labels.payload import Payload, RecordKind
from yuexiu_desk.printing.fonts import cjk_font

# The header QR code sits where it sits on the forms (same size, corner and quiet zone), so the scanner
# station's habits and the filing of signed scans work the same for every printed page.
from yuexiu_desk.printing.forms import (
    GRID_WIDTH,
    HEADING_GREY,
    HINT_GREY,
    PT_PER_MM,
    QR_RIGHT_MM,
    QR_SIDE_MM,
    QR_TOP_MM,
    QUIET_MODULES,
)
from yuexiu_desk.printing.labels import draw_qr_modules, qr_modules

# Letters naming these papers in the QR payload (Payload.form); forms/*.toml must not use them.
RECEIPT_FORM = "R"
NOTICE_FORM = "N"

PAGE_W_MM, PAGE_H_MM = 210.0, 297.0
MARGIN_X_MM = 15.0
CONTENT_MM = PAGE_W_MM - 2 * MARGIN_X_MM
# The receipt is the top half of an A4 sheet rather than an A5 page: the station's printers hold A4 only,
# and an A5 page sent to them is enlarged or shifted into a corner depending on the driver, whereas half
# of an A4 page prints at true size everywhere (the QR modules stay the size the scanner is set up for)
# and, cut along the dashed line, files in an A5 binder like a receipt book.
RECEIPT_AREA_MM = PAGE_H_MM / 2
# A payment that settled more bills than the half sheet can list gets the whole sheet instead.
FULL_AREA_MM = PAGE_H_MM - 8.0
MAX_LINE_GROUPS = 3
LINE_COLUMNS = (30, 42, 30)  # 账期, 项目, 金额: proportions within a column group
MAX_PERIOD_GROUPS = 4

# 公共租赁住房管理办法 (住建部令第11号) Art.29, rule L7. The 6 is the law's own number, quoted on paper,
# so it is not one of the local thresholds kept in BillingRules.
L7_MONTHS = 6
L7_NOTE = (
    "根据《公共租赁住房管理办法》（住房和城乡建设部令第11号）第二十九条：承租人累计6个月以上拖欠租金的，"
    "应当腾退所承租的公共租赁住房；拒不腾退的，公共租赁住房的所有权人或者其委托的运营单位可以向人民法院"
    "提起诉讼，要求承租人腾退公共租赁住房。"
)

RED = (0.8, 0.05, 0.05)
BLACK = (0.0, 0.0, 0.0)
CUT_DASH = (4, 3)
BOX_PT = 12
UNCHECKED = "□"
FULL_WIDTH_SPACE = "\u3000"
NBSP = "\u00a0"


# -- what the caller hands over ------------------------------------------------------------------------


@dataclass(frozen=True)
class ReceiptLine:
    """One bill this payment paid (or paid towards)."""

    period: str  # 账期, "YYYY-MM"
    charge_name: str  # e.g. 租金
    amount_fen: int  # the part of this payment allocated to the bill


@dataclass(frozen=True)
class VoidNote:
    """Why and when a payment was voided: printed in red over the otherwise complete receipt."""

    voided_on: date
    reason: str
    operator: str


@dataclass(frozen=True)
class ReceiptData:
    """One payment as its receipt shows it. amount_fen = the lines + credit_fen (the part kept as 预存)."""

    receipt_no: str
    station_code: str
    payment_id: uuid.UUID
    station_name: str
    estate_name: str
    unit_code: str
    payer: str
    leaseholder: str
    paid_on: date
    channel_label: str  # e.g. 微信
    reference: str  # the bank or wallet transaction number; "" for cash
    amount_fen: int
    lines: Sequence[ReceiptLine]
    credit_fen: int
    balance_after_fen: int  # what the household owes after this payment: > 0 still owed, < 0 credit
    operator: str
    printed_at: datetime  # aware; shown on the station's wall clock
    void: VoidNote | None = None


@dataclass(frozen=True)
class NoticeData:
    """One household's reminder notice. amount_due_fen = the open amounts of periods."""

    notice_no: str
    station_code: str
    notice_id: uuid.UUID
    station_name: str
    estate_name: str
    unit_code: str
    leaseholder: str
    lease_no: str
    months_overdue: int  # cumulative, as rule L7 counts them
    periods: Sequence[tuple[str, int]]  # ("YYYY-MM", open fen), oldest first
    amount_due_fen: int
    stage_label: str  # e.g. 书面催缴并上门
    pay_by: date
    issued_on: date
    station_phone: str


def receipt_payload(data: ReceiptData) -> str:
    """The text of the receipt's QR code: files a signed scan to its payment."""
    return Payload(RecordKind.FORM, data.station_code, data.payment_id, form=RECEIPT_FORM).encode()


def notice_payload(data: NoticeData) -> str:
    """The text of a notice's QR codes: files the notice and its returned 回执 to the notice record."""
    return Payload(RecordKind.FORM, data.station_code, data.notice_id, form=NOTICE_FORM).encode()


def check_receipt(data: ReceiptData) -> None:
    """Refuse a receipt whose figures do not add up: the payer would be handed a wrong paper.

    These come from the ledger, not from typing, so a mismatch is a program error (ValueError).
    """
    if data.amount_fen <= 0:
        raise ValueError(f"receipt {data.receipt_no}: amount must be positive, not {data.amount_fen}")
    if data.credit_fen < 0 or any(line.amount_fen <= 0 for line in data.lines):
        raise ValueError(f"receipt {data.receipt_no}: line amounts must be positive and credit not negative")
    paid = sum(line.amount_fen for line in data.lines) + data.credit_fen
    if paid != data.amount_fen:
        raise ValueError(
            f"receipt {data.receipt_no}: lines {paid - data.credit_fen} + credit {data.credit_fen} "
            f"!= amount {data.amount_fen}"
        )
    if data.printed_at.tzinfo is None:
        raise ValueError("printed_at must be an aware datetime (the app's clock gives UTC)")


def check_notice(data: NoticeData) -> None:
    """Refuse a notice whose list of periods does not add up to the amount it demands (a program error)."""
    if not data.periods or any(fen <= 0 for _period, fen in data.periods):
        raise ValueError(f"notice {data.notice_no}: needs at least one period, each with a positive amount")
    listed = sum(fen for _period, fen in data.periods)
    if listed != data.amount_due_fen:
        raise ValueError(f"notice {data.notice_no}: periods add up to {listed}, not {data.amount_due_fen}")
    if data.months_overdue < 0:
        raise ValueError(f"notice {data.notice_no}: months overdue cannot be negative")


# -- words and figures ---------------------------------------------------------------------------------


def capital_yuan(fen: int) -> str:
    """Amount in capital Chinese numerals as written on receipts: 60434 → 陆佰零肆元叁角肆分."""
    # cn2an costs ~130 ms to import; the app's start-up, which never prints, must not pay for it.
    import cn2an

    return str(cn2an.an2cn(str(fen_to_decimal(fen)), "rmb"))


def figures_yuan(fen: int) -> str:
    """60434 → ¥604.34 (thousands separated, as on the bank slip)."""
    return f"¥{format_yuan(fen)}"


def _day(value: date) -> str:
    return f"{value.year}年{value.month}月{value.day}日"


def _period(text: str, *, short: bool = False) -> str:
    """2026-10 → 2026年10月, or 2026-10 where a narrow column has no room for the words."""
    period = Period.parse(text)
    return str(period) if short else period.label


# -- shared drawing ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Styles:
    font: str
    body: Any
    right: Any
    centre: Any
    letter: Any
    salutation: Any
    legal: Any
    red: Any


@functools.cache
def _styles(font: str) -> _Styles:
    from reportlab.lib.enums import TA_CENTER, TA_RIGHT
    from reportlab.lib.styles import ParagraphStyle

    # CJK word wrap: Chinese may break between any two characters; the default breaks only at spaces.
    body = ParagraphStyle("receipt-body", fontName=font, fontSize=9.5, leading=12.5, wordWrap="CJK")
    letter = ParagraphStyle(
        "notice-letter", parent=body, fontSize=11.5, leading=20, firstLineIndent=23, spaceAfter=2
    )
    return _Styles(
        font=font,
        body=body,
        right=ParagraphStyle("receipt-right", parent=body, alignment=TA_RIGHT),
        centre=ParagraphStyle("receipt-centre", parent=body, alignment=TA_CENTER),
        letter=letter,
        salutation=ParagraphStyle("notice-salutation", parent=letter, firstLineIndent=0),
        legal=ParagraphStyle("notice-legal", parent=body, fontSize=10.5, leading=16),
        red=ParagraphStyle("receipt-void", parent=body, fontSize=10, leading=14, textColor=RED),
    )


def _p(text: str, style: Any) -> Any:
    from reportlab.platypus import Paragraph

    # Paragraph collapses whitespace, the full-width space too; the gaps in 年　月　日 and between tick
    # boxes keep their width as non-breaking spaces.
    markup = escape(text).replace(FULL_WIDTH_SPACE, NBSP * 3)
    # The font draws □ at about half the height of a Chinese character: too small to tick by hand.
    markup = markup.replace(UNCHECKED, f'<font size="{BOX_PT}">{UNCHECKED}</font>')
    return Paragraph(markup, style)


def _grid(
    rows: list[list[Any]],
    widths_mm: Sequence[float],
    font: str,
    *,
    header: bool = True,
    shade_columns: Sequence[int] = (),
    padding: float = 3.0,
    extra: Sequence[tuple[Any, ...]] = (),
) -> Any:
    from reportlab.platypus import Table

    # The same ruled, grey-headed look as the forms, so the station's papers read as one set.
    commands: list[tuple[Any, ...]] = [
        ("FONT", (0, 0), (-1, -1), font, 9.5),
        ("GRID", (0, 0), (-1, -1), GRID_WIDTH, BLACK),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), padding),
        ("BOTTOMPADDING", (0, 0), (-1, -1), padding),
        ("LEFTPADDING", (0, 0), (-1, -1), 4),
        ("RIGHTPADDING", (0, 0), (-1, -1), 4),
    ]
    if header:
        commands.append(("BACKGROUND", (0, 0), (-1, 0), (HEADING_GREY,) * 3))
    commands.extend(("BACKGROUND", (c, 0), (c, -1), (HEADING_GREY,) * 3) for c in shade_columns)
    commands.extend(extra)
    return Table(rows, colWidths=[w * PT_PER_MM for w in widths_mm], style=commands)


def _grouped(
    heads: Sequence[str],
    cells: Sequence[Sequence[Any]],
    widths_mm: Sequence[float],
    groups: int,
    styles: _Styles,
) -> Any:
    """A list set in side-by-side column groups (reading down the first group, then the next), so that a
    long list still fits its page; every group repeats the column heads."""
    per_group = max(math.ceil(len(cells) / groups), 1)
    blank = [""] * len(heads)
    rows: list[list[Any]] = [[_p(h, styles.centre) for h in heads] * groups]
    for index in range(per_group):
        row: list[Any] = []
        for group in range(groups):
            at = group * per_group + index
            row.extend(cells[at] if at < len(cells) else blank)
        rows.append(row)
    # Each group gets an equal share of the width, split between its columns in the given proportions.
    share = CONTENT_MM / groups / sum(widths_mm)
    columns = [w * share for w in widths_mm] * groups
    return _grid(rows, columns, styles.font)


# Flowables are measured with room to spare: whether they fit the page is decided by comparing the sum.
UNBOUNDED_PT = 10_000.0


def _height(parts: Sequence[Any], width: float) -> float:
    return float(sum(part.wrap(width, UNBOUNDED_PT)[1] for part in parts))


def _stack(canvas: Any, parts: Sequence[Any], left: float, top: float, width: float) -> float:
    """Draw the flowables one under another from top (points); return where the last one ends."""
    for part in parts:
        _w, h = part.wrap(width, UNBOUNDED_PT)
        part.drawOn(canvas, left, top - h)
        top -= h
    return top


def _space(mm: float) -> Any:
    from reportlab.platypus import Spacer

    return Spacer(1, mm * PT_PER_MM)


def _draw_qr(
    canvas: Any, payload: str, right_mm: float, top_mm: float, side_mm: float, page_h: float
) -> None:
    matrix = qr_modules(payload)
    side = side_mm * PT_PER_MM
    module = side / (len(matrix) + 2 * QUIET_MODULES)
    left = (PAGE_W_MM - right_mm - side_mm) * PT_PER_MM
    bottom = page_h - (top_mm + side_mm) * PT_PER_MM
    draw_qr_modules(canvas, matrix, left + QUIET_MODULES * module, bottom + QUIET_MODULES * module, module)


def _draw_title(canvas: Any, text: str, baseline_mm: float, size: float, font: str, page_h: float) -> None:
    from reportlab.pdfbase.pdfmetrics import stringWidth

    # Centred on the page and kept clear of the QR code on the right (and, symmetrically, on the left).
    room = (PAGE_W_MM - 2 * (QR_SIDE_MM + QR_RIGHT_MM + 2)) * PT_PER_MM
    size = min(size, room / max(stringWidth(text, font, 1), 1))
    canvas.setFont(font, size)
    canvas.drawCentredString(PAGE_W_MM / 2 * PT_PER_MM, page_h - baseline_mm * PT_PER_MM, text)


def _cut_line(canvas: Any, at_mm: float, hint: str, font: str, page_h: float) -> None:
    """A dashed line across the sheet with a short hint set in a gap in its middle."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    canvas.saveState()
    y = page_h - at_mm * PT_PER_MM
    size = 7.5
    gap = stringWidth(hint, font, size) / 2 + 2 * PT_PER_MM
    middle = PAGE_W_MM / 2 * PT_PER_MM
    canvas.setStrokeGray(HINT_GREY)
    canvas.setLineWidth(0.5)
    canvas.setDash(*CUT_DASH)
    canvas.line(5 * PT_PER_MM, y, middle - gap, y)
    canvas.line(middle + gap, y, (PAGE_W_MM - 5) * PT_PER_MM, y)
    canvas.setFillGray(HINT_GREY)
    canvas.setFont(font, size)
    canvas.drawCentredString(middle, y - size * 0.35, hint)
    canvas.restoreState()


def _new_canvas(handle: BinaryIO, font: str, title: str, subject: str) -> Any:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen.canvas import Canvas

    # initialFontName: otherwise each page starts by selecting Helvetica, referenced but not embedded.
    canvas = Canvas(handle, pagesize=A4, pageCompression=1, initialFontName=font)
    canvas.setTitle(title)
    canvas.setSubject(subject)
    canvas.setAuthor("yuexiu-desk")
    canvas.setCreator("yuexiu-desk")
    return canvas


# -- receipts ------------------------------------------------------------------------------------------

RECEIPT_BODY_TOP_MM = 37.0
# Room between the body and the signature line for a handwritten signature and the station's stamp.
SIGNATURE_ROOM_MM = 11.0
SIGNATURE_FROM_BOTTOM_MM = 12.0
PRINTED_AT_FROM_BOTTOM_MM = 5.0


def write_receipt(data: ReceiptData, out: Path) -> None:
    """Write the receipt for one payment to a PDF at out (atomically).

    A voided payment still prints in full, with a red 作废 stamp and the date, reason and operator of the
    void, so that the reprint can be filed with the cancelled original.
    """
    check_receipt(data)
    out = Path(out)
    font = cjk_font()
    styles = _styles(font)
    payload = receipt_payload(data)
    capital = capital_yuan(data.amount_fen)
    layout = _receipt_layout(data, styles, capital)

    def render(handle: BinaryIO) -> None:
        canvas = _new_canvas(handle, font, f"收据 {data.receipt_no}", f"{data.estate_name} {data.unit_code}")
        _draw_receipt(canvas, data, styles, payload, layout)
        canvas.showPage()
        canvas.save()

    write_atomically(out, render, "收据文件")


@dataclass(frozen=True)
class _ReceiptLayout:
    area_mm: float  # height of the receipt from the top of the sheet
    parts: list[Any]  # the body, top to bottom


def _receipt_layout(data: ReceiptData, styles: _Styles, capital: str) -> _ReceiptLayout:
    """The body on half a sheet in as few column groups as fit, or on the whole sheet when a payment
    settled more bills than half a sheet can list."""
    for area_mm in (RECEIPT_AREA_MM, FULL_AREA_MM):
        room = (area_mm - SIGNATURE_FROM_BOTTOM_MM - SIGNATURE_ROOM_MM - RECEIPT_BODY_TOP_MM) * PT_PER_MM
        for groups in range(1, MAX_LINE_GROUPS + 1):
            parts = _receipt_body(data, styles, capital, groups)
            if _height(parts, CONTENT_MM * PT_PER_MM) <= room:
                return _ReceiptLayout(area_mm, parts)
    raise UserError(
        f"收据 {data.receipt_no} 涉及 {len(data.lines)} 笔账单，一页收据列不下；请在缴费记录中查看明细，"
        f"或联系管理员。"
    )


def _receipt_body(data: ReceiptData, styles: _Styles, capital: str, groups: int) -> list[Any]:
    s = styles
    who = [
        ["房号", f"{data.estate_name} {data.unit_code}", "承租人", data.leaseholder],
        ["交款人", data.payer, "缴费方式", data.channel_label],
        ["交易参考号", data.reference or "—", "收款单位", data.station_name],
    ]
    info = _grid(
        [[_p(text, s.body) for text in row] for row in who],
        (22, 68, 22, 68),
        s.font,
        header=False,
        shade_columns=(0, 2),
    )
    # Three groups leave the 账期 column too narrow for 2026年10月 on one line; 2026-10 fits.
    short = groups >= MAX_LINE_GROUPS
    cells = [
        [
            _p(_period(line.period, short=short), s.centre),
            _p(line.charge_name, s.body),
            _p(format_yuan(line.amount_fen), s.right),
        ]
        for line in data.lines
    ]
    parts: list[Any] = [info, _space(2.5)]
    if cells:
        parts.append(_grouped(("账期", "项目", "金额（元）"), cells, LINE_COLUMNS, groups, s))
    total = _grid(
        [[_p("合计（大写）", s.body), _p(capital, s.body), _p(figures_yuan(data.amount_fen), s.right)]],
        # The columns of the single-group list above it, so the figures line up under 金额.
        [w * CONTENT_MM / sum(LINE_COLUMNS) for w in LINE_COLUMNS],
        s.font,
        header=False,
        shade_columns=(0,),
        padding=4,
    )
    parts.append(total)
    notes = []
    if data.credit_fen:
        notes.append(f"本次缴费中 {figures_yuan(data.credit_fen)} 未冲抵账单，转为预存款。")
    if data.balance_after_fen > 0:
        notes.append(f"缴费后尚欠 {figures_yuan(data.balance_after_fen)}。")
    elif data.balance_after_fen < 0:
        notes.append(f"缴费后预存余额 {figures_yuan(-data.balance_after_fen)}。")
    if notes:
        parts += [_space(1.5), _p("".join(notes), s.body)]
    if data.void is not None:
        void = data.void
        note = f"本收据已作废。作废日期：{_day(void.voided_on)}；作废原因：{void.reason}；经办人：{void.operator}。"
        box = _grid(
            [[_p(note, s.red)]],
            (CONTENT_MM,),
            s.font,
            header=False,
            extra=[("BOX", (0, 0), (-1, -1), 1.2, RED), ("INNERGRID", (0, 0), (-1, -1), 0, RED)],
        )
        parts += [_space(2.5), box]
    return parts


def _draw_receipt(
    canvas: Any, data: ReceiptData, styles: _Styles, payload: str, layout: _ReceiptLayout
) -> None:
    font = styles.font
    page_h = PAGE_H_MM * PT_PER_MM
    left = MARGIN_X_MM * PT_PER_MM
    right = (PAGE_W_MM - MARGIN_X_MM) * PT_PER_MM
    canvas.setFillGray(0)
    _draw_title(canvas, "收" + FULL_WIDTH_SPACE * 2 + "据", 17, 22, font, page_h)
    canvas.setFont(font, 9.5)
    canvas.drawCentredString(PAGE_W_MM / 2 * PT_PER_MM, page_h - 24.5 * PT_PER_MM, data.station_name)
    _draw_qr(canvas, payload, QR_RIGHT_MM, QR_TOP_MM, QR_SIDE_MM, page_h)

    canvas.setFont(font, 10)
    row = page_h - 34 * PT_PER_MM
    canvas.drawString(left, row, f"收据编号：{data.receipt_no}")
    canvas.drawRightString(right, row, f"缴费日期：{_day(data.paid_on)}")

    body_top = page_h - RECEIPT_BODY_TOP_MM * PT_PER_MM
    body_bottom = _stack(canvas, layout.parts, left, body_top, CONTENT_MM * PT_PER_MM)

    bottom = page_h - layout.area_mm * PT_PER_MM
    sign = bottom + SIGNATURE_FROM_BOTTOM_MM * PT_PER_MM
    canvas.setFont(font, 10)
    canvas.setLineWidth(0.5)
    canvas.setStrokeGray(0)
    for x_mm, label in ((MARGIN_X_MM, "收款人（签章）："), (PAGE_W_MM / 2 + 5, "交款人（签字）：")):
        x = x_mm * PT_PER_MM
        canvas.drawString(x, sign, label)
        start = x + _width(label, font, 10) + 1
        canvas.line(start, sign - 1.5, start + 48 * PT_PER_MM, sign - 1.5)
    canvas.setFillGray(HINT_GREY)
    canvas.setFont(font, 7.5)
    footer = bottom + PRINTED_AT_FROM_BOTTOM_MM * PT_PER_MM
    canvas.drawString(left, footer, f"经办人：{data.operator}　打印时间：{local_text(data.printed_at)}")
    canvas.drawRightString(right, footer, "本收据经收款人签章后有效，请妥善保管。")
    canvas.setFillGray(0)
    if layout.area_mm < FULL_AREA_MM:
        _cut_line(canvas, layout.area_mm, "沿虚线裁开", font, page_h)
    if data.void is not None:
        _draw_void_stamp(canvas, font, (body_top + body_bottom) / 2)


def _width(text: str, font: str, size: float) -> float:
    from reportlab.pdfbase.pdfmetrics import stringWidth

    return float(stringWidth(text, font, size))


def _draw_void_stamp(canvas: Any, font: str, middle: float) -> None:
    """A tilted red 作废 stamp over the body: outlines and letters only, so every figure under it still reads."""
    canvas.saveState()
    canvas.translate(PAGE_W_MM / 2 * PT_PER_MM, middle)
    canvas.rotate(14)
    canvas.setStrokeColorRGB(*RED)
    canvas.setFillColorRGB(*RED)
    w, h = 48 * PT_PER_MM, 19 * PT_PER_MM
    canvas.setLineWidth(2.2)
    canvas.roundRect(-w / 2, -h / 2, w, h, 2.5 * PT_PER_MM, stroke=1, fill=0)
    canvas.setLineWidth(0.8)
    inset = 1.6 * PT_PER_MM
    canvas.roundRect(
        -w / 2 + inset, -h / 2 + inset, w - 2 * inset, h - 2 * inset, 1.8 * PT_PER_MM, stroke=1, fill=0
    )
    size = 30
    canvas.setFont(font, size)
    canvas.drawCentredString(0, -size * 0.36, "作" + FULL_WIDTH_SPACE + "废")
    canvas.restoreState()


# -- reminder notices ----------------------------------------------------------------------------------

NOTICE_BODY_TOP_MM = 40.0
# The tear-off 回执 below this line goes back to the station signed; above it stays with the household.
NOTICE_CUT_MM = 222.0
SLIP_QR_SIDE_MM = 18.0
SEAL_MM = 38.0


def write_notices(notices: Sequence[NoticeData], out: Path) -> int:
    """Write one A4 page per household to a PDF at out (atomically); return the number of pages."""
    if not notices:
        raise UserError("没有要打印的催缴通知书，请先选择至少一户欠费住户再打印。")
    for notice in notices:
        check_notice(notice)
    out = Path(out)
    font = cjk_font()
    styles = _styles(font)
    pages = [_notice_page(notice, styles) for notice in notices]

    def render(handle: BinaryIO) -> None:
        subject = f"{len(notices)} 份催缴通知书" if len(notices) > 1 else f"{notices[0].unit_code}"
        canvas = _new_canvas(handle, font, "催缴通知书", subject)
        for draw in pages:
            draw(canvas)
            canvas.showPage()
        canvas.save()

    write_atomically(out, render, "催缴通知书文件")
    return len(pages)


def _notice_page(data: NoticeData, styles: _Styles) -> Callable[[Any], None]:
    """Lay the page out now (so a notice that cannot fit is refused before anything is written)."""
    payload = notice_payload(data)
    capital = capital_yuan(data.amount_due_fen)
    room = (NOTICE_CUT_MM - NOTICE_BODY_TOP_MM - SEAL_MM - 4) * PT_PER_MM
    for groups in range(1, MAX_PERIOD_GROUPS + 1):
        parts = _notice_body(data, styles, capital, groups)
        if _height(parts, CONTENT_MM * PT_PER_MM) <= room:
            break
    else:
        raise UserError(
            f"房源 {data.unit_code} 的欠费账期有 {len(data.periods)} 个，一页催缴通知书列不下；"
            f"请在欠费明细中核对后分次催缴。"
        )

    def draw(canvas: Any) -> None:
        _draw_notice(canvas, data, styles, payload, parts)

    return draw


def _notice_body(data: NoticeData, styles: _Styles, capital: str, groups: int) -> list[Any]:
    s = styles
    unit = f"{data.estate_name} {data.unit_code}"
    parts: list[Any] = [
        _p(f"{data.leaseholder}（{unit} 承租人）：", s.salutation),
        _p(
            f"您承租的{unit}公共租赁住房（租赁合同编号：{data.lease_no}），截至{_day(data.issued_on)}"
            f"尚有下列账期的费用未缴纳，累计欠缴 {data.months_overdue} 个月：",
            s.letter,
        ),
        _space(1),
    ]
    cells = [[_p(_period(period), s.centre), _p(format_yuan(fen), s.right)] for period, fen in data.periods]
    parts.append(_grouped(("账期", "金额（元）"), cells, (1, 1), groups, s))
    parts.append(
        _grid(
            [
                [
                    _p("合计欠缴（大写）", s.body),
                    _p(f"人民币{capital}", s.body),
                    _p(figures_yuan(data.amount_due_fen), s.right),
                ]
            ],
            (36, CONTENT_MM - 76, 40),
            s.font,
            header=False,
            shade_columns=(0,),
            padding=4,
        )
    )
    phone = data.station_phone.strip()
    ask = f"如有疑问，请致电 {phone}。" if phone else "如有疑问，请到服务站咨询。"
    parts += [
        _space(2),
        _p(f"目前催缴阶段：{data.stage_label}。", s.letter),
        _p(
            f"请您于{_day(data.pay_by)}前到{data.station_name}缴清上述欠款。如已缴纳，请持收据到服务站核对，"
            f"并忽略本通知。{ask}",
            s.letter,
        ),
    ]
    if data.months_overdue >= L7_MONTHS:
        warning = (
            f"特别提示：{L7_NOTE}您已累计欠缴 {data.months_overdue} 个月，已属上述情形，"
            f"请务必按期缴清，否则本站将依法处理。"
        )
        parts += [
            _space(1),
            _grid(
                [[_p(warning, s.legal)]],
                (CONTENT_MM,),
                s.font,
                header=False,
                padding=5,
                extra=[("BOX", (0, 0), (-1, -1), 1.4, BLACK)],
            ),
            _space(1),
        ]
    parts.append(_p("特此通知。", s.letter))
    return parts


def _draw_notice(canvas: Any, data: NoticeData, styles: _Styles, payload: str, parts: Sequence[Any]) -> None:
    font = styles.font
    page_h = PAGE_H_MM * PT_PER_MM
    left = MARGIN_X_MM * PT_PER_MM
    right = (PAGE_W_MM - MARGIN_X_MM) * PT_PER_MM
    canvas.setFillGray(0)
    _draw_title(canvas, "催缴通知书", 19, 22, font, page_h)
    _draw_qr(canvas, payload, QR_RIGHT_MM, QR_TOP_MM, QR_SIDE_MM, page_h)
    canvas.setFont(font, 10)
    canvas.drawRightString(right, page_h - 35 * PT_PER_MM, f"编号：{data.notice_no}")

    body_bottom = _stack(canvas, parts, left, page_h - NOTICE_BODY_TOP_MM * PT_PER_MM, CONTENT_MM * PT_PER_MM)

    # The issuer and date on the right, with a faint circle where the station's seal goes.
    canvas.setFont(font, 11.5)
    issuer = body_bottom - 14 * PT_PER_MM
    canvas.drawRightString(right, issuer, f"{data.station_name}（盖章）")
    canvas.drawRightString(right, issuer - 8 * PT_PER_MM, _day(data.issued_on))
    canvas.saveState()
    canvas.setStrokeGray(0.75)
    canvas.setLineWidth(0.5)
    canvas.setDash(2, 2)
    canvas.circle(right - 30 * PT_PER_MM, issuer - 2 * PT_PER_MM, 19 * PT_PER_MM, stroke=1, fill=0)
    canvas.restoreState()

    _cut_line(canvas, NOTICE_CUT_MM, "沿虚线剪下，签收后交回服务站", font, page_h)
    _draw_slip(canvas, data, styles, payload, page_h)


def _draw_slip(canvas: Any, data: NoticeData, styles: _Styles, payload: str, page_h: float) -> None:
    """The tear-off 回执: what was delivered, to whom, signed and dated by the person who took it."""
    s = styles
    top_mm = NOTICE_CUT_MM + 6
    _draw_title(canvas, "回" + FULL_WIDTH_SPACE + "执", top_mm + 8, 16, s.font, page_h)
    # Its own code, so the returned slip is filed to the notice by a scan like every other paper.
    _draw_qr(canvas, payload, QR_RIGHT_MM, top_mm - 2, SLIP_QR_SIDE_MM, page_h)
    rows = [
        ["通知书编号", data.notice_no, "房号", f"{data.estate_name} {data.unit_code}"],
        ["承租人", data.leaseholder, "欠缴金额", figures_yuan(data.amount_due_fen)],
        ["签收人（签字）", "", "签收日期", "年　　月　　日"],
        ["送达人", "", "送达方式", "□当面签收　□留置送达　□张贴"],
    ]
    table = _grid(
        [[_p(text, s.right if text.startswith("年") else s.body) for text in row] for row in rows],
        (27, 63, 22, 68),
        s.font,
        header=False,
        shade_columns=(0, 2),
        padding=3.5,
        # Room for a handwritten name and date.
        extra=[("TOPPADDING", (0, 2), (-1, 3), 7), ("BOTTOMPADDING", (0, 2), (-1, 3), 7)],
    )
    statement = _p(
        f"本人已收到{data.station_name}于{_day(data.issued_on)}送达的催缴通知书（编号 {data.notice_no}）。",
        s.body,
    )
    left = MARGIN_X_MM * PT_PER_MM
    _stack(
        canvas,
        [statement, _space(2), table],
        left,
        page_h - (top_mm + 16) * PT_PER_MM,
        CONTENT_MM * PT_PER_MM,
    )
