"""Accounts and signing in: the first station manager, adding users, roles, passwords (Argon2id), the growing
wait after repeated failures, and the demo station's documented logins.
"""

from __future__ import annotations

import contextlib
import json
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from yuexiu_desk.clock import Clock, SystemClock
from yuexiu_desk.domain.access import SYSTEM_ROLE, Operator, permission_table, role_label, system_operator
from yuexiu_desk.errors import UserError
from yuexiu_desk.services import audit
from yuexiu_desk.services.access import require
from yuexiu_desk.storage.models import UserAccount

if TYPE_CHECKING:
    from argon2 import PasswordHasher

    from yuexiu_desk.storage.db import Store
    from yuexiu_desk.storage.fieldcrypt import FieldKeys

MANAGER_ROLE = "station_manager"
MIN_PASSWORD_LENGTH = 8
# Failures before waits begin, the first wait, and its ceiling (each further failure doubles it).
FREE_FAILURES = 5
FIRST_WAIT = timedelta(seconds=30)
LONGEST_WAIT = timedelta(minutes=15)

# Argon2id cost. OWASP's minimum is m = 19 MiB, t = 2, p = 1; the default is RFC 9106's second recommended
# setting (64 MiB, t = 3, p = 4; ≈ 0.1 s here). A station on a slow PC may lower it, never below the floor.
HASH_SETTING = "password_hash_parameters"
FLOOR = {"time_cost": 2, "memory_cost": 19456, "parallelism": 1}
DEFAULT = {"time_cost": 3, "memory_cost": 65536, "parallelism": 4}

DEMO_PASSWORD = "yuexiu-demo"
# The demo station's accounts, one per role (README lists them); the manager's is prefilled at sign-in.
DEMO_ACCOUNTS = (
    ("manager", "王站长", MANAGER_ROLE),
    ("frontdesk", "李房管", "house_manager"),
    ("finance", "张会计", "finance"),
    ("archive", "陈档案", "archive"),
    ("safety", "刘安全", "safety_officer"),
)
DEMO_LOGIN = DEMO_ACCOUNTS[0][0]


@dataclass(frozen=True)
class FirstManager:
    """The new station's manager, signed in, with the data key made for the station and its recovery key
    (shown once and printed: services.keys)."""

    operator: Operator
    keys: FieldKeys
    recovery_code: str


class SignInFailed(UserError):
    """Wrong login or password, or a wait after repeated failures; the failure itself was recorded."""


@dataclass(frozen=True)
class AccountRow:
    login: str
    name: str
    role: str
    disabled: bool
    last_login_at: datetime | None

    @property
    def role_label(self) -> str:
        return role_label(self.role)


def hash_parameters(session: Session) -> dict[str, int]:
    stored = session.execute(text("SELECT value FROM setting WHERE key = :k"), {"k": HASH_SETTING}).scalar()
    if stored is None:
        return dict(DEFAULT)
    chosen = {name: int(value) for name, value in json.loads(stored).items() if name in DEFAULT}
    # Never below the floor, whatever the setting says.
    return {name: max(chosen.get(name, DEFAULT[name]), FLOOR[name]) for name in DEFAULT}


def set_hash_parameters(session: Session, parameters: dict[str, int]) -> None:
    """Change the cost of new hashes (existing ones are rehashed at their owner's next sign-in)."""
    low = [name for name, floor in FLOOR.items() if parameters.get(name, DEFAULT[name]) < floor]
    if low:
        raise UserError("密码哈希参数低于 OWASP 最低要求（内存 19 MiB、迭代 2 次、并行 1），请调高后再保存。")
    session.execute(
        text("INSERT INTO setting (key, value) VALUES (:k, :v) ON CONFLICT (key) DO UPDATE SET value = :v"),
        {"k": HASH_SETTING, "v": json.dumps(parameters)},
    )


IDLE_SETTING = "idle_lock_minutes"
DEFAULT_IDLE_MINUTES = 5


def idle_lock_minutes(session: Session) -> int:
    """Minutes without input before the desk locks ([U] 5 by default, a station setting)."""
    stored = session.execute(text("SELECT value FROM setting WHERE key = :k"), {"k": IDLE_SETTING}).scalar()
    return max(1, int(json.loads(stored))) if stored is not None else DEFAULT_IDLE_MINUTES


def _hasher(session: Session) -> PasswordHasher:
    from argon2 import PasswordHasher, Type

    cost = hash_parameters(session)
    return PasswordHasher(
        time_cost=cost["time_cost"],
        memory_cost=cost["memory_cost"],
        parallelism=cost["parallelism"],
        type=Type.ID,
    )


def has_accounts(session: Session) -> bool:
    return bool(session.scalar(select(func.count()).select_from(UserAccount)))


def list_accounts(session: Session) -> list[AccountRow]:
    rows = session.scalars(select(UserAccount).order_by(UserAccount.created_at, UserAccount.login))
    return [AccountRow(a.login, a.name, a.role, a.disabled, a.last_login_at) for a in rows]


def _check_new_account(session: Session, login: str, name: str, role: str, password: str) -> None:
    if not login or len(login) > 50 or any(ch.isspace() for ch in login):
        raise UserError("登录名不能为空、不能含空格，最长 50 个字符，请重新输入。")
    if not name.strip():
        raise UserError("请填写使用人的姓名。")
    if role == SYSTEM_ROLE or role not in permission_table().roles:
        known = "、".join(f"{code}（{label}）" for code, label in permission_table().roles.items())
        raise UserError(f"没有“{role}”这个岗位，可选：{known}。")
    check_password_rules(login, password)
    if session.scalar(select(UserAccount.id).where(UserAccount.login == login)) is not None:
        raise UserError(f"登录名“{login}”已被使用，请换一个。")


def check_password_rules(login: str, password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"密码至少 {MIN_PASSWORD_LENGTH} 个字符，请设一个更长的密码。")
    if password.casefold() == login.casefold():
        raise UserError("密码不能与登录名相同，请换一个密码。")


def _add(session: Session, login: str, name: str, role: str, password: str, clock: Clock) -> Operator:
    _check_new_account(session, login, name, role, password)
    session.add(
        UserAccount(
            login=login,
            name=name.strip(),
            role=role,
            password_hash=_hasher(session).hash(password),
            failed_logins=0,
            disabled=False,
            created_at=clock.now(),
        )
    )
    session.flush()
    _give_slot(session, login, password)
    return Operator(login, name.strip(), role)


def _give_slot(session: Session, login: str, password: str) -> None:
    """Wrap the station's data key for this account's (new) password, so signing in opens personal data.
    The session's own key is used (the manager's, or a builder's); without one nothing is saved."""
    from yuexiu_desk.services import keys

    if keys.has_data_key(session):
        keys.wrap_for_account(session, keys.session_keys(session), login, password)


NEEDS_RECOVERY_CODE = (
    "本站已有个人信息密钥（建站时打印了恢复密钥）：请在命令行运行 "
    "yuexiu-desk users add 登录名 --role station_manager，按提示输入恢复密钥来创建站长账户。"
)


def create_first_manager(
    session: Session, login: str, name: str, password: str, recovery_code: str | None = None
) -> FirstManager:
    """The station manager account of a new station, with the station's data key and its recovery key;
    refused once any account exists. A station whose key was made before any account (one built for the
    desk, such as the demo) is opened with its recovery key instead: recovery_code is then "" in the result."""
    from yuexiu_desk.services import keys

    if has_accounts(session):
        raise UserError("本站已有账户：新账户须由站长登录后添加。")
    _check_new_account(session, login, name, MANAGER_ROLE, password)
    if keys.has_data_key(session):
        if recovery_code is None:
            raise UserError(NEEDS_RECOVERY_CODE)
        data_keys, shown = keys.open_with_recovery_code(session, recovery_code), ""
        keys.give_keys(session, data_keys)
    else:
        new_key = keys.create_data_key(session)
        data_keys, shown = new_key.keys, new_key.recovery_code
    operator = _add(session, login, name, MANAGER_ROLE, password, _clock(session))
    audit.record(session, login, "user_add", login, {"role": MANAGER_ROLE, "first": True})
    return FirstManager(operator, data_keys, shown)


def add_user(session: Session, login: str, name: str, role: str, password: str) -> Operator:
    require(session, "users.manage")
    operator = _add(session, login, name, role, password, _clock(session))
    audit.record(session, "", "user_add", login, {"role": role})
    return operator


def set_role(session: Session, login: str, role: str) -> Operator:
    require(session, "users.manage")
    account = _account(session, login)
    if role == SYSTEM_ROLE or role not in permission_table().roles:
        raise UserError(f"没有“{role}”这个岗位，请从列表中选择。")
    if account.role == MANAGER_ROLE and role != MANAGER_ROLE and _active_managers(session) <= 1:
        raise UserError("这是本站唯一的站长账户，不能改为其他岗位：请先添加另一位站长。")
    audit.record(session, "", "role_change", login, {"from": account.role, "to": role})
    account.role = role
    return Operator(account.login, account.name, role)


def set_disabled(session: Session, login: str, disabled: bool) -> None:
    require(session, "users.manage")
    account = _account(session, login)
    if disabled and account.role == MANAGER_ROLE and _active_managers(session) <= 1:
        raise UserError("这是本站唯一的站长账户，不能停用：请先添加另一位站长。")
    account.disabled = disabled
    account.failed_logins = 0
    account.retry_after = None
    audit.record(session, "", "user_disable", login, {"disabled": disabled})


def change_password(session: Session, login: str, old_password: str, new_password: str) -> None:
    """The account holder changes their own password (knowing the old one)."""
    from argon2.exceptions import VerificationError

    account = _account(session, login)
    try:
        _hasher(session).verify(account.password_hash, old_password)
    except VerificationError:
        raise UserError("原密码不对，密码没有修改。") from None
    check_password_rules(login, new_password)
    account.password_hash = _hasher(session).hash(new_password)
    _give_slot(session, login, new_password)
    audit.record(session, login, "password_reset", login, {"by": "self"})


def reset_password(session: Session, login: str, new_password: str) -> None:
    """The manager sets a new password for someone who forgot theirs."""
    require(session, "users.manage")
    account = _account(session, login)
    check_password_rules(login, new_password)
    account.password_hash = _hasher(session).hash(new_password)
    account.failed_logins = 0
    account.retry_after = None
    _give_slot(session, login, new_password)
    audit.record(session, "", "password_reset", login, {"by": "manager"})


def check_recovery_code(session: Session, code: str) -> None:
    """Refuse a wrong recovery key before anything else is asked for."""
    from yuexiu_desk.services import keys

    keys.open_with_recovery_code(session, code)


def recover_with_key(session: Session, code: str, login: str, new_password: str) -> None:
    """Every manager forgot their password: the printed recovery key opens the data and gives this account a
    new password (and its key slot). Nothing is lost; the audit log records it."""
    from yuexiu_desk.services import keys

    data_keys = keys.open_with_recovery_code(session, code)
    account = _account(session, login)
    check_password_rules(login, new_password)
    account.password_hash = _hasher(session).hash(new_password)
    account.failed_logins = 0
    account.retry_after = None
    keys.wrap_for_account(session, data_keys, login, new_password)
    audit.record(session, "", "password_reset", login, {"by": "recovery_key"})


def attempt_sign_in(session: Session, login: str, password: str, *, record: bool = True) -> Operator | str:
    """The operator, or the sentence saying why not. Failures are written to the session (the caller commits
    them even then: see sign_in), so a wrong password counts whatever the caller does next. record=False checks
    only (a read-only database: nothing can be written, not even the audit entry)."""
    from argon2.exceptions import InvalidHashError, VerificationError

    now = _clock(session).now()
    account = session.scalar(select(UserAccount).where(UserAccount.login == login.strip()))
    hasher = _hasher(session)
    if account is None or account.disabled:
        # Spend the same time as a real check, so timing does not tell which logins exist.
        _dummy_verify(hasher, password)
        if record:
            audit.record(session, login, "login_failed", login[:50], {"known": account is not None})
        return "用户名或密码不对，请重新输入。"
    if account.retry_after is not None and account.retry_after > now:
        seconds = math.ceil((account.retry_after - now).total_seconds())
        return f"密码已连续输错 {account.failed_logins} 次，请 {_wait_text(seconds)}后再试。"
    try:
        hasher.verify(account.password_hash, password)
    except (VerificationError, InvalidHashError):
        account.failed_logins += 1
        if record:
            audit.record(session, login, "login_failed", account.login, {"failures": account.failed_logins})
        if account.failed_logins >= FREE_FAILURES:
            wait = min(FIRST_WAIT * 2 ** (account.failed_logins - FREE_FAILURES), LONGEST_WAIT)
            account.retry_after = now + wait
            return (
                f"用户名或密码不对。已连续输错 {account.failed_logins} 次，"
                f"请 {_wait_text(int(wait.total_seconds()))}后再试。"
            )
        return "用户名或密码不对，请重新输入。"
    if hasher.check_needs_rehash(account.password_hash):
        account.password_hash = hasher.hash(password)
    account.failed_logins = 0
    account.retry_after = None
    account.last_login_at = now
    if record:
        audit.record(session, login, "login", account.login, {"role": account.role})
    return Operator(account.login, account.name, account.role)


def sign_in(store: Store, login: str, password: str) -> Operator:
    """Check a login on the store and return the operator; raise SignInFailed (after recording the failure)."""
    if store.read_only_reason is not None:
        # A damaged database opened read-only: check the password, write nothing (the session never commits).
        with store.read() as session:
            outcome = attempt_sign_in(session, login, password, record=False)
    else:
        # The attempt is recorded under the login typed (there is no operator until it succeeds).
        with store.unit_of_work(operator=system_operator(login.strip()[:50] or "登录")) as session:
            outcome = attempt_sign_in(session, login, password)
    if isinstance(outcome, str):
        raise SignInFailed(outcome)
    _unlock(store, outcome, password)
    return outcome


def _unlock(store: Store, operator: Operator, password: str) -> None:
    """Give the store the signed-in account's data key: opened at the first personal value (Argon2id and the
    cipher cost time the desk's start should not pay), or made now for an upgraded station's manager."""
    from yuexiu_desk.services import keys

    def opener() -> FieldKeys | str:
        with store.read() as session:
            return keys.open_with_password(session, operator.login, password)

    store.unlock(opener)
    if operator.role != MANAGER_ROLE or store.read_only_reason is not None:
        return
    with store.read() as session:
        if keys.has_data_key(session):
            return
    # A station from before encryption: its first manager sign-in makes the key, wraps it for this
    # manager, prints a recovery key and seals the values migration 0012 set aside.
    with store.unit_of_work(operator) as session:
        new_key = keys.create_data_key(session)
        keys.wrap_for_account(session, new_key.keys, operator.login, password)
        keys.seal_waiting_values(session, new_key.keys)
    store.set_keys(new_key.keys)
    store.new_recovery_code = new_key.recovery_code
    store.checkpoint()


def install_demo_accounts(session: Session) -> None:
    """One account per role on the demo station, all with DEMO_PASSWORD (documented in the README)."""
    # The cheapest allowed cost: the demo is rebuilt by every test run; real stations keep the default.
    set_hash_parameters(session, FLOOR)
    clock = _clock(session)
    # The builder made the data key (services.station); each account gets its slot in _add.
    for login, name, role in DEMO_ACCOUNTS:
        _add(session, login, name, role, DEMO_PASSWORD, clock)


def _account(session: Session, login: str) -> UserAccount:
    account = session.scalar(select(UserAccount).where(UserAccount.login == login))
    if account is None:
        raise UserError(f"没有登录名为“{login}”的账户，请检查拼写。")
    return account


def _active_managers(session: Session) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(UserAccount)
            .where(UserAccount.role == MANAGER_ROLE, UserAccount.disabled.is_(False))
        )
        or 0
    )


def _wait_text(seconds: int) -> str:
    return f"{seconds} 秒" if seconds < 120 else f"{math.ceil(seconds / 60)} 分钟"


_DUMMY_HASHES: dict[tuple[int, int, int], str] = {}


def _dummy_verify(hasher: PasswordHasher, password: str) -> None:
    from argon2.exceptions import VerificationError

    key = (hasher.time_cost, hasher.memory_cost, hasher.parallelism)
    if key not in _DUMMY_HASHES:
        _DUMMY_HASHES[key] = hasher.hash("not a password of anyone")
    with contextlib.suppress(VerificationError):
        hasher.verify(_DUMMY_HASHES[key], password)


def _clock(session: Session) -> Clock:
    clock: Any = session.info.get("clock")
    return clock if clock is not None else SystemClock()
