"""ID numbers and phones: rules D1–D4 and D6 of domain-rules.md."""

from __future__ import annotations

from datetime import date

import pytest
from stdnum.iso7064 import mod_11_2

from yuexiu_desk.domain.identity import (
    IdKind,
    Sex,
    mask_id_number,
    mask_phone,
    normalize_phone,
    parse_id_number,
)
from yuexiu_desk.errors import UserError


def _with_check(body17: str) -> str:
    return body17 + mod_11_2.calc_check_digit(body17)


def test_d2_the_documented_example_is_valid_with_birth_date_and_sex() -> None:
    parsed = parse_id_number("11010519491231002X")
    assert parsed.birth_date == date(1949, 12, 31)
    assert parsed.sex is Sex.FEMALE  # D1: even sequence digit
    assert parsed.kind is IdKind.RESIDENT


def test_d1_odd_sequence_is_male_and_jiangan_code_is_accepted() -> None:
    number = _with_check("42010219650315001")  # D5: 江岸区 420102
    parsed = parse_id_number(number.lower())
    assert parsed.number == number and parsed.sex is Sex.MALE


def test_d2_every_single_digit_error_is_caught() -> None:
    number = _with_check("42010219800101123")
    for position in range(18):
        for replacement in "0123456789X":
            if replacement == number[position] or (position < 17 and replacement == "X"):
                continue
            typo = number[:position] + replacement + number[position + 1 :]
            with pytest.raises(UserError):
                parse_id_number(typo)


def test_d3_legacy_15_digit_numbers_are_converted() -> None:
    parsed = parse_id_number("110105491231002")
    assert parsed.number == "11010519491231002X" and parsed.converted_from_legacy


def test_d4_permanent_residence_card_starting_with_9_is_accepted() -> None:
    parsed = parse_id_number(_with_check("91560019900101001"))
    assert parsed.kind is IdKind.PERMANENT_RESIDENCE and parsed.birth_date == date(1990, 1, 1)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "请填写"),
        ("4201021980", "18 位"),
        ("42010219800101123Y", "数字或 X"),
        (_with_check("42010219801301123"), "出生日期"),
        (_with_check("00010219800101123"), "0 开头"),
        (_with_check("88888819800101123"), "地址码"),
    ],
)
def test_bad_id_numbers_get_a_sentence(text: str, words: str | None) -> None:
    with pytest.raises(UserError) as info:
        parse_id_number(text)
    if words:
        assert words in info.value.message
    assert len(text) < 18 or text not in info.value.message  # the full number is never echoed


def test_a_birth_date_in_the_future_is_refused() -> None:
    with pytest.raises(UserError, match="晚于今天"):
        parse_id_number(_with_check("42010220300101123"), today=date(2026, 11, 25))


def test_masks_show_only_the_ends() -> None:
    assert mask_id_number("42010219650315001X") == "4201**********001X"
    assert mask_phone("13800138000") == "138****8000"


def test_d6_mobiles_and_landlines() -> None:
    assert normalize_phone("+86 138-0013-8000") == "13800138000"
    assert normalize_phone("027-82801234") == "02782801234"
    for bad in ["12345678901", "1380013800", "abc"]:
        with pytest.raises(UserError, match="手机号"):
            normalize_phone(bad)
