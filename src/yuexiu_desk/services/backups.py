"""Backups of the station database, restoring one, and the health checks of `doctor` (issue 6).

Backups live in the station's backups folder (or a folder the user names, e.g. a USB stick), named
`<station code>-<kind>-<UTC time>.sqlite3`; automatic kinds are thinned to the newest few, the others are
never deleted. Qt-free; the store must be closed while restore() replaces the database file.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from yuexiu_desk.clock import Clock, SystemClock
from yuexiu_desk.domain.access import Operator, system_operator
from yuexiu_desk.errors import EnvironmentProblem, UserError
from yuexiu_desk.paths import StationPaths
from yuexiu_desk.services import audit
from yuexiu_desk.storage.backup import (
    backup_database,
    copy_durably,
    integrity_problem,
    remove_sidecars,
    sync_folder,
)
from yuexiu_desk.storage.db import SQLITE_MAGIC, Store, check_database_file, make_engine
from yuexiu_desk.storage.migrate import SCHEMA_HEAD, current_revision, known_revisions
from yuexiu_desk.storage.models import Station

MANUAL = "manual"
DAILY = "daily"
BEFORE_IMPORT = "before-import"
BEFORE_RESTORE = "before-restore"
# Made without anyone asking, so they would pile up: only these are thinned. A manual backup, the copy kept
# before a migration, a restore or a demo overwrite is someone's way back and is never deleted by us.
AUTOMATIC_KINDS = frozenset({DAILY, BEFORE_IMPORT})
DEFAULT_KEEP = 14
BACKUP_INTERVAL = timedelta(hours=24)
LOW_DISK_BYTES = 500 * 1024 * 1024
LARGE_WAL_BYTES = 64 * 1024 * 1024
SUFFIX = ".sqlite3"
# A copy still named .partial this long after it was last written belongs to a backup that was killed.
PARTIAL_AGE = timedelta(hours=6)
STAMP_FORMAT = "%Y%m%dT%H%M%SZ"

_KIND = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*")
# <prefix>-<stamp>[-<n>].sqlite3; -<n> tells apart backups made within the same second.
_NAME = re.compile(r"(?P<prefix>.+)-(?P<stamp>\d{8}T\d{6}Z)(?:-(?P<seq>\d+))?\.sqlite3")
# Names that storage.db and services.station give their safety copies: before-upgrade-<rev>, before-demo.
_LEGACY_KINDS = ("before-upgrade", "before-demo")


@dataclass(frozen=True)
class BackupInfo:
    path: Path
    kind: str
    made_at: datetime
    size: int


@dataclass(frozen=True)
class RestoreResult:
    restored_from: Path
    station_code: str
    revision: str
    previous_kept: Path | None
    files_restored: int = 0


@dataclass(frozen=True)
class Check:
    """One line of `doctor`: applicable=False marks a check that does not exist yet (never counted as ok)."""

    name: str
    ok: bool
    detail: str
    applicable: bool = True

    @property
    def failed(self) -> bool:
        return self.applicable and not self.ok


def _safe_code(code: str | None) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", code) if code else "nostation"


def _station_code(store: Store) -> str | None:
    with store.read() as session:
        code: str | None = session.scalar(select(Station.code))
    return code


def _parse(path: Path) -> BackupInfo | None:
    match = _NAME.fullmatch(path.name)
    if match is None:
        return None
    prefix = match["prefix"]
    kind = next((k for k in _LEGACY_KINDS if prefix.startswith(k)), None)
    if kind is None:
        # <code>-<kind>: the code never holds "-" (_safe_code), so the kind is everything after the first one.
        _, _, kind = prefix.partition("-")
    if not kind or _KIND.fullmatch(kind) is None:
        return None
    made_at = datetime.strptime(match["stamp"], STAMP_FORMAT).replace(tzinfo=UTC)
    return BackupInfo(path, kind, made_at, path.stat().st_size)


def _order(info: BackupInfo) -> tuple[datetime, int]:
    match = _NAME.fullmatch(info.path.name)
    return info.made_at, int(match["seq"]) if match and match["seq"] else 0


def list_backups(paths: StationPaths, folder: Path | None = None) -> list[BackupInfo]:
    """The backups in the station's backups folder (or folder), newest first; other files are ignored."""
    where = folder or paths.backups
    if not where.is_dir():
        return []
    found = [info for p in where.glob(f"*{SUFFIX}") if p.is_file() and (info := _parse(p)) is not None]
    return sorted(found, key=_order, reverse=True)


def _check_target_folder(folder: Path) -> None:
    if not folder.exists():
        raise UserError(f"备份目录 {folder} 不存在。请插好 U 盘或先建好该目录，再重试。")
    if not folder.is_dir():
        raise UserError(f"{folder} 不是一个目录。请指定要存放备份的目录。")
    probe = folder / ".yuexiu-write-test"
    try:
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise EnvironmentProblem(
            f"备份目录 {folder} 无法写入（{exc.strerror or exc}）。请检查 U 盘是否写保护，或换一个目录。"
        ) from exc


def _free_name(folder: Path, stem: str) -> Path:
    target = folder / f"{stem}{SUFFIX}"
    seq = 1
    while target.exists() or target.with_name(target.name + ".partial").exists():
        seq += 1
        target = folder / f"{stem}-{seq}{SUFFIX}"
    return target


def make_backup(
    store: Store,
    kind: str = MANUAL,
    to_dir: Path | None = None,
    keep: int = DEFAULT_KEEP,
    now: datetime | None = None,
    *,
    operator: str = audit.SYSTEM_OPERATOR,
    session: Session | None = None,
) -> Path:
    """Back the store up (verified, atomic) and return the file; thin the automatic kinds in the backups folder.

    The backup is recorded in the audit log: in session when the caller is inside a unit of work (which holds
    the write lock, so a second one would wait for it), else in a unit of work of its own.
    """
    if _KIND.fullmatch(kind) is None:
        raise ValueError(f"bad backup kind {kind!r}")
    if to_dir is not None:
        _check_target_folder(to_dir)
    folder = to_dir if to_dir is not None else store.paths.backups
    moment = (now or store.clock.now()).astimezone(UTC)
    code = _station_code(store)
    stem = f"{_safe_code(code)}-{kind}-{moment.strftime(STAMP_FORMAT)}"
    target = backup_database(store.engine, _free_name(folder, stem))
    copied = mirror_documents(store.paths.root, folder)
    if code is not None:  # a database without a station has nothing to audit (and no chain to start)
        where: dict[str, Any] = {"kind": kind, "files": copied}
        if to_dir is not None:
            where["to"] = str(to_dir)
        if session is not None:
            audit.record(session, operator, "backup", target.name, where)
        else:
            # Backing up needs no sign-in: whoever is signed in is named, else the caller's label.
            with store.unit_of_work(store.operator or system_operator(operator)) as own:
                audit.record(own, operator, "backup", target.name, where)
    if to_dir is None:
        sweep_partials(folder)
        if kind in AUTOMATIC_KINDS:
            prune(store.paths, kind, keep)
    return target


def sweep_partials(folder: Path, older_than: timedelta = PARTIAL_AGE) -> list[Path]:
    """Delete the half-made copies a killed or powered-off backup left behind (never listed as backups).

    Only old ones: a younger .partial may be a backup another process is writing right now."""
    limit = datetime.now(UTC).timestamp() - older_than.total_seconds()
    gone = []
    for path in [*folder.glob(f"*{SUFFIX}.partial"), *folder.glob(f"*{SUFFIX}.partial-journal")]:
        try:
            if path.stat().st_mtime < limit:
                path.unlink()
                gone.append(path)
        except OSError:
            continue
    return gone


# The station's documents: photos (named by content hash), printed receipts and notices, inspection records,
# work-order slips. Backups keep one mirror of them beside the database copies, adding what is new: a photo or
# a printed paper does not change once written, so fourteen copies of each would only fill the disk.
DOCUMENT_FOLDERS = ("photos", "receipts", "notices", "inspections", "workorders")
FILES_MIRROR = "files"


def _document_files(root: Path) -> list[Path]:
    found: list[Path] = []
    for name in DOCUMENT_FOLDERS:
        folder = root / name
        if folder.is_dir():
            found.extend(
                p for p in sorted(folder.rglob("*")) if p.is_file() and not p.name.endswith(".partial")
            )
    return found


def mirror_documents(station_root: Path, backup_folder: Path) -> int:
    """Copy the station's document files that the mirror in backup_folder lacks (or holds at another size),
    each flushed to disk under a private name and renamed into place; returns how many were copied."""
    mirror = backup_folder / FILES_MIRROR
    copied = 0
    touched: set[Path] = set()
    for source in _document_files(station_root):
        target = mirror / source.relative_to(station_root)
        if target.exists() and target.stat().st_size == source.stat().st_size:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".partial")
        copy_durably(source, partial)
        os.replace(partial, target)
        touched.add(target.parent)
        copied += 1
    for folder in touched:
        sync_folder(folder)
    return copied


def restore_documents(mirror: Path, station_root: Path) -> int:
    """Bring back the documents of a backup's mirror that the station folder lacks; files already there are
    never overwritten (they may be newer than the backup). Returns how many came back."""
    if not mirror.is_dir():
        return 0
    restored = 0
    for source in _document_files(mirror):
        target = station_root / source.relative_to(mirror)
        if target.exists():
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".partial")
        copy_durably(source, partial)
        os.replace(partial, target)
        restored += 1
    return restored


def prune(paths: StationPaths, kind: str, keep: int = DEFAULT_KEEP) -> list[Path]:
    """Delete all but the newest `keep` backups of one automatic kind; return what was deleted."""
    if kind not in AUTOMATIC_KINDS:
        return []
    old = [info.path for info in list_backups(paths) if info.kind == kind][max(keep, 1) :]
    for path in old:
        path.unlink(missing_ok=True)
    return old


def backup_if_due(store: Store, now: datetime | None = None, keep: int = DEFAULT_KEEP) -> Path | None:
    """Make a daily backup when the newest backup of any kind is 24 h old or there is none (at app start)."""
    moment = now or store.clock.now()
    newest = next(iter(list_backups(store.paths)), None)
    if newest is not None and moment - newest.made_at < BACKUP_INTERVAL:
        return None
    return make_backup(store, DAILY, keep=keep, now=moment)


# --- restore ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Identity:
    station_id: str
    code: str
    revision: str | None


def _identity(database: Path) -> _Identity | None:
    """The station row and schema revision of a database file (None when it has no station)."""
    with closing(sqlite3.connect(database)) as conn:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        revision = None
        if "alembic_version" in tables:
            found = conn.execute("SELECT version_num FROM alembic_version").fetchone()
            revision = str(found[0]) if found else None
        if "station" not in tables:
            return None
        row = conn.execute("SELECT id, code FROM station").fetchone()
    return None if row is None else _Identity(str(row[0]), str(row[1]), revision)


def _check_candidate(candidate: Path, shown: Path) -> _Identity:
    """Refuse a copy of a backup that is damaged, foreign to this program or newer than it."""
    problem = integrity_problem(candidate)
    if problem is not None:
        raise UserError(f"{shown} 已损坏，未通过完整性检查（{problem}），不能用来恢复。请换一个备份文件。")
    try:
        identity = _identity(candidate)
    except sqlite3.DatabaseError as exc:
        raise UserError(f"{shown} 无法读取（{exc}），不能用来恢复。请换一个备份文件。") from exc
    finally:
        remove_sidecars(candidate)
    if identity is None or identity.revision is None:
        raise UserError(f"{shown} 不是本系统的服务站备份（没有服务站数据），不能用来恢复。")
    if identity.revision != SCHEMA_HEAD and identity.revision not in known_revisions():
        raise UserError(
            f"{shown} 的数据库版本（{identity.revision}）比本程序新，不能用来恢复。请先升级 yuexiu-desk。"
        )
    return identity


def _current_identity(database: Path) -> tuple[_Identity | None, bool]:
    """The current database's station, and whether the file could be read at all."""
    if not database.exists() or database.stat().st_size == 0:
        return None, True
    try:
        with database.open("rb") as handle:
            if handle.read(len(SQLITE_MAGIC)) != SQLITE_MAGIC:
                return None, False
        return _identity(database), True
    except sqlite3.DatabaseError:
        return None, False


def open_elsewhere(database: Path) -> bool:
    """Whether another process (the desk app, another command) has the database or its log open.

    Swapping the file under such a process would let its next write land in the wrong file. On Linux the
    open files of every process are listed under /proc; elsewhere the log left behind after our own last
    connection closed is the sign (the last connection to close deletes it).
    """
    names = {database.resolve(), Path(f"{database.resolve()}-wal"), Path(f"{database.resolve()}-shm")}
    proc = Path("/proc")
    if not (proc / "self" / "fd").is_dir():
        return Path(f"{database}-wal").exists()
    me = str(os.getpid())
    for process in proc.iterdir():
        if not process.name.isdigit() or process.name == me:
            continue
        try:
            links = [os.readlink(fd) for fd in (process / "fd").iterdir()]
        except OSError:
            continue  # gone meanwhile, or not ours to look at (then it is not the clerk's desk either)
        if any(Path(link) in names for link in links):
            return True
    return False


def _keep_previous(paths: StationPaths, code: str | None, readable: bool, clock: Clock) -> Path | None:
    """Put the current database aside in the backups folder, its WAL folded in; None if there is none."""
    database = paths.database
    if not database.exists() or database.stat().st_size == 0:
        return None
    stem = f"{_safe_code(code)}-{BEFORE_RESTORE}-{clock.now().astimezone(UTC).strftime(STAMP_FORMAT)}"
    target = _free_name(paths.backups, stem)
    if readable:
        try:
            check_database_file(database)
        except EnvironmentProblem:
            # Readable but damaged (the very case a restore is for): the verified copy below would refuse it.
            readable = False
    if not readable:
        # A damaged file cannot be read page by page; keep its bytes as they are, log included, for a specialist.
        paths.backups.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            source = Path(f"{database}{suffix}")
            if source.exists():
                shutil.copy2(source, Path(f"{target}{suffix}"))
        if open_elsewhere(database):
            raise EnvironmentProblem(
                f"数据库 {database} 正被另一个程序使用（例如桌面程序），未恢复。请先关闭它再重试；当前数据已另存为 {target}。"
            )
        return target
    engine = make_engine(database)
    try:
        backup_database(engine, target)
    finally:
        engine.dispose()
    if open_elsewhere(database):
        raise EnvironmentProblem(
            f"数据库 {database} 正被另一个程序使用（例如桌面程序），未恢复。请先关闭它再重试；当前数据已另存为 {target}。"
        )
    return target


def require_restore_right(
    paths: StationPaths, prompt_for: Callable[[Store], Callable[[], Operator]]
) -> Operator | None:
    """Restoring replaces everyone's data: only a role holding backup.restore may, signed in (through the
    prompt made for the store) against the current database; returns who. A database that is missing or
    cannot be opened protects nothing, and restoring is its remedy, so then anyone may (None)."""
    from sqlalchemy.exc import DatabaseError

    from yuexiu_desk.services.access import require
    from yuexiu_desk.services.users import has_accounts

    if not paths.database.exists():
        return None
    try:
        store = Store.open(paths)
    except (EnvironmentProblem, DatabaseError):
        return None
    try:
        with store.read() as session:
            if not has_accounts(session):
                return None
        store.sign_in_prompt = prompt_for(store)
        with store.read() as session:
            return require(session, "backup.restore")
    finally:
        store.close()


def restore(
    paths: StationPaths, file: Path, clock: Clock | None = None, operator: str = audit.SYSTEM_OPERATOR
) -> RestoreResult:
    """Replace the station database with a backup file, keeping the current one aside; nothing else is open.

    Everything is checked on a private copy beside the database before the current file is touched, so a
    refusal changes nothing and the final os.replace swaps a complete, verified file into place.
    """
    clock = clock or SystemClock()
    file = Path(file)
    if not file.is_file():
        raise UserError(f"备份文件 {file} 不存在。请检查文件路径。")
    if paths.database.exists() and file.resolve() == paths.database.resolve():
        raise UserError(f"{file} 就是当前正在使用的数据库，不能用它恢复。请选择 backups 目录里的备份文件。")
    with file.open("rb") as handle:
        if handle.read(len(SQLITE_MAGIC)) != SQLITE_MAGIC:
            raise UserError(f"{file} 不是本系统的备份文件（不是 SQLite 数据库）。请选择 .sqlite3 备份文件。")
    paths.root.mkdir(parents=True, exist_ok=True)
    candidate = paths.root / f"{paths.database.name}.restoring"
    remove_sidecars(candidate)
    try:
        copy_durably(file, candidate)
        identity = _check_candidate(candidate, file)
        current, readable = _current_identity(paths.database)
        if current is not None and (current.station_id, current.code) != (identity.station_id, identity.code):
            theirs = (
                identity.code if identity.code != current.code else f"站号同为 {current.code} 的另一次建站"
            )
            raise UserError(
                f"{file} 属于另一个服务站（{theirs}），与当前数据（{current.code}）不符，不能用来恢复。"
            )
        previous = _keep_previous(paths, current.code if current else identity.code, readable, clock)
        # A stale log of the old file would be replayed into the restored one, so it goes first.
        remove_sidecars(paths.database)
        os.replace(candidate, paths.database)
        sync_folder(paths.root)
    except OSError as exc:
        raise EnvironmentProblem(
            f"恢复未完成（{exc.strerror or exc}），当前数据库未改动。请检查磁盘空间和权限。"
        ) from exc
    finally:
        candidate.unlink(missing_ok=True)
        remove_sidecars(candidate)
    # Opening migrates a backup of an older revision forward (itself backing up first) and proves it opens.
    store = Store.open(paths, clock)
    try:
        with store.engine.connect() as conn:
            revision = current_revision(conn) or ""
        files = restore_documents(file.parent / FILES_MIRROR, paths.root)
        with store.unit_of_work(system_operator(operator)) as session:
            audit.record(session, operator, "restore", file.name, {"revision": revision, "files": files})
    finally:
        store.close()
    return RestoreResult(file, identity.code, revision, previous, files)


# --- doctor -------------------------------------------------------------------------------------------


def _size_text(size: int) -> str:
    return f"{size / (1024 * 1024):,.1f} MB"


def doctor(store: Store, min_free_bytes: int = LOW_DISK_BYTES, now: datetime | None = None) -> list[Check]:
    """The health of the open store: integrity, foreign keys, schema, disk space, backups, WAL, the sealing of
    personal data (services.keys), audit chain."""
    checks: list[Check] = []
    with store.engine.connect() as conn:
        found = [str(r[0]) for r in conn.execute(text("PRAGMA integrity_check"))]
        checks.append(
            Check("完整性检查", found == ["ok"], "正常" if found == ["ok"] else "；".join(found[:5]))
        )
        orphans = conn.execute(text("PRAGMA foreign_key_check")).fetchall()
        tables = sorted({str(r[0]) for r in orphans})
        checks.append(
            Check(
                "外键检查",
                not orphans,
                "正常"
                if not orphans
                else f"{len(orphans)} 条记录引用了不存在的数据（表：{'、'.join(tables)}）",
            )
        )
        revision = current_revision(conn)
    checks.append(
        Check(
            "数据库版本",
            revision == SCHEMA_HEAD,
            f"{revision}（最新）" if revision == SCHEMA_HEAD else f"{revision}，本程序为 {SCHEMA_HEAD}",
        )
    )
    free = shutil.disk_usage(store.paths.root).free
    checks.append(
        Check(
            "磁盘空间",
            free >= min_free_bytes,
            f"剩余 {_size_text(free)}"
            + ("" if free >= min_free_bytes else f"，不足 {_size_text(min_free_bytes)}，请清理磁盘"),
        )
    )
    moment = now or store.clock.now()
    newest = next(iter(list_backups(store.paths)), None)
    if newest is None:
        checks.append(Check("最近备份", False, "还没有备份。请运行 yuexiu-desk backup"))
    else:
        age = moment - newest.made_at
        hours = max(age.total_seconds(), 0) / 3600
        fresh = age < BACKUP_INTERVAL
        checks.append(
            Check(
                "最近备份",
                fresh,
                f"{hours:.1f} 小时前（{newest.path.name}）" + ("" if fresh else "，已超过 24 小时，请备份"),
            )
        )
    wal = Path(f"{store.paths.database}-wal")
    wal_size = wal.stat().st_size if wal.exists() else 0
    checks.append(
        Check(
            "日志文件（WAL）",
            wal_size < LARGE_WAL_BYTES,
            _size_text(wal_size)
            + ("" if wal_size < LARGE_WAL_BYTES else "，过大，请关闭其他程序后重启本程序"),
        )
    )
    from yuexiu_desk.storage.location import data_location

    location = data_location(store.paths.root)
    refused = location.problem(store.paths.root)
    checks.append(Check("存放位置", refused is None, refused or f"{location.detail}"))
    from yuexiu_desk.services.keys import key_health

    with store.read() as session:
        chain = audit.verify(session)
        sealed_ok, sealed_detail = key_health(session)
    checks.append(Check("个人信息加密", sealed_ok, sealed_detail))
    checks.append(
        Check(
            "审计链",
            chain.ok,
            f"完好，共 {chain.count} 条"
            if chain.ok
            else f"第 {chain.first_bad_seq} 条起不可信：{chain.reason}",
        )
    )
    return checks
