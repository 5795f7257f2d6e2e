"""The QR payload printed on labels and typed by the scanner: short, versioned, offline, checked.

    YX1U-YXY01-<26 base32 chars of the record UUID>-<check>

"YX" marks our labels, "1" is the format version, "U" the kind of record (U = unit), then the
station code (so another estate's label is recognised as foreign), the record id, and an
ISO 7064 MOD 37,36 check character over everything before it, which catches any single mistyped
character and most swaps. Only upper-case letters, digits and "-" are used: QR alphanumeric mode
keeps the code small, and every keyboard layout a scanner emulates types them the same.

A printed form carries kind "F" followed by one letter naming the form (its `code` in forms/*.toml,
e.g. C = 入住交接单), and the id of the record the signed scan is to be filed to:

    YX1FC-YXY01-<26 base32 chars of the record UUID>-<check>

Which forms the letters name is data (forms/), so this module accepts any letter after "F"; only "F"
takes one, so unit labels printed before forms existed read exactly as before.
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
    FORM = "F"  # a printed form; Payload.form says which one

    @property
    def label(self) -> str:
        return {RecordKind.UNIT: "房源", RecordKind.FORM: "表单"}[self]


_FORM_CODE = re.compile(r"^[A-Z]$")


@dataclass(frozen=True)
class Payload:
    kind: RecordKind
    station_code: str
    record_id: uuid.UUID
    form: str | None = None  # one upper-case letter, present exactly when kind is FORM

    def __post_init__(self) -> None:
        if (self.kind is RecordKind.FORM) != (self.form is not None):
            raise ValueError("a form payload needs a form letter, and only a form payload has one")
        if self.form is not None and not _FORM_CODE.match(self.form):
            raise ValueError(f"form code must be one letter A-Z, not {self.form!r}")

    def encode(self) -> str:
        ident = base64.b32encode(self.record_id.bytes).decode("ascii").rstrip("=")
        body = f"{MAGIC}{VERSION}{self.kind.value}{self.form or ''}-{self.station_code}-{ident}"
        return f"{body}-{mod_37_36.calc_check_digit(_digits(body))}"


def _digits(body: str) -> str:
    return body.replace("-", "")


_SHAPE = re.compile(
    r"^YX(?P<version>[0-9A-Z])(?P<kind>[A-Z])(?P<form>[A-Z]?)-(?P<station>[0-9A-Z]{1,8})-(?P<id>[A-Z2-7]{26})-(?P<check>[0-9A-Z*])$"
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
    form = match["form"] or None
    if (kind is RecordKind.FORM) != (form is not None):
        # The check character is right, so this was printed like this: not by this version of the program.
        raise UserError("这种标签本程序还不认识，请升级程序。")
    if station_code is not None and match["station"] != station_code.upper():
        raise UserError(f"这是其他服务站（{match['station']}）的标签，不属于本站，请扫描本站的标签。")
    record_id = uuid.UUID(bytes=base64.b32decode(match["id"] + "======"))
    return Payload(kind, match["station"], record_id, form)
