"""住户档案: the list with masked numbers, registering a household through the dialog, revealing a number."""

from __future__ import annotations

import shiboken6
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QInputDialog
from sqlalchemy import func, select
from stdnum.cn import ric

from yuexiu_desk.services.households import list_households
from yuexiu_desk.storage.models import Household, RevealLog


def valid_id(body: str) -> str:
    return body + ric.calc_check_digit(body + "0")  # it wants a number with a check digit


def households_page(window):
    window.show_page(3)
    page = window.households
    assert window.current_page() is page
    return page


def count_households(store):
    with store.read() as session:
        return session.scalar(select(func.count()).select_from(Household))


def test_list_is_masked_and_filters(window, demo_store):
    page = households_page(window)
    with demo_store.read() as session:
        rows = list_households(session)
    assert page.model.rowCount() == len(rows) > 0
    ids = [page.proxy.index(r, 3).data() for r in range(page.proxy.rowCount())]
    assert all("*" in i for i in ids)
    first = rows[0]
    page.search.setText(first.unit_code)
    assert 1 <= page.proxy.rowCount() < len(rows)
    assert page.row_at(0).unit_code.startswith(first.unit_code)
    assert "/" in page.count_label.text()


def test_register_a_household_through_the_dialog(window, demo_store, wait_job, messages):
    page = households_page(window)
    before = count_households(demo_store)
    dialog = page.register_household()
    head = dialog.members[0]
    head.name.setText("测试甲")
    head.id_number.setText("42010219850317997X")  # wrong check digit
    head.phone.setText("13800001234")
    head.income.setText("36000")
    spouse = dialog.add_member("配偶")
    spouse.name.setText("测试乙")
    spouse.id_number.setText(valid_id("42010219870521998"))
    spouse.groups[next(iter(spouse.groups))].setChecked(True)
    extra = dialog.add_member("子女")
    dialog.remove_member(extra)
    assert len(dialog.members) == 2

    with wait_job(window.runner):
        dialog.ok_button.click()
    assert "第 1 位成员（测试甲）" in messages.texts("warning")[-1]
    assert "身份证" in messages.texts("warning")[-1]
    assert dialog.isVisible() and head.name.text() == "测试甲"  # the input is intact
    assert count_households(demo_store) == before

    good = valid_id("42010219850317997")
    head.id_number.setText(good)
    with wait_job(window.runner):
        dialog.ok_button.click()
    assert not shiboken6.isValid(dialog) or not dialog.isVisible()
    assert count_households(demo_store) == before + 1
    page.search.setText("测试甲")
    assert page.proxy.rowCount() == 1
    row = page.row_at(0)
    assert row.unit_code is None and len(row.members) == 2
    assert page.proxy.index(0, 3).data() != good and "*" in page.proxy.index(0, 3).data()

    # The numbers are sealed, yet typing a whole one finds its household (the keyed-hash index) ...
    page.search.setText(good.lower())
    assert page.proxy.rowCount() == 1 and page.row_at(0).id == row.id
    assert page.count_label.text() == f"1 / {page.model.rowCount()} 户"
    page.search.setText(valid_id("42010219990101123"))  # a valid number nobody here has
    assert page.proxy.rowCount() == 0 and page.count_label.text().startswith("0 /")
    # ... and a mistyped one says what is wrong instead of silently finding nobody.
    page.search.setText(good[:-1] + ("1" if good[-1] != "1" else "2"))
    assert page.proxy.rowCount() == 0
    assert page.count_label.text().startswith("0 户（") and "校验" in page.count_label.text()
    page.search.setText("")
    assert page.proxy.rowCount() == page.model.rowCount()


def test_reveal_asks_a_reason_and_is_logged(window, demo_store, wait_job, monkeypatch):
    page = households_page(window)
    row = page.row_at(0)
    dialog = page.open_household(row)
    member = row.members[0]
    assert dialog.id_labels[member.id].text() == member.id_number_masked

    asked = []

    def get_text(parent, title, label, *args, **kwargs):
        asked.append(label)
        return "核对证件办理备案", True

    monkeypatch.setattr(QInputDialog, "getText", get_text)
    with wait_job(window.runner):
        dialog.reveal_buttons[member.id].click()
    assert asked
    full = dialog.id_labels[member.id].text()
    assert "*" not in full and len(full) == 18
    with demo_store.read() as session:
        logs = session.scalars(select(RevealLog).where(RevealLog.member_id == member.id)).all()
    assert {log.field for log in logs} >= {"id_number"}
    assert all(log.operator == window.runner.operator and log.reason == "核对证件办理备案" for log in logs)

    # The full number leaves the dialog only through 复制, and the clipboard forgets it after 10 s.
    assert dialog.id_labels[member.id].textInteractionFlags() == Qt.TextInteractionFlag.NoTextInteraction
    timers = []
    monkeypatch.setattr(QTimer, "singleShot", lambda ms, fn: timers.append((ms, fn)))
    dialog.copy_buttons[member.id].click()
    clipboard = QGuiApplication.clipboard()
    assert clipboard.text() == full and timers[-1][0] == 10_000
    timers[-1][1]()
    assert clipboard.text() == ""

    dialog.done(0)
    assert dialog.id_labels[member.id].text() == member.id_number_masked
    assert dialog.copy_buttons[member.id].isHidden() and not dialog.reveal_buttons[member.id].isHidden()


def test_reveal_without_a_reason_is_refused(window, demo_store, wait_job, monkeypatch, messages):
    page = households_page(window)
    row = page.row_at(0)
    dialog = page.open_household(row)
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("", True))
    with wait_job(window.runner):
        dialog.reveal_buttons[row.members[0].id].click()
    assert "理由" in messages.texts("warning")[-1]
    assert dialog.id_labels[row.members[0].id].text() == row.members[0].id_number_masked
    with demo_store.read() as session:
        assert session.scalar(select(func.count()).select_from(RevealLog)) == 0
