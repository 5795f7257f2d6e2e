"""The unit register: lazy model, filter bar, SQL sorting, opening a card."""

from __future__ import annotations

from decimal import Decimal

from PySide6.QtCore import Qt

from yuexiu_desk.domain.units import UnitStatus
from yuexiu_desk.gui.models import UNIT_COLUMNS, UnitTableModel
from yuexiu_desk.services.units import UnitFilter, list_units

AREA_COLUMN = [c.title for c in UNIT_COLUMNS].index("建筑面积(m²)")
STATUS_COLUMN = [c.title for c in UNIT_COLUMNS].index("房态")


def shown_codes(page):
    model = page.model
    return [model.index(row, 0).data() for row in range(model.rowCount())]


def test_register_shows_all_demo_units(window):
    page = window.register
    assert page.model.rowCount() == 194
    assert page.count_label.text() == "共 194 套"
    headers = [page.model.headerData(c, Qt.Orientation.Horizontal) for c in range(page.model.columnCount())]
    assert headers == ["房号", "栋", "单元", "楼层", "户型", "建筑面积(m²)", "套内面积(m²)", "朝向", "房态"]
    assert shown_codes(page)[:3] == ["1-1-101", "1-1-102", "1-1-103"]
    first_status = page.model.index(0, STATUS_COLUMN)
    assert first_status.data() in {s.label for s in UnitStatus}
    assert first_status.data(Qt.ItemDataRole.DecorationRole) is not None


def test_typing_filters_to_building_2_entrance_1(window, qtbot, demo_store):
    page = window.register
    qtbot.keyClicks(page.search, "2-1")
    with demo_store.read() as session:
        expected = [r.code for r in list_units(session, UnitFilter(text="2-1"))]
    assert len(expected) == 14 * 4
    qtbot.waitUntil(lambda: page.model.rowCount() == len(expected))
    assert sorted(shown_codes(page)) == sorted(expected)
    assert all(code.startswith("2-1-") for code in shown_codes(page))
    assert page.count_label.text() == f"共 {len(expected)} 套"


def test_status_combo_under_repair_shows_3(window, qtbot):
    page = window.register
    page.status_combo.setCurrentIndex(page.status_combo.findText("维修中"))
    assert page.model.rowCount() == 3
    assert page.count_label.text() == "共 3 套"
    assert {page.model.index(r, STATUS_COLUMN).data() for r in range(3)} == {"维修中"}


def test_building_and_type_combos_combine(window, demo_store):
    page = window.register
    page.building_combo.setCurrentIndex(page.building_combo.findText("1栋"))
    page.type_combo.setCurrentIndex(page.type_combo.findText("一室一厅"))
    with demo_store.read() as session:
        expected = list_units(session, UnitFilter(building=1, unit_type="一室一厅"))
    assert page.model.rowCount() == len(expected) == 16
    page.clear_button.click()
    assert page.model.rowCount() == 194


def test_model_passes_qt_model_tester(window, qtmodeltester):
    qtmodeltester.check(window.register.model)


def test_filtered_model_passes_qt_model_tester(window, qtbot, qtmodeltester):
    page = window.register
    qtbot.keyClicks(page.search, "2-1")
    qtbot.waitUntil(lambda: page.model.rowCount() == 56)
    qtmodeltester.check(page.model)


def test_small_pages_evict_and_still_pass(demo_store, qtmodeltester, monkeypatch):
    monkeypatch.setattr(UnitTableModel, "PAGE_SIZE", 20)
    monkeypatch.setattr(UnitTableModel, "MAX_PAGES", 2)
    model = UnitTableModel(demo_store)
    model.set_filter(UnitFilter())
    assert model.rowCount() == 194
    assert model.fetches == 0  # nothing fetched until a row is shown
    assert model.index(150, 0).data() == model.unit_row(150).code
    assert model.fetches == 1
    qtmodeltester.check(model)
    assert len(model._pages) <= 2


def test_sorting_by_area_in_sql(window, qtbot):
    page = window.register
    header = page.view.horizontalHeader()
    header.setSortIndicator(AREA_COLUMN, Qt.SortOrder.AscendingOrder)
    areas = [Decimal(page.model.index(r, AREA_COLUMN).data()) for r in range(page.model.rowCount())]
    assert areas == sorted(areas) and areas[0] == Decimal("42.00") and areas[-1] == Decimal("58.05")
    header.setSortIndicator(AREA_COLUMN, Qt.SortOrder.DescendingOrder)
    areas = [Decimal(page.model.index(r, AREA_COLUMN).data()) for r in range(page.model.rowCount())]
    assert areas == sorted(areas, reverse=True)


def test_clicking_area_header_sorts(window, qtbot):
    page = window.register
    header = page.view.horizontalHeader()
    x = header.sectionViewportPosition(AREA_COLUMN) + header.sectionSize(AREA_COLUMN) // 2
    from PySide6.QtCore import QPoint

    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(x, header.height() // 2))
    areas = [Decimal(page.model.index(r, AREA_COLUMN).data()) for r in range(page.model.rowCount())]
    assert areas in (sorted(areas), sorted(areas, reverse=True))
    assert areas[0] != areas[-1]


def test_unsortable_column_keeps_order(window, qtbot):
    page = window.register
    before = shown_codes(page)
    inner_column = [c.title for c in UNIT_COLUMNS].index("套内面积(m²)")
    page.view.horizontalHeader().setSortIndicator(inner_column, Qt.SortOrder.AscendingOrder)
    assert shown_codes(page) == before
    qtbot.waitUntil(lambda: page.view.horizontalHeader().sortIndicatorSection() == 0)


def test_enter_and_double_click_open_the_card(window, qtbot):
    page = window.register
    page.select_row(5)
    page.view.setFocus()
    qtbot.keyClick(page.view, Qt.Key.Key_Return)
    code = page.model.index(5, 0).data()
    qtbot.waitUntil(lambda: any(c.code == code and c.isVisible() for c in window.cards.cards()))
    rect = page.view.visualRect(page.model.index(7, 0))
    # a real double click starts with a press; QTest's mouseDClick sends only the double-click event
    qtbot.mouseClick(page.view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(page.view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    code7 = page.model.index(7, 0).data()
    qtbot.waitUntil(lambda: any(c.code == code7 and c.isVisible() for c in window.cards.cards()))


def test_enter_in_search_with_one_result_opens_it(window, qtbot):
    page = window.register
    qtbot.keyClicks(page.search, "1-2-1603")
    qtbot.keyClick(page.search, Qt.Key.Key_Return)
    assert [c.code for c in window.cards.cards()] == ["1-2-1603"]


def test_refresh_that_moves_rows_keeps_the_whole_selection(window, qtbot, demo_store):
    from PySide6.QtCore import QItemSelectionModel

    from yuexiu_desk.services.units import change_status

    page = window.register
    # Sorted by status (空置 first, 维修中 after 已入住), a vacant unit going under repair moves every
    # occupied row up by one: the refresh rebuilds the id list.
    page.view.horizontalHeader().setSortIndicator(STATUS_COLUMN, Qt.SortOrder.AscendingOrder)
    with demo_store.read() as session:
        vacant = list_units(session, UnitFilter(status=UnitStatus.VACANT))[0]
    vacant_row = page.model.row_of(vacant.id)
    rows = [r for r in range(page.model.rowCount()) if r != vacant_row][100:103]
    rows[2] += 40  # two neighbours and one further down
    selection = page.view.selectionModel()
    flags = QItemSelectionModel.SelectionFlag
    selection.clearSelection()
    for row in rows:
        selection.select(page.model.index(row, 0), flags.Select | flags.Rows)
    selection.setCurrentIndex(page.model.index(rows[1], 0), flags.NoUpdate)
    chosen = [page.model.unit_id(r) for r in rows]
    current = page.model.unit_id(rows[1])
    assert sorted(page.selected_unit_ids()) == sorted(chosen)

    resets = []
    page.model.modelReset.connect(lambda: resets.append(True))
    with qtbot.waitSignal(window.runner.changed, timeout=20_000) as changed:
        window.runner.run(
            lambda s: change_status(s, vacant.id, UnitStatus.UNDER_REPAIR, "卫生间漏水维修", "前台"),
            topic="units",
        )
    assert changed.args == ["units"]
    assert resets  # the id list was rebuilt ...
    assert [page.model.row_of(u) for u in chosen] != rows  # ... and the selected units moved
    assert sorted(page.selected_unit_ids()) == sorted(chosen)
    assert page.model.unit_id(page.view.currentIndex().row()) == current
    assert vacant.id not in page.selected_unit_ids()
    assert len(page.selected_codes()) == 3


def test_the_model_holds_int_keys_and_makes_uuids_for_shown_rows_only(window, demo_store):
    from yuexiu_desk.gui.models import UNIT_ID_ROLE
    from yuexiu_desk.services.units import find_unit_id_by_code

    model = window.register.model
    with demo_store.read() as session:
        rows = list_units(session)
        elsewhere = find_unit_id_by_code(session, "2-1-101")
    assert all(type(model.key(r)) is int for r in range(model.rowCount()))
    assert [model.unit_id(r) for r in range(model.rowCount())] == [r.id for r in rows]
    assert model.index(3, 0).data(UNIT_ID_ROLE) == str(rows[3].id)
    assert model.row_of(rows[150].id) == 150
    assert model.rows_of_keys([model.key(7), model.key(0)]) == [7, 0]
    model.set_filter(UnitFilter(text="1-"))
    assert model.row_of(elsewhere) is None  # not in this search
    assert model.unit_id(model.rowCount()) is None


def test_sorted_model_passes_qt_model_tester(window, qtmodeltester):
    page = window.register
    page.view.horizontalHeader().setSortIndicator(STATUS_COLUMN, Qt.SortOrder.DescendingOrder)
    qtmodeltester.check(page.model)
