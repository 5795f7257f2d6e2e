"""The unit card and the status change (异动) through the op runner."""

from __future__ import annotations

from PySide6.QtCore import Qt

from yuexiu_desk.domain.units import TRANSITIONS, UnitStatus
from yuexiu_desk.gui.models import STATUS_COLUMN
from yuexiu_desk.services.units import UnitFilter, list_units, unit_card


def first_unit_with(store, status):
    with store.read() as session:
        return list_units(session, UnitFilter(status=status))[0]


def test_card_shows_the_unit(window, unit_id, demo_store):
    target = unit_id("1-1-101")
    card = window.open_unit(target)
    assert card.isVisible() and not card.isModal()
    assert card.code_label.text() == "1-1-101"
    assert "1栋1单元101室" in card.sub_label.text()
    assert card.values["楼栋"].text() == "1栋"
    assert card.values["单元"].text() == "1单元"
    assert card.values["楼层"].text() == "1层"
    assert card.values["户型"].text() == "一室一厅"
    assert card.values["建筑面积"].text() == "42.00 m²"
    assert card.values["无障碍"].text().startswith("是")  # ground floor
    assert "燃气灶" in card.values["配套设施"].text()
    with demo_store.read() as session:
        expected = unit_card(session, target)
    assert card.status_chip.text() == expected.row.status.label
    assert card.history_model.rowCount() == len(expected.history)
    # opening again brings the same card to the front instead of a second one
    assert window.open_unit(target) is card
    assert len(window.cards.cards()) == 1


def test_history_rows_use_station_time(window, demo_store):
    with demo_store.read() as session:
        moved = next(
            r
            for r in list_units(session, UnitFilter(status=UnitStatus.UNDER_REPAIR))
            if unit_card(session, r.id).history
        )
        history = unit_card(session, moved.id).history
    card = window.open_unit(moved.id)
    model = card.history_model
    from yuexiu_desk.clock import local_text

    assert model.index(0, 0).data() == local_text(history[0].occurred_at)
    assert model.index(0, 1).data() == history[0].kind.label
    assert model.index(0, 2).data() == f"{history[0].from_status.label} → {history[0].to_status.label}"
    assert model.index(0, 3).data() == history[0].reason
    assert model.index(0, 4).data() == history[0].operator


def test_change_status_dialog_offers_only_possible_targets(window, demo_store):
    vacant = first_unit_with(demo_store, UnitStatus.VACANT)
    card = window.open_unit(vacant.id)
    dialog = card.change_status()
    offered = [UnitStatus(dialog.target_combo.itemData(i)) for i in range(dialog.target_combo.count())]
    assert offered == [t for t in UnitStatus if (UnitStatus.VACANT, t) in TRANSITIONS]
    assert UnitStatus.VACANT not in offered


def test_status_change_updates_services_register_map_and_card(window, qtbot, demo_store, wait_job, messages):
    vacant = first_unit_with(demo_store, UnitStatus.VACANT)
    card = window.open_unit(vacant.id)
    history_before = card.history_model.rowCount()
    dialog = card.change_status()
    dialog.target_combo.setCurrentIndex(dialog.target_combo.findData(UnitStatus.OCCUPIED.value))
    dialog.reason_edit.setText("配租签约入住")  # typed through the input method; QTest only types ASCII
    with wait_job(window.runner):
        qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert messages.shown == []
    assert not dialog.isVisible()

    with demo_store.read() as session:
        after = unit_card(session, vacant.id)
    assert after.row.status == UnitStatus.OCCUPIED
    event = after.history[0]
    assert (event.from_status, event.to_status) == (UnitStatus.VACANT, UnitStatus.OCCUPIED)
    assert event.reason == "配租签约入住"
    assert event.operator == "前台"
    assert event.kind.label == "入住"

    row = window.register.model.row_of(vacant.id)
    assert window.register.model.index(row, STATUS_COLUMN).data() == "已入住"
    cell = window.housemap.map_widget(vacant.building).cell(vacant.floor, vacant.entrance, vacant.room)
    assert cell.status == UnitStatus.OCCUPIED
    assert card.status_chip.text() == "已入住"
    assert card.history_model.rowCount() == history_before + 1
    assert card.history_model.index(0, 3).data() == "配租签约入住"


def test_empty_reason_is_refused_and_nothing_changes(window, qtbot, demo_store, wait_job, messages):
    occupied = first_unit_with(demo_store, UnitStatus.OCCUPIED)
    with demo_store.read() as session:
        before = unit_card(session, occupied.id)
    card = window.open_unit(occupied.id)
    dialog = card.change_status()
    with wait_job(window.runner):
        dialog.ok_button.click()
    (warning,) = messages.texts("warning")
    assert "请填写异动原因" in warning
    assert dialog.isVisible() and dialog.ok_button.isEnabled()  # the clerk can fix it
    with demo_store.read() as session:
        after = unit_card(session, occupied.id)
    assert after.row.status == before.row.status
    assert len(after.history) == len(before.history)
    assert card.status_chip.text() == before.row.status.label


def test_escape_closes_the_card(window, qtbot, unit_id):
    card = window.open_unit(unit_id("1-1-102"))
    card.activateWindow()
    qtbot.keyClick(card, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not card.isVisible())
    assert window.cards.cards() == []


def test_print_this_unit_label(window, qtbot, unit_id, wait_job, messages, tmp_path):
    card = window.open_unit(unit_id("1-2-1603"))
    messages.answer_yes = True
    with wait_job(window.runner):
        card.print_button.click()
    pdf = tmp_path / "labels" / "房源标签-1-2-1603.pdf"
    assert pdf.exists() and pdf.read_bytes().startswith(b"%PDF")
    (question,) = messages.texts("question")
    assert "已生成 1 张标签" in question
    assert [u.toLocalFile() for u in messages.opened_urls] == [str(pdf)]
