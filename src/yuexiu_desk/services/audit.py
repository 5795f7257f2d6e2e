"""The audit log (审计日志): who did what, appended in the caller's transaction, hash-chained, verifiable.

Each entry holds the SHA-256 of the entry before it (the first one holds a genesis value derived from the
station's id, so a chain cannot be spliced in from another station) and its own SHA-256 over a canonical
encoding of its fields. The table refuses UPDATE and DELETE (triggers of migration 0007).

What verify() detects, and why:
- an edited field of any entry: its recomputed hash differs from the stored one (or, if the stored hash was
  edited too, the next entry's prev_hash no longer matches);
- a deleted entry: a gap in seq, which is 1, 2, 3 … with no gaps, and the next entry's prev_hash;
- reordered or swapped entries: seq is part of the hash, and each prev_hash names its predecessor;
- entries cut off at the end: the head (last seq and hash) is kept in the setting row HEAD_KEY, written in
  the same transaction as every entry, and must match the last entry; record() continues after the head, so
  a cut-off tail leaves a gap even after the next append;
- entries appended by hand: they lie beyond the head.
What it cannot detect: someone who has the database file and this program's source can rewrite the whole
chain from some entry on, recomputing every hash and the head, because nothing here is secret (no key).
The chain makes tampering evident to anyone who kept an earlier head (seq and hash, printed by
`yuexiu-desk audit verify`): a rewritten chain no longer holds that hash at that seq. Likewise, a head that
was deleted or garbled (verify reports it) is written afresh by the next append, which continues after the
last row left: a tail cut off together with the head is then no longer visible.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from yuexiu_desk.clock import Clock, SystemClock
from yuexiu_desk.domain.access import OPERATOR_KEY, SYSTEM_ROLE
from yuexiu_desk.services.access import require

HEAD_KEY = "audit.head"
SYSTEM_OPERATOR = "system"
GENESIS_LABEL = "yuexiu-desk audit log v1 genesis"
BATCH = 20_000

ACTION_LABELS = {
    "login": "登录",
    "login_failed": "登录失败",
    "reveal": "查看完整个人信息",
    "payment": "登记缴费",
    "payment_void": "作废收据",
    "bill_void": "作废账单",
    "month_close": "月结",
    "month_reopen": "反结账",
    "role_change": "变更岗位",
    "user_add": "添加用户",
    "user_disable": "停用或恢复账户",
    "password_reset": "重设密码",
    "import": "导入",
    "export": "导出",
    "backup": "备份",
    "restore": "恢复",
}

_SHA256 = hashlib.sha256


def entry_hash(
    seq: int, at: str, operator: str, action: str, subject: str, detail: str, prev_hash: str
) -> str:
    """SHA-256 (hex) of the entry's canonical encoding, the UTF-8 of: seq, a newline, then each text field as
    <length in characters>:<text>. The lengths make field boundaries unambiguous whatever the text holds;
    len() refuses anything but text (an integer, NULL) and bytes format differently, so a field whose type
    was changed no longer matches. verify() inlines the same expression (keep the two identical)."""
    return _SHA256(
        f"{seq}\n{len(at)}:{at}{len(operator)}:{operator}{len(action)}:{action}{len(subject)}:{subject}"
        f"{len(detail)}:{detail}{len(prev_hash)}:{prev_hash}".encode()
    ).hexdigest()


def genesis_hash(station_id: str) -> str:
    """The prev_hash of entry 1: ties the chain to this station (its id as stored)."""
    return _SHA256(f"{GENESIS_LABEL}\x00{station_id}".encode()).hexdigest()


@dataclass(frozen=True)
class AuditRecord:
    seq: int
    at: str
    operator: str
    action: str
    subject: str
    detail: dict[str, Any]
    hash: str

    @property
    def action_label(self) -> str:
        return ACTION_LABELS.get(self.action, self.action)

    def as_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "at": self.at,
            "operator": self.operator,
            "action": self.action,
            "subject": self.subject,
            "detail": self.detail,
            "hash": self.hash,
        }


@dataclass(frozen=True)
class VerifyResult:
    count: int  # entries read (up to the first bad one, when there is one)
    first_bad_seq: int | None  # None: intact
    reason: str  # Chinese; "" when intact
    head_seq: int = 0
    head_hash: str = ""

    @property
    def ok(self) -> bool:
        return self.first_bad_seq is None


def _driver(source: Session | Connection | sqlite3.Connection) -> sqlite3.Connection:
    if isinstance(source, sqlite3.Connection):
        return source
    connection = source.connection() if isinstance(source, Session) else source
    raw: sqlite3.Connection = connection.connection.driver_connection  # type: ignore[assignment]
    return raw


def _station_id(conn: sqlite3.Connection) -> str | None:
    row = conn.execute("SELECT id FROM station LIMIT 1").fetchone()
    return None if row is None else str(row[0])


def _read_head(conn: sqlite3.Connection) -> tuple[int, str] | None:
    """The head as stored: (seq, hash); None when there is none; raises ValueError when it is unreadable."""
    row = conn.execute("SELECT value FROM setting WHERE key = ?", (HEAD_KEY,)).fetchone()
    if row is None:
        return None
    value = json.loads(row[0])
    seq, hash_ = value["seq"], value["hash"]
    if type(seq) is not int or not isinstance(hash_, str):
        raise ValueError("bad head")
    return seq, hash_


def _storable(text: str) -> str:
    # A file name may carry undecodable bytes (surrogate escapes) that SQLite cannot store; NUL is dropped.
    return text.encode("utf-8", "replace").decode("utf-8").replace("\x00", "")


def record(
    session: Session,
    operator: str,
    action: str,
    subject: str = "",
    detail: dict[str, Any] | None = None,
    clock: Clock | None = None,
) -> int:
    """Append one entry in the caller's unit of work (it commits or rolls back with the action); its seq.

    detail is stored as JSON and must hold no plaintext personal data (no ID numbers, phones or names).
    """
    if "operator" not in session.info:
        raise RuntimeError("audit.record needs a unit of work (a write session), not a read session")
    conn = session.connection()
    raw = _driver(conn)
    station_id = _station_id(raw)
    if station_id is None:
        raise RuntimeError("the audit log needs the station row (its id starts the chain)")
    # The unit of work began with BEGIN IMMEDIATE: no other writer can append between this read and the
    # insert. Continue after the head, not after the last row, so that a tail cut off by hand stays a gap.
    try:
        head = _read_head(raw)
    except (ValueError, KeyError, TypeError):
        head = None
    last = raw.execute("SELECT seq, hash FROM audit_entry ORDER BY seq DESC LIMIT 1").fetchone()
    if head is not None and (last is None or head[0] >= last[0]):
        seq, prev_hash = head[0] + 1, head[1]
    elif last is not None:
        seq = max(last[0], head[0] if head else 0) + 1
        prev_hash = head[1] if head is not None else last[1]
    else:
        seq, prev_hash = 1, genesis_hash(station_id)
    moment = (clock or session.info.get("clock") or SystemClock()).now().astimezone(UTC)
    at = moment.isoformat(timespec="microseconds")
    detail_text = json.dumps(detail or {}, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    # Whoever is signed in is named by login (unique, unlike display names); internal writers by their name.
    actor = session.info.get(OPERATOR_KEY)
    if actor is not None:
        operator = actor.name if actor.role == SYSTEM_ROLE else actor.login
    operator, action, subject = (_storable(t) for t in (operator or SYSTEM_OPERATOR, action, subject))
    digest = entry_hash(seq, at, operator, action, subject, detail_text, prev_hash)
    conn.exec_driver_sql(
        "INSERT INTO audit_entry (seq, at, operator, action, subject, detail, prev_hash, hash) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (seq, at, operator, action, subject, detail_text, prev_hash, digest),
    )
    conn.exec_driver_sql(
        "INSERT INTO setting (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (HEAD_KEY, json.dumps({"seq": seq, "hash": digest}, separators=(",", ":"))),
    )
    return seq


def verify(source: Session | Connection | sqlite3.Connection) -> VerifyResult:
    """Walk the whole chain in seq order and name the first broken link (reason in Chinese).

    Rows are streamed in large batches with the bare sqlite3 cursor (no ORM): a million entries take a
    few seconds. The head and the rows are read in one transaction (the session's, or one of its own on a
    bare connection), so an append meanwhile cannot look like a forged entry.
    """
    conn = _driver(source)
    own_snapshot = not conn.in_transaction  # a bare connection: read the head and the rows in one snapshot
    if own_snapshot:
        conn.execute("BEGIN")
    try:
        return _walk(conn)
    finally:
        if own_snapshot:
            conn.execute("ROLLBACK")


def _walk(conn: sqlite3.Connection) -> VerifyResult:
    station_id = _station_id(conn)
    try:
        head = _read_head(conn)
        head_problem = ""
    except (ValueError, KeyError, TypeError):
        head, head_problem = None, "链头记录（最后一条的序号和哈希）已损坏"
    prev = genesis_hash(station_id or "")
    expected = 1
    cursor = conn.execute(
        "SELECT seq, at, operator, action, subject, detail, prev_hash, hash FROM audit_entry ORDER BY seq"
    )
    sha256 = _SHA256
    bad: tuple[int, str] | None = None
    while bad is None:
        rows = cursor.fetchmany(BATCH)
        if not rows:
            break
        for seq, at, operator, action, subject, detail, prev_hash, stored in rows:
            if seq != expected:
                if seq > expected:
                    bad = (expected, f"第 {expected} 条缺失（其后是第 {seq} 条）：有记录被删除")
                else:
                    bad = (seq, f"出现了不应有的序号 {seq}：有记录被插入或改动")
                break
            if prev_hash != prev:
                before = "起始值（本站的链首）" if seq == 1 else f"第 {seq - 1} 条的哈希"
                bad = (seq, f"第 {seq} 条记下的上一条哈希与{before}不符：记录被删除、调换、插入或改动")
                break
            try:  # entry_hash, inlined (one Python call less per row)
                computed = sha256(
                    f"{seq}\n{len(at)}:{at}{len(operator)}:{operator}{len(action)}:{action}"
                    f"{len(subject)}:{subject}{len(detail)}:{detail}{len(prev_hash)}:{prev_hash}".encode()
                ).hexdigest()
            except (TypeError, ValueError):  # not text where text belongs, or text that cannot be encoded
                computed = ""
            if computed != stored:
                bad = (seq, f"第 {seq} 条的内容与其哈希不符：记录被改动")
                break
            prev = stored
            expected += 1
    cursor.close()
    count = expected - 1
    if bad is None:
        if head_problem:
            bad = (max(count, 1), f"{head_problem}，无法确认末尾是否被截断")
        elif head is None:
            if count > 0:
                bad = (count, "链头记录（最后一条的序号和哈希）缺失，无法确认末尾是否被截断")
        elif head[0] > count:
            bad = (count + 1, f"末尾被截断：应有 {head[0]} 条，现只有 {count} 条（第 {count + 1} 条起缺失）")
        elif head[0] < count:
            bad = (head[0] + 1, f"第 {head[0] + 1} 条起的 {count - head[0]} 条不是本程序追加的（在链头之后）")
        elif head[1] != prev:
            bad = (count, f"最后一条（第 {count} 条）与链头记录的哈希不符")
        if bad is None and count > 0 and station_id is None:
            bad = (1, "数据库里没有服务站记录，无法核对链首")
    head_seq, head_hash = head if head is not None else (0, "")
    if bad is None:
        return VerifyResult(count, None, "", head_seq, head_hash)
    return VerifyResult(count, bad[0], bad[1], head_seq, head_hash)


def verify_as_reader(session: Session) -> VerifyResult:
    """verify, for an operator whose role may read the audit log (`audit verify`)."""
    require(session, "audit.read")
    return verify(session)


def latest(session: Session, limit: int = 50) -> list[AuditRecord]:
    """The newest entries, newest first (for an operator whose role may read the audit log)."""
    require(session, "audit.read")
    rows = _driver(session).execute(
        "SELECT seq, at, operator, action, subject, detail, hash FROM audit_entry ORDER BY seq DESC LIMIT ?",
        (max(limit, 0),),
    )
    found = []
    for seq, at, operator, action, subject, detail, hash_ in rows:
        try:
            loaded = json.loads(detail)
        except (TypeError, ValueError):
            loaded = {"raw": str(detail)}
        found.append(
            AuditRecord(seq, at, operator, action, subject, loaded if isinstance(loaded, dict) else {}, hash_)
        )
    return found
