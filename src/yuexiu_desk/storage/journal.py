"""Appends a change_journal row for every write to a journaled table, inside the same flush.

A session must carry info["operator"]; info["station_id"] may be None only while the station row
itself is being created (the station's own id is used then).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from yuexiu_desk.storage.models import Base, ChangeJournal, Station


def _journal_row(session: Session, obj: Base, operation: str) -> ChangeJournal:
    station_id = session.info.get("station_id")
    if station_id is None and isinstance(obj, Station):
        station_id = obj.id
    operator = session.info.get("operator")
    if not operator:
        raise RuntimeError("a write to a journaled table needs session.info['operator']")
    clock = session.info.get("clock")
    now = clock.now() if clock is not None else datetime.now(UTC)
    return ChangeJournal(
        table_name=obj.__tablename__,
        record_id=obj.id,  # type: ignore[attr-defined]
        operation=operation,
        station_id=station_id,
        operator=operator,
        recorded_at=now,
    )


@event.listens_for(Session, "before_flush")
def _record_changes(session: Session, flush_context: Any, instances: Any) -> None:
    rows: list[ChangeJournal] = []
    for obj in session.new:
        if getattr(obj, "__journaled__", False):
            if getattr(obj, "id", None) is None:
                # Column defaults only apply at INSERT; the journal needs the key now.
                obj.id = uuid.uuid4()
            rows.append(_journal_row(session, obj, "insert"))
    for obj in session.dirty:
        if getattr(obj, "__journaled__", False) and session.is_modified(obj, include_collections=False):
            rows.append(_journal_row(session, obj, "update"))
    for obj in session.deleted:
        if getattr(obj, "__journaled__", False):
            rows.append(_journal_row(session, obj, "delete"))
    session.add_all(rows)
