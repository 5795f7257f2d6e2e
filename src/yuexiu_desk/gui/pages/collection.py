"""收费: the desk flow of rent collection — scan a unit label (or type its code), see what the household owes,
take the money, and the receipt is written and opened for printing; below, this desk's payments of today
with 补打收据 and 作废.

Scan → 收款并打印收据 takes two to three interactions: the amount is prefilled with the checked bills and
the channel used last is kept, so the clerk only picks a channel when it differs and clicks (or presses
Enter). Refusals (a bad amount, a unit without a lease, a reference already used) are shown in red next to
the button, not in a message box, so the clerk fixes the field and tries again.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.orm import Session

from yuexiu_desk.clock import STATION_TZ, local_date
from yuexiu_desk.domain.billing import DESK_CHANNELS, Channel, Period
from yuexiu_desk.domain.money import format_yuan, yuan_to_fen
from yuexiu_desk.errors import EnvironmentProblem, UserError
from yuexiu_desk.gui import messages
from yuexiu_desk.gui.moneydialogs import (
    MONEY_TOPIC,
    RIGHT,
    VoidPaymentDialog,
    done_label,
    open_pdf,
    problem_text,
    receipt_path,
    receipts_dir,
)
from yuexiu_desk.gui.oprunner import OpRunner
from yuexiu_desk.gui.pages.lazy import RefreshingPage
from yuexiu_desk.gui.rowsmodel import RowColumn, RowsModel
from yuexiu_desk.services.billing import (
    DeskPayment,
    OpenBill,
    PaymentInput,
    PaymentResult,
    account_of,
    current_lease_for_unit,
    describe_fen,
    open_bills,
    payments_at_desk,
    record_payment,
)
from yuexiu_desk.services.leases import current_lease_of_unit
from yuexiu_desk.services.lookup import resolve
from yuexiu_desk.services.money_print import print_receipt
from yuexiu_desk.storage.db import Store

OVERDUE = QColor("#c62828")
VOIDED = QColor("#8a94a0")
OWED_CHIP = "background: #fdecea; color: #b71c1c;"
CREDIT_CHIP = "background: #e6f4ea; color: #1b5e20;"
SETTLED_CHIP = "background: #eef1f5; color: #2b3642;"
SCAN_PROMPT = "请扫描房源标签，或在上方输入房号后按回车"
# Where the reference matters for reconciliation: said as a hint, never required (a wallet slip may be lost).
REFERENCE_HINT = "请抄录付款截图或回单上的流水号：月末银行对账据此自动匹配（没有也可以收款）。"
WITHHOLDING_HINT = "可不填：代扣以银行回单为准，月末对账时核对。"
# Channels whose slip the payer holds at the desk: the reference is asked for (hint in amber, a star).
REFERENCE_EXPECTED = (Channel.WECHAT, Channel.ALIPAY, Channel.BANK_TRANSFER)
CHANNEL_STYLE = """
QPushButton { background: #ffffff; border: 1px solid #c3cad3; border-radius: 4px; padding: 6px 4px; }
QPushButton:hover { background: #e8f1fb; }
QPushButton:checked { background: #2D7DD2; color: #ffffff; border: 1px solid #2468b0; font-weight: bold; }
"""


# --- what the page reads --------------------------------------------------------------------------------


@dataclass(frozen=True)
class LoadedHousehold:
    """The household a scan or a typed code led to, with its open bills (oldest first)."""

    unit_id: uuid.UUID
    unit_code: str
    household_id: uuid.UUID
    lease_no: str
    leaseholder: str
    balance_fen: int
    bills: tuple[OpenBill, ...]


def load_household(session: Session, text: str) -> LoadedHousehold:
    """A scanned payload or a typed unit code → the household paying for that unit, or a UserError."""
    resolved = resolve(session, text)
    lease = current_lease_for_unit(session, resolved.code)  # the service's sentence when there is none
    summary = current_lease_of_unit(session, resolved.record_id)
    account = account_of(session, lease.household_id)
    return LoadedHousehold(
        unit_id=resolved.record_id,
        unit_code=resolved.code,
        household_id=lease.household_id,
        lease_no=lease.lease_no,
        leaseholder=summary.leaseholder if summary else "",
        balance_fen=account.balance_fen if account else 0,
        bills=tuple(open_bills(session, lease.household_id)),
    )


# --- the open bills, each with a check box ------------------------------------------------------------

Index = QModelIndex | QPersistentModelIndex
_ROOT = QModelIndex()
BILL_HEADERS = ("账期", "项目", "金额(元)", "未缴(元)", "缴费期限")
BILL_WIDTHS = (130, 90, 100, 100, 150)


class BillsModel(QAbstractTableModel):
    """Open bills with a check box in the first column, all checked when loaded; overdue lines in red."""

    checks_changed = Signal()

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._bills: list[OpenBill] = []
        self._checked: set[uuid.UUID] = set()
        self.today = date.min

    def set_bills(
        self, bills: tuple[OpenBill, ...], today: date, unchecked: set[uuid.UUID] | None = None
    ) -> None:
        """New bills, all checked but those the clerk unchecked before a re-read (a bill that appeared
        meanwhile is checked, like every bill of a fresh scan)."""
        self.beginResetModel()
        self._bills = list(bills)
        self.today = today
        self._checked = {b.bill_id for b in bills} - (unchecked or set())
        self.endResetModel()
        self.checks_changed.emit()

    @property
    def bills(self) -> list[OpenBill]:
        return list(self._bills)

    def checked_bills(self) -> list[OpenBill]:
        return [b for b in self._bills if b.bill_id in self._checked]

    def unchecked_ids(self) -> set[uuid.UUID]:
        return {b.bill_id for b in self._bills} - self._checked

    def all_checked(self) -> bool:
        return len(self._checked) == len(self._bills)

    def checked_fen(self) -> int:
        return sum(b.open_fen for b in self.checked_bills())

    def total_fen(self) -> int:
        return sum(b.open_fen for b in self._bills)

    def set_checked(self, row: int, checked: bool) -> None:
        self.setData(
            self.index(row, 0),
            Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked,
            Qt.ItemDataRole.CheckStateRole,
        )

    def rowCount(self, parent: Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(self._bills)

    def columnCount(self, parent: Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(BILL_HEADERS)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._bills):
            return None
        bill, column = self._bills[index.row()], index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(bill, column)
        if role == Qt.ItemDataRole.CheckStateRole and column == 0:
            return Qt.CheckState.Checked if bill.bill_id in self._checked else Qt.CheckState.Unchecked
        if role == Qt.ItemDataRole.ForegroundRole and bill.overdue(self.today):
            return OVERDUE
        if role == Qt.ItemDataRole.TextAlignmentRole and column in (2, 3):
            return RIGHT
        if role == Qt.ItemDataRole.ToolTipRole and bill.detail:
            return bill.detail
        return None

    def _text(self, bill: OpenBill, column: int) -> str:
        if column == 0:
            return Period.parse(bill.period).label
        if column == 1:
            return bill.charge_name
        if column == 2:
            return format_yuan(bill.amount_fen)
        if column == 3:
            return format_yuan(bill.open_fen)
        return f"{bill.due_on}" + ("（已逾期）" if bill.overdue(self.today) else "")

    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if role != Qt.ItemDataRole.CheckStateRole or not index.isValid() or index.column() != 0:
            return False
        bill_id = self._bills[index.row()].bill_id
        # Views hand the state over as a plain int, callers as the enum.
        state = value.value if isinstance(value, Qt.CheckState) else int(value)
        if state == Qt.CheckState.Checked.value:
            self._checked.add(bill_id)
        else:
            self._checked.discard(bill_id)
        self.dataChanged.emit(index, index, [Qt.ItemDataRole.CheckStateRole])
        self.checks_changed.emit()
        return True

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return BILL_HEADERS[section]
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if index.column() == 0:
            flags |= Qt.ItemFlag.ItemIsUserCheckable
        return flags


TODAY_COLUMNS: tuple[RowColumn[DeskPayment], ...] = (
    RowColumn("收据号", lambda p: p.receipt_no, 180),
    RowColumn("房号", lambda p: p.unit_code, 80),
    RowColumn("缴款人", lambda p: p.payer, 80),
    RowColumn("金额(元)", lambda p: format_yuan(p.amount_fen), 100, RIGHT),
    RowColumn("方式", lambda p: p.channel.label, 80),
    RowColumn("流水号", lambda p: p.reference or "—", 190),
    RowColumn("时间", lambda p: p.entered_at.astimezone(STATION_TZ).strftime("%H:%M"), 60),
    RowColumn("状态", lambda p: f"已作废：{p.void_reason}" if p.void_reason is not None else "有效", 120),
)


def _table(model: Any) -> QTableView:
    view = QTableView()
    view.setModel(model)
    view.verticalHeader().setVisible(False)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setAlternatingRowColors(True)
    view.setWordWrap(False)
    view.horizontalHeader().setStretchLastSection(True)
    view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    return view


def _bold(label: QLabel, points: float | None = None) -> QLabel:
    font = QFont(label.font())
    font.setBold(True)
    if points:
        font.setPointSizeF(points)
    label.setFont(font)
    return label


# --- the page -------------------------------------------------------------------------------------------


class CollectionPage(RefreshingPage):
    """收费. load_text(text) takes a scanner burst or a typed unit code; pay() is 收款并打印收据."""

    unit_activated = Signal(object)  # a unit id: the clerk asked for the unit card
    paid = Signal(str)  # a receipt number, after the payment is saved and its receipt written

    def __init__(self, store: Store, runner: OpRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.runner = runner
        self.current: LoadedHousehold | None = None
        self.last_channel: Channel | None = None  # kept for the session: most households pay the same way
        self.dialog: Any = None  # the last dialog opened (tests drive it)
        self._busy = False
        self._stale = True
        self._prefill = ""  # the amount last put in the box by the page (not typed by the clerk)

        # --- head: title and the unit box ---
        title = QLabel("收费")
        title.setObjectName("pageTitle")
        self.unit_edit = QLineEdit()
        self.unit_edit.setPlaceholderText("扫描房源标签，或输入房号（例如 1-2-1603）后按回车")
        self.unit_edit.setClearButtonEnabled(True)
        self.unit_edit.setAccessibleName("房号")
        self.unit_edit.setMinimumWidth(360)
        self.unit_edit.returnPressed.connect(lambda: self.load_text(self.unit_edit.text()))
        self.find_button = QPushButton("查询(&F)")
        self.find_button.clicked.connect(lambda: self.load_text(self.unit_edit.text()))
        head = QHBoxLayout()
        head.addWidget(title)
        head.addSpacing(16)
        head.addWidget(self.unit_edit, 1)
        head.addWidget(self.find_button)
        self.lookup_error = QLabel()
        self.lookup_error.setObjectName("error")
        self.lookup_error.setWordWrap(True)
        self.lookup_error.hide()

        # --- left: the household and its open bills ---
        self.code_label = QLabel()
        self.code_label.setObjectName("cardCode")
        self.holder_label = QLabel()
        self.holder_label.setObjectName("cardSub")
        self.balance_label = QLabel()
        self.balance_label.setObjectName("statusChip")
        self.card_button = QPushButton("房源卡片")
        self.card_button.setToolTip("打开该房源的卡片（合同、住户、异动）")
        self.card_button.clicked.connect(self._open_card)
        who = QHBoxLayout()
        who.addWidget(self.code_label)
        who.addSpacing(12)
        who.addWidget(self.holder_label)
        who.addStretch(1)
        who.addWidget(self.balance_label)
        who.addWidget(self.card_button)
        self.bills_model = BillsModel(self)
        self.bills_model.checks_changed.connect(self._checks_changed)
        self.bills_view = _table(self.bills_model)
        self.bills_view.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.bills_view.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        for column, width in enumerate(BILL_WIDTHS):
            self.bills_view.setColumnWidth(column, width)
        self.selection_label = QLabel()
        self.selection_label.setObjectName("hint")
        self.empty_label = QLabel(SCAN_PROMPT)
        self.empty_label.setObjectName("hint")
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        _bold(self.empty_label, 12)
        household = QFrame()
        household.setObjectName("panel")
        left = QVBoxLayout(household)
        left.setContentsMargins(14, 12, 14, 12)
        left.addLayout(who)
        left.addWidget(self.empty_label, 1)
        left.addWidget(self.bills_view, 1)
        left.addWidget(self.selection_label)

        # --- right: the payment form ---
        self.amount_edit = QLineEdit()
        self.amount_edit.setAccessibleName("收款金额")
        self.amount_edit.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        amount_font = QFont(self.amount_edit.font())
        amount_font.setPointSize(16)
        amount_font.setBold(True)
        self.amount_edit.setFont(amount_font)
        self.amount_edit.setMinimumHeight(40)
        self.amount_edit.returnPressed.connect(self.pay)
        self.channel_group = QButtonGroup(self)
        self.channel_group.setExclusive(True)
        self.channel_buttons: dict[Channel, QPushButton] = {}
        channels = QWidget()
        channels.setStyleSheet(CHANNEL_STYLE)
        grid = QGridLayout(channels)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setSpacing(6)
        for position, channel in enumerate(DESK_CHANNELS):
            button = QPushButton(f"{channel.label}(&{position + 1})")
            button.setCheckable(True)
            # Clicking a channel must leave the cursor in the amount box, so Enter still takes the money.
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            button.setMinimumHeight(32)
            self.channel_group.addButton(button)
            self.channel_buttons[channel] = button
            grid.addWidget(button, position // 3, position % 3)
        self.channel_group.buttonToggled.connect(lambda _b, _on: self._channel_changed())
        self.reference_edit = QLineEdit()
        self.reference_edit.setAccessibleName("交易流水号")
        self.reference_edit.returnPressed.connect(self.pay)
        self.reference_hint = QLabel()
        self.reference_hint.setObjectName("hint")
        self.reference_hint.setWordWrap(True)
        self.pay_button = QPushButton("收款并打印收据")
        self.pay_button.setObjectName("primary")
        self.pay_button.setMinimumHeight(40)
        self.pay_button.setToolTip("保存缴费，生成收据 PDF 并打开以便打印（回车）")
        self.pay_button.clicked.connect(self.pay)
        self.error_label = QLabel()
        self.error_label.setObjectName("error")
        self.error_label.setWordWrap(True)
        self.error_label.hide()
        form = QFrame()
        form.setObjectName("panel")
        form.setMinimumWidth(330)
        form.setMaximumWidth(420)
        right = QVBoxLayout(form)
        right.setContentsMargins(14, 12, 14, 12)
        right.setSpacing(6)
        right.addWidget(_bold(QLabel("收款金额（元）")))
        right.addWidget(self.amount_edit)
        right.addSpacing(6)
        right.addWidget(_bold(QLabel("缴费方式")))
        right.addWidget(channels)
        right.addSpacing(6)
        self.reference_title = _bold(QLabel("交易流水号"))
        right.addWidget(self.reference_title)
        right.addWidget(self.reference_edit)
        right.addWidget(self.reference_hint)
        right.addStretch(1)
        right.addWidget(self.error_label)
        right.addWidget(self.pay_button)
        self.form_panel = form

        top = QHBoxLayout()
        top.setSpacing(10)
        top.addWidget(household, 1)
        top.addWidget(form)
        top_widget = QWidget()
        top_widget.setLayout(top)
        top.setContentsMargins(0, 0, 0, 0)

        # --- the result of the last payment ---
        self.status_label = done_label()

        # --- below: today's payments at this desk ---
        self.today_model: RowsModel[DeskPayment] = RowsModel(
            TODAY_COLUMNS, lambda p: VOIDED if p.voided else None, self
        )
        self.today_view = _table(self.today_model)
        for column, spec in enumerate(TODAY_COLUMNS):
            self.today_view.setColumnWidth(column, spec.width)
        self.today_view.selectionModel().selectionChanged.connect(lambda *_a: self._update_buttons())
        self.today_view.doubleClicked.connect(lambda _i: self.reprint())
        self.today_title = _bold(QLabel("今日收款（本台）"))
        self.reprint_button = QPushButton("补打收据(&P)")
        self.reprint_button.clicked.connect(self.reprint)
        self.void_button = QPushButton("作废(&V)…")
        self.void_button.clicked.connect(self.void)
        today_bar = QHBoxLayout()
        today_bar.addWidget(self.today_title)
        today_bar.addStretch(1)
        today_bar.addWidget(self.reprint_button)
        today_bar.addWidget(self.void_button)
        today_panel = QWidget()
        today_layout = QVBoxLayout(today_panel)
        today_layout.setContentsMargins(0, 6, 0, 0)
        today_layout.addLayout(today_bar)
        today_layout.addWidget(self.today_view, 1)

        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.setChildrenCollapsible(False)
        splitter.addWidget(top_widget)
        splitter.addWidget(today_panel)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        splitter.setSizes([440, 260])

        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        layout.addLayout(head)
        layout.addWidget(self.lookup_error)
        layout.addWidget(self.status_label)
        layout.addWidget(splitter, 1)
        self.setFocusProxy(self.unit_edit)
        self.clear()

    # --- reading ------------------------------------------------------------------------------------
    def today(self) -> date:
        return local_date(self.store.clock.now())

    def refresh(self) -> None:
        """Today's list again, and the household on screen re-read (another window may have changed it)."""
        selected = self.selected_payment()
        with self.store.read() as session:
            rows = payments_at_desk(session, self.runner.operator, self.today())
            loaded = None
            if self.current is not None:
                try:
                    loaded = load_household(session, self.current.unit_code)
                except UserError:
                    loaded = None  # the lease ended meanwhile: back to the scan state
        self._stale = False
        self.today_model.set_rows(rows)
        live = [r for r in rows if not r.voided]
        self.today_title.setText(
            f"今日收款（本台）：{len(live)} 笔，合计 {format_yuan(sum(r.amount_fen for r in live))} 元"
            + (f"；另有 {len(rows) - len(live)} 笔已作废" if len(rows) > len(live) else "")
        )
        if selected is not None:
            self.select_receipt(selected.receipt_no)
        if self.current is not None:
            if loaded is None:
                self.clear()
            else:
                self._show_household(loaded, keep=True)
        self._update_buttons()

    def load_text(self, text: str) -> bool:
        """A scanner burst or a typed unit code: show that household ready to pay; False (with the reason
        in red under the unit box) when it leads nowhere."""
        self.show_lookup_error("")
        self.show_error("")
        try:
            with self.store.read() as session:
                loaded = load_household(session, text)
        except (UserError, EnvironmentProblem) as exc:
            self.show_lookup_error(exc.message)
            self.unit_edit.setFocus()
            self.unit_edit.selectAll()
            return False
        self.unit_edit.clear()
        self._show_household(loaded, keep=False)
        self.amount_edit.setFocus()
        self.amount_edit.selectAll()
        return True

    def _show_household(self, loaded: LoadedHousehold, keep: bool) -> None:
        same = keep and self.current is not None and self.current.household_id == loaded.household_id
        typed = same and self.amount_edit.text() != self._prefill
        amount = self.amount_edit.text()
        self.current = loaded
        self.code_label.setText(loaded.unit_code)
        self.holder_label.setText(f"承租人：{loaded.leaseholder}　　合同：{loaded.lease_no}")
        self._set_balance(loaded.balance_fen)
        self.card_button.setVisible(True)
        self.empty_label.hide()
        self.bills_view.show()
        self.bills_model.set_bills(
            loaded.bills, self.today(), self.bills_model.unchecked_ids() if same else None
        )
        if typed:
            self.amount_edit.setText(amount)  # the clerk's own figure survives a refresh
        if not keep:
            self._select_channel(self.last_channel)
        self.form_panel.setEnabled(True)
        self._update_buttons()

    def _set_balance(self, fen: int) -> None:
        style = OWED_CHIP if fen > 0 else CREDIT_CHIP if fen < 0 else SETTLED_CHIP
        self.balance_label.setStyleSheet(f"QLabel#statusChip {{ {style} font-size: 12pt; }}")
        self.balance_label.setText(describe_fen(fen))
        self.balance_label.show()

    def clear(self) -> None:
        """Back to the scan state: no household, the form disabled, the cursor in the unit box."""
        self.current = None
        self.code_label.setText("")
        self.holder_label.setText("")
        self.balance_label.hide()
        self.card_button.hide()
        self.bills_model.set_bills((), self.today())
        self.bills_view.hide()
        self.empty_label.show()
        self.selection_label.setText("")
        self.amount_edit.clear()
        self._prefill = ""
        self.reference_edit.clear()
        self.show_error("")
        self._select_channel(self.last_channel)
        self.form_panel.setEnabled(False)
        self.unit_edit.setFocus()
        self._update_buttons()

    def _checks_changed(self) -> None:
        model = self.bills_model
        bills = model.bills
        if not bills:
            self.selection_label.setText("该户没有未缴账单；收到的钱将全部转为预存。" if self.current else "")
            self._prefill = ""
        else:
            overdue = sum(1 for b in bills if b.overdue(model.today))
            self.selection_label.setText(
                f"未缴 {len(bills)} 笔，共 {format_yuan(model.total_fen())} 元"
                + (f"（其中 {overdue} 笔已逾期）" if overdue else "")
                + f"；已勾选 {len(model.checked_bills())} 笔，{format_yuan(model.checked_fen())} 元。"
                "取消勾选的账单本次不缴。"
            )
            self._prefill = format_yuan(model.checked_fen()).replace(",", "") if model.checked_bills() else ""
        self.amount_edit.setText(self._prefill)
        self.amount_edit.selectAll()

    # --- the channel --------------------------------------------------------------------------------
    def selected_channel(self) -> Channel | None:
        for channel, button in self.channel_buttons.items():
            if button.isChecked():
                return channel
        return None

    def choose_channel(self, channel: Channel) -> None:
        """What a click on a channel button does (the tests' interaction 2)."""
        self.channel_buttons[channel].click()

    def _select_channel(self, channel: Channel | None) -> None:
        if channel is None:
            # An exclusive group cannot uncheck its last button; lift that for a moment.
            self.channel_group.setExclusive(False)
            for button in self.channel_buttons.values():
                button.setChecked(False)
            self.channel_group.setExclusive(True)
        else:
            self.channel_buttons[channel].setChecked(True)
        self._channel_changed()

    def _channel_changed(self) -> None:
        channel = self.selected_channel()
        cash = channel is Channel.CASH
        expected = channel in REFERENCE_EXPECTED
        self.reference_edit.setEnabled(channel is not None and not cash)
        self.reference_title.setText(
            "交易流水号 <span style='color:#c62828'>*</span>" if expected else "交易流水号"
        )
        self.reference_hint.setStyleSheet("color: #a15c00;" if expected else "")
        if cash:
            self.reference_edit.clear()
            self.reference_edit.setPlaceholderText("现金无需流水号")
            self.reference_hint.setText("")
        elif channel is None:
            self.reference_edit.setPlaceholderText("")
            self.reference_hint.setText("请先选择缴费方式。")
        else:
            self.reference_edit.setPlaceholderText(f"{channel.label}交易流水号")
            self.reference_hint.setText(REFERENCE_HINT if expected else WITHHOLDING_HINT)

    # --- paying -------------------------------------------------------------------------------------
    def show_error(self, text: str) -> None:
        self.error_label.setText(text)
        self.error_label.setVisible(bool(text))

    def show_lookup_error(self, text: str) -> None:
        self.lookup_error.setText(text)
        self.lookup_error.setVisible(bool(text))

    def receipts_folder(self) -> Path:
        return receipts_dir(self.store.paths)

    def pay(self) -> int | None:
        """收款并打印收据: the payment and its receipt in one unit of work, then the receipt is opened.
        Returns the runner's job id, or None when nothing was started (the reason is shown in red)."""
        loaded = self.current
        if loaded is None or self._busy:
            return None
        self.show_error("")
        channel = self.selected_channel()
        if channel is None:
            self.show_error("请选择缴费方式（现金、微信、支付宝、银行转账或银行代扣）。")
            return None
        model = self.bills_model
        if model.bills and not model.checked_bills():
            self.show_error("请至少勾选一笔要缴的账单；全部不勾选无法确定这笔钱缴哪几期。")
            return None
        text = self.amount_edit.text().strip()
        try:
            fen = yuan_to_fen(text, "缴费金额")  # the service's own parser, for the question below
        except UserError as exc:
            self._refused(exc.message)
            return None
        extra = fen - model.checked_fen()
        if (
            fen > 0
            and extra > 0
            and not messages.ask(self, f"多收 {format_yuan(extra)} 元将转为预存，继续吗？")
        ):
            self.amount_edit.setFocus()
            self.amount_edit.selectAll()
            return None
        data = PaymentInput(
            unit_code=loaded.unit_code,
            amount=text,
            channel=channel,
            reference=self.reference_edit.text().strip() if channel is not Channel.CASH else "",
            # Every bill checked: the service's oldest-first rule decides, as the clerk expects.
            bill_ids=() if model.all_checked() else tuple(b.bill_id for b in model.checked_bills()),
        )
        paths = self.store.paths

        def work(session: Session) -> tuple[PaymentResult, Path]:
            result = record_payment(session, data, session.info["operator"])
            # In the same unit of work: a receipt that cannot be written leaves no payment without it.
            out = print_receipt(session, result.receipt_no, receipt_path(paths, result.receipt_no))
            return result, out

        self._set_busy(True)
        return self.runner.run(
            work,
            description=f"正在收款并生成收据（{loaded.unit_code}）…",
            topic=MONEY_TOPIC,
            on_success=lambda outcome: self._paid(loaded, channel, *outcome),
            on_failure=self._pay_failed,
            parent=self,
            owner=self,
            quiet=True,
        )

    def _paid(self, loaded: LoadedHousehold, channel: Channel, result: PaymentResult, out: Path) -> None:
        self._set_busy(False)
        self.last_channel = channel
        self.status_label.setText(
            f"{loaded.unit_code} {loaded.leaseholder}：已收款 {format_yuan(result.amount_fen)} 元，"
            f"收据号 {result.receipt_no}；{describe_fen(result.balance_fen)}。收据已打开，请打印。"
        )
        self.status_label.show()
        open_pdf(out)
        # A scan of the next household may have arrived while this one was saving: leave that one alone.
        if self.current is None or self.current.household_id == loaded.household_id:
            self.clear()
        self.refresh()
        self.select_receipt(result.receipt_no)
        self.paid.emit(result.receipt_no)

    def _voided(self, row: DeskPayment, reason: str) -> None:
        self.status_label.setText(
            f"收据 {row.receipt_no}（{row.unit_code}，{format_yuan(row.amount_fen)} 元）已作废：{reason}。"
            "加注作废的收据已打开，请打印后与收回的原收据一并存档。"
        )
        self.status_label.show()
        self.refresh()

    def _pay_failed(self, exc: BaseException) -> None:
        self._set_busy(False)
        text = problem_text(exc)
        if text is None:
            messages.show_problem(self, exc)
        else:
            self._refused(text)

    def _refused(self, text: str) -> None:
        self.show_error(text)
        self.amount_edit.setFocus()
        self.amount_edit.selectAll()

    def _set_busy(self, busy: bool) -> None:
        self._busy = busy
        self._update_buttons()

    @property
    def busy(self) -> bool:
        return self._busy

    def _update_buttons(self) -> None:
        self.pay_button.setEnabled(self.current is not None and not self._busy)
        self.pay_button.setText("正在收款…" if self._busy else "收款并打印收据")
        row = self.selected_payment()
        self.reprint_button.setEnabled(row is not None)
        self.void_button.setEnabled(row is not None and not row.voided)

    def _open_card(self) -> None:
        if self.current is not None:
            self.unit_activated.emit(self.current.unit_id)

    # --- today's payments ---------------------------------------------------------------------------
    def selected_payment(self) -> DeskPayment | None:
        rows = self.today_view.selectionModel().selectedRows()
        return self.today_model.row(rows[0].row()) if rows else None

    def select_receipt(self, receipt_no: str) -> bool:
        for index, row in enumerate(self.today_model.rows):
            if row.receipt_no == receipt_no:
                self.today_view.selectRow(index)
                self.today_view.scrollTo(self.today_model.index(index, 0))
                return True
        return False

    def reprint(self) -> int | None:
        """补打收据: written again from the ledger (with the red void note once voided) and opened."""
        row = self.selected_payment()
        if row is None:
            return None
        out = receipt_path(self.store.paths, row.receipt_no, voided=row.voided)
        receipt_no = row.receipt_no
        return self.runner.run(
            lambda session: print_receipt(session, receipt_no, out),
            description=f"正在补打收据 {receipt_no}…",
            topic=None,
            write=False,
            on_success=open_pdf,
            parent=self,
            owner=self,
        )

    def void(self) -> VoidPaymentDialog | None:
        """作废…: asks for the reason; afterwards the reprint with the void note is opened."""
        row = self.selected_payment()
        if row is None or row.voided:
            return None
        summary = (
            f"收据号 {row.receipt_no}　房号 {row.unit_code}　缴款人 {row.payer}\n"
            f"金额 {format_yuan(row.amount_fen)} 元（{row.channel.label}"
            + (f"，流水号 {row.reference}" if row.reference else "")
            + "）"
        )
        dialog = VoidPaymentDialog(self.runner, self.store.paths, row.receipt_no, summary, self)
        dialog.finished.connect(dialog.deleteLater)
        dialog.accepted.connect(lambda: self._voided(row, dialog.reason_edit.text().strip()))
        self.dialog = dialog
        dialog.open()
        return dialog
