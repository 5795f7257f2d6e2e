"""文件 → 从备份恢复 at the desk: only the station manager; the backup replaces the data (the current database
kept aside) and the desk closes to reopen on it; another role is refused with one sentence."""

from __future__ import annotations

import sqlite3
from contextlib import closing

from yuexiu_desk.services import backups, users
from yuexiu_desk.storage.db import Store


def unit_status(store: Store, code: str) -> str:
    with closing(sqlite3.connect(store.paths.database)) as conn:
        return str(conn.execute("SELECT status FROM unit WHERE code = ?", (code,)).fetchone()[0])


def test_the_manager_restores_a_backup_and_the_desk_closes(window, demo_store: Store, messages) -> None:
    demo_store.operator = users.sign_in(demo_store, "manager", users.DEMO_PASSWORD)
    saved = backups.make_backup(demo_store)
    with closing(sqlite3.connect(demo_store.paths.database)) as conn:
        code = conn.execute("SELECT code FROM unit WHERE status = 'vacant' ORDER BY code").fetchone()[0]
        conn.execute("UPDATE unit SET status = 'withheld' WHERE code = ?", (code,))
        conn.commit()
    messages.answer_yes = True
    assert window.restore_backup(saved)
    assert "已从" in messages.texts("information")[-1] and "重新打开" in messages.texts("information")[-1]
    assert not window.isVisible()
    assert unit_status(demo_store, code) == "vacant"
    assert list(demo_store.paths.backups.glob("*-before-restore-*.sqlite3"))


def test_another_role_is_refused_and_nothing_changes(window, demo_store: Store, messages) -> None:
    demo_store.operator = users.sign_in(demo_store, "finance", users.DEMO_PASSWORD)
    saved = backups.make_backup(demo_store)
    messages.answer_yes = True
    assert not window.restore_backup(saved)
    assert messages.texts("warning")[-1] == "财务岗位无权“从备份恢复数据库”。请由站长登录办理。"
    assert window.isVisible()
    assert not list(demo_store.paths.backups.glob("*-before-restore-*.sqlite3"))
