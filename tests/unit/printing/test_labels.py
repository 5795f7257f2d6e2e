"""Label sheets as the clerk sees them: print, look at the page, scan every code, read the Chinese."""

from __future__ import annotations

import errno
import math
import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from PIL import Image

from yuexiu_desk.domain.units import UnitCode
from yuexiu_desk.errors import EnvironmentProblem, UserError
from yuexiu_desk.labels.decode import decode_qr_texts
from yuexiu_desk.printing import fonts
from yuexiu_desk.printing import labels as labels_module
from yuexiu_desk.printing.labels import SheetLayout, UnitLabel, write_label_sheet
from yuexiu_desk.services.labels import unit_labels
from yuexiu_desk.services.lookup import resolve
from yuexiu_desk.storage.db import Store

DPI = 200
A4_MM = (210.0, 297.0)
PT_PER_MM = 72 / 25.4
DEMO_UNITS = 194
# One label made by hand, for tests that need no database.
SAMPLE = UnitLabel(
    payload="YX1U-YXY01-NYWGQRZGTJCIRHTE2NVPQAT24Y-D",
    code="1-1-101",
    title="悦秀苑",
    subtitle="1栋1单元101室",
)


@contextmanager
def opened(pdf_path: Path) -> Iterator[pdfium.PdfDocument]:
    pdf = pdfium.PdfDocument(pdf_path)
    try:
        yield pdf
    finally:
        pdf.close()


def page_image(page: pdfium.PdfPage, dpi: int = DPI) -> Image.Image:
    """The page as a scanner or a phone photo straight above it would see it (greyscale)."""
    image: Image.Image = page.render(scale=dpi / 72, grayscale=True).to_pil()
    return image


def label_box_mm(layout: SheetLayout, slot: int) -> tuple[float, float, float, float]:
    """Left, top, right, bottom of a label in mm from the page's top-left corner.

    Worked out here from what the layout promises (margins mirrored right and bottom, labels sharing the
    rest equally), not taken from the code under test.
    """
    width = (A4_MM[0] - 2 * layout.margin_left - (layout.columns - 1) * layout.gap_x) / layout.columns
    height = (A4_MM[1] - 2 * layout.margin_top - (layout.rows - 1) * layout.gap_y) / layout.rows
    row, column = divmod(slot, layout.columns)
    left = layout.margin_left + column * (width + layout.gap_x)
    top = layout.margin_top + row * (height + layout.gap_y)
    return left, top, left + width, top + height


def printed_text_in(page: pdfium.PdfPage, box: tuple[float, float, float, float]) -> str:
    left, top, right, bottom = (value * PT_PER_MM for value in box)
    height = A4_MM[1] * PT_PER_MM
    text: str = page.get_textpage().get_text_bounded(
        left=left, bottom=height - bottom, right=right, top=height - top
    )
    return text


def pixels(box: tuple[float, float, float, float], dpi: int = DPI) -> tuple[int, int, int, int]:
    left, top, right, bottom = (round(value * dpi / 25.4) for value in box)
    return left, top, right, bottom


def test_every_label_on_the_sheet_scans_back_to_the_unit_printed_beside_it(
    demo_store: Store, tmp_path: Path
) -> None:
    out = tmp_path / "房源标签.pdf"
    layout = SheetLayout()
    per_page = layout.columns * layout.rows
    scanned: list[str] = []
    with demo_store.read() as session:
        labels = unit_labels(session)
        assert len(labels) == DEMO_UNITS

        pages = write_label_sheet(labels, out)

        assert pages == math.ceil(DEMO_UNITS / per_page) == 9
        with opened(out) as pdf:
            assert len(pdf) == pages
            for number in range(len(pdf)):
                page = pdf[number]
                image = page_image(page)
                on_page = labels[number * per_page : (number + 1) * per_page]
                # The whole page photographed at once: every code, in the order the labels are printed.
                page_texts = decode_qr_texts(image)
                assert page_texts == [label.payload for label in on_page]
                scanned.extend(page_texts)
                # Each label on its own: its code leads to the unit whose number and address it shows.
                for slot in range(len(on_page)):
                    box = label_box_mm(layout, slot)
                    (payload,) = decode_qr_texts(image.crop(pixels(box)))
                    unit = resolve(session, payload)
                    printed = printed_text_in(page, box)
                    assert unit.via == "label"
                    assert unit.code in printed.split()
                    assert UnitCode.parse(unit.code).chinese in printed
                    assert "悦秀苑" in printed

    assert len(scanned) == DEMO_UNITS
    assert set(scanned) == {label.payload for label in labels}


def test_sheet_shows_chinese_text_from_an_embedded_font(demo_store: Store, tmp_path: Path) -> None:
    out = tmp_path / "labels.pdf"
    with demo_store.read() as session:
        write_label_sheet(unit_labels(session), out)

    pdf = pdfium.PdfDocument(out)
    try:
        first_page = pdf[0].get_textpage().get_text_range()
        last_page = pdf[len(pdf) - 1].get_textpage().get_text_range()
        metadata = pdf.get_metadata_dict()
    finally:
        pdf.close()
    assert "悦秀苑" in first_page
    assert "1栋1单元101室" in first_page
    assert "1-1-101" in first_page
    assert "2栋2单元1403室" in last_page
    assert metadata["Title"] == "悦秀苑 房源标签"
    # The font travels inside the PDF (a TrueType subset), so it prints the same on any computer.
    data = out.read_bytes()
    assert b"/FontFile2" in data
    assert b"+WenQuanYiMicroHei" in data
    assert b"Helvetica" not in data


def test_pdffonts_reports_every_font_embedded(demo_store: Store, tmp_path: Path) -> None:
    out = tmp_path / "labels.pdf"
    with demo_store.read() as session:
        write_label_sheet(unit_labels(session, ["1-2-1603"]), out)

    report = subprocess.run(["pdffonts", str(out)], capture_output=True, text=True, check=True).stdout
    fonts_listed = report.splitlines()[2:]  # after the header and the dashes
    assert fonts_listed, report
    for line in fonts_listed:
        name, _type, _encoding, embedded, *_rest = line.split()
        assert "WenQuanYiMicroHei" in name
        assert embedded == "yes", report


def test_labels_for_chosen_units_fill_one_page_with_just_those_codes(
    demo_store: Store, tmp_path: Path
) -> None:
    out = tmp_path / "two.pdf"
    with demo_store.read() as session:
        chosen = unit_labels(session, ["1-2-1603", "2-1-101"])

        assert write_label_sheet(chosen, out) == 1

        with opened(out) as pdf:
            assert len(pdf) == 1
            texts = decode_qr_texts(page_image(pdf[0]))
        assert [resolve(session, text).code for text in texts] == ["1-2-1603", "2-1-101"]


def test_a_two_by_five_grid_puts_ten_larger_labels_on_a_page(demo_store: Store, tmp_path: Path) -> None:
    out = tmp_path / "big.pdf"
    layout = SheetLayout(columns=2, rows=5)
    with demo_store.read() as session:
        labels = unit_labels(session)

    assert write_label_sheet(labels, out, layout) == 20
    with opened(out) as pdf:
        assert len(pdf) == 20
        first, last = page_image(pdf[0], dpi=100), page_image(pdf[19], dpi=100)
    assert decode_qr_texts(first) == [label.payload for label in labels[:10]]
    assert decode_qr_texts(last) == [label.payload for label in labels[190:]]


def test_nothing_to_print_is_refused_and_no_file_is_made(tmp_path: Path) -> None:
    out = tmp_path / "labels.pdf"

    with pytest.raises(UserError, match="没有要打印的标签"):
        write_label_sheet([], out)

    assert list(tmp_path.iterdir()) == []


def test_a_grid_too_fine_to_scan_is_refused_and_no_file_is_made(demo_store: Store, tmp_path: Path) -> None:
    prints = tmp_path / "prints"
    prints.mkdir()
    with demo_store.read() as session:
        labels = unit_labels(session)

    with pytest.raises(UserError, match="18 毫米") as caught:
        write_label_sheet(labels, prints / "labels.pdf", SheetLayout(columns=10, rows=30))

    assert "10 列 × 30 行" in caught.value.message
    assert list(prints.iterdir()) == []


@pytest.mark.parametrize(
    ("layout", "message"),
    [
        (SheetLayout(columns=10, rows=30), "太小"),
        (SheetLayout(columns=3, rows=8, margin_left=95), "太小"),
        (SheetLayout(columns=0, rows=8), "至少为 1"),
        (SheetLayout(columns=3, rows=-1), "至少为 1"),
        (SheetLayout(gap_x=-2), "不能是负数"),
    ],
)
def test_an_unprintable_grid_is_refused_and_the_old_sheet_is_kept(
    tmp_path: Path, layout: SheetLayout, message: str
) -> None:
    out = tmp_path / "labels.pdf"
    out.write_bytes(b"%PDF- the sheet printed last week")

    with pytest.raises(UserError, match=message):
        write_label_sheet([SAMPLE], out, layout)

    assert out.read_bytes() == b"%PDF- the sheet printed last week"
    assert list(tmp_path.iterdir()) == [out]


def test_the_smallest_allowed_labels_still_scan(tmp_path: Path) -> None:
    # 18 mm is the floor: a grid just above it must give codes that a 200 dpi scan reads.
    layout = SheetLayout(columns=10, rows=13, margin_top=5, margin_left=5, gap_x=1, gap_y=1)
    left, top, right, bottom = label_box_mm(layout, 0)
    assert 18 <= min(right - left, bottom - top) < 20
    out = tmp_path / "small.pdf"

    write_label_sheet([SAMPLE] * 3, out, layout)

    box = label_box_mm(layout, 2)
    with opened(out) as pdf:
        image = page_image(pdf[0])
        printed = printed_text_in(pdf[0], box)
    assert decode_qr_texts(image.crop(pixels(box))) == [SAMPLE.payload]
    assert "1-1-101" in printed


@pytest.mark.parametrize("failing", ["replace", "fsync"])
def test_a_failed_write_reports_the_path_and_keeps_the_old_sheet(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failing: str
) -> None:
    out = tmp_path / "labels.pdf"
    out.write_bytes(b"%PDF- the sheet printed last week")

    def disk_full(*args: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, failing, disk_full)
    with pytest.raises(EnvironmentProblem) as caught:
        write_label_sheet([SAMPLE], out)
    monkeypatch.undo()

    assert str(out) in caught.value.message
    assert "No space left on device" in caught.value.message
    assert out.read_bytes() == b"%PDF- the sheet printed last week"
    assert list(tmp_path.iterdir()) == [out]


def test_a_crash_while_drawing_leaves_no_half_written_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "labels.pdf"
    out.write_bytes(b"%PDF- the sheet printed last week")
    drawn: list[str] = []
    real = labels_module.qr_modules

    def crash_on_fifth(payload: str) -> list[list[bool]]:
        drawn.append(payload)
        if len(drawn) == 5:
            raise RuntimeError("bug while drawing")
        return real(payload)

    monkeypatch.setattr(labels_module, "qr_modules", crash_on_fifth)
    with pytest.raises(RuntimeError, match="bug while drawing"):
        write_label_sheet([SAMPLE] * 30, out)

    assert out.read_bytes() == b"%PDF- the sheet printed last week"
    assert list(tmp_path.iterdir()) == [out]


def test_a_missing_folder_is_created(tmp_path: Path) -> None:
    out = tmp_path / "新文件夹" / "labels.pdf"
    write_label_sheet([SAMPLE], out)
    assert out.read_bytes().startswith(b"%PDF")


def test_a_folder_that_cannot_be_made_is_reported_with_its_path(tmp_path: Path) -> None:
    blocker = tmp_path / "是文件不是文件夹"
    blocker.write_text("x")
    out = blocker / "labels.pdf"

    with pytest.raises(EnvironmentProblem) as caught:
        write_label_sheet([SAMPLE], out)

    assert str(out) in caught.value.message and "标签文件" in caught.value.message


def test_a_new_sheet_replaces_the_old_one_readable_by_everyone_the_umask_allows(tmp_path: Path) -> None:
    out = tmp_path / "labels.pdf"
    out.write_bytes(b"old")
    umask = os.umask(0o022)
    try:
        write_label_sheet([SAMPLE], out)
    finally:
        os.umask(umask)

    assert out.read_bytes().startswith(b"%PDF-")
    assert out.stat().st_mode & 0o777 == 0o644
    assert list(tmp_path.iterdir()) == [out]


def test_a_broken_install_without_the_font_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A name not yet registered in this process, so the font file is looked for again.
    monkeypatch.setattr(fonts, "CJK_FONT", "MissingFontForTest")
    monkeypatch.setattr(fonts, "font_path", lambda: tmp_path / "fonts" / "wqy-microhei.ttc")
    out = tmp_path / "labels.pdf"

    with pytest.raises(EnvironmentProblem, match="中文字体") as caught:
        write_label_sheet([SAMPLE], out)

    assert "wqy-microhei.ttc" in caught.value.message
    assert not out.exists()


def test_each_code_keeps_a_quiet_zone_inside_its_own_label(tmp_path: Path) -> None:
    # Cut out along its edge or stuck beside a door frame, a label must still carry the white margin
    # of four modules that QR readers need.
    layout = SheetLayout()
    out = tmp_path / "labels.pdf"
    write_label_sheet([SAMPLE], out, layout)
    with opened(out) as pdf:
        image = page_image(pdf[0], dpi=300)
    label = image.crop(pixels(label_box_mm(layout, 0), dpi=300))
    dark = label.point(lambda v: 255 if v < 128 else 0)
    bbox = dark.crop((0, 0, label.height, label.height)).getbbox()
    assert bbox is not None
    left, top, right, bottom = bbox
    # The top edge of the top-left finder pattern is a run of seven dark modules.
    edge = "".join("#" if dark.getpixel((x, top + 2)) else "." for x in range(left, right))
    module = len(edge.lstrip(".").split(".")[0]) / 7
    assert module > 5  # pixels at 300 dpi: the code is not tiny
    quiet = 4 * module - 1  # a pixel of rounding

    assert min(left, top, label.height - bottom) >= quiet
    assert dark.crop((right, top, right + round(quiet), bottom)).getbbox() is None


def test_the_font_is_registered_once_per_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    name = fonts.cjk_font()
    # Once registered, printing again does not go back to the (5 MB) font file.
    monkeypatch.setattr(fonts, "font_path", lambda: tmp_path / "gone.ttc")

    assert fonts.cjk_font() == name
    write_label_sheet([SAMPLE], tmp_path / "again.pdf")
