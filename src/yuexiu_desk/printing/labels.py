"""A4 sheets of QR labels for unit doors."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class UnitLabel:
    """What one label shows: the QR payload, the unit code, and estate/building/room in Chinese."""

    payload: str
    code: str
    title: str  # e.g. "悦秀苑"
    subtitle: str  # e.g. "1栋2单元1603室"


@dataclass(frozen=True)
class SheetLayout:
    """The label grid on an A4 page (millimetres)."""

    columns: int = 3
    rows: int = 8
    margin_top: float = 10.0
    margin_left: float = 8.0
    gap_x: float = 3.0
    gap_y: float = 2.0


def write_label_sheet(labels: Sequence[UnitLabel], out: Path, layout: SheetLayout = SheetLayout()) -> int:
    """Write the labels to a PDF at out (atomically); return the number of pages."""
    raise NotImplementedError
