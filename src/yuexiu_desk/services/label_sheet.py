"""A sheet of unit QR labels as one use case: which units (all, or codes as typed) → an A4 PDF."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from yuexiu_desk.errors import EnvironmentProblem, UserError

_SEPARATORS = re.compile(r"[\s,，、;；]+")


def split_codes(text: str) -> list[str]:
    """Unit codes as a clerk types or pastes them: separated by spaces, new lines, commas or 、."""
    return [part for part in _SEPARATORS.split(text) if part]


@dataclass(frozen=True)
class LabelSheetResult:
    path: Path
    labels: int
    pages: int


def make_unit_label_sheet(
    session: Session,
    out: Path,
    codes: Sequence[str] | None = None,
    columns: int = 3,
    rows: int = 8,
) -> LabelSheetResult:
    """Write the labels of the given units (all when codes is None) to out; UserError for bad input."""
    from yuexiu_desk.printing.labels import SheetLayout, write_label_sheet
    from yuexiu_desk.services.labels import unit_labels

    if codes is not None and not codes:
        raise UserError("没有要打印的房号，请输入至少一个房号（例如 1-2-1603）或选择“全部房源”。")
    if not (1 <= columns <= 10 and 1 <= rows <= 20):
        raise UserError("每页的列数应在 1–10 之间、行数应在 1–20 之间。")
    if out.suffix.lower() != ".pdf":
        raise UserError(f"输出文件“{out.name}”应以 .pdf 结尾。")
    labels = unit_labels(session, list(codes) if codes else None)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise EnvironmentProblem(
            f"无法创建文件夹 {out.parent}（{exc.strerror or exc}），请换一个保存位置。"
        ) from exc
    pages = write_label_sheet(labels, out, SheetLayout(columns=columns, rows=rows))
    return LabelSheetResult(out, len(labels), pages)
