"""租赁合同: signing on a vacant unit through the dialog, filing, what is due, the term check."""

from __future__ import annotations

import shiboken6
from PySide6.QtCore import Qt

from yuexiu_desk.domain.units import UnitStatus
from yuexiu_desk.services.households import HouseholdInput, MemberInput, register_household
from yuexiu_desk.services.leases import leases_due, list_leases
from yuexiu_desk.services.units import UnitFilter, find_unit_id_by_code, list_units, unit_card


def leases_page(window):
    window.show_page(4)
    page = window.leases
    assert window.current_page() is page
    return page


def fill_sign(dialog, household_id, code):
    dialog.household_combo.setCurrentIndex(dialog.household_combo.findData(str(household_id)))
    dialog.unit_combo.setCurrentText(code)
    dialog.deposit_edit.setText("1200")


def test_sign_a_lease_on_a_vacant_unit(window, demo_store, wait_job, messages):
    from stdnum.cn import ric

    body = "42010219850317997"
    with demo_store.unit_of_work() as session:
        household = register_household(
            session,
            HouseholdInput(
                [MemberInput("测试丙", "本人", body + ric.calc_check_digit(body + "0"), "13800001235")]
            ),
        )
    with demo_store.read() as session:
        vacant = list_units(session, UnitFilter(status=UnitStatus.VACANT))[0]
    page = leases_page(window)
    before = page.model.rowCount()
    dialog = page.sign()
    assert dialog.household_combo.findData(str(household)) >= 0
    assert dialog.unit_combo.findText(vacant.code) >= 0
    fill_sign(dialog, household, vacant.code)

    dialog.term_spin.setValue(72)  # over 5 years without a reason: refused, nothing saved
    with wait_job(window.runner):
        dialog.ok_button.click()
    assert "5 年" in messages.texts("warning")[-1]
    assert dialog.isVisible()

    dialog.term_spin.setValue(36)
    with wait_job(window.runner):
        dialog.ok_button.click()
    assert not shiboken6.isValid(dialog) or not dialog.isVisible()
    with demo_store.read() as session:
        assert (
            unit_card(session, find_unit_id_by_code(session, vacant.code)).row.status is UnitStatus.OCCUPIED
        )
        signed = [r for r in list_leases(session) if r.unit_code == vacant.code]
    assert len(signed) == 1 and signed[0].leaseholder == "测试丙"
    assert page.model.rowCount() == before + 1
    assert page.select_lease(signed[0].lease_no)
    assert page.selected_row().filed_on is None

    # 备案登记 on the selected lease.
    filing = page.record_filing()
    filing.reference_edit.setText("江岸公租备〔2026〕0999号")
    with wait_job(window.runner):
        filing.ok_button.click()
    assert page.select_lease(signed[0].lease_no)
    assert page.selected_row().filed_on is not None


def test_due_panel_shows_filings_and_renewals(window, demo_store):
    page = leases_page(window)
    with demo_store.read() as session:
        due = leases_due(session, demo_store.clock.now().date())
    assert page.due_model.rowCount() == len(due) > 0
    overdue = [i for i, d in enumerate(due) if d.overdue]
    if overdue:
        colour = page.due_model.index(overdue[0], 0).data(Qt.ItemDataRole.ForegroundRole)
        assert colour is not None and colour.name() == "#c62828"


def test_active_only_toggle(window, demo_store):
    page = leases_page(window)
    with demo_store.read() as session:
        everything = list_leases(session)
        active = list_leases(session, active_only=True)
    assert page.model.rowCount() == len(active)
    page.active_only.setChecked(False)
    assert page.model.rowCount() == len(everything)
