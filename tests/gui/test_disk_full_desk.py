"""A full disk during a desk action: the unit of work rolls back and the clerk reads the disk-full sentence
(a warning, not the apology for a bug)."""

from __future__ import annotations

import sqlite3
from contextlib import closing

from sqlalchemy import text

from yuexiu_desk.gui.oprunner import OpRunner


def test_sqlite_full_in_a_desk_action_is_one_warning_and_nothing_written(
    qtbot, demo_store, wait_job, messages
):
    runner = OpRunner(demo_store)

    def op(session):
        conn = session.connection()
        pages = conn.exec_driver_sql("PRAGMA page_count").scalar_one()
        try:
            # The database may not grow by a page: what SQLite answers on a full disk (SQLITE_FULL).
            conn.exec_driver_sql(f"PRAGMA max_page_count = {pages}")
            conn.execute(text("UPDATE station SET name = '改名'"))
            for n in range(200):
                conn.execute(
                    text("INSERT INTO setting (key, value) VALUES (:k, :v)"), {"k": f"k{n}", "v": "x" * 4000}
                )
        finally:
            conn.exec_driver_sql("PRAGMA max_page_count = 1073741823")

    with wait_job(runner):
        runner.run(op)
    (warning,) = messages.texts("warning")
    assert warning.startswith("磁盘空间不足（磁盘已满）") and "数据未改动" in warning
    assert not messages.texts("critical")
    with closing(sqlite3.connect(demo_store.paths.database)) as conn:
        assert conn.execute("SELECT name FROM station").fetchone()[0] != "改名"
        assert conn.execute("SELECT count(*) FROM setting WHERE key LIKE 'k%'").fetchone()[0] == 0
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    runner.shutdown()
