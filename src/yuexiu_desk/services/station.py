"""The station itself and the demo estate 悦秀苑 (only its totals are real: 194 units, 10,225.84 m²)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from yuexiu_desk.clock import Clock
from yuexiu_desk.domain.units import TRANSITIONS, UnitCode, UnitStatus
from yuexiu_desk.errors import UserError
from yuexiu_desk.paths import StationPaths
from yuexiu_desk.storage.backup import backup_database
from yuexiu_desk.storage.db import Store
from yuexiu_desk.storage.models import Building, ChangeEvent, Station, Unit


@dataclass(frozen=True)
class StationInfo:
    code: str
    name: str
    estate_name: str
    district: str
    is_demo: bool
    units: int
    gross_area_hundredths: int


def station_info(session: Session) -> StationInfo | None:
    station = session.scalar(select(Station))
    if station is None:
        return None
    count, area = session.execute(
        select(func.count(Unit.id), func.coalesce(func.sum(Unit.gross_area_hundredths), 0))
    ).one()
    return StationInfo(
        station.code, station.name, station.estate_name, station.district, station.is_demo, count, area
    )


def has_real_data(session: Session) -> bool:
    """True when the folder holds anything that is not demo data (so `demo` must not overwrite it)."""
    station = session.scalar(select(Station))
    if station is not None and not station.is_demo:
        return True
    return session.scalar(select(func.count(Unit.id)).where(Unit.is_demo.is_(False))) != 0


# (type code, layout, gross area in hundredths of m²)
UNIT_TYPES = {
    "A": ("一室一厅", 4200),
    "B": ("两室一厅", 5494),
    "C": ("两室两厅", 5805),
}
# Per building: floors, and per entrance the unit types of rooms 01, 02, … on every floor.
DEMO_LAYOUT = {
    1: (16, {1: ["A", "B", "B"], 2: ["B", "B", "C"]}),
    2: (14, {1: ["A", "B", "C", "A"], 2: ["B", "C", "B"]}),
}
DEMO_ELEVATORS = {1: 2, 2: 4}
ORIENTATIONS = ["南", "南北", "南", "东", "南北", "西", "南"]
DEMO_STATION_CODE = "YXY01"


def create_demo_station(session: Session, seed: int = 194) -> StationInfo:
    """Fill an empty store with the demo estate: 2 buildings, 194 units, a year of 异动 history."""
    rng = random.Random(seed)
    now = session.info["clock"].now()
    station = Station(
        code=DEMO_STATION_CODE,
        name="悦秀苑公租房服务站（演示）",
        estate_name="悦秀苑",
        district="武汉市江岸区",
        is_demo=True,
        created_at=now,
    )
    session.add(station)
    session.flush()
    session.info["station_id"] = station.id
    units: list[Unit] = []
    for number, (floors, entrances) in DEMO_LAYOUT.items():
        building = Building(
            number=number,
            name=f"{number}栋",
            floors=floors,
            entrances=len(entrances),
            elevators=DEMO_ELEVATORS[number],
            is_demo=True,
        )
        session.add(building)
        for floor in range(1, floors + 1):
            for entrance, types in entrances.items():
                for room, type_code in enumerate(types, start=1):
                    layout, gross = UNIT_TYPES[type_code]
                    inner = gross * rng.randint(780, 800) // 1000
                    code = UnitCode(number, entrance, floor, room)
                    units.append(
                        Unit(
                            building=building,
                            code=str(code),
                            building_no=number,
                            entrance=entrance,
                            floor=floor,
                            room=room,
                            unit_type=layout,
                            gross_area_hundredths=gross,
                            inner_area_hundredths=inner,
                            orientation=rng.choice(ORIENTATIONS),
                            accessible=floor == 1,
                            fittings="燃气灶、热水器、橱柜、防盗门、窗帘杆",
                            status=UnitStatus.OCCUPIED.value,
                            is_demo=True,
                            updated_at=now,
                        )
                    )
    session.add_all(units)
    session.flush()
    _demo_history(session, units, rng)
    info = station_info(session)
    assert info is not None
    return info


_REASONS = {
    UnitStatus.VACANT: ["租户退租腾空", "合同到期退出", "维修完成待配租"],
    UnitStatus.RESERVED: ["配租名单公示，预留待签约", "房管局配租通知预留"],
    UnitStatus.OCCUPIED: ["配租签约入住", "调换入住"],
    UnitStatus.UNDER_REPAIR: ["卫生间漏水维修", "外墙渗水维修", "退租后翻新"],
    UnitStatus.WITHHELD: ["房管局通知暂停配租", "结构安全鉴定期间停用"],
}
# Where the demo units end up: about 185 occupied, 6 vacant, 3 under repair (domain-rules §6).
_FINAL = [UnitStatus.VACANT] * 6 + [UnitStatus.UNDER_REPAIR] * 3


def _route(start: UnitStatus, goal: UnitStatus) -> list[UnitStatus]:
    """The shortest chain of possible status changes from start to goal (excluding start)."""
    paths: dict[UnitStatus, list[UnitStatus]] = {start: []}
    frontier = [start]
    while frontier and goal not in paths:
        nxt = []
        for here in frontier:
            for f, t in TRANSITIONS:
                if f == here and t not in paths:
                    paths[t] = [*paths[here], t]
                    nxt.append(t)
        frontier = nxt
    return paths[goal]


def _demo_history(session: Session, units: list[Unit], rng: random.Random) -> None:
    """A year of plausible status changes, ending with the target status mix."""
    now = session.info["clock"].now()
    movers = rng.sample(units, 40)
    final = dict(zip(movers, _FINAL, strict=False))
    for unit in movers:
        path: list[UnitStatus] = []
        status = UnitStatus.OCCUPIED
        for _ in range(rng.randint(1, 3)):
            status = rng.choice([t for (f, t) in TRANSITIONS if f == status and t != UnitStatus.WITHHELD])
            path.append(status)
        target = final.get(unit, UnitStatus.OCCUPIED)
        if status != target:
            path.extend(_route(status, target))
        when = now - timedelta(days=rng.randint(200, 365), hours=rng.randint(0, 8))
        current = UnitStatus.OCCUPIED
        for step in path:
            when = min(
                when + timedelta(days=rng.randint(5, 45), hours=rng.randint(0, 6)), now - timedelta(hours=1)
            )
            session.add(
                ChangeEvent(
                    unit_id=unit.id,
                    kind=TRANSITIONS[(current, step)].value,
                    from_status=current.value,
                    to_status=step.value,
                    reason=rng.choice(_REASONS[step]),
                    operator="演示数据",
                    occurred_at=when,
                )
            )
            current = step
        unit.status = current.value
        unit.updated_at = when


def install_demo(paths: StationPaths, force: bool = False, clock: Clock | None = None) -> StationInfo:
    """Create the demo station in a data folder.

    An existing demo is replaced. Real data is never overwritten unless force is given, and even
    then a verified backup of it is written first.
    """
    store = Store.open(paths, clock)
    try:
        with store.read() as session:
            real = has_real_data(session)
            existing = station_info(session)
        if real and not force:
            raise UserError(
                f"数据目录 {paths.root} 里已有正式数据（{existing.units if existing else 0} 套房源），"
                "演示数据不会覆盖它；确需覆盖请加 --force（会先自动备份）。"
            )
        if existing is not None:
            stamp = store.clock.now().strftime("%Y%m%dT%H%M%SZ")
            backup_database(store.engine, paths.backups / f"before-demo-{stamp}.sqlite3")
            store.close()
            for suffix in ("", "-wal", "-shm"):
                Path(f"{paths.database}{suffix}").unlink(missing_ok=True)
            store = Store.open(paths, clock)
        with store.unit_of_work("演示数据") as session:
            return create_demo_station(session)
    finally:
        store.close()
