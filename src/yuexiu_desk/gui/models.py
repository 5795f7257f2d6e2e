"""Table models. The register model is lazy: it holds only the ids of the current search (filtered and
sorted in SQL) and fetches rows a page at a time into a small LRU cache, so it stays instant at 50k units.
"""

from __future__ import annotations

import uuid
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor

from yuexiu_desk.clock import local_text
from yuexiu_desk.domain.units import UnitStatus
from yuexiu_desk.gui.style import status_colour, status_tint
from yuexiu_desk.services.units import ChangeEventRow, UnitFilter, UnitRow, fetch_rows, search_unit_ids
from yuexiu_desk.storage.db import Store

Index = QModelIndex | QPersistentModelIndex
_ROOT = QModelIndex()
_DISPLAY = Qt.ItemDataRole.DisplayRole
_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
_CENTER = Qt.AlignmentFlag.AlignCenter
_LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter

UNIT_ID_ROLE = Qt.ItemDataRole.UserRole + 1


@dataclass(frozen=True)
class Column:
    title: str
    value: Callable[[UnitRow], str]
    sort_key: str | None  # a services.units.SORT_COLUMNS key, or None when the column cannot be sorted
    align: Qt.AlignmentFlag
    width: int


UNIT_COLUMNS: tuple[Column, ...] = (
    Column("房号", lambda r: r.code, "code", _LEFT, 96),
    Column("栋", lambda r: str(r.building), "building", _CENTER, 48),
    Column("单元", lambda r: str(r.entrance), "entrance", _CENTER, 52),
    Column("楼层", lambda r: str(r.floor), "floor", _CENTER, 52),
    Column("户型", lambda r: r.unit_type, "unit_type", _LEFT, 96),
    Column("建筑面积(m²)", lambda r: f"{r.gross_area:.2f}", "gross_area", _RIGHT, 110),
    Column("套内面积(m²)", lambda r: f"{r.inner_area:.2f}", None, _RIGHT, 110),
    Column("朝向", lambda r: r.orientation, None, _CENTER, 60),
    Column("房态", lambda r: r.status.label, "status", _LEFT, 96),
)
STATUS_COLUMN = len(UNIT_COLUMNS) - 1


class UnitTableModel(QAbstractTableModel):
    """The register: ids from search_unit_ids, rows from fetch_rows on demand."""

    PAGE_SIZE = 200
    MAX_PAGES = 8

    def __init__(self, store: Store, parent: Any = None) -> None:
        super().__init__(parent)
        self._store = store
        self._filter = UnitFilter()
        self._sort_key = "code"
        self._sort_column = 0
        self._descending = False
        self._ids: list[uuid.UUID] = []
        self._rows_by_id: dict[uuid.UUID, int] = {}
        self._pages: OrderedDict[int, dict[uuid.UUID, UnitRow]] = OrderedDict()
        self._loaded = False
        self.fetches = 0  # pages fetched so far (benchmarks and tests look at it)

    # --- what the page asks -------------------------------------------------------------------------
    @property
    def unit_filter(self) -> UnitFilter:
        return self._filter

    @property
    def sort_column(self) -> int:
        return self._sort_column

    @property
    def sort_order(self) -> Qt.SortOrder:
        return Qt.SortOrder.DescendingOrder if self._descending else Qt.SortOrder.AscendingOrder

    def set_filter(self, flt: UnitFilter) -> None:
        if flt != self._filter or not self._loaded:
            self._filter = flt
            self.reload()

    def unit_id(self, row: int) -> uuid.UUID:
        return self._ids[row]

    def row_of(self, unit_id: uuid.UUID) -> int | None:
        return self._rows_by_id.get(unit_id)

    def unit_row(self, row: int) -> UnitRow | None:
        """The register line at a row (fetching its page if needed); None if the unit vanished meanwhile."""
        if not 0 <= row < len(self._ids):
            return None
        page_no = row // self.PAGE_SIZE
        page = self._pages.get(page_no)
        if page is None:
            start = page_no * self.PAGE_SIZE
            with self._store.read() as session:
                page = fetch_rows(session, self._ids[start : start + self.PAGE_SIZE])
            self.fetches += 1
            self._pages[page_no] = page
            while len(self._pages) > self.MAX_PAGES:
                self._pages.popitem(last=False)
        else:
            self._pages.move_to_end(page_no)
        return page.get(self._ids[row])

    def reload(self) -> None:
        """Query the ids again (after a filter/sort change or a write); keeps the view's selection when
        the id list did not change (e.g. only a status changed)."""
        with self._store.read() as session:
            ids = search_unit_ids(session, self._filter, self._sort_key, self._descending)
        if self._loaded and ids == self._ids:
            self._pages.clear()
            if ids:
                self.dataChanged.emit(self.index(0, 0), self.index(len(ids) - 1, self.columnCount() - 1))
            return
        self._reset(ids)

    def _reset(self, ids: list[uuid.UUID]) -> None:
        self.beginResetModel()
        self._loaded = True
        self._ids = ids
        self._rows_by_id = {unit_id: row for row, unit_id in enumerate(ids)}
        self._pages.clear()
        self.endResetModel()

    # --- QAbstractTableModel ------------------------------------------------------------------------
    def rowCount(self, parent: Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(self._ids)

    def columnCount(self, parent: Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(UNIT_COLUMNS)

    def data(self, index: Index, role: int = _DISPLAY) -> Any:
        if not index.isValid():
            return None
        column = UNIT_COLUMNS[index.column()]
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return column.align
        if role == UNIT_ID_ROLE:
            return str(self._ids[index.row()])
        if role not in (
            _DISPLAY,
            Qt.ItemDataRole.ToolTipRole,
            Qt.ItemDataRole.DecorationRole,
            Qt.ItemDataRole.BackgroundRole,
        ):
            return None
        row = self.unit_row(index.row())
        if row is None:
            return "（已删除）" if role == _DISPLAY and index.column() == 0 else None
        if role == _DISPLAY:
            return column.value(row)
        if role == Qt.ItemDataRole.ToolTipRole:
            accessible = "，无障碍" if row.accessible else ""
            return f"{row.code} · {row.unit_type} · {row.gross_area:.2f} m² · {row.status.label}{accessible}"
        if index.column() == STATUS_COLUMN:
            if role == Qt.ItemDataRole.DecorationRole:
                return status_colour(row.status)
            # Most units are occupied; tint only the others so the exceptions stand out.
            return status_tint(row.status) if row.status != UnitStatus.OCCUPIED else None
        return None

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = _DISPLAY) -> Any:
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(UNIT_COLUMNS):
            column = UNIT_COLUMNS[section]
            if role == _DISPLAY:
                return column.title
            if role == Qt.ItemDataRole.ToolTipRole:
                return f"点击按“{column.title}”排序" if column.sort_key else f"“{column.title}”列不能排序"
        if orientation == Qt.Orientation.Vertical and role == _DISPLAY and 0 <= section < len(self._ids):
            return str(section + 1)
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Sort in SQL. Columns without a sort key keep the current order (the page restores the arrow)."""
        if not 0 <= column < len(UNIT_COLUMNS):
            return
        key = UNIT_COLUMNS[column].sort_key
        if key is None:
            return
        descending = order == Qt.SortOrder.DescendingOrder
        if (key, descending, column) == (self._sort_key, self._descending, self._sort_column):
            return
        self._sort_key, self._descending, self._sort_column = key, descending, column
        if not self._loaded:
            return
        with self._store.read() as session:
            ids = search_unit_ids(session, self._filter, key, descending)
        if len(ids) != len(self._ids) or set(ids) != set(self._rows_by_id):
            self._reset(ids)  # someone else wrote meanwhile: not just a new order
            return
        self.layoutAboutToBeChanged.emit()
        old_ids = self._ids
        persistent = self.persistentIndexList()
        self._ids = ids
        self._rows_by_id = {unit_id: row for row, unit_id in enumerate(ids)}
        self._pages.clear()
        moved = []
        for old in persistent:
            unit_id = old_ids[old.row()] if old.row() < len(old_ids) else None
            new_row = self._rows_by_id.get(unit_id) if unit_id is not None else None
            moved.append(self.index(new_row, old.column()) if new_row is not None else QModelIndex())
        self.changePersistentIndexList(persistent, moved)
        self.layoutChanged.emit()


class HistoryModel(QAbstractTableModel):
    """A unit's 异动 (already limited by the service to the latest few dozen)."""

    HEADERS = ("时间", "异动", "房态变化", "原因", "经办人")

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._events: list[ChangeEventRow] = []

    def set_events(self, events: Sequence[ChangeEventRow]) -> None:
        self.beginResetModel()
        self._events = list(events)
        self.endResetModel()

    def event_at(self, row: int) -> ChangeEventRow:
        return self._events[row]

    def rowCount(self, parent: Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(self._events)

    def columnCount(self, parent: Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(self.HEADERS)

    def data(self, index: Index, role: int = _DISPLAY) -> Any:
        if not index.isValid():
            return None
        event = self._events[index.row()]
        column = index.column()
        if role in (_DISPLAY, Qt.ItemDataRole.ToolTipRole):
            values = (
                local_text(event.occurred_at),
                event.kind.label,
                f"{event.from_status.label} → {event.to_status.label}",
                event.reason,
                event.operator,
            )
            return values[column]
        if role == Qt.ItemDataRole.DecorationRole and column == 2:
            return status_colour(event.to_status)
        return None

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = _DISPLAY) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == _DISPLAY and 0 <= section < len(self.HEADERS):
            return self.HEADERS[section]
        return None


@dataclass(frozen=True)
class CountLine:
    label: str
    count: int
    colour: QColor | None = None
    share: str = ""
    bold: bool = False


class CountsModel(QAbstractTableModel):
    """A small read-only table of labelled counts (异动 by kind, units by status)."""

    def __init__(self, headers: Sequence[str], parent: Any = None) -> None:
        super().__init__(parent)
        self._headers = tuple(headers)
        self._lines: list[CountLine] = []

    def set_lines(self, lines: Sequence[CountLine]) -> None:
        self.beginResetModel()
        self._lines = list(lines)
        self.endResetModel()

    def lines(self) -> list[CountLine]:
        return list(self._lines)

    def rowCount(self, parent: Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(self._lines)

    def columnCount(self, parent: Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(self._headers)

    def data(self, index: Index, role: int = _DISPLAY) -> Any:
        if not index.isValid():
            return None
        line = self._lines[index.row()]
        column = index.column()
        if role == _DISPLAY:
            return (line.label, str(line.count), line.share)[column]
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return _LEFT if column == 0 else _RIGHT
        if role == Qt.ItemDataRole.DecorationRole and column == 0:
            return line.colour
        if role == Qt.ItemDataRole.FontRole and line.bold:
            from PySide6.QtGui import QFont

            font = QFont()
            font.setBold(True)
            return font
        return None

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = _DISPLAY) -> Any:
        if (
            orientation == Qt.Orientation.Horizontal
            and role == _DISPLAY
            and 0 <= section < len(self._headers)
        ):
            return self._headers[section]
        return None


def status_lines(counts: dict[UnitStatus, int]) -> list[CountLine]:
    total = sum(counts.values())
    lines = [
        CountLine(s.label, n, status_colour(s), f"{n / total:.1%}" if total else "–")
        for s, n in counts.items()
    ]
    lines.append(CountLine("合计", total, None, "100.0%" if total else "–", bold=True))
    return lines
