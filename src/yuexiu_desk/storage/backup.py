"""Copies of the live database made with SQLite's online backup API, written atomically and checked."""

from __future__ import annotations

import contextlib
import errno
import os
import sqlite3
from contextlib import closing
from pathlib import Path

from sqlalchemy import Engine

from yuexiu_desk.errors import EnvironmentProblem


def backup_database(engine: Engine, target: Path) -> Path:
    """Write a consistent copy of the engine's database to target; return target once verified.

    The copy is built beside the target and renamed into place only after integrity_check passes and it
    is on disk, so a crash or a full disk never leaves a half-written file under the target's name.
    """
    partial = target.with_name(target.name + ".partial")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        raw = engine.raw_connection()
        try:
            source = raw.driver_connection
            assert isinstance(source, sqlite3.Connection)
            # closing(): the copy must be closed before the rename (Windows refuses to rename an open file).
            with closing(sqlite3.connect(partial)) as dest:
                source.backup(dest)
                check = dest.execute("PRAGMA integrity_check").fetchone()
        finally:
            raw.close()
        if check is None or check[0] != "ok":
            raise EnvironmentProblem(
                f"备份文件 {target} 未通过完整性检查，已放弃这次备份。请检查磁盘后重试。"
            )
        with partial.open("rb") as handle:
            os.fsync(handle.fileno())
        os.replace(partial, target)
        sync_folder(target.parent)  # the rename itself survives a power cut, not only a killed process
    except (OSError, sqlite3.Error) as exc:
        _discard(partial)
        if _disk_full(exc):
            raise EnvironmentProblem(
                f"磁盘空间不足（磁盘已满）：无法写入备份 {target}，已放弃这次备份，数据未改动。"
                "请清理磁盘或换到空间更大的位置后重试。"
            ) from exc
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise EnvironmentProblem(f"无法写入备份 {target}（{reason}）。请检查磁盘空间和权限。") from exc
    except EnvironmentProblem:
        _discard(partial)
        raise
    return target


def _disk_full(exc: BaseException) -> bool:
    if isinstance(exc, OSError):
        return exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC))
    return "database or disk is full" in str(exc).lower()


def _discard(partial: Path) -> None:
    """Remove a copy that was given up, with the rollback journal SQLite may have left beside it."""
    for path in (partial, Path(f"{partial}-journal")):
        with contextlib.suppress(OSError):
            path.unlink(missing_ok=True)


def integrity_problem(database: Path) -> str | None:
    """What PRAGMA integrity_check finds wrong with a database file (None when it is sound).

    Opens the file read-write because a backup made with the online backup API keeps the WAL flag, and a
    read-only connection to such a file cannot build its shared-memory index; callers pass a private copy.
    """
    try:
        with closing(sqlite3.connect(database)) as conn:
            rows = conn.execute("PRAGMA integrity_check").fetchall()
    except sqlite3.DatabaseError as exc:
        return str(exc)
    finally:
        remove_sidecars(database)
    found = [str(row[0]) for row in rows]
    return None if found == ["ok"] else "；".join(found[:3])


def remove_sidecars(database: Path) -> None:
    """Remove a database's -wal and -shm files, so a stale log is never applied to another file of that name."""
    for suffix in ("-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)


def copy_durably(source: Path, target: Path) -> None:
    """Copy source to target and flush it to disk (target is a private temporary name the caller renames)."""
    with source.open("rb") as reader, target.open("wb") as writer:
        while chunk := reader.read(1 << 20):
            writer.write(chunk)
        writer.flush()
        os.fsync(writer.fileno())


def sync_folder(folder: Path) -> None:
    """Make a rename in folder durable; POSIX only (Windows cannot open a folder, and NTFS journals renames)."""
    if os.name != "posix":
        return
    handle = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)
