"""The station itself and the demo estate 悦秀苑 (only its totals are real: 194 units, 10,225.84 m²)."""

from __future__ import annotations

import os
import random
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from stdnum.iso7064 import mod_11_2

from yuexiu_desk.clock import Clock, local_date
from yuexiu_desk.domain.access import system_operator
from yuexiu_desk.domain.billing import Period
from yuexiu_desk.domain.households import SpecialGroup
from yuexiu_desk.domain.leases import LeaseStatus, RentTier, add_months, lease_end, monthly_rent_fen
from yuexiu_desk.domain.units import TRANSITIONS, UnitCode, UnitStatus
from yuexiu_desk.errors import EnvironmentProblem, UserError
from yuexiu_desk.paths import StationPaths
from yuexiu_desk.services import people
from yuexiu_desk.storage.backup import backup_database
from yuexiu_desk.storage.db import Store
from yuexiu_desk.storage.models import (
    Building,
    ChangeEvent,
    Household,
    HouseholdMember,
    Lease,
    RentStandard,
    Station,
    Unit,
)


@dataclass(frozen=True)
class StationInfo:
    code: str
    name: str
    estate_name: str
    district: str
    is_demo: bool
    units: int
    gross_area_hundredths: int
    # Only from building the demo: its recovery key (services.keys), shown once to the person who built it.
    recovery_code: str = ""


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
    """Fill an empty store with the demo estate: 2 buildings, 194 units, a year of 异动 history, a year of
    rent and two years of repairs and complaints."""
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
    from yuexiu_desk.services import keys

    # The data key first: the households below are sealed with it, the accounts at the end get its slots.
    new_key = keys.create_data_key(session)
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
    session.flush()
    _demo_households(session, [u for u in units if u.status == UnitStatus.OCCUPIED.value], rng)
    session.flush()
    from yuexiu_desk.services.demo_money import install_demo_money

    install_demo_money(session, rng)
    from yuexiu_desk.services.demo_repairs import install_demo_repairs

    install_demo_repairs(session, rng)
    from yuexiu_desk.services.demo_inspections import install_demo_inspections

    install_demo_inspections(session, random.Random(seed))
    from yuexiu_desk.services.users import install_demo_accounts

    install_demo_accounts(session)
    info = station_info(session)
    assert info is not None
    return replace(info, recovery_code=new_key.recovery_code)


CHANGE_REASONS = {
    UnitStatus.VACANT: ["租户退租腾空", "合同到期退出", "维修完成待配租"],
    UnitStatus.RESERVED: ["配租名单公示，预留待签约", "房管局配租通知预留"],
    UnitStatus.OCCUPIED: ["配租签约入住", "调换入住"],
    UnitStatus.UNDER_REPAIR: ["卫生间漏水维修", "外墙渗水维修", "退租后翻新"],
    UnitStatus.WITHHELD: ["房管局通知暂停配租", "结构安全鉴定期间停用"],
}
# Where the demo units end up: about 185 occupied, 6 vacant, 3 under repair (domain-rules §6).
_FINAL = [UnitStatus.VACANT] * 6 + [UnitStatus.UNDER_REPAIR] * 3


def status_route(start: UnitStatus, goal: UnitStatus) -> list[UnitStatus]:
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
            path.extend(status_route(status, target))
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
                    reason=rng.choice(CHANGE_REASONS[step]),
                    operator="演示数据",
                    occurred_at=when,
                )
            )
            current = step
        unit.status = current.value
        unit.updated_at = when


def install_demo(paths: StationPaths, force: bool = False, clock: Clock | None = None) -> StationInfo:
    """Create the demo station in a data folder.

    An existing demo is replaced. Real data is never overwritten unless force is given, and even then a
    verified backup of it is written first. The new demo is built in a separate file and renamed over the
    old one only when complete, so a failure at any point leaves the old database as it was.
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
        if existing is None:
            with store.unit_of_work(system_operator("演示数据")) as session:
                info = create_demo_station(session)
            with store.read() as session:
                write_demo_statement(session, paths.root)
            return info
        stamp = store.clock.now().strftime("%Y%m%dT%H%M%SZ")
        backup_database(store.engine, paths.backups / f"before-demo-{stamp}.sqlite3")
    finally:
        store.close()
    build = StationPaths(paths.root / ".demo-build")
    remove_database_files(build)
    fresh = Store.open(build, clock)
    try:
        with fresh.unit_of_work(system_operator("演示数据")) as session:
            info = create_demo_station(session)
    finally:
        fresh.close()  # the last connection closing folds the WAL into the file
    try:
        remove_database_files(paths, keep_main=True)
        os.replace(build.database, paths.database)
        build.root.rmdir()
    except OSError as exc:
        raise EnvironmentProblem(
            f"无法替换 {paths.database}（{exc.strerror or exc}）。请先关闭正在使用该数据目录的桌面程序再重试。"
        ) from exc
    store = Store.open(paths, clock)
    try:
        with store.read() as session:
            write_demo_statement(session, paths.root)
    finally:
        store.close()
    return info


def write_demo_statement(session: Session, folder: Path) -> Path:
    """Last month's bank statement of the demo, as the bank would export it, to try 导入银行流水 with."""
    from yuexiu_desk.services.demo_money import write_statement

    last_month = Period.of(local_date(session.info["clock"].now())).shifted(-1)
    return write_statement(session, last_month, folder / f"演示银行流水-{last_month}.xlsx")


def remove_database_files(paths: StationPaths, keep_main: bool = False) -> None:
    suffixes = ("-wal", "-shm") if keep_main else ("", "-wal", "-shm")
    for suffix in suffixes:
        Path(f"{paths.database}{suffix}").unlink(missing_ok=True)


_SURNAMES = "张王李赵刘陈杨黄周吴徐孙马朱胡郭何林罗高"
_PLACEHOLDER_NAMES = "三四五六七八九十甲乙丙丁"
_EMPLOYERS = ["江岸区环卫所", "个体经营", "退休", "某物流公司", "某餐饮店", "无业", "社区公益岗"]


def _demo_id_number(rng: random.Random, birth: date, sex_odd: bool) -> str:
    sequence = rng.randrange(0, 500) * 2 + (1 if sex_odd else 0)
    body = f"420102{birth:%Y%m%d}{sequence:03d}"
    return body + mod_11_2.calc_check_digit(body)


def _demo_households(session: Session, occupied: list[Unit], rng: random.Random) -> None:
    """Fictitious households and leases for the occupied demo units (names are placeholders like 张三)."""
    now = session.info["clock"].now()
    today = local_date(now)
    standards = {
        (RentTier.STANDARD, date(2021, 1, 1)): 1050,
        (RentTier.STANDARD, date(2024, 1, 1)): 1100,
        (RentTier.LOW_INCOME, date(2021, 1, 1)): 250,
    }
    for (tier, since), rate in standards.items():
        session.add(
            RentStandard(
                tier=tier.value,
                rate_fen_per_m2=rate,
                effective_from=since,
                approval_doc="（演示）江岸区公租房租金标准批复",
                created_at=now,
            )
        )
    names = [s + g for g in _PLACEHOLDER_NAMES for s in _SURNAMES]
    rng.shuffle(names)
    lease_numbers: dict[int, int] = {}
    for index, unit in enumerate(occupied):
        elderly = rng.random() < 0.15
        low_income = elderly or rng.random() < 0.12
        tier = RentTier.LOW_INCOME if low_income else RentTier.STANDARD
        household = Household(rent_tier=tier.value, is_demo=True, created_at=now, updated_at=now)
        head_birth = (
            date(rng.randint(1940, 1956), rng.randint(1, 12), rng.randint(1, 28))
            if elderly
            else date(rng.randint(1962, 1998), rng.randint(1, 12), rng.randint(1, 28))
        )
        size = 1 if elderly else rng.choice([1, 2, 2, 3, 3, 4])
        head_name = names[index % len(names)]
        people_in_home = [(head_name, "本人", head_birth)]
        if size >= 2:
            people_in_home.append(
                (
                    rng.choice(_SURNAMES) + rng.choice(_PLACEHOLDER_NAMES),
                    "配偶",
                    head_birth + timedelta(days=rng.randint(-900, 900)),
                )
            )
        for _ in range(size - len(people_in_home)):
            people_in_home.append(
                (
                    head_name[0] + "小" + rng.choice(_PLACEHOLDER_NAMES),
                    "子女",
                    head_birth + timedelta(days=365 * rng.randint(22, 32)),
                )
            )
        for position, (name, relation, birth) in enumerate(people_in_home, start=1):
            male = rng.random() < 0.5
            member = HouseholdMember(
                position=position,
                name=name,
                relation=relation,
                is_leaseholder=relation == "本人",
                sex="male" if male else "female",
                birth_date=birth,
                id_kind="resident",
                employer="退休" if birth.year < 1966 else rng.choice(_EMPLOYERS),
                joined_on=today,
            )
            income = rng.randint(8000, 48000) * 100 if relation != "子女" or birth.year < 2008 else None
            groups = {SpecialGroup.ELDERLY_ALONE} if elderly else set()
            if rng.random() < 0.05 and relation == "本人":
                groups.add(SpecialGroup.DISABLED)
            if (elderly and unit.floor == 1) or rng.random() < 0.02:
                groups.add(SpecialGroup.MOBILITY_IMPAIRED)
            people.store_id_number(session, member, _demo_id_number(rng, birth, male))
            people.store_phone(session, member, f"138{position:04d}{index:04d}" if relation == "本人" else "")
            people.store_profile(session, member, income, frozenset(groups))
            household.members.append(member)
        session.add(household)
        # Staggered three-year leases: some end within months (renewal due), a few are freshly signed.
        months_ago = rng.randint(0, 30) if index % 12 else rng.randint(30, 33)
        start = add_months(date(today.year, today.month, 1), -months_ago)
        signed = start - timedelta(days=rng.randint(3, 12))
        rate = max(((since, r) for (t, since), r in standards.items() if t == tier and since <= start))[1]
        year = signed.year
        lease_numbers[year] = lease_numbers.get(year, 0) + 1
        # Some of the newest leases are not filed with the bureau yet (L3), so filing reminders have work to show.
        filed = (
            None if months_ago <= 1 and rng.random() < 0.6 else signed + timedelta(days=rng.randint(5, 20))
        )
        session.add(
            Lease(
                lease_no=f"{DEMO_STATION_CODE}-{year}-{lease_numbers[year]:04d}",
                version=1,
                household=household,
                unit_id=unit.id,
                status=LeaseStatus.ACTIVE.value,
                signed_on=signed,
                start_date=start,
                effective_from=start,
                end_date=lease_end(start, 36),
                rent_tier=tier.value,
                rate_fen_per_m2=rate,
                gross_area_hundredths=unit.gross_area_hundredths,
                monthly_rent_fen=monthly_rent_fen(unit.gross_area_hundredths, rate),
                deposit_fen=100000,
                change_note="签订",
                filed_on=filed if filed is None or filed <= today else None,
                filing_ref=""
                if filed is None or filed > today
                else f"江岸公租备〔{year}〕{lease_numbers[year]:04d}号",
                operator="演示数据",
                created_at=now,
            )
        )
