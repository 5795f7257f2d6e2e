"""欠费催缴: the households in arrears by step of the ladder (one button per stage with its count), each
with its months overdue, amount and last dunning step; 登记催缴, the 催缴台账 of a household, and numbered
reminder notices printed for the selected households or for every household at the shown stage.

The last step (L7, 解除合同并移交法务) is the station manager's decision: its button and rows are red and
say so.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QItemSelectionModel,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.orm import Session

from yuexiu_desk.domain.billing import DunningStage
from yuexiu_desk.domain.money import format_yuan
from yuexiu_desk.gui import messages
from yuexiu_desk.gui.moneydialogs import (
    MONEY_TOPIC,
    RIGHT,
    DunningHistoryDialog,
    RecordDunningDialog,
    done_label,
    notices_dir,
    open_pdf,
)
from yuexiu_desk.gui.oprunner import OpRunner
from yuexiu_desk.gui.pages.lazy import RefreshingPage
from yuexiu_desk.gui.rowsmodel import RowColumn, RowsModel
from yuexiu_desk.services.arrears import (
    ArrearsRow,
    IssuedNotice,
    arrears,
    dunning_history,
    issue_notices,
    stage_counts,
)
from yuexiu_desk.services.money_print import print_notices
from yuexiu_desk.storage.db import Store

L7_RED = QColor("#c62828")
MANAGER_NOTE = "请站长处理"
# The ladder's steps in the order the buttons show them; None is 全部.
STAGES: tuple[DunningStage | None, ...] = (
    DunningStage.REMINDER,
    DunningStage.NOTICE,
    DunningStage.TERMINATION,
    None,
)
STAGE_STYLE = """
QPushButton { background: #ffffff; border: 1px solid #c3cad3; border-radius: 4px; padding: 7px 14px; }
QPushButton:hover { background: #e8f1fb; }
QPushButton:checked { background: #2D7DD2; color: #ffffff; border: 1px solid #2468b0; font-weight: bold; }
QPushButton#l7 { color: #c62828; border: 1px solid #c62828; font-weight: bold; }
QPushButton#l7:hover { background: #fdecea; }
QPushButton#l7:checked { background: #c62828; color: #ffffff; }
"""


def _stage_text(row: ArrearsRow) -> str:
    return f"{row.stage.label} · {MANAGER_NOTE}" if row.needs_manager else row.stage.label


def _last_action_text(row: ArrearsRow) -> str:
    return f"{row.last_action_on} {row.last_action}" if row.last_action_on else "尚未催缴"


def _unit_sort_key(code: str) -> str:
    # 1-2-1002 before 1-10-101: compare the numbers, as text the proxy can order.
    parts = code.split("-")
    return "-".join(p.zfill(6) if p.isdigit() else p for p in parts)


ARREARS_COLUMNS: tuple[RowColumn[ArrearsRow], ...] = (
    RowColumn("房号", lambda r: r.unit_code, 90),
    RowColumn("承租人", lambda r: r.leaseholder, 80),
    RowColumn("欠费月数", lambda r: str(r.months_overdue), 80, RIGHT),
    RowColumn("逾期金额(元)", lambda r: format_yuan(r.amount_due_fen), 110, RIGHT),
    RowColumn("阶段", _stage_text, 230),
    RowColumn("最近催缴", _last_action_text, 360),
)
SORT_KEYS: tuple[Callable[[ArrearsRow], Any], ...] = (
    lambda r: _unit_sort_key(r.unit_code),
    lambda r: r.leaseholder,
    lambda r: r.months_overdue,
    lambda r: r.amount_due_fen,
    lambda r: list(DunningStage).index(r.stage),
    lambda r: r.last_action_on.isoformat() if r.last_action_on else "",
)
SORT_ROLE = Qt.ItemDataRole.UserRole + 3
Index = QModelIndex | QPersistentModelIndex


class ArrearsModel(RowsModel[ArrearsRow]):
    """The arrears rows; SORT_ROLE gives each column's value to order by (numbers as numbers)."""

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == SORT_ROLE and index.isValid() and 0 <= index.row() < self.rowCount():
            return SORT_KEYS[index.column()](self.row(index.row()))
        return super().data(index, role)


class ArrearsPage(RefreshingPage):
    """欠费催缴. show_stage(stage) is what a stage button does (None: 全部)."""

    unit_activated = Signal(object)  # a unit id: 房源卡片
    collect_requested = Signal(str)  # a unit code: 去收费 (the main window shows 收费 and loads it)

    def __init__(self, store: Store, runner: OpRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.runner = runner
        self.stage: DunningStage | None = None
        self.all_rows: list[ArrearsRow] = []
        self.dialog: Any = None
        self._stale = True

        title = QLabel("欠费催缴")
        title.setObjectName("pageTitle")
        stages = QWidget()
        stages.setStyleSheet(STAGE_STYLE)
        stage_bar = QHBoxLayout(stages)
        stage_bar.setContentsMargins(0, 0, 0, 0)
        stage_bar.setSpacing(6)
        self.stage_group = QButtonGroup(self)
        self.stage_group.setExclusive(True)
        self.stage_buttons: dict[DunningStage | None, QPushButton] = {}
        for stage in STAGES:
            button = QPushButton()
            button.setCheckable(True)
            if stage is DunningStage.TERMINATION:
                button.setObjectName("l7")
                button.setToolTip("累计欠费达到解除合同条件，由站长决定解除合同并移交法务")
            button.clicked.connect(lambda _checked=False, s=stage: self.show_stage(s))
            self.stage_group.addButton(button)
            self.stage_buttons[stage] = button
            stage_bar.addWidget(button)
        self.total_label = QLabel()
        self.total_label.setObjectName("countLabel")
        head = QHBoxLayout()
        head.addWidget(title)
        head.addSpacing(16)
        head.addWidget(stages)
        head.addStretch(1)
        head.addWidget(self.total_label)

        self.record_button = QPushButton("登记催缴(&R)…")
        self.record_button.setObjectName("primary")
        self.record_button.clicked.connect(self.record)
        self.history_button = QPushButton("催缴台账(&H)…")
        self.history_button.clicked.connect(lambda: self.open_history())
        self.print_selected_button = QPushButton("打印选中住户的催缴通知书")
        self.print_selected_button.clicked.connect(self.print_selected)
        self.print_stage_button = QPushButton()
        self.print_stage_button.clicked.connect(self.print_stage)
        self.collect_button = QPushButton("去收费")
        self.collect_button.setToolTip("转到“收费”并读出这一户的未缴账单")
        self.collect_button.clicked.connect(self._collect)
        self.card_button = QPushButton("房源卡片")
        self.card_button.clicked.connect(self._open_card)
        actions = QHBoxLayout()
        for button in (self.record_button, self.history_button):
            actions.addWidget(button)
        actions.addSpacing(12)
        for button in (self.print_selected_button, self.print_stage_button):
            actions.addWidget(button)
        actions.addStretch(1)
        actions.addWidget(self.collect_button)
        actions.addWidget(self.card_button)

        self.model = ArrearsModel(ARREARS_COLUMNS, lambda r: L7_RED if r.needs_manager else None, self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(SORT_ROLE)
        self.view = QTableView()
        self.view.setModel(self.proxy)
        self.view.verticalHeader().setVisible(False)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.setAlternatingRowColors(True)
        self.view.setWordWrap(False)
        for column, spec in enumerate(ARREARS_COLUMNS):
            self.view.setColumnWidth(column, spec.width)
        header = self.view.horizontalHeader()
        header.setStretchLastSection(True)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.view.setSortingEnabled(True)
        # Most months first, as the ladder reads (the sort is stable: larger amounts stay first within).
        self.view.sortByColumn(2, Qt.SortOrder.DescendingOrder)
        self.view.doubleClicked.connect(lambda index: self.open_history(self.row_at(index.row())))
        self.view.selectionModel().selectionChanged.connect(lambda *_a: self._update_buttons())

        self.status_label = done_label()
        hint = QLabel(
            "阶梯：累计逾期 1 个月友情提醒（电话、短信）；3 个月书面催缴并上门；6 个月解除合同并移交法务（站长处理）。"
            "双击一户查看催缴台账；可按住 Ctrl 或 Shift 选中多户一起打印通知书。"
        )
        hint.setObjectName("hint")
        hint.setWordWrap(True)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        layout.addLayout(head)
        layout.addLayout(actions)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.status_label)
        layout.addWidget(hint)
        self.stage_buttons[None].setChecked(True)
        self._update_buttons()

    # --- data ---------------------------------------------------------------------------------------
    def refresh(self) -> None:
        selected = [r.unit_code for r in self.selected_rows()]
        with self.store.read() as session:
            rows = arrears(session)
        self._stale = False
        self.all_rows = rows
        counts = stage_counts(rows)
        for stage, button in self.stage_buttons.items():
            count = len(rows) if stage is None else counts[stage]
            button.setText(f"{'全部' if stage is None else stage.label} {count} 户")
        self._fill(selected)

    def counts(self) -> dict[DunningStage | None, int]:
        """What the stage buttons say (None: 全部)."""
        counts: dict[DunningStage | None, int] = {s: n for s, n in stage_counts(self.all_rows).items()}
        counts[None] = len(self.all_rows)
        return counts

    def show_stage(self, stage: DunningStage | None) -> None:
        """One click on a stage button: only the households at that stage (None: every household)."""
        self.stage = stage
        self.stage_buttons[stage].setChecked(True)
        self._fill([])

    def _fill(self, selected: Sequence[str]) -> None:
        shown = [r for r in self.all_rows if self.stage is None or r.stage is self.stage]
        self.model.set_rows(shown)
        due = sum(r.amount_due_fen for r in shown)
        self.total_label.setText(f"{len(shown)} 户，逾期合计 {format_yuan(due)} 元")
        label = "全部" if self.stage is None else f"“{self.stage.label}”"
        self.print_stage_button.setText(f"打印{label}住户的催缴通知书（{len(shown)} 户）")
        if selected:
            self.select_units(selected)
        self._update_buttons()

    def row_at(self, proxy_row: int) -> ArrearsRow:
        return self.model.row(self.proxy.mapToSource(self.proxy.index(proxy_row, 0)).row())

    def shown_rows(self) -> list[ArrearsRow]:
        """The rows in the order the table shows them."""
        return [self.row_at(i) for i in range(self.proxy.rowCount())]

    def selected_rows(self) -> list[ArrearsRow]:
        return [self.row_at(index.row()) for index in self.view.selectionModel().selectedRows()]

    def select_units(self, codes: Sequence[str]) -> int:
        """Select the shown rows of these units (what a click, Ctrl+click does); how many were found."""
        selection = self.view.selectionModel()
        selection.clearSelection()
        found = 0
        for i in range(self.proxy.rowCount()):
            if self.row_at(i).unit_code in codes:
                selection.select(
                    self.proxy.index(i, 0),
                    QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows,
                )
                found += 1
        return found

    def _update_buttons(self) -> None:
        rows = self.selected_rows()
        one = len(rows) == 1
        for button in (self.record_button, self.history_button, self.collect_button, self.card_button):
            button.setEnabled(one)
        self.print_selected_button.setEnabled(bool(rows))
        self.print_selected_button.setText(
            f"打印选中 {len(rows)} 户的催缴通知书" if len(rows) > 1 else "打印选中住户的催缴通知书"
        )
        self.print_stage_button.setEnabled(self.model.rowCount() > 0)

    def _one(self) -> ArrearsRow | None:
        rows = self.selected_rows()
        if len(rows) != 1:
            messages.warn(self, "请先在列表中选中一户。")
            return None
        return rows[0]

    # --- actions ------------------------------------------------------------------------------------
    def record(self) -> RecordDunningDialog | None:
        """登记催缴…: the dialog stays open with the service's sentence until the step is saved."""
        row = self._one()
        if row is None:
            return None
        dialog = RecordDunningDialog(self.store, self.runner, row, self)
        dialog.finished.connect(dialog.deleteLater)
        code = row.unit_code
        dialog.accepted.connect(lambda: self._after_write([code]))
        self.dialog = dialog
        dialog.open()
        return dialog

    def open_history(self, row: ArrearsRow | None = None) -> DunningHistoryDialog | None:
        row = row or self._one()
        if row is None:
            return None
        with self.store.read() as session:
            entries = dunning_history(session, row.unit_code)
        dialog = DunningHistoryDialog(row, entries, self)
        dialog.finished.connect(dialog.deleteLater)
        self.dialog = dialog
        dialog.open()
        return dialog

    def print_selected(self) -> int | None:
        """Notices for the selected households: numbered, recorded in their 催缴台账, printed, opened."""
        rows = self.selected_rows()
        if not rows:
            messages.warn(self, "请先在列表中选中要发通知书的住户（可按住 Ctrl 多选）。")
            return None
        return self._issue([r.household_id for r in rows], None)

    def print_stage(self) -> int | None:
        """Notices for every household at the shown stage (全部: every household in arrears)."""
        count = self.model.rowCount()
        if count == 0:
            return None
        label = "全部欠费" if self.stage is None else f"“{self.stage.label}”阶段的"
        question = f"将为{label}住户共 {count} 户各开具一份催缴通知书（编号并记入催缴台账），生成后打开以便打印。继续吗？"
        if not messages.ask(self, question, "批量开具催缴通知书"):
            return None
        return self._issue([], self.stage)

    def _issue(self, household_ids: Sequence[uuid.UUID], stage: DunningStage | None) -> int:
        folder = notices_dir(self.store.paths)
        chosen = tuple(household_ids)

        def work(session: Session) -> tuple[list[IssuedNotice], Path, int]:
            issued = issue_notices(
                session, stage=stage, operator=session.info["operator"], household_ids=chosen
            )
            out = folder / _notices_name(issued)
            # In the same unit of work: numbers are only taken for notices that were actually written.
            pages = print_notices(session, issued, out)
            return issued, out, pages

        return self.runner.run(
            work,
            description="正在开具催缴通知书…",
            topic=MONEY_TOPIC,
            on_success=lambda result: self._issued(*result),
            parent=self,
            owner=self,
        )

    def _issued(self, issued: list[IssuedNotice], out: Path, pages: int) -> None:
        first = issued[0].notice_no
        self.status_label.setText(
            f"已开具催缴通知书 {len(issued)} 份（{first} 起），共 {pages} 页：{out}。"
            "已打开以便打印；送达后请用“登记催缴”记下送达凭证（签收人、回执）。"
        )
        self.status_label.show()
        open_pdf(out)
        self._after_write([n.row.unit_code for n in issued])

    def _after_write(self, codes: Sequence[str]) -> None:
        self.refresh()
        self.select_units(codes)

    def _collect(self) -> None:
        rows = self.selected_rows()
        if len(rows) == 1:
            self.collect_requested.emit(rows[0].unit_code)

    def _open_card(self) -> None:
        from yuexiu_desk.services.units import find_unit_id_by_code

        rows = self.selected_rows()
        if len(rows) == 1:
            with self.store.read() as session:
                self.unit_activated.emit(find_unit_id_by_code(session, rows[0].unit_code))


def _notices_name(issued: Sequence[IssuedNotice]) -> str:
    first, last = issued[0].notice_no, issued[-1].notice_no
    if len(issued) == 1:
        return f"催缴通知书-{first}.pdf"
    return f"催缴通知书-{first}至{last.rsplit('-', 1)[-1]}.pdf"
