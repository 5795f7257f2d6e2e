"""The station's data key and its slots (issue 6, PIPL §2): one slot per account and one for the printed
recovery key; a forgotten password, a reset, a new colleague or an upgraded station loses no data."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy import func, select, text

from yuexiu_desk.clock import FixedClock
from yuexiu_desk.domain.access import system_operator
from yuexiu_desk.domain.households import SpecialGroup
from yuexiu_desk.errors import UserError
from yuexiu_desk.paths import StationPaths
from yuexiu_desk.services import backups, keys, people, users
from yuexiu_desk.services.households import households_with_id_number
from yuexiu_desk.services.members import member_history
from yuexiu_desk.services.users import DEMO_ACCOUNTS, DEMO_PASSWORD, sign_in
from yuexiu_desk.storage import migrate
from yuexiu_desk.storage.db import Store, make_engine
from yuexiu_desk.storage.fieldcrypt import FieldKeys, KeyUnavailable
from yuexiu_desk.storage.models import HouseholdMember, KeySlot, UnsealedValue
from yuexiu_desk.storage.repair_models import Complaint


def first_member(store: Store) -> tuple[str, str]:
    """(masked ID number, full ID number) of the first member, read with whatever key the store holds."""
    with store.read() as session:
        member = session.scalars(select(HouseholdMember).order_by(HouseholdMember.id).limit(1)).one()
        return people.masked_id_number(member), people.unsealed(member).id_number


def signed_in(store: Store, login: str, password: str) -> Store:
    store.forget_keys()
    store.operator = sign_in(store, login, password)
    return store


def test_every_demo_account_and_the_recovery_key_hold_the_same_data_key(demo_store: Store) -> None:
    with demo_store.read() as session:
        holders = set(session.scalars(select(KeySlot.holder)))
        opened = [keys.open_with_password(session, login, DEMO_PASSWORD) for login, _n, _r in DEMO_ACCOUNTS]
    assert holders == {keys.RECOVERY_HOLDER} | {keys.account_holder(login) for login, _n, _r in DEMO_ACCOUNTS}
    assert all(isinstance(k, FieldKeys) for k in opened)
    assert len({k.data_key for k in opened if isinstance(k, FieldKeys)}) == 1


def test_each_role_reads_personal_data_after_signing_in(demo_store: Store) -> None:
    masked, number = first_member(demo_store)
    for login, _name, _role in DEMO_ACCOUNTS:
        assert first_member(signed_in(demo_store, login, DEMO_PASSWORD)) == (masked, number)
    assert "*" in masked and masked != number


def test_without_a_sign_in_personal_data_is_refused_with_a_sentence(demo_store: Store) -> None:
    demo_store.forget_keys()
    with pytest.raises(KeyUnavailable, match="请先登录"):
        first_member(demo_store)


def test_a_new_colleague_and_a_reset_password_open_the_same_data(demo_store: Store) -> None:
    _masked, number = first_member(demo_store)
    signed_in(demo_store, "manager", DEMO_PASSWORD)
    with demo_store.unit_of_work() as session:
        users.add_user(session, "zhao", "赵房管", "house_manager", "zhao's first pw")
        users.reset_password(session, "frontdesk", "a brand new pw")
    assert first_member(signed_in(demo_store, "zhao", "zhao's first pw"))[1] == number
    assert first_member(signed_in(demo_store, "frontdesk", "a brand new pw"))[1] == number
    with demo_store.unit_of_work() as session:
        users.change_password(session, "frontdesk", "a brand new pw", "my own pw 2026")
    assert first_member(signed_in(demo_store, "frontdesk", "my own pw 2026"))[1] == number


def test_the_recovery_key_opens_the_data_when_every_manager_forgot(
    demo_paths: StationPaths, clock: FixedClock
) -> None:
    store = Store.open(demo_paths, clock)
    try:
        with store.unit_of_work(system_operator("测试")) as session:
            # A new station's recovery slot: its code is what was printed at setup.
            session.execute(text("DELETE FROM key_slot"))
        assert not _has_key(store)
        with store.unit_of_work(system_operator("测试")) as session:
            made = keys.create_data_key(session)
            keys.wrap_for_account(session, made.keys, "manager", DEMO_PASSWORD)
        code = made.recovery_code
        with store.read() as session:
            with pytest.raises(UserError, match="恢复密钥不对"):
                users.check_recovery_code(session, _other_code(code))
            with pytest.raises(UserError, match="8 组"):
                users.check_recovery_code(session, code[:-5])
            # Copied from paper: lower case, spaces for dashes, a 0 for an O: still accepted.
            sloppy = code.lower().replace("-", " ").replace("o", "0")
            assert keys.open_with_recovery_code(session, sloppy).data_key == made.keys.data_key
        with store.unit_of_work(system_operator("找回")) as session:
            users.recover_with_key(session, code, "manager", "recovered pw 1")
        store.forget_keys()
        store.operator = sign_in(store, "manager", "recovered pw 1")
        with store.read() as session:
            found = keys.session_keys(session)
        assert found.data_key == made.keys.data_key
    finally:
        store.close()


def _has_key(store: Store) -> bool:
    with store.read() as session:
        return keys.has_data_key(session)


def _other_code(code: str) -> str:
    first = code[0]
    return ("B" if first != "B" else "C") + code[1:]


# ---- a station upgraded from before encryption ----------------------------------------------------------

OLD_ID = "420102198503179974"
OLD_PHONE = "13912340077"
OLD_CALLER = "13598760011"
ROW = "0123456789abcdef0123456789abcd{:02d}"


def _old_station(folder: Path) -> StationPaths:
    """A station file at revision 0011 (the last before encryption): plain ID numbers, phones, incomes and flags, two accounts."""
    folder.mkdir()
    paths = StationPaths(folder)
    engine = make_engine(paths.database)
    hashed = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1).hash("old station pw")
    with engine.begin() as conn:
        migrate.upgrade(conn, "0011")
        for statement, values in (
            (
                "INSERT INTO station VALUES (:s, 'OLD01', '旧站', '悦秀苑', '', 0, '2025-01-01 00:00:00')",
                {"s": ROW.format(0)},
            ),
            (
                "INSERT INTO household VALUES (:h, 'standard', '', 0, '2025-01-01 00:00:00', '2025-01-01 00:00:00')",
                {"h": ROW.format(1)},
            ),
            (
                "INSERT INTO household_member VALUES (:m, :h, 0, '测试老户', '本人', 1, '男', '1985-03-17',"
                " 'resident_id', :id, :phone, '', 3600000, 1, 0, 1, '2025-01-01', NULL)",
                {"m": ROW.format(2), "h": ROW.format(1), "id": OLD_ID, "phone": OLD_PHONE},
            ),
            (
                "INSERT INTO member_change VALUES (:c, :h, :m, 'income', '3000000', '3600000', '2025-06-01',"
                " '年审', 'x', '2025-06-01 00:00:00')",
                {"c": ROW.format(3), "h": ROW.format(1), "m": ROW.format(2)},
            ),
            (
                "INSERT INTO complaint (id, number, channel, category, content, complainant_name,"
                " complainant_phone, unit_id, handler, status, received_at, due_at, reply, public_result,"
                " visit_comment, operator, updated_at) VALUES (:c, 'TS-2025-0001', 'phone', 'noise', '楼上吵',"
                " '钱先生', :p, NULL, '', 'received', '2025-06-01 00:00:00', '2025-06-08 00:00:00', '', '', '',"
                " 'x', '2025-06-01 00:00:00')",
                {"c": ROW.format(4), "p": OLD_CALLER},
            ),
        ):
            conn.execute(text(statement), values)
        for n, (login, role) in enumerate((("boss", "station_manager"), ("desk", "house_manager"))):
            conn.execute(
                text(
                    "INSERT INTO user_account VALUES (:i, :l, :l, :r, :h, 0, NULL, 0, '2025-01-01 00:00:00', NULL)"
                ),
                {"i": ROW.format(10 + n), "l": login, "r": role, "h": hashed},
            )
    engine.dispose()
    return paths


def _sealing(store: Store) -> tuple[bool, str]:
    """The doctor's 个人信息加密 line."""
    (check,) = [c for c in backups.doctor(store, min_free_bytes=0) if c.name == "个人信息加密"]
    return not check.failed, check.detail


def _raw_bytes(paths: StationPaths) -> bytes:
    return b"".join(p.read_bytes() for p in paths.root.glob("*.sqlite3*"))


def test_an_upgraded_station_is_sealed_at_its_managers_first_sign_in(
    tmp_path: Path, clock: FixedClock
) -> None:
    paths = _old_station(tmp_path / "station")
    store = Store.open(paths, clock)
    try:
        with closing(sqlite3.connect(paths.database)) as raw:
            columns = {row[1] for row in raw.execute("PRAGMA table_info(household_member)")}
        assert "id_number" not in columns and "phone" not in columns
        assert _sealing(store) == (
            False,
            "本站还没有个人信息密钥，9 项旧数据未加密：请站长登录一次，系统会生成密钥、加密旧数据并给出恢复密钥。",
        )
        # Before a manager signs in there is no key: a clerk is told what to do, nothing is shown.
        store.operator = sign_in(store, "desk", "old station pw")
        with store.read() as session, pytest.raises(KeyUnavailable, match="请站长登录一次"):
            people.masked_id_number(session.scalars(select(HouseholdMember)).one())
        assert store.new_recovery_code is None

        store.operator = sign_in(store, "boss", "old station pw")
        code = store.new_recovery_code
        assert code is not None and len(code.split("-")) == 8
        with store.read() as session:
            assert session.scalar(select(func.count()).select_from(UnsealedValue)) == 0
            member = session.scalars(select(HouseholdMember)).one()
            values = people.unsealed(member)
            assert (values.id_number, values.phone, values.income_fen) == (OLD_ID, OLD_PHONE, 3_600_000)
            assert values.groups == {SpecialGroup.ELDERLY_ALONE, SpecialGroup.MOBILITY_IMPAIRED}
            assert households_with_id_number(session, OLD_ID) == {member.household_id}
            complaint = session.scalars(select(Complaint)).one()
            assert people.complainant_contact(complaint) == ("钱先生", OLD_CALLER)
            (change,) = member_history(session, member.household_id)
            assert (change.old_value, change.new_value) == ("3000000", "3600000")
        with store.read() as session:
            assert keys.open_with_recovery_code(session, code).data_key == keys.session_keys(session).data_key
        # The clerk gets a slot when the manager resets their password (NO_SLOT said so, and the doctor).
        assert _sealing(store) == (False, "账户 desk 还没有个人信息密钥：请站长为其重设一次密码。")
        store.operator = sign_in(store, "desk", "old station pw")
        with store.read() as session, pytest.raises(KeyUnavailable, match="重设一次密码"):
            people.masked_id_number(session.scalars(select(HouseholdMember)).one())
        store.operator = sign_in(store, "boss", "old station pw")
        with store.unit_of_work() as session:
            users.reset_password(session, "desk", "desk new pw 1")
        assert _sealing(store) == (True, "已加密；2 个账户密钥槽和 1 个恢复密钥槽")
    finally:
        store.close()
    # The plain values are gone from the live file (secure_delete zeroes freed pages), only sealed remain.
    raw = _raw_bytes(paths)
    for secret in (OLD_ID, OLD_PHONE, OLD_CALLER):
        assert secret.encode() not in raw, secret


def test_readers_on_two_threads_right_after_sign_in_both_get_the_key(demo_store: Store) -> None:
    """The desk's thread and the op runner's may both reach the first personal value while the key is being
    opened (an Argon2id derivation): the second waits for it instead of being told nobody signed in."""
    import threading
    import time

    signed_in(demo_store, "frontdesk", DEMO_PASSWORD)
    with demo_store.read() as session:
        opened = keys.open_with_password(session, "frontdesk", DEMO_PASSWORD)

    def slow_opener() -> FieldKeys | str:
        time.sleep(0.3)
        return opened

    demo_store.unlock(slow_opener)
    results: list[object] = []

    def read() -> None:
        try:
            results.append(first_member(demo_store))
        except KeyUnavailable as exc:
            results.append(exc)

    threads = [threading.Thread(target=read) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 2 and all(isinstance(r, tuple) for r in results), results
