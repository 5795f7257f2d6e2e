"""租赁合同: the leases list (仅生效 toggle), what is due (备案 / 续租, overdue in red), and the actions on the
selected lease — 签约, 备案登记, 续签, 变更档次, 解除, 入住交接, 退出交接, 打印 — each calling its service."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QPushButton,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.orm import Session

from yuexiu_desk.clock import local_date
from yuexiu_desk.domain.leases import LeaseStatus, RentTier, TerminationKind
from yuexiu_desk.domain.units import UnitStatus
from yuexiu_desk.gui import messages
from yuexiu_desk.gui.formprinting import FORM_TITLES, default_forms_dir, print_lease_form
from yuexiu_desk.gui.handover import HandoverDialog, open_handover
from yuexiu_desk.gui.oprunner import OpRunner
from yuexiu_desk.gui.pages.lazy import RefreshingPage
from yuexiu_desk.gui.rowsmodel import RowColumn, RowsModel, rows_table
from yuexiu_desk.gui.savedialog import SavingDialog, date_edit, from_qdate
from yuexiu_desk.services.handover import CHECKIN, MOVEOUT
from yuexiu_desk.services.households import list_households
from yuexiu_desk.services.leases import (
    DueItem,
    LeaseRow,
    SignLease,
    change_rent_tier,
    leases_due,
    list_leases,
    record_filing,
    renew_lease,
    sign_lease,
    terminate_lease,
)
from yuexiu_desk.services.units import UnitFilter, list_units
from yuexiu_desk.storage.db import Store

_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
OVERDUE = QColor("#c62828")
ENDED = QColor("#8a94a0")

LEASE_COLUMNS: tuple[RowColumn[LeaseRow], ...] = (
    RowColumn("房号", lambda r: r.unit_code, 76),
    RowColumn("合同编号", lambda r: r.lease_no + (f"（第{r.version}版）" if r.version > 1 else ""), 150),
    RowColumn("承租人", lambda r: r.leaseholder, 64),
    RowColumn("起止", lambda r: f"{r.start} 至 {r.end}", 180),
    RowColumn("月租金(元)", lambda r: f"{r.monthly_rent:,.2f}", 84, _RIGHT),
    RowColumn("档次", lambda r: r.rent_tier.label, 80),
    RowColumn("状态", lambda r: r.status.label, 64),
    RowColumn("备案", lambda r: str(r.filed_on) if r.filed_on else "未备案", 100),
)

DUE_COLUMNS: tuple[RowColumn[DueItem], ...] = (
    RowColumn("事项", lambda d: d.label, 64),
    RowColumn("房号", lambda d: d.unit_code, 64),
    RowColumn("承租人", lambda d: d.leaseholder, 56),
    RowColumn("期限", lambda d: f"{d.due}" + ("（已逾期）" if d.overdue else ""), 150),
)


class LeasesPage(RefreshingPage):
    unit_activated = Signal(object)

    def __init__(self, store: Store, runner: OpRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.runner = runner
        self._stale = True
        self.dialog: Any = None  # the last action dialog opened (tests drive it)

        title = QLabel("租赁合同")
        title.setObjectName("pageTitle")
        self.active_only = QCheckBox("仅生效")
        self.active_only.setChecked(True)
        self.active_only.toggled.connect(lambda _on: self.refresh())
        self.count_label = QLabel()
        self.count_label.setObjectName("countLabel")
        head = QHBoxLayout()
        head.addWidget(title)
        head.addStretch(1)
        head.addWidget(self.count_label)
        head.addWidget(self.active_only)

        self.model: RowsModel[LeaseRow] = RowsModel(
            LEASE_COLUMNS, lambda r: None if r.status is LeaseStatus.ACTIVE else ENDED, self
        )
        self.view = rows_table(self.model)
        self.view.doubleClicked.connect(self._open_unit_of)
        self.view.selectionModel().selectionChanged.connect(lambda *_a: self._update_buttons())

        self.due_model: RowsModel[DueItem] = RowsModel(
            DUE_COLUMNS, lambda d: OVERDUE if d.overdue else None, self
        )
        self.due_view = rows_table(self.due_model)
        self.due_view.doubleClicked.connect(self._select_due)
        self.due_title = QLabel("待办")
        font = self.due_title.font()
        font.setBold(True)
        self.due_title.setFont(font)
        due_panel = QWidget()
        due_layout = QVBoxLayout(due_panel)
        due_layout.setContentsMargins(0, 0, 0, 0)
        due_layout.addWidget(self.due_title)
        due_layout.addWidget(self.due_view, 1)

        self.sign_button = QPushButton("签约(&N)…")
        self.sign_button.setObjectName("primary")
        self.filing_button = QPushButton("备案登记…")
        self.renew_button = QPushButton("续签…")
        self.tier_button = QPushButton("变更档次…")
        self.terminate_button = QPushButton("解除…")
        self.checkin_button = QPushButton("入住交接…")
        self.moveout_button = QPushButton("退出交接…")
        self.photos_button = QPushButton("交接照片")
        photo_menu = QMenu(self.photos_button)
        for kind, label in ((CHECKIN, "入住交接照片…"), (MOVEOUT, "退出交接照片…")):
            photo_action = photo_menu.addAction(label)
            photo_action.triggered.connect(lambda _checked=False, k=kind: self.handover_photos(k))
        self.photos_button.setMenu(photo_menu)
        self.print_button = QPushButton("打印")
        menu = QMenu(self.print_button)
        for kind in ("lease", "household", CHECKIN, MOVEOUT):
            action = menu.addAction(FORM_TITLES[kind])
            action.triggered.connect(lambda _checked=False, k=kind: self.print_selected(k))
        self.print_button.setMenu(menu)
        self.sign_button.clicked.connect(self.sign)
        self.filing_button.clicked.connect(self.record_filing)
        self.renew_button.clicked.connect(self.renew)
        self.tier_button.clicked.connect(self.change_tier)
        self.terminate_button.clicked.connect(self.terminate)
        self.checkin_button.clicked.connect(lambda: self.handover(CHECKIN))
        self.moveout_button.clicked.connect(lambda: self.handover(MOVEOUT))
        actions = QHBoxLayout()
        for button in (
            self.sign_button,
            self.filing_button,
            self.renew_button,
            self.tier_button,
            self.terminate_button,
            self.checkin_button,
            self.moveout_button,
            self.photos_button,
            self.print_button,
        ):
            actions.addWidget(button)
        actions.addStretch(1)

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.view)
        splitter.addWidget(due_panel)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([860, 330])

        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        layout.addLayout(head)
        layout.addLayout(actions)
        layout.addWidget(splitter, 1)
        self._update_buttons()

    # --- data ---------------------------------------------------------------------------------------
    def refresh(self) -> None:
        selected = self.selected_lease_no()
        today = local_date(self.store.clock.now())
        with self.store.read() as session:
            rows = list_leases(session, active_only=self.active_only.isChecked())
            due = leases_due(session, today)
        self._stale = False
        self.model.set_rows(rows)
        self.due_model.set_rows(due)
        overdue = sum(1 for d in due if d.overdue)
        self.due_title.setText(f"待办（{len(due)} 项" + (f"，{overdue} 项已逾期）" if overdue else "）"))
        self.count_label.setText(f"{len(rows)} 份")
        if selected:
            self.select_lease(selected)
        self._update_buttons()

    def selected_row(self) -> LeaseRow | None:
        rows = self.view.selectionModel().selectedRows()
        return self.model.row(rows[0].row()) if rows else None

    def selected_lease_no(self) -> str | None:
        row = self.selected_row()
        return row.lease_no if row else None

    def select_lease(self, lease_no: str) -> bool:
        matches = [i for i, r in enumerate(self.model.rows) if r.lease_no == lease_no]
        if not matches:
            return False
        row = matches[-1]  # the latest version
        self.view.selectRow(row)
        self.view.scrollTo(self.model.index(row, 0))
        return True

    def _update_buttons(self) -> None:
        row = self.selected_row()
        current = row is not None and row.status in (LeaseStatus.ACTIVE, LeaseStatus.TERMINATED)
        active = row is not None and row.status is LeaseStatus.ACTIVE
        for button in (self.filing_button, self.renew_button, self.tier_button, self.terminate_button):
            button.setEnabled(active)
        self.checkin_button.setEnabled(current)
        self.moveout_button.setEnabled(current)
        self.print_button.setEnabled(row is not None)
        self.photos_button.setEnabled(row is not None)

    def _open_unit_of(self, index: QModelIndex) -> None:
        from yuexiu_desk.services.units import find_unit_id_by_code

        row = self.model.row(index.row())
        with self.store.read() as session:
            self.unit_activated.emit(find_unit_id_by_code(session, row.unit_code))

    def _select_due(self, index: QModelIndex) -> None:
        item = self.due_model.row(index.row())
        if not self.select_lease(item.lease_no) and self.active_only.isChecked():
            self.active_only.setChecked(False)
            self.select_lease(item.lease_no)

    # --- actions ------------------------------------------------------------------------------------
    def _show(self, dialog: Any) -> Any:
        dialog.finished.connect(dialog.deleteLater)
        self.dialog = dialog
        dialog.open()
        return dialog

    def _need_lease(self) -> LeaseRow | None:
        row = self.selected_row()
        if row is None:
            messages.warn(self, "请先在列表中选中一份合同。")
        return row

    def sign(self) -> SignLeaseDialog:
        return self._show(SignLeaseDialog(self.store, self.runner, self))

    def record_filing(self) -> FilingDialog | None:
        row = self._need_lease()
        return self._show(FilingDialog(self.store, self.runner, row, self)) if row else None

    def renew(self) -> RenewDialog | None:
        row = self._need_lease()
        return self._show(RenewDialog(self.runner, row, self)) if row else None

    def change_tier(self) -> ChangeTierDialog | None:
        row = self._need_lease()
        return self._show(ChangeTierDialog(self.store, self.runner, row, self)) if row else None

    def terminate(self) -> TerminateDialog | None:
        row = self._need_lease()
        return self._show(TerminateDialog(self.store, self.runner, row, self)) if row else None

    def forms_folder(self) -> Path:
        return default_forms_dir(self.store.paths.root)

    def handover(self, kind: str) -> HandoverDialog | None:
        row = self._need_lease()
        if row is None:
            return None
        dialog = open_handover(self.store, self.runner, row.lease_no, kind, self.forms_folder(), self)
        self.dialog = dialog
        return dialog

    def handover_photos(self, kind: str) -> Any:
        """The photos of the selected lease's check-in or move-out: see them, add ones copied off a phone."""
        from yuexiu_desk.gui.photodialogs import open_handover_photos

        row = self._need_lease()
        if row is None:
            return None
        dialog = open_handover_photos(self.store, self.runner, row.lease_no, kind, self)
        self.dialog = dialog
        return dialog

    def print_selected(self, kind: str) -> int | None:
        row = self._need_lease()
        if row is None:
            return None
        return print_lease_form(self.runner, kind, row.lease_no, self.forms_folder(), self)


class SignLeaseDialog(SavingDialog):
    """签约: a registered household without a lease, a vacant or reserved unit, start, term, deposit."""

    description = "正在签订合同…"
    topic = "units"

    def __init__(self, store: Store, runner: OpRunner, parent: QWidget | None = None) -> None:
        super().__init__(runner, "签订租赁合同", "签约", parent)
        today = local_date(store.clock.now())
        with store.read() as session:
            households = [h for h in list_households(session) if h.unit_code is None]
            units = [
                u
                for status in (UnitStatus.VACANT, UnitStatus.RESERVED)
                for u in list_units(session, UnitFilter(status=status))
            ]
        self.household_combo = QComboBox()
        for h in households:
            self.household_combo.addItem(
                f"{h.leaseholder}（{len(h.members)} 人，{h.rent_tier.label}）", str(h.id)
            )
        self.unit_combo = QComboBox()
        self.unit_combo.setEditable(True)
        line = self.unit_combo.lineEdit()
        if line is not None:
            line.setPlaceholderText("输入房号或从列表选择")
        for u in sorted(units, key=lambda u: (u.building, u.entrance, u.floor, u.room)):
            self.unit_combo.addItem(f"{u.code}", u.code)
            self.unit_combo.setItemData(
                self.unit_combo.count() - 1,
                f"{u.unit_type} {u.gross_area:.2f} m² {u.status.label}",
                Qt.ItemDataRole.ToolTipRole,
            )
        self.unit_combo.setCurrentIndex(-1)
        self.start_edit = date_edit(today)
        self.term_spin = QSpinBox()
        self.term_spin.setRange(1, 240)
        self.term_spin.setValue(36)
        self.term_spin.setSuffix(" 个月")
        self.deposit_edit = QLineEdit("0")
        self.override_edit = QLineEdit()
        self.override_edit.setPlaceholderText("租期超过 5 年时必填")
        form = QFormLayout()
        form.addRow("住户(&H)", self.household_combo)
        form.addRow("房号(&U)", self.unit_combo)
        form.addRow("起租日期(&S)", self.start_edit)
        form.addRow("租期(&T)", self.term_spin)
        form.addRow("押金（元）(&D)", self.deposit_edit)
        form.addRow("超期理由(&R)", self.override_edit)
        self.body.addLayout(form)
        hint = QLabel(
            "月租金按建筑面积 × 起租日生效的租金标准自动计算；签约后房源转为“已入住”（记一条异动）。"
            if households
            else "没有待签约的住户：请先在“住户档案”登记新住户。"
        )
        hint.setObjectName("hint")
        hint.setWordWrap(True)
        self.body.addWidget(hint)

    def op(self) -> Callable[[Session], Any]:
        household = self.household_combo.currentData()
        if household is None:
            messages.warn(self, "请选择要签约的住户；没有的话请先在“住户档案”登记。")
            raise ValueError
        data = SignLease(
            household_id=uuid.UUID(household),
            unit_code=self.unit_combo.currentText().strip(),
            start=from_qdate(self.start_edit.date()),
            term_months=self.term_spin.value(),
            deposit=self.deposit_edit.text().strip() or "0",
            override_reason=self.override_edit.text(),
        )
        return lambda session: sign_lease(session, data, session.info["operator"])


class FilingDialog(SavingDialog):
    description = "正在登记备案…"

    def __init__(self, store: Store, runner: OpRunner, row: LeaseRow, parent: QWidget | None = None) -> None:
        super().__init__(runner, f"备案登记 · {row.lease_no}", "保存", parent)
        self.row = row
        self.date_edit = date_edit(local_date(store.clock.now()))
        self.reference_edit = QLineEdit()
        self.reference_edit.setPlaceholderText("房管局备案编号，如 江岸公租备〔2026〕0001号")
        form = QFormLayout()
        form.addRow("备案日期(&D)", self.date_edit)
        form.addRow("备案编号(&R)", self.reference_edit)
        self.body.addLayout(form)

    def op(self) -> Callable[[Session], Any]:
        lease_no, on, ref = self.row.lease_no, from_qdate(self.date_edit.date()), self.reference_edit.text()
        return lambda session: record_filing(session, lease_no, on, ref)


class RenewDialog(SavingDialog):
    description = "正在续签…"

    def __init__(self, runner: OpRunner, row: LeaseRow, parent: QWidget | None = None) -> None:
        super().__init__(runner, f"续签 · {row.lease_no}", "续签", parent)
        self.row = row
        self.term_spin = QSpinBox()
        self.term_spin.setRange(1, 60)
        self.term_spin.setValue(36)
        self.term_spin.setSuffix(" 个月")
        form = QFormLayout()
        form.addRow("当前合同", QLabel(f"{row.start} 至 {row.end}"))
        form.addRow("续签租期(&T)", self.term_spin)
        self.body.addLayout(form)
        hint = QLabel("续签从原合同到期次日起算，按届时生效的租金标准计租，需重新备案。")
        hint.setObjectName("hint")
        hint.setWordWrap(True)
        self.body.addWidget(hint)

    def op(self) -> Callable[[Session], Any]:
        lease_no, term = self.row.lease_no, self.term_spin.value()
        return lambda session: renew_lease(session, lease_no, term, session.info["operator"])


class ChangeTierDialog(SavingDialog):
    description = "正在变更租金档次…"

    def __init__(self, store: Store, runner: OpRunner, row: LeaseRow, parent: QWidget | None = None) -> None:
        super().__init__(runner, f"变更租金档次 · {row.lease_no}", "变更", parent)
        self.row = row
        self.tier_combo = QComboBox()
        for tier in RentTier:
            self.tier_combo.addItem(tier.label, tier.value)
        # Offer the first tier the lease is not on (a change to the same tier is refused by the service).
        other = next(tier for tier in RentTier if tier is not row.rent_tier)
        self.tier_combo.setCurrentIndex(self.tier_combo.findData(other.value))
        self.date_edit = date_edit(local_date(store.clock.now()))
        self.reason_edit = QLineEdit()
        self.reason_edit.setPlaceholderText("变更依据，例如低保证明编号或复核结论")
        form = QFormLayout()
        form.addRow("当前档次", QLabel(row.rent_tier.label))
        form.addRow("变更为(&T)", self.tier_combo)
        form.addRow("生效日期(&D)", self.date_edit)
        form.addRow("依据(&R)", self.reason_edit)
        self.body.addLayout(form)

    def op(self) -> Callable[[Session], Any]:
        lease_no, tier = self.row.lease_no, RentTier(self.tier_combo.currentData())
        on, reason = from_qdate(self.date_edit.date()), self.reason_edit.text()
        return lambda session: change_rent_tier(session, lease_no, tier, on, reason, session.info["operator"])


class TerminateDialog(SavingDialog):
    description = "正在解除合同…"

    def __init__(self, store: Store, runner: OpRunner, row: LeaseRow, parent: QWidget | None = None) -> None:
        super().__init__(runner, f"解除合同 · {row.lease_no}", "解除合同", parent)
        self.row = row
        self.kind_combo = QComboBox()
        for kind in TerminationKind:
            self.kind_combo.addItem(kind.label + ("（违约）" if kind.is_violation else ""), kind.value)
        self.date_edit = date_edit(local_date(store.clock.now()))
        self.reason_edit = QLineEdit()
        self.reason_edit.setPlaceholderText("违约收回须写明事实和证据（时间、地点、记录编号）")
        form = QFormLayout()
        form.addRow("解除原因(&K)", self.kind_combo)
        form.addRow("解除日期(&D)", self.date_edit)
        form.addRow("说明(&R)", self.reason_edit)
        self.body.addLayout(form)
        hint = QLabel("解除后房源仍为“已入住”，办理退出交接后才转为空置。")
        hint.setObjectName("hint")
        self.body.addWidget(hint)

    def op(self) -> Callable[[Session], Any]:
        lease_no, kind = self.row.lease_no, TerminationKind(self.kind_combo.currentData())
        on, reason = from_qdate(self.date_edit.date()), self.reason_edit.text()
        return lambda session: terminate_lease(session, lease_no, kind, on, reason, session.info["operator"])

    def saved(self, result: Any) -> None:
        messages.inform(self.parentWidget(), f"合同 {self.row.lease_no} 已解除，住户应于 {result} 前腾退。")
