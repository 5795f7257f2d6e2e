"""The label payload: what the scanner types must come back as the same record, and damage must be refused."""

from __future__ import annotations

import string
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum.iso7064 import mod_37_36

from yuexiu_desk.errors import UserError
from yuexiu_desk.labels.payload import Payload, RecordKind, looks_like_payload, parse

STATION = "YXY01"
UNIT_ID = uuid.UUID("6e2c6846-e699-4488-9e64-d36af8027ac6")
# Every character a scanner can type into a payload (upper case; lower case is folded by parse).
TYPABLE = string.ascii_uppercase + string.digits + "-*"


def _payload(station: str = STATION, record_id: uuid.UUID = UNIT_ID) -> Payload:
    return Payload(RecordKind.UNIT, station, record_id)


def test_encoded_payload_parses_back_to_the_same_unit() -> None:
    text = _payload().encode()

    assert text.startswith("YX1U-YXY01-")
    assert parse(text) == _payload()
    assert parse(text, station_code=STATION) == _payload()
    assert looks_like_payload(text)


def test_payload_uses_only_characters_every_scanner_types_alike() -> None:
    text = _payload().encode()

    assert set(text) <= set(string.ascii_uppercase + string.digits + "-*")


@given(st.uuids(), st.text(alphabet=string.ascii_uppercase + string.digits, min_size=1, max_size=8))
def test_any_unit_of_any_station_round_trips(record_id: uuid.UUID, station: str) -> None:
    payload = Payload(RecordKind.UNIT, station, record_id)

    assert parse(payload.encode()) == payload


def test_caps_lock_scanner_lower_case_and_trailing_enter_are_accepted() -> None:
    text = _payload().encode()

    assert parse(text.lower()) == _payload()
    assert parse(f"  {text.lower()}\r\n", station_code=STATION.lower()) == _payload()


def _single_substitutions(text: str, start: int) -> list[str]:
    """Every text that differs from text in exactly one character at or after start."""
    return [
        text[:position] + replacement + text[position + 1 :]
        for position in range(start, len(text))
        for replacement in TYPABLE
        if replacement != text[position]
    ]


def test_every_single_mistyped_character_in_station_id_or_check_is_refused() -> None:
    text = _payload().encode()
    station_start = len("YX1U-")
    damaged = _single_substitutions(text, station_start)
    assert len(damaged) == (len(text) - station_start) * (len(TYPABLE) - 1)

    accepted = []
    for candidate in damaged:
        try:
            parse(candidate)
        except UserError:
            continue
        accepted.append(candidate)

    assert accepted == []


@given(st.uuids(), st.data())
def test_a_random_single_substitution_is_refused(record_id: uuid.UUID, data: st.DataObject) -> None:
    text = _payload(record_id=record_id).encode()
    position = data.draw(st.integers(min_value=len("YX1U-"), max_value=len(text) - 1))
    replacement = data.draw(st.sampled_from([c for c in TYPABLE if c != text[position]]))

    with pytest.raises(UserError):
        parse(text[:position] + replacement + text[position + 1 :])


def test_label_of_another_station_is_recognised_as_foreign() -> None:
    foreign = _payload(station="HKY02").encode()

    with pytest.raises(UserError, match="其他服务站") as caught:
        parse(foreign, station_code=STATION)

    assert "HKY02" in caught.value.message
    # Without a station to compare with (e.g. the bureau reading many stations) it is a valid label.
    assert parse(foreign).station_code == "HKY02"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "hello",
        "1-2-1603",
        "https://example.com/unit/1-2-1603",
        "YX",
        "YX1U-",
        "YX1U-YXY01-",
        "YX1U-YXY01-NYWGQRZGTJCIRHTE2NVPQAT24Y",
    ],
)
def test_garbage_urls_and_cut_off_scans_are_refused(text: str) -> None:
    with pytest.raises(UserError) as caught:
        parse(text)

    assert caught.value.message.endswith("。")


def test_cut_off_scan_says_to_scan_again() -> None:
    text = _payload().encode()

    with pytest.raises(UserError, match="重新扫描"):
        parse(text[:-3])


def test_a_newer_label_version_asks_for_an_upgrade() -> None:
    ident = _payload().encode().split("-")[2]
    body = f"YX2U-{STATION}-{ident}"
    version_2 = f"{body}-{mod_37_36.calc_check_digit(body.replace('-', ''))}"

    with pytest.raises(UserError, match="第 2 版") as caught:
        parse(version_2, station_code=STATION)

    assert "升级" in caught.value.message


def test_a_valid_label_of_an_unknown_record_kind_asks_for_an_upgrade() -> None:
    ident = _payload().encode().split("-")[2]
    body = f"YX1Z-{STATION}-{ident}"
    unknown_kind = f"{body}-{mod_37_36.calc_check_digit(body.replace('-', ''))}"

    with pytest.raises(UserError, match="升级"):
        parse(unknown_kind)


def test_a_newer_label_version_is_named_even_when_its_layout_differs() -> None:
    with pytest.raises(UserError, match="第 2 版"):
        parse("YX2U-AAAA")
