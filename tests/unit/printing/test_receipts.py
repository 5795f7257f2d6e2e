"""Receipts and reminder notices as the payer, the clerk and the household see them: scan the QR code back to
its payment or notice, read the Chinese on the page (amounts in figures and in capitals), see the red 作废
note only on a voided receipt, and get one page per household with the legal warning only where it applies."""

from __future__ import annotations

import errno
import os
import subprocess
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from PIL import Image, ImageChops

from printing.test_forms import corner, read_pdf, squeeze
from yuexiu_desk.errors import EnvironmentProblem, UserError
from yuexiu_desk.labels.decode import decode_qr_texts
from yuexiu_desk.labels.payload import Payload, RecordKind, parse
from yuexiu_desk.printing import fonts
from yuexiu_desk.printing.receipts import (
    NoticeData,
    ReceiptData,
    ReceiptLine,
    VoidNote,
    write_notices,
    write_receipt,
)

STATION = "YXY01"
DPI = 150
A4_MM = (210.0, 297.0)
PAYMENT = uuid.UUID("0b6f3c52-5d0e-4c1e-9d59-8a8f0d7e2a11")
# What a person calls red ink on a colour scan.
RED_MIN, OTHER_MAX = 150, 110

RECEIPT = ReceiptData(
    receipt_no="SJ-2026-000123",
    station_code=STATION,
    payment_id=PAYMENT,
    station_name="悦秀苑公共租赁住房服务站",
    estate_name="悦秀苑",
    unit_code="1-2-1603",
    payer="李小红",
    leaseholder="张建国",
    paid_on=date(2026, 11, 20),
    channel_label="微信",
    reference="4200002026112012345678",
    amount_fen=60434,
    lines=[ReceiptLine("2026-09", "租金", 30217), ReceiptLine("2026-10", "租金", 30217)],
    credit_fen=0,
    balance_after_fen=0,
    operator="王会计",
    printed_at=datetime(2026, 11, 20, 2, 5, tzinfo=UTC),
)
VOID = VoidNote(voided_on=date(2026, 11, 21), reason="金额录入错误需重新收款", operator="赵站长")


def _notice(number: int, unit_code: str, leaseholder: str, months: int) -> NoticeData:
    periods = [(f"2026-{month:02d}", 30217) for month in range(1, months + 1)]
    return NoticeData(
        notice_no=f"CJ-2026-{number:04d}",
        station_code=STATION,
        notice_id=uuid.uuid5(uuid.NAMESPACE_URL, f"notice-{number}"),
        station_name="悦秀苑公共租赁住房服务站",
        estate_name="悦秀苑",
        unit_code=unit_code,
        leaseholder=leaseholder,
        lease_no=f"YXY01-2024-{number:04d}",
        months_overdue=months,
        periods=periods,
        amount_due_fen=30217 * months,
        stage_label="解除合同并移交法务" if months >= 6 else "书面催缴并上门",
        pay_by=date(2026, 12, 5),
        issued_on=date(2026, 11, 20),
        station_phone="027-8277 6600",
    )


NOTICES = [
    _notice(1, "1-1-101", "陈桂芳", 5),
    _notice(2, "2-1-502", "刘志强", 6),
    _notice(3, "3-2-1201", "周美玲", 9),
]
L7_WORDS = "承租人累计6个月以上拖欠租金的，应当腾退所承租的公共租赁住房"


def colour_page(pdf_path: Path, *words: str, dpi: int = DPI) -> tuple[Image.Image, list[tuple[int, ...]]]:
    """The one page in colour, and where each of words is printed on it: (left, top, right, bottom) px."""
    pdf = pdfium.PdfDocument(pdf_path)
    try:
        (page,) = pdf
        image = page.render(scale=dpi / 72).to_pil().convert("RGB")
        text_page = page.get_textpage()
        return image, [_text_box(text_page, w, page.get_height(), dpi) for w in words]
    finally:
        pdf.close()


def _text_box(text_page: pdfium.PdfTextPage, words: str, page_h: float, dpi: int) -> tuple[int, ...]:
    found = text_page.search(words).get_next()
    assert found is not None, words
    index, count = found
    boxes = [text_page.get_charbox(i) for i in range(index, index + count)]
    scale = dpi / 72
    return (
        round(min(b[0] for b in boxes) * scale),
        round((page_h - max(b[3] for b in boxes)) * scale),
        round(max(b[2] for b in boxes) * scale),
        round((page_h - min(b[1] for b in boxes)) * scale),
    )


def red_pixels(image: Image.Image) -> int:
    red, green, blue = image.split()
    strong = red.point(lambda v: 255 if v >= RED_MIN else 0)
    weak_green = green.point(lambda v: 255 if v <= OTHER_MAX else 0)
    weak_blue = blue.point(lambda v: 255 if v <= OTHER_MAX else 0)
    return ImageChops.multiply(ImageChops.multiply(strong, weak_green), weak_blue).histogram()[255]


def scanned_payload(image: Image.Image) -> Payload:
    """The page holds one code (printed once or more) and the one in the top-right corner says whose it is."""
    (whole,) = decode_qr_texts(image)
    (text,) = decode_qr_texts(corner(image))
    assert text == whole
    return parse(text, station_code=STATION)


def _receipt(tmp_path: Path, data: ReceiptData = RECEIPT) -> str:
    out = tmp_path / "receipt.pdf"
    write_receipt(data, out)
    (page,) = read_pdf(out)
    assert scanned_payload(page.image) == Payload(RecordKind.FORM, STATION, data.payment_id, "R")
    return squeeze(page.text)


# -- receipts -------------------------------------------------------------------------------------------


def test_a_receipt_scans_back_to_its_payment_and_shows_what_was_paid(tmp_path: Path) -> None:
    words = _receipt(tmp_path)

    for expected in (
        "收据",
        "悦秀苑公共租赁住房服务站",
        "SJ-2026-000123",
        "2026年11月20日",
        "悦秀苑1-2-1603",
        "李小红",
        "张建国",
        "微信",
        "4200002026112012345678",
        "账期项目金额（元）",
        "2026年9月租金302.17",
        "2026年10月租金302.17",
        "¥604.34",
        "王会计",
        "收款人（签章）",
        "交款人（签字）",
    ):
        assert expected in words, expected
    # Nothing left over and nothing owed: no line about credit or arrears.
    assert "预存" not in words
    assert "尚欠" not in words
    assert "作废" not in words


@pytest.mark.parametrize(
    ("lines", "figures", "capitals"),
    [
        ([("2026-09", 30217), ("2026-10", 30217)], "¥604.34", "陆佰零肆元叁角肆分"),
        ([("2026-10", 100000)], "¥1,000.00", "壹仟元整"),
        ([("2026-10", 1000105)], "¥10,001.05", "壹万零壹元零伍分"),
    ],
)
def test_the_total_is_printed_in_figures_and_in_capitals(
    tmp_path: Path, lines: list[tuple[str, int]], figures: str, capitals: str
) -> None:
    data = replace(
        RECEIPT,
        lines=[ReceiptLine(period, "租金", fen) for period, fen in lines],
        amount_fen=sum(fen for _period, fen in lines),
    )

    words = _receipt(tmp_path, data)

    assert f"合计（大写）{capitals}{figures}" in words


def test_money_left_as_credit_and_the_balance_after_payment_are_stated(tmp_path: Path) -> None:
    credit = replace(RECEIPT, amount_fen=65434, credit_fen=5000, balance_after_fen=-5000)
    words = _receipt(tmp_path, credit)
    assert "¥654.34" in words
    assert "陆佰伍拾肆元叁角肆分" in words
    assert "¥50.00未冲抵账单，转为预存款" in words
    assert "缴费后预存余额¥50.00" in words

    owing = replace(RECEIPT, lines=RECEIPT.lines[:1], amount_fen=30217, balance_after_fen=30217)
    words = _receipt(tmp_path, owing)
    assert "缴费后尚欠¥302.17" in words
    assert "2026年10月" not in words
    assert "预存" not in words


def test_a_payment_kept_wholly_as_credit_still_gets_a_receipt(tmp_path: Path) -> None:
    words = _receipt(tmp_path, replace(RECEIPT, lines=[], amount_fen=120000, credit_fen=120000))

    assert "合计（大写）壹仟贰佰元整¥1,200.00" in words
    assert "¥1,200.00未冲抵账单，转为预存款" in words


def test_the_receipt_fills_the_top_half_of_the_sheet_for_cutting(tmp_path: Path) -> None:
    out = tmp_path / "receipt.pdf"
    write_receipt(RECEIPT, out)

    (page,) = read_pdf(out)
    width, height = page.image.size
    assert abs(width / height - A4_MM[0] / A4_MM[1]) < 0.01
    # A little past the middle of the sheet there is no ink at all: the lower half is spare paper.
    lower = page.image.crop((0, round(height * 0.52), width, height))
    assert lower.getextrema()[0] >= 250
    assert "沿虚线裁开" in page.text


def test_a_voided_receipt_prints_in_full_with_a_red_note_of_the_void(tmp_path: Path) -> None:
    out = tmp_path / "void.pdf"
    write_receipt(replace(RECEIPT, void=VOID), out)

    (page,) = read_pdf(out)
    words = squeeze(page.text)
    assert "作废" in words
    assert "作废日期：2026年11月21日" in words
    assert "作废原因：金额录入错误需重新收款" in words
    assert "经办人：赵站长" in words
    # The receipt itself is all there, so it can be filed with the cancelled original.
    for expected in (
        "SJ-2026-000123",
        "悦秀苑1-2-1603",
        "2026年9月租金302.17",
        "陆佰零肆元叁角肆分",
        "¥604.34",
    ):
        assert expected in words, expected

    image, (reason, stamp, number) = colour_page(
        out, "金额录入错误需重新收款", "作\u3000废", "SJ-2026-000123"
    )
    # The note about the void is in red ink where it is printed, and so is the large 作废 stamp.
    for where in (reason, stamp):
        inked = image.crop(where)
        assert red_pixels(inked) > 0.05 * inked.width * inked.height
    assert image.crop(stamp).height > 30 * DPI / 72  # stamp-sized letters, not small print
    # Everything else is still black on white: the receipt number is not red.
    assert red_pixels(image.crop(number)) == 0


def test_a_receipt_that_was_not_voided_has_no_red_ink(tmp_path: Path) -> None:
    out = tmp_path / "receipt.pdf"
    write_receipt(RECEIPT, out)

    image, _where = colour_page(out)
    assert red_pixels(image) == 0


def test_a_payment_of_many_months_lists_every_bill_on_one_page(tmp_path: Path) -> None:
    months = [f"{2024 + i // 12}-{i % 12 + 1:02d}" for i in range(30)]
    lines = [ReceiptLine(month, "租金", 30217) for month in months]
    data = replace(RECEIPT, lines=lines, amount_fen=30217 * 30)
    out = tmp_path / "receipt.pdf"
    write_receipt(data, out)

    (page,) = read_pdf(out)
    assert scanned_payload(page.image).record_id == PAYMENT
    words = squeeze(page.text)
    for month in months:
        year, number = month.split("-")
        assert f"{year}年{int(number)}月" in words, month
    assert "¥9,065.10" in words
    assert "玖仟零陆拾伍元壹角" in words


def test_a_receipt_that_cannot_fit_one_page_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    lines = [ReceiptLine(f"{2000 + i // 12}-{i % 12 + 1:02d}", "租金", 100) for i in range(300)]
    out = tmp_path / "receipt.pdf"

    with pytest.raises(UserError, match="300 笔账单"):
        write_receipt(replace(RECEIPT, lines=lines, amount_fen=30000), out)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "data",
    [
        replace(RECEIPT, amount_fen=60435),  # lines do not add up to the total
        replace(RECEIPT, amount_fen=0, lines=[]),
        replace(RECEIPT, printed_at=datetime(2026, 11, 20, 10, 5)),  # no time zone
    ],
    ids=["not-adding-up", "nothing-paid", "naive-time"],
)
def test_a_receipt_whose_figures_are_wrong_is_a_program_error_and_prints_nothing(
    tmp_path: Path, data: ReceiptData
) -> None:
    with pytest.raises(ValueError):
        write_receipt(data, tmp_path / "receipt.pdf")
    assert list(tmp_path.iterdir()) == []


# -- reminder notices -----------------------------------------------------------------------------------


def test_bulk_notices_print_one_page_per_household_each_filed_to_its_own_notice(tmp_path: Path) -> None:
    out = tmp_path / "notices.pdf"

    assert write_notices(NOTICES, out) == 3

    pages = read_pdf(out)
    assert len(pages) == 3
    for notice, page in zip(NOTICES, pages, strict=True):
        payload = scanned_payload(page.image)
        assert payload == Payload(RecordKind.FORM, STATION, notice.notice_id, "N")
        # The tear-off 回执 carries the same code, so the signed slip that comes back is filed too.
        width, height = page.image.size
        (slip,) = decode_qr_texts(page.image.crop((0, round(height * 0.74), width, height)))
        assert slip == payload.encode()

        words = squeeze(page.text)
        for expected in (
            "催缴通知书",
            f"编号：{notice.notice_no}",
            f"{notice.leaseholder}（悦秀苑{notice.unit_code}承租人）",
            notice.lease_no,
            f"累计欠缴{notice.months_overdue}个月",
            f"目前催缴阶段：{notice.stage_label}",
            "请您于2026年12月5日前到悦秀苑公共租赁住房服务站缴清上述欠款",
            "027-82776600",
            "悦秀苑公共租赁住房服务站（盖章）",
            "回执",
            "签收人（签字）",
            "签收日期",
        ):
            assert expected in words, expected
        for period, _fen in notice.periods:
            assert f"2026年{int(period[-2:])}月302.17" in words
        others = [other for other in NOTICES if other is not notice]
        for other in others:
            assert other.unit_code not in words
            assert other.leaseholder not in words


@pytest.mark.parametrize(
    ("months", "figures", "capitals"),
    [(5, "¥1,510.85", "壹仟伍佰壹拾元捌角伍分"), (6, "¥1,813.02", "壹仟捌佰壹拾叁元零贰分")],
)
def test_a_notice_states_the_total_owed_in_figures_and_capitals(
    tmp_path: Path, months: int, figures: str, capitals: str
) -> None:
    out = tmp_path / "notice.pdf"
    write_notices([_notice(7, "1-1-101", "陈桂芳", months)], out)

    (page,) = read_pdf(out)
    words = squeeze(page.text)
    assert f"合计欠缴（大写）人民币{capitals}{figures}" in words
    assert f"欠缴金额{figures}" in words  # on the 回执 as well


def test_the_l7_warning_appears_only_from_six_months_of_arrears(tmp_path: Path) -> None:
    """L7: 累计6个月以上拖欠租金 → must vacate; the notice quotes the rule to those it applies to."""
    out = tmp_path / "notices.pdf"
    write_notices(NOTICES, out)

    shown = ["公共租赁住房管理办法" in page.text and L7_WORDS in squeeze(page.text) for page in read_pdf(out)]
    assert shown == [notice.months_overdue >= 6 for notice in NOTICES] == [False, True, True]


def test_a_long_list_of_months_still_fits_one_page(tmp_path: Path) -> None:
    periods = [(f"{2024 + i // 12}-{i % 12 + 1:02d}", 30217) for i in range(24)]
    notice = replace(NOTICES[2], months_overdue=24, periods=periods, amount_due_fen=30217 * 24)
    out = tmp_path / "notice.pdf"

    assert write_notices([notice], out) == 1

    (page,) = read_pdf(out)
    words = squeeze(page.text)
    assert "2024年1月302.17" in words
    assert "2025年12月302.17" in words
    assert L7_WORDS in words
    assert "回执" in words


def test_a_station_without_a_phone_number_asks_the_household_to_come_by(tmp_path: Path) -> None:
    out = tmp_path / "notice.pdf"
    write_notices([replace(NOTICES[0], station_phone=" ")], out)

    (page,) = read_pdf(out)
    words = squeeze(page.text)
    assert "致电" not in words
    assert "如有疑问，请到服务站咨询。" in words


def test_no_notices_is_one_chinese_sentence_and_no_file(tmp_path: Path) -> None:
    with pytest.raises(UserError) as caught:
        write_notices([], tmp_path / "notices.pdf")

    assert caught.value.message.count("。") == 1
    assert list(tmp_path.iterdir()) == []


def test_a_notice_whose_periods_do_not_add_up_prints_nothing(tmp_path: Path) -> None:
    bad = replace(NOTICES[1], amount_due_fen=NOTICES[1].amount_due_fen + 1)

    with pytest.raises(ValueError):
        write_notices([NOTICES[0], bad], tmp_path / "notices.pdf")
    assert list(tmp_path.iterdir()) == []


# -- the file -------------------------------------------------------------------------------------------


def _write_receipt(out: Path) -> None:
    write_receipt(replace(RECEIPT, void=VOID), out)


def _write_notices(out: Path) -> None:
    write_notices(NOTICES, out)


WRITERS: list[Callable[[Path], None]] = [_write_receipt, _write_notices]


@pytest.mark.parametrize("write", WRITERS, ids=["receipt", "notices"])
def test_the_pdf_uses_only_the_embedded_cjk_font_and_every_character_has_a_glyph(
    tmp_path: Path, write: Callable[[Path], None]
) -> None:
    from reportlab.pdfbase import pdfmetrics

    out = tmp_path / "paper.pdf"
    write(out)

    report = subprocess.run(["pdffonts", str(out)], capture_output=True, text=True, check=True).stdout
    listed = report.splitlines()[2:]
    assert listed, report
    for line in listed:
        name, *_middle, embedded, _subset, _unicode, _object, _generation = line.split()
        assert "WenQuanYiMicroHei" in name
        assert embedded == "yes", report
    assert b"Helvetica" not in out.read_bytes()
    glyphs = pdfmetrics.getFont(fonts.cjk_font()).face.charToGlyph
    printed = "".join(page.text for page in read_pdf(out))
    assert sorted({c for c in printed if not c.isspace() and ord(c) not in glyphs}) == []


@pytest.mark.parametrize("write", WRITERS, ids=["receipt", "notices"])
def test_a_folder_that_cannot_be_made_is_reported_with_the_path(
    tmp_path: Path, write: Callable[[Path], None]
) -> None:
    blocker = tmp_path / "prints"
    blocker.write_text("a file where the folder should be")
    out = blocker / "paper.pdf"

    with pytest.raises(EnvironmentProblem) as caught:
        write(out)

    assert str(out) in caught.value.message
    assert sorted(p.name for p in tmp_path.iterdir()) == ["prints"]


@pytest.mark.parametrize("write", WRITERS, ids=["receipt", "notices"])
def test_a_failed_write_keeps_the_old_file_and_leaves_no_partial_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, write: Callable[[Path], None]
) -> None:
    out = tmp_path / "paper.pdf"
    out.write_bytes(b"%PDF- printed yesterday")

    def disk_full(*args: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "replace", disk_full)
    with pytest.raises(EnvironmentProblem) as caught:
        write(out)
    monkeypatch.undo()

    assert str(out) in caught.value.message
    assert out.read_bytes() == b"%PDF- printed yesterday"
    assert list(tmp_path.iterdir()) == [out]
