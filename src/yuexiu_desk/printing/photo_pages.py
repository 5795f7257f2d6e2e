"""The photo appendix (附页：交接照片) of a filled check-in or move-out form: each photo with the item it
shows, its caption, who added it when, and the name of the kept original, six to an A4 page.

appendix_story() gives the flowables, so the form's own document can carry them after its last page
(same QR code header, same page count); write_photo_appendix() writes them as a PDF of their own.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO
from xml.sax.saxutils import escape

from yuexiu_desk.files import write_atomically
from yuexiu_desk.printing.fonts import cjk_font

PT_PER_MM = 72 / 25.4
CONTENT_MM = 180.0  # A4 less 15 mm margins, as on the forms
COLUMNS = 2
CELL_MM = CONTENT_MM / COLUMNS
PICTURE_W_MM = CELL_MM - 8
PICTURE_H_MM = 58.0  # three rows of pictures and their lines fit the body of a form page
HINT_GREY = 0.45
GRID_GREY = 0.6
APPENDIX_TITLE = "附页：交接照片"
HASH_SHOWN = 16


@dataclass(frozen=True)
class AppendixPhoto:
    """One photo as the appendix prints it."""

    picture: Path | None  # what is drawn (the small JPEG); None when the kept file is missing
    label: str  # the item it belongs to (厨房·燃气灶), or 整体
    caption: str
    added: str  # when and by whom, as the clerk reads it ("2026-11-20 10:15 李明")
    file_name: str  # the kept original, so the paper points at the file


@dataclass(frozen=True)
class _Styles:
    label: Any
    body: Any
    small: Any
    heading: Any
    note: Any


@functools.cache
def _styles(font: str) -> _Styles:
    from reportlab.lib.styles import ParagraphStyle

    # CJK word wrap: Chinese breaks between any two characters; the default would only break at spaces.
    body = ParagraphStyle("photo-body", fontName=font, fontSize=8.5, leading=11, wordWrap="CJK")
    return _Styles(
        label=ParagraphStyle("photo-label", parent=body, fontSize=9.5, leading=12.5),
        body=body,
        small=ParagraphStyle("photo-small", parent=body, fontSize=7, leading=9, textColor=(HINT_GREY,) * 3),
        heading=ParagraphStyle("photo-heading", parent=body, fontSize=11, leading=14, spaceAfter=2),
        note=ParagraphStyle("photo-note", parent=body, fontSize=8, leading=10.5, spaceAfter=4),
    )


def _picture(photo: AppendixPhoto, styles: _Styles) -> Any:
    """The photo fitted into a fixed box, so every cell of a row lines up whatever the photo's shape."""
    from reportlab.platypus import Image, Paragraph, Table

    width, height = PICTURE_W_MM * PT_PER_MM, PICTURE_H_MM * PT_PER_MM
    content: Any
    if photo.picture is None or not photo.picture.is_file():
        # Printed, not skipped: a photo listed in the record but gone from disk is itself a finding.
        content = Paragraph(escape(f"（照片文件缺失：{photo.file_name}）"), styles.body)
    else:
        content = Image(str(photo.picture), width=width, height=height, kind="proportional")
    return Table(
        [[content]],
        colWidths=[width],
        rowHeights=[height],
        style=[
            ("ALIGN", (0, 0), (-1, -1), "CENTER"),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ("LEFTPADDING", (0, 0), (-1, -1), 0),
            ("RIGHTPADDING", (0, 0), (-1, -1), 0),
            ("TOPPADDING", (0, 0), (-1, -1), 0),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 0),
        ],
    )


def _cell(number: int, photo: AppendixPhoto, styles: _Styles) -> list[Any]:
    from reportlab.platypus import Paragraph

    parts = [_picture(photo, styles), Paragraph(escape(f"{number}．{photo.label}"), styles.label)]
    if photo.caption:
        parts.append(Paragraph(escape(photo.caption), styles.body))
    # The start of the kept file's name (its SHA-256) ties the paper to the file; 16 digits are plenty.
    digest = photo.file_name.rsplit("/", 1)[-1].split(".", 1)[0][:HASH_SHOWN]
    parts.append(Paragraph(escape(f"{photo.added}　原图校验码 {digest}…"), styles.small))
    return parts


def appendix_story(photos: Sequence[AppendixPhoto], font: str, title: str = APPENDIX_TITLE) -> list[Any]:
    """The appendix flowables (a heading, then the photos two to a row); [] when there are none."""
    from reportlab.platypus import Paragraph, Table

    if not photos:
        return []
    styles = _styles(font)
    cells: list[Any] = [_cell(number, photo, styles) for number, photo in enumerate(photos, start=1)]
    rows = [cells[i : i + COLUMNS] for i in range(0, len(cells), COLUMNS)]
    rows[-1] += [""] * (COLUMNS - len(rows[-1]))
    table = Table(
        rows,
        colWidths=[CELL_MM * PT_PER_MM] * COLUMNS,
        hAlign="LEFT",
        style=[
            ("GRID", (0, 0), (-1, -1), 0.5, (GRID_GREY,) * 3),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("TOPPADDING", (0, 0), (-1, -1), 4),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 5),
            ("LEFTPADDING", (0, 0), (-1, -1), 4),
            ("RIGHTPADDING", (0, 0), (-1, -1), 4),
        ],
    )
    note = (
        f"共 {len(photos)} 张。此处为缩小打印；原图未经改动，以其 SHA-256 校验码为文件名"
        f"保存在服务站数据目录的 photos 文件夹中。"
    )
    return [Paragraph(escape(title), styles.heading), Paragraph(escape(note), styles.note), table]


def write_photo_appendix(out: Path, photos: Sequence[AppendixPhoto], title: str, subtitle: str = "") -> int:
    """Write the appendix alone as an A4 PDF at out (atomically); returns the number of pages."""
    font = cjk_font()
    pages = 0

    def render(handle: BinaryIO) -> None:
        nonlocal pages
        from reportlab.lib.pagesizes import A4
        from reportlab.platypus import Paragraph, SimpleDocTemplate

        page_w, page_h = A4

        def furniture(canvas: Any, doc: Any) -> None:
            canvas.saveState()
            canvas.setFont(font, 14)
            canvas.drawCentredString(page_w / 2, page_h - 16 * PT_PER_MM, title)
            if subtitle:
                canvas.setFont(font, 9)
                canvas.drawCentredString(page_w / 2, page_h - 22 * PT_PER_MM, subtitle)
            canvas.setFont(font, 9)
            canvas.drawCentredString(page_w / 2, 9 * PT_PER_MM, f"第 {doc.page} 页")
            canvas.restoreState()

        doc = SimpleDocTemplate(
            handle,
            pagesize=A4,
            leftMargin=15 * PT_PER_MM,
            rightMargin=15 * PT_PER_MM,
            topMargin=28 * PT_PER_MM,
            bottomMargin=17 * PT_PER_MM,
            title=title,
            subject=subtitle or title,
            author="yuexiu-desk",
            creator="yuexiu-desk",
            initialFontName=font,
        )
        story = appendix_story(photos, font) or [Paragraph("（没有照片）", _styles(font).body)]
        doc.build(story, onFirstPage=furniture, onLaterPages=furniture)
        pages = doc.page

    write_atomically(Path(out), render, "照片附页文件")
    return pages
