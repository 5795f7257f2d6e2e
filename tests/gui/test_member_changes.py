"""住户档案, member changes: the selected household's members (masked, those who left greyed) and 变更记录,
and the 新增成员 / 成员迁出 / 修改就业/收入/特殊群体 dialogs, which stay open when the service says no."""

from __future__ import annotations

from datetime import timedelta

import shiboken6
from PySide6.QtCore import Qt
from sqlalchemy import func, select
from stdnum.iso7064 import mod_11_2

from yuexiu_desk.clock import local_date
from yuexiu_desk.domain.households import SpecialGroup
from yuexiu_desk.gui.pages.households import LEFT_COLOUR
from yuexiu_desk.gui.savedialog import to_qdate
from yuexiu_desk.services import people
from yuexiu_desk.services.members import LEASEHOLDER_CANNOT_LEAVE
from yuexiu_desk.storage.models import HouseholdMember, MemberChange

STATUS_COLUMN = 6
ID_COLUMN = 3


def ident(body17: str) -> str:
    return body17 + mod_11_2.calc_check_digit(body17)


def households_page(window):
    window.show_page(3)
    page = window.households
    assert window.current_page() is page
    return page


def open_family(page):
    """Select a household of three or more; its members appear below the list."""
    row = next(r for r in page.model.rows if r.unit_code and len(r.members) >= 3)
    assert page.select_household(row.id)
    return row


def closed(dialog) -> bool:
    return not shiboken6.isValid(dialog) or not dialog.isVisible()


def count(store, model) -> int:
    with store.read() as session:
        return session.scalar(select(func.count()).select_from(model))


def today_of(store):
    return local_date(store.clock.now())


def member_row(page, member_id) -> int:
    return next(i for i, line in enumerate(page.member_model.rows) if line.member.id == member_id)


def test_the_selected_households_members_are_shown_masked(window):
    page = households_page(window)
    assert not page.add_member_button.isEnabled()  # nothing selected yet
    assert "选中一户" in page.detail_title.text()
    row = open_family(page)
    assert page.selected_household().id == row.id
    assert page.member_model.rowCount() == len(row.members)
    shown = [page.member_model.index(r, ID_COLUMN).data() for r in range(page.member_model.rowCount())]
    assert shown == [m.id_number_masked for m in row.members] and all("*" in s for s in shown)
    assert {page.member_model.index(r, STATUS_COLUMN).data() for r in range(len(row.members))} == {"在户"}
    assert page.history_model.rowCount() == 0
    assert f"家庭成员 {len(row.members)} 人" in page.detail_title.text()
    for button in (page.add_member_button, page.remove_member_button, page.change_member_button):
        assert button.isEnabled()
    page.search.setText("没有这样的住户")  # the household filtered out of sight: nothing to act on
    assert page.member_model.rowCount() == 0 and not page.add_member_button.isEnabled()
    page.search.clear()
    assert page.select_household(row.id) and page.member_model.rowCount() == len(row.members)


def test_add_a_member_through_the_dialog(window, demo_store, wait_job, messages):
    page = households_page(window)
    row = open_family(page)
    members_before = count(demo_store, HouseholdMember)
    dialog = page.add_member()
    assert dialog.relation_combo.findText("本人") == -1  # the leaseholder is never added here
    assert dialog.date_edit.date() == to_qdate(today_of(demo_store))  # defaults to today
    good = ident("42010220261101003")
    dialog.name_edit.setText("测试宝宝")
    dialog.relation_combo.setCurrentText("孙子女")
    dialog.id_edit.setText(good[:-1] + ("1" if good[-1] != "1" else "2"))  # D2: a wrong check digit
    dialog.reason_edit.setText("新生儿落户")
    with wait_job(window.runner):
        dialog.ok_button.click()
    assert "校验位" in messages.texts("warning")[-1]
    assert dialog.isVisible() and dialog.name_edit.text() == "测试宝宝"  # the input is intact
    assert count(demo_store, HouseholdMember) == members_before

    dialog.id_edit.setText(good)
    dialog.date_edit.setDate(to_qdate(today_of(demo_store) - timedelta(days=3)))
    with wait_job(window.runner):
        dialog.ok_button.click()
    assert closed(dialog)
    assert count(demo_store, HouseholdMember) == members_before + 1
    assert page.selected_household().id == row.id  # the page refreshed and kept the household
    names = [line.member.name for line in page.member_model.rows]
    assert names[-1] == "测试宝宝"
    added = page.member_model.rows[-1].member
    assert (
        good not in added.id_number_masked
        and "*" in page.member_model.index(len(names) - 1, ID_COLUMN).data()
    )
    assert page.history_model.rowCount() == 1
    change = page.history_model.row(0)
    assert (change.member_name, change.effective_on) == ("测试宝宝", today_of(demo_store) - timedelta(days=3))
    assert page.history_model.index(0, 2).data() == "迁入（孙子女）"
    assert page.history_model.index(0, 4).data() == window.runner.operator
    assert "变更记录（1 条）" in page.history_title.text()


def test_the_leaseholder_cannot_be_moved_out(window, demo_store, messages):
    page = households_page(window)
    row = open_family(page)
    page.select_member(row.members[0].id)
    assert page.remove_member() is None
    assert messages.texts("warning")[-1] == LEASEHOLDER_CANNOT_LEAVE
    page.members_view.clearSelection()
    dialog = page.remove_member()  # with nobody selected, the dialog offers everyone but the leaseholder
    offered = [dialog.member_combo.itemData(i) for i in range(dialog.member_combo.count())]
    assert offered == [str(m.id) for m in row.members[1:]]
    dialog.reject()


def test_move_a_member_out_and_see_them_greyed(window, demo_store, wait_job, messages):
    page = households_page(window)
    row = open_family(page)
    leaving = row.members[-1]
    page.select_member(leaving.id)
    dialog = page.remove_member()
    assert dialog.member.id == leaving.id
    today = today_of(demo_store)
    dialog.date_edit.setDate(to_qdate(today - timedelta(days=1)))  # before they were registered
    dialog.reason_edit.setText("子女婚后迁出")
    with wait_job(window.runner):
        dialog.ok_button.click()
    assert "入户日期" in messages.texts("warning")[-1]
    assert dialog.isVisible() and count(demo_store, MemberChange) == 0

    dialog.date_edit.setDate(to_qdate(today))
    with wait_job(window.runner):
        dialog.ok_button.click()
    assert closed(dialog)
    line = member_row(page, leaving.id)
    assert line == page.member_model.rowCount() - 1  # those who left come last
    assert page.member_model.index(line, STATUS_COLUMN).data() == f"{today} 迁出"
    assert page.member_model.index(line, 0).data(Qt.ItemDataRole.ForegroundRole) == LEFT_COLOUR
    assert page.member_model.index(0, 0).data(Qt.ItemDataRole.ForegroundRole) is None
    assert "另有 1 人已迁出" in page.detail_title.text()
    assert page.history_model.index(0, 2).data().startswith("迁出")

    page.select_member(leaving.id)
    assert page.change_member() is None  # nothing more for someone who has left
    assert "已登记于" in messages.texts("warning")[-1]


def test_change_employer_income_and_flags(window, demo_store, wait_job, messages):
    page = households_page(window)
    row = open_family(page)
    member = row.members[1]
    page.select_member(member.id)
    dialog = page.change_member()
    assert dialog.member.id == member.id
    current = dialog.member
    assert dialog.employer_edit.text() == current.employer  # starts from what is on file
    assert dialog.income_edit.text() == current.income_text
    dialog.reason_edit.setText("年度复核")
    with wait_job(window.runner):
        dialog.ok_button.click()  # nothing edited
    assert "没有需要保存的变更" in messages.texts("warning")[-1]
    assert dialog.isVisible()

    dialog.income_edit.setText("45678.90")
    box = dialog.group_boxes[SpecialGroup.DISABLED]
    box.setChecked(not box.isChecked())
    with wait_job(window.runner):
        dialog.ok_button.click()
    assert closed(dialog)
    texts = [page.history_model.index(r, 2).data() for r in range(page.history_model.rowCount())]
    assert len(texts) == 2  # one line per field that changed; the employer did not
    assert any(t.startswith("年收入（元）") and t.endswith("→ 45,678.90") for t in texts)
    assert any(t.startswith("特殊群体") for t in texts)
    with demo_store.read() as session:
        values = people.unsealed(session.get(HouseholdMember, member.id))
        assert values.income_fen == 4_567_890
        assert (SpecialGroup.DISABLED in values.groups) is (SpecialGroup.DISABLED not in current.groups)
    ids = [page.member_model.index(r, ID_COLUMN).data() for r in range(page.member_model.rowCount())]
    assert all("*" in i for i in ids)  # still masked after the refresh


def test_choosing_another_member_refills_the_change_dialog(window):
    page = households_page(window)
    row = open_family(page)
    page.members_view.clearSelection()
    dialog = page.change_member()
    assert dialog.member.id == row.members[0].id  # the leaseholder when nobody is selected
    dialog.select_member(row.members[2].id)
    assert dialog.employer_edit.text() == dialog.member.employer
    assert dialog.income_edit.text() == dialog.member.income_text
    checked = {g for g, box in dialog.group_boxes.items() if box.isChecked()}
    assert checked == set(dialog.member.groups)
    dialog.reject()


def test_a_date_too_far_ahead_is_refused_in_the_dialog(window, demo_store, wait_job, messages):
    page = households_page(window)
    open_family(page)
    dialog = page.change_member()
    dialog.employer_edit.setText("新单位")
    dialog.reason_edit.setText("换工作")
    dialog.date_edit.setDate(to_qdate(today_of(demo_store) + timedelta(days=120)))
    with wait_job(window.runner):
        dialog.ok_button.click()
    assert "最晚只能登记到" in messages.texts("warning")[-1]
    assert dialog.isVisible() and count(demo_store, MemberChange) == 0
    dialog.reject()
