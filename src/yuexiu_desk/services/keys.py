"""The station's data key and its slots: created with the first account, wrapped once per account (a key derived
from the password with Argon2id) and once under the recovery key printed at setup, opened at sign-in.

A forgotten password loses no data: the manager resets it (the manager's session holds the data key and wraps
it for the new password), or, with no manager able to sign in, the recovery key opens the data and sets a new
password. A station upgraded from before encryption gets its key at the first manager sign-in, which also
seals the values migration 0012 set aside.
"""

from __future__ import annotations

import base64
import json
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from yuexiu_desk.errors import UserError
from yuexiu_desk.storage.db import KEYS_KEY as SESSION_KEYS
from yuexiu_desk.storage.fieldcrypt import FieldKeys, KeyUnavailable, derive, new_data_key, unwrap, wrap
from yuexiu_desk.storage.models import KeySlot, UnsealedValue

RECOVERY_HOLDER = "recovery"
SALT_BYTES = 16
RECOVERY_BYTES = 20  # 160 bits: 32 base32 characters, printed in groups of four

NO_SIGN_IN = "个人信息加密保存，请先登录再查看或录入。"
NO_STATION_KEY = "本站的个人信息还没有加密密钥：请站长登录一次，系统会生成密钥并给出恢复密钥。"
NO_SLOT = "您的账户还没有个人信息密钥：请站长在“账户管理”中为您重设一次密码，然后重新登录。"


def account_holder(login: str) -> str:
    return f"account:{login}"


@dataclass(frozen=True)
class NewKey:
    keys: FieldKeys
    recovery_code: str


def has_data_key(session: Session) -> bool:
    return bool(session.scalar(select(func.count()).select_from(KeySlot)))


def session_keys(session: Session) -> FieldKeys:
    """The data key this session may use, or KeyUnavailable saying what to do."""
    getter: Callable[[], FieldKeys | str | None] | None = session.info.get(SESSION_KEYS)
    found = getter() if getter is not None else None
    if isinstance(found, FieldKeys):
        return found
    raise KeyUnavailable(found or NO_SIGN_IN)


def give_keys(session: Session, keys: FieldKeys) -> None:
    """Let this session's services use keys (a builder or an import that holds the key itself)."""
    session.info[SESSION_KEYS] = lambda: keys


def create_data_key(session: Session) -> NewKey:
    """The station's data key, new, with its recovery slot; refused when the station has one."""
    if has_data_key(session):
        raise UserError("本站已经有个人信息密钥，不能再生成一个。")
    data_key = new_data_key()
    code_bytes = os.urandom(RECOVERY_BYTES)
    salt = os.urandom(SALT_BYTES)
    session.add(
        KeySlot(
            holder=RECOVERY_HOLDER,
            kdf="hkdf",
            salt=salt,
            parameters="{}",
            wrapped_key=wrap(_recovery_kek(code_bytes, salt), data_key, RECOVERY_HOLDER),
            created_at=session.info["clock"].now(),
        )
    )
    session.flush()
    keys = FieldKeys(data_key)
    give_keys(session, keys)
    return NewKey(keys, format_recovery_code(code_bytes))


def wrap_for_account(session: Session, keys: FieldKeys, login: str, password: str) -> None:
    """Give an account its slot (a new account, or a new password): the data key under its password."""
    from yuexiu_desk.services.users import hash_parameters

    cost = hash_parameters(session)
    salt = os.urandom(SALT_BYTES)
    holder = account_holder(login)
    slot = session.get(KeySlot, holder)
    if slot is None:
        slot = KeySlot(holder=holder, created_at=session.info["clock"].now())
        session.add(slot)
    slot.kdf = "argon2id"
    slot.salt = salt
    slot.parameters = json.dumps(cost, sort_keys=True)
    slot.wrapped_key = wrap(_password_kek(password, salt, cost), keys.data_key, holder)
    session.flush()


def open_with_password(session: Session, login: str, password: str) -> FieldKeys | str:
    """The data key from an account's slot, or the sentence saying why it cannot be had."""
    slot = session.get(KeySlot, account_holder(login))
    if slot is None:
        return NO_SLOT if has_data_key(session) else NO_STATION_KEY
    cost = {name: int(value) for name, value in json.loads(slot.parameters).items()}
    data_key = unwrap(_password_kek(password, slot.salt, cost), slot.wrapped_key, slot.holder)
    if data_key is None:
        # The password was checked against its hash first, so this slot was written for another password.
        return NO_SLOT
    return FieldKeys(data_key)


def open_with_recovery_code(session: Session, code: str) -> FieldKeys:
    slot = session.get(KeySlot, RECOVERY_HOLDER)
    if slot is None:
        raise UserError(NO_STATION_KEY)
    code_bytes = parse_recovery_code(code)
    data_key = unwrap(_recovery_kek(code_bytes, slot.salt), slot.wrapped_key, RECOVERY_HOLDER)
    if data_key is None:
        raise UserError("恢复密钥不对：请对照打印的恢复密钥单逐组核对（共 8 组，每组 4 个字符）。")
    return FieldKeys(data_key)


def seal_waiting_values(session: Session, keys: FieldKeys) -> int:
    """Seal the plain values an upgraded station set aside (migration 0012), then delete them; their count."""
    from yuexiu_desk.services import people

    waiting = list(session.scalars(select(UnsealedValue)))
    if not waiting:
        return 0
    give_keys(session, keys)
    by_row: dict[tuple[str, uuid.UUID], dict[str, str]] = {}
    for value in waiting:
        by_row.setdefault((value.table_name, value.row_id), {})[value.column_name] = value.value
    for (table, row_id), values in by_row.items():
        people.seal_waiting(session, table, row_id, values)
    session.execute(delete(UnsealedValue))
    session.flush()
    return len(waiting)


def key_health(session: Session) -> tuple[bool, str]:
    """For the doctor: is every personal value sealed, is there a recovery slot, does every active account
    have its slot? And a sentence saying so, or what to do."""
    from yuexiu_desk.storage.models import HouseholdMember, UserAccount

    waiting = session.scalar(select(func.count()).select_from(UnsealedValue)) or 0
    holders = set(session.scalars(select(KeySlot.holder)))
    if not holders:
        if waiting:
            return False, (
                f"本站还没有个人信息密钥，{waiting} 项旧数据未加密：请站长登录一次，"
                "系统会生成密钥、加密旧数据并给出恢复密钥。"
            )
        if session.scalar(select(func.count()).select_from(HouseholdMember)):
            return False, NO_STATION_KEY
        return True, "尚无个人信息；第一个站长账户创建时生成密钥"
    if waiting:
        return False, f"还有 {waiting} 项旧数据未加密：请站长登录一次，系统会自动加密。"
    if RECOVERY_HOLDER not in holders:
        return False, "缺少恢复密钥槽：全部站长忘记密码时将无法打开个人信息，请联系技术支持。"
    logins = session.scalars(select(UserAccount.login).where(UserAccount.disabled.is_(False)))
    without = sorted(login for login in logins if account_holder(login) not in holders)
    if without:
        return False, f"账户 {'、'.join(without)} 还没有个人信息密钥：请站长为其重设一次密码。"
    return True, f"已加密；{len(holders) - 1} 个账户密钥槽和 1 个恢复密钥槽"


def format_recovery_code(code_bytes: bytes) -> str:
    text = base64.b32encode(code_bytes).decode()
    return "-".join(text[i : i + 4] for i in range(0, len(text), 4))


def parse_recovery_code(code: str) -> bytes:
    # Forgive what a person copying from paper does: lower case, spaces, missing dashes, 0/1/8 for O/I/B.
    cleaned = code.upper().replace("-", "").replace(" ", "").translate(str.maketrans("018", "OIB"))
    if len(cleaned) != RECOVERY_BYTES * 8 // 5:
        raise UserError("恢复密钥应为 8 组、每组 4 个字符（共 32 个字符），请对照恢复密钥单重新输入。")
    try:
        return base64.b32decode(cleaned)
    except ValueError:
        raise UserError("恢复密钥里有不该出现的字符，请对照恢复密钥单重新输入。") from None


def _password_kek(password: str, salt: bytes, cost: dict[str, int]) -> bytes:
    from argon2.low_level import Type, hash_secret_raw

    return hash_secret_raw(
        password.encode(),
        salt,
        time_cost=cost["time_cost"],
        memory_cost=cost["memory_cost"],
        parallelism=cost["parallelism"],
        hash_len=32,
        type=Type.ID,
    )


def _recovery_kek(code_bytes: bytes, salt: bytes) -> bytes:
    # 160 random bits need no slow derivation; the salt keeps two stations' slots unrelated.
    return derive(code_bytes + salt, "yuexiu-desk recovery slot v1")
