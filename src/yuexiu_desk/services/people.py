"""The one accessor for personal data of household members (ID numbers, phones).

Everything that reads or writes these fields goes through here, so that encryption at rest (the trust
capability) changes only this module. Display goes through the masked forms; a full value is shown
only by reveal_*, which logs who looked, at whose data, and why (PIPL).
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from yuexiu_desk.domain.identity import mask_id_number, mask_phone
from yuexiu_desk.errors import UserError
from yuexiu_desk.services import audit
from yuexiu_desk.services.access import require
from yuexiu_desk.storage.models import HouseholdMember, RevealLog

if TYPE_CHECKING:
    from yuexiu_desk.storage.repair_models import Complaint

MIN_REVEAL_REASON = 2


def store_id_number(member: HouseholdMember, number: str) -> None:
    member.id_number = number


def store_phone(member: HouseholdMember, phone: str) -> None:
    member.phone = phone


def masked_id_number(member: HouseholdMember) -> str:
    return mask_id_number(member.id_number)


def masked_phone(member: HouseholdMember) -> str:
    return mask_phone(member.phone) if member.phone else ""


def members_with_id_number(session: Session, number: str) -> list[HouseholdMember]:
    """Current (not departed) members carrying this ID number, for duplicate checks."""
    return list(
        session.scalars(
            select(HouseholdMember).where(
                HouseholdMember.id_number == number, HouseholdMember.left_on.is_(None)
            )
        )
    )


def _reveal(
    session: Session, member_id: uuid.UUID, field: str, reason: str, operator: str
) -> HouseholdMember:
    require(session, "personal.reveal")
    if len(reason.strip()) < MIN_REVEAL_REASON:
        raise UserError("查看完整信息需要说明理由（例如“办理备案核对证件”），该操作会被记录。")
    member = session.get(HouseholdMember, member_id)
    if member is None:
        raise UserError("找不到这位家庭成员。")
    session.add(
        RevealLog(
            member_id=member_id,
            field=field,
            reason=reason.strip(),
            operator=operator,
            revealed_at=session.info["clock"].now(),
        )
    )
    session.flush()
    audit.record(session, operator, "reveal", str(member_id), {"field": field})  # the reason is in reveal_log
    return member


def reveal_id_number(session: Session, member_id: uuid.UUID, reason: str, operator: str) -> str:
    """The full ID number, after logging the reveal. Must run in a unit of work so the log is kept."""
    return _reveal(session, member_id, "id_number", reason, operator).id_number


def reveal_phone(session: Session, member_id: uuid.UUID, reason: str, operator: str) -> str:
    return _reveal(session, member_id, "phone", reason, operator).phone


# ---- complainants (投诉人): a name and a phone kept with a complaint, shown masked only -------------------


def store_complainant(complaint: Complaint, name: str, phone: str) -> None:
    complaint.complainant_name = name
    complaint.complainant_phone = phone


def masked_complainant_name(complaint: Complaint) -> str:
    """张** for 张建国: enough for the handler to recognise a caller, not to identify them from a list."""
    name = complaint.complainant_name
    return name[:1] + "*" * (len(name) - 1) if name else ""


def masked_complainant_phone(complaint: Complaint) -> str:
    return mask_phone(complaint.complainant_phone) if complaint.complainant_phone else ""


def complainant_contact(complaint: Complaint) -> tuple[str, str]:
    """The full name and phone, for the handler who calls back (reply and return visit)."""
    return complaint.complainant_name, complaint.complainant_phone
