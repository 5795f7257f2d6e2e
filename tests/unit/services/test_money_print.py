"""Receipts and reminder notices printed from the store: what the paper says, and that its QR leads back."""

from __future__ import annotations

from pathlib import Path

from printing.test_forms import read_pdf, squeeze

from yuexiu_desk.domain.access import system_operator
from yuexiu_desk.domain.billing import Channel, DunningStage, Period
from yuexiu_desk.labels.decode import decode_qr_texts
from yuexiu_desk.services import arrears, billing
from yuexiu_desk.services.lookup import resolve
from yuexiu_desk.services.money_print import print_notices, print_receipt
from yuexiu_desk.storage.db import Store


def test_receipt_lists_the_bills_paid_and_its_qr_finds_the_unit(demo_store: Store, tmp_path: Path) -> None:
    with demo_store.unit_of_work(system_operator("财务")) as session:
        billing.run_bills(session, Period(2026, 11), "财务")
        row = arrears.arrears(session, stage=DunningStage.REMINDER)[0]
        owed = row.amount_due_fen
        paid = billing.record_payment(
            session,
            billing.PaymentInput(row.unit_code, f"{owed // 100}.{owed % 100:02d}", Channel.WECHAT, "WX-42"),
            "财务",
        )
        out = print_receipt(session, paid.receipt_no, tmp_path / "收据.pdf")
    page = read_pdf(out)[0]
    text = squeeze(page.text)
    assert paid.receipt_no in text and row.unit_code in text and row.leaseholder in text
    for period, _fen in row.overdue_periods:
        assert Period.parse(period).label in text
    assert "微信" in text and "WX-42" in text
    [payload] = decode_qr_texts(page.image)
    with demo_store.read() as session:
        found = resolve(session, payload)
    assert found.code == row.unit_code and found.via == "form"


def test_voided_receipt_reprints_with_the_void_note(demo_store: Store, tmp_path: Path) -> None:
    code = "1-1-101"
    with demo_store.unit_of_work(system_operator("财务")) as session:
        paid = billing.record_payment(session, billing.PaymentInput(code, "20.00", Channel.CASH), "财务")
        billing.void_payment(session, paid.receipt_no, "金额录错", "财务")
        out = print_receipt(session, paid.receipt_no, tmp_path / "作废.pdf")
    text = squeeze(read_pdf(out)[0].text)
    assert "作废" in text and "金额录错" in text and paid.receipt_no in text


def test_bulk_notices_one_page_per_household_each_finding_its_unit(demo_store: Store, tmp_path: Path) -> None:
    with demo_store.unit_of_work(system_operator("王芳")) as session:
        issued = arrears.issue_notices(session, stage=DunningStage.NOTICE, operator="王芳")
        pages = print_notices(session, issued, tmp_path / "催缴通知书.pdf")
    printed = read_pdf(tmp_path / "催缴通知书.pdf")
    assert pages == len(printed) == len(issued) >= 2
    with demo_store.read() as session:
        for notice, page in zip(issued, printed, strict=True):
            text = squeeze(page.text)
            assert notice.notice_no in text and notice.row.unit_code in text
            codes = {resolve(session, p).code for p in decode_qr_texts(page.image)}
            assert codes == {notice.row.unit_code}
