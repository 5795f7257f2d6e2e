"""Check-in (入住交接) and move-out (退出交接) driven through the dialogs generated from forms/*.toml."""

from __future__ import annotations

import shutil
from datetime import date

import shiboken6
from PySide6.QtWidgets import QFileDialog, QLabel
from sqlalchemy import select

from yuexiu_desk import paths
from yuexiu_desk.domain.leases import LeaseStatus
from yuexiu_desk.domain.units import UnitStatus
from yuexiu_desk.formdefs import load_form
from yuexiu_desk.gui.handover import settlement_text
from yuexiu_desk.services.handover import CHECKIN, MOVEOUT, Settlement, handover_values
from yuexiu_desk.services.leases import list_leases
from yuexiu_desk.services.units import find_unit_id_by_code, unit_card
from yuexiu_desk.storage.models import Handover, Lease


def an_active_lease(store):
    with store.read() as session:
        return list_leases(session, active_only=True)[0]


def leases_page(window, lease_no):
    window.show_page(4)
    page = window.leases
    assert window.current_page() is page
    assert page.select_lease(lease_no)
    return page


def save_to(monkeypatch, out):
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(out), "PDF 文件 (*.pdf)"))


def fill_checkin(dialog):
    for i, edit in enumerate(dialog.readings.values()):
        edit.setText(f"{120 + i}.50")
    for spin in dialog.counts.values():
        spin.setValue(2)
    entries = list(dialog.items.values())
    for entry in entries:
        entry.choose(entry.item.results[0])
    entries[1].choose(entries[1].item.results[1])  # one flaw, with its note
    entries[1].note.setText("东墙有裂纹约 20 厘米")


def test_checkin_through_the_generated_dialog(
    window, demo_store, wait_job, messages, monkeypatch, tmp_path, qtbot
):
    lease = an_active_lease(demo_store)
    page = leases_page(window, lease.lease_no)
    dialog = page.handover(CHECKIN)
    definition = load_form(CHECKIN)
    # Every reading, count and checklist item of the definition is on screen.
    assert set(dialog.items) == {item.id for item in definition.items}
    readings = {f"{s.id}.{f.id}" for s in definition.sections if s.type.value == "readings" for f in s.fields}
    assert set(dialog.readings) == readings
    assert len(dialog.counts) == 4

    # Not all answered: the service's sentence, nothing saved, the dialog stays open.
    dialog.readings["meters.water_meter"].setText("120.50")
    with wait_job(window.runner):
        dialog.ok_button.click()
    assert any("未查验" in t or "读数" in t for t in messages.texts("warning"))
    assert dialog.isVisible()

    fill_checkin(dialog)
    out = tmp_path / "入住交接单.pdf"
    save_to(monkeypatch, out)
    messages.answer_yes = True
    with wait_job(window.runner):
        dialog.ok_button.click()
    qtbot.waitUntil(lambda: out.exists() and bool(messages.opened_urls), timeout=20_000)
    assert not shiboken6.isValid(dialog) or not dialog.isVisible()
    with demo_store.read() as session:
        saved = handover_values(session, lease.lease_no, CHECKIN)
    assert saved is not None
    assert saved["meters.water_meter"].reading_hundredths == 12050
    assert saved["keys.door_keys"].count == 2
    flawed = list(dialog.items)[1]
    assert saved[flawed].result == "损坏" and saved[flawed].note == "东墙有裂纹约 20 厘米"
    assert len(saved) == len(definition.items) + len(readings) + 4
    assert out.read_bytes().startswith(b"%PDF")
    assert messages.opened_urls[-1].toLocalFile() == str(out)


def test_checkin_then_moveout_with_damage_and_a_replaced_meter(
    window, demo_store, wait_job, messages, monkeypatch, tmp_path, qtbot
):
    lease = an_active_lease(demo_store)
    page = leases_page(window, lease.lease_no)
    checkin = page.handover(CHECKIN)
    fill_checkin(checkin)
    with wait_job(window.runner):
        checkin.ok_button.click()  # answer_yes is False: no print
    assert not shiboken6.isValid(checkin) or not checkin.isVisible()

    assert page.select_lease(lease.lease_no)
    dialog = page.handover(MOVEOUT)
    # The check-in values are shown beside each reading and item.
    texts = [label.text() for label in dialog.findChildren(QLabel)]
    assert "120.50" in texts
    assert any(t.startswith("入住时：损坏") for t in texts)
    dialog.readings["meters.water_meter"].setText("10.00")  # lower: a new meter
    dialog.readings["meters.electricity_meter"].setText("300.00")
    dialog.readings["meters.gas_meter"].setText("200.00")
    for spin in dialog.counts.values():
        spin.setValue(2)
    dialog.fill_unanswered_with_first()
    first = next(iter(dialog.items.values()))
    first.choose("损坏")
    first.note.setText("门锁锁芯损坏")
    dialog.add_damage("入户门锁芯更换", "150")
    dialog.unit_after.setCurrentIndex(dialog.unit_after.findData(UnitStatus.VACANT.value))

    with wait_job(window.runner):
        dialog.ok_button.click()
    assert "已换表" in messages.texts("warning")[-1]
    assert dialog.isVisible()
    with demo_store.read() as session:
        assert handover_values(session, lease.lease_no, MOVEOUT) is None

    dialog.meter_replaced.setChecked(True)
    out = tmp_path / "退出查验及结算单.pdf"
    save_to(monkeypatch, out)
    messages.answer_yes = True
    with wait_job(window.runner):
        dialog.ok_button.click()
    qtbot.waitUntil(lambda: out.exists() and bool(messages.opened_urls), timeout=20_000)

    move_out = date(2026, 11, 20)
    with demo_store.read() as session:
        row = session.scalar(
            select(Lease).where(Lease.lease_no == lease.lease_no).order_by(Lease.version.desc()).limit(1)
        )
        assert row.status == LeaseStatus.ENDED.value
        card = unit_card(session, find_unit_id_by_code(session, lease.unit_code))
        moved = handover_values(session, lease.lease_no, MOVEOUT)
        saved = session.scalar(select(Handover).where(Handover.kind == MOVEOUT))
        assert saved is not None and saved.move_out_date == move_out
        expected = Settlement(
            saved.rent_to_day_fen, saved.unpaid_bills_fen, saved.damages_fen, saved.deposit_fen
        )
        balance = saved.balance_fen
    # What the clerk was shown is the service's settlement.
    assert expected.damages_fen == 15000
    assert any(settlement_text(expected) in t for t in messages.texts("question"))
    assert balance == expected.balance_fen
    assert card.row.status is UnitStatus.VACANT
    assert moved is not None and moved["meters.water_meter"].reading_hundredths == 1000
    assert out.read_bytes().startswith(b"%PDF")


def test_an_item_added_to_the_form_shows_in_the_checkin_dialog(
    window, demo_store, wait_job, monkeypatch, tmp_path
):
    forms = tmp_path / "forms"
    shutil.copytree(paths.forms_dir(), forms)
    toml = forms / "checkin.toml"
    text = toml.read_text(encoding="utf-8")
    anchor = '  { id = "intercom", label = "可视对讲门铃", results = ["完好", "损坏", "缺失", "无此项"] },\n'
    assert anchor in text
    toml.write_text(
        text.replace(anchor, anchor + '  { id = "smoke_alarm", label = "烟雾报警器" },\n'), encoding="utf-8"
    )
    monkeypatch.setattr(paths, "forms_dir", lambda: forms)

    lease = an_active_lease(demo_store)
    dialog = leases_page(window, lease.lease_no).handover(CHECKIN)
    assert "living.smoke_alarm" in dialog.items
    assert "烟雾报警器" in [label.text() for label in dialog.findChildren(QLabel)]
    fill_checkin(dialog)
    with wait_job(window.runner):
        dialog.ok_button.click()
    with demo_store.read() as session:
        saved = handover_values(session, lease.lease_no, CHECKIN)
    assert saved is not None and saved["living.smoke_alarm"].result == "完好"


def test_unit_card_shows_the_lease_and_opens_the_checkin(window, demo_store):
    lease = an_active_lease(demo_store)
    with demo_store.read() as session:
        unit = find_unit_id_by_code(session, lease.unit_code)
    card = window.open_unit(unit)
    text = card.lease_label.text()
    assert lease.leaseholder in text and lease.lease_no in text and f"{lease.monthly_rent:,.2f}" in text
    assert card.checkin_button.isEnabled()
    dialog = card.open_handover(CHECKIN)
    assert dialog.isVisible() and dialog.lease.lease_no == lease.lease_no
    assert card.is_busy()
    dialog.reject()
