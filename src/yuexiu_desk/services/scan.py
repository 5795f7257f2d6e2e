"""Scanned or pasted input → units: the texts decoded from an image (or pasted) resolved one by one.

The desk app's image, clipboard and drag-and-drop paths use this, so they accept and refuse exactly what
services.lookup.resolve does; the image decoding itself is labels.decode.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from yuexiu_desk.errors import UserError
from yuexiu_desk.services.lookup import Resolved, resolve


@dataclass(frozen=True)
class Rejected:
    text: str
    message: str


@dataclass(frozen=True)
class ScanOutcome:
    """What the texts pointed at (in order, duplicates removed) and which texts were refused, with why."""

    found: list[Resolved] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)

    @property
    def first(self) -> Resolved:
        return self.found[0]


def resolve_texts(session: Session, texts: Iterable[str]) -> ScanOutcome:
    """Resolve every text; a UserError when none of them is a unit of this station."""
    found: list[Resolved] = []
    rejected: list[Rejected] = []
    seen: set[Any] = set()
    for text in texts:
        try:
            resolved = resolve(session, text)
        except UserError as exc:
            rejected.append(Rejected(text, exc.message))
            continue
        if resolved.record_id not in seen:
            seen.add(resolved.record_id)
            found.append(resolved)
    if not found:
        if not rejected:
            raise UserError("没有读到任何内容，请扫描房源标签或输入房号（例如 1-2-1603）。")
        if len(rejected) == 1:
            raise UserError(rejected[0].message)
        raise UserError(f"找到 {len(rejected)} 个二维码，但都不是本站的房源标签：{rejected[0].message}")
    return ScanOutcome(found, rejected)


def scan_image(session: Session, source: Path | bytes | Any) -> ScanOutcome:
    """Decode every QR code in an image (a path, encoded image bytes or a PIL image) and resolve them."""
    from yuexiu_desk.labels.decode import decode_qr_texts

    texts = decode_qr_texts(source)
    if not texts:
        raise UserError("图片里没有找到二维码。请让标签在照片中清晰、完整、不反光，或直接用扫码枪扫描标签。")
    return resolve_texts(session, texts)
