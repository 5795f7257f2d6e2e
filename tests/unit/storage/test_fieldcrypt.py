"""Sealed personal values (issue 6, PIPL §2): a value opens only in its own row and column, under its own key,
and any changed byte is an error, never a wrong value."""

from __future__ import annotations

import hmac
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yuexiu_desk.storage.fieldcrypt import FieldKeys, TamperedData, derive, new_data_key, unwrap, wrap

KEYS = FieldKeys(new_data_key())
ROW = uuid.UUID("3f1c6d2e-0000-4000-8000-00000000abcd")
NUMBER = "42010219850317997X"


def test_a_sealed_value_opens_to_what_was_written_and_does_not_show_it() -> None:
    sealed = KEYS.seal("household_member", "id_number", ROW, NUMBER)
    assert NUMBER.encode() not in sealed and b"19850317" not in sealed
    assert KEYS.open("household_member", "id_number", ROW, sealed) == NUMBER
    # The same value sealed twice differs (a fresh nonce), so equal numbers cannot be spotted in the file.
    assert KEYS.seal("household_member", "id_number", ROW, NUMBER) != sealed


def test_a_bulk_sealer_seals_the_same_form_with_a_new_nonce_for_every_value() -> None:
    sealer = KEYS.sealer()
    count = sealer.NONCE_BATCH * 2 + 3  # across two refills of its nonce batch
    rows = [uuid.uuid4() for _ in range(count)]
    sealed = [sealer.seal("household_member", "id_number", row, NUMBER) for row in rows]
    nonces = {s[1:13] for s in sealed}
    assert len(nonces) == count
    assert all(
        KEYS.open("household_member", "id_number", row, s) == NUMBER
        for row, s in zip(rows, sealed, strict=True)
    )
    with pytest.raises(TamperedData):
        KEYS.open("household_member", "id_number", rows[1], sealed[0])
    assert sealer.index("id_number", NUMBER) == KEYS.index("id_number", NUMBER)
    # The index is HMAC-SHA-256 under the derived index key, however it is computed.
    expected = hmac.new(
        derive(KEYS.data_key, "yuexiu-desk search index v1"), f"id_number\x00{NUMBER}".encode(), "sha256"
    ).digest()
    assert KEYS.index("id_number", NUMBER) == expected


def test_the_row_id_is_bound_whether_given_as_uuid_or_as_stored_hex() -> None:
    sealed = KEYS.seal("household_member", "phone", ROW.hex, "13800001234")
    assert KEYS.open("household_member", "phone", ROW, sealed) == "13800001234"


@pytest.mark.parametrize(
    ("table", "column", "row"),
    [
        ("household_member", "id_number", uuid.uuid4()),  # copied into another person's row
        ("household_member", "phone", ROW),  # copied into another column of the same row
        ("complaint", "id_number", ROW),  # copied into another table
    ],
)
def test_a_value_moved_elsewhere_does_not_open(table: str, column: str, row: uuid.UUID) -> None:
    sealed = KEYS.seal("household_member", "id_number", ROW, NUMBER)
    with pytest.raises(TamperedData, match="无法通过校验"):
        KEYS.open(table, column, row, sealed)


def test_every_changed_byte_is_detected() -> None:
    sealed = KEYS.seal("household_member", "id_number", ROW, NUMBER)
    for position in range(len(sealed)):
        for flip in (0x01, 0x80):
            bad = bytearray(sealed)
            bad[position] ^= flip
            with pytest.raises(TamperedData):
                KEYS.open("household_member", "id_number", ROW, bytes(bad))


@given(st.binary(max_size=80))
def test_arbitrary_bytes_never_open(junk: bytes) -> None:
    with pytest.raises(TamperedData):
        KEYS.open("household_member", "id_number", ROW, junk)


@given(st.text(max_size=200))
def test_any_text_round_trips(value: str) -> None:
    assert KEYS.open("t", "c", ROW, KEYS.seal("t", "c", ROW, value)) == value


def test_another_stations_key_cannot_open_or_search() -> None:
    other = FieldKeys(new_data_key())
    sealed = KEYS.seal("household_member", "id_number", ROW, NUMBER)
    with pytest.raises(TamperedData):
        other.open("household_member", "id_number", ROW, sealed)
    assert other.index("id_number", NUMBER) != KEYS.index("id_number", NUMBER)


def test_the_search_index_is_exact_keyed_and_purpose_bound() -> None:
    assert KEYS.index("id_number", NUMBER) == KEYS.index("id_number", NUMBER)
    assert KEYS.index("id_number", NUMBER) != KEYS.index("id_number", NUMBER[:-1] + "1")
    assert KEYS.index("id_number", NUMBER) != KEYS.index("phone", NUMBER)
    assert NUMBER.encode() not in KEYS.index("id_number", NUMBER)


def test_a_wrapped_data_key_opens_only_with_its_key_and_label() -> None:
    data_key, kek = new_data_key(), new_data_key()
    wrapped = wrap(kek, data_key, "account:zhang")
    assert data_key not in wrapped
    assert unwrap(kek, wrapped, "account:zhang") == data_key
    assert unwrap(new_data_key(), wrapped, "account:zhang") is None  # a wrong password's key
    assert unwrap(kek, wrapped, "account:li") is None  # a slot copied to another account
