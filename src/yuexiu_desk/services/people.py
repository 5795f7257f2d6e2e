"""The one accessor for personal data: household members' ID numbers, phones, incomes and special-group flags,
the values of income and flags changes, and complainants' phones.

They are stored only sealed (storage.fieldcrypt, the station's data key from services.keys): writers are given
the session that holds the key, readers find it through the object's own session. Display goes through the
masked forms; a full value is shown only by reveal_*, which logs who looked, at whose data, and why (PIPL).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from yuexiu_desk.domain.households import SpecialGroup
from yuexiu_desk.domain.identity import mask_id_number, mask_phone
from yuexiu_desk.errors import UserError
from yuexiu_desk.services import audit
from yuexiu_desk.services.access import require
from yuexiu_desk.services.keys import session_keys
from yuexiu_desk.storage.models import HouseholdMember, MemberChange, RevealLog

if TYPE_CHECKING:
    from yuexiu_desk.storage.fieldcrypt import BulkSealer, FieldKeys
    from yuexiu_desk.storage.repair_models import Complaint

MIN_REVEAL_REASON = 2
MEMBER = "household_member"
# The keyed-hash purpose of ID numbers (services.keys' index key is shared by every searchable field).
ID_INDEX = "id_number"
_GROUP_ORDER = (SpecialGroup.ELDERLY_ALONE, SpecialGroup.DISABLED, SpecialGroup.MOBILITY_IMPAIRED)


def _keys_of(obj: Any) -> FieldKeys:
    session = object_session(obj)
    if session is None:
        raise RuntimeError("personal data is read from an object in its session")
    return session_keys(session)


def _row_id(obj: Any) -> uuid.UUID:
    # Sealing binds the row id, so a new row gets its key before its first value (the journal keeps it).
    if obj.id is None:
        obj.id = uuid.uuid4()
    row_id: uuid.UUID = obj.id
    return row_id


# ---- household members ------------------------------------------------------------------------------


def store_id_number(session: Session, member: HouseholdMember, number: str) -> None:
    keys = session_keys(session)
    member.id_number_sealed = keys.seal(MEMBER, "id_number", _row_id(member), number)
    member.id_number_index = keys.index(ID_INDEX, number)


def store_phone(session: Session, member: HouseholdMember, phone: str) -> None:
    keys = session_keys(session)
    member.phone_sealed = keys.seal(MEMBER, "phone", _row_id(member), phone) if phone else None


def store_profile(
    session: Session, member: HouseholdMember, income_fen: int | None, groups: frozenset[SpecialGroup]
) -> None:
    """Annual income (fen, None when not given) and special-group flags, sealed together."""
    member.profile_sealed = session_keys(session).seal(
        MEMBER, "profile", _row_id(member), _profile_text(income_fen, groups)
    )


def sealed_member_values(
    keys: FieldKeys | BulkSealer,
    member_id: uuid.UUID | str,
    number: str,
    phone: str,
    income_fen: int | None,
    groups: frozenset[SpecialGroup],
    index: bytes | None = None,
) -> dict[str, bytes | None]:
    """The sealed columns of a member row, for writers that insert rows in bulk (the ledger import); index is
    the number's keyed hash when the writer has it already (id_number_indexes)."""
    return {
        "id_number_sealed": keys.seal(MEMBER, "id_number", member_id, number),
        "id_number_index": keys.index(ID_INDEX, number) if index is None else index,
        "phone_sealed": keys.seal(MEMBER, "phone", member_id, phone) if phone else None,
        "profile_sealed": keys.seal(MEMBER, "profile", member_id, _profile_text(income_fen, groups)),
    }


def _profile_text(income_fen: int | None, groups: frozenset[SpecialGroup]) -> str:
    return json.dumps({"income": income_fen, "groups": [g.value for g in _GROUP_ORDER if g in groups]})


def _profile(member: HouseholdMember) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(
        _keys_of(member).open(MEMBER, "profile", member.id, member.profile_sealed)
    )
    return loaded


def _id_number(member: HouseholdMember) -> str:
    return _keys_of(member).open(MEMBER, "id_number", member.id, member.id_number_sealed)


def _phone(member: HouseholdMember) -> str:
    if member.phone_sealed is None:
        return ""
    return _keys_of(member).open(MEMBER, "phone", member.id, member.phone_sealed)


def masked_id_number(member: HouseholdMember) -> str:
    return mask_id_number(_id_number(member))


def masked_phone(member: HouseholdMember) -> str:
    phone = _phone(member)
    return mask_phone(phone) if phone else ""


def has_phone(member: HouseholdMember) -> bool:
    return member.phone_sealed is not None


def income_fen(member: HouseholdMember) -> int | None:
    income: int | None = _profile(member)["income"]
    return income


def special_groups(member: HouseholdMember) -> list[SpecialGroup]:
    """The member's special-group flags, in the order the forms list them."""
    return [SpecialGroup(code) for code in _profile(member)["groups"]]


@dataclass(frozen=True)
class PersonalValues:
    id_number: str
    phone: str
    income_fen: int | None
    groups: frozenset[SpecialGroup]


def unsealed(member: HouseholdMember) -> PersonalValues:
    """A member's personal values in full, for checks inside the app (never for display: masked_* or reveal_*)."""
    profile = _profile(member)
    return PersonalValues(
        _id_number(member),
        _phone(member),
        profile["income"],
        frozenset(SpecialGroup(g) for g in profile["groups"]),
    )


def members_with_id_number(session: Session, number: str) -> list[HouseholdMember]:
    """Current (not departed) members carrying this ID number, for duplicate checks."""
    return [m for m in members_by_id_number(session, number) if m.left_on is None]


def members_by_id_number(session: Session, number: str) -> list[HouseholdMember]:
    """Everyone ever registered with this ID number (the search by ID number), through the keyed hash."""
    index = session_keys(session).index(ID_INDEX, number)
    return list(session.scalars(select(HouseholdMember).where(HouseholdMember.id_number_index == index)))


def id_number_indexes(session: Session, numbers: set[str]) -> dict[bytes, str]:
    """The keyed hash of each number, for a bulk duplicate check (the import looks them up in chunks)."""
    keys = session_keys(session)
    return {keys.index(ID_INDEX, n): n for n in numbers}


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
    return _id_number(_reveal(session, member_id, "id_number", reason, operator))


def reveal_phone(session: Session, member_id: uuid.UUID, reason: str, operator: str) -> str:
    return _phone(_reveal(session, member_id, "phone", reason, operator))


# ---- the values of an income or flags change ----------------------------------------------------------


def store_change_values(session: Session, change: MemberChange, old: str, new: str) -> None:
    change.old_value, change.new_value = "", ""
    change.values_sealed = session_keys(session).seal(
        "member_change", "values", _row_id(change), json.dumps([old, new])
    )


def change_values(change: MemberChange) -> tuple[str, str]:
    """A change's (old, new) values, opened when they are sealed (income and flags), else as stored."""
    if change.values_sealed is None:
        return change.old_value, change.new_value
    old, new = json.loads(_keys_of(change).open("member_change", "values", change.id, change.values_sealed))
    return str(old), str(new)


# ---- complainants (投诉人): a name and a phone kept with a complaint, shown masked only -------------------


def store_complainant(session: Session, complaint: Complaint, name: str, phone: str) -> None:
    complaint.complainant_name = name
    complaint.complainant_phone_sealed = (
        session_keys(session).seal("complaint", "complainant_phone", _row_id(complaint), phone)
        if phone
        else None
    )


def _complainant_phone(complaint: Complaint) -> str:
    if complaint.complainant_phone_sealed is None:
        return ""
    return _keys_of(complaint).open(
        "complaint", "complainant_phone", complaint.id, complaint.complainant_phone_sealed
    )


def masked_complainant_name(complaint: Complaint) -> str:
    """张** for 张建国: enough for the handler to recognise a caller, not to identify them from a list."""
    name = complaint.complainant_name
    return name[:1] + "*" * (len(name) - 1) if name else ""


def masked_complainant_phone(complaint: Complaint) -> str:
    phone = _complainant_phone(complaint)
    return mask_phone(phone) if phone else ""


def complainant_contact(complaint: Complaint) -> tuple[str, str]:
    """The full name and phone, for the handler who calls back (reply and return visit)."""
    return complaint.complainant_name, _complainant_phone(complaint)


# ---- an upgraded station's plain values, sealed at its first key --------------------------------------


def seal_waiting(session: Session, table: str, row_id: uuid.UUID, values: dict[str, str]) -> None:
    """Seal one row's values that migration 0012 set aside (as text: booleans "0"/"1", income in fen)."""
    from yuexiu_desk.storage.repair_models import Complaint

    if table == MEMBER:
        member = session.get(HouseholdMember, row_id)
        if member is None:
            return
        store_id_number(session, member, values.get("id_number", ""))
        store_phone(session, member, values.get("phone", ""))
        income = values.get("annual_income_fen")
        groups = frozenset(g for g in SpecialGroup if values.get(g.value) in ("1", "true", "True"))
        store_profile(session, member, int(income) if income not in (None, "") else None, groups)
    elif table == "member_change":
        change = session.get(MemberChange, row_id)
        if change is not None:
            store_change_values(session, change, values.get("old_value", ""), values.get("new_value", ""))
    elif table == "complaint":
        complaint = session.get(Complaint, row_id)
        if complaint is not None:
            store_complainant(
                session, complaint, complaint.complainant_name, values.get("complainant_phone", "")
            )
