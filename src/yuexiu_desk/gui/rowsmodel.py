"""A small read-only table model over a list of plain rows (households, leases, what is due).

These lists are a few hundred rows at most, read in one query: the model holds the rows and formats cells
on demand; filtering is a QSortFilterProxyModel on top. (The register's lazy model is for 50k units.)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView, QWidget

T = TypeVar("T")
Index = QModelIndex | QPersistentModelIndex
ROW_ROLE = Qt.ItemDataRole.UserRole + 2
_ROOT = QModelIndex()


@dataclass(frozen=True)
class RowColumn(Generic[T]):
    title: str
    value: Callable[[T], str]
    width: int = 100
    align: Qt.AlignmentFlag = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter


class RowsModel(QAbstractTableModel, Generic[T]):
    """Rows of one dataclass type under fixed columns; foreground(row) may colour a whole line."""

    def __init__(
        self,
        columns: Sequence[RowColumn[T]],
        foreground: Callable[[T], QColor | None] | None = None,
        parent: Any = None,
    ) -> None:
        super().__init__(parent)
        self.columns = tuple(columns)
        self._foreground = foreground
        self._rows: list[T] = []

    def set_rows(self, rows: Sequence[T]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def row(self, index: int) -> T:
        return self._rows[index]

    @property
    def rows(self) -> list[T]:
        return list(self._rows)

    def rowCount(self, parent: Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(self.columns)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        row = self._rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return self.columns[index.column()].value(row)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return self.columns[index.column()].align
        if role == Qt.ItemDataRole.ForegroundRole and self._foreground is not None:
            return self._foreground(row)
        if role == ROW_ROLE:
            return row
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self.columns[section].title
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable


def rows_table(model: RowsModel[Any]) -> QTableView:
    """A read-only, row-selecting table over a RowsModel, with the columns' widths."""
    view = QTableView()
    view.setModel(model)
    view.verticalHeader().setVisible(False)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setAlternatingRowColors(True)
    view.setWordWrap(False)
    for column, spec in enumerate(model.columns):
        view.setColumnWidth(column, spec.width)
    view.horizontalHeader().setStretchLastSection(True)
    view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    return view


def selected_row(
    view: QTableView, model: RowsModel[T], parent: QWidget | None = None, ask: str = ""
) -> T | None:
    """The row selected in a single-selection table over model; None (after saying ask, when given) if none."""
    rows = view.selectionModel().selectedRows()
    if rows:
        return model.row(rows[0].row())
    if ask:
        from yuexiu_desk.gui import messages

        messages.warn(parent, ask)
    return None
