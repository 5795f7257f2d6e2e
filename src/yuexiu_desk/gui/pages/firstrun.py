"""The first-run page: the data folder has no station yet; offer to create the demo station."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QProgressBar, QPushButton, QVBoxLayout, QWidget


class FirstRunPage(QWidget):
    create_demo_requested = Signal()

    def __init__(self, data_dir: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        title = QLabel("欢迎使用悦秀苑服务站桌面系统")
        title.setObjectName("pageTitle")
        text = QLabel(
            f"数据目录 <b>{data_dir}</b> 里还没有服务站数据。<br><br>"
            "可以先创建一个<b>演示站</b>熟悉操作：悦秀苑 2 栋、194 套房源、一年的异动记录，"
            "全部标记为演示数据，以后导入正式数据时不会混淆。"
        )
        text.setWordWrap(True)
        text.setTextFormat(Qt.TextFormat.RichText)
        text.setFixedWidth(560)
        # a wrapped label in an aligned layout item gets no height-for-width: reserve it
        text.setMinimumHeight(text.heightForWidth(560) + 8)
        self.create_button = QPushButton("创建演示站")
        self.create_button.setObjectName("primary")
        self.create_button.setDefault(True)
        self.create_button.clicked.connect(self._clicked)
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)
        self.progress.setTextVisible(False)
        self.progress.setMaximumWidth(300)
        self.progress.hide()

        layout = QVBoxLayout(self)
        layout.addStretch(1)
        for widget in (title, text, self.create_button, self.progress):
            layout.addWidget(widget, 0, Qt.AlignmentFlag.AlignHCenter)
            layout.addSpacing(12)
        layout.addStretch(2)
        self.setFocusProxy(self.create_button)

    def _clicked(self) -> None:
        self.set_busy(True)
        self.create_demo_requested.emit()

    def set_busy(self, busy: bool) -> None:
        self.create_button.setEnabled(not busy)
        self.progress.setVisible(busy)
