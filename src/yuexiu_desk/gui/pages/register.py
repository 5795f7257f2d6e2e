"""房源台账: the filter bar and the lazy register table. Enter or double-click opens a unit card."""

from __future__ import annotations

import uuid

from PySide6.QtCore import QItemSelection, QItemSelectionModel, QModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from yuexiu_desk.domain.units import UnitStatus
from yuexiu_desk.gui.models import UNIT_COLUMNS, UnitTableModel
from yuexiu_desk.services.units import UnitFilter, UnitKey, building_numbers, fetch_rows_by_key, unit_types
from yuexiu_desk.storage.db import Store

FILTER_DELAY_MS = 120
ALL = "全部"


class _SearchBox(QLineEdit):
    """The filter line edit: Down moves into the table."""

    down_pressed = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Down and not event.modifiers():
            self.down_pressed.emit()
            return
        super().keyPressEvent(event)


class RegisterPage(QWidget):
    unit_activated = Signal(object)  # uuid.UUID
    selection_changed = Signal()

    def __init__(self, store: Store, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._store = store
        self.model = UnitTableModel(store, self)

        title = QLabel("房源台账")
        title.setObjectName("pageTitle")

        self.search = _SearchBox()
        self.search.setPlaceholderText("筛选：房号开头、户型或房态，例如 2-1、两室、空置")
        self.search.setClearButtonEnabled(True)
        self.search.setMinimumWidth(300)
        self.search.setAccessibleName("筛选")
        self.building_combo = QComboBox()
        self.type_combo = QComboBox()
        self.status_combo = QComboBox()
        for combo in (self.building_combo, self.type_combo, self.status_combo):
            combo.setMinimumWidth(100)
        self.clear_button = QPushButton("清除筛选")
        self.count_label = QLabel()
        self.count_label.setObjectName("countLabel")

        bar = QHBoxLayout()
        bar.addWidget(self.search, 3)
        for caption, combo in (
            ("楼栋", self.building_combo),
            ("户型", self.type_combo),
            ("房态", self.status_combo),
        ):
            label = QLabel(caption)
            label.setBuddy(combo)
            bar.addSpacing(8)
            bar.addWidget(label)
            bar.addWidget(combo)
        bar.addSpacing(8)
        bar.addWidget(self.clear_button)
        bar.addStretch(1)
        bar.addWidget(self.count_label)

        self.view = QTableView()
        self.view.setModel(self.model)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.setAlternatingRowColors(True)
        self.view.setWordWrap(False)
        self.view.verticalHeader().setVisible(False)
        self.view.verticalHeader().setDefaultSectionSize(28)
        self.view.setTabKeyNavigation(False)
        header = self.view.horizontalHeader()
        header.setHighlightSections(False)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        for column, spec in enumerate(UNIT_COLUMNS):
            self.view.setColumnWidth(column, spec.width)
        header.setStretchLastSection(True)
        self.view.setSortingEnabled(True)
        self.view.sortByColumn(0, Qt.SortOrder.AscendingOrder)

        hint = QLabel("Enter 或双击打开房源卡片 · Ctrl+L 查找/扫码 · 点击列标题排序")
        hint.setObjectName("hint")

        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 8)
        layout.addWidget(title)
        layout.addLayout(bar)
        layout.addWidget(self.view, 1)
        layout.addWidget(hint)

        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(FILTER_DELAY_MS)
        self._debounce.timeout.connect(self.apply_filter)
        self.search.textChanged.connect(self._debounce.start)
        self.search.returnPressed.connect(self._search_entered)
        self.search.down_pressed.connect(self._enter_table)
        for combo in (self.building_combo, self.type_combo, self.status_combo):
            combo.currentIndexChanged.connect(self.apply_filter)
        self.clear_button.clicked.connect(self.clear_filter)
        self.view.activated.connect(self._activated)
        header.sortIndicatorChanged.connect(self._sort_requested)
        self.view.selectionModel().selectionChanged.connect(self.selection_changed)
        self.model.modelReset.connect(self._update_count)

        self.setTabOrder(self.search, self.building_combo)
        self.setTabOrder(self.building_combo, self.type_combo)
        self.setTabOrder(self.type_combo, self.status_combo)
        self.setTabOrder(self.status_combo, self.clear_button)
        self.setTabOrder(self.clear_button, self.view)
        self.setFocusProxy(self.search)

        self._fill_combos()
        self.apply_filter()

    # --- filter -------------------------------------------------------------------------------------
    def _fill_combos(self) -> None:
        with self._store.read() as session:
            buildings = building_numbers(session)
            types = unit_types(session)
        self._refill(self.building_combo, [(f"{n}栋", n) for n in buildings])
        self._refill(self.type_combo, [(t, t) for t in types])
        self._refill(self.status_combo, [(s.label, s.value) for s in UnitStatus])

    @staticmethod
    def _refill(combo: QComboBox, items: list[tuple[str, object]]) -> None:
        current = combo.currentData()
        combo.blockSignals(True)
        combo.clear()
        combo.addItem(ALL, None)
        for text, data in items:
            combo.addItem(text, data)
        found = combo.findData(current) if current is not None else 0
        combo.setCurrentIndex(max(found, 0))
        combo.blockSignals(False)

    def current_filter(self) -> UnitFilter:
        status = self.status_combo.currentData()
        return UnitFilter(
            text=self.search.text(),
            building=self.building_combo.currentData(),
            unit_type=self.type_combo.currentData(),
            status=UnitStatus(status) if status else None,
        )

    def apply_filter(self) -> None:
        self._debounce.stop()
        self.model.set_filter(self.current_filter())
        self._update_count()

    def clear_filter(self) -> None:
        for combo in (self.building_combo, self.type_combo, self.status_combo):
            combo.blockSignals(True)
            combo.setCurrentIndex(0)
            combo.blockSignals(False)
        self.search.clear()
        self.apply_filter()
        self.search.setFocus()

    def _update_count(self) -> None:
        self.count_label.setText(f"共 {self.model.rowCount()} 套")

    # --- sorting: only columns the database can sort ------------------------------------------------
    def _sort_requested(self, column: int, order: Qt.SortOrder) -> None:
        if UNIT_COLUMNS[column].sort_key is None:
            # Restore the arrow on the column the rows are actually sorted by.
            QTimer.singleShot(0, self._restore_sort_indicator)

    def _restore_sort_indicator(self) -> None:
        header = self.view.horizontalHeader()
        header.blockSignals(True)
        header.setSortIndicator(self.model.sort_column, self.model.sort_order)
        header.blockSignals(False)
        header.viewport().update()

    # --- opening and selection ----------------------------------------------------------------------
    def _activated(self, index: QModelIndex) -> None:
        if index.isValid():
            self._open_row(index.row())

    def _open_row(self, row: int) -> None:
        unit_id = self.model.unit_id(row)
        if unit_id is not None:  # None: the unit vanished since the search (its line says so)
            self.unit_activated.emit(unit_id)

    def _search_entered(self) -> None:
        self.apply_filter()
        if self.model.rowCount() == 1:
            self._open_row(0)
        else:
            self._enter_table()

    def _enter_table(self) -> None:
        if self.model.rowCount() == 0:
            return
        self.view.setFocus()
        if not self.view.currentIndex().isValid():
            self.select_row(0)

    def select_row(self, row: int) -> None:
        index = self.model.index(row, 0)
        self.view.selectionModel().setCurrentIndex(
            index,
            QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows,
        )
        self.view.scrollTo(index)

    def select_unit(self, unit_id: uuid.UUID) -> bool:
        row = self.model.row_of(unit_id)
        if row is None:
            return False
        self.select_row(row)
        return True

    def _selected_rows(self) -> list[int]:
        return sorted({index.row() for index in self.view.selectionModel().selectedRows()})

    def selected_keys(self) -> list[UnitKey]:
        return [self.model.key(r) for r in self._selected_rows()]

    def selected_unit_ids(self) -> list[uuid.UUID]:
        keys = self.selected_keys()
        with self._store.read() as session:
            rows = fetch_rows_by_key(session, keys)
        return [rows[k].id for k in keys if k in rows]

    def selected_codes(self) -> list[str]:
        keys = self.selected_keys()
        with self._store.read() as session:
            rows = fetch_rows_by_key(session, keys)
        return [rows[k].code for k in keys if k in rows]

    # --- refresh after writes -----------------------------------------------------------------------
    def refresh(self) -> None:
        """Re-read after a write, keeping what the clerk had selected (by unit, rows may have moved)."""
        selected = self.selected_keys()
        current = self.view.currentIndex()
        current_key = self.model.key(current.row()) if current.isValid() else None
        self._fill_combos()
        self.model.reload()
        self._update_count()
        current = self.view.currentIndex()
        now_current = self.model.key(current.row()) if current.isValid() else None
        if self.selected_keys() == selected and now_current == current_key:
            return  # the key list did not change: the view kept its selection
        self.restore_selection(selected, current_key)

    def restore_selection(self, keys: list[UnitKey], current_key: UnitKey | None) -> None:
        """Select every one of the units (by key) still shown, in one selection change, and make
        current_key's unit the current one."""
        rows = sorted(r for r in self.model.rows_of_keys(keys) if r is not None)
        last_column = self.model.columnCount() - 1
        selection = QItemSelection()
        start = previous = None
        for row in [*rows, None]:  # contiguous runs become one range each (a select-all is one range)
            if row is not None and previous is not None and row == previous + 1:
                previous = row
                continue
            if start is not None and previous is not None:
                selection.select(self.model.index(start, 0), self.model.index(previous, last_column))
            start = previous = row
        model = self.view.selectionModel()
        model.select(
            selection,
            QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows,
        )
        current_row = self.model.row_of_key(current_key) if current_key is not None else None
        if current_row is None and rows:
            current_row = rows[0]
        if current_row is not None:
            index = self.model.index(current_row, 0)
            model.setCurrentIndex(index, QItemSelectionModel.SelectionFlag.NoUpdate)
            self.view.scrollTo(index)
