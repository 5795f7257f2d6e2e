"""A plain bar chart (one value per label) painted with QPainter: repair statistics by month, category or
floor on the desk, without a charting library."""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QWidget


class BarChart(QWidget):
    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = title
        self.rows: list[tuple[str, int]] = []
        self.setMinimumHeight(180)

    def set_rows(self, rows: list[tuple[str, int]]) -> None:
        self.rows = rows
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(QColor("#455a64")))
        painter.drawText(4, 14, self.title)
        area = QRectF(self.rect()).adjusted(36, 24, -8, -34)
        top = max((value for _label, value in self.rows), default=0)
        if top <= 0:
            painter.drawText(area, Qt.AlignmentFlag.AlignCenter, "暂无数据")
            return
        painter.drawText(QRectF(0, area.top() - 8, 32, 16), Qt.AlignmentFlag.AlignRight, str(top))
        painter.drawText(QRectF(0, area.bottom() - 8, 32, 16), Qt.AlignmentFlag.AlignRight, "0")
        slot = area.width() / len(self.rows)
        for n, (label, value) in enumerate(self.rows):
            height = area.height() * value / top
            bar = QRectF(area.left() + n * slot + slot * 0.15, area.bottom() - height, slot * 0.7, height)
            painter.fillRect(bar, QColor("#1e88e5"))
            painter.setPen(QPen(QColor("#455a64")))
            painter.drawText(
                QRectF(area.left() + n * slot, area.bottom() + 2, slot, 30),
                int(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
                | int(Qt.TextFlag.TextWordWrap),
                label,
            )
