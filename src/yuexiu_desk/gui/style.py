"""The look: Fusion with a light palette, the shipped CJK font, and a small style sheet; status colours."""

from __future__ import annotations

import logging

from PySide6.QtGui import QColor, QFont, QFontDatabase, QPalette
from PySide6.QtWidgets import QApplication

from yuexiu_desk.domain.units import STATUS_COLOURS, UnitStatus
from yuexiu_desk.paths import font_path

log = logging.getLogger(__name__)

ACCENT = "#2D7DD2"

STYLE_SHEET = """
QToolBar { background: #ffffff; border: none; border-bottom: 1px solid #dde1e6; spacing: 6px; padding: 4px 8px; }
QToolBar QToolButton { padding: 4px 8px; border-radius: 4px; }
QToolBar QToolButton:hover { background: #e8f1fb; }
QListWidget#nav { background: #263445; color: #dfe6ee; border: none; outline: none; font-size: 11pt; }
QListWidget#nav::item { padding: 12px 18px; border-left: 4px solid transparent; }
QListWidget#nav::item:selected { background: #34475e; color: #ffffff; border-left: 4px solid #4da3ff; }
QListWidget#nav::item:hover:!selected { background: #2d3d51; }
QLabel#pageTitle { font-size: 15pt; font-weight: bold; color: #1f2d3d; }
QLabel#hint { color: #6b7785; }
QLabel#countLabel { color: #1f2d3d; font-weight: bold; padding: 0 6px; }
QLabel#cardCode { font-size: 18pt; font-weight: bold; color: #1f2d3d; }
QLabel#cardSub { font-size: 11pt; color: #4b5765; }
QLabel#statusChip { border-radius: 4px; padding: 3px 10px; font-weight: bold; }
QLabel#error { color: #c62828; }
QTableView { background: #ffffff; alternate-background-color: #f6f8fa; gridline-color: #e6e9ed;
             selection-background-color: #cfe3fa; selection-color: #111111; border: 1px solid #d5dae0; }
QHeaderView::section { background: #eef1f5; color: #2b3642; padding: 5px 6px; border: none;
                       border-right: 1px solid #dde1e6; border-bottom: 1px solid #cfd5dc; }
QPushButton#primary { background: #2D7DD2; color: #ffffff; border: 1px solid #2468b0; border-radius: 4px;
                      padding: 6px 18px; font-weight: bold; }
QPushButton#primary:hover { background: #3a8be0; }
QPushButton#primary:disabled { background: #9bbbe0; }
QLabel#toast { background: #2f3b4c; color: #ffffff; border-radius: 6px; padding: 10px 16px; font-size: 11pt; }
QLabel#toast[error="true"] { background: #c62828; }
QStatusBar { background: #eef1f5; color: #2b3642; }
QStatusBar QLabel { padding: 0 8px; }
QDialogButtonBox { dialogbuttonbox-buttons-have-icons: 0; }
QFrame#panel { background: #ffffff; border: 1px solid #dde1e6; border-radius: 6px; }
"""


def status_colour(status: UnitStatus) -> QColor:
    return QColor(STATUS_COLOURS[status])


def status_tint(status: UnitStatus) -> QColor:
    """A pale version of the status colour, for a table cell background under dark text."""
    colour = status_colour(status)
    colour.setAlpha(56)
    return colour


def text_colour_on(background: QColor) -> QColor:
    """Black or white, whichever reads better on the background (relative luminance)."""
    r, g, b = background.redF(), background.greenF(), background.blueF()
    luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b
    return QColor("#1a1a1a") if luminance > 0.55 else QColor("#ffffff")


def register_font() -> str | None:
    """Register the shipped CJK font; its family name, or None when the file is missing or unreadable."""
    path = font_path()
    if not path.exists():
        log.warning("CJK font %s not found; Chinese may show as boxes", path)
        return None
    font_id = QFontDatabase.addApplicationFont(str(path))
    if font_id < 0:
        log.warning("could not load CJK font %s", path)
        return None
    families = QFontDatabase.applicationFontFamilies(font_id)
    return families[0] if families else None


def apply_style(app: QApplication) -> None:
    """Font, Fusion style, light palette and the style sheet, once per application."""
    if app.property("yuexiuStyled"):
        return
    family = register_font()
    font = QFont(family) if family else QFont()
    font.setPointSize(10)
    app.setFont(font)
    app.setStyle("Fusion")
    palette = QPalette()
    palette.setColor(QPalette.ColorRole.Window, QColor("#f5f6f8"))
    palette.setColor(QPalette.ColorRole.Base, QColor("#ffffff"))
    palette.setColor(QPalette.ColorRole.AlternateBase, QColor("#f6f8fa"))
    palette.setColor(QPalette.ColorRole.Highlight, QColor(ACCENT))
    palette.setColor(QPalette.ColorRole.HighlightedText, QColor("#ffffff"))
    palette.setColor(QPalette.ColorRole.Button, QColor("#f9fafb"))
    palette.setColor(QPalette.ColorRole.ToolTipBase, QColor("#ffffe8"))
    palette.setColor(QPalette.ColorRole.ToolTipText, QColor("#1a1a1a"))
    app.setPalette(palette)
    app.setStyleSheet(STYLE_SHEET)
    app.setProperty("yuexiuStyled", True)
