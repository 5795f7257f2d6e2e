"""Backups are real, checked copies; generations thin only automatic kinds; restore refuses anything doubtful."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
from contextlib import closing
from datetime import timedelta
from pathlib import Path

import pytest

from yuexiu_desk.clock import FixedClock
from yuexiu_desk.domain.access import system_operator
from yuexiu_desk.domain.units import UnitStatus
from yuexiu_desk.errors import EnvironmentProblem, UserError
from yuexiu_desk.paths import StationPaths
from yuexiu_desk.services import backups
from yuexiu_desk.services import units as unit_svc
from yuexiu_desk.storage.backup import integrity_problem
from yuexiu_desk.storage.db import Store
from yuexiu_desk.storage.migrate import SCHEMA_HEAD


def row_counts(database: Path) -> dict[str, int]:
    with closing(sqlite3.connect(database)) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}


def unit_status(paths: StationPaths, code: str, clock: FixedClock) -> UnitStatus:
    store = Store.open(paths, clock)
    try:
        with store.read() as session:
            row = unit_svc.fetch_rows(session, [unit_svc.find_unit_id_by_code(session, code)])
        return next(iter(row.values())).status
    finally:
        store.close()


def occupied_unit(store: Store) -> str:
    with store.read() as session:
        return unit_svc.list_units(session, unit_svc.UnitFilter(status=UnitStatus.OCCUPIED))[0].code


def test_backup_is_a_sound_copy_with_the_same_rows(demo_store: Store, tmp_path: Path) -> None:
    path = backups.make_backup(demo_store)
    assert path.parent == demo_store.paths.backups
    assert path.name == "YXY01-manual-20261120T020000Z.sqlite3"
    copy = tmp_path / "check.sqlite3"
    shutil.copy2(path, copy)
    assert integrity_problem(copy) is None
    counts = row_counts(copy)
    assert counts["unit"] == 194
    demo_store.close()
    live = row_counts(demo_store.paths.database)
    # The live database holds one more entry: the audit log's record of this backup, made after it.
    assert counts == {**live, "audit_entry": live["audit_entry"] - 1}
    [info] = backups.list_backups(demo_store.paths)
    assert (info.path, info.kind, info.made_at, info.size) == (
        path,
        "manual",
        demo_store.clock.now(),
        path.stat().st_size,
    )


def test_backup_to_a_folder_checks_the_folder_first(demo_store: Store, tmp_path: Path) -> None:
    usb = tmp_path / "usb"
    with pytest.raises(UserError, match="不存在") as missing:
        backups.make_backup(demo_store, to_dir=usb)
    assert missing.value.message.count("。") == 2 and not usb.exists()
    usb.write_text("a file where the folder should be")
    with pytest.raises(UserError, match="不是一个目录"):
        backups.make_backup(demo_store, to_dir=usb)
    usb.unlink()
    usb.mkdir()
    path = backups.make_backup(demo_store, to_dir=usb)
    assert path.parent == usb and path.stat().st_size > 0
    assert backups.list_backups(demo_store.paths) == []  # nothing went to the station's own folder


def test_generations_thin_only_the_automatic_kinds(demo_store: Store, clock: FixedClock) -> None:
    made: dict[str, list[Path]] = {"manual": [], "daily": [], "before-import": []}
    for round_no in range(5):
        for kind in made:
            made[kind].append(backups.make_backup(demo_store, kind, keep=2))
        if round_no == 2:
            # Two backups in the same second get distinct names and still count in order.
            made["daily"].append(backups.make_backup(demo_store, "daily", keep=2))
        clock.advance(timedelta(hours=1))
    left = backups.list_backups(demo_store.paths)
    by_kind = {k: [i.path for i in left if i.kind == k] for k in made}
    assert by_kind["manual"] == made["manual"][::-1]
    assert by_kind["daily"] == made["daily"][:-3:-1]
    assert by_kind["before-import"] == made["before-import"][:-3:-1]
    assert [i.made_at for i in left] == sorted((i.made_at for i in left), reverse=True)


def test_backup_if_due_only_when_the_newest_is_a_day_old(demo_store: Store, clock: FixedClock) -> None:
    first = backups.backup_if_due(demo_store)
    assert first is not None and backups.list_backups(demo_store.paths)[0].kind == "daily"
    clock.advance(timedelta(hours=23, minutes=59))
    assert backups.backup_if_due(demo_store) is None
    clock.advance(timedelta(minutes=1))
    assert backups.backup_if_due(demo_store) is not None
    clock.advance(timedelta(hours=12))
    backups.make_backup(demo_store)  # a manual backup counts as recent too
    clock.advance(timedelta(hours=13))
    assert backups.backup_if_due(demo_store) is None
    assert len(backups.list_backups(demo_store.paths)) == 3


def test_restore_brings_the_data_back_and_keeps_the_current_database(
    demo_paths: StationPaths, clock: FixedClock
) -> None:
    store = Store.open(demo_paths, clock)
    code = occupied_unit(store)
    saved = backups.make_backup(store)
    clock.advance(timedelta(hours=2))
    with store.unit_of_work(system_operator("测试")) as session:
        unit_id = unit_svc.find_unit_id_by_code(session, code)
        unit_svc.change_status(session, unit_id, UnitStatus.UNDER_REPAIR, "卫生间漏水维修", "测试")
    store.close()
    assert unit_status(demo_paths, code, clock) is UnitStatus.UNDER_REPAIR

    result = backups.restore(demo_paths, saved, clock)

    assert (result.restored_from, result.station_code, result.revision) == (saved, "YXY01", SCHEMA_HEAD)
    assert unit_status(demo_paths, code, clock) is UnitStatus.OCCUPIED
    kept = result.previous_kept
    assert kept is not None and kept.parent == demo_paths.backups and "before-restore" in kept.name
    assert integrity_problem(kept) is None
    aside = StationPaths(demo_paths.root.parent / "aside")
    aside.root.mkdir()
    shutil.copy2(kept, aside.database)
    assert unit_status(aside, code, clock) is UnitStatus.UNDER_REPAIR
    assert not list(demo_paths.root.glob("*.restoring*"))


def test_restore_onto_a_folder_without_a_database(
    demo_paths: StationPaths, clock: FixedClock, tmp_path: Path
) -> None:
    store = Store.open(demo_paths, clock)
    saved = backups.make_backup(store)
    store.close()
    fresh = StationPaths(tmp_path / "new-pc")
    result = backups.restore(fresh, saved, clock)
    assert result.previous_kept is None and row_counts(fresh.database) == row_counts(demo_paths.database)


def _refused(paths: StationPaths, file: Path, clock: FixedClock, match: str) -> None:
    before = paths.database.read_bytes()
    with pytest.raises(UserError, match=match):
        backups.restore(paths, file, clock)
    assert paths.database.read_bytes() == before
    assert not paths.backups.exists() or not list(paths.backups.iterdir())
    assert sorted(p.name for p in paths.root.iterdir() if "restoring" in p.name) == []


def _copy(paths: StationPaths, tmp_path: Path, name: str) -> Path:
    target = tmp_path / name
    shutil.copy2(paths.database, target)
    return target


def _sql(database: Path, *statements: str) -> None:
    with closing(sqlite3.connect(database)) as conn:
        for statement in statements:
            conn.execute(statement)
        conn.commit()


def test_restore_refuses_missing_text_and_damaged_files(
    demo_paths: StationPaths, clock: FixedClock, tmp_path: Path
) -> None:
    _refused(demo_paths, tmp_path / "nothing.sqlite3", clock, "不存在")
    text = tmp_path / "notes.sqlite3"
    text.write_text("这不是数据库", encoding="utf-8")
    _refused(demo_paths, text, clock, "不是 SQLite")
    damaged = _copy(demo_paths, tmp_path, "damaged.sqlite3")
    size = damaged.stat().st_size
    with damaged.open("r+b") as handle:
        handle.seek(size // 2 - size // 2 % 4096)
        handle.write(b"\xa5\x5a" * 32768)
    probe = tmp_path / "probe.sqlite3"
    shutil.copy2(damaged, probe)
    assert integrity_problem(probe) is not None  # the damage really is where integrity_check looks
    _refused(demo_paths, damaged, clock, "已损坏")


def test_restore_refuses_another_station_and_a_database_without_one(
    demo_paths: StationPaths, clock: FixedClock, tmp_path: Path
) -> None:
    other_code = _copy(demo_paths, tmp_path, "other-code.sqlite3")
    _sql(other_code, "UPDATE station SET code = 'HXY02'")
    _refused(demo_paths, other_code, clock, "另一个服务站")
    other_id = _copy(demo_paths, tmp_path, "other-id.sqlite3")
    _sql(other_id, "UPDATE station SET id = '00000000000000000000000000000001'")
    _refused(demo_paths, other_id, clock, "另一个服务站")
    no_station = _copy(demo_paths, tmp_path, "no-station.sqlite3")
    _sql(no_station, "PRAGMA foreign_keys = OFF", "DELETE FROM station")
    _refused(demo_paths, no_station, clock, "没有服务站数据")


def test_restore_refuses_a_newer_schema(demo_paths: StationPaths, clock: FixedClock, tmp_path: Path) -> None:
    newer = _copy(demo_paths, tmp_path, "newer.sqlite3")
    _sql(newer, "UPDATE alembic_version SET version_num = '9999'")
    _refused(demo_paths, newer, clock, "比本程序新")


def test_restore_refuses_while_another_program_has_the_database_open(
    demo_paths: StationPaths, clock: FixedClock
) -> None:
    store = Store.open(demo_paths, clock)
    saved = backups.make_backup(store)
    store.close()
    # The desk app in another process, with the database open.
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sqlite3, sys, time\n"
            "c = sqlite3.connect(sys.argv[1]); c.execute('SELECT count(*) FROM unit').fetchone()\n"
            "print('open', flush=True); time.sleep(60)",
            str(demo_paths.database),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "open"
        before = demo_paths.database.read_bytes()
        with pytest.raises(EnvironmentProblem, match="另一个程序"):
            backups.restore(demo_paths, saved, clock)
        assert demo_paths.database.read_bytes() == before
    finally:
        holder.kill()
        holder.communicate()  # reaps it and closes its pipe
    assert integrity_problem(_copy(demo_paths, demo_paths.root.parent, "after.sqlite3")) is None


def test_doctor_reports_every_check_and_wants_a_recent_backup(demo_store: Store, clock: FixedClock) -> None:
    checks = backups.doctor(demo_store, min_free_bytes=0)
    names = [c.name for c in checks]
    assert names == [
        "完整性检查",
        "外键检查",
        "数据库版本",
        "磁盘空间",
        "最近备份",
        "日志文件（WAL）",
        "存放位置",
        "个人信息加密",
        "审计链",
    ]
    assert [c.name for c in checks if c.failed] == ["最近备份"]
    assert checks[-2].detail == "已加密；5 个账户密钥槽和 1 个恢复密钥槽"
    audit = checks[-1]
    assert audit.ok and audit.detail.startswith("完好，共 ") and audit.detail.endswith(" 条")
    backups.make_backup(demo_store)
    assert not [c for c in backups.doctor(demo_store, min_free_bytes=0) if c.failed]
    clock.advance(timedelta(hours=25))
    assert [c.name for c in backups.doctor(demo_store, min_free_bytes=0) if c.failed] == ["最近备份"]
    low = backups.doctor(demo_store, min_free_bytes=1 << 62)
    assert "磁盘空间" in [c.name for c in low if c.failed]


def test_doctor_finds_a_broken_foreign_key(demo_store: Store) -> None:
    with closing(sqlite3.connect(demo_store.paths.database)) as conn:
        conn.execute("PRAGMA foreign_keys = OFF")
        conn.execute("UPDATE lease SET unit_id = '00000000000000000000000000000009' WHERE rowid = 1")
        conn.commit()
    failed = [c for c in backups.doctor(demo_store, min_free_bytes=0) if c.failed]
    assert [c.name for c in failed][:1] == ["外键检查"] and "lease" in failed[0].detail


def test_old_partial_copies_of_killed_backups_are_swept(demo_store: Store) -> None:
    """A backup killed mid-copy leaves <name>.sqlite3.partial (never listed); the next one clears old ones."""
    import os
    import time

    folder = demo_store.paths.backups
    folder.mkdir(parents=True, exist_ok=True)
    old = folder / "YXY01-manual-20261101T000000Z.sqlite3.partial"
    old_journal = folder / "YXY01-manual-20261101T000000Z.sqlite3.partial-journal"
    fresh = folder / "YXY01-manual-20261120T015900Z.sqlite3.partial"
    for path in (old, old_journal, fresh):
        path.write_bytes(b"half a copy")
    day_ago = time.time() - 24 * 3600
    os.utime(old, (day_ago, day_ago))
    os.utime(old_journal, (day_ago, day_ago))
    made = backups.make_backup(demo_store)
    assert not old.exists() and not old_journal.exists()
    assert fresh.exists()  # maybe another process's backup in progress
    assert [info.path for info in backups.list_backups(demo_store.paths)] == [made]


def test_photos_and_printed_papers_are_backed_up_and_come_back_on_restore(
    demo_paths: StationPaths, clock: FixedClock
) -> None:
    photo = demo_paths.root / "photos" / "ab" / "abcdef.jpg"
    receipt = demo_paths.root / "receipts" / "YXY01-SJ2026-000001.pdf"
    for path, data in ((photo, b"\xff\xd8 a photo"), (receipt, b"%PDF-1.4 a receipt")):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    store = Store.open(demo_paths, clock)
    try:
        saved = backups.make_backup(store)
        again = backups.make_backup(store, now=clock.now() + timedelta(minutes=1))
    finally:
        store.close()
    mirror = saved.parent / backups.FILES_MIRROR
    assert (mirror / "photos" / "ab" / "abcdef.jpg").read_bytes() == b"\xff\xd8 a photo"
    assert (mirror / "receipts" / receipt.name).read_bytes() == b"%PDF-1.4 a receipt"
    assert again.parent == saved.parent  # the second backup shares the mirror (nothing copied twice)
    photo.unlink()
    receipt.write_bytes(b"%PDF-1.4 a newer reprint")  # a file still there is never overwritten
    result = backups.restore(demo_paths, saved, clock)
    assert result.files_restored == 1
    assert photo.read_bytes() == b"\xff\xd8 a photo"
    assert receipt.read_bytes() == b"%PDF-1.4 a newer reprint"
