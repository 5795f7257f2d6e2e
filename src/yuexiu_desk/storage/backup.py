"""Copies of the live database made with SQLite's online backup API, written atomically and checked."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from sqlalchemy import Engine

from yuexiu_desk.errors import EnvironmentProblem


def backup_database(engine: Engine, target: Path) -> Path:
    """Write a consistent copy of the engine's database to target; return target once verified."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    try:
        raw = engine.raw_connection()
        try:
            source = raw.driver_connection
            assert isinstance(source, sqlite3.Connection)
            with sqlite3.connect(partial) as dest:
                source.backup(dest)
                check = dest.execute("PRAGMA integrity_check").fetchone()
            if check is None or check[0] != "ok":
                raise EnvironmentProblem(f"备份文件 {target} 未通过完整性检查，已放弃这次备份。")
        finally:
            raw.close()
        with partial.open("rb") as handle:
            os.fsync(handle.fileno())
        os.replace(partial, target)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise EnvironmentProblem(
            f"无法写入备份 {target}（{exc.strerror or exc}）。请检查磁盘空间和权限。"
        ) from exc
    return target
