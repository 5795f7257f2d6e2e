"""Writing the files a clerk keeps (PDFs, workbooks) so that a failure never leaves half a file behind."""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from yuexiu_desk.errors import EnvironmentProblem


def write_atomically(out: Path, render: Callable[[BinaryIO], None], what: str) -> None:
    """Render into a new file beside out, then move it over out: out is either the old file or the new one.

    what names the file for the clerk (e.g. 标签文件, 表单文件, 模板文件) in the one-sentence error.
    """
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _write_problem(out, exc, what) from exc
    temp = out.with_name(f".{out.name}.{secrets.token_hex(4)}.tmp")
    try:
        # "x" mode, not mkstemp: mkstemp's 0600 would make the finished file unreadable to other users.
        handle = open(temp, "xb")  # noqa: SIM115  (closed by the with below, before the rename)
    except OSError as exc:
        raise _write_problem(out, exc, what) from exc
    try:
        with handle:
            render(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, out)
    except OSError as exc:
        _discard(temp)
        raise _write_problem(out, exc, what) from exc
    except BaseException:
        _discard(temp)
        raise


def _write_problem(out: Path, exc: OSError, what: str) -> EnvironmentProblem:
    from yuexiu_desk.storage.db import disk_full_problem, is_disk_full

    reason = exc.strerror or str(exc)
    if is_disk_full(exc):
        return disk_full_problem(f"无法保存{what} {out}（{reason}）")
    return EnvironmentProblem(
        f"无法保存{what} {out}（{reason}）；请检查文件夹是否存在、磁盘空间和写入权限，"
        f"如果该文件正被其他程序打开请先关闭，或换一个保存位置。"
    )


def _discard(temp: Path) -> None:
    # The original error is the one worth reporting.
    with contextlib.suppress(OSError):
        temp.unlink(missing_ok=True)
