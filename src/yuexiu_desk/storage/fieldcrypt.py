"""Encryption at rest of personal data: the station's data key, the sealed form of one field, the search index.

A field is sealed with AES-256-GCM under a key derived from the station's data key; the table, column and row
id are the associated data, so a sealed value copied into another row or column fails to open instead of
showing someone else's number there. Opening a value whose bytes were changed raises TamperedData: the app
shows an error, never wrong data. ID numbers are also searchable through a keyed hash (HMAC-SHA-256 under a
second derived key), so an exact search works without decrypting every row and without a plain hash that
could be brute-forced from the small space of valid ID numbers.

The data key itself is never stored: services.keys keeps it wrapped once per account (under a key derived from
that account's password) and once under the station's printed recovery key.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import uuid

from yuexiu_desk.errors import UserError

# cryptography (≈ 50 ms to import) is loaded at the first sealed value, not when the desk starts.

KEY_BYTES = 32
NONCE_BYTES = 12
# First byte of every sealed value: the format (and derived key) it was sealed with, so keys can be rotated.
FORMAT_V1 = b"\x01"


class TamperedData(UserError):
    """A sealed value did not open: its bytes, or the row it sits in, are not what was written."""


class KeyUnavailable(UserError):
    """Personal data was asked for by a session that holds no data key (nobody signed in, or no key slot)."""


def derive(secret: bytes, purpose: str) -> bytes:
    """A 256-bit key for one purpose from a high-entropy secret (HKDF-SHA-256)."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    return HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=purpose.encode()).derive(secret)


def new_data_key() -> bytes:
    return os.urandom(KEY_BYTES)


def wrap(kek: bytes, data_key: bytes, label: str) -> bytes:
    """The data key sealed under a key-encryption key; label (the slot's holder) is bound as associated data."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(kek).encrypt(nonce, data_key, label.encode())


def unwrap(kek: bytes, wrapped: bytes, label: str) -> bytes | None:
    """The data key, or None when kek is not the key it was wrapped with (a wrong password or recovery key)."""
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    try:
        return AESGCM(kek).decrypt(wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], label.encode())
    except InvalidTag:
        return None


class FieldKeys:
    """The keys derived from one station's data key, held in memory while someone is signed in."""

    def __init__(self, data_key: bytes) -> None:
        if len(data_key) != KEY_BYTES:
            raise ValueError("a data key is 32 bytes")
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        self.data_key = data_key
        self._aead = AESGCM(derive(data_key, "yuexiu-desk field encryption v1"))
        # HMAC's keyed start state, made once: index() copies it (the same digest as hmac.new(key, msg) each
        # time, without hashing the padded key again for every value).
        self._index_mac = hmac.new(derive(data_key, "yuexiu-desk search index v1"), digestmod=hashlib.sha256)

    def seal(self, table: str, column: str, row_id: uuid.UUID | str, value: str) -> bytes:
        return self._seal(os.urandom(NONCE_BYTES), table, column, row_id, value)

    def _seal(self, nonce: bytes, table: str, column: str, row_id: uuid.UUID | str, value: str) -> bytes:
        return FORMAT_V1 + nonce + self._aead.encrypt(nonce, value.encode(), _bound(table, column, row_id))

    def sealer(self) -> BulkSealer:
        """A sealer for a writer that seals many values in one go (the ledger import)."""
        return BulkSealer(self)

    def open(self, table: str, column: str, row_id: uuid.UUID | str, sealed: bytes) -> str:
        if sealed[:1] != FORMAT_V1 or len(sealed) < 1 + NONCE_BYTES + 16:
            raise _tampered(table, column, row_id)
        nonce, body = sealed[1 : 1 + NONCE_BYTES], sealed[1 + NONCE_BYTES :]
        from cryptography.exceptions import InvalidTag

        try:
            return self._aead.decrypt(nonce, body, _bound(table, column, row_id)).decode()
        except (InvalidTag, UnicodeDecodeError):
            raise _tampered(table, column, row_id) from None

    def index(self, purpose: str, value: str) -> bytes:
        """The keyed hash an exact search looks values up by (purpose keeps ID numbers and phones apart)."""
        mac = self._index_mac.copy()
        mac.update(f"{purpose}\x00{value}".encode())
        return mac.digest()


class BulkSealer:
    """FieldKeys.seal for many values in a row: the same sealed form, each value with its own random 96-bit
    nonce, but the nonces are read from the operating system's generator in one call per NONCE_BATCH values
    (one os.urandom call per value cost about a third of sealing one). Every nonce is a fresh 12-byte slice of
    that random stream, used once; nothing else is shared between values."""

    NONCE_BATCH = 4096

    def __init__(self, keys: FieldKeys) -> None:
        self._keys = keys
        self._nonces = b""
        self._at = 0

    def seal(self, table: str, column: str, row_id: uuid.UUID | str, value: str) -> bytes:
        at = self._at
        if at >= len(self._nonces):
            self._nonces, at = os.urandom(NONCE_BYTES * self.NONCE_BATCH), 0
        self._at = at + NONCE_BYTES
        return self._keys._seal(self._nonces[at : at + NONCE_BYTES], table, column, row_id, value)

    def index(self, purpose: str, value: str) -> bytes:
        return self._keys.index(purpose, value)


def _bound(table: str, column: str, row_id: uuid.UUID | str) -> bytes:
    # A row id is a UUID, or its 32 hex digits as bulk writers and SQLite's Uuid columns hold it.
    row = row_id if isinstance(row_id, str) else row_id.hex
    return f"{table}\x00{column}\x00{row}".encode()


def _tampered(table: str, column: str, row_id: uuid.UUID | str) -> TamperedData:
    return TamperedData(
        f"一条加密的个人信息无法通过校验（{table}.{column}，记录 {str(row_id)[:8]}）：数据已被改动或损坏，"
        "系统不会显示可能错误的内容。请运行 yuexiu-desk doctor 检查，并从备份恢复。"
    )
