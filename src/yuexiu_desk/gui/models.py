"""Table models. The register model is lazy: it holds only the keys of the current search (filtered and
sorted in SQL, one int per unit) and fetches rows a page at a time into a small LRU cache, so it stays
instant at 50k units. UUIDs are made only for the rows that are shown or opened.
"""

from __future__ import annotations

import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor

from yuexiu_desk.clock import local_text
from yuexiu_desk.domain.units import UnitStatus
from yuexiu_desk.gui.style import status_colour, status_tint
from yuexiu_desk.services.units import (
    ChangeEventRow,
    UnitFilter,
    UnitKey,
    UnitRow,
    fetch_rows_by_key,
    search_unit_keys,
    unit_keys,
)
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

# data() runs for every role of every visible cell at each repaint (some 1,300 calls for one screen of the
# register), so its constants are plain ints and tuples made once.
_DISPLAY_ROLE = int(_DISPLAY)
_ALIGNMENT_ROLE = int(Qt.ItemDataRole.TextAlignmentRole)
_TOOLTIP_ROLE = int(Qt.ItemDataRole.ToolTipRole)
_DECORATION_ROLE = int(Qt.ItemDataRole.DecorationRole)
_BACKGROUND_ROLE = int(Qt.ItemDataRole.BackgroundRole)
_UNIT_ID_ROLE = int(UNIT_ID_ROLE)
_ROW_ROLES = frozenset((_TOOLTIP_ROLE, _DECORATION_ROLE, _BACKGROUND_ROLE, _UNIT_ID_ROLE))
_ALIGNMENTS = tuple(column.align for column in UNIT_COLUMNS)
_ROW_FLAGS = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
_NO_FLAGS = Qt.ItemFlag.NoItemFlags


class _Line:
    """A fetched register line with its cell texts, formatted once when its page is fetched."""

    __slots__ = ("row", "texts")

    def __init__(self, row: UnitRow) -> None:
        self.row = row
        self.texts = tuple(column.value(row) for column in UNIT_COLUMNS)


_COLOURS: dict[UnitStatus, tuple[QColor, QColor | None]] = {}


def _status_colours(status: UnitStatus) -> tuple[QColor, QColor | None]:
    """The status column's decoration and background (None for occupied: only the exceptions are tinted)."""
    colours = _COLOURS.get(status)
    if colours is None:
        tint = status_tint(status) if status != UnitStatus.OCCUPIED else None
        colours = _COLOURS[status] = (status_colour(status), tint)
    return colours


class UnitTableModel(QAbstractTableModel):
    """The register: keys from search_unit_keys, rows from fetch_rows_by_key a page at a time."""

    PAGE_SIZE = 100
    MAX_PAGES = 8

    def __init__(self, store: Store, parent: Any = None) -> None:
        super().__init__(parent)
        self._store = store
        self._filter = UnitFilter()
        self._sort_key = "code"
        self._sort_column = 0
        self._descending = False
        self._keys: list[UnitKey] = []
        self._row_index: dict[UnitKey, int] | None = None  # key → row, built when first asked
        self._pages: OrderedDict[int, dict[UnitKey, _Line]] = OrderedDict()
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

    def key(self, row: int) -> UnitKey:
        return self._keys[row]

    def row_of_key(self, key: UnitKey) -> int | None:
        if self._row_index is not None:
            return self._row_index.get(key)
        try:
            return self._keys.index(key)  # one look-up: a scan in C beats building the index
        except ValueError:
            return None

    def rows_of_keys(self, keys: Iterable[UnitKey]) -> list[int | None]:
        index = self._index()
        return [index.get(k) for k in keys]

    def _index(self) -> dict[UnitKey, int]:
        if self._row_index is None:
            self._row_index = {k: row for row, k in enumerate(self._keys)}
        return self._row_index

    def unit_id(self, row: int) -> uuid.UUID | None:
        """The unit shown at a row (fetching its page if needed); None if it vanished meanwhile."""
        line = self.unit_row(row)
        return line.id if line is not None else None

    def row_of(self, unit_id: uuid.UUID) -> int | None:
        """The row showing a unit, or None when the current search does not include it."""
        with self._store.read() as session:
            key = unit_keys(session, [unit_id]).get(unit_id)
        return self.row_of_key(key) if key is not None else None

    def unit_row(self, row: int) -> UnitRow | None:
        """The register line at a row (fetching its page if needed); None if the unit vanished meanwhile."""
        line = self._line(row)
        return line.row if line is not None else None

    def _line(self, row: int) -> _Line | None:
        if not 0 <= row < len(self._keys):
            return None
        page_no = row // self.PAGE_SIZE
        page = self._pages.get(page_no)
        if page is None:
            start = page_no * self.PAGE_SIZE
            with self._store.read() as session:
                rows = fetch_rows_by_key(session, self._keys[start : start + self.PAGE_SIZE])
            page = {key: _Line(unit) for key, unit in rows.items()}
            self.fetches += 1
            self._pages[page_no] = page
            while len(self._pages) > self.MAX_PAGES:
                self._pages.popitem(last=False)
        else:
            self._pages.move_to_end(page_no)
        return page.get(self._keys[row])

    def reload(self) -> None:
        """Query the keys again (after a filter/sort change or a write); keeps the view's selection when
        the key list did not change (e.g. only a status changed)."""
        with self._store.read() as session:
            keys = search_unit_keys(session, self._filter, self._sort_key, self._descending)
        if self._loaded and keys == self._keys:
            self._pages.clear()
            if keys:
                self.dataChanged.emit(self.index(0, 0), self.index(len(keys) - 1, self.columnCount() - 1))
            return
        self._reset(keys)

    def _reset(self, keys: list[UnitKey]) -> None:
        self.beginResetModel()
        self._loaded = True
        self._keys = keys
        self._row_index = None
        self._pages.clear()
        self.endResetModel()

    # --- QAbstractTableModel ------------------------------------------------------------------------
    def rowCount(self, parent: Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(self._keys)

    def columnCount(self, parent: Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(UNIT_COLUMNS)

    def data(self, index: Index, role: int = _DISPLAY) -> Any:
        if not index.isValid():
            return None
        if role == _DISPLAY_ROLE:
            line = self._line(index.row())
            if line is None:
                return "（已删除）" if index.column() == 0 else None
            return line.texts[index.column()]
        if role == _ALIGNMENT_ROLE:
            return _ALIGNMENTS[index.column()]
        if role not in _ROW_ROLES:
            return None
        line = self._line(index.row())
        if line is None:
            return None
        row = line.row
        if role == _UNIT_ID_ROLE:
            return str(row.id)
        if role == _TOOLTIP_ROLE:
            accessible = "，无障碍" if row.accessible else ""
            return f"{row.code} · {row.unit_type} · {row.gross_area:.2f} m² · {row.status.label}{accessible}"
        if index.column() == STATUS_COLUMN:
            decoration, background = _status_colours(row.status)
            return decoration if role == _DECORATION_ROLE else background
        return None

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = _DISPLAY) -> Any:
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(UNIT_COLUMNS):
            column = UNIT_COLUMNS[section]
            if role == _DISPLAY:
                return column.title
            if role == Qt.ItemDataRole.ToolTipRole:
                return f"点击按“{column.title}”排序" if column.sort_key else f"“{column.title}”列不能排序"
        if orientation == Qt.Orientation.Vertical and role == _DISPLAY and 0 <= section < len(self._keys):
            return str(section + 1)
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        return _ROW_FLAGS if index.isValid() else _NO_FLAGS

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
            keys = search_unit_keys(session, self._filter, key, descending)
        if len(keys) != len(self._keys) or set(keys) != set(self._keys):
            self._reset(keys)  # someone else wrote meanwhile: not just a new order
            return
        self.layoutAboutToBeChanged.emit()
        old_keys = self._keys
        persistent = self.persistentIndexList()
        self._keys = keys
        self._row_index = None
        self._pages.clear()
        index = self._index()
        moved = []
        for old in persistent:
            new_row = index.get(old_keys[old.row()]) if 0 <= old.row() < len(old_keys) else None
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
