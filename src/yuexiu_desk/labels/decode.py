"""Reading QR codes out of images (a photo of a label, a clipboard image, a webcam frame) with pyzbar."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def decode_qr_texts(source: Path | bytes | Any) -> list[str]:
    """The text of every QR code in the image (a path, encoded image bytes, or a PIL image)."""
    raise NotImplementedError
