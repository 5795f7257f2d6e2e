"""Printed forms (入住交接单, 退出查验及结算单, 合同摘要, 住户登记表, …) drawn from their forms/*.toml definitions.

This module owns the A4 layout of every kind of section, the header with the form's QR code on every
page, the "第 1 页 共 N 页" footer, and what a filled form may contain (FormValues). What the sections
and items are comes from the definition, so a new checklist item prints without a change here.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, BinaryIO
from xml.sax.saxutils import escape

from yuexiu_desk.errors import UserError

# The atomic write and the vector QR drawing of the label sheets, reused so forms and labels behave alike.
from yuexiu_desk.files import write_atomically
from yuexiu_desk.formdefs import Field, FormDefinition, Section, SectionType
from yuexiu_desk.printing.fonts import cjk_font
from yuexiu_desk.printing.labels import draw_qr_modules, qr_modules

PT_PER_MM = 72 / 25.4
MARGIN_X_MM = 15.0
# The header band holds the title and the QR code on every page; the body starts below it.
BODY_TOP_MM = 33.0
BODY_BOTTOM_MM = 17.0
QR_SIDE_MM = 22.0  # including the quiet zone: about 0.6 mm modules, read by a 150 dpi scan
QR_TOP_MM = 7.0
QR_RIGHT_MM = 9.0
QUIET_MODULES = 4
CONTENT_MM = 210.0 - 2 * MARGIN_X_MM

HEADING_ROOM_MM = 35.0
# Long lists that run on from one page to the next; every other section is kept on one page.
FLOWING = frozenset({SectionType.CHECKLIST, SectionType.TABLE})
FULL_WIDTH_SPACE = "\u3000"
NBSP = "\u00a0"
UNCHECKED = "□"
CHECKED = "■"
BOX_PT = 11
GRID_WIDTH = 0.6
HEADING_GREY = 0.88
HINT_GREY = 0.45


@dataclass(frozen=True)
class FormValues:
    """What a filled form shows. Anything absent prints as an empty cell for handwriting.

    readings and results belong to this form's own record (check-in results on the check-in form,
    move-out results on the move-out form). baseline holds the earlier record whose values print
    in the first of the two compared columns (the check-in values, 入住时, on the move-out form).
    """

    fields: Mapping[str, str] = field(default_factory=dict)  # field id → text (header, amounts, text)
    readings: Mapping[str, str] = field(default_factory=dict)  # meter or count id → value as written
    results: Mapping[str, tuple[str, str]] = field(default_factory=dict)  # item id → (result, note)
    tables: Mapping[str, Sequence[Mapping[str, str]]] = field(default_factory=dict)  # table id → rows
    baseline: FormValues | None = None


def check_values(definition: FormDefinition, values: FormValues) -> None:
    """Refuse values the form has no place for, or a result the item does not allow.

    Printing such a record would silently leave part of it off the paper that gets signed.
    """
    where = f"“{definition.title}”"
    own_fields = {
        f.id
        for f in definition.fields_of(
            SectionType.FIELDS, SectionType.AMOUNTS, SectionType.TEXT, SectionType.SIGNATURES
        )
    }
    _known(values.fields, own_fields, f"{where}中没有字段", definition)
    readings = {f.id for f in definition.fields_of(SectionType.READINGS, SectionType.COUNTS)}
    _known(values.readings, readings, f"{where}中没有读数或数量项", definition)
    _check_results(definition, values.results, {i.id: i.results for i in definition.items})
    tables = {s.id: {f.id for f in s.fields} for s in definition.sections if s.type is SectionType.TABLE}
    _known(values.tables, set(tables), f"{where}中没有表格", definition)
    for table_id, rows in values.tables.items():
        for row in rows:
            _known(row, tables[table_id], f"{where}的表格 {table_id} 中没有列", definition)
    if values.baseline is not None:
        # The baseline is the earlier record as a whole (all of the check-in); only the sections this
        # form compares print from it, so its other values are not this form's business.
        compared = {i.id: i.results for s in definition.sections if s.compare for i in s.items}
        shown = {k: v for k, v in values.baseline.results.items() if k in compared}
        _check_results(definition, shown, compared)


def _known(given: Iterable[str], allowed: set[str], what: str, definition: FormDefinition) -> None:
    unknown = sorted(set(given) - allowed)
    if unknown:
        raise UserError(
            f"{what} {'、'.join(unknown)}，记录与表单定义 {definition.kind}.toml 不一致；"
            f"如果该项已从定义中删除，请恢复它后再打印。"
        )


def _check_results(
    definition: FormDefinition, results: Mapping[str, tuple[str, str]], allowed: Mapping[str, tuple[str, ...]]
) -> None:
    _known(results, set(allowed), f"“{definition.title}”中没有检查项", definition)
    for item_id, (result, _note) in results.items():
        if result and result not in allowed[item_id]:
            raise UserError(
                f"检查项 {item_id} 的结果“{result}”不在表单定义 {definition.kind}.toml 允许的结果"
                f"（{'、'.join(allowed[item_id])}）之中，请核对记录或表单定义。"
            )


def write_form(
    definition: FormDefinition,
    values: FormValues | None,
    out: Path,
    qr_payload: str,
    title_extra: str = "",
    appendix: Callable[[str], list[Any]] | None = None,
) -> int:
    """Write the form to a PDF at out (atomically); return the number of pages.

    appendix(font), when given, returns flowables printed after the form on pages of their own (the
    photo appendix, printing.photo_pages), under the same header, QR code and page count.

    values None prints the blank form for handwriting. qr_payload goes into the QR code at the top
    right of every page, so each page of a signed scan can be filed to its record.
    """
    out = Path(out)
    if values is not None:
        check_values(definition, values)
    font = cjk_font()
    matrix = qr_modules(qr_payload)
    pages = 0

    def render(handle: BinaryIO) -> None:
        nonlocal pages
        from reportlab.lib.pagesizes import A4
        from reportlab.platypus import BaseDocTemplate, Frame, PageTemplate

        page_w, page_h = A4
        doc = BaseDocTemplate(
            handle,
            pagesize=A4,
            leftMargin=MARGIN_X_MM * PT_PER_MM,
            rightMargin=MARGIN_X_MM * PT_PER_MM,
            topMargin=BODY_TOP_MM * PT_PER_MM,
            bottomMargin=BODY_BOTTOM_MM * PT_PER_MM,
            title=definition.title,
            subject=title_extra or definition.title,
            author="yuexiu-desk",
            creator="yuexiu-desk",
            pageCompression=1,
            # Otherwise each page starts by selecting Helvetica, which is then referenced unembedded.
            initialFontName=font,
        )
        frame = Frame(
            doc.leftMargin, doc.bottomMargin, doc.width, doc.height, id="body", leftPadding=0, rightPadding=0
        )

        def header(canvas: Any, _doc: Any) -> None:
            _draw_header(canvas, definition.title, title_extra, matrix, font, page_w, page_h)

        doc.addPageTemplates([PageTemplate(id="form", frames=[frame], onPage=header)])
        story = _Story(definition, values, _styles(font)).build()
        extra = appendix(font) if appendix is not None else []
        if extra:
            from reportlab.platypus import PageBreak

            story += [PageBreak(), *extra]
        doc.build(story, canvasmaker=_numbered_canvas(font, definition.title))
        pages = doc.page

    write_atomically(out, render, "表单文件")
    return pages


# -- page furniture -------------------------------------------------------------------------------------


def _draw_header(
    canvas: Any,
    title: str,
    extra: str,
    matrix: Sequence[Sequence[bool]],
    font: str,
    page_w: float,
    page_h: float,
) -> None:
    from reportlab.pdfbase.pdfmetrics import stringWidth

    canvas.saveState()
    canvas.setFillGray(0)
    # Centred on the page, kept clear of the QR code on the right (and symmetric on the left).
    room = page_w - 2 * (QR_SIDE_MM + QR_RIGHT_MM + 2) * PT_PER_MM
    size = min(17.0, room / max(stringWidth(title, font, 1), 1))
    canvas.setFont(font, size)
    canvas.drawCentredString(page_w / 2, page_h - 17 * PT_PER_MM, title)
    if extra:
        size = min(9.5, room / max(stringWidth(extra, font, 1), 1))
        canvas.setFont(font, size)
        canvas.drawCentredString(page_w / 2, page_h - 24 * PT_PER_MM, extra)
    side = QR_SIDE_MM * PT_PER_MM
    module = side / (len(matrix) + 2 * QUIET_MODULES)
    left = page_w - (QR_RIGHT_MM + QR_SIDE_MM) * PT_PER_MM
    bottom = page_h - (QR_TOP_MM + QR_SIDE_MM) * PT_PER_MM
    draw_qr_modules(canvas, matrix, left + QUIET_MODULES * module, bottom + QUIET_MODULES * module, module)
    canvas.restoreState()


@functools.cache
def _numbered_canvas(font: str, title: str) -> type[Any]:
    """A canvas that holds every page back until the end, so each can say how many pages there are."""
    from reportlab.pdfgen.canvas import Canvas

    class NumberedCanvas(Canvas):  # type: ignore[misc]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._held: list[dict[str, Any]] = []

        def showPage(self) -> None:
            self._held.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._held)
            for number, state in enumerate(self._held, start=1):
                self.__dict__.update(state)
                self.saveState()
                self.setFillGray(0)
                self.setFont(font, 9)
                self.drawCentredString(self._pagesize[0] / 2, 9 * PT_PER_MM, f"第 {number} 页 共 {total} 页")
                self.setFillGray(HINT_GREY)
                self.setFont(font, 7.5)
                self.drawString(MARGIN_X_MM * PT_PER_MM, 9 * PT_PER_MM, title)
                self.restoreState()
                super().showPage()
            super().save()

    return NumberedCanvas


# -- the body -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Styles:
    font: str
    body: Any
    right: Any
    small: Any
    head: Any
    section: Any
    note: Any
    intro: Any


@functools.cache
def _styles(font: str) -> _Styles:
    from reportlab.lib.enums import TA_CENTER, TA_RIGHT
    from reportlab.lib.styles import ParagraphStyle

    # CJK word wrap: Chinese breaks between any two characters; the default would only break at spaces.
    body = ParagraphStyle("form-body", fontName=font, fontSize=9, leading=12, wordWrap="CJK")
    return _Styles(
        font=font,
        body=body,
        right=ParagraphStyle("form-right", parent=body, alignment=TA_RIGHT),
        small=ParagraphStyle(
            "form-small", parent=body, fontSize=7.5, leading=9.5, textColor=(HINT_GREY,) * 3
        ),
        head=ParagraphStyle("form-head", parent=body, alignment=TA_CENTER),
        section=ParagraphStyle(
            "form-section", parent=body, fontSize=11, leading=14, spaceBefore=7, spaceAfter=3
        ),
        note=ParagraphStyle("form-note", parent=body, fontSize=8, leading=10.5, spaceAfter=3),
        intro=ParagraphStyle("form-intro", parent=body, fontSize=8.5, leading=11.5, spaceAfter=2),
    )


def _mm(*widths: float) -> list[float]:
    return [w * PT_PER_MM for w in widths]


def _options(results: Sequence[str], chosen: str) -> str:
    return FULL_WIDTH_SPACE.join(f"{CHECKED if r == chosen else UNCHECKED}{r}" for r in results)


def _result_text(value: tuple[str, str] | None) -> str:
    if value is None:
        return ""
    result, note = value
    return "：".join(part for part in (result, note) if part)


def _usage(before: str, after: str) -> str:
    """What was used between two meter readings, when both are numbers and the meter went forward."""
    try:
        used = Decimal(after.strip()) - Decimal(before.strip())
    except (InvalidOperation, ValueError):
        return ""
    # A lower reading means the meter was replaced: the clerk works that out, not the form.
    return f"{used.normalize():f}" if used >= 0 else ""


class _Story:
    """The flowables of one form: a heading, an optional note and a table for each section."""

    def __init__(self, definition: FormDefinition, values: FormValues | None, styles: _Styles) -> None:
        self.definition = definition
        self.values = values
        self.baseline = values.baseline if values is not None else None
        self.s = styles

    def build(self) -> list[Any]:
        from reportlab.platypus import CondPageBreak, KeepTogether, Paragraph

        story: list[Any] = []
        if self.definition.note:
            story.append(Paragraph(escape(self.definition.note), self.s.intro))
        draw: dict[SectionType, Callable[[Section], Any]] = {
            SectionType.FIELDS: self.fields,
            SectionType.READINGS: self.quantities,
            SectionType.COUNTS: self.quantities,
            SectionType.CHECKLIST: self.checklist,
            SectionType.TABLE: self.table,
            SectionType.AMOUNTS: self.amounts,
            SectionType.TEXT: self.text,
            SectionType.SIGNATURES: self.signatures,
        }
        for section in self.definition.sections:
            # A heading stays with the first rows of its table, but a long table still starts on the
            # page where there is room and continues on the next (keepWithNext would move it whole).
            story.append(CondPageBreak(HEADING_ROOM_MM * PT_PER_MM))
            parts: list[Any] = [Paragraph(escape(section.title), self.s.section)]
            if section.note:
                parts.append(Paragraph(escape(section.note), self.s.note))
            parts.append(draw[section.type](section))
            if section.type in FLOWING:
                story.extend(parts)
            else:
                # Short sections print whole on one page: a settlement split after its first line, or a
                # signature block cut off from its note, invites mistakes on the signed paper.
                story.append(KeepTogether(parts))
        return story

    # -- cells ----------------------------------------------------------------------------------------

    def p(self, text: str, style: Any = None) -> Any:
        from reportlab.platypus import Paragraph

        # Paragraph collapses all whitespace, the full-width space (U+3000) too; the gaps clerks type
        # between tick boxes (□ 同意　□ 不同意) keep their width as non-breaking spaces.
        markup = escape(text).replace(FULL_WIDTH_SPACE, NBSP * 3)
        for box in (UNCHECKED, CHECKED):
            # The font draws □ at about half the height of a Chinese character: too small to tick by hand.
            markup = markup.replace(box, f'<font size="{BOX_PT}">{box}</font>')
        return Paragraph(markup, style or self.s.body)

    def recorded(self, f: Field) -> str:
        return self.values.fields.get(f.id, "") if self.values is not None else ""

    def field_value(self, f: Field) -> str:
        return self.recorded(f) or f.text

    def reading(self, field_id: str) -> str:
        return self.values.readings.get(field_id, "") if self.values is not None else ""

    def result(self, item_id: str) -> tuple[str, str] | None:
        return self.values.results.get(item_id) if self.values is not None else None

    def value_cell(self, f: Field) -> Any:
        """A field's value; empty, it shows its unit and hint faintly, as a guide for the hand."""
        recorded = self.recorded(f)
        if recorded:
            return self.p(f"{recorded} {f.unit}".strip())
        if f.text:
            return self.p(f.text)
        guide = []
        if f.hint:
            guide.append(self.p(f.hint, self.s.small))
        if f.unit:
            guide.append(self.p(f.unit, self.s.right))
        return guide or ""

    def grid(
        self,
        rows: list[list[Any]],
        widths: list[float],
        *,
        header: bool = True,
        padding: float = 4.5,
        extra: Sequence[tuple[Any, ...]] = (),
        shade_first_column: bool = False,
    ) -> Any:
        from reportlab.platypus import Table

        commands: list[tuple[Any, ...]] = [
            ("FONT", (0, 0), (-1, -1), self.s.font, 9),
            ("GRID", (0, 0), (-1, -1), GRID_WIDTH, (0, 0, 0)),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ("TOPPADDING", (0, 0), (-1, -1), padding),
            ("BOTTOMPADDING", (0, 0), (-1, -1), padding),
            ("LEFTPADDING", (0, 0), (-1, -1), 3),
            ("RIGHTPADDING", (0, 0), (-1, -1), 3),
        ]
        if header:
            commands.append(("BACKGROUND", (0, 0), (-1, 0), (HEADING_GREY,) * 3))
        if shade_first_column:
            commands.append(("BACKGROUND", (0, 0), (0, -1), (HEADING_GREY,) * 3))
        commands.extend(extra)
        return Table(rows, colWidths=widths, style=commands, repeatRows=1 if header else 0, hAlign="LEFT")

    def heads(self, *labels: str) -> list[Any]:
        return [self.p(label, self.s.head) for label in labels]

    # -- section kinds --------------------------------------------------------------------------------

    def fields(self, section: Section) -> Any:
        pairs = section.columns
        label_mm = {1: 32.0, 2: 24.0, 3: 20.0}[pairs]
        value_mm = CONTENT_MM / pairs - label_mm
        widths = _mm(*([label_mm, value_mm] * pairs))
        rows: list[list[Any]] = []
        extra: list[tuple[Any, ...]] = []
        current: list[Any] = []

        def flush() -> None:
            if not current:
                return
            used = len(current)
            extra.extend(
                ("BACKGROUND", (column, len(rows)), (column, len(rows)), (HEADING_GREY,) * 3)
                for column in range(0, used, 2)
            )
            current.extend([""] * (2 * pairs - used))
            if used < 2 * pairs:
                # A short last line: its last value cell runs to the right edge.
                extra.append(("SPAN", (used - 1, len(rows)), (-1, len(rows))))
            rows.append(list(current))
            current.clear()

        for f in section.fields:
            if f.wide:
                flush()
                current.extend([self.p(f.label), self.value_cell(f)])
                flush()
            else:
                current.extend([self.p(f.label), self.value_cell(f)])
                if len(current) == 2 * pairs:
                    flush()
        flush()
        return self.grid(rows, widths, header=False, padding=5, extra=extra)

    def quantities(self, section: Section) -> Any:
        """Meter readings or counts: this record's values, or the earlier and this record's side by side."""
        label = section.value_label
        meters = section.type is SectionType.READINGS
        if not section.compare:
            rows = [self.heads("名称", label, "单位", "备注")]
            rows += [
                [self.p(f.label), self.p(self.reading(f.id)), self.p(f.unit), ""] for f in section.fields
            ]
            return self.grid(rows, _mm(40, 45, 25, CONTENT_MM - 110))
        before_label, after_label = self.definition.compare_labels
        before = self.baseline.readings if self.baseline is not None else {}
        heads = ["名称", "单位", f"{before_label}{label}", f"{after_label}{label}"]
        heads += ["用量", "备注"] if meters else ["备注"]
        rows = [self.heads(*heads)]
        for f in section.fields:
            earlier, now = before.get(f.id, ""), self.reading(f.id)
            row = [self.p(f.label), self.p(f.unit), self.p(earlier), self.p(now)]
            row += [self.p(_usage(earlier, now)), ""] if meters else [""]
            rows.append(row)
        widths = (
            _mm(30, 20, 32, 32, 24, CONTENT_MM - 138) if meters else _mm(36, 18, 34, 34, CONTENT_MM - 122)
        )
        return self.grid(rows, widths)

    def checklist(self, section: Section) -> Any:
        if section.compare:
            before_label, after_label = self.definition.compare_labels
            rows = [
                self.heads(
                    section.group_label,
                    "项目",
                    f"{before_label}{section.value_label}",
                    f"{after_label}{section.value_label}",
                    "备注",
                )
            ]
            widths = _mm(15, 27, 38, 50, CONTENT_MM - 130)
        else:
            rows = [self.heads(section.group_label, "项目", section.value_label, "备注")]
            widths = _mm(16, 34, 52, CONTENT_MM - 102)
        before = self.baseline.results if self.baseline is not None else {}
        spans: list[tuple[Any, ...]] = []
        for group in section.groups:
            first = len(rows)
            for index, item in enumerate(group.items):
                now = self.result(item.id)
                chosen, note = now if now is not None else ("", "")
                label: list[Any] = [self.p(item.label)]
                if item.hint:  # what to look at (inspection checklists)
                    label.append(self.p(item.hint, self.s.small))
                row: list[Any] = [self.p(group.label, self.s.head) if index == 0 else "", label]
                if section.compare:
                    row.append(self.p(_result_text(before.get(item.id))))
                row += [self.p(_options(item.results, chosen)), self.p(note)]
                rows.append(row)
            spans.append(("SPAN", (0, first), (0, len(rows) - 1)))
        return self.grid(rows, widths, padding=2.5, extra=spans)

    def table(self, section: Section) -> Any:
        given = self.values.tables.get(section.id, ()) if self.values is not None else ()
        rows = [self.heads(*(f.label for f in section.fields))]
        for record in given:
            rows.append([self.p(record.get(f.id, "")) for f in section.fields])
        rows += [[""] * len(section.fields) for _ in range(max(section.rows - len(given), 0))]
        total = sum(f.width for f in section.fields)
        widths = [CONTENT_MM * f.width / total * PT_PER_MM for f in section.fields]
        return self.grid(rows, widths, padding=5)

    def amounts(self, section: Section) -> Any:
        rows = [self.heads("项目", section.value_label, "说明")]
        for f in section.fields:
            value = self.field_value(f)
            rows.append(
                [
                    self.p(f.label),
                    self.p(f"{value} {f.unit}".strip() if value else "", self.s.right),
                    self.p(f.hint, self.s.small) if f.hint else "",
                ]
            )
        return self.grid(rows, _mm(55, 36, CONTENT_MM - 91), padding=5)

    def text(self, section: Section) -> Any:
        from reportlab.platypus import Spacer

        rows = []
        for f in section.fields:
            value = self.field_value(f)
            # An empty paragraph is for handwriting: leave two lines of room.
            rows.append([self.p(f.label), self.p(value) if value else Spacer(1, 9 * PT_PER_MM)])
        return self.grid(rows, _mm(32, CONTENT_MM - 32), header=False, padding=4, shade_first_column=True)

    def signatures(self, section: Section) -> Any:
        rows = []
        for f in section.fields:
            label: list[Any] = [self.p(f.label)]
            if f.hint:
                label.append(self.p(f.hint, self.s.small))
            rows.append([label, "", "日期", "年　　　月　　　日　"])
        return self.grid(
            rows,
            _mm(36, 74, 14, CONTENT_MM - 124),
            header=False,
            padding=11,
            shade_first_column=True,
            extra=[("ALIGN", (3, 0), (3, -1), "RIGHT")],
        )
