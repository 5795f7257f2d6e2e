"""Reading the cell values of a clerk's .xlsx workbook, sheet by sheet, for the importers.

Owns the choice of reader, made for each sheet read. calamine (Rust) reads a bureau-size ledger about six
times faster than openpyxl's read-only mode — measured on the 50,000-household benchmark workbook: 1.3 s
against 8 s — and gives the same values for every kind of cell (tests/unit/test_workbooks.py) but two cases,
where the sheet is read with openpyxl instead:
- a formula's error (#DIV/0!, #N/A …) comes back from calamine as an empty string, indistinguishable from a
  blank cell: an importer would take "no income" where the clerk's sheet shows an error. openpyxl gives the
  cell, and it is handed on as a CellError.
- calamine builds a grid from the sheet's first to its last cell before any of it can be checked: one stray
  value typed in column XFD or row 1,048,576 asks for gigabytes, and the process dies without a word.
  openpyxl reads only the cells that exist.
Both are found by searching the sheet's XML: every cell reference counts, however it is written (≈ 0.2 s for
the benchmark's 38 MB member sheet). openpyxl in turn does not know Excel's East Asian built-in date formats
(2024年3月1日 as format 31): on that path this module gives such cells as dates, as calamine does.

Values are what the cell holds as Excel shows it: str, int or float, bool, date or datetime, time or
timedelta, or CellError; an empty cell is None or "" (callers treat both as blank). Row i of a sheet (from 0)
is Excel's row i + 1, and position j in a row is column j + 1, whatever empty rows or columns come first.
"""

from __future__ import annotations

import io
import posixpath
import re
import warnings
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

# What a cell whose formula failed shows. openpyxl marks error cells by their type (CellError); these texts
# typed as plain text are errors copied as values, and just as little data.
ERROR_VALUES = frozenset(
    ("#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA", "#SPILL!", "#CALC!")
)

# The most cells calamine may lay out for one sheet (first to last row × first to last column), ≈ 32 bytes
# each: 8 million is ≈ 250 MB. The benchmark's largest sheet is 115,005 rows × 11 columns (1.3 million).
MAX_GRID_CELLS = 8_000_000


class CellError(str):
    """A cell whose formula failed; its text is what Excel shows (#DIV/0!, #N/A …)."""

    __slots__ = ()


class SheetFileError(Exception):
    """The file is not a workbook these readers can open; the message is the reader's own words."""


# The cell attribute that marks a formula's error (t="e"), quoted either way. The pattern starts with a
# literal, so it is searched fast; an attribute of another name ending in t, or text holding the same
# characters, only sends the sheet to the exact reader: never a wrong value.
_ERROR_CELL = re.compile(rb"""t\s*=\s*["']e["']""")
# Cell references in columns of two letters or more (AA … XFD; any case), and references written r = "…".
_WIDE_REF = re.compile(rb"""r=["']([A-Za-z]{2,})[0-9]""")
_SPACED_REF = re.compile(rb"r[ \t\r\n]+=|r=[ \t\r\n]")
_RELATIONSHIPS = "{http://schemas.openxmlformats.org/package/2006/relationships}Relationship"
_SHEET = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}sheet"
_RELATION_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
# Built-in number formats 27–36 and 50–58: the dates (and times) of Chinese, Japanese and Korean Excel.
_EAST_ASIAN_DATE_FORMATS = frozenset((*range(27, 37), *range(50, 59)))
# What reading a damaged archive or part can raise.
_DAMAGED = (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, KeyError, ValueError)


def open_workbook(path: Path) -> Workbook:
    """The workbook at path (.xlsx or .xlsm), read whole into memory.

    Raises OSError when the file cannot be read and SheetFileError when it is not a workbook."""
    return Workbook(path.read_bytes())


class Workbook:
    def __init__(self, data: bytes) -> None:
        from python_calamine import CalamineError, CalamineWorkbook

        self._data = data
        self._exact: Any = None
        try:
            self._archive = zipfile.ZipFile(io.BytesIO(data))
            self._calamine = CalamineWorkbook.from_filelike(io.BytesIO(data))
        except (CalamineError, *_DAMAGED) as exc:
            raise SheetFileError(str(exc)) from exc
        self.sheetnames: list[str] = list(self._calamine.sheet_names)
        self._parts = _sheet_parts(self._archive)

    def rows(self, name: str) -> Iterator[tuple[Any, ...]]:
        """Every row of the sheet from row 1, each a tuple of the cells from column A."""
        from python_calamine import CalamineError

        if self.reader_of(name) == "calamine":
            try:
                # skip_empty_area=False: rows and columns counted from A1, so row numbers are Excel's.
                values = self._calamine.get_sheet_by_name(name).to_python(skip_empty_area=False)
            except CalamineError:
                pass  # a layout calamine does not follow (a part it does not find): openpyxl decides
            else:
                return (tuple(row) for row in values)
        return self._exact_rows(name)

    def reader_of(self, name: str) -> str:
        """ "calamine" or "openpyxl": which reader rows(name) starts with."""
        xml = self._sheet_xml(name)
        return "calamine" if xml is not None and _fast_reader_reads(xml) else "openpyxl"

    def __enter__(self) -> Workbook:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._calamine.close()
        self._archive.close()
        if self._exact is not None:
            self._exact.close()

    def _sheet_xml(self, name: str) -> bytes | None:
        """The sheet's XML, None when it cannot be found (the exact reader then reads or refuses it)."""
        part = self._parts.get(name)
        if part is None:
            return None
        names = {n.lower(): n for n in self._archive.namelist()}
        # Zip names are compared exactly; Excel finds a part whose name differs only in case, and so does this.
        found = names.get(part.lower())
        if found is None:
            return None
        try:
            return self._archive.read(found)
        except _DAMAGED as exc:
            raise SheetFileError(str(exc)) from exc

    def _exact_rows(self, name: str) -> Iterator[tuple[Any, ...]]:
        from openpyxl import load_workbook
        from openpyxl.utils.exceptions import InvalidFileException

        if self._exact is None:
            try:
                # Workbooks from other programs often lack a default style, which openpyxl warns about.
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    self._exact = load_workbook(io.BytesIO(self._data), read_only=True, data_only=True)
            except (InvalidFileException, *_DAMAGED) as exc:
                raise SheetFileError(str(exc)) from exc
        sheet = self._exact[name]
        # A sheet size written wrongly into the file would otherwise cut the rows short.
        sheet.reset_dimensions()
        # Excel's East Asian built-in date formats are not in openpyxl's table of built-in formats, so their
        # cells would come back as bare serial numbers where calamine (and Excel) show dates.
        styles = getattr(self._exact, "_cell_styles", ())
        dated = frozenset(i for i, style in enumerate(styles) if style.numFmtId in _EAST_ASIAN_DATE_FORMATS)
        return _exact_values(sheet.iter_rows(), dated, self._exact.epoch)


def _exact_values(
    rows: Iterator[tuple[Any, ...]], dated: frozenset[int], epoch: Any
) -> Iterator[tuple[Any, ...]]:
    """openpyxl's cells as values, error cells as CellError, numbers in an East Asian date format as dates; a
    damaged part said as SheetFileError (openpyxl reads the sheet's XML only as the rows are asked for)."""
    from openpyxl.utils.datetime import from_excel

    def value(cell: Any) -> Any:
        if cell.data_type == "e":
            return CellError(cell.value)
        if dated and cell.data_type == "n" and getattr(cell, "_style_id", None) in dated:
            number = cell.value
            if isinstance(number, int | float) and not isinstance(number, bool):
                try:
                    return from_excel(number, epoch)
                except (ValueError, OverflowError):
                    return number  # no date: the importer says the number is not one
        return cell.value

    try:
        for row in rows:
            yield tuple(value(cell) for cell in row)
    except (ElementTree.ParseError, IndexError, *_DAMAGED) as exc:
        raise SheetFileError(str(exc)) from exc


def _fast_reader_reads(xml: bytes) -> bool:
    """Whether calamine gives every value of this sheet's XML, in a grid of reasonable size."""
    if _ERROR_CELL.search(xml):
        return False
    if _SPACED_REF.search(xml):
        return False
    width = max((_column_number(letters.upper()) for letters in _WIDE_REF.findall(xml)), default=26)
    digits = len(str(MAX_GRID_CELLS // width))
    tall = re.compile(rb"""r=["'][A-Za-z]*([0-9]{%d,})["']""" % digits)
    height = max((int(n) for n in tall.findall(xml)), default=10 ** (digits - 1) - 1)
    return height * width <= MAX_GRID_CELLS


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + letter - 64
    return number


def _sheet_parts(archive: zipfile.ZipFile) -> dict[str, str]:
    """Each worksheet's name → its XML part in the archive (from xl/workbook.xml and its relationships)."""
    try:
        book = ElementTree.fromstring(archive.read("xl/workbook.xml"))
        relations = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    except (ElementTree.ParseError, *_DAMAGED):
        return {}  # every sheet then goes to the exact reader, which says what is wrong
    targets = {r.get("Id"): r.get("Target", "") for r in relations.iter(_RELATIONSHIPS)}
    parts: dict[str, str] = {}
    for sheet in book.iter(_SHEET):
        target = targets.get(sheet.get(_RELATION_ID))
        if target:
            # Targets are relative to xl/ unless they start at the archive's root.
            part = target.lstrip("/") if target.startswith("/") else posixpath.normpath("xl/" + target)
            parts.setdefault(sheet.get("name", ""), part)
    return parts
