"""Identity numbers and phones of tenants: checking (GB 11643, D1–D4; D6), normalising and masking for display.

The arithmetic is python-stdnum's (MOD 11-2 and the resident-ID rules); this module adds the cases the
station meets that stdnum does not: legacy 15-digit numbers (converted), the 2023 foreign permanent-
residence card that starts with 9, and Chinese sentences for every refusal.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from stdnum import numdb
from stdnum.iso7064 import mod_11_2

from yuexiu_desk.errors import UserError


class IdKind(StrEnum):
    RESIDENT = "resident"  # 居民身份证
    PERMANENT_RESIDENCE = "permanent_residence"  # 外国人永久居留身份证（2023 版，以 9 开头）

    @property
    def label(self) -> str:
        return {IdKind.RESIDENT: "居民身份证", IdKind.PERMANENT_RESIDENCE: "外国人永久居留身份证"}[self]


class Sex(StrEnum):
    MALE = "male"
    FEMALE = "female"

    @property
    def label(self) -> str:
        return {Sex.MALE: "男", Sex.FEMALE: "女"}[self]


@dataclass(frozen=True)
class IdNumber:
    number: str  # always the 18-character form
    kind: IdKind
    birth_date: date
    sex: Sex
    converted_from_legacy: bool = False

    @property
    def masked(self) -> str:
        return mask_id_number(self.number)


def _birth_date(number: str) -> date:
    try:
        return date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise UserError(
            f"身份证号 {mask_id_number(number)} 中的出生日期 {number[6:14]} 不存在，请核对。"
        ) from None


@functools.lru_cache(maxsize=4096)  # address codes repeat; the lookup costs ~30 µs each
def _known_province(address_code: str) -> bool:
    """Only the province is checked: stdnum's county table dates codes (e.g. 江岸区 "[1983-]") by when
    they were created, while people born earlier carry them too, so a county check would refuse real
    numbers."""
    found = numdb.get("cn/loc").info(address_code)
    return any("province" in props for _, props in found)


def parse_id_number(text: str, today: date | None = None) -> IdNumber:
    """Check an ID number as typed and return its 18-character form with birth date and sex (D1–D4)."""
    cleaned = re.sub(r"[\s-]", "", text or "").upper()
    if not cleaned:
        raise UserError("请填写身份证号。")
    converted = False
    if len(cleaned) == 15 and cleaned.isdigit():  # D3: legacy number, no check digit; 19xx births only
        body = cleaned[:6] + "19" + cleaned[6:]
        cleaned = body + mod_11_2.calc_check_digit(body)
        converted = True
    if len(cleaned) != 18:
        raise UserError(f"身份证号应为 18 位（旧版 15 位也可），现在是 {len(cleaned)} 位，请核对。")
    if not cleaned[:17].isdigit() or not (cleaned[17].isdigit() or cleaned[17] == "X"):
        raise UserError("身份证号前 17 位必须是数字，最后一位是数字或 X，请核对。")
    if cleaned[17] != mod_11_2.calc_check_digit(cleaned[:17]):
        raise UserError(
            f"身份证号 {mask_id_number(cleaned)} 的校验位不对，可能有一位录错，请对照证件重新录入。"
        )
    birth = _birth_date(cleaned)
    if today is not None and birth > today:
        raise UserError(f"身份证号中的出生日期 {birth.isoformat()} 晚于今天，请核对。")
    kind = IdKind.PERMANENT_RESIDENCE if cleaned[0] == "9" else IdKind.RESIDENT
    if kind is IdKind.RESIDENT:
        if cleaned[0] == "0":
            raise UserError("身份证号不能以 0 开头，请核对。")
        if not _known_province(cleaned[:6]):
            raise UserError(f"身份证号 {mask_id_number(cleaned)} 的地址码 {cleaned[:6]} 不存在，请核对。")
    sex = Sex.MALE if int(cleaned[16]) % 2 == 1 else Sex.FEMALE
    return IdNumber(cleaned, kind, birth, sex, converted)


def mask_id_number(number: str) -> str:
    """4201**********123X: enough to tell two people apart at the desk, not enough to misuse."""
    if len(number) <= 8:
        return "*" * len(number)
    return number[:4] + "*" * (len(number) - 8) + number[-4:]


_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^0\d{2,3}\d{7,8}$")


def normalize_phone(text: str) -> str:
    """A mobile number (11 digits, D6) or a landline with area code, as plain digits."""
    cleaned = re.sub(r"[\s\-()（）]", "", text or "")
    if cleaned.startswith("+86"):
        cleaned = cleaned[3:]
    elif cleaned.startswith("0086"):
        cleaned = cleaned[4:]
    elif len(cleaned) == 13 and cleaned.startswith("86"):
        cleaned = cleaned[2:]
    if _MOBILE.match(cleaned) or _LANDLINE.match(cleaned):
        return cleaned
    raise UserError(f"电话“{text}”格式不对：手机号为 1 开头的 11 位数字，座机请带区号（例如 027-82801234）。")


def mask_phone(number: str) -> str:
    """138****1234 (mobile) or 027****1234 (landline)."""
    if len(number) <= 7:
        return "*" * len(number)
    return number[:3] + "*" * (len(number) - 7) + number[-4:]
