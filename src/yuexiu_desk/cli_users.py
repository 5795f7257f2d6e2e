"""The command line of accounts and signing in: `users add/list/set-role/disable/enable/reset-password`, and
the credentials every writing or revealing command asks for (prompt, or YUEXIU_USER / YUEXIU_PASSWORD).
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Callable
from typing import Any

from yuexiu_desk.errors import UserError

COMMANDS = ("users",)
USER_VARIABLE = "YUEXIU_USER"
PASSWORD_VARIABLE = "YUEXIU_PASSWORD"
# For scripts creating accounts: the new account's password (otherwise asked twice at the terminal).
NEW_PASSWORD_VARIABLE = "YUEXIU_NEW_PASSWORD"


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
        return sign_in(store, login, password)

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
            password = _new_password()
            with store.unit_of_work(operator=_setup_operator()) as session:
                svc.create_first_manager(session, args.login, name, password)
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


def _setup_operator() -> Any:
    from yuexiu_desk.domain.access import system_operator

    return system_operator("首次设置")
