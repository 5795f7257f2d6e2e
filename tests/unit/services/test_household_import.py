"""Importing the station's ledgers (issue 3): a good file imports whole in one transaction; a file broken in
any way imports nothing and names sheet, row and column of every problem (D1–D3, L1, L3, R1).

Every workbook here is the real template (export.household_template) filled in with openpyxl, so the
template is proven importable. Each test runs with both writers (the station services, and the bulk
writer used for bureau-size files) to show they enforce the same rules.
"""

from __future__ import annotations

import copy
import dataclasses
import uuid
import zipfile
from collections import Counter
from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from stdnum.iso7064 import mod_11_2

from yuexiu_desk.domain.access import system_operator
from yuexiu_desk.domain.households import SpecialGroup
from yuexiu_desk.domain.identity import mask_id_number
from yuexiu_desk.domain.leases import LeaseStatus, RentTier
from yuexiu_desk.domain.units import ChangeKind, UnitStatus
from yuexiu_desk.errors import UserError
from yuexiu_desk.export.household_template import SHEETS, write_household_template
from yuexiu_desk.services import audit, household_import, people
from yuexiu_desk.services.household_import import (
    ImportProblem,
    ImportRejected,
    ImportReport,
    import_households,
)
from yuexiu_desk.services.households import list_households
from yuexiu_desk.services.leases import list_leases
from yuexiu_desk.services.units import UnitFilter, find_unit_id_by_code, list_units, unit_card
from yuexiu_desk.storage.db import Store
from yuexiu_desk.storage.models import (
    ChangeEvent,
    ChangeJournal,
    Household,
    HouseholdMember,
    Lease,
    Unit,
)

OPERATOR = "李明"
WRITERS = pytest.mark.parametrize("bulk", [False, True], ids=["services", "bulk"])


def ident(body17: str) -> str:
    return body17 + mod_11_2.calc_check_digit(body17)


LEGACY_ID = "420102650707081"  # D3: 15 digits, born 1965-07-07, no check digit
LEGACY_AS_18 = ident("42010219650707081")

Rows = list[dict[str, Any]]


@dataclasses.dataclass(frozen=True)
class Station:
    vacant: list[str]
    occupied: str
    under_repair: str
    registered_id: str  # a current member of a demo household


@pytest.fixture
def station(demo_store: Store) -> Station:
    with demo_store.read() as session:
        vacant = [u.code for u in list_units(session, UnitFilter(status=UnitStatus.VACANT))]
        occupied = list_units(session, UnitFilter(status=UnitStatus.OCCUPIED))[0].code
        repair = list_units(session, UnitFilter(status=UnitStatus.UNDER_REPAIR))[0].code
        registered = people.unsealed(session.scalars(select(HouseholdMember).limit(1)).first()).id_number
    assert len(vacant) >= 4
    return Station(vacant, occupied, repair, registered)


def good_rows(st: Station) -> tuple[Rows, Rows]:
    """Three households: a family of three, a low-income elderly tenant, one with a 15-digit legacy ID.

    住户 rows 2–4 are household 1, row 5 household 2, rows 6–7 household 3; 合同 rows 2, 3, 4.
    """
    a, b, c = st.vacant[:3]
    members: Rows = [
        {
            "房号": a,
            "户序号": "1",
            "姓名": "测试甲",
            "与承租人关系": "本人",
            "身份证号": ident("42010219700101001"),
            "联系电话": "13912345678",
            "工作单位": "江岸区环卫所",
            "年收入(元)": 36000,
            "孤寡空巢老人": "否",
            "残疾": "否",
            "行动不便": "否",
        },
        {
            "房号": a,
            "户序号": "1",
            "姓名": "测试乙",
            "与承租人关系": "配偶",
            "身份证号": ident("42010219720202002"),
            "年收入(元)": "24,000.50",
        },
        {
            "房号": a,
            "户序号": 1,  # typed as a number in one row, as text in the others
            "姓名": "测试丙",
            "与承租人关系": "子女",
            "身份证号": ident("42010219980303003"),
            "残疾": "是",
        },
        {
            "房号": b,
            "户序号": "2",
            "姓名": "测试丁",
            "与承租人关系": "本人",
            "身份证号": ident("42010219500505004"),
            "联系电话": "027-82801234",
            "工作单位": "退休",
            "年收入(元)": 9600,
            "孤寡空巢老人": "是",
            "行动不便": "是",
        },
        {
            "房号": c,
            "户序号": "3",
            "姓名": "测试戊",
            "与承租人关系": "本人",
            "身份证号": LEGACY_ID,
            "联系电话": "13800001111",
        },
        {
            "房号": c,
            "户序号": "3",
            "姓名": "测试己",
            "与承租人关系": "配偶",
            "身份证号": ident("42010219680808006"),
        },
    ]
    leases: Rows = [
        {
            "户序号": "1",
            "房号": a,
            "合同开始日期": date(2026, 12, 1),  # a real Excel date
            "租期(月)": 36,
            "签约日期": datetime(2026, 11, 10),
            "押金(元)": 1000,
            "租金档次": "标准租金",
            "备案日期": "2026/11/15",
            "备案编号": "江岸备字2026-0101",
        },
        {
            "户序号": "2",
            "房号": b,
            "合同开始日期": "2025/6/1",
            "租期(月)": "36",
            "签约日期": "2025年5月20日",
            "押金(元)": "500.00",
            "租金档次": "低收入减免",
            "备案日期": datetime(2025, 6, 5),
            "备案编号": "江岸备字2025-0042",
        },
        {
            "户序号": "3",
            "房号": c,
            "合同开始日期": "2026-01-01",
            "租期(月)": 24,
            "签约日期": "2025-12-20",
            "租金档次": "标准租金",
        },
    ]
    return members, leases


def write_book(folder: Path, members: Rows, leases: Rows, name: str = "ledger.xlsx") -> Path:
    """The template, filled in the way a clerk does: one row per member, one per lease."""
    path = write_household_template(folder / name)
    book = openpyxl.load_workbook(path)
    for sheet, rows in (("住户", members), ("合同", leases)):
        worksheet = book[sheet]
        headers = [cell.value for cell in worksheet[1]]
        for row in rows:
            assert set(row) <= set(headers), set(row) - set(headers)
            worksheet.append([row.get(h) for h in headers])
    book.save(path)
    return path


STATE_TABLES = (Household, HouseholdMember, Lease, ChangeEvent, ChangeJournal)


def state(store: Store) -> tuple[Any, ...]:
    """What a rejected import must leave exactly as it was."""
    with store.read() as session:
        counts = tuple(session.scalar(select(func.count()).select_from(t)) for t in STATE_TABLES)
        statuses = tuple(session.execute(select(Unit.code, Unit.status).order_by(Unit.code)))
    return counts, statuses


def run_import(store: Store, path: Path, bulk: bool, dry_run: bool = False) -> ImportReport:
    with store.unit_of_work(system_operator(OPERATOR)) as session:
        return import_households(session, path, OPERATOR, dry_run=dry_run, bulk=bulk)


def where(problems: list[ImportProblem]) -> list[tuple[str, int, str]]:
    return [(p.sheet, p.row, p.column) for p in problems]


# ------------------------------------------------------------------------------------------ a good file


@WRITERS
def test_good_file_imports_households_leases_and_occupies_units(
    demo_store: Store, station: Station, tmp_path: Path, bulk: bool
) -> None:
    """R1 rent from area × the standard in force; D3 legacy ID converted; 异动 on every unit; L3 filing kept."""
    path = write_book(tmp_path, *good_rows(station))
    report = run_import(demo_store, path, bulk)
    assert report == ImportReport(households=3, members=6, leases=3, filings=2, dry_run=False, warnings=[])
    a, b, c = station.vacant[:3]
    with demo_store.read() as session:
        households = {h.unit_code: h for h in list_households(session)}
        leases = {row.unit_code: row for row in list_leases(session, active_only=True)}
        area = {u.code: u.gross_area for u in list_units(session)}
        cards = {code: unit_card(session, find_unit_id_by_code(session, code)) for code in (a, b, c)}

    family = households[a]
    assert family.leaseholder == "测试甲" and family.rent_tier is RentTier.STANDARD
    assert [m.name for m in family.members] == ["测试甲", "测试乙", "测试丙"]
    assert [m.id_number_masked for m in family.members] == [
        mask_id_number(ident("42010219700101001")),
        mask_id_number(ident("42010219720202002")),
        mask_id_number(ident("42010219980303003")),
    ]
    assert family.members[0].id_number_masked.startswith("4201**********")
    assert family.members[0].phone_masked == "139****5678"
    assert family.flags == [SpecialGroup.DISABLED]
    assert ident("42010219700101001") not in str(family.as_json())
    elderly = households[b]
    assert elderly.rent_tier is RentTier.LOW_INCOME
    assert set(elderly.flags) == {SpecialGroup.ELDERLY_ALONE, SpecialGroup.MOBILITY_IMPAIRED}
    legacy = households[c].members[0]
    assert legacy.id_number_masked == mask_id_number(LEGACY_AS_18)  # D3: stored as 18 digits
    assert (legacy.birth_date, legacy.sex) == (date(1965, 7, 7), "male")

    # R1: demo standards are 11.00 元 (standard, from 2024) and 2.50 元 (low income, from 2021).
    for code, rate in ((a, "11.00"), (b, "2.50"), (c, "11.00")):
        expected = (area[code] * Decimal(rate)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        assert leases[code].monthly_rent == expected
        assert leases[code].status is LeaseStatus.ACTIVE
    assert (leases[a].start, leases[a].end, leases[a].signed_on) == (
        date(2026, 12, 1),
        date(2029, 11, 30),
        date(2026, 11, 10),
    )
    assert leases[a].deposit == Decimal("1000.00") and leases[c].deposit == Decimal("0.00")
    assert (leases[b].filed_on, leases[c].filed_on) == (date(2025, 6, 5), None)  # L3
    assert leases[b].lease_no.startswith("YXY01-2025-") and leases[a].lease_no.startswith("YXY01-2026-")
    for code in (a, b, c):
        assert cards[code].row.status is UnitStatus.OCCUPIED
        event = cards[code].history[0]
        assert (event.kind, event.operator) == (ChangeKind.MOVE_IN, OPERATOR)
        assert leases[code].lease_no in event.reason
    with demo_store.read() as session:
        (entry,) = audit.latest(session, 1)
    assert (entry.operator, entry.action, entry.subject) == (OPERATOR, "import", "ledger.xlsx")
    assert entry.detail == {"kind": "households", "households": 3, "bulk": bulk}


@WRITERS
def test_reimporting_the_same_file_is_refused_and_changes_nothing(
    demo_store: Store, station: Station, tmp_path: Path, bulk: bool
) -> None:
    """D-rule duplicates across active households and units already leased, each on its own cell."""
    path = write_book(tmp_path, *good_rows(station))
    run_import(demo_store, path, bulk)
    before = state(demo_store)
    with pytest.raises(ImportRejected) as caught:
        run_import(demo_store, path, bulk)
    assert where(caught.value.problems) == [
        *(("住户", row, "身份证号") for row in range(2, 8)),
        ("合同", 2, "房号"),
        ("合同", 3, "房号"),
        ("合同", 4, "房号"),
    ]
    assert caught.value.message.startswith("发现 9 处问题，未导入任何数据：")
    assert "已登记在本站另一户中" in caught.value.problems[0].message
    assert "还有未结束的合同" in caught.value.problems[-1].message
    assert state(demo_store) == before


@WRITERS
def test_dry_run_checks_everything_and_writes_nothing(
    demo_store: Store, station: Station, tmp_path: Path, bulk: bool
) -> None:
    path = write_book(tmp_path, *good_rows(station))
    before = state(demo_store)
    with demo_store.read() as session:
        chain = audit.verify(session).count
    report = run_import(demo_store, path, bulk, dry_run=True)
    assert report == ImportReport(households=3, members=6, leases=3, filings=2, dry_run=True, warnings=[])
    assert state(demo_store) == before
    with demo_store.read() as session:
        assert audit.verify(session).count == chain  # a dry run is not an import: nothing recorded
    assert run_import(demo_store, path, bulk).households == 3  # and the file is still good afterwards


def snapshot(session: Session) -> dict[str, Any]:
    """Everything an import writes, without the random ids, so two imports can be compared."""
    holder = {
        m.household_id: m.name
        for m in session.scalars(select(HouseholdMember).where(HouseholdMember.is_leaseholder))
    }

    def plain(obj: Any, skip: set[str]) -> dict[str, Any]:
        values = {c.key: getattr(obj, c.key) for c in obj.__mapper__.column_attrs if c.key not in skip}
        if "household_id" in skip:
            values["household"] = holder[obj.household_id]
        return values

    return {
        "households": sorted(
            (holder[h.id], h.rent_tier, h.notes, h.is_demo, h.created_at)
            for h in session.scalars(select(Household))
        ),
        # Sealed columns differ by their random nonces: what they open to is compared instead.
        "members": sorted(
            (
                plain(m, {"id", "household_id", "id_number_sealed", "phone_sealed", "profile_sealed"})
                | {"personal": people.unsealed(m)}
                for m in session.scalars(select(HouseholdMember))
            ),
            key=lambda v: v["personal"].id_number,
        ),
        "leases": sorted(
            (plain(lease, {"id", "household_id"}) for lease in session.scalars(select(Lease))),
            key=lambda v: v["lease_no"],
        ),
        "events": sorted(
            (plain(e, {"id"}) for e in session.scalars(select(ChangeEvent))),
            key=lambda v: (str(v["unit_id"]), v["occurred_at"], v["reason"]),
        ),
        "units": sorted((u.code, u.status, u.updated_at) for u in session.scalars(select(Unit))),
        "journal": Counter((j.table_name, j.operation) for j in session.scalars(select(ChangeJournal))),
    }


def test_bulk_writer_writes_what_the_services_write(
    demo_store: Store, station: Station, tmp_path: Path
) -> None:
    """The bulk path (bureau-size files) makes the same rows as register_household + sign_lease + record_filing."""
    path = write_book(tmp_path, *good_rows(station))
    taken = {}
    with demo_store.unit_of_work(system_operator(OPERATOR)) as session:
        for bulk in (False, True):
            trial = session.begin_nested()
            import_households(session, path, OPERATOR, bulk=bulk)
            taken[bulk] = snapshot(session)
            trial.rollback()
    services, bulk_rows = taken[False], taken[True]
    # record_filing updates the lease the services have just inserted; the bulk writer inserts it filed.
    assert services.pop("journal") - bulk_rows.pop("journal") == Counter({("lease", "update"): 2})
    assert services == bulk_rows


# ---------------------------------------------------------------------------------- files broken one way

Change = Callable[[Rows, Rows, Station], None]


def cells(sheet: str, index: int, values: dict[str, Any]) -> Change:
    def change(members: Rows, leases: Rows, st: Station) -> None:
        (members if sheet == "住户" else leases)[index].update(values)

    return change


def spare_unit(sheet: str, index: int) -> Change:
    """Put one row on a vacant unit nobody else in the file uses."""

    def change(members: Rows, leases: Rows, st: Station) -> None:
        (members if sheet == "住户" else leases)[index]["房号"] = st.vacant[3]

    return change


def move_household(index: int, to: Callable[[Station], str], **lease: Any) -> Change:
    """Put household `index` (0-based) on another unit, in both sheets."""

    def change(members: Rows, leases: Rows, st: Station) -> None:
        key = leases[index]["户序号"]
        code = to(st)
        for m in members:
            if str(m["户序号"]) == key:
                m["房号"] = code
        leases[index].update({"房号": code, **lease})

    return change


def existing_id(members: Rows, leases: Rows, st: Station) -> None:
    members[0]["身份证号"] = st.registered_id


def drop_lease(index: int) -> Change:
    def change(members: Rows, leases: Rows, st: Station) -> None:
        del leases[index]

    return change


def extra_lease(index: int, **values: Any) -> Change:
    def change(members: Rows, leases: Rows, st: Station) -> None:
        leases.append({**copy.deepcopy(leases[index]), **values})

    return change


BROKEN: list[tuple[str, Change, list[tuple[str, int, str]]]] = [
    (
        "D2 check digit wrong",
        cells("住户", 0, {"身份证号": ident("42010219700101001")[:-1] + "0"}),
        [("住户", 2, "身份证号")],
    ),
    (
        "D1 birth date does not exist",
        cells("住户", 1, {"身份证号": ident("42010219700231002")}),
        [("住户", 3, "身份证号")],
    ),
    ("D1 wrong length", cells("住户", 1, {"身份证号": "4201021972020200"}), [("住户", 3, "身份证号")]),
    (
        "D3 legacy number with a bad date",
        cells("住户", 4, {"身份证号": "420102651307081"}),
        [("住户", 6, "身份证号")],
    ),
    (
        "ID typed as a number lost its last digits",
        cells("住户", 2, {"身份证号": 4.20102199803030e17}),
        [("住户", 4, "身份证号")],
    ),
    ("unknown unit code", move_household(0, lambda st: "9-9-999"), [("合同", 2, "房号")]),
    ("not a unit code", cells("住户", 3, {"房号": "五栋"}), [("住户", 5, "房号")]),
    ("unit already leased", move_household(1, lambda st: st.occupied), [("合同", 3, "房号")]),
    ("unit not vacant or reserved", move_household(1, lambda st: st.under_repair), [("合同", 3, "房号")]),
    (
        "two households on one unit",
        move_household(2, lambda st: st.vacant[0], **{"合同开始日期": "2023-01-01", "租期(月)": 12}),
        [("合同", 4, "房号")],
    ),
    (
        "overlapping leases on one unit",
        move_household(2, lambda st: st.vacant[0]),
        [("合同", 4, "合同开始日期")],
    ),
    (
        "overlapping leases of one household",
        extra_lease(0, **{"合同开始日期": "2027-06-01"}),
        [("合同", 5, "合同开始日期")],
    ),
    (
        "two leases of one household",
        extra_lease(0, **{"合同开始日期": "2030-01-01"}),
        [("合同", 5, "户序号")],
    ),
    (
        "date that does not exist",
        cells("合同", 0, {"合同开始日期": "2026-13-01"}),
        [("合同", 2, "合同开始日期")],
    ),
    ("date that does not parse", cells("合同", 1, {"签约日期": "去年五月"}), [("合同", 3, "签约日期")]),
    ("date given as a bare number", cells("合同", 2, {"签约日期": 46011}), [("合同", 4, "签约日期")]),
    ("missing name", cells("住户", 1, {"姓名": None}), [("住户", 3, "姓名")]),
    ("missing household number", cells("住户", 2, {"户序号": "  "}), [("住户", 4, "户序号")]),
    ("missing term", cells("合同", 2, {"租期(月)": None}), [("合同", 4, "租期(月)")]),
    ("missing rent tier", cells("合同", 0, {"租金档次": None}), [("合同", 2, "租金档次")]),
    ("relation not recognised", cells("住户", 1, {"与承租人关系": "邻居"}), [("住户", 3, "与承租人关系")]),
    (
        "household without a leaseholder",
        cells("住户", 3, {"与承租人关系": "其他"}),
        [("住户", 5, "与承租人关系")],
    ),
    (
        "household with two leaseholders",
        cells("住户", 1, {"与承租人关系": "本人", "联系电话": "13912345670"}),
        [("住户", 3, "与承租人关系")],
    ),
    ("leaseholder without a phone", cells("住户", 0, {"联系电话": None}), [("住户", 2, "联系电话")]),
    ("D6 phone not a phone number", cells("住户", 3, {"联系电话": "12345"}), [("住户", 5, "联系电话")]),
    (
        "same ID twice in the file",
        cells("住户", 5, {"身份证号": ident("42010219720202002")}),
        [("住户", 7, "身份证号")],
    ),
    (
        "D3 same person as 15 and 18 digits",
        cells("住户", 5, {"身份证号": LEGACY_AS_18}),
        [("住户", 7, "身份证号")],
    ),
    ("ID already in an active household", existing_id, [("住户", 2, "身份证号")]),
    ("amount with three decimals", cells("合同", 0, {"押金(元)": "1000.125"}), [("合同", 2, "押金(元)")]),
    ("amount not a number", cells("住户", 0, {"年收入(元)": "三万"}), [("住户", 2, "年收入(元)")]),
    ("negative deposit", cells("合同", 1, {"押金(元)": -5}), [("合同", 3, "押金(元)")]),
    ("term absurdly long", cells("合同", 0, {"租期(月)": 99999}), [("合同", 2, "租期(月)")]),
    ("year out of range", cells("合同", 0, {"合同开始日期": "9999-12-01"}), [("合同", 2, "合同开始日期")]),
    ("amount absurdly large", cells("住户", 0, {"年收入(元)": 1e20}), [("住户", 2, "年收入(元)")]),
    (
        "L1 term over five years without a reason",
        cells("合同", 2, {"租期(月)": 72}),
        [("合同", 4, "超5年理由")],
    ),
    ("signed in the future", cells("合同", 2, {"签约日期": "2026-12-01"}), [("合同", 4, "签约日期")]),
    ("L3 filing date without a reference", cells("合同", 0, {"备案编号": None}), [("合同", 2, "备案编号")]),
    ("L3 filed before signing", cells("合同", 1, {"备案日期": "2025-05-01"}), [("合同", 3, "备案日期")]),
    (
        "L5 no rent standard in force",
        cells("合同", 2, {"合同开始日期": "2019-01-01"}),
        [("合同", 4, "合同开始日期")],
    ),
    ("yes/no not recognised", cells("住户", 0, {"残疾": "可能"}), [("住户", 2, "残疾")]),
    # openpyxl writes these strings as error cells, as Excel saves a formula that failed.
    (
        "formula error in an optional cell",
        cells("住户", 0, {"年收入(元)": "#DIV/0!"}),
        [("住户", 2, "年收入(元)")],
    ),
    (
        "formula error in a required cell",
        cells("合同", 1, {"合同开始日期": "#N/A"}),
        [("合同", 3, "合同开始日期")],
    ),
    ("formula error in a text cell", cells("住户", 2, {"姓名": "#REF!"}), [("住户", 4, "姓名")]),
    ("rent tier not recognised", cells("合同", 0, {"租金档次": "市场租金"}), [("合同", 2, "租金档次")]),
    ("household without a lease row", drop_lease(2), [("住户", 6, "户序号")]),
    (
        "lease row of a household that is not in 住户",
        cells("合同", 2, {"户序号": "9"}),
        [("住户", 6, "户序号"), ("合同", 4, "户序号")],
    ),
    ("unit differs between the sheets", spare_unit("合同", 2), [("合同", 4, "房号")]),
    ("one household on two units", spare_unit("住户", 1), [("住户", 3, "房号")]),
]


@WRITERS
@pytest.mark.parametrize(
    ("change", "expected"), [case[1:] for case in BROKEN], ids=[case[0] for case in BROKEN]
)
def test_a_broken_file_names_sheet_row_and_column_and_imports_nothing(
    demo_store: Store,
    station: Station,
    tmp_path: Path,
    bulk: bool,
    change: Change,
    expected: list[tuple[str, int, str]],
) -> None:
    members, leases = good_rows(station)
    change(members, leases, station)
    path = write_book(tmp_path, members, leases)
    before = state(demo_store)
    with pytest.raises(ImportRejected) as caught:
        run_import(demo_store, path, bulk)
    assert where(caught.value.problems) == expected, [str(p) for p in caught.value.problems]
    assert all(p.message for p in caught.value.problems)
    assert state(demo_store) == before
    with pytest.raises(ImportRejected):  # a dry run finds the same
        run_import(demo_store, path, bulk, dry_run=True)


@WRITERS
def test_every_problem_is_listed_not_only_the_first(
    demo_store: Store, station: Station, tmp_path: Path, bulk: bool
) -> None:
    members, leases = good_rows(station)
    members[1]["身份证号"] = "4201021972020200"
    members[3]["与承租人关系"] = "邻居"
    leases[2]["合同开始日期"] = "三月一日"
    path = write_book(tmp_path, members, leases)
    with pytest.raises(ImportRejected) as caught:
        run_import(demo_store, path, bulk)
    assert where(caught.value.problems) == [
        ("住户", 3, "身份证号"),
        ("住户", 5, "与承租人关系"),
        ("合同", 4, "合同开始日期"),
    ]
    message = caught.value.message
    assert message.startswith("发现 3 处问题，未导入任何数据：“住户”表第 3 行“身份证号”：身份证号应为 18 位")
    assert "“合同”表第 4 行“合同开始日期”：“三月一日”不是可识别的日期" in message


def test_a_missing_sheet_is_named(demo_store: Store, station: Station, tmp_path: Path) -> None:
    path = write_book(tmp_path, *good_rows(station))
    book = openpyxl.load_workbook(path)
    del book["合同"]
    book.save(path)
    with pytest.raises(ImportRejected) as caught:
        run_import(demo_store, path, bulk=False)
    assert where(caught.value.problems) == [("合同", 0, "")]
    assert "没有“合同”工作表" in str(caught.value.problems[0])


def test_a_missing_column_is_named_with_the_headers_not_recognised(
    demo_store: Store, station: Station, tmp_path: Path
) -> None:
    path = write_book(tmp_path, *good_rows(station))
    book = openpyxl.load_workbook(path)
    book["住户"]["E1"] = "证件号码"
    book["合同"]["J1"] = None
    book.save(path)
    before = state(demo_store)
    with pytest.raises(ImportRejected) as caught:
        run_import(demo_store, path, bulk=False)
    assert where(caught.value.problems) == [("住户", 1, "身份证号"), ("合同", 1, "备案编号")]
    assert "未识别的列：证件号码" in caught.value.problems[0].message
    assert state(demo_store) == before


@WRITERS
def test_headers_are_found_by_name_in_any_order_with_spaces_and_a_title_row(
    demo_store: Store, station: Station, tmp_path: Path, bulk: bool
) -> None:
    """A clerk's own workbook: a title line, shuffled headers with stray spaces and full-width brackets,
    an extra column, blank rows in between and formatted empty rows at the end."""
    members, leases = good_rows(station)
    book = openpyxl.Workbook()
    first = book.active
    assert first is not None
    book.remove(first)
    for name, rows in (("住户", members), ("合同", leases)):
        sheet = book.create_sheet(f" {name} ")
        headers = [c.header for c in reversed(SHEETS[name])]
        sheet.append([f"悦秀苑{name}台账（2026 年）"])
        sheet.append([])
        sheet.append(["备注", *(f"  {h.replace('(', '（').replace(')', '）')} " for h in headers)])
        for index, row in enumerate(rows):
            sheet.append(["", *(row.get(h) for h in headers)])
            if index == 0:
                sheet.append([None] * (len(headers) + 1))
        for extra in range(5):
            sheet.cell(row=sheet.max_row + 1 + extra, column=2).number_format = "@"
    path = tmp_path / "own.xlsx"
    book.save(path)
    report = run_import(demo_store, path, bulk)
    assert (report.households, report.members, report.leases) == (3, 6, 3)


@WRITERS
def test_a_refusal_by_a_service_becomes_a_problem_of_its_row(
    demo_store: Store, station: Station, tmp_path: Path, bulk: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rule the file checks do not know yet (here: a stub) still stops the import, placed on its row,
    with the households written before it rolled back."""
    refused = station.vacant[1]
    real_sign = household_import.sign_lease

    def sign(session: Session, data: Any, operator: str, rules: Any) -> uuid.UUID:
        if data.unit_code == refused:
            raise UserError("该房源正在办理其他手续。")
        return real_sign(session, data, operator, rules)

    monkeypatch.setattr(household_import, "sign_lease", sign)
    path = write_book(tmp_path, *good_rows(station))
    before = state(demo_store)
    if bulk:  # the bulk writer does not call the services; it relies on the file checks alone
        assert run_import(demo_store, path, bulk=True, dry_run=True).households == 3
        return
    with pytest.raises(ImportRejected) as caught:
        run_import(demo_store, path, bulk=False)
    assert where(caught.value.problems) == [("合同", 3, "")]
    assert caught.value.problems[0].message == "该房源正在办理其他手续。"
    assert state(demo_store) == before


def test_a_member_refused_by_register_household_is_placed_on_that_member(
    demo_store: Store, station: Station, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def register(session: Session, data: Any) -> uuid.UUID:
        raise UserError("第 2 位成员（测试乙）：另一条规则。")

    monkeypatch.setattr(household_import, "register_household", register)
    path = write_book(tmp_path, *good_rows(station))
    with pytest.raises(ImportRejected) as caught:
        run_import(demo_store, path, bulk=False)
    assert where(caught.value.problems) == [("住户", 3, ""), ("住户", 5, ""), ("住户", 7, "")]


@WRITERS
def test_an_accepted_override_and_an_expired_lease_are_reported_as_warnings(
    demo_store: Store, station: Station, tmp_path: Path, bulk: bool
) -> None:
    """L1: over five years is accepted with a reason (and the reason kept); an expired lease is imported
    as active so the renewal shows as overdue (L2)."""
    members, leases = good_rows(station)
    leases[2].update({"租期(月)": 72, "超5年理由": "区住房保障中心批准的长期安置"})
    leases[1].update(
        {"合同开始日期": "2022-01-01", "租期(月)": 12, "签约日期": "2021-12-20", "备案日期": "2021-12-25"}
    )
    report = run_import(demo_store, write_book(tmp_path, members, leases), bulk)
    assert where(report.warnings) == [("合同", 3, "租期(月)"), ("合同", 4, "超5年理由")]
    assert "2022-12-31 到期" in report.warnings[0].message
    with demo_store.read() as session:
        lease = session.scalars(select(Lease).where(Lease.term_override_reason != "")).one()
    assert lease.term_override_reason == "区住房保障中心批准的长期安置"


def test_files_that_are_not_ledgers_are_refused_in_one_sentence(demo_store: Store, tmp_path: Path) -> None:
    with pytest.raises(UserError, match="找不到文件"):
        run_import(demo_store, tmp_path / "missing.xlsx", bulk=False)
    text = tmp_path / "ledger.csv"
    text.write_text("房号,户序号\n", encoding="utf-8")
    with pytest.raises(UserError, match="另存为"):
        run_import(demo_store, text, bulk=False)
    fake = tmp_path / "fake.xlsx"
    fake.write_bytes(b"not a zip file")
    with pytest.raises(UserError, match="无法作为 Excel 工作簿打开"):
        run_import(demo_store, fake, bulk=False)
    empty = write_household_template(tmp_path / "empty.xlsx")
    with pytest.raises(UserError, match="都没有数据行"):
        run_import(demo_store, empty, bulk=False)
    damaged = write_household_template(tmp_path / "damaged.xlsx")
    data = bytearray(damaged.read_bytes())
    with zipfile.ZipFile(damaged) as archive:
        sheet = archive.getinfo("xl/worksheets/sheet1.xml")
    start = sheet.header_offset + 30 + len(sheet.filename) + 10  # inside the sheet's compressed bytes
    data[start : start + 40] = bytes(range(40))
    damaged.write_bytes(bytes(data))
    with pytest.raises(UserError, match="无法作为 Excel 工作簿打开"):
        run_import(demo_store, damaged, bulk=False)


def test_the_problem_text_names_sheet_row_and_column() -> None:
    assert (
        str(ImportProblem("住户", 5, "身份证号", "校验位不对。")) == "“住户”表第 5 行“身份证号”：校验位不对。"
    )
    assert str(ImportProblem("合同", 3, "", "被拒绝。")) == "“合同”表第 3 行：被拒绝。"
    assert str(ImportProblem("合同", 0, "", "没有这张表。")) == "“合同”表：没有这张表。"
    many = ImportRejected([ImportProblem("住户", n, "姓名", "此项必填。") for n in range(2, 7)])
    assert many.message == (
        "发现 5 处问题，未导入任何数据：“住户”表第 2 行“姓名”：此项必填；“住户”表第 3 行“姓名”：此项必填；"
        "“住户”表第 4 行“姓名”：此项必填；……另有 2 处，见完整列表。"
    )


def test_people_already_registered_are_found_in_a_file_smaller_or_larger_than_the_station(
    demo_store: Store, station: Station
) -> None:
    """D3/R1's duplicate check looks the file's people up one chunk at a time, or — for a file with more
    people than the station has (a first import) — reads the station's members once: both find the same."""
    with demo_store.read() as session:
        current = session.scalar(
            select(func.count()).select_from(HouseholdMember).where(HouseholdMember.left_on.is_(None))
        )
        assert current is not None and current > 100
        births = (date(1950, 1, 1) + timedelta(days=i) for i in range(current // 10 + 10))
        numbers = {station.registered_id} | {
            ident(f"420102{born:%Y%m%d}{seq:03d}") for born in births for seq in range(1, 11)
        }
        assert len(numbers) > current
        number_of = people.id_number_indexes(session, numbers)
        whole = household_import._registered_id_numbers(session, number_of)
        pieces = list(number_of.items())
        chunked: set[str] = set()
        for start in range(0, len(pieces), 100):
            chunked |= household_import._registered_id_numbers(session, dict(pieces[start : start + 100]))
    assert station.registered_id in whole
    assert whole == chunked
