"""住户档案 (一户一档): the households list with masked IDs and phones and a filter box; a household's detail
(showing a full number asks for a reason and is logged); registering a new household; the Excel template and
importing the station's existing ledgers (gui.householdimport)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QModelIndex, QSortFilterProxyModel, Qt
from PySide6.QtGui import QShowEvent
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
    QTableView,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.orm import Session

from yuexiu_desk.domain.households import LEASEHOLDER_RELATION, RELATIONS, SpecialGroup
from yuexiu_desk.domain.leases import RentTier
from yuexiu_desk.gui.householdimport import CHECKING, HouseholdImporter
from yuexiu_desk.gui.oprunner import OpRunner
from yuexiu_desk.gui.rowsmodel import RowColumn, RowsModel
from yuexiu_desk.gui.savedialog import SavingDialog
from yuexiu_desk.services import people
from yuexiu_desk.services.households import (
    HouseholdInput,
    HouseholdRow,
    MemberInput,
    MemberRow,
    list_households,
    register_household,
)
from yuexiu_desk.storage.db import Store


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


class HouseholdsPage(QWidget):
    def __init__(self, store: Store, runner: OpRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.runner = runner
        self._stale = True
        self.dialog: Any = None

        title = QLabel("住户档案")
        title.setObjectName("pageTitle")
        self.search = QLineEdit()
        self.search.setPlaceholderText("筛选：房号、承租人姓名、特殊群体或档次，例如 3-1、张、残疾")
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
        self.proxy = QSortFilterProxyModel(self)
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
        hint = QLabel("身份证号和电话默认打码显示；双击一户查看家庭成员，查看完整号码需说明理由并会被记录。")
        hint.setObjectName("hint")

        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        layout.addLayout(bar)
        layout.addWidget(self.import_busy)
        layout.addWidget(self.view, 1)
        layout.addWidget(hint)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._stale:
            self.refresh()

    def data_changed(self) -> None:
        if self.isVisible():
            self.refresh()
        else:
            self._stale = True

    def refresh(self) -> None:
        with self.store.read() as session:
            rows = list_households(session)
        self._stale = False
        self.model.set_rows(rows)
        self._update_count()

    def _filter(self, text: str) -> None:
        self.proxy.setFilterFixedString(text.strip())
        self._update_count()

    def _update_count(self) -> None:
        shown, total = self.proxy.rowCount(), self.model.rowCount()
        self.count_label.setText(f"{shown} 户" if shown == total else f"{shown} / {total} 户")

    def row_at(self, proxy_row: int) -> HouseholdRow:
        return self.model.row(self.proxy.mapToSource(self.proxy.index(proxy_row, 0)).row())

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
        self.revealed: set[uuid.UUID] = set()

        head = QLabel(
            f"房号：{row.unit_code or '（未签约）'}　承租人：{row.leaseholder}　"
            f"租金档次：{row.rent_tier.label}　家庭人数：{len(row.members)}"
        )
        grid = QGridLayout()
        grid.setHorizontalSpacing(14)
        for column, caption in enumerate(
            ("姓名", "关系", "性别", "出生日期", "身份证号", "电话", "特殊群体", "")
        ):
            label = QLabel(caption)
            label.setObjectName("hint")
            grid.addWidget(label, 0, column)
        for i, m in enumerate(row.members, start=1):
            id_label = QLabel(m.id_number_masked)
            phone_label = QLabel(m.phone_masked or "—")
            for label in (id_label, phone_label):
                label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.id_labels[m.id] = id_label
            self.phone_labels[m.id] = phone_label
            button = QPushButton("显示完整号码")
            button.clicked.connect(lambda _c=False, member=m: self.reveal(member))
            self.reveal_buttons[m.id] = button
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
        self.reveal_buttons[member_id].setEnabled(False)

    def done(self, result: int) -> None:
        """Closing hides every full number again (the dialog may be kept by a caller)."""
        for m in self.row.members:
            self.id_labels[m.id].setText(m.id_number_masked)
            self.phone_labels[m.id].setText(m.phone_masked or "—")
            self.reveal_buttons[m.id].setEnabled(True)
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
