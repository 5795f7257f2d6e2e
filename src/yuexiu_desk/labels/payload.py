"""The QR payload printed on labels and typed by the scanner: short, versioned, offline, checked.

    YX1U-YXY01-<26 base32 chars of the record UUID>-<check>

"YX" marks our labels, "1" is the format version, "U" the kind of record (U = unit), then the
station code (so another estate's label is recognised as foreign), the record id, and an
ISO 7064 MOD 37,36 check character over everything before it, which catches any single mistyped
character and most swaps. Only upper-case letters, digits and "-" are used: QR alphanumeric mode
keeps the code small, and every keyboard layout a scanner emulates types them the same.
"""

from __future__ import annotations

import base64
import re
import unicodedata
import uuid
from dataclasses import dataclass
from enum import StrEnum

from stdnum.iso7064 import mod_37_36

from yuexiu_desk.errors import UserError

MAGIC = "YX"
VERSION = "1"


class RecordKind(StrEnum):
    UNIT = "U"

    @property
    def label(self) -> str:
        return {RecordKind.UNIT: "房源"}[self]


@dataclass(frozen=True)
class Payload:
    kind: RecordKind
    station_code: str
    record_id: uuid.UUID

    def encode(self) -> str:
        ident = base64.b32encode(self.record_id.bytes).decode("ascii").rstrip("=")
        body = f"{MAGIC}{VERSION}{self.kind.value}-{self.station_code}-{ident}"
        return f"{body}-{mod_37_36.calc_check_digit(_digits(body))}"


def _digits(body: str) -> str:
    return body.replace("-", "")


_SHAPE = re.compile(
    r"^YX(?P<version>[0-9A-Z])(?P<kind>[A-Z])-(?P<station>[0-9A-Z]{1,8})-(?P<id>[A-Z2-7]{26})-(?P<check>[0-9A-Z*])$"
)


def looks_like_payload(text: str) -> bool:
    """True when text claims to be one of our labels (it may still fail the checks)."""
    return text.strip().upper().startswith(MAGIC)


def parse(text: str, station_code: str | None = None) -> Payload:
    """The payload in text, or a UserError that says in one sentence what is wrong with it."""
    cleaned = unicodedata.normalize("NFKC", text).strip().upper()
    if not cleaned.startswith(MAGIC):
        raise UserError("这不是本系统打印的标签二维码，请扫描房门上的悦秀苑房源标签。")
    # The version comes first: a later version may have a different shape altogether.
    version = cleaned[len(MAGIC) : len(MAGIC) + 1]
    if version != VERSION and version.isalnum():
        raise UserError(f"这是第 {version} 版标签，本程序只认识第 {VERSION} 版，请升级程序或重新打印标签。")
    match = _SHAPE.match(cleaned)
    if match is None:
        raise UserError("标签内容不完整或已损坏，请重新扫描；仍不行请重新打印该标签。")
    body, _, _check = cleaned.rpartition("-")
    if not mod_37_36.is_valid(_digits(body) + match["check"]):
        raise UserError("标签校验失败（扫描不完整或内容被改动），请重新扫描；仍不行请重新打印该标签。")
    try:
        kind = RecordKind(match["kind"])
    except ValueError:
        raise UserError("这种标签本程序还不认识，请升级程序。") from None
    if station_code is not None and match["station"] != station_code.upper():
        raise UserError(f"这是其他服务站（{match['station']}）的标签，不属于本站，请扫描本站的标签。")
    record_id = uuid.UUID(bytes=base64.b32decode(match["id"] + "======"))
    return Payload(kind, match["station"], record_id)
