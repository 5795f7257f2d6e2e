"""The command line of backups and integrity: backup, restore, doctor. Registered by cli.build_parser.

restore runs before the store is opened (restore_command), because the database file is replaced under it;
backup and doctor run on the open store (dispatch). Qt-free like all of the CLI.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

COMMANDS = ("backup", "doctor")
# Commands that must run while the store is closed: cli calls restore_command for them instead of dispatch.
STORELESS_COMMANDS = ("restore",)


def add_parsers(
    sub: Any, parser_class: type[argparse.ArgumentParser], date_type: Callable[[str], Any]
) -> None:
    backup = sub.add_parser("backup", help="备份数据库（校验通过后才显示备份文件路径）")
    backup.add_argument(
        "--to", type=Path, metavar="DIR", help="备份到这个目录（例如 U 盘），默认为数据目录下的 backups"
    )
    restore = sub.add_parser("restore", help="从备份文件恢复（当前数据库先另存到 backups）")
    restore.add_argument("file", type=Path, metavar="FILE")
    sub.add_parser("doctor", help="体检：完整性、外键、数据库版本、磁盘空间、备份时间、个人信息加密、审计链")


def dispatch(store: Any, args: argparse.Namespace) -> int:
    handler: Callable[[Any, argparse.Namespace], int] = {
        "backup": _cmd_backup,
        "doctor": _cmd_doctor,
    }[args.command]
    return handler(store, args)


def restore_command(paths: Any, args: argparse.Namespace) -> int:
    """`restore FILE`, with no store open (the caller must not have opened one)."""
    from yuexiu_desk import cli_users
    from yuexiu_desk.services.backups import require_restore_right, restore

    operator = require_restore_right(paths, cli_users.credentials_prompt)
    result = restore(paths, args.file, operator=operator.login if operator else "命令行")
    print(
        f"已从 {result.restored_from} 恢复服务站 {result.station_code} 的数据（数据库版本 {result.revision}）。"
    )
    if result.files_restored:
        print(f"另从备份找回了 {result.files_restored} 个照片、收据等文件（已有的文件未覆盖）。")
    if result.previous_kept is not None:
        print(f"恢复前的数据库已另存为：{result.previous_kept}")
    return 0


def _cmd_backup(store: Any, args: argparse.Namespace) -> int:
    from yuexiu_desk.services.backups import make_backup

    # Anyone may back up, signed in or not; the audit log names who when it can.
    operator = store.operator.login if store.operator is not None else "命令行"
    # make_backup returns only after integrity_check passed and the file was renamed into place.
    path = make_backup(store, to_dir=args.to, operator=operator)
    print(f"已备份并校验：{path}")
    return 0


def _cmd_doctor(store: Any, args: argparse.Namespace) -> int:
    from yuexiu_desk.services.backups import doctor

    checks = doctor(store)
    for check in checks:
        mark = "不适用" if not check.applicable else ("正常" if check.ok else "有问题")
        print(f"[{mark}] {check.name}：{check.detail}")
    failed = [c.name for c in checks if c.failed]
    if failed:
        print(f"体检发现 {len(failed)} 项问题：{'、'.join(failed)}。")
        return 1
    print("体检通过。")
    return 0
