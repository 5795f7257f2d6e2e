"""Household composition rules: relations to the leaseholder, special-group flags, one leaseholder per household."""

from __future__ import annotations

from enum import StrEnum

from yuexiu_desk.errors import UserError

LEASEHOLDER_RELATION = "本人"
RELATIONS = (LEASEHOLDER_RELATION, "配偶", "子女", "父母", "兄弟姐妹", "孙子女", "其他")


class SpecialGroup(StrEnum):
    ELDERLY_ALONE = "elderly_alone"
    DISABLED = "disabled"
    MOBILITY_IMPAIRED = "mobility_impaired"

    @property
    def label(self) -> str:
        return {
            SpecialGroup.ELDERLY_ALONE: "孤寡空巢老人",
            SpecialGroup.DISABLED: "残疾",
            SpecialGroup.MOBILITY_IMPAIRED: "行动不便",
        }[self]


def check_relation(relation: str) -> str:
    cleaned = (relation or "").strip()
    if cleaned not in RELATIONS:
        raise UserError(f"与承租人关系“{cleaned}”无法识别，请填写：{'、'.join(RELATIONS)}。")
    return cleaned


def check_composition(relations: list[str]) -> None:
    """Exactly one member is the leaseholder (relation 本人)."""
    leaseholders = relations.count(LEASEHOLDER_RELATION)
    if leaseholders == 0:
        raise UserError("这一户没有承租人：请把其中一位成员的“与承租人关系”填为“本人”。")
    if leaseholders > 1:
        raise UserError("一户只能有一位承租人（关系为“本人”），请核对家庭成员。")
