"""Unit codes, areas, unit statuses and which status changes (异动) are possible.

A unit code is 栋-单元-楼层房号, e.g. 1-2-1603: building 1, entrance 2, floor 16, room 03.
Areas are kept as integer hundredths of a square metre so that sums are exact.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum

from yuexiu_desk.domain.choices import parse_choice
from yuexiu_desk.errors import UserError


class UnitStatus(StrEnum):
    VACANT = "vacant"
    RESERVED = "reserved"
    OCCUPIED = "occupied"
    UNDER_REPAIR = "under_repair"
    WITHHELD = "withheld"

    @property
    def label(self) -> str:
        return STATUS_LABELS[self]


STATUS_LABELS: dict[UnitStatus, str] = {
    UnitStatus.VACANT: "空置",
    UnitStatus.RESERVED: "预留",
    UnitStatus.OCCUPIED: "已入住",
    UnitStatus.UNDER_REPAIR: "维修中",
    UnitStatus.WITHHELD: "停用",
}

# House-map colours (RGB hex), chosen to stay distinguishable for red-green colour blindness.
STATUS_COLOURS: dict[UnitStatus, str] = {
    UnitStatus.VACANT: "#4CAF50",
    UnitStatus.RESERVED: "#FFC107",
    UnitStatus.OCCUPIED: "#1E88E5",
    UnitStatus.UNDER_REPAIR: "#E53935",
    UnitStatus.WITHHELD: "#757575",
}


class ChangeKind(StrEnum):
    """The kind of an 异动 event, derived from the transition; counted in period statistics."""

    RESERVE = "reserve"
    RELEASE_RESERVATION = "release_reservation"
    MOVE_IN = "move_in"
    MOVE_OUT = "move_out"
    REPAIR_START = "repair_start"
    REPAIR_END = "repair_end"
    WITHHOLD = "withhold"
    RESTORE = "restore"

    @property
    def label(self) -> str:
        return CHANGE_KIND_LABELS[self]


CHANGE_KIND_LABELS: dict[ChangeKind, str] = {
    ChangeKind.RESERVE: "预留",
    ChangeKind.RELEASE_RESERVATION: "取消预留",
    ChangeKind.MOVE_IN: "入住",
    ChangeKind.MOVE_OUT: "退租腾空",
    ChangeKind.REPAIR_START: "转入维修",
    ChangeKind.REPAIR_END: "维修完成",
    ChangeKind.WITHHOLD: "停用/收回",
    ChangeKind.RESTORE: "恢复可租",
}

_S = UnitStatus
_K = ChangeKind
# Every possible (from, to) pair and the kind of change it is. Pairs not listed are impossible:
# e.g. an occupied unit cannot be reserved for someone else without first being vacated.
TRANSITIONS: dict[tuple[UnitStatus, UnitStatus], ChangeKind] = {
    (_S.VACANT, _S.RESERVED): _K.RESERVE,
    (_S.VACANT, _S.OCCUPIED): _K.MOVE_IN,
    (_S.VACANT, _S.UNDER_REPAIR): _K.REPAIR_START,
    (_S.VACANT, _S.WITHHELD): _K.WITHHOLD,
    (_S.RESERVED, _S.VACANT): _K.RELEASE_RESERVATION,
    (_S.RESERVED, _S.OCCUPIED): _K.MOVE_IN,
    (_S.RESERVED, _S.WITHHELD): _K.WITHHOLD,
    (_S.OCCUPIED, _S.VACANT): _K.MOVE_OUT,
    (_S.OCCUPIED, _S.UNDER_REPAIR): _K.REPAIR_START,
    (_S.UNDER_REPAIR, _S.VACANT): _K.REPAIR_END,
    (_S.UNDER_REPAIR, _S.OCCUPIED): _K.REPAIR_END,
    (_S.UNDER_REPAIR, _S.WITHHELD): _K.WITHHOLD,
    (_S.WITHHELD, _S.VACANT): _K.RESTORE,
    (_S.WITHHELD, _S.UNDER_REPAIR): _K.REPAIR_START,
}

MIN_REASON_LENGTH = 2


def parse_status(text: str) -> UnitStatus:
    """A status from its code name or its Chinese label."""
    return parse_choice(UnitStatus, text, "房态")


def change_kind(current: UnitStatus, target: UnitStatus, reason: str) -> ChangeKind:
    """The kind of the 异动 from current to target, or a UserError saying why it cannot happen."""
    if target == current:
        raise UserError(f"房源已经是“{current.label}”状态，无需变更。")
    kind = TRANSITIONS.get((current, target))
    if kind is None:
        possible = "、".join(t.label for (f, t) in TRANSITIONS if f == current)
        raise UserError(f"房源不能从“{current.label}”直接变为“{target.label}”；可变为：{possible}。")
    if len(reason.strip()) < MIN_REASON_LENGTH:
        raise UserError("请填写异动原因（至少两个字），例如“配租入住”或“卫生间漏水维修”。")
    return kind


_CODE_RE = re.compile(r"^\s*(\d{1,2})\s*-\s*(\d{1,2})\s*-\s*(\d{1,3})(\d{2})\s*$")


@dataclass(frozen=True, order=True)
class UnitCode:
    building: int
    entrance: int
    floor: int
    room: int

    def __str__(self) -> str:
        return f"{self.building}-{self.entrance}-{self.floor}{self.room:02d}"

    @property
    def chinese(self) -> str:
        return f"{self.building}栋{self.entrance}单元{self.floor}{self.room:02d}室"

    @classmethod
    def parse(cls, text: str) -> UnitCode:
        text = unicodedata.normalize("NFKC", text)  # full-width １－２－１６０３ from a Chinese input method
        match = _CODE_RE.match(text)
        if not match:
            raise UserError(f"“{text.strip()}”不是有效的房号，格式为 栋-单元-楼层房号，例如 1-2-1603。")
        building, entrance, floor, room = (int(g) for g in match.groups())
        if min(building, entrance, floor, room) < 1:
            raise UserError(f"“{text.strip()}”不是有效的房号：栋、单元、楼层和房号都从 1 开始。")
        return cls(building, entrance, floor, room)

    @classmethod
    def looks_like(cls, text: str) -> bool:
        return _CODE_RE.match(unicodedata.normalize("NFKC", text)) is not None


CENTI = Decimal("0.01")


def area_to_hundredths(value: str | Decimal | int) -> int:
    """Square metres (at most 2 decimals) to integer hundredths of a square metre."""
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise UserError(f"面积“{value}”不是数字，请填写平方米数，例如 54.94。") from None
    if not number.is_finite() or number <= 0:
        raise UserError(f"面积“{value}”必须是正数（平方米），例如 54.94。")
    if number != number.quantize(CENTI):
        raise UserError(f"面积“{value}”最多保留两位小数。")
    return int(number * 100)


def hundredths_to_area(hundredths: int) -> Decimal:
    return (Decimal(hundredths) / 100).quantize(CENTI, rounding=ROUND_HALF_UP)
