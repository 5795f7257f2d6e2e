"""房态图: per building a grid of floors (top floor at the top) × (entrance, room), each cell coloured by
status. One painted widget per building (not hundreds of buttons); click or Enter opens the unit card.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QPoint, QRect, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFocusEvent,
    QFont,
    QHelpEvent,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from yuexiu_desk.domain.units import UnitStatus
from yuexiu_desk.gui.style import status_colour, text_colour_on
from yuexiu_desk.services.units import BuildingMap, MapCell, building_numbers, house_maps
from yuexiu_desk.storage.db import Store

CELL_W = 62
CELL_H = 30
GAP = 4
ENTRANCE_GAP = 14
FLOOR_LABEL_W = 40
HEADER_H = 26
MARGIN = 6

Slot = tuple[int, int, int]  # (floor, entrance, room)


class BuildingMapWidget(QWidget):
    """The grid of one building. API for tests: floor_count, column_count, cell_rect(), cell_at()."""

    unit_activated = Signal(object)  # uuid.UUID

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._map: BuildingMap | None = None
        self._current: Slot | None = None
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMouseTracking(True)
        self.setAccessibleName("房态图")

    # --- data ---------------------------------------------------------------------------------------
    def set_map(self, building_map: BuildingMap) -> None:
        self._map = building_map
        if self._current not in building_map.cells:
            self._current = None
        self.updateGeometry()
        self.update()

    @property
    def building_map(self) -> BuildingMap | None:
        return self._map

    @property
    def floor_count(self) -> int:
        return len(self._map.floors) if self._map else 0

    @property
    def column_count(self) -> int:
        return len(self._map.columns) if self._map else 0

    def cell(self, floor: int, entrance: int, room: int) -> MapCell | None:
        return self._map.cells.get((floor, entrance, room)) if self._map else None

    # --- geometry -----------------------------------------------------------------------------------
    def _column_x(self, index: int) -> int:
        assert self._map is not None
        x = MARGIN + FLOOR_LABEL_W
        previous_entrance = None
        for i, (entrance, _room) in enumerate(self._map.columns):
            if previous_entrance is not None:
                x += GAP + (ENTRANCE_GAP if entrance != previous_entrance else 0)
            if i == index:
                return x
            x += CELL_W
            previous_entrance = entrance
        return x

    def cell_rect(self, floor: int, entrance: int, room: int) -> QRect:
        """Where the cell of that unit is painted (an empty rect if the building has no such slot)."""
        if self._map is None or floor not in self._map.floors or (entrance, room) not in self._map.columns:
            return QRect()
        row = self._map.floors.index(floor)
        column = self._map.columns.index((entrance, room))
        y = MARGIN + HEADER_H + row * (CELL_H + GAP)
        return QRect(self._column_x(column), y, CELL_W, CELL_H)

    def cell_at(self, pos: QPoint) -> MapCell | None:
        if self._map is None:
            return None
        for floor in self._map.floors:
            for entrance, room in self._map.columns:
                if self.cell_rect(floor, entrance, room).contains(pos):
                    return self._map.cells.get((floor, entrance, room))
        return None

    def sizeHint(self) -> QSize:
        if not self._map or not self._map.columns:
            return QSize(200, 100)
        width = self._column_x(len(self._map.columns) - 1) + CELL_W + MARGIN
        height = MARGIN + HEADER_H + len(self._map.floors) * (CELL_H + GAP) + MARGIN
        return QSize(width, height)

    def minimumSizeHint(self) -> QSize:
        return self.sizeHint()

    # --- painting -----------------------------------------------------------------------------------
    def paintEvent(self, event: QPaintEvent) -> None:
        if self._map is None:
            return
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        base = QFont(self.font())
        small = QFont(base)
        small.setPointSizeF(max(base.pointSizeF() - 1, 7))
        bold = QFont(base)
        bold.setBold(True)

        # entrance headings over their columns
        painter.setFont(bold)
        painter.setPen(QColor("#2b3642"))
        for entrance in sorted({e for e, _ in self._map.columns}):
            rooms = [(e, r) for e, r in self._map.columns if e == entrance]
            first = self.cell_rect(self._map.floors[0], *rooms[0])
            last = self.cell_rect(self._map.floors[0], *rooms[-1])
            heading = QRect(first.left(), MARGIN, last.right() - first.left() + 1, HEADER_H - 6)
            painter.drawText(heading, Qt.AlignmentFlag.AlignCenter, f"{entrance}单元")
            painter.setPen(QPen(QColor("#9aa5b1"), 1))
            painter.drawLine(
                heading.left() + 4, heading.bottom() + 2, heading.right() - 4, heading.bottom() + 2
            )
            painter.setPen(QColor("#2b3642"))

        for floor in self._map.floors:
            any_rect = self.cell_rect(floor, *self._map.columns[0])
            label_rect = QRect(MARGIN, any_rect.top(), FLOOR_LABEL_W - 6, CELL_H)
            painter.setFont(small)
            painter.setPen(QColor("#56616d"))
            painter.drawText(
                label_rect, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, f"{floor}层"
            )
            painter.setFont(base)
            for entrance, room in self._map.columns:
                rect = self.cell_rect(floor, entrance, room)
                cell = self._map.cells.get((floor, entrance, room))
                if cell is None:
                    painter.setPen(QPen(QColor("#c9cfd6"), 1, Qt.PenStyle.DashLine))
                    painter.setBrush(Qt.BrushStyle.NoBrush)
                    painter.drawRoundedRect(rect.adjusted(0, 0, -1, -1), 4, 4)
                    continue
                colour = status_colour(cell.status)
                painter.setPen(Qt.PenStyle.NoPen)
                painter.setBrush(colour)
                painter.drawRoundedRect(rect, 4, 4)
                painter.setPen(text_colour_on(colour))
                painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, f"{floor}{room:02d}")
                if (floor, entrance, room) == self._current and self.hasFocus():
                    painter.setBrush(Qt.BrushStyle.NoBrush)
                    painter.setPen(QPen(QColor("#111111"), 2))
                    painter.drawRoundedRect(rect.adjusted(1, 1, -1, -1), 4, 4)
        painter.end()

    # --- interaction --------------------------------------------------------------------------------
    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            cell = self.cell_at(event.pos())
            if cell is None:
                QToolTip.hideText()
                event.ignore()
            else:
                QToolTip.showText(event.globalPos(), tooltip_text(cell), self)
            return True
        return super().event(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        cursor = (
            Qt.CursorShape.PointingHandCursor
            if self.cell_at(event.position().toPoint())
            else Qt.CursorShape.ArrowCursor
        )
        self.setCursor(cursor)
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            cell = self.cell_at(event.position().toPoint())
            if cell is not None:
                self._current = (cell.floor, cell.entrance, cell.room)
                self.update()
                self.unit_activated.emit(cell.unit_id)
                return
        super().mouseReleaseEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if self._map is None or not self._map.cells:
            super().keyPressEvent(event)
            return
        key = Qt.Key(event.key())
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Space):
            cell = self._map.cells.get(self._current) if self._current else None
            if cell is not None:
                self.unit_activated.emit(cell.unit_id)
            return
        moves = {
            Qt.Key.Key_Up: (-1, 0),
            Qt.Key.Key_Down: (1, 0),
            Qt.Key.Key_Left: (0, -1),
            Qt.Key.Key_Right: (0, 1),
        }
        if key not in moves:
            super().keyPressEvent(event)
            return
        if self._current is None:
            self._current = next(iter(sorted(self._map.cells, key=lambda s: (-s[0], s[1], s[2]))))
        else:
            floor, entrance, room = self._current
            row = self._map.floors.index(floor) + moves[key][0]
            column = self._map.columns.index((entrance, room)) + moves[key][1]
            row = min(max(row, 0), len(self._map.floors) - 1)
            column = min(max(column, 0), len(self._map.columns) - 1)
            self._current = (self._map.floors[row], *self._map.columns[column])
        self.update()
        cell = self._map.cells.get(self._current)
        if cell is not None:
            rect = self.cell_rect(cell.floor, cell.entrance, cell.room)
            QToolTip.showText(self.mapToGlobal(rect.bottomLeft()), tooltip_text(cell), self)

    def focusInEvent(self, event: QFocusEvent) -> None:
        super().focusInEvent(event)
        self.update()

    def focusOutEvent(self, event: QFocusEvent) -> None:
        super().focusOutEvent(event)
        self.update()


def tooltip_text(cell: MapCell) -> str:
    return f"{cell.code}\n{cell.unit_type}\n房态：{cell.status.label}"


class Legend(QWidget):
    """Colour swatches with the count of units in each status."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._labels: dict[UnitStatus, QLabel] = {}
        for status in UnitStatus:
            swatch = QLabel()
            swatch.setFixedSize(16, 16)
            swatch.setStyleSheet(f"background: {status_colour(status).name()}; border-radius: 3px;")
            label = QLabel()
            self._labels[status] = label
            self._layout.addWidget(swatch)
            self._layout.addWidget(label)
            self._layout.addSpacing(12)
        self.total_label = QLabel()
        self.total_label.setObjectName("countLabel")
        self._layout.addWidget(self.total_label)
        self._layout.addStretch(1)

    def set_counts(self, counts: dict[UnitStatus, int]) -> None:
        for status, label in self._labels.items():
            label.setText(f"{status.label} {counts.get(status, 0)}")
        self.total_label.setText(f"共 {sum(counts.values())} 套")

    def text_of(self, status: UnitStatus) -> str:
        return self._labels[status].text()


# A station with at most this many buildings opens on all of them side by side; a bigger one (a bureau
# database holds ~100) opens on its first building, since every grid costs a query and a widget.
ALL_BUILDINGS_AT_MOST = 6


class HouseMapPage(QWidget):
    """The building selector, the legend and the grids.

    Only what is shown is built: a building's grid is loaded the first time it is selected, and a write
    (refresh) reloads the grids on screen and marks the others stale, to be reloaded when next shown (or
    asked for through map_widget). Nothing is read while the page is hidden.
    """

    unit_activated = Signal(object)  # uuid.UUID

    def __init__(self, store: Store, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._store = store
        self._maps: dict[int, BuildingMapWidget] = {}
        self._panels: dict[int, QFrame] = {}
        self._titles: dict[int, QLabel] = {}
        self._stale: set[int] = set()  # built grids whose data predates the last write
        self._numbers: list[int] = []
        self._numbers_stale = True
        self.loads = 0  # building grids loaded so far (tests look at it)

        title = QLabel("房态图")
        title.setObjectName("pageTitle")
        self.building_combo = QComboBox()
        self.building_combo.setMinimumWidth(110)
        self.legend = Legend()
        top = QHBoxLayout()
        caption = QLabel("楼栋")
        caption.setBuddy(self.building_combo)
        top.addWidget(caption)
        top.addWidget(self.building_combo)
        top.addSpacing(24)
        top.addWidget(self.legend, 1)

        self._grid_host = QWidget()
        self._grid_layout = QHBoxLayout(self._grid_host)
        self._grid_layout.setContentsMargins(0, 0, 0, 0)
        self._grid_layout.setSpacing(16)
        self._grid_layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(self._grid_host)

        hint = QLabel("点击房号或选中后按 Enter 打开房源卡片；方向键在格子间移动。")
        hint.setObjectName("hint")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 8)
        layout.addWidget(title)
        layout.addLayout(top)
        layout.addWidget(scroll, 1)
        layout.addWidget(hint)

        self.building_combo.currentIndexChanged.connect(self._show_selected)
        self._bring_up_to_date()

    def map_widget(self, building_number: int) -> BuildingMapWidget:
        """The grid of a building, loaded (or reloaded, if stale) now if needed; KeyError if no such building."""
        if self._numbers_stale:
            self._sync_numbers()
        if building_number not in self._numbers:
            raise KeyError(building_number)
        self._load([building_number])
        return self._maps[building_number]

    def selected_buildings(self) -> list[int]:
        selected = self.building_combo.currentData()
        return list(self._numbers) if selected is None else [selected]

    def refresh(self) -> None:
        """Reload the buildings and the selected grids now; the other grids when they are next shown."""
        self._stale.update(self._maps)
        self._numbers_stale = True
        self._bring_up_to_date()

    def data_changed(self) -> None:
        """After a write: refresh if on screen, else only remember to (when shown or asked)."""
        if self.isVisible():
            self.refresh()
        else:
            self._stale.update(self._maps)
            self._numbers_stale = True

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._bring_up_to_date()  # loads only what is stale; the legend is recounted from the grids

    def _bring_up_to_date(self) -> None:
        if self._numbers_stale:
            self._sync_numbers()
        self._show_selected()

    def _sync_numbers(self) -> None:
        with self._store.read() as session:
            numbers = building_numbers(session)
        self._numbers_stale = False
        for gone in set(self._panels) - set(numbers):
            panel = self._panels.pop(gone)
            del self._maps[gone], self._titles[gone]
            self._stale.discard(gone)
            panel.deleteLater()
        if numbers == self._numbers and self.building_combo.count():
            return
        first_time = not self.building_combo.count()
        self._numbers = numbers
        current = self.building_combo.currentData()
        if (first_time or (current is not None and current not in numbers)) and numbers:
            # All of them side by side only while that stays cheap; else the first building.
            current = numbers[0] if len(numbers) > ALL_BUILDINGS_AT_MOST else None
        self.building_combo.blockSignals(True)
        self.building_combo.clear()
        self.building_combo.addItem("全部楼栋", None)
        for n in numbers:
            self.building_combo.addItem(f"{n}栋", n)
        self.building_combo.setCurrentIndex(max(self.building_combo.findData(current), 0) if current else 0)
        self.building_combo.blockSignals(False)

    def _load(self, numbers: list[int]) -> None:
        """Load the grids of these buildings that are not built yet or stale."""
        wanted = [n for n in numbers if n not in self._maps or n in self._stale]
        if not wanted:
            return
        with self._store.read() as session:
            maps = house_maps(session, wanted)
        for building_map in maps:
            widget = self._maps.get(building_map.number)
            if widget is None:
                widget = self._add_building(building_map.number)
            widget.set_map(building_map)
            self._stale.discard(building_map.number)
            self.loads += 1
            counts = building_map.counts()
            self._titles[building_map.number].setText(
                f"{building_map.name}  ·  {len(building_map.floors)} 层  ·  {sum(counts.values())} 套"
            )

    def _add_building(self, number: int) -> BuildingMapWidget:
        panel = QFrame()
        panel.setObjectName("panel")
        box = QVBoxLayout(panel)
        box.setContentsMargins(10, 8, 10, 10)
        heading = QLabel()
        heading_font = heading.font()
        heading_font.setBold(True)
        heading_font.setPointSizeF(heading_font.pointSizeF() + 1)
        heading.setFont(heading_font)
        widget = BuildingMapWidget()
        widget.unit_activated.connect(self.unit_activated)
        box.addWidget(heading)
        box.addWidget(widget)
        box.addStretch(1)
        position = sum(1 for n in self._panels if n < number)  # panels stay in building order
        panel.hide()
        self._grid_layout.insertWidget(position, panel, 0, Qt.AlignmentFlag.AlignTop)
        self._maps[number] = widget
        self._panels[number] = panel
        self._titles[number] = heading
        return widget

    def _show_selected(self) -> None:
        shown = self.selected_buildings()
        self._load(shown)
        counts = dict.fromkeys(UnitStatus, 0)
        for number, panel in self._panels.items():
            visible = number in shown
            panel.setVisible(visible)
            building_map = self._maps[number].building_map
            if visible and building_map is not None:
                for status, n in building_map.counts().items():
                    counts[status] += n
        self.legend.set_counts(counts)
