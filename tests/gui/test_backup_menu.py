"""文件 → 立即备份 / 备份到U盘: a verified copy where the clerk asked for it, and a clear sentence when it cannot."""

from __future__ import annotations

import sqlite3

from PySide6.QtWidgets import QFileDialog

from yuexiu_desk.storage.backup import integrity_problem


def test_backup_now_and_to_a_chosen_folder(window, demo_store, wait_job, messages, monkeypatch, tmp_path):
    with wait_job(window.runner):
        window.act_backup.trigger()
    (made,) = demo_store.paths.backups.glob("*-manual-*.sqlite3")
    assert integrity_problem(made) is None
    assert str(made) in messages.texts("information")[-1]

    usb = tmp_path / "U盘"
    usb.mkdir()
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(usb))
    with wait_job(window.runner):
        window.act_backup_to.trigger()
    (copied,) = usb.glob("*.sqlite3")
    with sqlite3.connect(copied) as conn:
        assert conn.execute("SELECT count(*) FROM unit").fetchone()[0] == 194
    conn.close()


def test_backup_to_a_folder_that_is_a_file_says_so(window, wait_job, messages, monkeypatch, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(blocker))
    with wait_job(window.runner):
        window.act_backup_to.trigger()
    assert messages.texts("warning") and str(blocker) in messages.texts("warning")[-1]
