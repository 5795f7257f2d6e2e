"""Copies of the live database made with SQLite's online backup API, written atomically and checked."""

from __future__ import annotations

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
    except (OSError, sqlite3.Error) as exc:
        partial.unlink(missing_ok=True)
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise EnvironmentProblem(f"无法写入备份 {target}（{reason}）。请检查磁盘空间和权限。") from exc
    except EnvironmentProblem:
        partial.unlink(missing_ok=True)
        raise
    return target
