"""The audit log: entries chained by hash in the caller's transaction, refused edits, and a verify that
names the first bad entry after any of 1,000 random tamperings (edit, delete, swap, reorder, truncate,
forged appends, a changed head)."""

from __future__ import annotations

import json
import random
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import closing
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from yuexiu_desk.clock import FixedClock
from yuexiu_desk.domain.access import system_operator
from yuexiu_desk.domain.billing import Channel, Period
from yuexiu_desk.paths import StationPaths
from yuexiu_desk.services import audit, backups, billing, funds, people, reconcile
from yuexiu_desk.services.money_export import export_rent_ledger
from yuexiu_desk.services.station import write_demo_statement
from yuexiu_desk.storage.billing_models import Bill
from yuexiu_desk.storage.db import Store
from yuexiu_desk.storage.models import HouseholdMember, Lease, Unit

CHAIN = 300
TAMPERINGS = 1000
CONTENT = ("at", "operator", "action", "subject", "detail", "prev_hash", "hash")


def entries(database: Path) -> list[tuple[object, ...]]:
    with closing(sqlite3.connect(database)) as conn:
        return conn.execute(
            "SELECT seq, at, operator, action, subject, detail, prev_hash, hash FROM audit_entry ORDER BY seq"
        ).fetchall()


def verified(store: Store) -> audit.VerifyResult:
    with store.read() as session:
        return audit.verify(session)


def test_the_chain_grows_in_the_callers_transaction_and_verifies(demo_store: Store) -> None:
    before = verified(demo_store)
    assert before.ok and before.count > 0 and before.head_seq == before.count  # the demo's payments, closes
    with demo_store.unit_of_work(system_operator("张会计")) as session:
        first = audit.record(session, "张会计", "export", "租金台账-2026年10月.xlsx", {"kind": "rent_ledger"})
        second = audit.record(session, "张会计", "login")
    assert (first, second) == (before.count + 1, before.count + 2)
    with (
        pytest.raises(RuntimeError, match="rolled back"),
        demo_store.unit_of_work(system_operator("张会计")) as session,
    ):
        audit.record(session, "张会计", "login_failed")
        raise RuntimeError("rolled back")
    after = verified(demo_store)
    assert after.ok and after.count == before.count + 2 and after.head_seq == second
    rows = entries(demo_store.paths.database)
    assert rows[-1][6] == rows[-2][7] and rows[-2][6] == rows[-3][7]  # each holds the hash of the one before
    assert rows[-2][2:6] == ("张会计", "export", "租金台账-2026年10月.xlsx", '{"kind":"rent_ledger"}')
    assert rows[-1][1] == "2026-11-20T02:00:00.000000+00:00"  # the store's clock, UTC
    with demo_store.read() as session:
        newest = audit.latest(session, 2)
    assert [e.seq for e in newest] == [second, first] and newest[1].detail == {"kind": "rent_ledger"}


def test_concurrent_appends_queue_and_the_chain_stays_whole(demo_store: Store) -> None:
    """Each unit of work takes the write lock at BEGIN, so the last entry it reads is still the last one."""
    start = verified(demo_store).count
    failures: list[BaseException] = []

    def clerk(name: str) -> None:
        try:
            for _ in range(25):
                with demo_store.unit_of_work(system_operator(name)) as session:
                    audit.record(session, name, "login")
        except BaseException as exc:  # reported below: an exception in a thread would only be a warning
            failures.append(exc)

    threads = [threading.Thread(target=clerk, args=(name,)) for name in ("张会计", "李站长", "王管理员")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    result = verified(demo_store)
    assert result.ok and result.count == start + 75


def test_a_read_session_cannot_record(demo_store: Store) -> None:
    with demo_store.read() as session, pytest.raises(RuntimeError, match="unit of work"):
        audit.record(session, "张会计", "login")


def test_the_database_refuses_to_change_or_delete_an_entry(demo_paths: StationPaths) -> None:
    with closing(sqlite3.connect(demo_paths.database)) as conn:
        with pytest.raises(sqlite3.DatabaseError, match="never changed"):
            conn.execute("UPDATE audit_entry SET operator = 'someone' WHERE seq = 1")
        with pytest.raises(sqlite3.DatabaseError, match="never deleted"):
            conn.execute("DELETE FROM audit_entry WHERE seq = (SELECT max(seq) FROM audit_entry)")
        with pytest.raises(sqlite3.DatabaseError, match="never deleted"):
            conn.execute("DELETE FROM audit_entry")
    assert verified_file(demo_paths.database).ok


def verified_file(database: Path) -> audit.VerifyResult:
    with closing(sqlite3.connect(database)) as conn:
        return audit.verify(conn)


def test_money_reveals_and_exports_are_recorded(demo_store: Store, tmp_path: Path) -> None:
    start = verified(demo_store).count
    with demo_store.read() as session:
        member, unit_code = session.execute(
            select(HouseholdMember, Unit.code)
            .join(Lease, Lease.household_id == HouseholdMember.household_id)
            .join(Unit, Unit.id == Lease.unit_id)
            .where(Lease.status == "active", HouseholdMember.is_leaseholder.is_(True))
            .order_by(Unit.code)
            .limit(1)
        ).one()
    with demo_store.unit_of_work(system_operator("张会计")) as session:
        paid = billing.record_payment(
            session,
            billing.PaymentInput(unit_code, "100.00", Channel.CASH, paid_on=date(2026, 11, 19)),
            "张会计",
        )
        billing.void_payment(session, paid.receipt_no, "金额录错", "张会计")
    with demo_store.unit_of_work(system_operator("李站长")) as session:
        number = people.reveal_id_number(session, member.id, "办理备案核对证件", "李站长")
    with demo_store.unit_of_work(system_operator("张会计")) as session:
        export_rent_ledger(session, Period(2026, 10), tmp_path / "台账.xlsx")
    with demo_store.read() as session:
        added = list(reversed(audit.latest(session, 4)))
    assert [(e.operator, e.action, e.subject) for e in added] == [
        ("张会计", "payment", paid.receipt_no),
        ("张会计", "payment_void", paid.receipt_no),
        ("李站长", "reveal", str(member.id)),
        ("张会计", "export", "台账.xlsx"),
    ]
    assert added[0].detail["amount_fen"] == 10000 and added[0].detail["channel"] == "cash"
    assert added[2].detail == {"field": "id_number"}
    raw = "".join(str(row) for row in entries(demo_store.paths.database))
    assert number not in raw  # the revealed number itself never enters the log
    assert verified(demo_store).count == start + 4


def test_statement_import_month_close_reopen_and_bill_void_are_recorded(
    demo_store: Store, tmp_path: Path
) -> None:
    october = Period(2026, 10)
    with demo_store.read() as session:
        statement = write_demo_statement(session, tmp_path)
    with demo_store.unit_of_work(system_operator("张会计")) as session:
        reconcile.import_statement(session, statement, october, "张会计")
        reconcile.confirm_matches(session, october, None, "张会计")
    with demo_store.unit_of_work(system_operator("李站长")) as session:
        funds.close_month(session, october, "李站长")
    with demo_store.unit_of_work(system_operator("李站长")) as session:
        funds.reopen_month(session, october, "有一笔缴费需要更正", "李站长")
        bill = session.scalars(
            select(Bill).where(Bill.period == "2026-10").order_by(Bill.lease_no).limit(1)
        ).one()
        billing.void_bill(session, bill.id, "金额录错", "李站长")
    with demo_store.read() as session:
        added = [(e.operator, e.action, e.subject) for e in reversed(audit.latest(session, 4))]
        assert audit.verify(session).ok
    assert added == [
        ("张会计", "import", statement.name),
        ("李站长", "month_close", "2026-10"),
        ("李站长", "month_reopen", "2026-10"),
        ("李站长", "bill_void", str(bill.id)),
    ]


def test_backup_and_restore_are_recorded_and_the_restored_chain_verifies(
    demo_paths: StationPaths, clock: FixedClock
) -> None:
    store = Store.open(demo_paths, clock)
    try:
        saved = backups.make_backup(store, operator="李站长")
        store.operator = system_operator("测试")  # to read the log
        with store.read() as session:
            (entry,) = audit.latest(session, 1)
        assert (entry.operator, entry.action, entry.subject, entry.detail) == (
            "李站长",
            "backup",
            saved.name,
            {"kind": "manual", "files": 0},
        )
        with store.unit_of_work(system_operator("张会计")) as session:
            audit.record(session, "张会计", "login")
    finally:
        store.close()
    backups.restore(demo_paths, saved, clock, operator="李站长")
    store = Store.open(demo_paths, clock)
    store.operator = system_operator("测试")
    try:
        with store.read() as session:
            result = audit.verify(session)
            newest = audit.latest(session, 1)[0]
    finally:
        store.close()
    # The backup holds the chain as it was (without its own entry); the restore continues it.
    assert result.ok and (newest.seq, newest.action, newest.subject) == (entry.seq, "restore", saved.name)


def test_text_sqlite_cannot_hold_is_made_storable(demo_store: Store) -> None:
    with demo_store.unit_of_work(system_operator("张会计")) as session:
        audit.record(session, "张\x00会计", "export", "bad-\udcff-name.xlsx")
    with demo_store.read() as session:
        (entry,) = audit.latest(session, 1)
        assert audit.verify(session).ok
    assert (entry.operator, entry.subject) == ("张会计", "bad-?-name.xlsx")


def test_a_chain_from_another_station_does_not_verify(demo_paths: StationPaths) -> None:
    with closing(sqlite3.connect(demo_paths.database)) as conn:
        conn.execute("PRAGMA foreign_keys = OFF")
        conn.execute("UPDATE station SET id = '0123456789abcdef0123456789abcdef'")
        result = audit.verify(conn)
    assert (result.first_bad_seq, result.count) == (1, 0) and "起始值" in result.reason


# ---- 1,000 random tamperings ------------------------------------------------------------------------------


@pytest.fixture
def chain(demo_paths: StationPaths, clock: FixedClock) -> Iterator[sqlite3.Connection]:
    """A station whose audit log holds exactly CHAIN entries, opened as an attacker would: triggers dropped."""
    with closing(sqlite3.connect(demo_paths.database)) as conn:
        conn.execute("DROP TRIGGER audit_entry_no_update")
        conn.execute("DROP TRIGGER audit_entry_no_delete")
        conn.execute("DELETE FROM audit_entry")
        conn.execute("DELETE FROM setting WHERE key = ?", (audit.HEAD_KEY,))
        conn.commit()
    store = Store.open(demo_paths, clock)
    rng = random.Random(7)
    actions = list(audit.ACTION_LABELS)
    try:
        for batch in range(CHAIN // 50):
            with store.unit_of_work(system_operator("张会计")) as session:
                for n in range(50):
                    detail = {
                        "n": batch * 50 + n,
                        "amount_fen": rng.randrange(1, 10**6),
                        "note": '含中文\n"引号"',
                    }
                    audit.record(
                        session,
                        rng.choice(["张会计", "李站长", "system"]),
                        rng.choice(actions),
                        f"YXY01-{n}",
                        detail,
                    )
    finally:
        store.close()
    conn = sqlite3.connect(demo_paths.database, isolation_level=None)
    try:
        assert audit.verify(conn).ok and audit.verify(conn).count == CHAIN
        yield conn
    finally:
        conn.close()


def _row(conn: sqlite3.Connection, seq: int) -> list[object]:
    return list(
        conn.execute(f"SELECT {', '.join(CONTENT)} FROM audit_entry WHERE seq = ?", (seq,)).fetchone()
    )


def _put(conn: sqlite3.Connection, seq: int, values: list[object]) -> None:
    conn.execute(
        f"UPDATE audit_entry SET {', '.join(f'{c} = ?' for c in CONTENT)} WHERE seq = ?", (*values, seq)
    )


def _changed(rng: random.Random, value: object) -> object:
    """Another value: a character changed, added or removed, or another type (an attacker's edit)."""
    text = str(value)
    choice = rng.randrange(6)
    if choice == 0:
        return text + rng.choice("0aX 中")
    if choice == 1 and text:
        i = rng.randrange(len(text))
        return text[:i] + ("1" if text[i] != "1" else "2") + text[i + 1 :]
    if choice == 2 and text:
        return text[:-1]
    if choice == 3:
        return 12345
    if choice == 4:
        return text.encode()  # the same characters as a blob
    return text.upper() if text.upper() != text else text + "x"


def _edit(conn: sqlite3.Connection, rng: random.Random) -> int:
    seq = rng.randint(1, CHAIN)
    column = rng.randrange(len(CONTENT))
    values = _row(conn, seq)
    values[column] = _changed(rng, values[column])
    _put(conn, seq, values)
    return seq


def _renumber(conn: sqlite3.Connection, rng: random.Random) -> int:
    seq = rng.randint(1, CHAIN)
    conn.execute("UPDATE audit_entry SET seq = ? WHERE seq = ?", (CHAIN + rng.randint(1, 50), seq))
    return seq


def _delete(conn: sqlite3.Connection, rng: random.Random) -> int:
    seq = rng.randint(1, CHAIN)
    conn.execute("DELETE FROM audit_entry WHERE seq = ?", (seq,))
    return seq


def _swap(conn: sqlite3.Connection, rng: random.Random) -> int:
    first, second = sorted(rng.sample(range(1, CHAIN + 1), 2))
    a, b = _row(conn, first), _row(conn, second)
    _put(conn, first, b)
    _put(conn, second, a)
    return first


def _reorder(conn: sqlite3.Connection, rng: random.Random) -> int:
    start = rng.randint(1, CHAIN - 1)
    stop = rng.randint(start + 1, min(CHAIN, start + 10))
    seqs = list(range(start, stop + 1))
    contents = [_row(conn, s) for s in seqs]
    order = seqs[:]
    while order == seqs:
        rng.shuffle(order)
    for target, source in zip(seqs, order, strict=True):
        _put(conn, target, contents[source - start])
    return next(t for t, s in zip(seqs, order, strict=True) if t != s)


def _truncate(conn: sqlite3.Connection, rng: random.Random) -> int:
    seq = rng.randint(1, CHAIN)
    conn.execute("DELETE FROM audit_entry WHERE seq >= ?", (seq,))
    return seq


def _append(conn: sqlite3.Connection, rng: random.Random) -> int:
    """A forged entry after the last one, hashed correctly (the attacker knows the scheme), head left alone."""
    last = conn.execute("SELECT hash FROM audit_entry WHERE seq = ?", (CHAIN,)).fetchone()[0]
    at, operator, action, subject, detail = (
        "2026-11-20T03:00:00.000000+00:00",
        "system",
        "payment",
        "假的",
        "{}",
    )
    digest = audit.entry_hash(CHAIN + 1, at, operator, action, subject, detail, last)
    if rng.random() < 0.3:
        digest = "0" * 64
    conn.execute(
        "INSERT INTO audit_entry VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (CHAIN + 1, at, operator, action, subject, detail, last, digest),
    )
    return CHAIN + 1


def _head(conn: sqlite3.Connection, rng: random.Random) -> int:
    value = json.loads(
        conn.execute("SELECT value FROM setting WHERE key = ?", (audit.HEAD_KEY,)).fetchone()[0]
    )
    choice = rng.randrange(4)
    lowered = CHAIN - rng.randint(1, 5)
    if choice == 0:
        conn.execute("DELETE FROM setting WHERE key = ?", (audit.HEAD_KEY,))
    elif choice == 1:
        value["hash"] = _changed(rng, value["hash"])
    elif choice == 2:
        value["seq"] = lowered
    else:
        value = "{not json"
    if choice:
        conn.execute(
            "UPDATE setting SET value = ? WHERE key = ?",
            (value if isinstance(value, str) else json.dumps(value, default=str), audit.HEAD_KEY),
        )
    return lowered + 1 if choice == 2 else CHAIN  # entries beyond a lowered head; else the last one


TAMPER: dict[str, Callable[[sqlite3.Connection, random.Random], int]] = {
    "edit": _edit,
    "renumber": _renumber,
    "delete": _delete,
    "swap": _swap,
    "reorder": _reorder,
    "truncate": _truncate,
    "append": _append,
    "head": _head,
}


def test_every_one_of_1000_random_tamperings_is_detected_at_the_right_entry(
    chain: sqlite3.Connection,
) -> None:
    rng = random.Random(20261125)
    kinds = list(TAMPER)
    seen: dict[str, int] = dict.fromkeys(kinds, 0)
    chain.execute("BEGIN")  # each tampering in a savepoint of one transaction: nothing reaches the disk
    for round_ in range(TAMPERINGS):
        kind = kinds[round_ % len(kinds)] if round_ < len(kinds) else rng.choice(kinds)
        chain.execute("SAVEPOINT tamper")
        try:
            expected = TAMPER[kind](chain, rng)
            result = audit.verify(chain)
            assert not result.ok, f"round {round_}: {kind} not detected"
            assert result.first_bad_seq == expected, f"round {round_}: {kind}: {result}"
            assert result.reason
        finally:
            chain.execute("ROLLBACK TO tamper")
            chain.execute("RELEASE tamper")
        seen[kind] += 1
    chain.execute("ROLLBACK")
    assert sum(seen.values()) == TAMPERINGS and min(seen.values()) >= 80
    assert audit.verify(chain).ok  # every tampering was rolled back
