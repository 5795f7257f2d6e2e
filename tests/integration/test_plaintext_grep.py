"""Personal data at rest (issue 6, PIPL §2): known fake ID numbers and phones go in through every door the desk
has — registration, a new member, a ledger import, a complaint, a reveal, a backup, the command line — and the
raw bytes of the database, its WAL, the backups, the logs and the temp files hold none of them. The search by
ID number still finds them; a tampered or moved ciphertext is an error, never someone else's data."""

from __future__ import annotations

import json
import sqlite3
import tempfile
from contextlib import closing
from datetime import date
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import select
from stdnum.iso7064 import mod_11_2

from yuexiu_desk.cli import main
from yuexiu_desk.clock import FixedClock, local_date
from yuexiu_desk.domain.households import SpecialGroup
from yuexiu_desk.domain.units import UnitStatus
from yuexiu_desk.export.household_template import write_household_template
from yuexiu_desk.paths import StationPaths
from yuexiu_desk.services import complaints, people
from yuexiu_desk.services.households import (
    HouseholdInput,
    MemberInput,
    households_with_id_number,
    register_household,
)
from yuexiu_desk.services.members import add_member, change_member
from yuexiu_desk.services.units import UnitFilter, list_units
from yuexiu_desk.services.users import DEMO_PASSWORD, sign_in
from yuexiu_desk.storage.db import Store
from yuexiu_desk.storage.fieldcrypt import TamperedData
from yuexiu_desk.storage.models import HouseholdMember


def ident(body17: str) -> str:
    return body17 + mod_11_2.calc_check_digit(body17)


# Unusual birth dates and sequence numbers, so no demo resident carries them by chance.
LEASEHOLDER_ID = ident("42010219330715037")
SPOUSE_ID = ident("42010219351122048")
NEWBORN_ID = ident("42010220240229059")
IMPORTED_ID = ident("42010219441009061")
LEASEHOLDER_PHONE = "13307150371"
IMPORTED_PHONE = "18644100961"
CALLER_PHONE = "15935112248"
SECRETS = (
    LEASEHOLDER_ID,
    SPOUSE_ID,
    NEWBORN_ID,
    IMPORTED_ID,
    LEASEHOLDER_PHONE,
    IMPORTED_PHONE,
    CALLER_PHONE,
)
# Names are not sealed: finding them proves the scan reads the files it claims to.
VISIBLE_NAME = "测试明文户"


def files_under(*folders: Path) -> list[Path]:
    return sorted(p for folder in folders for p in folder.rglob("*") if p.is_file())


def hits(files: list[Path], needles: tuple[str, ...]) -> list[tuple[str, str]]:
    found = []
    for path in files:
        data = path.read_bytes()
        for needle in needles:
            for encoded in (needle.encode("utf-8"), needle.encode("utf-16-le")):
                if encoded in data:
                    found.append((path.name, needle))
    return found


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def import_book(folder: Path, unit_code: str) -> Path:
    path = write_household_template(folder / "台账.xlsx")
    book = openpyxl.load_workbook(path)
    rows = {
        "住户": {
            "房号": unit_code,
            "户序号": "1",
            "姓名": "测试导入",
            "与承租人关系": "本人",
            "身份证号": IMPORTED_ID,
            "联系电话": IMPORTED_PHONE,
            "年收入(元)": 18000,
            "残疾": "是",
        },
        "合同": {
            "户序号": "1",
            "房号": unit_code,
            "合同开始日期": "2026-12-01",
            "租期(月)": 36,
            "签约日期": "2026-11-20",
            "租金档次": "标准租金",
        },
    }
    for sheet, row in rows.items():
        headers = [cell.value for cell in book[sheet][1]]
        book[sheet].append([row.get(h) for h in headers])
    book.save(path)
    return path


@pytest.fixture
def temp_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Where this process and its libraries put temporary files during the test."""
    temp = tmp_path / "temp"
    temp.mkdir()
    monkeypatch.setenv("TMPDIR", str(temp))
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    return temp


def use_the_desk(store: Store, today: date) -> None:
    """A clerk's day with the fake people, through the services the desk's pages call."""
    with store.unit_of_work() as session:
        household_id = register_household(
            session,
            HouseholdInput(
                members=[
                    MemberInput(
                        name=VISIBLE_NAME,
                        relation="本人",
                        id_number=LEASEHOLDER_ID,
                        phone=LEASEHOLDER_PHONE,
                        annual_income="31,000.00",
                        groups=frozenset({SpecialGroup.ELDERLY_ALONE}),
                    ),
                    MemberInput(name="测试配偶", relation="配偶", id_number=SPOUSE_ID),
                ]
            ),
        )
    operator = store.operator.login if store.operator else ""
    with store.unit_of_work() as session:
        newborn = add_member(
            session,
            household_id,
            MemberInput(name="测试新生", relation="子女", id_number=NEWBORN_ID),
            today,
            "出生",
            operator,
        )
        change_member(session, newborn, today, "复核", operator, flags={SpecialGroup.DISABLED})
        complaints.add_complaint(
            session,
            channel="phone",
            category="neighbour",
            content="夜间噪音",
            complainant="测试来电",
            phone=CALLER_PHONE,
            operator=operator,
        )
    with store.unit_of_work() as session:
        leaseholder = session.scalars(
            select(HouseholdMember).where(HouseholdMember.household_id == household_id).limit(1)
        ).one()
        assert (
            people.reveal_id_number(session, leaseholder.id, "办理备案核对证件", operator) == LEASEHOLDER_ID
        )


def test_no_fake_id_number_or_phone_reaches_any_file_in_plain(
    demo_paths: StationPaths,
    clock: FixedClock,
    tmp_path: Path,
    temp_dir: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    store = Store.open(demo_paths, clock)
    try:
        store.operator = sign_in(store, "manager", DEMO_PASSWORD)
        use_the_desk(store, local_date(clock.now()))
        with store.read() as session:
            vacant = list_units(session, UnitFilter(status=UnitStatus.VACANT))[0].code
        # The WAL holds the day's writes before a checkpoint: scanned while the store is open.
        assert demo_paths.database.with_name(demo_paths.database.name + "-wal").exists()
        live = files_under(demo_paths.root, temp_dir)
        assert hits(live, SECRETS) == []
        assert hits(live, (VISIBLE_NAME,)), "the scan should see the names, which are stored as they are"
    finally:
        store.close()

    book = import_book(tmp_path / "在U盘上", vacant)
    root = str(demo_paths.root)
    code, out, err = run(capsys, "--data-dir", root, "import", "households", str(book))
    assert code == 0, out + err
    code, out, _ = run(
        capsys, "--data-dir", root, "households", "list", "--id-number", IMPORTED_ID, "--format", "json"
    )
    assert code == 0 and [h["unit_code"] for h in json.loads(out)] == [vacant]
    assert IMPORTED_ID not in out and IMPORTED_PHONE not in out
    code, out, _ = run(capsys, "--data-dir", root, "backup")
    assert code == 0 and Path(out.strip().removeprefix("已备份并校验：")).is_file()
    code, _out, _err = run(
        capsys,
        "--data-dir",
        root,
        "forms",
        "print",
        "household",
        "--unit",
        vacant,
        "--out",
        str(tmp_path / "打印" / "登记表.pdf"),
    )
    assert code == 0

    everything = files_under(demo_paths.root, temp_dir, tmp_path / "打印")
    names = {p.name for p in everything}
    assert demo_paths.database.name in names
    assert any(p.parent == demo_paths.backups for p in everything), "a backup should have been scanned"
    assert any(p.parent == demo_paths.logs for p in everything), "a log should have been scanned"
    assert hits(everything, SECRETS) == []

    store = Store.open(demo_paths, clock)
    try:
        store.operator = sign_in(store, "frontdesk", DEMO_PASSWORD)
        with store.read() as session:
            # Searching by ID number still works (the keyed hash index), for a number typed in any form.
            assert len(households_with_id_number(session, LEASEHOLDER_ID.lower())) == 1
            assert len(households_with_id_number(session, NEWBORN_ID)) == 1
    finally:
        store.close()


def _sealed(database: Path, number_holder: str) -> tuple[bytes, bytes]:
    with closing(sqlite3.connect(database)) as conn:
        row = conn.execute(
            "SELECT id, id_number_sealed FROM household_member WHERE name = ?", (number_holder,)
        ).fetchone()
    return row[0], row[1]


def test_tampered_or_moved_ciphertext_is_an_error_never_wrong_data(
    demo_paths: StationPaths, clock: FixedClock, capsys: pytest.CaptureFixture[str]
) -> None:
    store = Store.open(demo_paths, clock)
    try:
        store.operator = sign_in(store, "manager", DEMO_PASSWORD)
        use_the_desk(store, local_date(clock.now()))
    finally:
        store.close()
    leaseholder_id, sealed = _sealed(demo_paths.database, VISIBLE_NAME)
    spouse_id, _spouse_sealed = _sealed(demo_paths.database, "测试配偶")
    with closing(sqlite3.connect(demo_paths.database)) as conn:
        # The leaseholder's sealed number copied into the spouse's row: it must not show as the spouse's.
        conn.execute("UPDATE household_member SET id_number_sealed = ? WHERE id = ?", (sealed, spouse_id))
        # And one bit of the leaseholder's own ciphertext changed on disk.
        changed = bytearray(sealed)
        changed[len(changed) // 2] ^= 0x04
        conn.execute(
            "UPDATE household_member SET id_number_sealed = ? WHERE id = ?", (bytes(changed), leaseholder_id)
        )
        conn.commit()

    store = Store.open(demo_paths, clock)
    try:
        store.operator = sign_in(store, "manager", DEMO_PASSWORD)
        for name in (VISIBLE_NAME, "测试配偶"):
            with store.read() as session:
                member = session.scalars(select(HouseholdMember).where(HouseholdMember.name == name)).one()
                with pytest.raises(TamperedData, match="数据已被改动或损坏"):
                    people.masked_id_number(member)
    finally:
        store.close()
    code, out, err = run(capsys, "--data-dir", str(demo_paths.root), "households", "list", "--format", "json")
    assert code != 0 and "数据已被改动或损坏" in err and out == ""
    assert LEASEHOLDER_ID[-4:] not in err
