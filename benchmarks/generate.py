"""Benchmark fixtures: a station data folder with N realistic units (the demo estate when N is 194).

    uv run python benchmarks/generate.py --units 50000 --out benchmarks/data/bureau-50k
    uv run python benchmarks/generate.py --units 194 --out benchmarks/data/demo
    uv run python benchmarks/generate.py --units 50000 --all-vacant --out benchmarks/data/import-50k \
        --workbook benchmarks/data/import-50k/households-50k.xlsx --households 50000 \
        [--lease-history benchmarks/data/households-50k]

The schema always comes from the app's own migrations (Store.open); only the rows are written here, with
bulk inserts in one transaction. A folder that already holds the asked-for number of units is reused
unless --force is given.

--all-vacant makes a station about to be filled by an import: every unit vacant, no 异动 history, and the
rent standards in force. --workbook writes a household ledger for it, from the app's own template
(export.household_template) filled row by row: one household per vacant unit, 1–4 members with valid
ID numbers, a lease each. The workbook is reused too when it was made from the same settings.
--lease-history DIR: a copy of that station after importing the workbook through the app, with lease
versions, check-ins, terminations and move-outs added through the app's services (figure g).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import sqlite3
import sys
import time
import uuid
import zipfile
from copy import copy
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from yuexiu_desk.clock import FixedClock
from yuexiu_desk.domain.access import system_operator
from yuexiu_desk.domain.households import RELATIONS
from yuexiu_desk.domain.leases import RentTier
from yuexiu_desk.domain.units import TRANSITIONS, UnitCode, UnitStatus
from yuexiu_desk.paths import StationPaths
from yuexiu_desk.services import keys
from yuexiu_desk.services.station import (
    CHANGE_REASONS,
    ORIENTATIONS,
    install_demo,
    remove_database_files,
    status_route,
)
from yuexiu_desk.services.station import UNIT_TYPES as DEMO_UNIT_TYPES
from yuexiu_desk.services.users import DEMO_LOGIN, DEMO_PASSWORD, install_demo_accounts
from yuexiu_desk.storage.db import Store
from yuexiu_desk.storage.migrate import head_revision
from yuexiu_desk.storage.models import (
    Building,
    ChangeEvent,
    ChangeJournal,
    RentStandard,
    Station,
    Unit,
)

DEMO_UNITS = 194
# Fixtures are reproducible: a fixed "now" and a seeded generator.
FIXTURE_NOW = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
STATION_CODE = "BUR01"
OPERATOR = "基准数据"
# UnitCode accepts at most two digits for the building (栋), so one station holds buildings 1–99;
# 50k units therefore means big buildings (≈ 520 units each: 24–34 floors × 3–5 entrances × 4–5 rooms).
MAX_BUILDINGS = 99

UNIT_TYPES = list(DEMO_UNIT_TYPES.values())
TYPE_WEIGHTS = [3, 5, 2]
FITTINGS = [
    "燃气灶、热水器、橱柜、防盗门、窗帘杆",
    "燃气灶、热水器、橱柜、防盗门",
    "电磁炉、热水器、橱柜、防盗门、空调",
]
# About 95 % occupied, like a full estate; the rest spread over the other statuses.
STATUS_MIX = [
    (UnitStatus.OCCUPIED, 950),
    (UnitStatus.VACANT, 28),
    (UnitStatus.UNDER_REPAIR, 10),
    (UnitStatus.RESERVED, 7),
    (UnitStatus.WITHHELD, 5),
]
# Share of occupied units that also have some past 异动 (moved out and in again, repaired, …).
OCCUPIED_WITH_HISTORY = 0.08
# The rent standards of an --all-vacant station (those of the demo station): (tier, from, fen per m²).
RENT_STANDARDS = [
    (RentTier.STANDARD, date(2021, 1, 1), 1050),
    (RentTier.STANDARD, date(2024, 1, 1), 1100),
    (RentTier.LOW_INCOME, date(2021, 1, 1), 250),
]


@dataclass(frozen=True)
class Generated:
    units: int
    seconds: float
    reused: bool


def count_units(database: Path, all_vacant: bool = False) -> int | None:
    """Units in an existing fixture database, or None when there is none, it is unreadable, or its
    schema is older than the app's migrations (a fixture is rebuilt rather than upgraded). With
    all_vacant, also None unless every unit is vacant, no lease exists and the rent standards are there."""
    if not database.exists():
        return None
    try:
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as conn:
            (n,) = conn.execute("SELECT count(*) FROM unit").fetchone()
            (stations,) = conn.execute("SELECT count(*) FROM station").fetchone()
            (revision,) = conn.execute("SELECT version_num FROM alembic_version").fetchone()
            if all_vacant:
                (vacant,) = conn.execute("SELECT count(*) FROM unit WHERE status = 'vacant'").fetchone()
                (leases,) = conn.execute("SELECT count(*) FROM lease").fetchone()
                (standards,) = conn.execute("SELECT count(*) FROM rent_standard").fetchone()
                if vacant != n or leases or standards != len(RENT_STANDARDS):
                    return None
    except (sqlite3.Error, TypeError):
        return None
    if revision != head_revision() or stations != 1:
        return None
    return int(n)


def open_fixture_keys(store: Store) -> None:
    """Give a store on a fixture station its data key, as the demo manager's sign-in would (without the
    sign-in's own write, so a measurement or a crash test sees only the command's transaction)."""
    with store.read() as session:
        found = keys.open_with_password(session, DEMO_LOGIN, DEMO_PASSWORD)
    if isinstance(found, str):
        raise RuntimeError(f"fixture station without the demo manager's key slot: {found}")
    store.set_keys(found)


def _remove_database(paths: StationPaths) -> None:
    remove_database_files(paths)
    for backup in paths.backups.glob("*.sqlite3*"):  # left by install_demo or an upgrade of an old fixture
        backup.unlink()


def _uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def _history(rng: random.Random, final: UnitStatus) -> list[UnitStatus]:
    """A plausible chain of statuses an occupied unit went through to end at final."""
    path: list[UnitStatus] = []
    status = UnitStatus.OCCUPIED
    for _ in range(rng.randint(1, 3)):
        status = rng.choice([t for (f, t) in TRANSITIONS if f == status and t != UnitStatus.WITHHELD])
        path.append(status)
    if status != final:
        path.extend(status_route(status, final))
    return path


def _layouts(rng: random.Random, units: int) -> list[tuple[int, int, list[list[int]]]]:
    """Per building: (floors, entrances, per entrance the type index of each room on a floor)."""
    layouts = []
    capacity = 0
    # Size the buildings so that about MAX_BUILDINGS of them hold the units (small stations get small ones).
    per_building = max(24, -(-units // (MAX_BUILDINGS - 4)))
    while capacity < units:
        if len(layouts) == MAX_BUILDINGS:
            raise SystemExit(f"{units} units do not fit in {MAX_BUILDINGS} buildings; ask for fewer.")
        target = per_building * rng.uniform(0.8, 1.2)
        entrances = rng.randint(3, 5) if target > 200 else rng.randint(1, 3)
        rooms = rng.randint(4, 5) if target > 200 else rng.randint(2, 4)
        floors = max(2, min(40, round(target / (entrances * rooms))))
        types = [rng.choices(range(len(UNIT_TYPES)), TYPE_WEIGHTS, k=rooms) for _ in range(entrances)]
        layouts.append((floors, entrances, types))
        capacity += floors * entrances * rooms
    return layouts


def _rows(units: int, seed: int, all_vacant: bool = False) -> dict[str, list[dict[str, Any]]]:
    rng = random.Random(seed)
    now = FIXTURE_NOW
    station_id = _uuid(rng)
    station = {
        "id": station_id,
        "code": STATION_CODE,
        "name": "房管局基准服务站（测试数据）",
        "estate_name": "基准苑",
        "district": "武汉市江岸区",
        "is_demo": False,
        "created_at": now - timedelta(days=400),
    }
    buildings: list[dict[str, Any]] = []
    unit_rows: list[dict[str, Any]] = []
    mix = [(UnitStatus.VACANT, 1)] if all_vacant else STATUS_MIX
    statuses = [s for s, _ in mix]
    weights = [w for _, w in mix]
    for number, (floors, entrances, types) in enumerate(_layouts(rng, units), start=1):
        building_id = _uuid(rng)
        buildings.append(
            {
                "id": building_id,
                "number": number,
                "name": f"{number}栋",
                "floors": floors,
                "entrances": entrances,
                "elevators": entrances * (2 if floors > 11 else 0),
                "is_demo": False,
            }
        )
        for floor in range(1, floors + 1):
            for entrance in range(1, entrances + 1):
                for room, type_index in enumerate(types[entrance - 1], start=1):
                    if len(unit_rows) == units:
                        break
                    layout, gross = UNIT_TYPES[type_index]
                    unit_rows.append(
                        {
                            "id": _uuid(rng),
                            "building_id": building_id,
                            "code": str(UnitCode(number, entrance, floor, room)),
                            "building_no": number,
                            "entrance": entrance,
                            "floor": floor,
                            "room": room,
                            "unit_type": layout,
                            "gross_area_hundredths": gross,
                            "inner_area_hundredths": gross * rng.randint(780, 800) // 1000,
                            "orientation": rng.choice(ORIENTATIONS),
                            "accessible": floor == 1,
                            "fittings": rng.choice(FITTINGS),
                            "status": rng.choices(statuses, weights)[0].value,
                            "is_demo": False,
                            "updated_at": now - timedelta(days=400),
                        }
                    )
    events: list[dict[str, Any]] = []
    for unit in unit_rows:
        final = UnitStatus(unit["status"])
        if all_vacant:  # a station just handed over: nothing has happened to its units yet
            break
        if final == UnitStatus.OCCUPIED and rng.random() >= OCCUPIED_WITH_HISTORY:
            continue
        when = now - timedelta(days=rng.randint(200, 365), hours=rng.randint(0, 8))
        current = UnitStatus.OCCUPIED
        for step in _history(rng, final):
            when = min(
                when + timedelta(days=rng.randint(5, 45), hours=rng.randint(0, 6)), now - timedelta(hours=1)
            )
            events.append(
                {
                    "id": _uuid(rng),
                    "unit_id": unit["id"],
                    "kind": TRANSITIONS[(current, step)].value,
                    "from_status": current.value,
                    "to_status": step.value,
                    "reason": rng.choice(CHANGE_REASONS[step]),
                    "operator": OPERATOR,
                    "occurred_at": when,
                }
            )
            current = step
        unit["updated_at"] = when
    journal = [
        {
            "table_name": table,
            "record_id": row["id"],
            "operation": "insert",
            "station_id": station_id,
            "operator": OPERATOR,
            "recorded_at": station["created_at"] if table != "change_event" else row["occurred_at"],
        }
        for table, rows in (("station", [station]), ("building", buildings), ("unit", unit_rows))
        for row in rows
    ]
    standards = [
        {
            "id": _uuid(rng),
            "tier": tier.value,
            "rate_fen_per_m2": rate,
            "effective_from": since,
            "approval_doc": "（测试数据）公租房租金标准批复",
            "created_at": station["created_at"],
        }
        for tier, since, rate in (RENT_STANDARDS if all_vacant else [])
    ]
    journal += [
        {
            "table_name": "rent_standard",
            "record_id": row["id"],
            "operation": "insert",
            "station_id": station_id,
            "operator": OPERATOR,
            "recorded_at": row["created_at"],
        }
        for row in standards
    ]
    journal += [
        {
            "table_name": "change_event",
            "record_id": e["id"],
            "operation": "insert",
            "station_id": station_id,
            "operator": OPERATOR,
            "recorded_at": e["occurred_at"],
        }
        for e in sorted(events, key=lambda e: e["occurred_at"])
    ]
    return {
        "station": [station],
        "building": buildings,
        "unit": unit_rows,
        "event": events,
        "rent_standard": standards,
        "journal": journal,
    }


def generate(
    units: int, out: Path, force: bool = False, seed: int = 50_000, all_vacant: bool = False
) -> Generated:
    """Make sure out is a station folder holding `units` units (all vacant, with rent standards, when
    all_vacant); return what was done."""
    paths = StationPaths(out.resolve())
    started = time.perf_counter()
    if not force and count_units(paths.database, all_vacant) == units:
        return Generated(units, time.perf_counter() - started, reused=True)
    _remove_database(paths)
    if units == DEMO_UNITS and not all_vacant:
        info = install_demo(paths, clock=FixedClock(FIXTURE_NOW))
        return Generated(info.units, time.perf_counter() - started, reused=False)
    # The schema comes only from the app's migrations.
    store = Store.open(paths, FixedClock(FIXTURE_NOW))
    try:
        rows = _rows(units, seed, all_vacant)
        # Bulk inserts bypass the ORM flush, so the change-journal hook (storage.journal) does not run;
        # the journal rows a real station would have are written here explicitly instead, in the same
        # transaction. This is a benchmark fixture, not a way for the app to write data.
        with Session(store.engine) as session, session.begin():
            session.execute(insert(Station), rows["station"])
            session.execute(insert(Building), rows["building"])
            session.execute(insert(Unit), rows["unit"])
            if rows["event"]:
                session.execute(insert(ChangeEvent), rows["event"])
            if rows["rent_standard"]:
                session.execute(insert(RentStandard), rows["rent_standard"])
            session.execute(insert(ChangeJournal), rows["journal"])
        store.forget_station()
        # Its data key and the demo's accounts (one per role, DEMO_PASSWORD), as its first manager would
        # make them: the personal data imported later is sealed with it (open_fixture_keys).
        with store.unit_of_work(system_operator(OPERATOR)) as session:
            keys.create_data_key(session)
            install_demo_accounts(session)
        with store.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        store.close()
    return Generated(
        count_units(paths.database, all_vacant) or 0, time.perf_counter() - started, reused=False
    )


# ------------------------------------------------------------------------------ the household ledger

# Wuhan's district address codes (江岸 江汉 硚口 汉阳 武昌 青山 洪山) and a few from elsewhere in Hubei.
ADDRESS_CODES = (
    ["420102"] * 6
    + ["420103", "420104", "420105", "420106", "420107", "420111"] * 2
    + [
        "420115",
        "420222",
        "420984",
        "421002",
    ]
)
SURNAMES = "张王李赵刘陈杨黄周吴徐孙马朱胡郭何林罗高梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国志红玉梅文斌辉鹏飞云"
EMPLOYERS = ["江岸区环卫所", "个体经营", "退休", "某物流公司", "某餐饮店", "无业", "社区公益岗", "某超市", ""]
OVERRIDE_REASON = "危旧房屋改造安置，经区住房保障中心批准"


@dataclass(frozen=True)
class Ledger:
    households: int
    members: int
    leases: int
    filed: int
    seconds: float
    reused: bool


def _id_number(rng: random.Random, birth: date, male: bool, taken: set[str]) -> str:
    from stdnum.iso7064 import mod_11_2

    while True:
        sequence = rng.randrange(0, 500) * 2 + (1 if male else 0)
        body = f"{rng.choice(ADDRESS_CODES)}{birth:%Y%m%d}{sequence:03d}"
        number = body + mod_11_2.calc_check_digit(body)
        if number not in taken:
            taken.add(number)
            return number


def _birth(rng: random.Random, first: int, last: int) -> date:
    return date(rng.randint(first, last), rng.randint(1, 12), rng.randint(1, 28))


def _name(rng: random.Random, surname: str | None = None) -> str:
    given = "".join(rng.choice(GIVEN) for _ in range(rng.choice([1, 2, 2])))
    return (surname or rng.choice(SURNAMES)) + given


def _mobile(rng: random.Random) -> str:
    return f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}"


def _as_typed(rng: random.Random, day: date) -> Any:
    """Mostly a real Excel date; now and then the text a clerk types instead."""
    roll = rng.random()
    if roll < 0.9:
        return day
    if roll < 0.95:
        return f"{day.year}/{day.month}/{day.day}"
    return f"{day.year}年{day.month}月{day.day}日"


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _household(
    rng: random.Random, number: int, code: str, chinese_code: str, today: date, taken: set[str]
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """One household's member rows and lease row, keyed by the template's headers."""
    size = rng.choices([1, 2, 3, 4], [25, 35, 25, 15])[0]
    elderly = size == 1 and rng.random() < 0.4
    head_birth = _birth(rng, 1940, 1958) if elderly else _birth(rng, 1950, 1998)
    head_male = rng.random() < 0.55
    surname = rng.choice(SURNAMES)
    unit = chinese_code if rng.random() < 0.05 else code
    people = [("本人", _name(rng, surname), head_birth, head_male)]
    if size >= 2:
        people.append(
            ("配偶", _name(rng), _birth(rng, head_birth.year - 4, head_birth.year + 4), not head_male)
        )
    for _ in range(size - len(people)):
        if head_birth.year >= 1975 or rng.random() < 0.7:
            kid_first = max(head_birth.year + 20, 1960)
            people.append(
                (
                    "子女",
                    _name(rng, surname),
                    _birth(rng, kid_first, min(kid_first + 25, 2024)),
                    rng.random() < 0.5,
                )
            )
        else:
            relation = rng.choice([r for r in RELATIONS if r not in ("本人", "配偶", "子女")])
            people.append((relation, _name(rng), _birth(rng, 1940, 2010), rng.random() < 0.5))
    members = []
    for relation, name, birth, male in people:
        holder = relation == "本人"
        income = rng.choice([None, 9600, 24000, 36000, 48000.5, "60,000", 72000])
        members.append(
            {
                "房号": unit,
                "户序号": str(number),
                "姓名": name,
                "与承租人关系": relation,
                "身份证号": _id_number(rng, birth, male, taken),
                "联系电话": _mobile(rng) if holder or rng.random() < 0.3 else None,
                "工作单位": rng.choice(EMPLOYERS) or None,
                "年收入(元)": income if birth.year < 2006 else None,
                "孤寡空巢老人": "是" if elderly else rng.choice(["否", None]),
                "残疾": "是" if rng.random() < 0.03 else rng.choice(["否", None]),
                "行动不便": "是" if rng.random() < 0.04 else rng.choice(["否", None]),
            }
        )
    low_income = elderly or rng.random() < 0.12
    term = rng.choice([12, 24, 36, 36, 36, 48, 60, 60]) if rng.random() >= 0.01 else 72
    roll = rng.random()
    if roll < 0.02:  # signed already, starts next month
        months_back = -1
    elif roll < 0.03:  # past its end but still the current lease (the importer warns)
        months_back = term + rng.randint(0, 5)
    else:
        months_back = rng.randint(0, term - 2)
    start = max(_add_months(today.replace(day=1), -months_back), date(2021, 1, 1))
    signed = min(start - timedelta(days=rng.randint(3, 25)), today)
    filed = signed + timedelta(days=rng.randint(1, 28)) if rng.random() < 0.7 else None
    if filed is not None and filed > today:
        filed = None
    lease = {
        "户序号": str(number),
        "房号": unit,
        "合同开始日期": _as_typed(rng, start),
        "租期(月)": term if rng.random() < 0.95 else f"{term}个月",
        "签约日期": _as_typed(rng, signed),
        "押金(元)": rng.choice([500, 800, 1000, 1000, 1200, 1500.0, "2000.00", None]),
        "租金档次": RentTier.LOW_INCOME.label if low_income else RentTier.STANDARD.label,
        "超5年理由": OVERRIDE_REASON if term > 60 else None,
        "备案日期": None if filed is None else _as_typed(rng, filed),
        "备案编号": None if filed is None else f"江岸备字{filed.year}-{rng.randrange(1, 10000):04d}",
    }
    return members, lease


def _copy_cell(sheet: Any, source: Any) -> Any:
    """A write-only cell with the value, style and note of a template cell."""
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.comments import Comment

    cell = WriteOnlyCell(sheet, source.value)
    if source.has_style:
        cell.font = copy(source.font)
        cell.fill = copy(source.fill)
        cell.border = copy(source.border)
        cell.alignment = copy(source.alignment)
        cell.number_format = source.number_format
    if source.comment is not None:
        note = Comment(source.comment.text, source.comment.author)
        note.width, note.height = source.comment.width, source.comment.height
        cell.comment = note
    return cell


def _ledger_key(database: Path, households: int, seed: int) -> tuple[str, list[tuple[str, str]]]:
    """What the workbook is made from: the settings, the template's headers and the fixture's vacant units."""
    from yuexiu_desk.export.household_template import SHEETS

    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as conn:
        units = conn.execute(
            "SELECT building_no, entrance, floor, room FROM unit WHERE status = 'vacant' "
            "ORDER BY building_no, entrance, floor, room"
        ).fetchall()
    codes = [(str(UnitCode(*u)), UnitCode(*u).chinese) for u in units]
    digest = hashlib.sha256()
    digest.update(
        json.dumps([households, seed, {k: [c.header for c in v] for k, v in SHEETS.items()}]).encode()
    )
    for code, _ in codes:
        digest.update(code.encode() + b"\n")
    return digest.hexdigest(), codes


def write_ledger(database: Path, out: Path, households: int, seed: int = 3, force: bool = False) -> Ledger:
    """Make sure out is a household ledger for the vacant units of database; return what was done.

    The app's template is written first (write_household_template) and copied — headers with their
    styles and notes, column formats, drop-down validations, frozen panes, the 说明 sheet — into a
    write-only workbook, which then gets the rows (openpyxl's normal mode would hold all ~1.4 million
    cells in memory)."""
    from openpyxl import Workbook, load_workbook

    from yuexiu_desk.export.household_template import SHEETS, write_household_template

    started = time.perf_counter()
    meta_path = out.with_suffix(".json")
    key, codes = _ledger_key(database, households, seed)
    if not force and out.exists() and meta_path.exists():
        meta = json.loads(meta_path.read_text())
        if meta.get("key") == key:
            return Ledger(
                meta["households"],
                meta["members"],
                meta["leases"],
                meta["filed"],
                time.perf_counter() - started,
                reused=True,
            )
    if len(codes) < households:
        raise SystemExit(f"{database} has {len(codes)} vacant units, fewer than {households} households.")
    rng = random.Random(seed)
    chosen = sorted(rng.sample(range(len(codes)), households))
    today = FIXTURE_NOW.date()
    out.parent.mkdir(parents=True, exist_ok=True)
    template_path = out.with_name(f".{out.stem}.template.xlsx")
    template = load_workbook(write_household_template(template_path))
    template_path.unlink()
    book = Workbook(write_only=True)
    sheets: dict[str, Any] = {}
    headers: dict[str, list[str]] = {}
    for source in template.worksheets:
        sheet = book.create_sheet(source.title)
        sheets[source.title] = sheet
        for letter, dimension in source.column_dimensions.items():
            target = sheet.column_dimensions[letter]
            target.width = dimension.width
            if dimension.has_style:
                target.number_format = dimension.number_format
                target.font = copy(dimension.font)
        for validation in source.data_validations.dataValidation:
            sheet.data_validations.append(copy(validation))
        sheet.freeze_panes = source.freeze_panes
        if source.title in SHEETS:
            headers[source.title] = [c.value for c in source[1]]
    # The data sheets get their header row, then the rows; 说明 is copied whole.
    for source in template.worksheets:
        sheet = sheets[source.title]
        if source.title in SHEETS:
            sheet.append([_copy_cell(sheet, c) for c in source[1]])
        else:
            for row in source.iter_rows():
                sheet.append([_copy_cell(sheet, c) for c in row])
    member_sheet, lease_sheet = (sheets[name] for name in SHEETS)
    member_headers, lease_headers = headers.values()
    taken: set[str] = set()
    members = filed = 0
    leases: list[list[Any]] = []
    for number, index in enumerate(chosen, start=1):
        code, chinese = codes[index]
        rows, lease = _household(rng, number, code, chinese, today, taken)
        assert set(lease) <= set(lease_headers) and set(rows[0]) <= set(member_headers)
        for row in rows:
            member_sheet.append([row.get(h) for h in member_headers])
        members += len(rows)
        filed += lease["备案日期"] is not None
        leases.append([lease.get(h) for h in lease_headers])
    for row in leases:
        lease_sheet.append(row)
    partial = out.with_name(f".{out.name}.partial")
    book.save(partial)
    _as_excel_saves(partial, out)
    partial.unlink()
    meta = {"key": key, "households": households, "members": members, "leases": households, "filed": filed}
    meta_path.write_text(json.dumps(meta, indent=1))
    return Ledger(households, members, households, filed, time.perf_counter() - started, reused=False)


_INLINE_STRING = re.compile(
    r'<c ([^>]*?) t="inlineStr"><is><t(?: xml:space="preserve")?>(.*?)</t></is></c>', re.S
)
_CELL_REF = re.compile(r'<c r="([A-Z]+)(\d+)"')
_SHARED_STRINGS_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
_SHARED_STRINGS_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"


def _as_excel_saves(source: Path, out: Path) -> None:
    """Rewrite an openpyxl write-only file the way Excel or WPS stores the same sheets, so that reading
    it costs what reading a clerk's file costs: text in one shared-strings table (openpyxl writes every
    string inline, in each cell) and a <dimension> element at the top of each sheet (openpyxl's
    write-only mode leaves it out, and its reader then parses the whole sheet once more just to size it)."""
    strings: dict[str, int] = {}
    total = 0

    def shared(match: re.Match[str]) -> str:
        nonlocal total
        total += 1
        index = strings.setdefault(match.group(2), len(strings))
        return f'<c {match.group(1)} t="s"><v>{index}</v></c>'

    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename.startswith("xl/worksheets/sheet"):
                text = _INLINE_STRING.sub(shared, data.decode())
                refs = _CELL_REF.findall(text)
                if refs:
                    last_col = max((len(c), c) for c, _ in refs)[1]
                    last_row = max(int(r) for _, r in refs)
                    text = text.replace(
                        "<sheetViews>", f'<dimension ref="A1:{last_col}{last_row}" /><sheetViews>', 1
                    )
                data = text.encode()
            elif item.filename == "[Content_Types].xml":
                data = data.replace(
                    b"</Types>",
                    f'<Override PartName="/xl/sharedStrings.xml" ContentType="{_SHARED_STRINGS_TYPE}" /></Types>'.encode(),
                )
            elif item.filename == "xl/_rels/workbook.xml.rels":
                data = data.replace(
                    b"</Relationships>",
                    f'<Relationship Type="{_SHARED_STRINGS_REL}" Target="sharedStrings.xml" Id="rIdStrings" />'
                    "</Relationships>".encode(),
                )
            zout.writestr(item, data)
        table = "".join(
            f'<si><t xml:space="preserve">{t}</t></si>' if t != t.strip() else f"<si><t>{t}</t></si>"
            for t in strings
        )
        zout.writestr(
            "xl/sharedStrings.xml",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            f'count="{total}" uniqueCount="{len(strings)}">{table}</sst>',
        )


# ------------------------------------------------------------------------------ households with lease history


@dataclass
class History:
    households: int
    leases: int  # lease rows, all versions
    versions: int  # versions added after the import (rent-tier changes and renewals)
    checkins: int
    terminated: int
    moved_out: int
    import_seconds: float
    history_seconds: float
    reused: bool


HISTORY_META = "history.json"


def _history_key(workbook: Path, leases: int, handovers: int, seed: int) -> str:
    ledger = json.loads(workbook.with_suffix(".json").read_text())["key"]
    return hashlib.sha256(json.dumps([ledger, leases, handovers, seed, head_revision()]).encode()).hexdigest()


def _checkin(held_on: date, reading: str) -> Any:
    """A complete check-in answer set from the form definition (every reading, count and item)."""
    from yuexiu_desk.formdefs import SectionType, load_form
    from yuexiu_desk.services.handover import CHECKIN, HandoverInput

    form = load_form(CHECKIN)
    readings = {
        f"{s.id}.{f.id}": reading for s in form.sections if s.type is SectionType.READINGS for f in s.fields
    }
    counts = {f"{s.id}.{f.id}": "2" for s in form.sections if s.type is SectionType.COUNTS for f in s.fields}
    results = {i.id: (i.results[0], "") for i in form.items}
    return HandoverInput(held_on, readings=readings, counts=counts, results=results)


def _moveout(held_on: date, reading: str) -> Any:
    from yuexiu_desk.formdefs import SectionType, load_form
    from yuexiu_desk.services.handover import MOVEOUT, MoveOutInput

    form = load_form(MOVEOUT)
    readings = {
        f"{s.id}.{f.id}": reading for s in form.sections if s.type is SectionType.READINGS for f in s.fields
    }
    counts = {f"{s.id}.{f.id}": "2" for s in form.sections if s.type is SectionType.COUNTS for f in s.fields}
    results = {i.id: (i.results[0], "") for i in form.items}
    return MoveOutInput(held_on, readings=readings, counts=counts, results=results, move_out_date=held_on)


def lease_history_station(
    source: Path,
    workbook: Path,
    out: Path,
    leases: int = 2_000,
    handovers: int = 300,
    seed: int = 11,
    force: bool = False,
) -> History:
    """Make sure out is the all-vacant station `source` after importing `workbook`, with lease history.

    The import runs through the app (services.household_import), on a copy of source made with SQLite's
    backup API. Then, each through the app's services in units of work: `leases` random leases get one to
    three new versions (change_rent_tier, renew_lease, change_rent_tier back); `handovers` other leases a
    check-in handover, a fifth of them then terminated (awaiting move-out) and another fifth moved out (the
    unit vacant again through an 异动 event). Reused while the ledger, these settings and the schema revision
    are unchanged (history.json beside the database)."""
    from sqlalchemy import select

    from yuexiu_desk.domain.leases import TerminationKind
    from yuexiu_desk.services.handover import record_checkin, record_moveout
    from yuexiu_desk.services.household_import import import_households
    from yuexiu_desk.services.leases import change_rent_tier, renew_lease, terminate_lease
    from yuexiu_desk.storage.models import Lease

    paths = StationPaths(out.resolve())
    meta_path = paths.root / HISTORY_META
    key = _history_key(workbook, leases, handovers, seed)
    if not force and meta_path.exists() and count_units(paths.database) is not None:
        meta = json.loads(meta_path.read_text())
        if meta.get("key") == key:
            return History(**{**meta["history"], "reused": True})
    _remove_database(paths)
    meta_path.unlink(missing_ok=True)
    paths.root.mkdir(parents=True, exist_ok=True)
    with (
        sqlite3.connect(f"file:{source}?mode=ro", uri=True) as src,
        sqlite3.connect(paths.database) as dst,
    ):
        src.backup(dst)  # includes whatever is still in the source's WAL
    src.close()
    dst.close()
    store = Store.open(paths, FixedClock(FIXTURE_NOW))
    open_fixture_keys(store)
    today = FIXTURE_NOW.date()
    rng = random.Random(seed)
    try:
        started = time.perf_counter()
        with store.unit_of_work(system_operator(OPERATOR)) as session:
            report = import_households(session, workbook, OPERATOR)
        import_seconds = time.perf_counter() - started
        started = time.perf_counter()
        with store.read() as session:
            current = list(
                session.execute(
                    select(Lease.lease_no, Lease.start_date, Lease.end_date)
                    .where(Lease.status == "active")
                    .order_by(Lease.lease_no)
                )
            )
        picked = rng.sample(current, leases + handovers)
        versions = 0
        for batch_start in range(0, leases, 250):
            with store.unit_of_work(system_operator(OPERATOR)) as session:
                for lease_no, _start, _end in picked[batch_start : batch_start + 250]:
                    lease = session.scalar(
                        select(Lease).where(Lease.lease_no == lease_no, Lease.status == "active")
                    )
                    assert lease is not None
                    other = RentTier.LOW_INCOME if lease.rent_tier == RentTier.STANDARD else RentTier.STANDARD
                    span = (lease.end_date - lease.effective_from).days
                    on = lease.effective_from + timedelta(days=rng.randrange(1, max(2, span // 2)))
                    new_id = change_rent_tier(
                        session, lease_no, other, on, "低保复核结论 2026-复-0173", OPERATOR
                    )
                    versions += 1
                    lease = session.get(Lease, new_id)
                    assert lease is not None
                    if rng.random() < 0.5 and lease.end_date >= today:
                        new_id = renew_lease(session, lease_no, 36, OPERATOR)
                        versions += 1
                        lease = session.get(Lease, new_id)
                        assert lease is not None
                    if rng.random() < 0.3:
                        back = RentTier(lease.rent_tier)
                        back = RentTier.LOW_INCOME if back == RentTier.STANDARD else RentTier.STANDARD
                        on = min(lease.end_date, lease.effective_from + timedelta(days=30))
                        change_rent_tier(session, lease_no, back, on, "收入复核后恢复档次", OPERATOR)
                        versions += 1
        checkins = terminated = moved_out = 0
        with store.unit_of_work(system_operator(OPERATOR)) as session:
            for position, (lease_no, start, _end) in enumerate(picked[leases:]):
                if start > today:
                    continue
                held_on = min(today, start + timedelta(days=rng.randrange(0, 10)))
                record_checkin(session, lease_no, _checkin(held_on, "100.5"), OPERATOR)
                checkins += 1
                if position % 5 == 1:
                    terminate_lease(
                        session, lease_no, TerminationKind.TENANT_REQUEST, today, "承租人申请退租", OPERATOR
                    )
                    terminated += 1
                elif position % 5 == 2:
                    record_moveout(session, lease_no, _moveout(today, "230.75"), OPERATOR)
                    moved_out += 1
        history_seconds = time.perf_counter() - started
        with store.read() as session:
            rows = len(session.scalars(select(Lease.id)).all())
        with store.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        store.close()
    history = History(
        report.households,
        rows,
        versions,
        checkins,
        terminated,
        moved_out,
        import_seconds,
        history_seconds,
        False,
    )
    fields = {k: v for k, v in history.__dict__.items() if k != "reused"}
    meta_path.write_text(json.dumps({"key": key, "history": fields}, indent=1))
    return history


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--units", type=int, default=50_000, help="number of units (194 = the demo estate)")
    parser.add_argument("--out", type=Path, required=True, help="station data folder to create")
    parser.add_argument("--force", action="store_true", help="regenerate even if the folder is up to date")
    parser.add_argument("--seed", type=int, default=50_000)
    parser.add_argument(
        "--all-vacant", action="store_true", help="every unit vacant, no history, rent standards in force"
    )
    parser.add_argument("--workbook", type=Path, help="also write a household ledger (.xlsx) for the station")
    parser.add_argument("--households", type=int, default=50_000, help="households in --workbook")
    parser.add_argument(
        "--lease-history",
        type=Path,
        help="with --workbook: a station folder holding --out after importing the workbook, with lease history",
    )
    args = parser.parse_args(argv)
    if args.units < 1:
        parser.error("--units must be at least 1")
    result = generate(args.units, args.out, force=args.force, seed=args.seed, all_vacant=args.all_vacant)
    if result.reused:
        print(f"{args.out}: already holds {result.units} units (use --force to regenerate)")
    else:
        print(f"{args.out}: {result.units} units generated in {result.seconds:.1f} s")
    if args.workbook is not None:
        ledger = write_ledger(
            StationPaths(args.out.resolve()).database, args.workbook, args.households, force=args.force
        )
        what = f"{ledger.households} households, {ledger.members} members, {ledger.leases} leases ({ledger.filed} filed)"
        if ledger.reused:
            print(f"{args.workbook}: already holds {what} (use --force to rewrite)")
        else:
            print(f"{args.workbook}: {what} written in {ledger.seconds:.1f} s")
    if args.lease_history is not None:
        if args.workbook is None:
            parser.error("--lease-history needs --workbook")
        made = lease_history_station(
            StationPaths(args.out.resolve()).database, args.workbook, args.lease_history, force=args.force
        )
        what = (
            f"{made.households} households, {made.leases} lease rows ({made.versions} later versions), "
            f"{made.checkins} check-ins, {made.terminated} terminated, {made.moved_out} moved out"
        )
        if made.reused:
            print(f"{args.lease_history}: already holds {what} (use --force to rebuild)")
        else:
            print(
                f"{args.lease_history}: {what}; import {made.import_seconds:.1f} s, "
                f"history {made.history_seconds:.1f} s"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())


@dataclass(frozen=True)
class Billing:
    bills: int
    payments: int
    seconds: float
    reused: bool


BILLING_META = "billing.json"
BILLED_MONTHS = ("2026-04", "2026-05", "2026-06", "2026-07", "2026-08", "2026-09", "2026-10")


def billing_station(source: Path, out: Path, seed: int = 17, force: bool = False) -> Billing:
    """source (a station with leases) with BILLED_MONTHS billed through the app's bill run, and paid: most
    households in full, some a month or more short (a few 6+ months: L7), so the arrears view has work.

    Payments and their allocations are written in bulk (one payment per household, allocated oldest first;
    the change journal of these rows is left out, the benchmark does not read it), then every household's
    account is recomputed by the app (services.billing.refresh_accounts)."""
    from sqlalchemy import select

    from yuexiu_desk.domain.billing import Period
    from yuexiu_desk.services.billing import refresh_accounts, run_bills
    from yuexiu_desk.storage.billing_models import Bill
    from yuexiu_desk.storage.bulk import execute_many, new_ids, stored_value
    from yuexiu_desk.storage.migrate import SCHEMA_HEAD
    from yuexiu_desk.storage.models import Lease

    paths = StationPaths(out.resolve())
    meta_path = paths.root / BILLING_META
    key = json.dumps([str(source), BILLED_MONTHS, seed, SCHEMA_HEAD])
    if not force and meta_path.exists() and count_units(paths.database) is not None:
        meta = json.loads(meta_path.read_text())
        if meta.get("key") == key:
            return Billing(meta["bills"], meta["payments"], meta["seconds"], True)
    _remove_database(paths)
    meta_path.unlink(missing_ok=True)
    paths.root.mkdir(parents=True, exist_ok=True)
    with (
        sqlite3.connect(f"file:{source / 'station.sqlite3'}?mode=ro", uri=True) as src,
        sqlite3.connect(paths.database) as dst,
    ):
        src.backup(dst)
    src.close()
    dst.close()
    started = time.perf_counter()
    store = Store.open(paths, FixedClock(FIXTURE_NOW))
    open_fixture_keys(store)
    rng = random.Random(seed)
    try:
        bills = 0
        for month in BILLED_MONTHS:
            with store.unit_of_work(system_operator(OPERATOR)) as session:
                bills += run_bills(session, Period.parse(month), OPERATOR)
        with store.unit_of_work(system_operator(OPERATOR)) as session:
            by_household: dict[Any, list[tuple[Any, str, int]]] = {}
            for bill_id, household_id, period, amount in session.execute(
                select(Bill.id, Bill.household_id, Bill.period, Bill.amount_fen).order_by(Bill.period)
            ):
                by_household.setdefault(household_id, []).append((bill_id, period, amount))
            units = dict(session.execute(select(Lease.household_id, Lease.unit_id)).all())
            lease_nos = dict(session.execute(select(Lease.household_id, Lease.lease_no)).all())
            households = sorted(by_household)
            payment_ids = iter(new_ids(len(households)))
            allocation_ids = iter(new_ids(bills))
            now = stored_value("payment", "created_at", FIXTURE_NOW)
            payments: list[tuple[Any, ...]] = []
            allocations: list[tuple[Any, ...]] = []
            for number, household_id in enumerate(households, start=1):
                owed = by_household[household_id]
                roll = rng.random()
                # 88 % paid up, then 1, 2, 3, 4–5 and 6–7 months short.
                short = 0 if roll < 0.88 else rng.choice((1, 1, 1, 2, 2, 3, 4, 5, 6, 7))
                paid = owed[: max(0, len(owed) - short)]
                if not paid:
                    continue
                payment_id = next(payment_ids)
                total = sum(amount for _b, _p, amount in paid)
                owed_after = sum(amount for _b, _p, amount in owed) - total
                payments.append(
                    (
                        payment_id,
                        f"{STATION_CODE}-SJ2026-B{number:06d}",
                        stored_value("payment", "household_id", household_id),
                        stored_value("payment", "unit_id", units[household_id]),
                        lease_nos[household_id],
                        total,
                        "bank_withholding",
                        "",
                        "",
                        stored_value("payment", "paid_on", Period.parse(paid[-1][1]).shifted(1).first_day),
                        "",
                        owed_after,
                        OPERATOR,
                        now,
                    )
                )
                for bill_id, _period, amount in paid:
                    allocations.append(
                        (
                            next(allocation_ids),
                            payment_id,
                            stored_value("allocation", "bill_id", bill_id),
                            amount,
                            now,
                        )
                    )
            connection = session.connection()
            execute_many(
                connection,
                "payment",
                (
                    "id",
                    "receipt_no",
                    "household_id",
                    "unit_id",
                    "lease_no",
                    "amount_fen",
                    "channel",
                    "reference",
                    "payer",
                    "paid_on",
                    "note",
                    "balance_after_fen",
                    "operator",
                    "created_at",
                ),
                payments,
            )
            execute_many(
                connection,
                "allocation",
                ("id", "payment_id", "bill_id", "amount_fen", "created_at"),
                allocations,
            )
            session.expire_all()
            refresh_accounts(session)
        with store.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        store.close()
    seconds = time.perf_counter() - started
    meta_path.write_text(
        json.dumps({"key": key, "bills": bills, "payments": len(payments), "seconds": seconds})
    )
    return Billing(bills, len(payments), seconds, False)
