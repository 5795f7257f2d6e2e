"""The unit card and the status change (异动) through the op runner."""

from __future__ import annotations

import threading

import pytest
import shiboken6
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog

from yuexiu_desk.domain.access import system_operator
from yuexiu_desk.domain.units import TRANSITIONS, UnitStatus
from yuexiu_desk.errors import UserError
from yuexiu_desk.gui import dialogs
from yuexiu_desk.gui.models import STATUS_COLUMN
from yuexiu_desk.services.units import UnitFilter, list_units, unit_card

GATE_TIMEOUT_S = 20


class Gate:
    """Holds the status change in the worker until the test opens the gate (then it commits or fails)."""

    def __init__(self) -> None:
        self.started = threading.Event()
        self.open = threading.Event()
        self.error: Exception | None = None

    def wait_started(self) -> None:
        assert self.started.wait(GATE_TIMEOUT_S), "the status change never started"


@pytest.fixture
def gate(window, monkeypatch):
    held = Gate()
    real = dialogs.change_status

    def gated(*args, **kwargs):
        held.started.set()
        assert held.open.wait(GATE_TIMEOUT_S), "the test never opened the gate"
        if held.error is not None:
            raise held.error
        return real(*args, **kwargs)

    monkeypatch.setattr(dialogs, "change_status", gated)
    yield held
    held.open.set()  # never leave a worker blocked (the window waits for it when it closes)


def start_move_in(window, store):
    """Open the change dialog for a vacant unit, fill it in and press 确定变更; the save is now running."""
    vacant = first_unit_with(store, UnitStatus.VACANT)
    card = window.open_unit(vacant.id)
    dialog = card.change_status()
    dialog.target_combo.setCurrentIndex(dialog.target_combo.findData(UnitStatus.OCCUPIED.value))
    dialog.reason_edit.setText("配租签约入住")
    dialog.ok_button.click()
    return vacant, card, dialog


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
    assert event.operator == window.runner.operator == "测试"  # whoever is signed in
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


# --- the status change dialog while its save is running --------------------------------------------


def test_esc_and_cancel_wait_while_the_change_is_saved(window, qtbot, demo_store, gate, wait_job, messages):
    vacant, card, dialog = start_move_in(window, demo_store)
    results = []
    dialog.finished.connect(results.append)
    gate.wait_started()
    assert dialog.busy and window.runner.is_busy
    assert not dialog.cancel_button.isEnabled() and dialog.saving_label.isVisible()
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    dialog.reject()
    dialog.close()  # the title bar's close button
    assert dialog.isVisible() and results == []

    changed = []
    window.runner.changed.connect(changed.append)
    with wait_job(window.runner) as finished:
        gate.open.set()
    assert finished.args[1] is True
    assert changed == ["units"]
    assert results == [QDialog.DialogCode.Accepted]
    assert messages.shown == []
    with demo_store.read() as session:
        assert unit_card(session, vacant.id).row.status == UnitStatus.OCCUPIED
    assert card.status_chip.text() == "已入住"
    row = window.register.model.row_of(vacant.id)
    assert window.register.model.index(row, STATUS_COLUMN).data() == "已入住"


def test_change_saved_after_its_dialog_is_gone_still_refreshes_the_views(
    window, qtbot, demo_store, gate, wait_job, messages
):
    vacant, card, dialog = start_move_in(window, demo_store)
    gate.wait_started()
    shiboken6.delete(dialog)  # e.g. its card was destroyed while saving
    changed = []
    window.runner.changed.connect(changed.append)
    with wait_job(window.runner) as finished:
        gate.open.set()
    assert finished.args[1] is True
    assert changed == ["units"]  # emitted although the dialog's own callback could not run
    assert messages.shown == []  # no "Internal C++ object already deleted", no apology
    assert card.status_chip.text() == "已入住"
    row = window.register.model.row_of(vacant.id)
    assert window.register.model.index(row, STATUS_COLUMN).data() == "已入住"
    # the card can open a new change dialog
    again = card.change_status()
    assert again is not None and again.isVisible()


def test_refused_change_after_its_dialog_is_gone_still_says_why(
    window, qtbot, demo_store, gate, wait_job, messages
):
    gate.error = UserError("这套房源正在办理其他异动，请稍后再试。")
    vacant, _card, dialog = start_move_in(window, demo_store)
    gate.wait_started()
    shiboken6.delete(dialog)
    with wait_job(window.runner) as finished:
        gate.open.set()
    assert finished.args[1] is False
    assert messages.texts("warning") == ["这套房源正在办理其他异动，请稍后再试。"]
    assert messages.texts("critical") == []
    with demo_store.read() as session:
        assert unit_card(session, vacant.id).row.status == UnitStatus.VACANT


def test_refused_change_reenables_the_dialog(window, qtbot, demo_store, gate, wait_job, messages):
    gate.error = UserError("这套房源正在办理其他异动，请稍后再试。")
    _vacant, _card, dialog = start_move_in(window, demo_store)
    gate.wait_started()
    with wait_job(window.runner):
        gate.open.set()
    assert dialog.isVisible() and not dialog.busy
    assert dialog.cancel_button.isEnabled() and dialog.ok_button.isEnabled()
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not shiboken6.isValid(dialog) or not dialog.isVisible())


# --- closing the window waits for queued writes ------------------------------------------------------


def test_closing_the_window_waits_for_a_change_queued_behind_a_slow_job(window, qtbot, demo_store):
    started, release = threading.Event(), threading.Event()

    def slow():
        started.set()
        assert release.wait(GATE_TIMEOUT_S), "closing the window never started waiting"

    window.runner.run_task(slow, description="正在生成标签 PDF…")
    assert started.wait(GATE_TIMEOUT_S)
    vacant = first_unit_with(demo_store, UnitStatus.VACANT)
    card = window.open_unit(vacant.id)
    dialog = card.change_status()
    dialog.target_combo.setCurrentIndex(dialog.target_combo.findData(UnitStatus.OCCUPIED.value))
    dialog.reason_edit.setText("配租签约入住")
    dialog.ok_button.click()  # queued behind the slow job
    assert window.runner.is_busy and dialog.busy

    shown = []

    def status_message(text):
        shown.append(text)
        release.set()  # the slow job finishes once the window says it is waiting

    window.statusBar().messageChanged.connect(status_message)
    window.close()
    assert not window.isVisible()
    assert shown and "正在生成标签 PDF" in shown[0] and "完成后关闭窗口" in shown[0]
    assert not window.runner.is_busy
    with demo_store.read() as session:
        after = unit_card(session, vacant.id)
    assert after.row.status == UnitStatus.OCCUPIED
    assert after.history[0].reason == "配租签约入住"
    assert window.cards.cards() == []


# --- one closed card is kept and filled with the next unit ----------------------------------------


def test_a_closed_card_is_reused_for_the_next_unit(window, qtbot, unit_id, demo_store):
    first = window.open_unit(unit_id("1-1-101"))
    first.reject()
    assert window.cards.cards() == []
    with demo_store.read() as session:
        moved = next(
            r
            for r in list_units(session, UnitFilter(status=UnitStatus.UNDER_REPAIR))
            if unit_card(session, r.id).history
        )
        expected = unit_card(session, moved.id)
    card = window.open_unit(moved.id)
    assert card is first and card.isVisible()  # the same window, filled again
    assert card.unit_id == moved.id and card.code == moved.code == card.code_label.text()
    assert card.windowTitle() == f"房源卡片 · {moved.code}"
    assert card.status_chip.text() == "维修中" and card.values["房态"].text() == "维修中"
    assert card.history_model.rowCount() == len(expected.history) and card.history_view.isVisible()
    assert window.cards.cards() == [card]
    other = window.open_unit(unit_id("1-1-102"))  # while it is open, another unit gets its own card
    assert other is not card and len(window.cards.cards()) == 2


def test_a_card_closed_with_its_change_dialog_open_is_not_reused(window, qtbot, unit_id, demo_store):
    vacant = first_unit_with(demo_store, UnitStatus.VACANT)
    card = window.open_unit(vacant.id)
    dialog = card.change_status()
    assert dialog is not None and card.is_busy()
    window.cards.close_all()
    qtbot.waitUntil(lambda: not card.isVisible())
    again = window.open_unit(unit_id("1-1-102"))
    assert again is not card


def test_the_card_of_a_vanished_unit_says_so_and_stays_closed(window, unit_id, messages):
    import uuid

    window.open_unit(unit_id("1-1-101")).reject()
    assert window.open_unit(uuid.uuid4()) is None  # through the kept card
    assert window.open_unit(uuid.uuid4()) is None  # and through a new one
    assert len(messages.texts("warning")) == 2
    assert window.cards.cards() == []
    assert window.open_unit(unit_id("1-1-102")).code == "1-1-102"


def test_a_spare_card_is_prepared_after_start_up_and_the_first_scan_fills_it(window, qtbot, unit_id):
    """The first scan of the day should not pay for building a card window: one is made while the desk idles."""
    qtbot.waitUntil(lambda: window.cards._spare is not None, timeout=3000)
    spare = window.cards._spare
    target = unit_id("2-2-1403")
    card = window.cards.open(target)
    assert card is spare and card is not None and card.isVisible()
    assert card.unit_id == target and card.card is not None and card.card.row.code == "2-2-1403"


def test_card_shows_the_household_and_the_lease_versions(window, demo_store, unit_id):
    """一户一档 on the card: who lives there besides the leaseholder, and every version of the lease."""
    from datetime import date

    from sqlalchemy import select

    from yuexiu_desk.domain.leases import RentTier
    from yuexiu_desk.services.leases import change_rent_tier
    from yuexiu_desk.storage.models import HouseholdMember, Lease, Unit

    with demo_store.read() as session:
        lease, code = session.execute(
            select(Lease, Unit.code)
            .join(Unit, Unit.id == Lease.unit_id)
            .where(
                Lease.status == "active", Lease.rent_tier == "standard", Lease.start_date < date(2026, 1, 1)
            )
            .limit(1)
        ).one()
        others = list(
            session.scalars(
                select(HouseholdMember.name).where(
                    HouseholdMember.household_id == lease.household_id,
                    HouseholdMember.is_leaseholder.is_(False),
                )
            )
        )
    with demo_store.unit_of_work(system_operator("王芳")) as session:
        change_rent_tier(
            session, lease.lease_no, RentTier.LOW_INCOME, date(2026, 11, 1), "低保证明 2026-7", "王芳"
        )
    card = window.open_unit(unit_id(code))
    text = card.lease_label.text()
    assert "第1版" in text and "第2版" in text and "低保证明 2026-7" in text
    assert ("同住：无（独居）" in text) if not others else all(name in text for name in others)
