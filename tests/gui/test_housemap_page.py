"""房态图: grid shape, colours, legend counts, opening a unit by click or keyboard."""

from __future__ import annotations

from PySide6.QtCore import Qt

from yuexiu_desk.domain.units import STATUS_COLOURS, UnitStatus
from yuexiu_desk.gui.mainwindow import PAGE_NAMES
from yuexiu_desk.services.units import house_map


def test_grids_have_the_demo_shape(window):
    one = window.housemap.map_widget(1)
    assert (one.floor_count, one.column_count) == (16, 6)
    assert one.building_map.floors[0] == 16  # top floor at the top
    assert one.building_map.columns == [(1, 1), (1, 2), (1, 3), (2, 1), (2, 2), (2, 3)]
    two = window.housemap.map_widget(2)
    assert (two.floor_count, two.column_count) == (14, 7)
    top = one.cell_rect(16, 1, 1)
    bottom = one.cell_rect(1, 1, 1)
    assert top.top() < bottom.top()
    assert one.cell_rect(16, 1, 3).right() < one.cell_rect(16, 2, 1).left()


def test_cells_carry_status_of_the_service(window, demo_store):
    widget = window.housemap.map_widget(1)
    with demo_store.read() as session:
        expected = house_map(session, 1)
    for slot, cell in expected.cells.items():
        assert widget.cell(*slot).status == cell.status


def test_painted_cell_has_the_status_colour(window, qtbot):
    window.show_page(1)
    widget = window.housemap.map_widget(1)
    qtbot.waitExposed(widget)
    image = widget.grab().toImage()
    cell = widget.cell(16, 2, 3)
    rect = widget.cell_rect(16, 2, 3)
    ratio = widget.devicePixelRatioF()
    pixel = image.pixelColor(int((rect.left() + 3) * ratio), int((rect.top() + 3) * ratio))
    assert pixel.name().upper() == STATUS_COLOURS[cell.status].upper()


def test_clicking_a_cell_opens_that_unit(window, qtbot):
    window.show_page(1)
    widget = window.housemap.map_widget(1)
    rect = widget.cell_rect(16, 2, 3)
    assert not rect.isEmpty()
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton, pos=rect.center())
    cards = window.cards.cards()
    assert [c.code for c in cards] == ["1-2-1603"]
    assert cards[0].isVisible()


def test_keyboard_moves_and_enter_opens(window, qtbot):
    window.show_page(1)
    widget = window.housemap.map_widget(2)
    widget.setFocus()
    qtbot.keyClick(widget, Qt.Key.Key_Down)  # first key selects the top-left cell (14th floor, 1单元 01)
    qtbot.keyClick(widget, Qt.Key.Key_Down)
    qtbot.keyClick(widget, Qt.Key.Key_Right)
    qtbot.keyClick(widget, Qt.Key.Key_Return)
    assert [c.code for c in window.cards.cards()] == ["2-1-1302"]


def test_legend_counts_and_building_selector(window, demo_store):
    page = window.housemap
    with demo_store.read() as session:
        one, two = house_map(session, 1).counts(), house_map(session, 2).counts()
    both = {s: one[s] + two[s] for s in UnitStatus}
    assert page.legend.text_of(UnitStatus.UNDER_REPAIR) == f"维修中 {both[UnitStatus.UNDER_REPAIR]}"
    assert page.legend.total_label.text() == "共 194 套"
    page.building_combo.setCurrentIndex(page.building_combo.findText("2栋"))
    assert page.legend.total_label.text() == "共 98 套"
    assert page.legend.text_of(UnitStatus.VACANT) == f"空置 {two[UnitStatus.VACANT]}"
    assert not page.map_widget(1).isVisibleTo(page)
    assert page.map_widget(2).isVisibleTo(page)


# --- built when needed: only the buildings on screen, only when the page is shown ---------------------


def change(window, demo_store, wait_job, code, status, reason):
    from yuexiu_desk.services.units import change_status, find_unit_id_by_code

    with demo_store.read() as session:
        unit_id = find_unit_id_by_code(session, code)
    with wait_job(window.runner):
        window.runner.run(lambda s: change_status(s, unit_id, status, reason, "前台"), topic="units")


def test_pages_are_built_on_first_visit(window, qtbot):
    from yuexiu_desk.gui.pages.housemap import HouseMapPage
    from yuexiu_desk.gui.pages.statistics import StatisticsPage

    assert not isinstance(window.pages.widget(1), HouseMapPage)  # start-up builds the register only
    assert not isinstance(window.pages.widget(2), StatisticsPage)
    window.show_page(1)
    page = window.pages.widget(1)
    assert isinstance(page, HouseMapPage) and page is window.housemap and page.isVisible()
    window.show_page(2)
    assert window.pages.widget(2) is window.statistics and window.statistics.isVisible()
    window.show_page(1)
    assert window.housemap is page and window.pages.count() == len(PAGE_NAMES)


def test_a_station_with_many_buildings_opens_on_the_first_one_only(window, qtbot, monkeypatch, demo_store):
    from yuexiu_desk.gui.pages import housemap

    monkeypatch.setattr(housemap, "ALL_BUILDINGS_AT_MOST", 1)
    window.show_page(1)
    page = window.housemap
    assert page.building_combo.currentText() == "1栋"
    assert page.selected_buildings() == [1]
    assert page.loads == 1  # building 2's grid was not built
    assert page.legend.total_label.text() == "共 96 套"
    page.building_combo.setCurrentIndex(page.building_combo.findText("2栋"))
    assert page.loads == 2 and page.map_widget(2).isVisibleTo(page)
    assert page.legend.total_label.text() == "共 98 套"
    page.building_combo.setCurrentIndex(page.building_combo.findText("1栋"))
    assert page.loads == 2  # built once, shown again


def test_a_change_while_the_map_is_hidden_shows_when_it_is_shown_again(window, qtbot, demo_store, wait_job):
    window.show_page(1)
    page = window.housemap
    loads = page.loads
    before = page.map_widget(1).cell(16, 2, 3).status
    assert before is UnitStatus.OCCUPIED
    window.show_page(0)
    change(window, demo_store, wait_job, "1-2-1603", UnitStatus.UNDER_REPAIR, "卫生间漏水维修")
    assert page.loads == loads  # nothing read while the page is hidden
    repairs = page.legend.text_of(UnitStatus.UNDER_REPAIR)
    window.show_page(1)
    assert page.loads == loads + 2  # both buildings are on screen ("全部楼栋")
    widget = page.map_widget(1)
    assert widget.cell(16, 2, 3).status is UnitStatus.UNDER_REPAIR
    assert page.legend.text_of(UnitStatus.UNDER_REPAIR) != repairs
    qtbot.waitExposed(widget)
    image = widget.grab().toImage()
    rect = widget.cell_rect(16, 2, 3)
    ratio = widget.devicePixelRatioF()
    pixel = image.pixelColor(int((rect.left() + 3) * ratio), int((rect.top() + 3) * ratio))
    assert pixel.name().upper() == STATUS_COLOURS[UnitStatus.UNDER_REPAIR].upper()


def test_a_change_on_screen_reloads_the_shown_building_only(window, qtbot, monkeypatch, demo_store, wait_job):
    from yuexiu_desk.gui.pages import housemap

    monkeypatch.setattr(housemap, "ALL_BUILDINGS_AT_MOST", 1)
    window.show_page(1)
    page = window.housemap
    page.building_combo.setCurrentIndex(page.building_combo.findText("2栋"))
    page.building_combo.setCurrentIndex(page.building_combo.findText("1栋"))
    assert page.loads == 2
    change(window, demo_store, wait_job, "2-2-903", UnitStatus.UNDER_REPAIR, "墙面渗水维修")
    assert page.loads == 3  # building 1 (on screen) reloaded, building 2 only marked stale
    assert page.map_widget(2).cell(9, 2, 3).status is UnitStatus.UNDER_REPAIR  # asked for: fresh
    assert page.loads == 4
    with demo_store.read() as session:
        assert page.map_widget(2).building_map == house_map(session, 2)
