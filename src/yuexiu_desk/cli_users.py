"""The command line of accounts and signing in: `users add/list/set-role/disable/enable/reset-password`, and
the credentials every writing or revealing command asks for (prompt, or YUEXIU_USER / YUEXIU_PASSWORD).
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from yuexiu_desk.errors import UserError

COMMANDS = ("users",)
USER_VARIABLE = "YUEXIU_USER"
PASSWORD_VARIABLE = "YUEXIU_PASSWORD"
# For scripts creating accounts: the new account's password (otherwise asked twice at the terminal).
NEW_PASSWORD_VARIABLE = "YUEXIU_NEW_PASSWORD"
# For `users recover` (and a keyed station's first `users add`) in a script: the printed recovery key
# (otherwise asked at the terminal).
RECOVERY_VARIABLE = "YUEXIU_RECOVERY_KEY"


def add_parsers(
    sub: Any, parser_class: type[argparse.ArgumentParser], date_type: Callable[[str], Any]
) -> None:
    from yuexiu_desk.domain.access import permission_table

    roles = ", ".join(f"{code}={label}" for code, label in permission_table().roles.items())
    users = sub.add_parser("users", help="账户和岗位（站长管理）")
    users_sub = users.add_subparsers(dest="users_command", parser_class=parser_class, required=True)
    ua = users_sub.add_parser("add", help="添加账户（第一个账户即站长，无需登录；之后须站长登录）")
    ua.add_argument("login", metavar="NAME", help="登录名")
    ua.add_argument("--role", required=True, help=f"岗位：{roles}")
    ua.add_argument("--name", help="使用人姓名（默认同登录名）")
    ua.add_argument(
        "--recovery-sheet",
        metavar="FILE.pdf",
        help="第一个账户：把本站的个人信息恢复密钥单写成 PDF（打印后锁入保险柜，删除文件）",
    )
    uv = users_sub.add_parser("recover", help="全部站长忘记密码时：用恢复密钥为一个账户设新密码")
    uv.add_argument("login", metavar="NAME", help="要设新密码的账户（通常是站长）")
    users_sub.add_parser("list", help="列出账户")
    ur = users_sub.add_parser("set-role", help="变更岗位")
    ur.add_argument("login", metavar="NAME")
    ur.add_argument("--role", required=True, help=f"岗位：{roles}")
    for name, text in (("disable", "停用账户"), ("enable", "恢复账户"), ("reset-password", "重设密码")):
        users_sub.add_parser(name, help=text).add_argument("login", metavar="NAME")


def credentials_prompt(store: Any) -> Callable[[], Any]:
    """What the store calls the first time a command writes or reveals: sign in from the environment or ask."""

    def prompt() -> Any:
        from yuexiu_desk.services.users import has_accounts, sign_in

        with store.read() as session:
            if not has_accounts(session):
                raise UserError(
                    "本站还没有账户。请先打开桌面程序创建站长账户，"
                    "或运行 yuexiu-desk users add 登录名 --role station_manager 创建第一个站长账户。"
                )
        login = os.environ.get(USER_VARIABLE) or _ask("登录名：")
        password = os.environ.get(PASSWORD_VARIABLE)
        if password is None:
            password = _ask_secret("密码：")
        operator = sign_in(store, login, password)
        if store.new_recovery_code is not None:
            # An upgraded station's first manager sign-in made its data key: say its recovery key once.
            print(_recovery_text(store.new_recovery_code), file=sys.stderr)
            store.new_recovery_code = None
        return operator

    return prompt


def _interactive() -> bool:
    return sys.stdin is not None and sys.stdin.isatty()


def _ask(label: str) -> str:
    if not _interactive():
        raise UserError(
            f"此操作需要登录：请设置环境变量 {USER_VARIABLE} 和 {PASSWORD_VARIABLE}，或在终端中运行以输入账户和密码。"
        )
    return input(label).strip()


def _ask_secret(label: str) -> str:
    if not _interactive():
        raise UserError(f"此操作需要登录：请设置环境变量 {PASSWORD_VARIABLE}，或在终端中运行以输入密码。")
    return getpass.getpass(label)


def _new_password() -> str:
    password = os.environ.get(NEW_PASSWORD_VARIABLE)
    if password is not None:
        return password
    if not _interactive():
        raise UserError(f"请设置环境变量 {NEW_PASSWORD_VARIABLE} 为新账户的密码，或在终端中运行以输入密码。")
    first = getpass.getpass("新账户的密码：")
    if getpass.getpass("再输一次：") != first:
        raise UserError("两次输入的密码不一致，账户没有添加，请重试。")
    return first


def dispatch(store: Any, args: argparse.Namespace) -> int:
    from yuexiu_desk.domain.access import role_label
    from yuexiu_desk.services import users as svc

    command = args.users_command
    if command == "list":
        with store.read() as session:
            rows = svc.list_accounts(session)
        for row in rows:
            state = "（已停用）" if row.disabled else ""
            print(f"{row.login}\t{row.name}\t{row.role_label}{state}")
        return 0
    if command == "add":
        with store.read() as session:
            first = not svc.has_accounts(session)
        name = args.name or args.login
        if first:
            if args.role != svc.MANAGER_ROLE:
                raise UserError(f"第一个账户必须是站长：请用 --role {svc.MANAGER_ROLE}。")
            from yuexiu_desk.services.keys import has_data_key

            with store.read() as session:
                code = _recovery_code() if has_data_key(session) else None
                if code is not None:
                    svc.check_recovery_code(session, code)
            password = _new_password()
            with store.unit_of_work(operator=_setup_operator()) as session:
                made = svc.create_first_manager(session, args.login, name, password, code)
            if made.recovery_code:
                print(_recovery_text(made.recovery_code))
            if args.recovery_sheet:
                _write_sheet(store, Path(args.recovery_sheet), made.recovery_code or code or "")
        else:
            with store.unit_of_work() as session:
                # Checked before asking for the new password: a refusal should not waste the typing.
                from yuexiu_desk.services.access import require

                require(session, "users.manage")
            password = _new_password()
            with store.unit_of_work() as session:
                svc.add_user(session, args.login, name, args.role, password)
        print(f"已添加账户 {args.login}（{name}，{role_label(args.role)}）。")
        return 0
    if command == "recover":
        code = _recovery_code()
        with store.read() as session:
            svc.check_recovery_code(session, code)
        password = _new_password()
        with store.unit_of_work(operator=_setup_operator()) as session:
            svc.recover_with_key(session, code, args.login, password)
        print(f"已用恢复密钥为 {args.login} 设置新密码，请用新密码登录。")
        return 0
    with store.unit_of_work() as session:
        if command == "set-role":
            svc.set_role(session, args.login, args.role)
            print(f"{args.login} 的岗位已改为{role_label(args.role)}。")
        elif command in ("disable", "enable"):
            svc.set_disabled(session, args.login, command == "disable")
            print(f"账户 {args.login} 已{'停用' if command == 'disable' else '恢复'}。")
        else:
            svc.reset_password(session, args.login, _new_password())
            print(f"已为 {args.login} 重设密码。")
    return 0


def _recovery_code() -> str:
    code = os.environ.get(RECOVERY_VARIABLE)
    if code is not None:
        return code
    if not _interactive():
        raise UserError(f"请设置环境变量 {RECOVERY_VARIABLE} 为打印的恢复密钥，或在终端中运行以输入它。")
    return getpass.getpass("恢复密钥（8 组，每组 4 个字符）：")


def _recovery_text(code: str) -> str:
    return (
        f"本站个人信息恢复密钥：{code}\n"
        "全部站长忘记密码时，只有它能打开住户的个人信息（yuexiu-desk users recover 登录名）。"
        "本系统不保存它：请抄写或打印后锁入保险柜。"
    )


def _write_sheet(store: Any, out: Path, code: str) -> None:
    from yuexiu_desk.printing.recovery_sheet import write_recovery_sheet
    from yuexiu_desk.services.station import station_info

    with store.read() as session:
        info = station_info(session)
    write_recovery_sheet(out, info.name if info is not None else "本服务站", code, store.clock.now())
    print(f"恢复密钥单：{out}（打印后请删除该文件）")


def _setup_operator() -> Any:
    from yuexiu_desk.domain.access import system_operator

    return system_operator("首次设置")
