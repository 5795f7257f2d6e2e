"""A full disk during a write: the transaction rolls back, nothing is corrupt, and the clerk reads one sentence.

Two ways to fill the disk, both available on any machine: SQLite's own limit (PRAGMA max_page_count on every
connection the app opens: the database cannot grow, SQLite answers SQLITE_FULL exactly as on a full disk) and
patched file writes (ENOSPC from the OS for backups and exported files).
"""

from __future__ import annotations

import errno
import hashlib
import os
import sqlite3
import sys
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from yuexiu_desk.cli import main
from yuexiu_desk.paths import StationPaths
from yuexiu_desk.services.backups import list_backups
from yuexiu_desk.storage import db

DISK_FULL = "磁盘空间不足（磁盘已满）"
ROOT = Path(__file__).resolve().parents[2]


def fingerprint(database: Path) -> str:
    digest = hashlib.sha256()
    with closing(sqlite3.connect(database)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        tables = [
            r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")
        ]
        for name in tables:
            digest.update(name.encode())
            for row in conn.execute(f'SELECT * FROM "{name}" ORDER BY rowid'):
                digest.update(repr(row).encode())
    return digest.hexdigest()


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_disk_full_sentence(err: str) -> None:
    assert err.strip().count("\n") == 0, err
    assert err.startswith(DISK_FULL) and "请清理磁盘或换到空间更大的位置后重试" in err, err


def sign_in_without_writing(monkeypatch: pytest.MonkeyPatch, role: str) -> None:
    """The CLI's sign-in records the login (a write of its own, which a full disk refuses too: see
    test_sign_in_on_a_full_disk_says_so). To reach the command's own transaction, sign in without it."""
    from yuexiu_desk.domain.access import Operator
    from yuexiu_desk.services import keys, users

    monkeypatch.setattr(users, "has_accounts", lambda session: True)

    def sign_in(store: Any, login: str, password: str) -> Operator:
        # What the sign-in unlocks (the demo manager's slot, which fixture stations have too), unwritten.
        with store.read() as session:
            found = keys.open_with_password(session, users.DEMO_LOGIN, users.DEMO_PASSWORD)
        assert not isinstance(found, str), found
        store.set_keys(found)
        return Operator(login, login, role)

    monkeypatch.setattr(users, "sign_in", sign_in)


def fill_the_disk(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every connection the app opens from now on may not grow its database by a single page."""
    original = db._set_pragmas

    def limited(dbapi_connection: sqlite3.Connection, record: Any) -> None:
        original(dbapi_connection, record)
        pages = dbapi_connection.execute("PRAGMA page_count").fetchone()[0]
        dbapi_connection.execute(f"PRAGMA max_page_count = {pages}")

    monkeypatch.setattr(db, "_set_pragmas", limited)


@pytest.fixture
def full_database(monkeypatch: pytest.MonkeyPatch) -> None:
    fill_the_disk(monkeypatch)


def test_bill_run_on_a_full_disk_rolls_back(
    demo_paths: StationPaths,
    capsys: pytest.CaptureFixture[str],
    full_database: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sign_in_without_writing(monkeypatch, "finance")
    before = fingerprint(demo_paths.database)
    code, out, err = run(capsys, "--data-dir", str(demo_paths.root), "bills", "run", "--month", "2026-12")
    assert code == 1 and out == ""
    assert_one_disk_full_sentence(err)
    assert "数据库无法写入" in err and "数据未改动" in err
    assert fingerprint(demo_paths.database) == before


def test_sign_in_on_a_full_disk_says_so(
    demo_paths: StationPaths, capsys: pytest.CaptureFixture[str], full_database: None
) -> None:
    before = fingerprint(demo_paths.database)
    code, out, err = run(capsys, "--data-dir", str(demo_paths.root), "bills", "run", "--month", "2026-12")
    assert code == 1 and out == ""
    assert_one_disk_full_sentence(err)
    assert fingerprint(demo_paths.database) == before


def test_payment_on_a_full_disk_rolls_back(
    demo_paths: StationPaths, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    sign_in_without_writing(monkeypatch, "finance")
    # Bills first (normal disk), so the payment has something to settle; then the disk fills up.
    code, _, _ = run(capsys, "--data-dir", str(demo_paths.root), "bills", "run", "--month", "2026-11")
    assert code == 0
    before = fingerprint(demo_paths.database)
    fill_the_disk(monkeypatch)
    unit = first_leased_unit(demo_paths)
    code, out, err = run(
        capsys,
        "--data-dir",
        str(demo_paths.root),
        "payments",
        "add",
        "--unit",
        unit,
        "--amount",
        "100000",
        "--channel",
        "cash",
    )
    assert code == 1 and out == "", (out, err)
    assert_one_disk_full_sentence(err)
    assert fingerprint(demo_paths.database) == before


def first_leased_unit(paths: StationPaths) -> str:
    with closing(sqlite3.connect(paths.database)) as conn:
        row = conn.execute(
            "SELECT u.code FROM unit u JOIN lease l ON l.unit_id = u.id "
            "JOIN bill b ON b.lease_no = l.lease_no ORDER BY u.code LIMIT 1"
        ).fetchone()
    assert row is not None
    return str(row[0])


def test_household_import_on_a_full_disk_rolls_back(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = StationPaths(tmp_path / "vacant")
    ledger = vacant_station_with_ledger(paths, tmp_path)
    before = fingerprint(paths.database)
    sign_in_without_writing(monkeypatch, "house_manager")
    fill_the_disk(monkeypatch)
    code, out, err = run(capsys, "--data-dir", str(paths.root), "import", "households", str(ledger))
    assert code == 1 and out == "", (out, err)
    assert_one_disk_full_sentence(err)
    assert fingerprint(paths.database) == before
    # The backup made before the import (on the still roomy backups folder) is whole and listed.
    (backup,) = list_backups(paths)
    with closing(sqlite3.connect(f"file:{backup.path}?immutable=1", uri=True)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]


def vacant_station_with_ledger(paths: StationPaths, tmp_path: Path) -> Path:
    """A small all-vacant station and a household ledger for it (benchmarks/generate.py makes both)."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import generate
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    generate.generate(120, paths.root, all_vacant=True, seed=11)
    ledger = tmp_path / "households.xlsx"
    generate.write_ledger(paths.database, ledger, 60, seed=4)
    for suffix in ("-wal", "-shm"):
        Path(f"{paths.database}{suffix}").unlink(missing_ok=True)
    return ledger


def no_space(*args: Any, **kwargs: Any) -> None:
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_backup_on_a_full_disk_leaves_no_file(
    demo_paths: StationPaths, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from yuexiu_desk.storage import backup

    before = fingerprint(demo_paths.database)
    monkeypatch.setattr(backup.os, "fsync", no_space)
    code, out, err = run(capsys, "--data-dir", str(demo_paths.root), "backup")
    assert code == 1 and out == ""
    assert_one_disk_full_sentence(err)
    assert "无法写入备份" in err
    assert list_backups(demo_paths) == []
    assert not any(demo_paths.backups.iterdir())  # neither the partial copy nor its journal is left
    assert fingerprint(demo_paths.database) == before


def test_backup_copy_that_runs_out_of_pages_leaves_no_file(
    demo_paths: StationPaths, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The copy itself hits SQLITE_FULL (SQLite writes it, not Python): given up, nothing listed."""
    from yuexiu_desk.storage import backup

    real_connect = sqlite3.connect

    class TinyDisk:
        Connection = sqlite3.Connection
        Error = sqlite3.Error

        @staticmethod
        def connect(target: Any, *args: Any, **kwargs: Any) -> sqlite3.Connection:
            conn = real_connect(target, *args, **kwargs)
            conn.execute("PRAGMA max_page_count = 8")
            return conn

    monkeypatch.setattr(backup, "sqlite3", TinyDisk)
    code, out, err = run(capsys, "--data-dir", str(demo_paths.root), "backup")
    assert code == 1 and out == ""
    assert_one_disk_full_sentence(err)
    assert list_backups(demo_paths) == [] and not any(demo_paths.backups.iterdir())


def test_exported_file_on_a_full_disk(
    demo_paths: StationPaths,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from yuexiu_desk import files

    monkeypatch.setattr(files.os, "fsync", no_space)
    out_file = tmp_path / "labels.pdf"
    code, out, err = run(
        capsys, "--data-dir", str(demo_paths.root), "labels", "--out", str(out_file), "--unit", "1-1-101"
    )
    assert code == 1 and out == ""
    assert_one_disk_full_sentence(err)
    assert not out_file.exists() and list(tmp_path.glob(".labels.pdf.*")) == []


def test_environment_problem_maps_full_disk_errors() -> None:
    import sqlalchemy.exc

    wrapped = sqlalchemy.exc.OperationalError(
        "INSERT", {}, sqlite3.OperationalError("database or disk is full")
    )
    for exc in (
        sqlite3.OperationalError("database or disk is full"),
        wrapped,
        OSError(errno.ENOSPC, "No space left on device", "/x/station.sqlite3-wal"),
    ):
        problem = db.environment_problem(exc)
        assert problem is not None and problem.message.startswith(DISK_FULL), exc
    try:
        try:
            raise OSError(errno.ENOSPC, "No space left on device")
        except OSError as inner:
            raise RuntimeError("while saving") from inner
    except RuntimeError as outer:
        problem = db.environment_problem(outer)
    assert problem is not None and problem.message.startswith(DISK_FULL)
    assert db.environment_problem(OSError(errno.EACCES, "denied")) is None
    assert db.environment_problem(ValueError("x")) is None
