"""Where an image (or text) to recognise comes from: a dropped or pasted file, image data, or plain text.

The result is handed to services.scan / services.lookup; decoding itself lives in the core (labels.decode).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QMimeData
from PySide6.QtGui import QImage, QImageWriter

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")
IMAGE_FILTER = "图片 (" + " ".join(f"*{s}" for s in IMAGE_SUFFIXES) + ");;所有文件 (*)"


def image_to_png(image: QImage) -> bytes:
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    writer = QImageWriter(buffer, QByteArray(b"png"))
    if not writer.write(image):
        raise ValueError(f"cannot encode image as PNG: {writer.errorString()}")
    buffer.close()
    return bytes(data.data())


def local_image_files(mime: QMimeData) -> list[Path]:
    if not mime.hasUrls():
        return []
    files = [Path(url.toLocalFile()) for url in mime.urls() if url.isLocalFile()]
    return [f for f in files if f.suffix.lower() in IMAGE_SUFFIXES]


def source_from_mime(mime: QMimeData) -> Path | bytes | str | None:
    """An image file, encoded image bytes, or text (a code or payload) carried by a drop or the clipboard."""
    files = local_image_files(mime)
    if files:
        return files[0]
    if mime.hasImage():
        image = QImage(mime.imageData())
        if not image.isNull():
            return image_to_png(image)
    if mime.hasText() and mime.text().strip():
        return mime.text().strip()
    return None


def accepts(mime: QMimeData) -> bool:
    return bool(local_image_files(mime)) or mime.hasImage()
