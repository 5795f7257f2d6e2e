"""The unit register (房源台账): searching, unit cards, status changes (异动), house map, change statistics."""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, NewType

from sqlalchemy import ColumnElement, Integer, Select, and_, case, func, literal_column, or_, select
from sqlalchemy.orm import Session

from yuexiu_desk.clock import STATION_TZ
from yuexiu_desk.domain.units import (
    ChangeKind,
    UnitCode,
    UnitStatus,
    change_kind,
    hundredths_to_area,
)
from yuexiu_desk.errors import UserError
from yuexiu_desk.services.access import require
from yuexiu_desk.storage.models import Building, ChangeEvent, Unit


@dataclass(frozen=True)
class UnitRow:
    """One line of the register, as the table and `units list` show it."""

    id: uuid.UUID
    code: str
    building: int
    entrance: int
    floor: int
    room: int
    unit_type: str
    gross_area: Decimal
    inner_area: Decimal
    orientation: str
    accessible: bool
    status: UnitStatus

    def as_json(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "code": self.code,
            "building": self.building,
            "entrance": self.entrance,
            "floor": self.floor,
            "room": self.room,
            "unit_type": self.unit_type,
            "gross_area": float(self.gross_area),
            "inner_area": float(self.inner_area),
            "orientation": self.orientation,
            "accessible": self.accessible,
            "status": self.status.value,
        }


@dataclass(frozen=True)
class UnitFilter:
    """What the clerk typed and picked above the register. Empty means no restriction."""

    text: str = ""
    building: int | None = None
    unit_type: str | None = None
    status: UnitStatus | None = None


SORT_COLUMNS = ("code", "building", "entrance", "floor", "unit_type", "gross_area", "status")
_ORDERING: dict[str, Sequence[Any]] = {
    "code": (Unit.building_no, Unit.entrance, Unit.floor, Unit.room),
    "building": (Unit.building_no, Unit.entrance, Unit.floor, Unit.room),
    "entrance": (Unit.entrance, Unit.building_no, Unit.floor, Unit.room),
    "floor": (Unit.floor, Unit.building_no, Unit.entrance, Unit.room),
    "unit_type": (Unit.unit_type, Unit.building_no, Unit.entrance, Unit.floor, Unit.room),
    "gross_area": (Unit.gross_area_hundredths, Unit.building_no, Unit.entrance, Unit.floor, Unit.room),
    # In the order the clerk reads the statuses (空置, 预留, 已入住, 维修中, 停用), not by their code names.
    "status": (
        case({status.value: index for index, status in enumerate(UnitStatus)}, value=Unit.status, else_=99),
        Unit.building_no,
        Unit.entrance,
        Unit.floor,
        Unit.room,
    ),
}


_CODE_PREFIX = re.compile(r"^[0-9][0-9-]*$")


def _filter_clause(flt: UnitFilter) -> ColumnElement[bool]:
    clauses: list[ColumnElement[bool]] = []
    # NFKC: a Chinese input method types full-width digits and dashes (１－２); they mean 1-2.
    text = unicodedata.normalize("NFKC", flt.text).strip()
    if text and _CODE_PREFIX.match(text):
        # Digits and dashes can only be the start of a unit code: a range on the code column uses its
        # index (LIKE cannot, SQLite's LIKE ignores case), which keeps each keystroke fast at 50k units.
        clauses.append(and_(Unit.code >= text, Unit.code < text[:-1] + chr(ord(text[-1]) + 1)))
    elif text:
        status_hits = [s.value for s in UnitStatus if text in s.label or text.lower() == s.value]
        pattern = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        options: list[ColumnElement[bool]] = [
            Unit.code.startswith(pattern, autoescape=False, escape="\\"),
            Unit.unit_type.contains(pattern, autoescape=False, escape="\\"),
        ]
        if status_hits:
            options.append(Unit.status.in_(status_hits))
        clauses.append(or_(*options))
    if flt.building is not None:
        clauses.append(Unit.building_no == flt.building)
    if flt.unit_type:
        clauses.append(Unit.unit_type == flt.unit_type)
    if flt.status is not None:
        clauses.append(Unit.status == flt.status.value)
    return and_(True, *clauses)


UnitKey = NewType("UnitKey", int)
"""A unit's SQLite rowid: what the register keeps for each line of a search.

At 50,000 units a list of ints is read, compared and kept in a fraction of the time and memory of a list of
uuid.UUID (which SQLAlchemy builds one by one from the stored hex text). A key stays valid while the
database file lives (a rowid table's rowids change only on VACUUM, which the app never runs) and a write
refreshes every open search anyway. It is *not* the unit's identity: never store, print or exchange it; the
UUID (UnitRow.id) is.
"""

_ROWID = literal_column("unit.rowid", Integer)
# SQLite allows 32766 bound parameters; stay far below for older builds.
_CHUNK = 900
_FETCH_BATCH = 512


def _search_query(column: Any, flt: UnitFilter, sort: str, descending: bool) -> Select[Any]:
    if sort not in _ORDERING:
        raise ValueError(f"unknown sort column {sort!r}")
    order = [c.desc() if descending else c.asc() for c in _ORDERING[sort]]
    return select(column).select_from(Unit).where(_filter_clause(flt)).order_by(*order)


def search_unit_keys(
    session: Session, flt: UnitFilter = UnitFilter(), sort: str = "code", descending: bool = False
) -> list[UnitKey]:
    """The keys of the units matching flt, in display order: what the register holds (see UnitKey).

    The ordering by code is the unique (building, entrance, floor, room) index, which also holds the rowid,
    so the whole register is one index scan; the ints are read straight from the DB-API cursor because
    SQLAlchemy's result rows would cost three times the query itself at 50k units.
    """
    result = session.connection().execute(_search_query(_ROWID, flt, sort, descending))
    cursor = result.cursor
    keys: list[UnitKey] = []
    try:
        # In batches: 50k row tuples alive at once would also wake the garbage collector dozens of times.
        while batch := cursor.fetchmany(_FETCH_BATCH):
            keys.extend([row[0] for row in batch])
    finally:
        result.close()
    return keys


def search_unit_ids(
    session: Session, flt: UnitFilter = UnitFilter(), sort: str = "code", descending: bool = False
) -> list[uuid.UUID]:
    """The UUIDs of the units matching flt, in display order. For callers that need the identities of a
    whole search; the register holds keys instead (search_unit_keys), which is several times faster."""
    return list(session.scalars(_search_query(Unit.id, flt, sort, descending)))


def unit_keys(session: Session, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, UnitKey]:
    """The register keys of the given units (those that still exist), e.g. to find a scanned unit's line."""
    wanted = list(ids)
    keys: dict[uuid.UUID, UnitKey] = {}
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        for unit_id, key in session.execute(select(Unit.id, _ROWID).where(Unit.id.in_(chunk))):
            keys[unit_id] = UnitKey(key)
    return keys


def _row_query() -> Select[Any]:
    return select(  # type: ignore[return-value]
        Unit.id,
        Unit.code,
        Unit.building_no,
        Unit.entrance,
        Unit.floor,
        Unit.room,
        Unit.unit_type,
        Unit.gross_area_hundredths,
        Unit.inner_area_hundredths,
        Unit.orientation,
        Unit.accessible,
        Unit.status,
    )


def _to_row(r: Any) -> UnitRow:
    return UnitRow(
        id=r.id,
        code=r.code,
        building=r.building_no,
        entrance=r.entrance,
        floor=r.floor,
        room=r.room,
        unit_type=r.unit_type,
        gross_area=hundredths_to_area(r.gross_area_hundredths),
        inner_area=hundredths_to_area(r.inner_area_hundredths),
        orientation=r.orientation,
        accessible=r.accessible,
        status=UnitStatus(r.status),
    )


def fetch_rows(session: Session, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, UnitRow]:
    """Rows for the given unit ids, keyed by id (units that no longer exist are missing)."""
    wanted = list(ids)
    rows: dict[uuid.UUID, UnitRow] = {}
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        for r in session.execute(_row_query().where(Unit.id.in_(chunk))):
            rows[r.id] = _to_row(r)
    return rows


def fetch_rows_by_key(session: Session, keys: Iterable[UnitKey]) -> dict[UnitKey, UnitRow]:
    """Rows for the given register keys (a page of the register), keyed by key (vanished units are missing)."""
    wanted = list(keys)
    rows: dict[UnitKey, UnitRow] = {}
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        for r in session.execute(_row_query().add_columns(_ROWID.label("key")).where(_ROWID.in_(chunk))):
            rows[UnitKey(r.key)] = _to_row(r)
    return rows


def list_units(session: Session, flt: UnitFilter = UnitFilter()) -> list[UnitRow]:
    order = _ORDERING["code"]
    return [_to_row(r) for r in session.execute(_row_query().where(_filter_clause(flt)).order_by(*order))]


def unit_types(session: Session) -> list[str]:
    return list(session.scalars(select(Unit.unit_type).distinct().order_by(Unit.unit_type)))


def building_numbers(session: Session) -> list[int]:
    return list(session.scalars(select(Building.number).order_by(Building.number)))


@dataclass(frozen=True)
class ChangeEventRow:
    occurred_at: datetime
    kind: ChangeKind
    from_status: UnitStatus
    to_status: UnitStatus
    reason: str
    operator: str


@dataclass(frozen=True)
class UnitCard:
    row: UnitRow
    building_name: str
    fittings: str
    history: list[ChangeEventRow] = field(default_factory=list)


def find_unit_id_by_code(session: Session, text: str) -> uuid.UUID:
    code = UnitCode.parse(text)
    unit_id = session.scalar(
        select(Unit.id).where(
            Unit.building_no == code.building,
            Unit.entrance == code.entrance,
            Unit.floor == code.floor,
            Unit.room == code.room,
        )
    )
    if unit_id is None:
        raise UserError(f"本站没有房号为 {code} 的房源，请核对栋、单元、楼层和房号。")
    return unit_id


def unit_card(session: Session, unit_id: uuid.UUID, history_limit: int = 50) -> UnitCard:
    unit = session.get(Unit, unit_id)
    if unit is None:
        raise UserError("找不到这个房源，它可能属于其他服务站的数据。")
    rows = fetch_rows(session, [unit_id])
    events = session.scalars(
        select(ChangeEvent)
        .where(ChangeEvent.unit_id == unit_id)
        .order_by(ChangeEvent.occurred_at.desc())
        .limit(history_limit)
    )
    history = [
        ChangeEventRow(
            e.occurred_at,
            ChangeKind(e.kind),
            UnitStatus(e.from_status),
            UnitStatus(e.to_status),
            e.reason,
            e.operator,
        )
        for e in events
    ]
    return UnitCard(rows[unit_id], unit.building.name, unit.fittings, history)


def change_status(
    session: Session, unit_id: uuid.UUID, target: UnitStatus, reason: str, operator: str
) -> ChangeEventRow:
    """Move a unit to another status, recording the 异动 with who, when and why."""
    require(session, "unit.edit")
    unit = session.get(Unit, unit_id)
    if unit is None:
        raise UserError("找不到这个房源，无法变更房态。")
    current = UnitStatus(unit.status)
    kind = change_kind(current, target, reason)
    now = session.info["clock"].now()
    unit.status = target.value
    unit.updated_at = now
    event = ChangeEvent(
        unit_id=unit_id,
        kind=kind.value,
        from_status=current.value,
        to_status=target.value,
        reason=reason.strip(),
        operator=operator,
        occurred_at=now,
    )
    session.add(event)
    session.flush()
    return ChangeEventRow(now, kind, current, target, event.reason, operator)


@dataclass(frozen=True)
class ChangeStatistics:
    start: date
    end: date
    by_kind: dict[ChangeKind, int]
    status_now: dict[UnitStatus, int]

    @property
    def total(self) -> int:
        return sum(self.by_kind.values())


def _local_midnight_utc(day: date) -> datetime:
    return datetime.combine(day, time.min, STATION_TZ).astimezone(UTC)


def change_statistics(session: Session, start: date, end: date) -> ChangeStatistics:
    """Counts of 异动 by kind between two station dates (both included), and today's status counts."""
    if end < start:
        raise UserError("统计的结束日期早于开始日期，请调换或重新选择日期。")
    lo, hi = _local_midnight_utc(start), _local_midnight_utc(end + timedelta(days=1))
    counts = session.execute(
        select(ChangeEvent.kind, func.count())
        .where(ChangeEvent.occurred_at >= lo, ChangeEvent.occurred_at < hi)
        .group_by(ChangeEvent.kind)
    )
    found = {ChangeKind(kind): n for kind, n in counts}
    by_kind = {kind: found.get(kind, 0) for kind in ChangeKind}
    statuses: dict[str, int] = {
        s: n for s, n in session.execute(select(Unit.status, func.count()).group_by(Unit.status))
    }
    status_now = {s: statuses.get(s.value, 0) for s in UnitStatus}
    return ChangeStatistics(start, end, by_kind, status_now)


@dataclass(frozen=True)
class MapCell:
    unit_id: uuid.UUID
    code: str
    entrance: int
    floor: int
    room: int
    unit_type: str
    status: UnitStatus


@dataclass(frozen=True)
class BuildingMap:
    """房态图 of one building: floors top to bottom, columns = (entrance, room) left to right."""

    number: int
    name: str
    floors: list[int]
    columns: list[tuple[int, int]]
    cells: dict[tuple[int, int, int], MapCell]  # (floor, entrance, room)

    def counts(self) -> dict[UnitStatus, int]:
        result = dict.fromkeys(UnitStatus, 0)
        for cell in self.cells.values():
            result[cell.status] += 1
        return result


def house_map(session: Session, building_number: int) -> BuildingMap:
    maps = house_maps(session, [building_number])
    if not maps:
        raise UserError(f"本站没有 {building_number} 栋。")
    return maps[0]


def house_maps(session: Session, building_numbers: Sequence[int]) -> list[BuildingMap]:
    """The 房态图 of several buildings in one query, in the order asked; numbers with no building are left out."""
    buildings = {
        b.number: b for b in session.scalars(select(Building).where(Building.number.in_(building_numbers)))
    }
    if not buildings:
        return []
    grids: dict[uuid.UUID, dict[tuple[int, int, int], MapCell]] = {b.id: {} for b in buildings.values()}
    status_of = {s.value: s for s in UnitStatus}  # a dict look-up: UnitStatus(value) costs 10× more
    for u in session.execute(
        select(
            Unit.building_id,
            Unit.id,
            Unit.code,
            Unit.entrance,
            Unit.floor,
            Unit.room,
            Unit.unit_type,
            Unit.status,
        ).where(Unit.building_id.in_(list(grids)))
    ):
        grids[u.building_id][(u.floor, u.entrance, u.room)] = MapCell(
            u.id, u.code, u.entrance, u.floor, u.room, u.unit_type, status_of[u.status]
        )
    maps = []
    for number in building_numbers:
        building = buildings.get(number)
        if building is None:
            continue
        grid = grids[building.id]
        floors = sorted({f for f, _, _ in grid}, reverse=True)
        columns = sorted({(e, r) for _, e, r in grid})
        maps.append(BuildingMap(building.number, building.name, floors, columns, grid))
    return maps
