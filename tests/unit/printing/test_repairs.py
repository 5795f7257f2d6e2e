"""The work-order slip as the worker and the clerk see it (its QR scans back to the order, its Chinese reads),
and the public complaints notice as the notice board shows it: results, and no name, phone or unit."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from printing.test_forms import read_pdf, squeeze
from yuexiu_desk.clock import FixedClock
from yuexiu_desk.domain.access import system_operator
from yuexiu_desk.errors import UserError
from yuexiu_desk.formdefs import RESERVED_CODES
from yuexiu_desk.labels.decode import decode_qr_texts
from yuexiu_desk.labels.payload import RecordKind, parse
from yuexiu_desk.printing.repairs import WORK_ORDER_FORM
from yuexiu_desk.services import complaints, workorders
from yuexiu_desk.services.lookup import resolve, resolve_work_order
from yuexiu_desk.services.people import complainant_contact
from yuexiu_desk.storage.db import Store
from yuexiu_desk.storage.models import Unit
from yuexiu_desk.storage.repair_models import Complaint

OPERATOR = "周管家"


def test_the_slip_letter_is_reserved_for_forms() -> None:
    assert RESERVED_CODES[WORK_ORDER_FORM] == "维修派工单"
    assert len(set(RESERVED_CODES)) == len(RESERVED_CODES)


def test_a_slip_prints_the_order_and_its_qr_opens_the_unit_and_names_the_order(
    demo_store: Store, tmp_path: Path
) -> None:
    with demo_store.unit_of_work(system_operator(OPERATOR)) as session:
        row = workorders.create_work_order(
            session,
            category="plumbing",
            description="厨房水龙头关不紧",
            unit_code="2-1-1203",
            operator=OPERATOR,
        )
        workorders.dispatch(session, row.number, "李师傅", OPERATOR)
    out = tmp_path / "派工单.pdf"
    with demo_store.read() as session:
        workorders.print_slip(session, row.number, out)
    (page,) = read_pdf(out)
    text = squeeze(page.text)
    for words in (
        "维修派工单",
        row.number,
        "2-1-1203",
        "给排水",
        "厨房水龙头关不紧",
        "李师傅",
        "完工登记",
        "费用承担",
    ):
        assert words in text
    (payload,) = decode_qr_texts(page.image)
    parsed = parse(payload, "YXY01")
    assert (parsed.kind, parsed.form, parsed.record_id) == (RecordKind.FORM, WORK_ORDER_FORM, row.id)
    with demo_store.read() as session:
        resolved = resolve(session, payload)
        assert (
            resolve_work_order(session, payload) == resolve_work_order(session, row.number.lower()) == row.id
        )
        unit_id = session.scalar(select(Unit.id).where(Unit.code == "2-1-1203"))
    assert (resolved.record_id, resolved.code, resolved.via) == (unit_id, "2-1-1203", "work_order")
    assert (resolved.work_order_id, resolved.work_order_number) == (row.id, row.number)


def test_a_public_area_slip_names_the_order_it_cannot_open_as_a_unit(
    demo_store: Store, tmp_path: Path
) -> None:
    with demo_store.unit_of_work(system_operator(OPERATOR)) as session:
        row = workorders.create_work_order(
            session,
            category="elevator",
            description="电梯按钮失灵",
            location="2栋1单元电梯",
            operator=OPERATOR,
        )
    out = tmp_path / "派工单.pdf"
    with demo_store.read() as session:
        workorders.print_slip(session, row.number, out)
    (payload,) = decode_qr_texts(read_pdf(out)[0].image)
    with demo_store.read() as session:
        with pytest.raises(UserError, match=f"公共区域的维修单 {row.number}（2栋1单元电梯）"):
            resolve(session, payload)
        assert resolve_work_order(session, payload) == row.id


def test_the_public_notice_lists_results_and_no_personal_data(
    demo_store: Store, clock: FixedClock, tmp_path: Path
) -> None:
    with demo_store.unit_of_work(system_operator(OPERATOR)) as session:
        number = complaints.add_complaint(
            session,
            channel="visit",
            category="neighbour",
            content="楼上夜间噪音扰民",
            complainant="欧阳秀兰",
            phone="13971234568",
            unit_code="1-1-502",
            operator=OPERATOR,
        ).number
        complaints.reply(session, number, "已上门调解", OPERATOR, public_result="已上门调解，双方达成一致。")
        complaints.return_visit(session, number, 4, OPERATOR)
    out = tmp_path / "公示.pdf"
    with demo_store.read() as session:
        listed = complaints.print_notice(session, date(2024, 1, 1), date(2026, 12, 31), out)
        contacts = [
            (*complainant_contact(complaint), unit_code)
            for complaint, unit_code in session.execute(
                select(Complaint, Unit.code).outerjoin(Unit, Unit.id == Complaint.unit_id)
            )
        ]
    text = "".join(squeeze(page.text) for page in read_pdf(out))
    assert "投诉建议处理结果公示" in text and number in text and "已上门调解，双方达成一致。" in text
    assert listed >= 40  # the demo's two years plus this one
    assert "不含姓名、电话及房号" in text
    for name, phone, unit_code in contacts:
        for secret in (name, phone, unit_code):
            if secret:
                assert secret not in text, secret
    clock.advance(timedelta(days=1))
    with pytest.raises(UserError, match="早于开始日期"), demo_store.read() as session:
        complaints.print_notice(session, date(2026, 2, 1), date(2026, 1, 1), out)
