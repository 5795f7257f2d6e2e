"""Reading a choice (a status, a tier, a reason) from its code name or its Chinese label, as typed."""

from __future__ import annotations

from enum import StrEnum
from typing import TypeVar

E = TypeVar("E", bound=StrEnum)


def parse_choice(kind: type[E], text: str, what: str) -> E:
    """The member of kind whose code name or label is text; a UserError listing the choices otherwise."""
    from yuexiu_desk.errors import UserError

    cleaned = (text or "").strip()
    for member in kind:
        if cleaned.lower() == member.value or cleaned == getattr(member, "label", None):
            return member
    choices = "、".join(f"{m.value}（{getattr(m, 'label', m.value)}）" for m in kind)
    raise UserError(f"没有“{cleaned}”这种{what}，请从以下选择：{choices}。")
