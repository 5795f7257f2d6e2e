"""A damaged database at start: the desk opens read-only, says so, refuses writes with one sentence, and
offers the newest good backup (恢复); a data folder on a network drive is refused."""

from __future__ import annotations

import sqlite3
import struct
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QApplication
from sqlalchemy import text

from yuexiu_desk.clock import FixedClock
from yuexiu_desk.gui import startup
from yuexiu_desk.gui.app import run
from yuexiu_desk.paths import StationPaths
from yuexiu_desk.services import backups, health
from yuexiu_desk.storage.db import Store
from yuexiu_desk.storage.location import REMOVABLE, DataLocation


def add_unused_page(database: Path) -> None:
    """Damage quick_check finds ("Page N is never used") while every table still reads."""
    import gc

    gc.collect()  # a connection left to the collector would keep the WAL index, which then disagrees
    with closing(sqlite3.connect(database)) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = bytearray(database.read_bytes())
    page_size = struct.unpack(">H", data[16:18])[0]
    pages = struct.unpack(">I", data[28:32])[0]
    data += bytes(page_size)
    data[28:32] = struct.pack(">I", pages + 1)
    database.write_bytes(bytes(data))


def backup_then_damage(paths: StationPaths, clock: FixedClock) -> Path:
    store = Store.open(paths, clock)
    try:
        made = backups.make_backup(store)
    finally:
        store.close()
    add_unused_page(paths.database)
    return made


class Offers:
    def __init__(self, answer: bool) -> None:
        self.answer = answer
        self.texts: list[str] = []

    def __call__(self, text: str, can_read: bool) -> bool:
        self.texts.append(text)
        return self.answer


def test_damaged_database_opens_read_only_and_refuses_writes(
    demo_paths, clock, messages, monkeypatch, open_window, wait_job
):
    backup = backup_then_damage(demo_paths, clock)
    offers = Offers(answer=False)  # the clerk chooses 只读打开
    monkeypatch.setattr(startup, "offer_restore", offers)
    opening = startup.open_station(demo_paths, clock)
    assert opening is not None and opening.read_only
    (offer,) = offers.texts
    assert "只读" in offer and backup.name in offer and "never used" in offer
    try:
        window = open_window(opening.store)
        assert window.register is not None and window.register.count_label.text() == "共 194 套"

        def write(session: Any) -> None:
            session.execute(text("UPDATE station SET name = '改名'"))

        with wait_job(window.runner):
            window.runner.run(write, description="正在保存…")
        (warning,) = messages.texts("warning")
        assert warning == opening.store.read_only_reason and "不能保存任何修改" in warning
        with closing(sqlite3.connect(f"file:{demo_paths.database}?mode=ro", uri=True)) as conn:
            assert conn.execute("SELECT name FROM station").fetchone()[0] != "改名"
        window.close()
    finally:
        opening.store.close()


def test_run_shows_read_only_in_the_status_bar(demo_paths, clock, messages, monkeypatch):
    backup_then_damage(demo_paths, clock)
    monkeypatch.setattr(startup, "offer_restore", Offers(answer=False))
    seen: dict[str, Any] = {}

    def fake_exec(*args: Any) -> int:
        window = next(w for w in QApplication.topLevelWidgets() if w.isVisible() and hasattr(w, "runner"))
        seen["status"] = window.statusBar().currentMessage()
        seen["read_only"] = window.runner.store.read_only_reason
        return 0

    import gc

    from yuexiu_desk.gui.login import SignInDialog

    def sign_in(dialog: SignInDialog) -> int:
        # Read-only, signing in checks the password and writes nothing (not even the login's audit entry).
        dialog.ok_button.click()
        seen["signed_in"] = dialog.operator
        return dialog.result()

    monkeypatch.setattr(QApplication, "exec", fake_exec)
    monkeypatch.setattr(SignInDialog, "exec", sign_in)
    before = demo_paths.database.read_bytes()
    try:
        assert run(demo_paths, clock) == 0
    finally:
        gc.unfreeze()
    assert seen["status"].startswith("只读") and seen["read_only"]
    assert seen["signed_in"] is not None and seen["signed_in"].login == "manager"
    assert demo_paths.database.read_bytes() == before
    for window in QApplication.topLevelWidgets():
        if hasattr(window, "runner"):
            window.close()


def test_choosing_restore_brings_back_the_backup_and_opens_writable(demo_paths, clock, messages, monkeypatch):
    backup = backup_then_damage(demo_paths, clock)
    monkeypatch.setattr(startup, "offer_restore", Offers(answer=True))
    opening = startup.open_station(demo_paths, clock)
    assert opening is not None
    try:
        assert not opening.read_only
        with opening.store.unit_of_work() as session:
            session.execute(text("SELECT 1"))
        (note,) = messages.texts("information")
        assert note.startswith(f"已从备份 {backup.name} 恢复") and "损坏的数据库已另存为" in note
        assert health.newest_good_backup(demo_paths) is not None
    finally:
        opening.store.close()
    # The damaged file was kept aside, not deleted.
    assert any(info.kind == "before-restore" for info in backups.list_backups(demo_paths))


def test_a_file_beyond_reading_offers_the_backup_too(demo_paths, clock, messages, monkeypatch):
    backup = backup_then_damage(demo_paths, clock)
    demo_paths.database.write_bytes(b"this is not a database at all" * 10)
    offers = Offers(answer=True)
    monkeypatch.setattr(startup, "offer_restore", offers)
    opening = startup.open_station(demo_paths, clock)
    assert opening is not None and not opening.read_only
    opening.store.close()
    assert backup.name in offers.texts[0] and "不是本系统的数据库" in offers.texts[0]


def test_data_folder_on_a_usb_stick_is_refused(demo_paths, clock, messages, monkeypatch):
    stick = DataLocation(REMOVABLE, "vfat /dev/sdb1 挂载于 /media/clerk/U DISK")
    monkeypatch.setattr(health, "data_location", lambda root: stick)
    assert run(demo_paths, clock) == 1
    (critical,) = messages.texts("critical")
    assert "U 盘" in critical and "拒绝" in critical and str(demo_paths.root) in critical
    messages.allow_critical = True


@pytest.fixture(autouse=True)
def _no_real_dialog(monkeypatch):
    """offer_restore must be replaced by each test; a real QMessageBox.exec would block."""

    def refuse(text: str, can_read: bool) -> bool:
        raise AssertionError(f"unexpected restore offer: {text}")

    monkeypatch.setattr(startup, "offer_restore", refuse)
