"""租赁合同: signing on a vacant unit through the dialog, filing, what is due, the term check, and the
actions on a selected lease — 续签, 变更档次, 解除, 打印 (合同摘要, 住户登记表)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import shiboken6
from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import QFileDialog
from sqlalchemy import select

from yuexiu_desk.domain.leases import LeaseStatus, RentTier, TerminationKind
from yuexiu_desk.domain.units import UnitStatus
from yuexiu_desk.gui.formprinting import FORM_TITLES
from yuexiu_desk.services.households import HouseholdInput, MemberInput, register_household
from yuexiu_desk.services.leases import add_rent_standard, leases_due, list_leases
from yuexiu_desk.services.units import UnitFilter, find_unit_id_by_code, list_units, unit_card
from yuexiu_desk.storage.models import Lease


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


# --- the actions on a selected lease --------------------------------------------------------------------


def versions_of(store, lease_no):
    with store.read() as session:
        return [r for r in list_leases(session) if r.lease_no == lease_no]


def demo_lease(store, code):
    """The active demo lease of a unit (version 1, standard tier, filed)."""
    with store.read() as session:
        (row,) = [r for r in list_leases(session, active_only=True) if r.unit_code == code]
    assert row.version == 1 and row.rent_tier is RentTier.STANDARD
    return row


def selected(window, lease_no):
    page = leases_page(window)
    assert page.select_lease(lease_no)
    assert page.selected_row().lease_no == lease_no
    return page


def closed(dialog):
    return not shiboken6.isValid(dialog) or not dialog.isVisible()


def test_renew_starts_the_day_after_the_old_end_at_the_standard_then_in_force(
    window, demo_store, wait_job, messages
):
    old = demo_lease(demo_store, "1-1-101")
    # A higher standard approved from before the renewal starts: the renewal is priced at it.
    with demo_store.unit_of_work() as session:
        add_rent_standard(session, RentTier.STANDARD, "12.00", date(2027, 1, 1), "江岸房〔2026〕12号")
    page = selected(window, old.lease_no)
    assert page.renew_button.isEnabled()
    page.renew_button.click()
    dialog = page.dialog
    assert dialog.isVisible() and dialog.row.lease_no == old.lease_no
    dialog.term_spin.setValue(36)
    with wait_job(window.runner):
        dialog.ok_button.click()
    assert closed(dialog)
    assert not messages.texts("warning")

    first, second = versions_of(demo_store, old.lease_no)
    assert (first.version, first.status) == (1, LeaseStatus.SUPERSEDED)
    assert (second.version, second.status) == (2, LeaseStatus.ACTIVE)
    assert first.end == date(2027, 4, 30) and second.start == first.end + timedelta(days=1)
    assert second.end == date(2030, 4, 30)
    # 11.00 元/m² before, 12.00 元/m² in force on 2027-05-01: the same area at the new rate.
    assert second.monthly_rent == (old.monthly_rent / Decimal("11.00") * Decimal("12.00")).quantize(
        Decimal("0.01")
    )
    assert second.filed_on is None  # the renewed term is filed again
    # The list shows the new version on the selected line.
    assert page.select_lease(old.lease_no)
    assert page.selected_row().version == 2


def test_change_tier_needs_a_reason_then_adds_a_version_from_the_chosen_date(
    window, demo_store, wait_job, messages
):
    old = demo_lease(demo_store, "1-1-102")
    page = selected(window, old.lease_no)
    page.tier_button.click()
    dialog = page.dialog
    # The other tier is offered.
    assert RentTier(dialog.tier_combo.currentData()) is RentTier.LOW_INCOME
    dialog.date_edit.setDate(QDate(2026, 12, 1))

    with wait_job(window.runner):
        dialog.ok_button.click()
    assert messages.texts("warning")[-1] == "请填写变更依据（例如低保证明编号或复核结论）。"
    assert dialog.isVisible()
    assert versions_of(demo_store, old.lease_no) == [old]

    dialog.reason_edit.setText("低保证明 江岸民〔2026〕0458号")
    with wait_job(window.runner):
        dialog.ok_button.click()
    assert closed(dialog)
    first, second = versions_of(demo_store, old.lease_no)
    assert first.status is LeaseStatus.SUPERSEDED
    assert second.version == 2 and second.status is LeaseStatus.ACTIVE
    assert second.rent_tier is RentTier.LOW_INCOME
    assert (second.start, second.end) == (old.start, old.end)  # the term is unchanged
    assert second.monthly_rent < old.monthly_rent
    with demo_store.read() as session:
        effective = session.scalar(
            select(Lease.effective_from).where(Lease.lease_no == old.lease_no, Lease.version == 2)
        )
    assert effective == date(2026, 12, 1)


def test_terminate_for_a_violation_needs_evidence_and_leaves_the_unit_occupied(
    window, demo_store, wait_job, messages
):
    old = demo_lease(demo_store, "1-1-103")
    page = selected(window, old.lease_no)
    page.terminate_button.click()
    dialog = page.dialog
    dialog.kind_combo.setCurrentIndex(dialog.kind_combo.findData(TerminationKind.SUBLET.value))
    assert "转借、转租或擅自调换" in dialog.kind_combo.currentText()

    with wait_job(window.runner):
        dialog.ok_button.click()
    assert messages.texts("warning")[-1] == (
        "“转借、转租或擅自调换”属于违约收回，请写明事实和证据（时间、地点、记录编号）。"
    )
    assert dialog.isVisible()
    assert versions_of(demo_store, old.lease_no) == [old]

    dialog.reason_edit.setText("2026-11-18 巡查记录 XC-2026-031：房屋由非登记人员居住，承租人承认转租")
    with wait_job(window.runner):
        dialog.ok_button.click()
    assert closed(dialog)
    assert any(old.lease_no in t and "已解除" in t for t in messages.texts("information"))
    (ended,) = versions_of(demo_store, old.lease_no)
    assert ended.status is LeaseStatus.TERMINATED and ended.status.label == "已解除待退出"
    with demo_store.read() as session:
        card = unit_card(session, find_unit_id_by_code(session, old.unit_code))
    assert card.row.status is UnitStatus.OCCUPIED  # until the move-out handover

    # Off the 仅生效 list; with it unticked the lease shows as 已解除待退出.
    assert not page.select_lease(old.lease_no)
    page.active_only.setChecked(False)
    assert page.select_lease(old.lease_no)
    assert page.selected_row().status is LeaseStatus.TERMINATED
    assert not page.renew_button.isEnabled() and page.moveout_button.isEnabled()


def pdf_text(path):
    import pypdfium2

    document = pypdfium2.PdfDocument(str(path))
    try:
        return "".join(page.get_textpage().get_text_range() for page in document)
    finally:
        document.close()


def test_print_lease_summary_and_household_form(
    window, demo_store, wait_job, messages, monkeypatch, tmp_path
):
    old = demo_lease(demo_store, "1-1-101")
    page = selected(window, old.lease_no)
    assert page.print_button.isEnabled()
    actions = {a.text(): a for a in page.print_button.menu().actions()}
    for kind, title in (("lease", "租赁合同摘要"), ("household", "住户登记表")):
        out = tmp_path / f"{kind}.pdf"
        suggested: list[str] = []

        def save_as(_parent, _caption, proposed, _filter, out=out, suggested=suggested):
            suggested.append(proposed)
            return str(out), "PDF 文件 (*.pdf)"

        monkeypatch.setattr(QFileDialog, "getSaveFileName", save_as)
        with wait_job(window.runner):
            actions[FORM_TITLES[kind]].trigger()
        assert suggested[0].endswith(f"{FORM_TITLES[kind]}-{old.lease_no}.pdf")
        assert out.read_bytes().startswith(b"%PDF")
        text = pdf_text(out)
        assert old.leaseholder in text
        assert title in text
        # Offered to open it; answer_yes is False, so nothing was opened.
        assert str(out) in messages.texts("question")[-1]
    assert not messages.opened_urls
