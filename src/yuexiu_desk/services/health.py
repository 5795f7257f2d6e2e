"""The database's health at start and once a day, and what the desk does about it (Qt-free).

On every start the file gets PRAGMA quick_check (storage.db.check_database_file); once a day (the date of
the last run is kept in the setting table) the thorough integrity_check and foreign_key_check. When a check
fails the store is opened read-only — every write refused with one sentence — and the newest backup that
itself passes integrity_check is named, for the clerk to restore. A data folder on a network share or a
removable drive is refused outright (storage.location).
"""

from __future__ import annotations

import json
import logging
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import text

from yuexiu_desk.clock import Clock, local_date
from yuexiu_desk.domain.access import system_operator
from yuexiu_desk.errors import EnvironmentProblem
from yuexiu_desk.paths import StationPaths
from yuexiu_desk.storage.db import Store, check_database_file
from yuexiu_desk.storage.location import DataLocation, data_location

if TYPE_CHECKING:
    from yuexiu_desk.services.backups import BackupInfo

# Start-up is timed: the backups service and the settings model (~80 ms of imports) load only when a check
# fails or the daily check runs in the background.

log = logging.getLogger(__name__)

LAST_FULL_CHECK = "health.last_full_check"


@dataclass(frozen=True)
class FullCheck:
    """The result of integrity_check + foreign_key_check (problem None when both pass)."""

    ran_on: date
    problem: str | None

    @property
    def ok(self) -> bool:
        return self.problem is None


@dataclass(frozen=True)
class DeskOpening:
    """How the desk opened the station: the store, and if damaged why and which backup would fix it."""

    store: Store
    damage: str | None
    newest_good_backup: BackupInfo | None

    @property
    def read_only(self) -> bool:
        return self.damage is not None


def backup_is_sound(path: Path) -> bool:
    """integrity_check on a backup file, opened immutable: nothing is written beside or into it."""
    try:
        with closing(sqlite3.connect(f"file:{path}?immutable=1", uri=True)) as conn:
            rows = conn.execute("PRAGMA integrity_check").fetchall()
    except sqlite3.DatabaseError:
        return False
    return rows == [("ok",)]


def newest_good_backup(paths: StationPaths) -> BackupInfo | None:
    """The newest backup in the station's backups folder that passes integrity_check."""
    from yuexiu_desk.services.backups import list_backups

    for info in list_backups(paths):
        if backup_is_sound(info.path):
            return info
        log.warning("backup %s fails integrity_check; skipped", info.path)
    return None


def read_only_sentence(damage: str, backup: BackupInfo | None) -> str:
    """What the clerk reads when the database failed a check (and on every refused write)."""
    if backup is None:
        return (
            f"数据库未通过完整性检查（{damage}），已以只读方式打开，不能保存任何修改。"
            "没有找到完好的备份；请立即联系维护人员，不要删除数据目录。"
        )
    return (
        f"数据库未通过完整性检查（{damage}），已以只读方式打开，不能保存任何修改。"
        f"最新的完好备份是 {backup.path.name}（{backup.made_at:%Y-%m-%d %H:%M} UTC），请从该备份恢复。"
    )


def location_problem(paths: StationPaths, location: DataLocation | None = None) -> str | None:
    """The sentence refusing a data folder on a network share or removable drive (None when it is local)."""
    found = location if location is not None else data_location(paths.root)
    return found.problem(paths.root)


def open_for_desk(paths: StationPaths, clock: Clock | None = None) -> DeskOpening:
    """Open the station for the desk: refuse a network/removable folder; read-only if quick_check fails."""
    refused = location_problem(paths)
    if refused is not None:
        raise EnvironmentProblem(refused)
    try:
        check_database_file(paths.database)
    except EnvironmentProblem as exc:
        damage = exc.message
        backup = newest_good_backup(paths)
        log.error("database %s failed its start-up check: %s", paths.database, damage)
        try:
            store = Store.open_read_only(paths, read_only_sentence(_short(damage), backup), clock)
            with store.engine.connect() as conn:
                conn.exec_driver_sql("SELECT count(*) FROM sqlite_master").fetchone()
        except Exception as unreadable:
            # Not even readable (not SQLite, header destroyed): only a restore helps; say which backup.
            log.error("cannot open %s even read-only: %s", paths.database, unreadable)
            raise DamagedBeyondReading(damage, backup) from unreadable
        return DeskOpening(store, _short(damage), backup)
    return DeskOpening(Store.open(paths, clock, checked=True), None, None)


class DamagedBeyondReading(EnvironmentProblem):
    """The database cannot be opened even read-only; newest_good_backup is the way back (if any)."""

    def __init__(self, damage: str, backup: BackupInfo | None) -> None:
        tail = (
            f"最新的完好备份是 {backup.path.name}，请从该备份恢复。"
            if backup is not None
            else "没有找到完好的备份；请联系维护人员。"
        )
        super().__init__(f"{damage.rstrip('。')}。{tail}")
        self.damage = damage
        self.newest_good_backup = backup


def _short(message: str) -> str:
    """The finding inside check_database_file's sentence (the part in brackets), or the sentence itself."""
    if "（" in message and "）" in message:
        return message[message.index("（") + 1 : message.rindex("）")]
    return message.rstrip("。")


def full_check(store: Store) -> str | None:
    """PRAGMA integrity_check and foreign_key_check on the open store; what is wrong, or None."""
    with store.engine.connect() as conn:
        found = [str(r[0]) for r in conn.execute(text("PRAGMA integrity_check"))]
        if found != ["ok"]:
            return "；".join(found[:3])
        orphans = conn.execute(text("PRAGMA foreign_key_check")).fetchall()
    if orphans:
        tables = "、".join(sorted({str(r[0]) for r in orphans}))
        return f"{len(orphans)} 条记录引用了不存在的数据（表：{tables}）"
    return None


def last_full_check(store: Store) -> date | None:
    from yuexiu_desk.storage.billing_models import Setting

    with store.read() as session:
        stored = session.get(Setting, LAST_FULL_CHECK)
    if stored is None:
        return None
    try:
        return date.fromisoformat(json.loads(stored.value)["date"])
    except (ValueError, KeyError, TypeError):
        return None


def daily_check(store: Store, clock: Clock | None = None) -> FullCheck | None:
    """The thorough check, at most once per station day (None when it already ran today).

    A pass is remembered in the setting table; a failure is not (the next start checks again) and makes
    the store refuse writes.
    """
    from yuexiu_desk.storage.billing_models import Setting

    today = local_date((clock or store.clock).now())
    if store.read_only_reason is not None or last_full_check(store) == today:
        return None
    problem = full_check(store)
    if problem is not None:
        log.error("daily integrity check of %s failed: %s", store.paths.database, problem)
        store.refuse_writes(read_only_sentence(problem, newest_good_backup(store.paths)))
        return FullCheck(today, problem)
    with store.unit_of_work(system_operator("体检")) as session:
        value = json.dumps({"date": today.isoformat(), "ok": True})
        stored = session.get(Setting, LAST_FULL_CHECK)
        if stored is None:
            session.add(Setting(key=LAST_FULL_CHECK, value=value))
        else:
            stored.value = value
    return FullCheck(today, None)


def remembered_check_text(store: Store) -> str:
    """For doctor: when the daily check last passed."""
    found = last_full_check(store)
    return "尚未运行" if found is None else found.isoformat()
