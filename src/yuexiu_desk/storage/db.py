"""Opening the station store: file checks, SQLite pragmas, migrations (with a backup first), sessions.

One Store per process holds the engine and the sessionmaker; each user action runs in one
unit_of_work(), which commits at the end or rolls everything back.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, create_engine, event, select
from sqlalchemy.orm import Session, sessionmaker

from yuexiu_desk.clock import Clock, SystemClock
from yuexiu_desk.domain.access import OPERATOR_KEY, SIGN_IN_KEY, Operator
from yuexiu_desk.errors import EnvironmentProblem, UserError
from yuexiu_desk.paths import StationPaths
from yuexiu_desk.storage import journal  # noqa: F401  (registers the change-journal hook)
from yuexiu_desk.storage.backup import backup_database
from yuexiu_desk.storage.migrate import SCHEMA_HEAD, current_revision, known_revisions, upgrade
from yuexiu_desk.storage.models import Station

if TYPE_CHECKING:
    from yuexiu_desk.storage.fieldcrypt import FieldKeys

log = logging.getLogger(__name__)

DEFAULT_OPERATOR = "station"
# session.info key of the callable giving the data key (services.keys.session_keys reads it).
KEYS_KEY = "field_keys"
SQLITE_MAGIC = b"SQLite format 3\x00"
BUSY_TIMEOUT_MS = 5000


def _set_pragmas(dbapi_connection: sqlite3.Connection, connection_record: Any) -> None:
    # Python's sqlite3 would open transactions itself, and only before INSERT/UPDATE/DELETE, leaving DDL
    # and the reads of a read-then-write in autocommit. Take that over: _begin below starts every
    # transaction explicitly, so a failed migration or user action leaves nothing behind.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=FULL")
    # Deleted and overwritten content (a replaced sealed value, the plain values sealed after an upgrade) is
    # zeroed on disk rather than left in free pages.
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()


def _begin(conn: Connection) -> None:
    # Writers take the write lock at BEGIN, so two writers queue on busy_timeout instead of one failing
    # at its first write with "database is locked" after it has read the state it wants to change.
    mode = "IMMEDIATE" if conn.get_execution_options().get(WRITE_OPTION) else "DEFERRED"
    conn.exec_driver_sql(f"BEGIN {mode}")


WRITE_OPTION = "yuexiu_write"


def make_engine(database: Path) -> Engine:
    engine = create_engine(f"sqlite:///{database}")
    event.listen(engine, "connect", _set_pragmas)
    event.listen(engine, "begin", _begin)
    return engine


def _set_read_only_pragmas(dbapi_connection: sqlite3.Connection, connection_record: Any) -> None:
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    # No journal_mode here (setting it may write); query_only makes SQLite itself refuse every write.
    cursor.execute("PRAGMA query_only=ON")
    cursor.close()


def make_read_only_engine(database: Path) -> Engine:
    engine = create_engine(f"sqlite:///{database}")
    event.listen(engine, "connect", _set_read_only_pragmas)
    event.listen(engine, "begin", _begin)
    return engine


def check_database_file(database: Path) -> None:
    """Refuse a file that is not SQLite or fails quick_check, before anything writes to it."""
    if not database.exists():
        return
    if database.stat().st_size == 0:
        return
    with database.open("rb") as handle:
        header = handle.read(len(SQLITE_MAGIC))
    if header != SQLITE_MAGIC:
        raise EnvironmentProblem(
            f"数据文件 {database} 不是本系统的数据库（不是 SQLite 文件）。请检查数据目录是否选错，或从备份恢复。"
        )
    try:
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as conn:
            result = conn.execute("PRAGMA quick_check").fetchone()
    except sqlite3.DatabaseError as exc:
        raise EnvironmentProblem(f"数据文件 {database} 已损坏，无法打开（{exc}）。请从备份恢复。") from exc
    if result is None or result[0] != "ok":
        raise EnvironmentProblem(f"数据文件 {database} 未通过完整性检查（{result}）。请从备份恢复。")


def _ensure_writable_folder(root: Path) -> None:
    try:
        root.mkdir(parents=True, exist_ok=True)
        probe = root / ".write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise EnvironmentProblem(
            f"数据目录 {root} 无法写入（{exc.strerror or exc}）。请换一个有写权限的目录，或用 --data-dir 指定。"
        ) from exc


class Store:
    """The open station database."""

    def __init__(self, paths: StationPaths, engine: Engine, clock: Clock) -> None:
        self.paths = paths
        self.engine = engine
        self.clock = clock
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self._write_sessions = sessionmaker(
            engine.execution_options(**{WRITE_OPTION: True}), expire_on_commit=False
        )
        self._station_id: Any = None
        # Who acts on this store: set by signing in (the desk's login, the CLI's credentials). When unset and
        # sign_in_prompt is given, the first write or reveal asks for credentials through it.
        self.operator: Operator | None = None
        self.sign_in_prompt: Callable[[], Operator] | None = None
        # Set when the database failed a health check: every unit of work is refused with this sentence.
        self.read_only_reason: str | None = None
        # The data key of personal data (storage.fieldcrypt), opened from the signed-in account's key slot.
        # Signing in leaves an opener, run at the first personal value: the desk's start does not pay for it.
        self._keys: FieldKeys | None = None
        self._key_opener: Callable[[], FieldKeys | str] | None = None
        # The desk reads on its own thread and in the op runner's: the first reader opens the key, the
        # others wait for it rather than find no key while it is being opened.
        self._key_lock = threading.Lock()
        # Why there is no key (no slot for this account, no key for the station yet), said when one is needed.
        self.keys_note: str | None = None
        # A recovery key created at this sign-in (an upgraded station's first): the desk and CLI show it once.
        self.new_recovery_code: str | None = None

    @classmethod
    def open(cls, paths: StationPaths, clock: Clock | None = None, *, checked: bool = False) -> Store:
        """Open (creating if needed) and migrate the station database.

        checked: the caller has just run check_database_file (the desk's start-up does, to choose read-only).
        """
        _ensure_writable_folder(paths.root)
        database = paths.database
        if not checked:
            check_database_file(database)
        existed = database.exists() and database.stat().st_size > 0
        engine = make_engine(database)
        try:
            with engine.connect() as conn:
                revision = current_revision(conn)
            # Alembic itself (~0.4 s to import) is loaded only when the schema is not already current.
            if revision != SCHEMA_HEAD and revision is not None and revision not in known_revisions():
                raise EnvironmentProblem(
                    f"数据库的版本（{revision}）比本程序新，本程序无法打开。请升级 yuexiu-desk 到最新版本。"
                )
            if revision != SCHEMA_HEAD:
                if existed and revision is not None:
                    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
                    target = paths.backups / f"before-upgrade-{revision}-{stamp}.sqlite3"
                    backup_database(engine, target)
                    log.info("backed up %s to %s before upgrading", database, target)
                with engine.execution_options(**{WRITE_OPTION: True}).begin() as conn:
                    upgrade(conn)
        except Exception:
            engine.dispose()
            raise
        return cls(paths, engine, clock or SystemClock())

    @classmethod
    def open_read_only(cls, paths: StationPaths, reason: str, clock: Clock | None = None) -> Store:
        """Open a database that failed its checks for looking only: no migration, and no write gets through."""
        engine = make_read_only_engine(paths.database)
        store = cls(paths, engine, clock or SystemClock())
        store.read_only_reason = reason
        return store

    def refuse_writes(self, reason: str) -> None:
        """From now on every unit of work fails with reason (a check found the database damaged)."""
        self.read_only_reason = reason

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reading; it never commits. Services that reveal personal data check its operator."""
        with self._sessions() as session:
            session.info["clock"] = self.clock
            session.info[OPERATOR_KEY] = self.operator
            session.info[KEYS_KEY] = self._field_keys
            if self.operator is None and self.sign_in_prompt is not None:
                session.info[SIGN_IN_KEY] = self._prompt_once
            yield session

    def unlock(self, opener: Callable[[], FieldKeys | str]) -> None:
        """Someone signed in: their data key is opened by opener (or a sentence why not) when first needed."""
        self._keys, self._key_opener, self.keys_note = None, opener, None

    def set_keys(self, keys: FieldKeys | None) -> None:
        self._keys, self._key_opener, self.keys_note = keys, None, None

    def forget_keys(self) -> None:
        self.set_keys(None)

    def _field_keys(self) -> FieldKeys | str | None:
        if (
            self._keys is None
            and self._key_opener is None
            and self.operator is None
            and self.sign_in_prompt is not None
        ):
            self._prompt_once()
        with self._key_lock:
            if self._keys is None and self._key_opener is not None:
                opener, self._key_opener = self._key_opener, None
                found = opener()
                if isinstance(found, str):
                    self.keys_note = found
                else:
                    self._keys = found
            return self._keys if self._keys is not None else self.keys_note

    def _prompt_once(self) -> Operator:
        assert self.sign_in_prompt is not None
        if self.operator is None:
            self.operator = self.sign_in_prompt()
        return self.operator

    @contextmanager
    def unit_of_work(self, operator: Operator | None = None) -> Iterator[Session]:
        """One user action by the operator given (internal writers) or the one signed in: commits when the
        block ends, rolls back everything on any error."""
        if self.read_only_reason is not None:
            raise EnvironmentProblem(self.read_only_reason)
        if operator is None:
            if self.operator is None and self.sign_in_prompt is not None:
                self._prompt_once()
            operator = self.operator
        with self._write_sessions() as session:
            # The name recorded as 经办人 on what this action writes; the checks use the operator itself.
            session.info["operator"] = operator.name if operator is not None else DEFAULT_OPERATOR
            session.info[OPERATOR_KEY] = operator
            session.info[KEYS_KEY] = self._field_keys
            session.info["clock"] = self.clock
            with session.begin():
                session.info["station_id"] = self.station_id(session)
                yield session

    def checkpoint(self) -> None:
        """Fold the WAL into the database file and empty it (after sealing plain values, none stay in it)."""
        with self.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")

    def station_id(self, session: Session) -> Any:
        if self._station_id is None:
            self._station_id = session.scalar(select(Station.id))
        return self._station_id

    def forget_station(self) -> None:
        self._station_id = None


def open_store(data_dir: str | Path | None = None, clock: Clock | None = None) -> Store:
    return Store.open(StationPaths.resolve(data_dir), clock)


def require_station(session: Session) -> Station:
    station: Station | None = session.scalar(select(Station))
    if station is None:
        raise UserError(
            "这个数据目录里还没有服务站数据。请先运行 yuexiu-desk demo 创建演示站，或指定正确的 --data-dir。"
        )
    return station


DISK_FULL = "磁盘空间不足（磁盘已满）：{what}，操作未完成，数据未改动。请清理磁盘或换到空间更大的位置后重试。"
_ENVIRONMENT_SIGNS = {
    "database or disk is full": DISK_FULL.format(what="数据库无法写入"),
    "database is locked": "数据库正被另一个程序占用，操作未完成。请稍后重试，或关闭另一个打开该数据目录的程序。",
    "readonly database": "数据库文件是只读的，无法保存。请检查数据目录的权限。",
    "unable to open database": "无法打开数据库文件。请检查数据目录是否存在、是否有权限。",
    "disk i/o error": "读写磁盘出错，操作未完成。请检查磁盘或 U 盘是否已拔出。",
}


def is_disk_full(exc: BaseException) -> bool:
    """Whether an error is the disk (or the user's quota) running out: ENOSPC/EDQUOT, or SQLite's SQLITE_FULL."""
    import errno

    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
        return True
    return isinstance(exc, sqlite3.Error) and "database or disk is full" in str(exc).lower()


def disk_full_problem(what: str) -> EnvironmentProblem:
    return EnvironmentProblem(DISK_FULL.format(what=what))


def environment_problem(exc: BaseException) -> EnvironmentProblem | None:
    """The EnvironmentProblem that an error stands for (disk full, locked, read-only), if it is one.

    Looks through the chain of causes: SQLAlchemy wraps the sqlite3 error, and a service may re-raise.
    """
    import sqlalchemy.exc

    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and is_disk_full(current):
            where = f"无法写入 {current.filename}" if current.filename else "无法写入文件"
            return disk_full_problem(where)
        if isinstance(current, sqlite3.OperationalError | sqlalchemy.exc.OperationalError):
            text = str(current).lower()
            for sign, message in _ENVIRONMENT_SIGNS.items():
                if sign in text:
                    return EnvironmentProblem(message)
        current = current.__cause__ or current.__context__
    return None
