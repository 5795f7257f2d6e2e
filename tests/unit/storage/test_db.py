"""Opening the store: pragmas, migrations as the only schema source, refusing files it must not touch."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

from yuexiu_desk.errors import EnvironmentProblem
from yuexiu_desk.paths import StationPaths
from yuexiu_desk.storage import (
    audit_models,  # noqa: F401  (the audit log is part of the schema)
    billing_models,  # noqa: F401  (the money tables are part of the schema)
    db,
    inspection_models,  # noqa: F401  (the inspection tables are part of the schema)
    migrate,
    repair_models,  # noqa: F401  (the repair and complaint tables are part of the schema)
)
from yuexiu_desk.storage.db import Store, make_engine
from yuexiu_desk.storage.models import Base


def test_sqlite_is_opened_with_wal_foreign_keys_full_sync_and_busy_timeout(empty_paths: StationPaths) -> None:
    store = Store.open(empty_paths)
    try:
        with store.engine.connect() as conn:
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
            assert conn.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL
            assert conn.execute(text("PRAGMA busy_timeout")).scalar() >= 1000
    finally:
        store.close()


def test_migrations_produce_exactly_the_models(tmp_path: Path) -> None:
    """The equivalent of `alembic check`: a fresh migrated database has nothing left to autogenerate."""
    store = Store.open(StationPaths(tmp_path))
    try:
        with store.engine.connect() as conn:
            diffs = compare_metadata(
                MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata
            )
        assert diffs == []
    finally:
        store.close()


def test_the_build_knows_the_head_of_its_migration_chain() -> None:
    assert migrate.head_revision() == migrate.SCHEMA_HEAD


def test_a_migration_that_fails_halfway_leaves_the_database_as_it_was(
    demo_paths: StationPaths, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DDL runs inside the migration's transaction: a failure after the first step leaves no trace."""
    head = migrate.head_revision()
    migrations = tmp_path / "migrations"
    shutil.copytree(migrate.MIGRATIONS_DIR, migrations)
    (migrations / "versions" / "9999_broken.py").write_text(
        '"""test-only revision that fails after creating a table"""\n'
        "from alembic import op\nimport sqlalchemy as sa\n"
        f"revision = 'test9999'\ndown_revision = {head!r}\nbranch_labels = None\ndepends_on = None\n"
        "def upgrade():\n"
        "    op.create_table('half_done', sa.Column('id', sa.Integer, primary_key=True))\n"
        "    op.execute('UPDATE unit SET status = \\'withheld\\'')\n"
        "    raise RuntimeError('simulated failure in the middle of a migration')\n"
        "def downgrade():\n    pass\n",
        encoding="utf-8",
    )
    monkeypatch.setattr(migrate, "MIGRATIONS_DIR", migrations)
    monkeypatch.setattr(db, "SCHEMA_HEAD", "test9999")
    migrate._script.cache_clear()
    try:
        with pytest.raises(RuntimeError, match="simulated"):
            Store.open(demo_paths)
    finally:
        migrate._script.cache_clear()
    with sqlite3.connect(demo_paths.database) as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert "half_done" not in tables
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone() == (head,)
        assert conn.execute("SELECT count(*) FROM unit WHERE status = 'withheld'").fetchone() == (0,)


def test_a_new_folder_is_created_and_migrated_to_head(tmp_path: Path) -> None:
    folder = tmp_path / "new" / "station"
    Store.open(StationPaths(folder)).close()
    with sqlite3.connect(folder / "station.sqlite3") as conn:
        (revision,) = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    assert revision == migrate.head_revision()


def test_a_newer_schema_is_refused_and_left_alone(empty_paths: StationPaths) -> None:
    with sqlite3.connect(empty_paths.database) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999'")
    before = empty_paths.database.read_bytes()
    with pytest.raises(EnvironmentProblem, match="比本程序新"):
        Store.open(empty_paths)
    assert empty_paths.database.read_bytes() == before


def test_a_file_that_is_not_sqlite_is_refused(tmp_path: Path) -> None:
    paths = StationPaths(tmp_path)
    paths.database.write_text("这是一个表格，不是数据库\n" * 100, encoding="utf-8")
    with pytest.raises(EnvironmentProblem, match="不是本系统的数据库"):
        Store.open(paths)
    assert paths.database.read_text(encoding="utf-8").startswith("这是一个表格")


def test_a_damaged_database_is_refused(demo_paths: StationPaths) -> None:
    with sqlite3.connect(demo_paths.database) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = bytearray(demo_paths.database.read_bytes())
    page = 4096
    for offset in range(page * 3, min(len(data), page * 12)):  # scribble over b-tree pages, keep the header
        data[offset] = 0x5A
    demo_paths.database.write_bytes(bytes(data))
    with pytest.raises(EnvironmentProblem, match=r"损坏|完整性"):
        Store.open(demo_paths)


def test_an_unwritable_data_folder_gets_a_sentence(tmp_path: Path) -> None:
    blocker = tmp_path / "file-not-folder"
    blocker.write_text("x")
    with pytest.raises(EnvironmentProblem, match="无法写入"):
        Store.open(StationPaths(blocker / "station"))


def test_upgrade_backs_up_the_old_file_first(
    demo_paths: StationPaths, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A second revision (test-only) is applied on open, after a verified copy of the old file is kept."""
    head = migrate.head_revision()
    migrations = tmp_path / "migrations"
    shutil.copytree(migrate.MIGRATIONS_DIR, migrations)
    (migrations / "versions" / "9999_test_only.py").write_text(
        '"""test-only revision"""\n'
        "from alembic import op\nimport sqlalchemy as sa\n"
        f"revision = 'test9999'\ndown_revision = {head!r}\nbranch_labels = None\ndepends_on = None\n"
        "def upgrade():\n    op.create_table('scratch', sa.Column('id', sa.Integer, primary_key=True))\n"
        "def downgrade():\n    op.drop_table('scratch')\n",
        encoding="utf-8",
    )
    monkeypatch.setattr(migrate, "MIGRATIONS_DIR", migrations)
    monkeypatch.setattr(db, "SCHEMA_HEAD", "test9999")
    migrate._script.cache_clear()
    try:
        Store.open(demo_paths).close()
    finally:
        migrate._script.cache_clear()
    backups = list(demo_paths.backups.glob(f"before-upgrade-{head}-*.sqlite3"))
    assert len(backups) == 1
    with sqlite3.connect(backups[0]) as old:
        assert old.execute("SELECT version_num FROM alembic_version").fetchone() == (head,)
        assert old.execute("SELECT count(*) FROM unit").fetchone() == (194,)
    with sqlite3.connect(demo_paths.database) as new:
        assert new.execute("SELECT version_num FROM alembic_version").fetchone() == ("test9999",)


def test_a_station_file_from_the_first_release_upgrades_with_its_data(tmp_path: Path) -> None:
    """A database at revision 0001 (unit register only) gains the household tables and keeps every row."""
    paths = StationPaths(tmp_path)
    engine = make_engine(paths.database)
    with engine.begin() as conn:
        migrate.upgrade(conn, "0001")
        conn.execute(
            text(
                "INSERT INTO station (id, code, name, estate_name, district, is_demo, created_at) "
                "VALUES ('0123456789abcdef0123456789abcdef', 'OLD01', '旧站', '悦秀苑', '', 0, '2025-01-01 00:00:00')"
            )
        )
    engine.dispose()
    store = Store.open(paths)
    try:
        with store.engine.connect() as conn:
            assert conn.execute(text("SELECT code FROM station")).scalar() == "OLD01"
            assert conn.execute(text("SELECT count(*) FROM lease")).scalar() == 0
    finally:
        store.close()
    assert len(list(paths.backups.glob("before-upgrade-0001-*.sqlite3"))) == 1


def test_leases_from_before_lease_versions_take_effect_from_their_start(tmp_path: Path) -> None:
    """0004 gives every existing lease an effective_from equal to its start (frozen 0003-era rows)."""
    paths = StationPaths(tmp_path)
    engine = make_engine(paths.database)
    with engine.begin() as conn:
        migrate.upgrade(conn, "0003")
        for statement in (
            "INSERT INTO building VALUES ('b' || hex(zeroblob(15)), 1, '1栋', 16, 2, 2, 0)",
            "INSERT INTO unit VALUES ('u' || hex(zeroblob(15)), 'b' || hex(zeroblob(15)), '1-1-101', 1, 1, 1, 1,"
            " '一室一厅', 4200, 3300, '南', 1, '', 'occupied', 0, '2025-01-01 00:00:00')",
            "INSERT INTO household VALUES ('h' || hex(zeroblob(15)), 'standard', '', 0,"
            " '2025-01-01 00:00:00', '2025-01-01 00:00:00')",
            "INSERT INTO lease (id, lease_no, version, household_id, unit_id, status, signed_on, start_date,"
            " end_date, rent_tier, rate_fen_per_m2, gross_area_hundredths, monthly_rent_fen, deposit_fen,"
            " term_override_reason, filing_ref, end_kind, end_reason, change_note, operator, created_at)"
            " VALUES ('l' || hex(zeroblob(15)), 'OLD-2025-0001', 1, 'h' || hex(zeroblob(15)),"
            " 'u' || hex(zeroblob(15)), 'active', '2025-02-20', '2025-03-01', '2028-02-29', 'standard', 1100,"
            " 4200, 46200, 100000, '', '', '', '', '签订', 'x', '2025-02-20 00:00:00')",
        ):
            conn.execute(text(statement))
    engine.dispose()
    Store.open(paths).close()
    with sqlite3.connect(paths.database) as conn:
        assert conn.execute("SELECT effective_from, vacate_by FROM lease").fetchone() == ("2025-03-01", None)
