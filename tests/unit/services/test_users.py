"""Accounts and signing in: Argon2id at or above OWASP's minimum, rehash on sign-in when the cost rises, the
growing wait after five failures, the first manager, and the last manager kept."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import timedelta

import pytest
from sqlalchemy import select

from yuexiu_desk.clock import FixedClock
from yuexiu_desk.domain.access import Operator, PermissionDenied, system_operator
from yuexiu_desk.errors import UserError
from yuexiu_desk.paths import StationPaths
from yuexiu_desk.services import keys, users
from yuexiu_desk.services.users import DEMO_PASSWORD, SignInFailed, sign_in
from yuexiu_desk.storage.db import Store
from yuexiu_desk.storage.models import UserAccount

MANAGER = Operator("manager", "王站长", "station_manager")


def stored_hash(store: Store, login: str) -> str:
    with store.read() as session:
        return session.scalars(select(UserAccount.password_hash).where(UserAccount.login == login)).one()


def test_demo_accounts_sign_in_with_their_role(demo_store: Store) -> None:
    operator = sign_in(demo_store, "finance", DEMO_PASSWORD)
    assert (operator.login, operator.name, operator.role) == ("finance", "张会计", "finance")
    assert operator.label == "张会计（财务）"


def test_passwords_are_argon2id_at_or_above_the_owasp_minimum(demo_store: Store) -> None:
    demo_store.operator = MANAGER
    with demo_store.unit_of_work() as session:
        users.set_hash_parameters(session, dict(users.DEFAULT))
        users.add_user(session, "zhao", "赵出纳", "finance", "a good password")
    encoded = stored_hash(demo_store, "zhao")
    assert encoded.startswith("$argon2id$")
    params = dict(part.split("=") for part in encoded.split("$")[3].split(","))
    assert int(params["m"]) >= 19456 and int(params["t"]) >= 2 and int(params["p"]) >= 1
    assert "a good password" not in encoded
    with demo_store.unit_of_work() as session, pytest.raises(UserError, match="OWASP"):
        users.set_hash_parameters(session, {"time_cost": 1, "memory_cost": 8192, "parallelism": 1})


def test_a_sign_in_rehashes_when_the_cost_has_risen(demo_store: Store) -> None:
    before = stored_hash(demo_store, "archive")
    assert "m=19456,t=2,p=1" in before  # the demo's cost: OWASP's floor
    with demo_store.unit_of_work(system_operator("测试")) as session:
        users.set_hash_parameters(session, {"time_cost": 3, "memory_cost": 32768, "parallelism": 2})
    sign_in(demo_store, "archive", DEMO_PASSWORD)
    after = stored_hash(demo_store, "archive")
    assert "m=32768,t=3,p=2" in after
    assert sign_in(demo_store, "archive", DEMO_PASSWORD).role == "archive"


def test_wrong_passwords_and_unknown_logins_get_the_same_sentence(demo_store: Store) -> None:
    for login, password in (("finance", "wrong password"), ("nobody", DEMO_PASSWORD), ("finance", "")):
        with pytest.raises(SignInFailed) as failed:
            sign_in(demo_store, login, password)
        assert failed.value.message == "用户名或密码不对，请重新输入。"


def test_from_the_fifth_failure_each_one_doubles_the_wait(demo_store: Store, clock: FixedClock) -> None:
    for _ in range(4):
        with pytest.raises(SignInFailed, match="请重新输入"):
            sign_in(demo_store, "finance", "guess")
    with pytest.raises(SignInFailed, match="已连续输错 5 次，请 30 秒后再试"):
        sign_in(demo_store, "finance", "guess")
    # Even the right password waits its turn.
    with pytest.raises(SignInFailed, match="请 30 秒后再试"):
        sign_in(demo_store, "finance", DEMO_PASSWORD)
    clock.advance(timedelta(seconds=31))
    with pytest.raises(SignInFailed, match="已连续输错 6 次，请 60 秒后再试"):
        sign_in(demo_store, "finance", "guess")
    clock.advance(timedelta(seconds=61))
    assert sign_in(demo_store, "finance", DEMO_PASSWORD).login == "finance"
    # A good sign-in starts the count again.
    with pytest.raises(SignInFailed, match="请重新输入"):
        sign_in(demo_store, "finance", "guess")


def test_the_wait_stops_growing_at_fifteen_minutes(demo_store: Store, clock: FixedClock) -> None:
    message = ""
    for _ in range(12):
        with pytest.raises(SignInFailed) as failed:
            sign_in(demo_store, "safety", "guess")
        message = failed.value.message
        clock.advance(timedelta(minutes=16))
    assert message.endswith("请 15 分钟后再试。")


def test_the_first_account_is_the_manager_and_only_once(
    demo_paths: StationPaths, clock: FixedClock, demo_recovery_code: str
) -> None:
    """The demo station minus its accounts: a station whose data key was made before any account, so its
    first manager is created with the recovery key (a new station's first manager makes the key: test_keys)."""
    with closing(sqlite3.connect(demo_paths.database)) as conn:
        conn.execute("DELETE FROM user_account")
        conn.execute("DELETE FROM key_slot WHERE holder != 'recovery'")
        conn.commit()
    store = Store.open(demo_paths, clock)
    try:
        with store.unit_of_work(system_operator("首次设置")) as session:
            assert not users.has_accounts(session)
            with pytest.raises(UserError, match="输入恢复密钥"):
                users.create_first_manager(session, "boss", "周站长", "first password")
            with pytest.raises(UserError, match="恢复密钥不对"):
                users.create_first_manager(session, "boss", "周站长", "first password", "A" * 32)
        with store.unit_of_work(system_operator("首次设置")) as session:
            made = users.create_first_manager(session, "boss", "周站长", "first password", demo_recovery_code)
        assert made.recovery_code == ""  # nothing new to print: the station's key is the one already on paper
        assert sign_in(store, "boss", "first password").role == "station_manager"
        with store.read() as session:
            assert keys.open_with_password(session, "boss", "first password").data_key == made.keys.data_key
        with (
            store.unit_of_work(system_operator("首次设置")) as session,
            pytest.raises(UserError, match="已有账户"),
        ):
            users.create_first_manager(session, "boss2", "吴站长", "first password")
    finally:
        store.close()


@pytest.mark.parametrize(
    ("login", "name", "role", "password", "says"),
    [
        ("", "新人", "finance", "long enough", "登录名不能为空"),
        ("a b", "新人", "finance", "long enough", "不能含空格"),
        ("newbie", " ", "finance", "long enough", "姓名"),
        ("newbie", "新人", "cashier", "long enough", "没有“cashier”这个岗位"),
        ("newbie", "新人", "system", "long enough", "没有“system”这个岗位"),
        ("newbie", "新人", "finance", "short", "至少 8 个字符"),
        ("newbie123", "新人", "finance", "NEWBIE123", "不能与登录名相同"),
        ("finance", "新人", "finance", "long enough", "已被使用"),
    ],
)
def test_bad_new_accounts_are_refused(demo_store: Store, login, name, role, password, says) -> None:
    demo_store.operator = MANAGER
    with demo_store.unit_of_work() as session, pytest.raises(UserError, match=says):
        users.add_user(session, login, name, role, password)
    with demo_store.read() as session:
        assert len(users.list_accounts(session)) == len(users.DEMO_ACCOUNTS)


def test_only_the_manager_adds_accounts(demo_store: Store) -> None:
    demo_store.operator = sign_in(demo_store, "frontdesk", DEMO_PASSWORD)
    with demo_store.unit_of_work() as session, pytest.raises(PermissionDenied, match="请由站长登录办理"):
        users.add_user(session, "newbie", "新人", "finance", "long enough")


def test_the_last_manager_cannot_be_demoted_or_disabled(demo_store: Store) -> None:
    demo_store.operator = MANAGER
    with demo_store.unit_of_work() as session, pytest.raises(UserError, match="唯一的站长"):
        users.set_role(session, "manager", "finance")
    with demo_store.unit_of_work() as session, pytest.raises(UserError, match="唯一的站长"):
        users.set_disabled(session, "manager", True)
    with demo_store.unit_of_work() as session:
        users.set_role(session, "archive", "station_manager")
    with demo_store.unit_of_work() as session:
        users.set_disabled(session, "manager", True)
    with pytest.raises(SignInFailed, match="用户名或密码不对"):
        sign_in(demo_store, "manager", DEMO_PASSWORD)


def test_passwords_change_with_the_old_one_or_are_reset_by_the_manager(demo_store: Store) -> None:
    with demo_store.unit_of_work() as session, pytest.raises(UserError, match="原密码不对"):
        users.change_password(session, "finance", "not it", "a new password")
    with demo_store.unit_of_work() as session:
        users.change_password(session, "finance", DEMO_PASSWORD, "a new password")
    assert sign_in(demo_store, "finance", "a new password").login == "finance"
    demo_store.operator = MANAGER
    with demo_store.unit_of_work() as session:
        users.reset_password(session, "finance", "reset by boss")
    assert sign_in(demo_store, "finance", "reset by boss").login == "finance"
