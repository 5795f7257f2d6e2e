"""Photo widgets of the handover dialogs: the 📷 button of an item (choose or drop files, a count badge),
the strip of thumbnails (photos chosen before saving, and photos already kept), and a dialog that shows the
photos of a saved check-in or move-out and attaches more to it.

Checking and keeping files is services.photos'; here a file is only checked quickly when chosen, so the
clerk hears at once that a HEIC or a 30 MB scan will not do, rather than after saving.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QMimeData, QSize, QStandardPaths, Qt, QUrl, Signal
from PySide6.QtGui import (
    QDesktopServices,
    QDragEnterEvent,
    QDropEvent,
    QImageIOHandler,
    QImageReader,
    QPixmap,
)
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QToolButton,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.orm import Session

from yuexiu_desk.clock import local_text
from yuexiu_desk.errors import EnvironmentProblem, UserError
from yuexiu_desk.formdefs import load_form
from yuexiu_desk.gui import messages
from yuexiu_desk.gui.oprunner import OpRunner
from yuexiu_desk.services.photos import (
    ACCEPTED_SUFFIXES,
    KIND_TITLES,
    MAX_CAPTION,
    WHOLE,
    WHOLE_LABEL,
    AttachReport,
    NewPhoto,
    PhotoFailure,
    PhotoView,
    attach_photos,
    check_photo,
    photo_targets,
    photos_of,
)
from yuexiu_desk.storage.db import Store

# Words, not 📷: the shipped UI font has no emoji, and Windows 7-era fonts draw it as a box.
PHOTO_WORD = "照片"
THUMB_W, THUMB_H = 96, 72
# Qt's file dialogs match patterns case-sensitively on Linux; phones write .JPG.
_PATTERNS = " ".join(f"*{s} *{s.upper()}" for s in ACCEPTED_SUFFIXES)
PHOTO_FILTER = f"照片 ({_PATTERNS});;所有文件 (*)"


def thumbnail_pixmap(path: Path, width: int = THUMB_W, height: int = THUMB_H) -> QPixmap | None:
    """A small upright picture of an image file, decoded at a reduced size (a 12 MP JPEG stays cheap)."""
    reader = QImageReader(str(path))
    reader.setAutoTransform(True)
    size = reader.size()
    if size.isValid() and size.width() > 0 and size.height() > 0:
        # The scaled size applies before the EXIF turn: fit the turned picture, then turn the size back.
        turned = bool(reader.transformation() & QImageIOHandler.Transformation.TransformationRotate90)
        if turned:
            size.transpose()
        scaled = size.scaled(QSize(width, height), Qt.AspectRatioMode.KeepAspectRatio)
        if turned:
            scaled.transpose()
        reader.setScaledSize(scaled)
    image = reader.read()
    return None if image.isNull() else QPixmap.fromImage(image)


def dropped_files(mime: QMimeData) -> list[Path]:
    """Every local file of a drop; whether each is a usable photo is check_photo's to say."""
    if not mime.hasUrls():
        return []
    return [Path(url.toLocalFile()) for url in mime.urls() if url.isLocalFile()]


def pictures_folder() -> str:
    return QStandardPaths.writableLocation(QStandardPaths.StandardLocation.PicturesLocation) or ""


def choose_photo_files(parent: QWidget | None, title: str, folder: str = "") -> list[Path]:
    chosen, _filter = QFileDialog.getOpenFileNames(parent, title, folder or pictures_folder(), PHOTO_FILTER)
    return [Path(name) for name in chosen]


def usable(parent: QWidget | None, files: Sequence[Path]) -> list[Path]:
    """The files that pass the quick check; the clerk is told in one message why each other one does not."""
    good, refused = [], []
    for path in files:
        try:
            check_photo(path)
        except (UserError, EnvironmentProblem) as exc:
            refused.append(exc.message)
        else:
            good.append(path)
    if refused:
        messages.warn(parent, "\n".join(refused), "照片未添加")
    return good


def failures_text(failed: Sequence[PhotoFailure]) -> str:
    lines = [f"· {f.label}：{f.message}" for f in failed]
    return f"以下 {len(failed)} 张照片没有添加：\n" + "\n".join(lines)


class PhotoButton(QToolButton):
    """The 照片 button of one item: click to choose photos, or drop image files on it; shows how many it has."""

    dropped = Signal(list)

    def __init__(self, label: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.label = label
        self.setAcceptDrops(True)
        self.setAccessibleName(f"{label}照片")
        self.setToolTip(f"为“{label}”添加照片（也可以把照片文件拖到这里）")
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.set_count(0)

    def set_count(self, count: int) -> None:
        self.count = count
        self.setText(f"{PHOTO_WORD} {count}" if count else PHOTO_WORD)
        self.setProperty("hasPhotos", count > 0)
        self.setStyleSheet("font-weight: bold; color: #1565c0;" if count else "")

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if dropped_files(event.mimeData()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        files = dropped_files(event.mimeData())
        event.acceptProposedAction()
        self.dropped.emit(files)


@dataclass
class PhotoTile:
    """One thumbnail in a strip: a photo chosen but not yet saved (with an editable caption), or a kept one."""

    item_key: str
    label: str
    source: Path
    frame: QFrame
    caption: QLineEdit | None  # pending photos only
    view: PhotoView | None = None  # kept photos only

    @property
    def pending(self) -> bool:
        return self.view is None

    def new_photo(self) -> NewPhoto:
        assert self.caption is not None
        return NewPhoto(self.item_key, self.source, self.caption.text())


class PhotoStrip(QFrame):
    """A row of thumbnails under the checklist. Drop files on it for the handover as a whole."""

    changed = Signal()
    dropped = Signal(list)

    def __init__(
        self,
        title: str,
        empty_hint: str = "",
        when_saved: str = "随交接一起保存",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.when_saved = when_saved
        self.empty_hint = empty_hint or (
            "点各项目后的“照片”添加该项的照片；拖到这里的照片文件作为整体照片（JPEG、PNG、WebP）。"
        )
        self.setObjectName("photoStrip")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAcceptDrops(True)
        self.tiles: list[PhotoTile] = []
        outer = QVBoxLayout(self)
        outer.setContentsMargins(8, 6, 8, 6)
        head = QHBoxLayout()
        heading = QLabel(f"<b>{title}</b>")
        self.summary = QLabel()
        self.summary.setObjectName("hint")
        self.add_whole = QPushButton("添加整体照片(&P)…")
        head.addWidget(heading)
        head.addWidget(self.summary, 1)
        head.addWidget(self.add_whole)
        outer.addLayout(head)
        self._row = QHBoxLayout()
        self._row.setContentsMargins(0, 0, 0, 0)
        self._row.addStretch(1)
        holder = QWidget()
        holder.setLayout(self._row)
        self._scroll = QScrollArea()
        self._scroll.setWidgetResizable(True)
        self._scroll.setWidget(holder)
        self._scroll.setFrameShape(QFrame.Shape.NoFrame)
        self._scroll.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self._scroll.setFixedHeight(THUMB_H + 70)
        self._scroll.hide()
        outer.addWidget(self._scroll)
        self._refresh()

    # -- contents -------------------------------------------------------------------------------------
    def count(self, item_key: str) -> int:
        return sum(1 for tile in self.tiles if tile.item_key == item_key)

    def pending(self) -> list[NewPhoto]:
        return [tile.new_photo() for tile in self.tiles if tile.pending]

    def add_pending(self, item_key: str, label: str, source: Path) -> bool:
        """Add a chosen file; False when that very file is already chosen for that item."""
        if any(t.pending and t.item_key == item_key and t.source == source for t in self.tiles):
            return False
        caption = QLineEdit()
        caption.setPlaceholderText("说明（可选）")
        caption.setMaxLength(MAX_CAPTION)
        caption.setAccessibleName(f"{label}照片说明")
        self._add(PhotoTile(item_key, label, source, QFrame(), caption))
        return True

    def add_kept(self, view: PhotoView) -> None:
        self._add(PhotoTile(view.item_key, view.label, view.path, QFrame(), None, view))

    def clear_kept(self) -> None:
        for tile in [t for t in self.tiles if not t.pending]:
            self.remove(tile)

    def _add(self, tile: PhotoTile) -> None:
        frame = tile.frame
        frame.setObjectName("photoTile")
        frame.setFixedWidth(THUMB_W + 16)
        box = QVBoxLayout(frame)
        box.setContentsMargins(4, 4, 4, 4)
        box.setSpacing(2)
        picture = QToolButton()
        picture.setAutoRaise(True)
        picture.setFixedSize(THUMB_W + 4, THUMB_H + 4)
        shown = (
            tile.view.thumbnail if tile.view is not None and tile.view.thumbnail.is_file() else tile.source
        )
        pixmap = thumbnail_pixmap(shown)
        if pixmap is not None:
            picture.setIcon(pixmap)
            picture.setIconSize(QSize(THUMB_W, THUMB_H))
        else:
            picture.setText("（无法显示）")
        details = [tile.label, tile.source.name]
        if tile.view is not None:
            details.append(f"{local_text(tile.view.added_at)} {tile.view.operator} 添加")
        picture.setToolTip("\n".join(details) + "\n点击打开原图")
        picture.clicked.connect(lambda: QDesktopServices.openUrl(QUrl.fromLocalFile(str(tile.source))))
        box.addWidget(picture, 0, Qt.AlignmentFlag.AlignHCenter)
        line = QHBoxLayout()
        line.setSpacing(2)
        name = QLabel()
        # Long item names (卫生间·水龙头/下水) would widen the tile; the full name is in the tooltip.
        name.setText(name.fontMetrics().elidedText(tile.label, Qt.TextElideMode.ElideRight, THUMB_W - 14))
        name.setToolTip(tile.label)
        line.addWidget(name, 1)
        if tile.pending:
            remove = QToolButton()
            remove.setText("×")
            remove.setAutoRaise(True)
            remove.setToolTip("不添加这张照片（尚未保存）")
            remove.setAccessibleName(f"移除{tile.label}照片")
            remove.clicked.connect(lambda: self.remove(tile))
            line.addWidget(remove)
        box.addLayout(line)
        if tile.caption is not None:
            box.addWidget(tile.caption)
        else:
            caption = QLabel(
                tile.view.caption if tile.view is not None and tile.view.caption else "（无说明）"
            )
            caption.setObjectName("hint")
            box.addWidget(caption)
        self._row.insertWidget(self._row.count() - 1, frame)
        self.tiles.append(tile)
        self._refresh()

    def remove(self, tile: PhotoTile) -> None:
        """Take a tile off the strip (a chosen photo the clerk does not want after all; kept ones on reload)."""
        self.tiles.remove(tile)
        self._row.removeWidget(tile.frame)
        tile.frame.deleteLater()
        self._refresh()

    def _refresh(self) -> None:
        waiting = sum(1 for t in self.tiles if t.pending)
        kept = len(self.tiles) - waiting
        if not self.tiles:
            text = self.empty_hint
        else:
            parts = [f"已保存 {kept} 张"] if kept else []
            parts += [f"待保存 {waiting} 张（{self.when_saved}）"] if waiting else []
            text = "，".join(parts) + "。点击缩略图打开原图。"
        self.summary.setText(text)
        self._scroll.setVisible(bool(self.tiles))
        self.changed.emit()

    # -- drops ----------------------------------------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if dropped_files(event.mimeData()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        files = dropped_files(event.mimeData())
        event.acceptProposedAction()
        self.dropped.emit(files)


class PhotoPicker:
    """Connects the 照片 buttons of a dialog to its strip: choosing or dropping files adds tiles, and each
    button shows how many photos its item has (kept ones included)."""

    def __init__(
        self,
        parent: QWidget,
        strip: PhotoStrip,
        title: str,
        drop_target: Callable[[], tuple[str, str]] = lambda: (WHOLE, WHOLE_LABEL),
    ) -> None:
        self.parent = parent
        self.strip = strip
        self.title = title
        self.buttons: dict[str, PhotoButton] = {}
        self.folder = ""
        strip.changed.connect(self.update_counts)
        strip.add_whole.clicked.connect(lambda: self.choose(WHOLE, WHOLE_LABEL))
        strip.dropped.connect(lambda files: self.add(*drop_target(), files))

    def button(self, item_key: str, label: str) -> PhotoButton:
        button = PhotoButton(label)
        button.clicked.connect(lambda: self.choose(item_key, label))
        button.dropped.connect(lambda files: self.add(item_key, label, files))
        self.buttons[item_key] = button
        return button

    def choose(self, item_key: str, label: str) -> None:
        files = choose_photo_files(self.parent, f"{self.title}照片：{label}", self.folder)
        if files:
            self.folder = str(files[0].parent)
            self.add(item_key, label, files)

    def add(self, item_key: str, label: str, files: Sequence[Path]) -> int:
        added = 0
        for path in usable(self.parent, files):
            added += self.strip.add_pending(item_key, label, path)
        return added

    def update_counts(self) -> None:
        for key, button in self.buttons.items():
            button.set_count(self.strip.count(key))


class HandoverPhotosDialog(QDialog):
    """The photos of a saved check-in or move-out: see them (grouped in the form's order), open the
    originals, and attach more (copied from the phone after the visit). Nothing here removes a photo."""

    def __init__(
        self, store: Store, runner: OpRunner, lease_no: str, kind: str, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.store = store
        self.runner = runner
        self.lease_no = lease_no
        self.kind = kind
        title = KIND_TITLES[kind]
        self.setWindowTitle(f"{title}照片 · {lease_no}")
        self.resize(860, 640)
        self.targets = photo_targets(load_form(kind))
        layout = QVBoxLayout(self)
        self.grid_holder = QWidget()
        self.grid = QGridLayout(self.grid_holder)
        self.grid.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.grid_holder)
        self.empty = QLabel(f"这次{title}还没有照片。")
        self.empty.setObjectName("hint")
        layout.addWidget(self.empty)
        layout.addWidget(scroll, 1)
        self.target = QComboBox()
        for key, label in self.targets.items():
            self.target.addItem(label, key)
        self.strip = PhotoStrip(
            "待添加的照片",
            "先选添加到哪一项，再点“选择照片”，或把照片文件拖到这里（JPEG、PNG、WebP）。",
            "点“保存照片”保存",
        )
        self.picker = PhotoPicker(
            self, self.strip, title, lambda: (self.target.currentData(), self.target.currentText())
        )
        add_row = QHBoxLayout()
        self.choose_button = QPushButton("选择照片(&C)…")
        self.choose_button.clicked.connect(
            lambda: self.picker.choose(self.target.currentData(), self.target.currentText())
        )
        target_label = QLabel("添加到(&T)")
        target_label.setBuddy(self.target)
        add_row.addWidget(target_label)
        add_row.addWidget(self.target, 1)
        add_row.addWidget(self.choose_button)
        layout.addLayout(add_row)
        layout.addWidget(self.strip)
        self.strip.add_whole.hide()
        buttons = QDialogButtonBox()
        self.save_button = buttons.addButton("保存照片(&S)", QDialogButtonBox.ButtonRole.AcceptRole)
        self.save_button.setObjectName("primary")
        self.close_button = buttons.addButton("关闭", QDialogButtonBox.ButtonRole.RejectRole)
        self.save_button.clicked.connect(self.save)
        self.close_button.clicked.connect(self.reject)
        layout.addWidget(buttons)
        self.strip.changed.connect(lambda: self.save_button.setEnabled(bool(self.strip.pending())))
        self.kept: list[PhotoView] = []
        self.reload()

    def reload(self) -> None:
        with self.store.read() as session:
            self.kept = photos_of(session, self.store.paths, self.lease_no, self.kind)
        while self.grid.count():
            item = self.grid.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        strip_row = 0
        by_item: dict[str, list[PhotoView]] = {}
        for view in self.kept:
            by_item.setdefault(view.item_key, []).append(view)
        for views in by_item.values():
            heading = QLabel(f"<b>{views[0].label}</b>（{len(views)} 张）")
            self.grid.addWidget(heading, strip_row, 0)
            row = QHBoxLayout()
            for view in views:
                row.addWidget(self._kept_tile(view))
            row.addStretch(1)
            holder = QWidget()
            holder.setLayout(row)
            self.grid.addWidget(holder, strip_row + 1, 0)
            strip_row += 2
        self.empty.setVisible(not self.kept)
        self.save_button.setEnabled(bool(self.strip.pending()))

    def _kept_tile(self, view: PhotoView) -> QWidget:
        tile = QToolButton()
        tile.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextUnderIcon)
        pixmap = thumbnail_pixmap(view.thumbnail if view.thumbnail.is_file() else view.path)
        if pixmap is not None:
            tile.setIcon(pixmap)
            tile.setIconSize(QSize(THUMB_W, THUMB_H))
        text = view.caption or "（无说明）"
        tile.setText(text if len(text) <= 10 else text[:9] + "…")
        tile.setToolTip(
            f"{view.label}\n{view.caption}\n{local_text(view.added_at)} {view.operator} 添加\n点击打开原图"
        )
        tile.setAutoRaise(True)
        tile.clicked.connect(lambda: QDesktopServices.openUrl(QUrl.fromLocalFile(str(view.path))))
        return tile

    def save(self) -> None:
        chosen = self.strip.pending()
        if not chosen:
            return
        store, lease_no, kind = self.store, self.lease_no, self.kind

        def work(session: Session) -> AttachReport:
            return attach_photos(session, store.paths, lease_no, kind, chosen, session.info["operator"])

        self.save_button.setEnabled(False)
        self.runner.run(
            work,
            description="正在保存照片…",
            topic=None,  # no page shows photos
            on_success=self._saved,
            on_failure=lambda _exc: self.save_button.setEnabled(True),
            parent=self,
            owner=self,
        )

    def _saved(self, report: AttachReport) -> None:
        failed = {(f.photo.item_key, f.photo.source) for f in report.failed}
        for tile in [t for t in self.strip.tiles if t.pending]:
            if (tile.item_key, tile.source) not in failed:
                self.strip.remove(tile)
        if report.failed:
            messages.warn(self, failures_text(report.failed) + "\n\n其余照片已保存。", "部分照片未添加")
        self.reload()


def open_handover_photos(
    store: Store,
    runner: OpRunner,
    lease_no: str,
    kind: str,
    parent: QWidget | None,
    on_close: Callable[[], None] | None = None,
) -> HandoverPhotosDialog:
    dialog = HandoverPhotosDialog(store, runner, lease_no, kind, parent)
    dialog.finished.connect(dialog.deleteLater)
    if on_close is not None:
        dialog.finished.connect(lambda _result: on_close())
    dialog.open()
    return dialog
