"""异动统计: counts of status changes by kind over a date range (station dates), and today's status mix."""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import QDate, QRect, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDateEdit,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from yuexiu_desk.clock import local_date
from yuexiu_desk.errors import UserError
from yuexiu_desk.gui.models import CountLine, CountsModel, status_lines
from yuexiu_desk.gui.style import ACCENT
from yuexiu_desk.services.units import ChangeStatistics, change_statistics
from yuexiu_desk.storage.db import Store


def to_qdate(day: date) -> QDate:
    return QDate(day.year, day.month, day.day)


def from_qdate(day: QDate) -> date:
    return date(day.year(), day.month(), day.day())


def month_range(today: date) -> tuple[date, date]:
    return today.replace(day=1), today


def quarter_range(today: date) -> tuple[date, date]:
    first_month = (today.month - 1) // 3 * 3 + 1
    return date(today.year, first_month, 1), today


def year_range(today: date) -> tuple[date, date]:
    return date(today.year, 1, 1), today


class BarChart(QWidget):
    """Horizontal bars of labelled counts, painted (QtCharts is not shipped)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._lines: list[CountLine] = []
        self.setMinimumHeight(120)

    def set_lines(self, lines: list[CountLine]) -> None:
        self._lines = lines
        self.updateGeometry()
        self.update()

    def sizeHint(self) -> QSize:
        return QSize(360, 16 + 28 * max(len(self._lines), 1))

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        label_w, count_w, bar_h, step = 96, 44, 18, 28
        widest = max((line.count for line in self._lines), default=0)
        span = max(self.width() - label_w - count_w - 16, 10)
        for i, line in enumerate(self._lines):
            y = 8 + i * step
            painter.setPen(QColor("#2b3642"))
            painter.drawText(
                QRect(0, y, label_w - 8, bar_h),
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                line.label,
            )
            length = round(span * line.count / widest) if widest else 0
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor("#e9eef4"))
            painter.drawRoundedRect(QRect(label_w, y, span, bar_h), 3, 3)
            if length:
                painter.setBrush(line.colour or QColor(ACCENT))
                painter.drawRoundedRect(QRect(label_w, y, max(length, 3), bar_h), 3, 3)
            painter.setPen(QColor("#2b3642"))
            painter.drawText(
                QRect(label_w + span + 6, y, count_w, bar_h),
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                str(line.count),
            )
        painter.end()


def _fit_height(view: QTableView) -> None:
    """Tall enough for every row: these tables are short and should never scroll."""
    rows = view.model().rowCount()
    height = view.horizontalHeader().sizeHint().height() + rows * view.verticalHeader().defaultSectionSize()
    view.setFixedHeight(height + 2 * view.frameWidth() + 2)


def _table(model: CountsModel) -> QTableView:
    view = QTableView()
    view.setModel(model)
    view.verticalHeader().setVisible(False)
    view.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    view.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
    view.verticalHeader().setDefaultSectionSize(26)
    view.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    return view


class StatisticsPage(QWidget):
    def __init__(self, store: Store, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._store = store
        self.statistics: ChangeStatistics | None = None
        self._stale = False

        title = QLabel("异动统计")
        title.setObjectName("pageTitle")
        self.start_edit = QDateEdit()
        self.end_edit = QDateEdit()
        for edit in (self.start_edit, self.end_edit):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd")
            edit.setMinimumWidth(120)
        self.month_button = QPushButton("本月")
        self.quarter_button = QPushButton("本季度")
        self.year_button = QPushButton("本年")
        self.error_label = QLabel()
        self.error_label.setObjectName("error")

        bar = QHBoxLayout()
        for caption, edit in (("从", self.start_edit), ("至", self.end_edit)):
            label = QLabel(caption)
            label.setBuddy(edit)
            bar.addWidget(label)
            bar.addWidget(edit)
        bar.addSpacing(12)
        for button in (self.month_button, self.quarter_button, self.year_button):
            bar.addWidget(button)
        bar.addSpacing(12)
        bar.addWidget(self.error_label, 1)

        self.kinds_model = CountsModel(("异动类型", "次数"), self)
        self.status_model = CountsModel(("当前房态", "套数", "占比"), self)
        self.kinds_view = _table(self.kinds_model)
        self.status_view = _table(self.status_model)
        self.chart = BarChart()
        self.range_label = QLabel()
        self.range_label.setObjectName("countLabel")

        grid = QGridLayout()
        grid.addWidget(self._section("按异动类型"), 0, 0)
        grid.addWidget(self._section("当前房态"), 0, 1)
        grid.addWidget(self.kinds_view, 1, 0, Qt.AlignmentFlag.AlignTop)
        grid.addWidget(self.status_view, 1, 1, Qt.AlignmentFlag.AlignTop)
        grid.addWidget(self._section("异动次数"), 2, 0, 1, 2)
        grid.addWidget(self.chart, 3, 0, 1, 2)
        grid.setColumnStretch(0, 3)
        grid.setColumnStretch(1, 2)
        grid.setRowStretch(4, 1)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 8)
        layout.addWidget(title)
        layout.addLayout(bar)
        layout.addWidget(self.range_label)
        layout.addLayout(grid, 1)

        self.month_button.clicked.connect(lambda: self.set_range(*month_range(self.today())))
        self.quarter_button.clicked.connect(lambda: self.set_range(*quarter_range(self.today())))
        self.year_button.clicked.connect(lambda: self.set_range(*year_range(self.today())))
        self.start_edit.dateChanged.connect(self.refresh)
        self.end_edit.dateChanged.connect(self.refresh)
        self.set_range(*year_range(self.today()))

    @staticmethod
    def _section(text: str) -> QLabel:
        label = QLabel(text)
        font = label.font()
        font.setBold(True)
        label.setFont(font)
        return label

    def today(self) -> date:
        return local_date(self._store.clock.now())

    def date_range(self) -> tuple[date, date]:
        return from_qdate(self.start_edit.date()), from_qdate(self.end_edit.date())

    def set_range(self, start: date, end: date) -> None:
        for edit, day in ((self.start_edit, start), (self.end_edit, end)):
            edit.blockSignals(True)
            edit.setDate(to_qdate(day))
            edit.blockSignals(False)
        self.refresh()

    def data_changed(self) -> None:
        """After a write: recount if on screen, else when next shown (or asked)."""
        if self.isVisible():
            self.refresh()
        else:
            self._stale = True

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._stale:
            self.refresh()

    def refresh(self) -> None:
        self._stale = False
        start, end = self.date_range()
        try:
            with self._store.read() as session:
                stats = change_statistics(session, start, end)
        except UserError as exc:
            self.error_label.setText(exc.message)
            return
        self.error_label.clear()
        self.statistics = stats
        kind_lines = [CountLine(kind.label, n) for kind, n in stats.by_kind.items()]
        self.kinds_model.set_lines([*kind_lines, CountLine("合计", stats.total, bold=True)])
        self.status_model.set_lines(status_lines(stats.status_now))
        self.chart.set_lines(kind_lines)
        _fit_height(self.kinds_view)
        _fit_height(self.status_view)
        self.range_label.setText(f"{stats.start:%Y-%m-%d} 至 {stats.end:%Y-%m-%d}：异动共 {stats.total} 次")

    def kind_counts(self) -> dict[str, int]:
        """What the table shows: kind label → count (tests compare it with the service)."""
        if self._stale:
            self.refresh()
        return {line.label: line.count for line in self.kinds_model.lines()}
