"""The unit register as the clerk uses it: the demo estate, filters, unit cards, 异动 and statistics."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from yuexiu_desk.clock import FixedClock, local_date
from yuexiu_desk.domain.access import system_operator
from yuexiu_desk.domain.units import ChangeKind, UnitStatus
from yuexiu_desk.errors import UserError
from yuexiu_desk.services import units as svc
from yuexiu_desk.storage.db import Store


def test_demo_estate_has_exactly_194_units_and_10225_84_m2(demo_store: Store) -> None:
    with demo_store.read() as session:
        rows = svc.list_units(session)
    assert len(rows) == 194
    assert sum((r.gross_area for r in rows), Decimal(0)) == Decimal("10225.84")
    assert len({r.code for r in rows}) == 194
    assert {r.building for r in rows} == {1, 2}
    assert all(r.gross_area <= 60 for r in rows)  # L13: new-build 公租房 units are ≤ 60 m²
    assert all(Decimal("0.78") * r.gross_area <= r.inner_area + Decimal("0.01") < r.gross_area for r in rows)
    counts = {s: sum(1 for r in rows if r.status is s) for s in UnitStatus}
    assert counts[UnitStatus.OCCUPIED] == 185 and counts[UnitStatus.VACANT] == 6
    assert counts[UnitStatus.UNDER_REPAIR] == 3


def test_filters_combine_code_prefix_building_type_and_status(demo_store: Store) -> None:
    with demo_store.read() as session:
        everything = svc.list_units(session)
        by_prefix = svc.list_units(session, svc.UnitFilter(text="2-1-"))
        assert {r.code for r in by_prefix} == {r.code for r in everything if r.code.startswith("2-1-")}
        assert len(by_prefix) == 14 * 4
        by_type = svc.list_units(session, svc.UnitFilter(text="一室"))
        assert by_type and all(r.unit_type == "一室一厅" for r in by_type)
        by_status_word = svc.list_units(session, svc.UnitFilter(text="维修"))
        assert len(by_status_word) == 3
        combined = svc.UnitFilter(building=1, unit_type="两室两厅", status=UnitStatus.OCCUPIED)
        rows = svc.list_units(session, combined)
        expected = [
            r
            for r in everything
            if r.building == 1 and r.unit_type == "两室两厅" and r.status is UnitStatus.OCCUPIED
        ]
        assert rows == expected
        assert svc.list_units(session, svc.UnitFilter(text="%")) == []  # LIKE wildcards are literal


def test_ids_then_rows_is_how_the_register_pages(demo_store: Store) -> None:
    with demo_store.read() as session:
        ids = svc.search_unit_ids(session, svc.UnitFilter(), sort="gross_area", descending=True)
        page = svc.fetch_rows(session, ids[:40])
    assert len(ids) == 194 and len(page) == 40
    areas = [page[i].gross_area for i in ids[:40]]
    assert areas == sorted(areas, reverse=True)
    assert areas[0] == Decimal("58.05")


@pytest.mark.parametrize(
    "flt",
    [
        svc.UnitFilter(),
        svc.UnitFilter(text="1-2"),
        svc.UnitFilter(text="空置"),  # a status word: the query binds a list (IN)
        svc.UnitFilter(text="两室"),
        svc.UnitFilter(building=2, status=UnitStatus.OCCUPIED),
        svc.UnitFilter(text="9-9-999"),
    ],
)
def test_register_keys_name_the_same_units_in_the_same_order_as_ids(demo_store: Store, flt) -> None:
    with demo_store.read() as session:
        for sort in svc.SORT_COLUMNS:
            for descending in (False, True):
                keys = svc.search_unit_keys(session, flt, sort, descending)
                ids = svc.search_unit_ids(session, flt, sort, descending)
                assert all(type(k) is int for k in keys)
                rows = svc.fetch_rows_by_key(session, keys)
                assert [rows[k].id for k in keys] == ids
        assert svc.unit_keys(session, ids) == dict(zip(ids, keys, strict=True))
    if flt == svc.UnitFilter():
        assert len(keys) == 194


def test_rows_by_key_in_chunks_and_missing_keys_left_out(demo_store: Store, monkeypatch) -> None:
    monkeypatch.setattr(svc, "_CHUNK", 7)
    monkeypatch.setattr(svc, "_FETCH_BATCH", 5)
    with demo_store.read() as session:
        keys = svc.search_unit_keys(session)
        rows = svc.fetch_rows_by_key(session, [*keys, svc.UnitKey(10**9)])
        everything = svc.list_units(session)
    assert len(keys) == 194
    assert [rows[k] for k in keys] == everything
    with pytest.raises(ValueError, match="unknown sort"), demo_store.read() as session:
        svc.search_unit_keys(session, sort="fittings")


def test_status_change_keeps_who_when_why_and_shows_on_the_card(demo_store: Store, clock: FixedClock) -> None:
    with demo_store.read() as session:
        vacant = svc.list_units(session, svc.UnitFilter(status=UnitStatus.VACANT))[0]
    with demo_store.unit_of_work(system_operator("李明")) as session:
        event = svc.change_status(session, vacant.id, UnitStatus.RESERVED, "配租名单公示，预留待签约", "李明")
    assert event.kind is ChangeKind.RESERVE
    with demo_store.read() as session:
        card = svc.unit_card(session, vacant.id)
    assert card.row.status is UnitStatus.RESERVED
    latest = card.history[0]
    assert (latest.operator, latest.reason, latest.occurred_at) == (
        "李明",
        "配租名单公示，预留待签约",
        clock.now(),
    )
    assert (latest.from_status, latest.to_status) == (UnitStatus.VACANT, UnitStatus.RESERVED)


def test_impossible_or_unexplained_changes_change_nothing(demo_store: Store) -> None:
    with demo_store.read() as session:
        occupied = svc.list_units(session, svc.UnitFilter(status=UnitStatus.OCCUPIED))[0]
        history = len(svc.unit_card(session, occupied.id).history)
    for target, reason in [
        (UnitStatus.RESERVED, "预留"),
        (UnitStatus.VACANT, ""),
        (UnitStatus.OCCUPIED, "入住"),
    ]:
        with pytest.raises(UserError), demo_store.unit_of_work() as session:
            svc.change_status(session, occupied.id, target, reason, "station")
    with demo_store.read() as session:
        card = svc.unit_card(session, occupied.id)
    assert card.row.status is UnitStatus.OCCUPIED and len(card.history) == history


def test_change_statistics_count_by_kind_within_the_period(demo_store: Store, clock: FixedClock) -> None:
    today = local_date(clock.now())
    with demo_store.read() as session:
        before = svc.change_statistics(session, today, today)
        vacant = svc.list_units(session, svc.UnitFilter(status=UnitStatus.VACANT))[:2]
    for row in vacant:
        with demo_store.unit_of_work() as session:
            svc.change_status(session, row.id, UnitStatus.OCCUPIED, "配租签约入住", "station")
    with demo_store.read() as session:
        after = svc.change_statistics(session, today, today)
        yesterday = svc.change_statistics(session, today - timedelta(days=1), today - timedelta(days=1))
        year = svc.change_statistics(session, date(today.year - 1, 1, 1), today)
    assert after.by_kind[ChangeKind.MOVE_IN] == before.by_kind[ChangeKind.MOVE_IN] + 2
    assert after.total == before.total + 2
    assert after.status_now[UnitStatus.VACANT] == 4
    assert yesterday.by_kind[ChangeKind.MOVE_IN] <= year.by_kind[ChangeKind.MOVE_IN]
    assert year.total >= 40  # a year of demo history
    with pytest.raises(UserError, match="结束日期"), demo_store.read() as session:
        svc.change_statistics(session, today, today - timedelta(days=1))


def test_house_map_is_a_floor_by_room_grid_per_building(demo_store: Store) -> None:
    with demo_store.read() as session:
        one = svc.house_map(session, 1)
        two = svc.house_map(session, 2)
        with pytest.raises(UserError):
            svc.house_map(session, 3)
    assert one.floors[0] == 16 and one.floors[-1] == 1 and len(one.floors) == 16
    assert one.columns == [(1, 1), (1, 2), (1, 3), (2, 1), (2, 2), (2, 3)]
    assert len(one.cells) == 96 and len(two.cells) == 98
    assert one.cells[(16, 2, 3)].code == "1-2-1603"
    assert sum(one.counts().values()) + sum(two.counts().values()) == 194
    with demo_store.read() as session:
        both = svc.house_maps(session, [2, 3, 1])  # in the order asked, unknown numbers left out
    assert [m.number for m in both] == [2, 1]
    assert both[1] == one and both[0] == two


def test_full_width_input_from_a_chinese_input_method_filters_the_same(demo_store: Store) -> None:
    with demo_store.read() as session:
        half = svc.list_units(session, svc.UnitFilter(text="1-2-16"))
        full = svc.list_units(session, svc.UnitFilter(text="１－２－１６"))
        assert svc.find_unit_id_by_code(session, "１－２－１６０３") == svc.find_unit_id_by_code(
            session, "1-2-1603"
        )
    assert full == half and len(half) == 3


def test_sorting_by_status_follows_the_order_clerks_read_them(demo_store: Store) -> None:
    with demo_store.read() as session:
        ids = svc.search_unit_ids(session, svc.UnitFilter(), sort="status")
        rows = svc.fetch_rows(session, ids)
    order = [rows[i].status for i in ids]
    assert order == sorted(order, key=list(UnitStatus).index)
    assert order[0] is UnitStatus.VACANT and order[-1] is UnitStatus.UNDER_REPAIR
