"""Label photos: an image file, the clipboard, drag and drop — decoded in the core, resolved, card opened."""

from __future__ import annotations

from pathlib import Path

import pytest
import qrcode
from PIL import Image
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent, QGuiApplication, QImage
from PySide6.QtWidgets import QFileDialog

from yuexiu_desk.services.lookup import unit_payload
from yuexiu_desk.services.station import DEMO_STATION_CODE


def qr_png(path: Path, *payloads: str) -> Path:
    """A PNG with the QR codes side by side, like a photo of a few labels."""
    codes = [qrcode.make(p, border=4).get_image().convert("L") for p in payloads]
    width = sum(c.width for c in codes) + 40 * (len(codes) + 1)
    height = max(c.height for c in codes) + 80
    sheet = Image.new("L", (width, height), 255)
    x = 40
    for code in codes:
        sheet.paste(code, (x, 40))
        x += code.width + 40
    sheet.save(path)
    return path


@pytest.fixture
def pick_file(monkeypatch):
    def pick(path: Path | None) -> None:
        monkeypatch.setattr(
            QFileDialog, "getOpenFileName", lambda *args, **kwargs: (str(path) if path else "", "")
        )

    return pick


def test_image_file_opens_the_unit(window, unit_id, pick_file, tmp_path, wait_job):
    target = unit_id("1-2-1603")
    pick_file(qr_png(tmp_path / "label.png", unit_payload(DEMO_STATION_CODE, target)))
    with wait_job(window.runner):
        window.act_image.trigger()
    card = window.cards.card(target)
    assert card is not None and card.isVisible()
    assert "1-2-1603" in window.statusBar().currentMessage()


def test_several_labels_open_the_first_and_say_how_many(window, unit_id, pick_file, tmp_path, wait_job):
    first, second = unit_id("1-1-101"), unit_id("2-2-1401")
    pick_file(
        qr_png(
            tmp_path / "two.png",
            unit_payload(DEMO_STATION_CODE, first),
            unit_payload(DEMO_STATION_CODE, second),
        )
    )
    with wait_job(window.runner):
        window.act_image.trigger()
    assert [c.code for c in window.cards.cards()] == ["1-1-101"]
    assert "识别到 2 个房源标签" in window.toast.text()


def test_image_without_code_says_so(window, pick_file, tmp_path, wait_job):
    blank = tmp_path / "blank.png"
    Image.new("L", (300, 200), 255).save(blank)
    pick_file(blank)
    with wait_job(window.runner):
        window.act_image.trigger()
    assert window.cards.cards() == []
    assert window.toast.isVisible()
    assert "没有找到二维码" in window.toast.text()


def test_cancelled_file_dialog_does_nothing(window, pick_file):
    pick_file(None)
    window.act_image.trigger()
    assert not window.runner.is_busy
    assert window.cards.cards() == []


def test_clipboard_image_opens_the_unit(window, unit_id, tmp_path, wait_job):
    target = unit_id("2-1-101")
    png = qr_png(tmp_path / "clip.png", unit_payload(DEMO_STATION_CODE, target))
    QGuiApplication.clipboard().setImage(QImage(str(png)))
    with wait_job(window.runner):
        window.act_paste.trigger()
    assert window.cards.card(target) is not None


def test_clipboard_text_code_opens_the_unit(window):
    QGuiApplication.clipboard().setText("1-2-1001")
    window.act_paste.trigger()
    assert [c.code for c in window.cards.cards()] == ["1-2-1001"]


def test_dropping_an_image_file_opens_the_unit(window, unit_id, tmp_path, wait_job):
    target = unit_id("1-1-1602")
    png = qr_png(tmp_path / "drop.png", unit_payload(DEMO_STATION_CODE, target))
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(png))])
    event = QDropEvent(
        QPointF(200, 200),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    with wait_job(window.runner):
        window.dropEvent(event)
    assert window.cards.card(target) is not None
