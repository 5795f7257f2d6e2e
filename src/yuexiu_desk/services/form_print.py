"""Printing a form for a lease or its household: which record, its values for the form's fields, the QR payload.

A form definition names the record value each field shows (source = "unit.code"); this module owns those
names and how each value is worded on paper. Personal data comes only through services.people and only
masked: no source prints a full ID number or phone.
"""

from __future__ import annotations

import dataclasses
import functools
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from yuexiu_desk.domain.identity import IdKind, Sex
from yuexiu_desk.domain.leases import CURRENT_STATUSES, LeaseStatus, RentTier, add_months
from yuexiu_desk.domain.money import format_yuan
from yuexiu_desk.domain.units import UnitCode, hundredths_to_area
from yuexiu_desk.errors import EnvironmentProblem, UserError
from yuexiu_desk.formdefs import FormDefinition, FormDefinitionError, RecordType, SectionType, load_form
from yuexiu_desk.labels.payload import Payload, RecordKind
from yuexiu_desk.paths import StationPaths
from yuexiu_desk.printing.forms import FormValues, write_form
from yuexiu_desk.services import people
from yuexiu_desk.services.handover import CHECKIN, MOVEOUT, handover_values
from yuexiu_desk.services.units import find_unit_id_by_code
from yuexiu_desk.storage.db import require_station
from yuexiu_desk.storage.models import (
    HandoverValue,
    Household,
    HouseholdMember,
    Lease,
    RentStandard,
    Station,
    Unit,
)

# The record id in the QR code of a blank form printed for no record in particular: a scan of it
# is recognised as that form, and the clerk picks the record it belongs to when filing it.
NO_RECORD = uuid.UUID(int=0)


@dataclass(frozen=True)
class PrintedForm:
    path: Path
    kind: str
    title: str
    pages: int
    payload: str  # what the QR code on every page says
    record_id: uuid.UUID | None  # the lease or household the form is filed to; None for a blank form for any
    lease_no: str | None
    unit_code: str | None
    blank: bool


@dataclass(frozen=True)
class _Record:
    station: Station
    lease: Lease
    unit: Unit
    household: Household
    members: list[HouseholdMember]  # current members, in registration order
    standard: RentStandard | None  # the rent standard the lease's rate was taken from


def _day(value: date | None) -> str:
    return f"{value.year}年{value.month}月{value.day}日" if value else ""


def _term_months(start: date, end: date) -> str:
    """Whole months from start to end inclusive ("36"), or "" when the term is not a whole number of months."""
    months = (end.year - start.year) * 12 + end.month - start.month + 1
    for candidate in (months, months - 1):
        if candidate >= 1 and add_months(start, candidate) - timedelta(days=1) == end:
            return str(candidate)
    return ""


def _leaseholder(record: _Record) -> HouseholdMember | None:
    return next((m for m in record.members if m.is_leaseholder), None)


def _groups(member: HouseholdMember) -> str:
    return "、".join(group.label for group in people.special_groups(member))


# Every record value a form definition may name as a field's source, and how it is worded on paper.
SOURCES: dict[str, Callable[[_Record], str]] = {
    "station.name": lambda r: r.station.name,
    "station.estate": lambda r: r.station.estate_name,
    "station.district": lambda r: r.station.district,
    "unit.code": lambda r: r.unit.code,
    "unit.address": lambda r: (
        r.station.district
        + r.station.estate_name
        + UnitCode(r.unit.building_no, r.unit.entrance, r.unit.floor, r.unit.room).chinese
    ),
    "unit.type": lambda r: r.unit.unit_type,
    "unit.gross_area": lambda r: f"{hundredths_to_area(r.unit.gross_area_hundredths)}",
    "unit.inner_area": lambda r: f"{hundredths_to_area(r.unit.inner_area_hundredths)}",
    "unit.orientation": lambda r: r.unit.orientation,
    "unit.fittings": lambda r: r.unit.fittings,
    "lease.no": lambda r: r.lease.lease_no,
    "lease.version": lambda r: str(r.lease.version),
    "lease.status": lambda r: LeaseStatus(r.lease.status).label,
    "lease.signed_on": lambda r: _day(r.lease.signed_on),
    "lease.start": lambda r: _day(r.lease.start_date),
    "lease.end": lambda r: _day(r.lease.end_date),
    "lease.term": lambda r: f"{_day(r.lease.start_date)} 至 {_day(r.lease.end_date)}",
    "lease.term_months": lambda r: _term_months(r.lease.start_date, r.lease.end_date),
    "lease.rent_tier": lambda r: RentTier(r.lease.rent_tier).label,
    "lease.rate": lambda r: format_yuan(r.lease.rate_fen_per_m2),
    "lease.monthly_rent": lambda r: format_yuan(r.lease.monthly_rent_fen),
    "lease.deposit": lambda r: format_yuan(r.lease.deposit_fen),
    "lease.filed_on": lambda r: _day(r.lease.filed_on),
    "lease.filing_ref": lambda r: r.lease.filing_ref,
    "rent_standard.approval_doc": lambda r: r.standard.approval_doc if r.standard else "",
    "rent_standard.effective_from": lambda r: _day(r.standard.effective_from) if r.standard else "",
    "household.leaseholder": lambda r: m.name if (m := _leaseholder(r)) else "",
    "household.leaseholder_id_number_masked": lambda r: (
        people.masked_id_number(m) if (m := _leaseholder(r)) else ""
    ),
    "household.leaseholder_phone_masked": lambda r: people.masked_phone(m) if (m := _leaseholder(r)) else "",
    "household.size": lambda r: str(len(r.members)),
    "household.rent_tier": lambda r: RentTier(r.household.rent_tier).label,
}

# Table sources: the rows a table prints, and the values its columns may name.
TABLE_SOURCES: dict[str, Callable[[_Record], list[HouseholdMember]]] = {
    "household.members": lambda r: r.members,
}
MEMBER_SOURCES: dict[str, Callable[[HouseholdMember], str]] = {
    "member.name": lambda m: m.name,
    "member.relation": lambda m: m.relation,
    "member.sex": lambda m: Sex(m.sex).label,
    "member.birth_date": lambda m: _day(m.birth_date),
    "member.id_kind": lambda m: IdKind(m.id_kind).label,
    "member.id_number_masked": people.masked_id_number,
    "member.phone_masked": people.masked_phone,
    "member.employer": lambda m: m.employer,
    "member.annual_income": lambda m: (
        format_yuan(income) if (income := people.income_fen(m)) is not None else ""
    ),
    "member.groups": _groups,
}


def check_sources(definition: FormDefinition) -> None:
    """Refuse a definition naming a record value that does not exist (a typo would print an empty cell)."""

    def refuse(where: str, source: str, known: Mapping[str, object]) -> FormDefinitionError:
        return FormDefinitionError(
            f"表单定义 {definition.kind}.toml 有误：{where}的 source“{source}”不存在"
            f"（可用的有：{'、'.join(known)}），请改正该文件。"
        )

    for section in definition.sections:
        if section.type is SectionType.TABLE:
            if section.source and section.source not in TABLE_SOURCES:
                raise refuse(f"栏目 {section.id} ", section.source, TABLE_SOURCES)
            for column in section.fields:
                if column.source and not section.source:
                    raise FormDefinitionError(
                        f"表单定义 {definition.kind}.toml 有误：栏目 {section.id} 的列 {column.id} 有 source，"
                        f"但栏目本身没有 source（各行取自哪里），请改正该文件。"
                    )
                if column.source and column.source not in MEMBER_SOURCES:
                    raise refuse(f"栏目 {section.id} 的列 {column.id} ", column.source, MEMBER_SOURCES)
            continue
        for f in section.fields:
            if f.source and f.source not in SOURCES:
                raise refuse(f"栏目 {section.id} 的字段 {f.id} ", f.source, SOURCES)


def print_form(
    session: Session,
    kind: str,
    out: Path,
    *,
    lease_no: str | None = None,
    unit_code: str | None = None,
    blank: bool = False,
    paths: StationPaths | None = None,
) -> PrintedForm:
    """Print one kind of form to out (a PDF), for the lease given by number or the active lease of a unit.

    blank leaves every cell empty for handwriting; its QR code still names the record when one is given,
    and NO_RECORD when none is. A filled check-in or move-out form carries the saved handover (readings,
    keys, checklist, and at move-out the damages, settlement and the check-in values beside them); before
    the handover is saved those cells are left for handwriting. With paths (the station folder the photos
    are kept in) the handover's photos follow the form on appendix pages.
    """
    definition = load_form(kind)
    check_sources(definition)
    out = Path(out)
    if out.suffix.lower() != ".pdf":
        raise UserError(f"输出文件“{out.name}”应以 .pdf 结尾。")
    if lease_no is not None and unit_code is not None:
        raise UserError("合同编号和房号只需指定一个：合同编号指定某份合同，房号指定该房源当前生效的合同。")
    station = require_station(session)
    lease = _find_lease(session, definition, lease_no, unit_code)
    if lease is None:
        if not blank:
            raise UserError(f"打印填好的{definition.title}需要指定合同编号或房号；只要空白表请选择空白打印。")
        record_id, record, title_extra = NO_RECORD, None, station.estate_name
    else:
        record = _record(session, station, lease)
        record_id = lease.id if definition.record is RecordType.LEASE else lease.household_id
        address = UnitCode(record.unit.building_no, record.unit.entrance, record.unit.floor, record.unit.room)
        title_extra = (
            f"{station.estate_name} {record.unit.code}（{address.chinese}） 合同编号 {lease.lease_no}"
        )
    payload = Payload(RecordKind.FORM, station.code, record_id, definition.code).encode()
    values = (
        None
        if blank or record is None
        else _with_handovers(session, definition, _values(definition, record), record.lease)
    )
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise EnvironmentProblem(
            f"无法创建文件夹 {out.parent}（{exc.strerror or exc}），请换一个保存位置。"
        ) from exc
    appendix = None
    # Photos are loaded only for a filled handover form (the desk's start-up imports this module).
    from yuexiu_desk.printing.photo_pages import appendix_story
    from yuexiu_desk.services.photos import KIND_TITLES, appendix_photos, photos_of

    if (
        paths is not None
        and values is not None
        and lease is not None
        and definition.kind in (CHECKIN, MOVEOUT)
    ):
        shown = appendix_photos(photos_of(session, paths, lease.lease_no, definition.kind))
        if shown:
            appendix = functools.partial(
                appendix_story, shown, title=f"附页：{KIND_TITLES[definition.kind]}照片"
            )
    pages = write_form(definition, values, out, payload, title_extra, appendix=appendix)
    return PrintedForm(
        path=out,
        kind=definition.kind,
        title=definition.title,
        pages=pages,
        payload=payload,
        record_id=None if record_id == NO_RECORD else record_id,
        lease_no=lease.lease_no if lease else None,
        unit_code=record.unit.code if record else None,
        blank=blank,
    )


def _find_lease(
    session: Session, definition: FormDefinition, lease_no: str | None, unit_code: str | None
) -> Lease | None:
    if lease_no is not None:
        # Lease numbers are upper case (station code first); a clerk may type them in lower case.
        number = lease_no.strip().upper()
        if not number:
            raise UserError("合同编号是空的，请填写合同编号（例如 YXY01-2025-0001）。")
        # The latest version: a changed or renewed lease prints as it stands now, an ended one as it ended.
        lease: Lease | None = session.scalar(
            select(Lease).where(Lease.lease_no == number).order_by(Lease.version.desc()).limit(1)
        )
        if lease is None:
            raise UserError(f"没有编号为 {number} 的租赁合同，请核对合同编号。")
        return lease
    if unit_code is not None:
        unit_id = find_unit_id_by_code(session, unit_code)
        lease = session.scalar(
            select(Lease).where(Lease.unit_id == unit_id, Lease.status.in_(CURRENT_STATUSES))
        )
        if lease is None:
            code = session.get(Unit, unit_id)
            raise UserError(
                f"房源 {code.code if code else unit_code} 目前没有生效的租赁合同，无法打印{definition.title}；"
                f"已结束的合同请按合同编号打印。"
            )
        return lease
    return None


def _record(session: Session, station: Station, lease: Lease) -> _Record:
    unit = session.get(Unit, lease.unit_id)
    household = session.get(Household, lease.household_id)
    assert unit is not None and household is not None  # foreign keys
    # The standard in force when the lease started (sign_lease took the rate from it); if the lease's
    # rate is not that standard's, the basis is not known here and the cell is left for the clerk.
    standard: RentStandard | None = session.scalar(
        select(RentStandard)
        .where(RentStandard.tier == lease.rent_tier, RentStandard.effective_from <= lease.start_date)
        .order_by(RentStandard.effective_from.desc())
        .limit(1)
    )
    if standard is not None and standard.rate_fen_per_m2 != lease.rate_fen_per_m2:
        standard = None
    members = [m for m in household.members if m.left_on is None]
    return _Record(station, lease, unit, household, members, standard)


def _values(definition: FormDefinition, record: _Record) -> FormValues:
    """The record's values for the fields that name a source; readings and checklist results stay empty."""
    fields: dict[str, str] = {}
    tables: dict[str, list[dict[str, str]]] = {}
    for section in definition.sections:
        if section.type is SectionType.TABLE:
            if section.source:
                rows = TABLE_SOURCES[section.source](record)
                tables[section.id] = [
                    {c.id: MEMBER_SOURCES[c.source](row) for c in section.fields if c.source} for row in rows
                ]
            continue
        for f in section.fields:
            if f.source:
                value = SOURCES[f.source](record)
                if value:
                    fields[f.id] = value
    return FormValues(fields=fields, tables=tables)


def _handover_form_values(values: Mapping[str, HandoverValue]) -> FormValues:
    """Saved answers → what the form prints. Readings and counts are keyed "<section>.<field>" in storage
    and by field id on the form; checklist results keep their "<room>.<item>" id."""
    readings: dict[str, str] = {}
    results: dict[str, tuple[str, str]] = {}
    for key, value in values.items():
        if value.reading_hundredths is not None:
            readings[key.split(".", 1)[1]] = f"{value.reading_hundredths / 100:.2f}"
        elif value.count is not None:
            readings[key.split(".", 1)[1]] = str(value.count)
        else:
            results[key] = (value.result, value.note)
    return FormValues(readings=readings, results=results)


def _with_handovers(
    session: Session, definition: FormDefinition, values: FormValues, lease: Lease
) -> FormValues:
    """Add the saved check-in / move-out of the form's lease, when the form is one of those and it exists."""
    if definition.kind not in (CHECKIN, MOVEOUT):
        return values
    checkin = handover_values(session, lease.lease_no, CHECKIN)
    own = checkin if definition.kind == CHECKIN else handover_values(session, lease.lease_no, MOVEOUT)
    if own is None:
        return values
    record = next(iter(own.values())).handover
    fields = dict(values.fields)
    mine = _handover_form_values(own)
    from yuexiu_desk.services.photos import photo_counts

    counts = photo_counts(session, lease.lease_no, definition.kind)
    if counts:
        # The paper says which items have photos; the photos themselves are on the appendix.
        mine = dataclasses.replace(
            mine,
            results={
                key: (
                    result,
                    "；".join(p for p in (note, f"照片 {counts[key]} 张") if p) if counts.get(key) else note,
                )
                for key, (result, note) in mine.results.items()
            },
        )
    tables = dict(values.tables)
    if definition.kind == CHECKIN:
        fields["handover_date"] = _day(record.held_on)
        return dataclasses.replace(values, fields=fields, readings=mine.readings, results=mine.results)
    fields["inspection_date"] = _day(record.held_on)
    if record.move_out_date is not None:
        fields["move_out_date"] = _day(record.move_out_date)
    fields["rent_due"] = format_yuan(record.rent_to_day_fen)
    fields["unpaid_bills"] = format_yuan(record.unpaid_bills_fen)
    fields["damages_total"] = format_yuan(record.damages_fen)
    fields["deposit_refund"] = format_yuan(max(record.balance_fen, 0))
    sign = "应退 " if record.balance_fen >= 0 else "应补 "
    fields["balance"] = sign + format_yuan(abs(record.balance_fen))
    tables["damages"] = [{"item": d.description, "amount": format_yuan(d.amount_fen)} for d in record.damages]
    baseline = _handover_form_values(checkin) if checkin is not None else None
    return dataclasses.replace(
        values, fields=fields, tables=tables, readings=mine.readings, results=mine.results, baseline=baseline
    )
