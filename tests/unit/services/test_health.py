"""Health at start and daily: quick_check failure → read-only store naming the newest good backup; the daily
integrity/foreign-key check remembered in the settings; a data folder on a network drive refused."""

from __future__ import annotations

import sqlite3
import struct
from contextlib import closing
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from yuexiu_desk.clock import FixedClock
from yuexiu_desk.errors import EnvironmentProblem
from yuexiu_desk.paths import StationPaths
from yuexiu_desk.services import backups, health
from yuexiu_desk.storage.db import Store
from yuexiu_desk.storage.location import NETWORK, DataLocation


def add_unused_page(database: Path) -> None:
    """Damage that quick_check finds ("Page N is never used") while every table still reads."""
    with closing(sqlite3.connect(database)) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = bytearray(database.read_bytes())
    page_size = struct.unpack(">H", data[16:18])[0]
    pages = struct.unpack(">I", data[28:32])[0]
    data += bytes(page_size)
    data[28:32] = struct.pack(">I", pages + 1)
    database.write_bytes(bytes(data))


def make_backups(paths: StationPaths, clock: FixedClock, count: int) -> list[Path]:
    store = Store.open(paths, clock)
    try:
        made = []
        for _ in range(count):
            made.append(backups.make_backup(store))
            clock.advance(timedelta(hours=1))
        return made
    finally:
        store.close()


def test_a_sound_database_opens_writable(demo_paths: StationPaths, clock: FixedClock) -> None:
    opening = health.open_for_desk(demo_paths, clock)
    try:
        assert not opening.read_only and opening.store.read_only_reason is None
        with opening.store.unit_of_work() as session:
            session.execute(text("SELECT 1"))
    finally:
        opening.store.close()


def test_damaged_database_opens_read_only_naming_the_newest_good_backup(
    demo_paths: StationPaths, clock: FixedClock
) -> None:
    older, newest = make_backups(demo_paths, clock, 2)
    newest.write_bytes(newest.read_bytes()[:8192] + b"\x00" * 4096)  # the newest backup is itself damaged
    add_unused_page(demo_paths.database)
    opening = health.open_for_desk(demo_paths, clock)
    store = opening.store
    try:
        assert opening.read_only and opening.damage is not None and "never used" in opening.damage
        assert opening.newest_good_backup is not None and opening.newest_good_backup.path == older
        reason = store.read_only_reason
        assert reason is not None and "只读" in reason and older.name in reason
        with store.read() as session:  # reading works
            assert session.execute(text("SELECT count(*) FROM unit")).scalar_one() == 194
        with pytest.raises(EnvironmentProblem) as refused, store.unit_of_work():
            pass
        assert refused.value.message == reason
        # Below the unit of work SQLite itself refuses: the connection is query_only.
        with store.engine.connect() as conn, pytest.raises(Exception, match="readonly"):
            conn.exec_driver_sql("DELETE FROM setting")
    finally:
        store.close()


def test_no_good_backup_says_so(demo_paths: StationPaths, clock: FixedClock) -> None:
    add_unused_page(demo_paths.database)
    opening = health.open_for_desk(demo_paths, clock)
    try:
        assert opening.newest_good_backup is None
        assert "没有找到完好的备份" in (opening.store.read_only_reason or "")
    finally:
        opening.store.close()


def test_a_file_that_is_not_sqlite_names_the_backup_to_restore(
    demo_paths: StationPaths, clock: FixedClock
) -> None:
    (backup,) = make_backups(demo_paths, clock, 1)
    demo_paths.database.write_bytes(b"not a database" * 100)
    with pytest.raises(health.DamagedBeyondReading) as caught:
        health.open_for_desk(demo_paths, clock)
    assert caught.value.newest_good_backup is not None and caught.value.newest_good_backup.path == backup
    assert "不是本系统的数据库" in caught.value.message and backup.name in caught.value.message


def test_network_folder_is_refused(
    demo_paths: StationPaths, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    share = DataLocation(NETWORK, "cifs //fileserver/站点 挂载于 /mnt/share")
    monkeypatch.setattr(health, "data_location", lambda root: share)
    with pytest.raises(EnvironmentProblem, match="网络盘"):
        health.open_for_desk(demo_paths, clock)


def test_daily_check_runs_once_a_day_and_is_remembered(demo_store: Store, clock: FixedClock) -> None:
    assert health.last_full_check(demo_store) is None
    first = health.daily_check(demo_store)
    assert first is not None and first.ok and first.ran_on.isoformat() == "2026-11-20"
    assert health.last_full_check(demo_store) == first.ran_on
    assert health.daily_check(demo_store) is None  # already done today
    clock.advance(timedelta(days=1))
    again = health.daily_check(demo_store)
    assert again is not None and again.ok and again.ran_on.isoformat() == "2026-11-21"


def test_daily_check_finding_orphans_makes_the_store_read_only(demo_store: Store) -> None:
    with closing(sqlite3.connect(demo_store.paths.database)) as conn:
        conn.execute("PRAGMA foreign_keys=OFF")
        conn.execute("UPDATE unit SET building_id = 'ffffffffffffffffffffffffffffffff' WHERE rowid = 1")
        conn.commit()
    found = health.daily_check(demo_store)
    assert found is not None and not found.ok and "unit" in (found.problem or "")
    assert demo_store.read_only_reason is not None and "只读" in demo_store.read_only_reason
    with pytest.raises(EnvironmentProblem), demo_store.unit_of_work():
        pass
    assert health.last_full_check(demo_store) is None  # a failure is not remembered: checked again next start


def test_doctor_reports_the_location(demo_store: Store) -> None:
    checks = {c.name: c for c in backups.doctor(demo_store)}
    assert checks["存放位置"].ok


def test_restore_replaces_a_readable_but_damaged_database(
    demo_paths: StationPaths, clock: FixedClock
) -> None:
    """The case restore exists for: the verified before-restore copy would refuse the damaged file, so its
    bytes are kept as they are instead (this used to abort the restore)."""
    (backup,) = make_backups(demo_paths, clock, 1)
    add_unused_page(demo_paths.database)
    result = backups.restore(demo_paths, backup, clock)
    assert result.previous_kept is not None and result.previous_kept.exists()
    opening = health.open_for_desk(demo_paths, clock)
    try:
        assert not opening.read_only and opening.store.read_only_reason is None
    finally:
        opening.store.close()
