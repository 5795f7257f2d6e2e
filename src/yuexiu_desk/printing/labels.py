"""A4 sheets of QR labels for unit doors: the grid, the drawing of each label, and the atomic PDF write.

Each label carries the unit's QR payload (drawn as vector rectangles, so it prints sharp at any
resolution), the unit code in large type, the estate name and the unit's Chinese address, all in the
embedded CJK font.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from yuexiu_desk.errors import UserError
from yuexiu_desk.files import write_atomically
from yuexiu_desk.printing.fonts import cjk_font

A4_MM = (210.0, 297.0)
PT_PER_MM = 72 / 25.4
# Below this a label's QR code gets too small for the scanner or a phone camera at arm's length.
MIN_LABEL_MM = 18.0
# ISO/IEC 18004 asks for four light modules around the symbol; they stay inside the label so that
# the neighbouring label's text or a cut line never touches the code.
QUIET_MODULES = 4
PADDING_MM = 1.5
CUT_LINE_GREY = 0.75
CUT_LINE_WIDTH_PT = 0.25


@dataclass(frozen=True)
class UnitLabel:
    """What one label shows: the QR payload, the unit code, and estate/building/room in Chinese."""

    payload: str
    code: str
    title: str  # e.g. "悦秀苑"
    subtitle: str  # e.g. "1栋2单元1603室"


@dataclass(frozen=True)
class SheetLayout:
    """The label grid on an A4 page (millimetres).

    The right and bottom margins mirror the left and top ones; the labels share the rest of the page
    equally. cut_lines draws thin light-grey lines through the middle of the gaps, for plain paper.
    """

    columns: int = 3
    rows: int = 8
    margin_top: float = 10.0
    margin_left: float = 8.0
    gap_x: float = 3.0
    gap_y: float = 2.0
    cut_lines: bool = True

    @property
    def per_page(self) -> int:
        return self.columns * self.rows

    @property
    def label_size(self) -> tuple[float, float]:
        """Width and height of one label in millimetres."""
        page_w, page_h = A4_MM
        width = (page_w - 2 * self.margin_left - (self.columns - 1) * self.gap_x) / self.columns
        height = (page_h - 2 * self.margin_top - (self.rows - 1) * self.gap_y) / self.rows
        return width, height

    def label_box(self, index: int) -> tuple[float, float, float, float]:
        """Left, top, width, height (mm from the page's top-left corner) of the label at index on its page."""
        row, column = divmod(index % self.per_page, self.columns)
        width, height = self.label_size
        return (
            self.margin_left + column * (width + self.gap_x),
            self.margin_top + row * (height + self.gap_y),
            width,
            height,
        )


def check_layout(layout: SheetLayout) -> None:
    """Refuse a grid that cannot be printed, or whose labels would be too small to scan."""
    if layout.columns < 1 or layout.rows < 1:
        raise UserError(
            f"每页标签的列数和行数都至少为 1（现在是 {layout.columns} 列 × {layout.rows} 行），请重新设置。"
        )
    if min(layout.margin_top, layout.margin_left, layout.gap_x, layout.gap_y) < 0:
        raise UserError("页边距和标签间距不能是负数，请重新设置（单位：毫米）。")
    width, height = layout.label_size
    if min(width, height) < MIN_LABEL_MM:
        raise UserError(
            f"按 {layout.columns} 列 × {layout.rows} 行排版，每张标签只有 "
            f"{max(width, 0):.1f}×{max(height, 0):.1f} 毫米，二维码太小无法可靠扫描；"
            f"请减少列数或行数（或减小边距），使每张标签的宽和高都不小于 {MIN_LABEL_MM:.0f} 毫米。"
        )


def write_label_sheet(labels: Sequence[UnitLabel], out: Path, layout: SheetLayout = SheetLayout()) -> int:
    """Write the labels to a PDF at out (atomically); return the number of pages."""
    if not labels:
        raise UserError("没有要打印的标签，请先选择至少一个房源（或不指定房号以打印全部房源）再打印。")
    check_layout(layout)
    out = Path(out)
    font = cjk_font()
    pages = math.ceil(len(labels) / layout.per_page)
    titles = {label.title for label in labels}
    title = f"{titles.pop()} 房源标签" if len(titles) == 1 else "房源标签"

    def render(handle: BinaryIO) -> None:
        from reportlab.lib.pagesizes import A4
        from reportlab.pdfgen.canvas import Canvas

        # initialFontName: otherwise every page starts by selecting Helvetica, which reportlab
        # then references without embedding it.
        canvas = Canvas(handle, pagesize=A4, pageCompression=1, initialFontName=font)
        canvas.setTitle(title)
        canvas.setSubject(f"{len(labels)} 张房源二维码标签，{pages} 页")
        canvas.setCreator("yuexiu-desk")
        canvas.setAuthor("yuexiu-desk")
        page_h = A4[1]
        for start in range(0, len(labels), layout.per_page):
            on_page = labels[start : start + layout.per_page]
            if layout.cut_lines:
                _draw_cut_lines(canvas, layout, len(on_page), page_h)
            for index, label in enumerate(on_page):
                left, top, width, height = (v * PT_PER_MM for v in layout.label_box(index))
                _draw_label(canvas, label, left, page_h - top - height, width, height, font)
            canvas.showPage()
        canvas.save()

    write_atomically(out, render, "标签文件")
    return pages


def _draw_cut_lines(canvas: Any, layout: SheetLayout, count: int, page_h: float) -> None:
    canvas.setStrokeGray(CUT_LINE_GREY)
    canvas.setLineWidth(CUT_LINE_WIDTH_PT)
    for index in range(count):
        left, top, width, height = layout.label_box(index)
        x = max(left - layout.gap_x / 2, 0) * PT_PER_MM
        y = page_h - min(top + height + layout.gap_y / 2, A4_MM[1]) * PT_PER_MM
        canvas.rect(
            x, y, (width + layout.gap_x) * PT_PER_MM, (height + layout.gap_y) * PT_PER_MM, stroke=1, fill=0
        )


def _draw_label(canvas: Any, label: UnitLabel, x: float, y: float, w: float, h: float, font: str) -> None:
    """One label in the box with bottom-left (x, y) and size w × h, in points."""
    pad = PADDING_MM * PT_PER_MM
    matrix = qr_modules(label.payload)
    if w - h >= 0.6 * h:
        # Wide label: code on the left at full height, text beside it.
        side = h
        qr_x, qr_y = x, y
        lines = [
            _Line(label.title, 0.13),
            _Line(label.code, 0.26, bold=True),
            _Line(label.subtitle, 0.13),
        ]
        _draw_text_block(canvas, lines, x + side, y, w - side - pad, h, font, centred=False)
    else:
        # Narrow or square label: code on top, text underneath.
        side = min(w, 0.72 * h)
        qr_x, qr_y = x + (w - side) / 2, y + h - side
        lines = [_Line(label.code, 0.5, bold=True), _Line(f"{label.title} {label.subtitle}", 0.3)]
        _draw_text_block(canvas, lines, x + pad, y, w - 2 * pad, h - side, font, centred=True)
    module = side / (len(matrix) + 2 * QUIET_MODULES)
    draw_qr_modules(canvas, matrix, qr_x + QUIET_MODULES * module, qr_y + QUIET_MODULES * module, module)


def qr_modules(payload: str) -> list[list[bool]]:
    """The QR symbol for payload as rows of dark (True) / light modules, without quiet zone."""
    import qrcode
    from qrcode.constants import ERROR_CORRECT_M

    # M (15 % recovery) survives a scuffed or partly dirty door label while keeping version 3 (29×29)
    # for our 39-character payload, so the modules stay large on a small label.
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=0)
    code.add_data(payload)
    code.make(fit=True)
    return [[bool(cell) for cell in row] for row in code.get_matrix()]


def dark_rectangles(matrix: Sequence[Sequence[bool]]) -> list[tuple[int, int, int, int]]:
    """The dark modules as few rectangles: (column, row, width, height) in modules, row 0 at the top.

    Runs of dark modules in a row are merged, and a run repeated in the rows below grows downwards
    instead of starting a new rectangle: about two fifths as many rectangles as dark modules, so the
    PDF stays small and fast to write and to render.
    """
    done: list[tuple[int, int, int, int]] = []
    growing: dict[tuple[int, int], int] = {}  # (column, width) -> first row
    for row_no, row in enumerate(matrix):
        runs: list[tuple[int, int]] = []
        start = -1
        for column, dark in enumerate(row):
            if dark and start < 0:
                start = column
            elif not dark and start >= 0:
                runs.append((start, column - start))
                start = -1
        if start >= 0:
            runs.append((start, len(row) - start))
        still = {run: growing.get(run, row_no) for run in runs}
        done.extend(
            (col, first, width, row_no - first)
            for (col, width), first in growing.items()
            if (col, width) not in still
        )
        growing = still
    done.extend((col, first, width, len(matrix) - first) for (col, width), first in growing.items())
    return done


def draw_qr_modules(canvas: Any, matrix: Sequence[Sequence[bool]], x: float, y: float, module: float) -> None:
    """Draw the symbol with its bottom-left corner at (x, y), as one filled path in module units.

    One path filled once (rather than a rectangle per module) leaves no hairline seams between
    neighbouring modules in viewers that anti-alias each fill separately. The path operators are
    written directly: in whole modules they are plain integers, and reportlab's general number
    formatting for the ~34,000 rectangles of 194 labels would take most of the time of a 194-label sheet.
    """
    size = len(matrix)
    canvas.saveState()
    canvas.setFillGray(0)
    canvas.translate(x, y)
    canvas.scale(module, module)
    operators = [
        f"{col} {size - row - height} {width} {height} re"
        for col, row, width, height in dark_rectangles(matrix)
    ]
    operators.append("f")
    canvas.addLiteral("\n".join(operators))
    canvas.restoreState()


@dataclass(frozen=True)
class _Line:
    text: str
    share: float  # largest font size as a share of the block height
    bold: bool = False


def _draw_text_block(
    canvas: Any, lines: Sequence[_Line], x: float, y: float, w: float, h: float, font: str, *, centred: bool
) -> None:
    """Lines stacked and vertically centred in the box, each as large as its share and the width allow."""
    from reportlab.pdfbase.pdfmetrics import getAscentDescent, stringWidth

    leading = 1.2
    ascent, descent = getAscentDescent(font, 1)
    sizes = []
    for line in lines:
        natural = stringWidth(line.text, font, 1) or 1.0
        sizes.append(min(line.share * h, w / natural))
    total = sum(size * leading for size in sizes)
    if total > h:
        sizes = [size * h / total for size in sizes]
        total = h
    top = y + (h + total) / 2
    canvas.setFillGray(0)
    canvas.setStrokeGray(0)
    for line, size in zip(lines, sizes, strict=True):
        # Centre the glyphs' ascent-to-descent band in the line's share of the height.
        baseline = top - size * (leading - (ascent - descent)) / 2 - size * ascent
        left = x + (w - stringWidth(line.text, font, size)) / 2 if centred else x
        # Text render mode is graphics state that outlives the text object: keep it per line.
        canvas.saveState()
        text = canvas.beginText(left, baseline)
        text.setFont(font, size)
        if line.bold:
            # The font has no bold face; stroking the glyph outlines as well as filling them thickens it.
            text.setTextRenderMode(2)
            canvas.setLineWidth(size * 0.05)
        text.textOut(line.text)
        canvas.drawText(text)
        canvas.restoreState()
        top -= size * leading
