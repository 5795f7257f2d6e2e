"""Writing many rows at once: one executemany straight to the SQLite driver, values already in stored form.

Imports and bill runs at bureau scale use this; the rows they write are the ones the ORM services would
write, change journal included (the callers add those rows themselves).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.dialects.sqlite import dialect as sqlite_dialect

from yuexiu_desk.storage.models import Base


def stored_value(table_name: str, column: str, value: Any) -> Any:
    """value as the column's type stores it in SQLite (what its bind processor makes of it)."""
    dialect = _SQLITE_DIALECT
    process = Base.metadata.tables[table_name].c[column].type.dialect_impl(dialect).bind_processor(dialect)
    return value if process is None else process(value)


_SQLITE_DIALECT = sqlite_dialect()
# bytes.translate tables setting a UUID's version (4) and variant (RFC 4122) bits, as uuid.uuid4 does.
_VERSION_4 = bytes((b & 0x0F) | 0x40 for b in range(256))
_VARIANT = bytes((b & 0x3F) | 0x80 for b in range(256))


def new_ids(count: int) -> list[str]:
    """count random version-4 UUIDs (uuid.uuid4's, from os.urandom), in Uuid's stored form (32 lower-case
    hex digits), ascending. Handed out in file order, each table's new keys (and the household_id index of
    members and leases) grow as they are inserted instead of landing all over the indexes."""
    raw = bytearray(os.urandom(16 * count))
    raw[6::16] = raw[6::16].translate(_VERSION_4)
    raw[8::16] = raw[8::16].translate(_VARIANT)
    text = raw.hex()
    return sorted(text[i : i + 32] for i in range(0, len(text), 32))


@contextmanager
def page_cache(connection: Connection, kib: int) -> Iterator[None]:
    """At least kib KiB of SQLite page cache on this connection while the block runs."""
    previous = connection.exec_driver_sql("PRAGMA cache_size").scalar_one()
    # A negative cache_size is in KiB (a positive one counts pages): keep a setting already this large.
    if previous < 0 and -previous >= kib:
        yield
        return
    connection.exec_driver_sql(f"PRAGMA cache_size = {-kib}")
    try:
        yield
    finally:
        connection.exec_driver_sql(f"PRAGMA cache_size = {int(previous)}")


def execute_many(
    connection: Connection,
    table_name: str,
    columns: tuple[str, ...],
    rows: list[tuple[Any, ...]],
    *,
    constants: dict[str, Any] | None = None,
    update_where: str | None = None,
) -> None:
    """One executemany straight to the driver. At 50,000 households SQLAlchemy's per-row parameter
    handling costs several times SQLite's own insert, so rows are passed as they are: their values must
    already be in the stored form (see _write_in_bulk). constants, the same for every row, are converted
    with their column's type."""
    if not rows:
        return
    dialect = connection.dialect
    table = Base.metadata.tables[table_name]
    fixed = tuple(stored_value(table_name, name, value) for name, value in (constants or {}).items())
    names = list(columns) + list(constants or {})
    parameters = [row + fixed for row in rows] if fixed else rows
    quote = dialect.identifier_preparer.quote
    if update_where is None:
        # Raw SQL applies no Python-side defaults: a column added to a model must be added here too.
        left_out = [
            c.name
            for c in table.c
            if c.name not in names and not (c.nullable and c.default is None) and c.autoincrement is not True
        ]
        if left_out:
            raise RuntimeError(f"bulk insert into {table.name} leaves out {left_out}")
        sql = (
            f"INSERT INTO {quote(table.name)} ({', '.join(quote(n) for n in names)}) "
            f"VALUES ({', '.join('?' * len(names))})"
        )
    else:
        assigned = ", ".join(f"{quote(n)} = ?" for n in names if n != update_where)
        sql = f"UPDATE {quote(table.name)} SET {assigned} WHERE {quote(update_where)} = ?"
        assert names[-1] == update_where, "the key comes last, as the WHERE's parameter"
    connection.exec_driver_sql(sql, parameters)
