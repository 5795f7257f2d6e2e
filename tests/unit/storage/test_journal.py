"""Every write to a journaled table appends a change-journal row in the same transaction."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from yuexiu_desk.domain.access import system_operator
from yuexiu_desk.domain.units import UnitStatus
from yuexiu_desk.errors import UserError
from yuexiu_desk.services.units import UnitFilter, change_status, list_units, unit_card
from yuexiu_desk.storage.db import Store
from yuexiu_desk.storage.models import ChangeJournal, Station


def _occupied_unit(store: Store):  # type: ignore[no-untyped-def]
    with store.read() as session:
        return list_units(session, UnitFilter(status=UnitStatus.OCCUPIED))[0].id


def _journal(store: Store) -> list[ChangeJournal]:
    with store.read() as session:
        return list(session.scalars(select(ChangeJournal).order_by(ChangeJournal.seq)))


def test_the_demo_journals_every_record_it_creates(demo_store: Store) -> None:
    rows = _journal(demo_store)
    inserted = {(r.table_name, r.record_id) for r in rows if r.operation == "insert"}
    assert sum(1 for t, _ in inserted if t == "unit") == 194
    assert sum(1 for t, _ in inserted if t == "building") == 2
    with demo_store.read() as session:
        station_id = session.scalar(select(Station.id))
    assert {r.station_id for r in rows} == {station_id}


def test_a_status_change_journals_the_unit_and_the_event_with_operator_and_rising_seq(
    demo_store: Store,
) -> None:
    before = _journal(demo_store)
    unit_id = _occupied_unit(demo_store)
    with demo_store.unit_of_work(system_operator("王芳")) as session:
        change_status(session, unit_id, UnitStatus.UNDER_REPAIR, "厨房漏水维修", "王芳")
    new = _journal(demo_store)[len(before) :]
    assert {(r.table_name, r.operation) for r in new} == {("unit", "update"), ("change_event", "insert")}
    assert all(r.operator == "王芳" for r in new)
    assert min(r.seq for r in new) > max(r.seq for r in before)
    assert next(r.record_id for r in new if r.table_name == "unit") == unit_id


def test_a_failed_action_leaves_neither_data_nor_journal(demo_store: Store) -> None:
    with demo_store.read() as session:
        count = session.scalar(select(func.count(ChangeJournal.seq)))
    unit_id = _occupied_unit(demo_store)
    with pytest.raises(UserError), demo_store.unit_of_work(system_operator("王芳")) as session:
        change_status(session, unit_id, UnitStatus.UNDER_REPAIR, "厨房漏水维修", "王芳")
        change_status(session, unit_id, UnitStatus.RESERVED, "不可能的变更", "王芳")
    with demo_store.read() as session:
        assert session.scalar(select(func.count(ChangeJournal.seq))) == count
        assert unit_card(session, unit_id).row.status is UnitStatus.OCCUPIED
