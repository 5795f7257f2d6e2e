"""Unit codes, areas and which 异动 are possible."""

from decimal import Decimal

import pytest

from yuexiu_desk.domain.units import (
    TRANSITIONS,
    ChangeKind,
    UnitCode,
    UnitStatus,
    area_to_hundredths,
    change_kind,
    hundredths_to_area,
    parse_status,
)
from yuexiu_desk.errors import UserError


def test_unit_code_round_trip_and_chinese_name() -> None:
    code = UnitCode.parse("1-2-1603")
    assert (code.building, code.entrance, code.floor, code.room) == (1, 2, 16, 3)
    assert str(code) == "1-2-1603"
    assert code.chinese == "1栋2单元1603室"
    assert str(UnitCode.parse(" 2 - 1 - 101 ")) == "2-1-101"


@pytest.mark.parametrize("text", ["", "1-2", "1-2-3", "a-b-cdef", "1/2/1603", "0-1-101", "1-1-100"])
def test_bad_unit_codes_get_a_sentence_with_the_format(text: str) -> None:
    with pytest.raises(UserError) as info:
        UnitCode.parse(text)
    assert "房号" in info.value.message


def test_every_status_has_a_label_and_parses_from_code_or_chinese() -> None:
    for status in UnitStatus:
        assert parse_status(status.value) is status
        assert parse_status(status.label) is status
    with pytest.raises(UserError, match="没有"):
        parse_status("sold")


def test_change_needs_a_reason_and_a_possible_target() -> None:
    assert change_kind(UnitStatus.VACANT, UnitStatus.OCCUPIED, "配租入住") is ChangeKind.MOVE_IN
    assert change_kind(UnitStatus.OCCUPIED, UnitStatus.VACANT, "合同到期退出") is ChangeKind.MOVE_OUT
    with pytest.raises(UserError, match="原因"):
        change_kind(UnitStatus.VACANT, UnitStatus.OCCUPIED, " ")
    with pytest.raises(UserError, match="已经是"):
        change_kind(UnitStatus.VACANT, UnitStatus.VACANT, "重复")
    with pytest.raises(UserError, match="不能从"):
        change_kind(UnitStatus.OCCUPIED, UnitStatus.RESERVED, "给别人预留")


def test_every_status_can_be_left_and_reached() -> None:
    sources = {f for f, _ in TRANSITIONS}
    targets = {t for _, t in TRANSITIONS}
    assert sources == set(UnitStatus) == targets


def test_areas_are_exact_hundredths() -> None:
    assert area_to_hundredths("54.94") == 5494
    assert hundredths_to_area(1022584) == Decimal("10225.84")
    for bad in ["54.945", "-1", "0", "abc", "NaN"]:
        with pytest.raises(UserError):
            area_to_hundredths(bad)
