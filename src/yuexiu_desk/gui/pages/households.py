"""住户档案 (一户一档): the households list with masked IDs and phones and a filter box; below it the selected
household's members (those who left greyed, with the day) and its 变更记录, with the member changes
(gui.memberdialogs); a household's detail (showing a full number asks for a reason and is logged);
registering a new household; the Excel template and importing the station's existing ledgers
(gui.householdimport)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from PySide6.QtCore import QModelIndex, QSortFilterProxyModel, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.orm import Session

from yuexiu_desk.clock import local_date, local_text
from yuexiu_desk.domain.households import LEASEHOLDER_RELATION, RELATIONS, SpecialGroup
from yuexiu_desk.domain.leases import RentTier
from yuexiu_desk.errors import UserError
from yuexiu_desk.gui import messages
from yuexiu_desk.gui.householdimport import CHECKING, HouseholdImporter
from yuexiu_desk.gui.login import CLIPBOARD_SECONDS, copy_briefly
from yuexiu_desk.gui.memberdialogs import (
    AddMemberDialog,
    ChangeMemberDialog,
    HouseholdRef,
    RemoveMemberDialog,
)
from yuexiu_desk.gui.oprunner import OpRunner
from yuexiu_desk.gui.pages.lazy import RefreshingPage
from yuexiu_desk.gui.rowsmodel import RowColumn, RowsModel, rows_table
from yuexiu_desk.gui.savedialog import SavingDialog
from yuexiu_desk.services import people
from yuexiu_desk.services.households import (
    HouseholdInput,
    HouseholdRow,
    MemberInput,
    MemberRow,
    households_with_id_number,
    list_households,
    register_household,
)
from yuexiu_desk.services.members import (
    LEASEHOLDER_CANNOT_LEAVE,
    ChangeRow,
    MemberView,
    groups_text,
    household_members,
    member_history,
)
from yuexiu_desk.storage.db import Store

LEFT_COLOUR = QColor("#8a94a0")  # members who have left: kept in the file, greyed


def _leaseholder(row: HouseholdRow) -> MemberRow | None:
    return next((m for m in row.members if m.relation == LEASEHOLDER_RELATION), None)


def _groups_text(groups: list[SpecialGroup]) -> str:
    return "、".join(g.label for g in groups)


HOUSEHOLD_COLUMNS: tuple[RowColumn[HouseholdRow], ...] = (
    RowColumn("房号", lambda r: r.unit_code or "（未签约）", 100),
    RowColumn("承租人", lambda r: r.leaseholder, 90),
    RowColumn("人数", lambda r: str(len(r.members)), 50, Qt.AlignmentFlag.AlignCenter),
    RowColumn("身份证号", lambda r: m.id_number_masked if (m := _leaseholder(r)) else "", 170),
    RowColumn("电话", lambda r: m.phone_masked if (m := _leaseholder(r)) else "", 120),
    RowColumn("特殊群体", lambda r: _groups_text(r.flags), 150),
    RowColumn("租金档次", lambda r: r.rent_tier.label, 90),
)


@dataclass(frozen=True)
class MemberLine:
    """A member as of the day the page was read: here, gone, or about to come or go."""

    member: MemberView
    today: date

    @property
    def has_left(self) -> bool:
        """Greyed from the recorded last day on: the clerk who just recorded a move-out today sees it done,
        although the member still counts for that day (services.members.current_members)."""
        return self.member.left_on is not None and self.member.left_on <= self.today

    @property
    def status(self) -> str:
        m = self.member
        if m.left_on is not None:
            return f"{m.left_on} 迁出" if self.has_left else f"将于 {m.left_on} 迁出"
        if m.joined_on > self.today:
            return f"将于 {m.joined_on} 迁入"
        return "在户"


# Sex and phone are left to the household's detail (double-click): the panel sits beside the 变更记录 and
# shows what a member change needs — who, how related, which of two namesakes, and what may change.
MEMBER_COLUMNS: tuple[RowColumn[MemberLine], ...] = (
    RowColumn("姓名", lambda r: r.member.name, 64),
    RowColumn("关系", lambda r: r.member.relation, 52),
    RowColumn("出生日期", lambda r: str(r.member.birth_date), 84),
    RowColumn("身份证号", lambda r: r.member.id_number_masked, 140),
    RowColumn("工作单位", lambda r: r.member.employer or "—", 100),
    RowColumn("特殊群体", lambda r: groups_text(r.member.groups) or "—", 90),
    RowColumn("状态", lambda r: r.status, 110),
)

HISTORY_COLUMNS: tuple[RowColumn[ChangeRow], ...] = (
    RowColumn("生效日期", lambda c: str(c.effective_on), 86),
    RowColumn("成员", lambda c: c.member_name, 56),
    RowColumn("变更内容", lambda c: c.description, 250),
    RowColumn("原因", lambda c: c.reason, 130),
    RowColumn("经办人", lambda c: c.operator, 56),
    RowColumn("登记时间", lambda c: local_text(c.created_at), 120),
)


_ID_TEXT = re.compile(r"^(\d{17}[\dXx]|\d{15}|9\d{16}[\dXx])$")


class _HouseholdFilter(QSortFilterProxyModel):
    """The list's filter: the typed text anywhere in a row, or (a whole ID number typed) only the households
    the search by ID number found."""

    def __init__(self, rows: RowsModel[HouseholdRow], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.rows = rows
        self.only: set[uuid.UUID] | None = None

    def filterAcceptsRow(self, source_row: int, source_parent: Any) -> bool:
        if self.only is not None:
            return self.rows.row(source_row).id in self.only
        return super().filterAcceptsRow(source_row, source_parent)


class HouseholdsPage(RefreshingPage):
    def __init__(self, store: Store, runner: OpRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.runner = runner
        self._stale = True
        self.dialog: Any = None
        self.id_problem = ""

        title = QLabel("住户档案")
        title.setObjectName("pageTitle")
        self.search = QLineEdit()
        self.search.setPlaceholderText(
            "筛选：房号、承租人姓名、特殊群体或档次，例如 3-1、张、残疾；或输入完整身份证号查找"
        )
        self.search.setClearButtonEnabled(True)
        self.search.setAccessibleName("筛选")
        self.count_label = QLabel()
        self.count_label.setObjectName("countLabel")
        self.register_button = QPushButton("登记新住户(&N)…")
        self.register_button.setObjectName("primary")
        self.register_button.clicked.connect(self.register_household)
        self.importer = HouseholdImporter(runner, self)
        self.template_button = QPushButton("导出导入模板…")
        self.template_button.setToolTip("保存住户及合同的 Excel 导入模板（含填写说明）")
        self.template_button.clicked.connect(self.export_template)
        self.import_button = QPushButton("从 Excel 导入住户(&I)…")
        self.import_button.setToolTip("先检查整个文件；有任何问题则不导入任何数据")
        self.import_button.clicked.connect(self.import_households)
        self.import_busy = QLabel(f"{CHECKING.rstrip('…')}，大文件需要几十秒，可继续其他操作…")
        self.import_busy.setObjectName("hint")
        self.import_busy.hide()
        self.importer.busy_changed.connect(self._import_busy)
        bar = QHBoxLayout()
        bar.addWidget(title)
        bar.addSpacing(12)
        bar.addWidget(self.search, 1)
        bar.addWidget(self.count_label)
        bar.addWidget(self.template_button)
        bar.addWidget(self.import_button)
        bar.addWidget(self.register_button)

        self.model: RowsModel[HouseholdRow] = RowsModel(HOUSEHOLD_COLUMNS, parent=self)
        self.proxy = _HouseholdFilter(self.model, self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setFilterKeyColumn(-1)
        self.proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.search.textChanged.connect(self._filter)
        self.view = QTableView()
        self.view.setModel(self.proxy)
        self.view.verticalHeader().setVisible(False)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.setAlternatingRowColors(True)
        for column, spec in enumerate(HOUSEHOLD_COLUMNS):
            self.view.setColumnWidth(column, spec.width)
        self.view.horizontalHeader().setStretchLastSection(True)
        self.view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.view.doubleClicked.connect(self._open_index)
        self.view.selectionModel().selectionChanged.connect(lambda *_a: self._show_selected())
        hint = QLabel(
            "身份证号和电话默认打码显示；双击一户可查看完整号码（需说明理由并会被记录）。"
            "选中一户后在下方办理成员变更。"
        )
        hint.setObjectName("hint")

        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.setChildrenCollapsible(False)
        splitter.addWidget(self.view)
        splitter.addWidget(self._build_detail())
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        splitter.setSizes([420, 300])

        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        layout.addLayout(bar)
        layout.addWidget(self.import_busy)
        layout.addWidget(splitter, 1)
        layout.addWidget(hint)
        self._show_selected()

    def _build_detail(self) -> QWidget:
        """The selected household: its members and its 变更记录 side by side, with the member changes."""
        self.detail_title = QLabel()
        font = self.detail_title.font()
        font.setBold(True)
        self.detail_title.setFont(font)
        self.add_member_button = QPushButton("新增成员…")
        self.add_member_button.clicked.connect(self.add_member)
        self.remove_member_button = QPushButton("成员迁出…")
        self.remove_member_button.clicked.connect(self.remove_member)
        self.change_member_button = QPushButton("修改就业/收入/特殊群体…")
        self.change_member_button.clicked.connect(self.change_member)
        head = QHBoxLayout()
        head.addWidget(self.detail_title, 1)
        for button in (self.add_member_button, self.remove_member_button, self.change_member_button):
            head.addWidget(button)

        self.member_model: RowsModel[MemberLine] = RowsModel(
            MEMBER_COLUMNS, lambda r: LEFT_COLOUR if r.has_left else None, self
        )
        self.members_view = rows_table(self.member_model)
        self.members_view.setAccessibleName("家庭成员")
        self.members_view.doubleClicked.connect(lambda _index: self.change_member())
        self.history_model: RowsModel[ChangeRow] = RowsModel(HISTORY_COLUMNS, parent=self)
        self.history_view = rows_table(self.history_model)
        self.history_view.setAccessibleName("变更记录")
        self.history_title = QLabel("变更记录")
        self.history_title.setFont(font)
        history_box = QWidget()
        history_layout = QVBoxLayout(history_box)
        history_layout.setContentsMargins(0, 0, 0, 0)
        history_layout.addWidget(self.history_title)
        history_layout.addWidget(self.history_view, 1)
        members_box = QWidget()
        members_layout = QVBoxLayout(members_box)
        members_layout.setContentsMargins(0, 0, 0, 0)
        members_layout.addLayout(head)
        members_layout.addWidget(self.members_view, 1)

        split = QSplitter(Qt.Orientation.Horizontal)
        split.setChildrenCollapsible(False)
        split.addWidget(members_box)
        split.addWidget(history_box)
        # Members need a fixed width (short columns); extra width goes to the history's longer texts.
        split.setStretchFactor(0, 0)
        split.setStretchFactor(1, 1)
        split.setSizes([660, 440])
        detail = QWidget()
        detail_layout = QVBoxLayout(detail)
        detail_layout.setContentsMargins(0, 6, 0, 0)
        detail_layout.addWidget(split)
        return detail

    def refresh(self) -> None:
        selected = self.selected_household()
        with self.store.read() as session:
            rows = list_households(session)
        self._stale = False
        self.model.set_rows(rows)
        self._update_count()
        if selected is None or not self.select_household(selected.id):
            self._show_selected()

    def _filter(self, text: str) -> None:
        text = text.strip()
        self.id_problem = ""
        if _ID_TEXT.match(text):
            # A whole ID number: the numbers are sealed, so it is looked up by its keyed hash, not matched.
            try:
                with self.store.read() as session:
                    self.proxy.only = households_with_id_number(session, text)
            except UserError as exc:
                self.proxy.only = set()
                self.id_problem = exc.message
            self.proxy.setFilterFixedString("")
            self.proxy.invalidate()
        else:
            self.proxy.only = None
            self.proxy.setFilterFixedString(text)
        self._update_count()
        self._show_selected()  # the selected household may have been filtered out of sight

    def _update_count(self) -> None:
        shown, total = self.proxy.rowCount(), self.model.rowCount()
        self.count_label.setText(f"{shown} 户" if shown == total else f"{shown} / {total} 户")
        self.count_label.setToolTip(self.id_problem)
        if self.id_problem:
            self.count_label.setText(f"0 户（{self.id_problem.rstrip('。')}）")

    def row_at(self, proxy_row: int) -> HouseholdRow:
        return self.model.row(self.proxy.mapToSource(self.proxy.index(proxy_row, 0)).row())

    # --- the selected household ---------------------------------------------------------------------
    def selected_household(self) -> HouseholdRow | None:
        rows = self.view.selectionModel().selectedRows()
        return self.row_at(rows[0].row()) if rows else None

    def select_household(self, household_id: uuid.UUID) -> bool:
        """Select a household in the list (if the filter shows it); its members and changes appear below."""
        for row, household in enumerate(self.model.rows):
            if household.id == household_id:
                index = self.proxy.mapFromSource(self.model.index(row, 0))
                if not index.isValid():
                    return False
                self.view.selectRow(index.row())
                self.view.scrollTo(index)
                return True
        return False

    def _show_selected(self) -> None:
        household = self.selected_household()
        if household is None:
            self.member_model.set_rows([])
            self.history_model.set_rows([])
            self.detail_title.setText("在上方列表中选中一户，查看家庭成员和变更记录")
            self.history_title.setText("变更记录")
        else:
            today = local_date(self.store.clock.now())
            with self.store.read() as session:
                members = household_members(session, household.id)
                history = member_history(session, household.id)
            lines = [MemberLine(m, today) for m in members]
            self.member_model.set_rows(lines)
            self.history_model.set_rows(history)
            gone = sum(1 for line in lines if line.has_left)
            here = len(lines) - gone
            self.detail_title.setText(
                f"{household.unit_code or '未签约'} · {household.leaseholder} · 家庭成员 {here} 人"
                + (f"（另有 {gone} 人已迁出）" if gone else "")
            )
            self.history_title.setText(f"变更记录（{len(history)} 条）")
        for button in (self.add_member_button, self.remove_member_button, self.change_member_button):
            button.setEnabled(household is not None)

    def selected_member(self) -> MemberView | None:
        rows = self.members_view.selectionModel().selectedRows()
        return self.member_model.row(rows[0].row()).member if rows else None

    def select_member(self, member_id: uuid.UUID) -> bool:
        for row, line in enumerate(self.member_model.rows):
            if line.member.id == member_id:
                self.members_view.selectRow(row)
                return True
        return False

    def _household_ref(self) -> HouseholdRef | None:
        household = self.selected_household()
        if household is None:
            messages.warn(self, "请先在列表中选中一户。")
            return None
        return HouseholdRef(household.id, household.unit_code, household.leaseholder)

    def _staying(self) -> list[MemberView]:
        """Members a change can still apply to: not recorded as leaving."""
        return [line.member for line in self.member_model.rows if line.member.left_on is None]

    def _has_left(self, member: MemberView | None) -> bool:
        """Says so when the member selected below has left: nothing more can be changed for them."""
        if member is not None and member.left_on is not None:
            messages.warn(self, f"{member.name} 已登记于 {member.left_on} 迁出，不能再办理变更。")
            return True
        return False

    def _show(self, dialog: Any) -> Any:
        dialog.finished.connect(dialog.deleteLater)
        self.dialog = dialog
        dialog.open()
        return dialog

    def add_member(self) -> AddMemberDialog | None:
        """新增成员…"""
        ref = self._household_ref()
        if ref is None:
            return None
        return self._show(AddMemberDialog(self.runner, ref, local_date(self.store.clock.now()), self))

    def remove_member(self) -> RemoveMemberDialog | None:
        """成员迁出…: the selected member (or a choice of them); the leaseholder is refused at once."""
        ref = self._household_ref()
        member = self.selected_member()
        if ref is None or self._has_left(member):
            return None
        if member is not None and member.is_leaseholder:
            messages.warn(self, LEASEHOLDER_CANNOT_LEAVE)
            return None
        removable = [m for m in self._staying() if not m.is_leaseholder]
        if not removable:
            messages.warn(self, "这一户除承租人外没有其他成员，没有可以迁出的成员。")
            return None
        selected = member.id if member is not None else None
        today = local_date(self.store.clock.now())
        return self._show(RemoveMemberDialog(self.runner, ref, removable, selected, today, self))

    def change_member(self) -> ChangeMemberDialog | None:
        """修改就业/收入/特殊群体…: the selected member, or the leaseholder when none is selected."""
        ref = self._household_ref()
        member = self.selected_member()
        if ref is None or self._has_left(member):
            return None
        selected = member.id if member is not None else None
        today = local_date(self.store.clock.now())
        return self._show(ChangeMemberDialog(self.runner, ref, self._staying(), selected, today, self))

    def _open_index(self, index: QModelIndex) -> None:
        self.open_household(self.row_at(index.row()))

    def open_household(self, row: HouseholdRow) -> HouseholdDialog:
        dialog = HouseholdDialog(self.runner, row, self)
        dialog.finished.connect(dialog.deleteLater)
        self.dialog = dialog
        dialog.open()
        return dialog

    def export_template(self) -> int | None:
        """导出导入模板…: None when the clerk cancelled the file dialog."""
        return self.importer.export_template()

    def import_households(self) -> int | None:
        """从 Excel 导入住户…: check the chosen file in the background, then show problems or ask to confirm."""
        return self.importer.choose_and_import()

    def _import_busy(self, busy: bool) -> None:
        self.import_busy.setVisible(busy)
        self.import_button.setEnabled(not busy)

    def register_household(self) -> RegisterHouseholdDialog:
        dialog = RegisterHouseholdDialog(self.runner, self)
        dialog.finished.connect(dialog.deleteLater)
        self.dialog = dialog
        dialog.open()
        return dialog


class HouseholdDialog(QDialog):
    """A household's members, masked; 显示完整号码 asks why, logs it (services.people) and shows the numbers
    until the dialog closes."""

    def __init__(self, runner: OpRunner, row: HouseholdRow, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runner = runner
        self.row = row
        self.setWindowTitle(f"住户档案 · {row.unit_code or '未签约'} · {row.leaseholder}")
        self.setMinimumWidth(860)
        self.id_labels: dict[uuid.UUID, QLabel] = {}
        self.phone_labels: dict[uuid.UUID, QLabel] = {}
        self.reveal_buttons: dict[uuid.UUID, QPushButton] = {}
        self.copy_buttons: dict[uuid.UUID, QPushButton] = {}
        self.revealed: set[uuid.UUID] = set()

        head = QLabel(
            f"房号：{row.unit_code or '（未签约）'}　承租人：{row.leaseholder}　"
            f"租金档次：{row.rent_tier.label}　家庭人数：{len(row.members)}"
        )
        grid = QGridLayout()
        grid.setHorizontalSpacing(14)
        for column, caption in enumerate(
            ("姓名", "关系", "性别", "出生日期", "身份证号", "电话", "特殊群体", "", "")
        ):
            label = QLabel(caption)
            label.setObjectName("hint")
            grid.addWidget(label, 0, column)
        for i, m in enumerate(row.members, start=1):
            # Not selectable: a full number leaves only through 复制, which the clipboard forgets again.
            id_label = QLabel(m.id_number_masked)
            phone_label = QLabel(m.phone_masked or "—")
            for label in (id_label, phone_label):
                label.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
            self.id_labels[m.id] = id_label
            self.phone_labels[m.id] = phone_label
            button = QPushButton("显示完整号码")
            button.clicked.connect(lambda _c=False, member=m: self.reveal(member))
            self.reveal_buttons[m.id] = button
            copy = QPushButton("复制身份证号")
            copy.setToolTip(f"复制到剪贴板，{CLIPBOARD_SECONDS} 秒后自动清除")
            copy.clicked.connect(lambda _c=False, member_id=m.id: self.copy_id_number(member_id))
            copy.hide()
            self.copy_buttons[m.id] = copy
            sex = {"male": "男", "female": "女"}.get(m.sex, m.sex)
            cells: list[QWidget] = [
                QLabel(m.name),
                QLabel(m.relation),
                QLabel(sex),
                QLabel(str(m.birth_date)),
                id_label,
                phone_label,
                QLabel(_groups_text(m.groups) or "—"),
                button,
                copy,
            ]
            for column, widget in enumerate(cells):
                grid.addWidget(widget, i, column)
        grid.setColumnStretch(6, 1)
        note = QLabel(
            "查看完整号码须说明理由，系统记录查看人、时间和理由（个人信息保护）。关闭本窗口后号码重新打码。"
        )
        note.setObjectName("hint")
        note.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.button(QDialogButtonBox.StandardButton.Close).setText("关闭")
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(head)
        layout.addLayout(grid)
        layout.addWidget(note)
        layout.addWidget(buttons)

    def reveal(self, member: MemberRow) -> int | None:
        reason, ok = QInputDialog.getText(
            self, "查看完整号码", f"查看 {member.name} 的完整身份证号和电话，请说明理由（将被记录）："
        )
        if not ok:
            return None
        member_id, has_phone = member.id, bool(member.phone_masked)

        def work(session: Session) -> tuple[str, str]:
            operator = session.info["operator"]
            number = people.reveal_id_number(session, member_id, reason, operator)
            phone = people.reveal_phone(session, member_id, reason, operator) if has_phone else ""
            return number, phone

        return self.runner.run(
            work,
            description="正在记录查看理由…",
            topic=None,
            on_success=lambda result: self._show_full(member_id, *result),
            parent=self,
            owner=self,
        )

    def _show_full(self, member_id: uuid.UUID, number: str, phone: str) -> None:
        self.revealed.add(member_id)
        self.id_labels[member_id].setText(number)
        if phone:
            self.phone_labels[member_id].setText(phone)
        self.reveal_buttons[member_id].hide()
        self.copy_buttons[member_id].show()

    def copy_id_number(self, member_id: uuid.UUID) -> None:
        if member_id in self.revealed:
            copy_briefly(self.id_labels[member_id].text())

    def done(self, result: int) -> None:
        """Closing hides every full number again (the dialog may be kept by a caller)."""
        for m in self.row.members:
            self.id_labels[m.id].setText(m.id_number_masked)
            self.phone_labels[m.id].setText(m.phone_masked or "—")
            self.reveal_buttons[m.id].show()
            self.copy_buttons[m.id].hide()
        self.revealed.clear()
        super().done(result)


@dataclass
class MemberFields:
    name: QLineEdit
    relation: QComboBox
    id_number: QLineEdit
    phone: QLineEdit
    employer: QLineEdit
    income: QLineEdit
    groups: dict[SpecialGroup, QCheckBox]
    remove: QPushButton
    widgets: list[QWidget]

    def value(self) -> MemberInput:
        return MemberInput(
            name=self.name.text(),
            relation=self.relation.currentText(),
            id_number=self.id_number.text(),
            phone=self.phone.text(),
            employer=self.employer.text(),
            annual_income=self.income.text(),
            groups=frozenset(g for g, box in self.groups.items() if box.isChecked()),
        )


class RegisterHouseholdDialog(SavingDialog):
    """登记新住户: member rows (add / remove) and the rent tier → services.households.register_household."""

    description = "正在登记住户…"
    topic = "households"

    def __init__(self, runner: OpRunner, parent: QWidget | None = None) -> None:
        super().__init__(runner, "登记新住户（一户一档）", "登记", parent)
        self.resize(1180, 420)
        self.members: list[MemberFields] = []
        self._grid = QGridLayout()
        self._grid.setHorizontalSpacing(8)
        self._next_row = 1
        headers = ("姓名", "与承租人关系", "身份证号", "电话", "工作单位", "年收入（元）", "特殊群体", "")
        for column, caption in enumerate(headers):
            label = QLabel(caption)
            label.setObjectName("hint")
            self._grid.addWidget(label, 0, column)
        holder = QWidget()
        outer = QVBoxLayout(holder)
        outer.addLayout(self._grid)
        outer.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(holder)
        self.add_button = QPushButton("添加成员(&A)")
        self.add_button.clicked.connect(lambda: self.add_member())
        self.tier_combo = QComboBox()
        for tier in RentTier:
            self.tier_combo.addItem(tier.label, tier.value)
        self.notes_edit = QLineEdit()
        self.notes_edit.setPlaceholderText("备注（可选）")
        form = QFormLayout()
        form.addRow("租金档次(&T)", self.tier_combo)
        form.addRow("备注", self.notes_edit)
        self.body.addWidget(scroll, 1)
        self.body.addWidget(self.add_button, 0, Qt.AlignmentFlag.AlignLeft)
        self.body.addLayout(form)
        hint = QLabel(
            "第一行为承租人本人（须留电话）。身份证号按国家标准校验；收集这些信息用于公租房资格审核和租赁管理。"
        )
        hint.setObjectName("hint")
        hint.setWordWrap(True)
        self.body.addWidget(hint)
        self.add_member(LEASEHOLDER_RELATION)

    def add_member(self, relation: str = "配偶") -> MemberFields:
        name, id_number, phone, employer, income = (QLineEdit() for _ in range(5))
        name.setMaximumWidth(110)
        id_number.setMinimumWidth(170)
        income.setMaximumWidth(100)
        relation_combo = QComboBox()
        relation_combo.addItems(list(RELATIONS))
        relation_combo.setCurrentText(relation)
        boxes = {g: QCheckBox(g.label) for g in SpecialGroup}
        groups = QWidget()
        groups_line = QHBoxLayout(groups)
        groups_line.setContentsMargins(0, 0, 0, 0)
        for box in boxes.values():
            groups_line.addWidget(box)
        remove = QPushButton("删除")
        widgets: list[QWidget] = [name, relation_combo, id_number, phone, employer, income, groups, remove]
        row = self._next_row
        self._next_row += 1
        for column, widget in enumerate(widgets):
            self._grid.addWidget(widget, row, column)
        fields = MemberFields(
            name, relation_combo, id_number, phone, employer, income, boxes, remove, widgets
        )
        self.members.append(fields)
        remove.clicked.connect(lambda: self.remove_member(fields))
        name.setFocus()
        return fields

    def remove_member(self, fields: MemberFields) -> None:
        if fields not in self.members:
            return
        self.members.remove(fields)
        for widget in fields.widgets:
            self._grid.removeWidget(widget)
            widget.deleteLater()

    def op(self) -> Callable[[Session], Any]:
        data = HouseholdInput(
            members=[m.value() for m in self.members],
            rent_tier=RentTier(self.tier_combo.currentData()),
            notes=self.notes_edit.text(),
        )
        return lambda session: register_household(session, data)
