"""Benchmark fixtures: a station data folder with N realistic units (the demo estate when N is 194).

    uv run python benchmarks/generate.py --units 50000 --out benchmarks/data/bureau-50k
    uv run python benchmarks/generate.py --units 194 --out benchmarks/data/demo

The schema always comes from the app's own migrations (Store.open); only the rows are written here, with
bulk inserts in one transaction. A folder that already holds the asked-for number of units is reused
unless --force is given.
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from yuexiu_desk.clock import FixedClock
from yuexiu_desk.domain.units import TRANSITIONS, UnitCode, UnitStatus
from yuexiu_desk.paths import StationPaths
from yuexiu_desk.services.station import (
    CHANGE_REASONS,
    ORIENTATIONS,
    install_demo,
    remove_database_files,
    status_route,
)
from yuexiu_desk.services.station import UNIT_TYPES as DEMO_UNIT_TYPES
from yuexiu_desk.storage.db import Store
from yuexiu_desk.storage.migrate import head_revision
from yuexiu_desk.storage.models import Building, ChangeEvent, ChangeJournal, Station, Unit

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


@dataclass(frozen=True)
class Generated:
    units: int
    seconds: float
    reused: bool


def count_units(database: Path) -> int | None:
    """Units in an existing fixture database, or None when there is none, it is unreadable, or its
    schema is older than the app's migrations (a fixture is rebuilt rather than upgraded)."""
    if not database.exists():
        return None
    try:
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as conn:
            (n,) = conn.execute("SELECT count(*) FROM unit").fetchone()
            (stations,) = conn.execute("SELECT count(*) FROM station").fetchone()
            (revision,) = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    except (sqlite3.Error, TypeError):
        return None
    if revision != head_revision() or stations != 1:
        return None
    return int(n)


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


def _rows(units: int, seed: int) -> dict[str, list[dict[str, Any]]]:
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
    statuses = [s for s, _ in STATUS_MIX]
    weights = [w for _, w in STATUS_MIX]
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
        "journal": journal,
    }


def generate(units: int, out: Path, force: bool = False, seed: int = 50_000) -> Generated:
    """Make sure out is a station folder holding `units` units; return what was done."""
    paths = StationPaths(out.resolve())
    started = time.perf_counter()
    if not force and count_units(paths.database) == units:
        return Generated(units, time.perf_counter() - started, reused=True)
    _remove_database(paths)
    if units == DEMO_UNITS:
        info = install_demo(paths, clock=FixedClock(FIXTURE_NOW))
        return Generated(info.units, time.perf_counter() - started, reused=False)
    # The schema comes only from the app's migrations.
    store = Store.open(paths, FixedClock(FIXTURE_NOW))
    try:
        rows = _rows(units, seed)
        # Bulk inserts bypass the ORM flush, so the change-journal hook (storage.journal) does not run;
        # the journal rows a real station would have are written here explicitly instead, in the same
        # transaction. This is a benchmark fixture, not a way for the app to write data.
        with Session(store.engine) as session, session.begin():
            session.execute(insert(Station), rows["station"])
            session.execute(insert(Building), rows["building"])
            session.execute(insert(Unit), rows["unit"])
            if rows["event"]:
                session.execute(insert(ChangeEvent), rows["event"])
            session.execute(insert(ChangeJournal), rows["journal"])
        with store.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        store.close()
    return Generated(count_units(paths.database) or 0, time.perf_counter() - started, reused=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--units", type=int, default=50_000, help="number of units (194 = the demo estate)")
    parser.add_argument("--out", type=Path, required=True, help="station data folder to create")
    parser.add_argument("--force", action="store_true", help="regenerate even if the folder is up to date")
    parser.add_argument("--seed", type=int, default=50_000)
    args = parser.parse_args(argv)
    if args.units < 1:
        parser.error("--units must be at least 1")
    result = generate(args.units, args.out, force=args.force, seed=args.seed)
    if result.reused:
        print(f"{args.out}: already holds {result.units} units (use --force to regenerate)")
    else:
        print(f"{args.out}: {result.units} units generated in {result.seconds:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
