"""One parser for scanned payloads and typed codes."""

from __future__ import annotations

import uuid

import pytest

from yuexiu_desk.domain.access import system_operator
from yuexiu_desk.errors import UserError
from yuexiu_desk.labels.payload import Payload, RecordKind
from yuexiu_desk.services.lookup import resolve, unit_payload
from yuexiu_desk.services.units import find_unit_id_by_code
from yuexiu_desk.storage.db import Store


def test_a_label_payload_and_a_typed_code_find_the_same_unit(demo_store: Store) -> None:
    with demo_store.read() as session:
        unit_id = find_unit_id_by_code(session, "1-2-1603")
        by_label = resolve(session, unit_payload("YXY01", unit_id))
        by_code = resolve(session, " 1-2-1603 ")
        by_caps_lock = resolve(session, unit_payload("YXY01", unit_id).lower())
    assert by_label.record_id == by_code.record_id == by_caps_lock.record_id == unit_id
    assert (by_label.via, by_code.via, by_label.code) == ("label", "code", "1-2-1603")


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "没有读到"),
        ("https://example.com/unit/1", "既不是"),
        ("YX1U-YXY01-GARBAGE", "不完整"),
        ("9-9-999", "没有房号"),
    ],
)
def test_bad_input_gets_one_clear_sentence(demo_store: Store, text: str, words: str) -> None:
    with pytest.raises(UserError, match=words), demo_store.read() as session:
        resolve(session, text)


def test_labels_of_other_stations_and_unknown_units_are_refused(demo_store: Store) -> None:
    with demo_store.read() as session:
        unit_id = find_unit_id_by_code(session, "1-1-101")
        with pytest.raises(UserError, match="其他服务站"):
            resolve(session, Payload(RecordKind.UNIT, "HKL02", unit_id).encode())
        with pytest.raises(UserError, match="没有这个房源"):
            resolve(session, Payload(RecordKind.UNIT, "YXY01", uuid.uuid4()).encode())


def test_a_typed_work_order_number_opens_its_unit_like_its_slip(demo_store: Store) -> None:
    """A number starts with the station code (YXY01…), which must not be taken for a label payload (YX…)."""
    from yuexiu_desk.services import workorders

    with demo_store.unit_of_work(system_operator("测试")) as session:
        row = workorders.create_work_order(
            session, category="walls", description="墙面渗水", unit_code="1-1-101", operator="测试"
        )
    with demo_store.read() as session:
        resolved = resolve(session, f" {row.number.lower()} ")
        with pytest.raises(UserError, match="没有编号为“YXY01-WX2026-99999”的维修单"):
            resolve(session, "YXY01-WX2026-99999")
    assert (resolved.code, resolved.via, resolved.work_order_number) == ("1-1-101", "work_order", row.number)
