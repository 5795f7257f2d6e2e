"""Inspection checklist templates (forms/inspections/*.toml) as typed, checked data, and the places they
are done at (scopes and locations: the estate, a building, an entrance, a floor, a unit).

One template drives the round's checklist on screen (services.inspections.round_items), the blank and the
filled print (as_form_definition → printing.forms), and the Excel columns (excel_columns); adding an item to
the TOML adds it everywhere with no code change. Nothing here imports reportlab, Qt or the database.
"""

from __future__ import annotations

import functools
import re
import tomllib
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

from yuexiu_desk import paths
from yuexiu_desk.errors import UserError
from yuexiu_desk.formdefs import Field, FormDefinition, Group, Item, RecordType, Section, SectionType

# The QR letter of every printed inspection round (kind "F" payloads); reserved in formdefs.RESERVED_CODES.
ROUND_FORM = "I"


class Level(StrEnum):
    """How far a scope or a location reaches, widest first."""

    ESTATE = "estate"
    BUILDING = "building"
    ENTRANCE = "entrance"
    FLOOR = "floor"
    UNIT = "unit"

    @property
    def depth(self) -> int:
        return _DEPTH[self]

    @property
    def label(self) -> str:
        return {"estate": "小区", "building": "楼栋", "entrance": "单元", "floor": "楼层", "unit": "房屋"}[
            self
        ]


_DEPTH: dict[str, int] = {level: n for n, level in enumerate(Level)}


class Result(StrEnum):
    OK = "ok"
    DEFECT = "defect"
    NA = "na"

    @property
    def label(self) -> str:
        return {"ok": "正常", "defect": "有隐患", "na": "不适用"}[self]


class Severity(StrEnum):
    MINOR = "minor"
    MAJOR = "major"
    CRITICAL = "critical"

    @property
    def label(self) -> str:
        return {"minor": "一般", "major": "较大", "critical": "重大"}[self]


class DangerGrade(StrEnum):
    """JGJ 125-2016 §6.1.4 (S1): A none, B some dangerous members, C 局部危房, D 整幢危房."""

    A = "A"
    B = "B"
    C = "C"
    D = "D"

    @property
    def escalates(self) -> bool:
        return self in (DangerGrade.C, DangerGrade.D)


RESPONSIBLE = {
    "station": "服务站",
    "property": "物业服务企业",
    "elevator": "电梯维保单位",
    "fire": "消防设施维保单位",
    "tenant": "承租人",
}


def parse_choice(enum: type[Any], text: str, what: str) -> Any:
    """An enum member by its value or its Chinese label."""
    cleaned = (text or "").strip()
    for member in enum:
        if cleaned.lower() == member.value.lower() or cleaned == getattr(member, "label", None):
            return member
    choices = "、".join(f"{m.value}（{m.label}）" if hasattr(m, "label") else m.value for m in enum)
    raise UserError(f"{what}“{cleaned}”不对，应为 {choices} 之一。")


@dataclass(frozen=True, order=True)
class Scope:
    """A place: the estate, building 1, entrance 1-2, floor 1-2-16 or unit 1-2-1603.

    Written as "estate", "building:1", "entrance:1-2", "floor:1-2-16", "unit:1-2-1603" (str() and parse()).
    path holds the numbers (building, entrance, floor, room) as far as the level reaches.
    """

    level: Level
    path: tuple[int, ...] = ()

    def __str__(self) -> str:
        if self.level is Level.ESTATE:
            return "estate"
        if self.level is Level.UNIT:
            b, e, f, r = self.path
            return f"unit:{b}-{e}-{f}{r:02d}"
        return f"{self.level.value}:{'-'.join(str(n) for n in self.path)}"

    @property
    def label(self) -> str:
        p = self.path
        if self.level is Level.ESTATE:
            return "全小区"
        if self.level is Level.BUILDING:
            return f"{p[0]}栋"
        if self.level is Level.ENTRANCE:
            return f"{p[0]}栋{p[1]}单元"
        if self.level is Level.FLOOR:
            return f"{p[0]}栋{p[1]}单元{p[2]}层"
        return f"{p[0]}-{p[1]}-{p[2]}{p[3]:02d}"

    @property
    def unit_code(self) -> str:
        return self.label if self.level is Level.UNIT else ""

    def contains(self, other: Scope) -> bool:
        return other.level.depth >= self.level.depth and other.path[: len(self.path)] == self.path

    def at(self, level: Level) -> Scope:
        """The wider place at level that holds this one."""
        if level.depth > self.level.depth:
            raise ValueError(f"{self} has no {level}")
        return Scope(level, self.path[: level.depth])

    @classmethod
    def unit(cls, building: int, entrance: int, floor: int, room: int) -> Scope:
        return cls(Level.UNIT, (building, entrance, floor, room))

    @classmethod
    def parse(cls, text: str) -> Scope:
        cleaned = (text or "").strip().lower()
        example = "estate、building:1、entrance:1-2、floor:1-2-16 或 unit:1-2-1603"
        if cleaned in ("estate", "小区", "全小区"):
            return cls(Level.ESTATE)
        head, sep, rest = cleaned.partition(":")
        try:
            level = Level(head)
        except ValueError:
            level = None
        if not sep or level is None or level is Level.ESTATE:
            raise UserError(f"范围“{text.strip()}”不对，应写成 {example}。")
        if level is Level.UNIT:
            match = re.fullmatch(r"(\d+)-(\d+)-(\d+)(\d\d)", rest)
        else:
            match = re.fullmatch(r"-".join([r"(\d+)"] * level.depth), rest)
        if match is None or min(int(g) for g in match.groups()) < 1:
            raise UserError(f"范围“{text.strip()}”不对，应写成 {example}。")
        return cls(level, tuple(int(g) for g in match.groups()))


class Cadence:
    """How often a template is due: "monthly", "quarterly" (calendar periods) or "<n>d" (every n days)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.days = 0
        self.months = 0
        if text == "monthly":
            self.months = 1
        elif text == "quarterly":
            self.months = 3
        elif re.fullmatch(r"[1-9]\d{0,2}d", text):
            self.days = int(text[:-1])
        else:
            raise ValueError(text)

    @property
    def label(self) -> str:
        if self.months == 1:
            return "每月"
        if self.months == 3:
            return "每季度"
        return f"每 {self.days} 天"

    def period_start(self, day: date) -> date:
        """The first day of the calendar period holding day (monthly and quarterly cadences)."""
        month = day.month - (day.month - 1) % self.months
        return date(day.year, month, 1)

    def due_date(self, last_done: date | None, today: date) -> date:
        """When the next round is due.

        Monthly and quarterly: one round in every calendar period, so after a round in period P the next is
        due by the end of period P+1; with none yet, by the end of this period. Every n days: n days after
        the last round; with none yet, today.
        """
        if self.days:
            return today if last_done is None else last_done + timedelta(days=self.days)
        start = self.period_start(today if last_done is None else last_done)
        periods = 1 if last_done is None else 2
        year, month = divmod(start.month - 1 + self.months * periods, 12)
        return date(start.year + year, month + 1, 1) - timedelta(days=1)


@dataclass(frozen=True)
class CheckItem:
    """One thing to look at, once at every location of its level (per) inside the round's scope."""

    id: str  # "<section id>.<item id>": the key its results are stored under
    label: str
    look: str  # what to look at, and how
    per: Level
    results: tuple[Result, ...]
    photo: bool  # a defect needs a photo
    note: bool  # a defect needs a note
    structural: bool  # a defect needs a danger grade A–D (S1)
    kind: str  # hazard kind (statistics)
    responsible: str  # default responsible party (RESPONSIBLE key)


@dataclass(frozen=True)
class CheckSection:
    id: str
    title: str
    per: Level
    note: str
    items: tuple[CheckItem, ...]


@dataclass(frozen=True)
class Template:
    id: str  # the file name without .toml
    title: str
    rule: str
    cadence: Cadence
    scope: Level  # the level of the places a round is done for (and due for)
    note: str
    signatures: tuple[tuple[str, str], ...]  # (id, label)
    sections: tuple[CheckSection, ...]
    certificate_alert_days: int = 0

    @property
    def items(self) -> tuple[CheckItem, ...]:
        return tuple(item for section in self.sections for item in section.items)

    def item(self, item_id: str) -> CheckItem:
        for item in self.items:
            if item.id == item_id:
                return item
        raise UserError(f"“{self.title}”中没有检查项 {item_id}。")


class TemplateError(UserError):
    """A template file that cannot be used; the message names the file and what to correct."""


_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_TEMPLATE_KEYS = frozenset(
    {"title", "rule", "cadence", "scope", "note", "signatures", "sections", "certificate_alert_days"}
)
_SECTION_KEYS = frozenset({"id", "title", "per", "note", "kind", "responsible", "items"})
_ITEM_KEYS = frozenset(
    {"id", "label", "look", "results", "photo", "note", "structural", "kind", "responsible", "per"}
)
DEFAULT_SIGNATURES = (("inspector", "检查人（签字）"), ("inspected", "被检查单位负责人（签字）"))


def templates_dir(folder: Path | None = None) -> Path:
    return Path(folder) if folder is not None else paths.forms_dir() / "inspections"


def template_ids(folder: Path | None = None) -> list[str]:
    where = templates_dir(folder)
    return sorted(p.stem for p in where.glob("*.toml") if _NAME.match(p.stem)) if where.is_dir() else []


def load_template(template_id: str, folder: Path | None = None) -> Template:
    where = templates_dir(folder)
    cleaned = (template_id or "").strip().lower()
    if not _NAME.match(cleaned) or not (where / f"{cleaned}.toml").is_file():
        known = "、".join(template_ids(folder)) or "无"
        raise UserError(f"没有“{template_id}”这种检查表，现有：{known}。")
    path = where / f"{cleaned}.toml"
    stat = path.stat()
    return _load(path, stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=64)
def _load(path: Path, mtime_ns: int, size: int) -> Template:
    """A template read once per version of its file (an edited file is read again)."""
    return _Reader(path).template()


def load_all_templates(folder: Path | None = None) -> dict[str, Template]:
    return {tid: load_template(tid, folder) for tid in template_ids(folder)}


class _Reader:
    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, where: str, what: str) -> TemplateError:
        at = f"（{where}）" if where else ""
        return TemplateError(f"检查表定义 inspections/{self.path.name}{at}有误：{what}，请改正该文件。")

    def template(self) -> Template:
        try:
            with self.path.open("rb") as handle:
                data = tomllib.load(handle)
        except tomllib.TOMLDecodeError as exc:
            raise self.fail("", f"不是有效的 TOML（{exc}）") from None
        except UnicodeDecodeError:
            raise self.fail("", "不是 UTF-8 编码的文本") from None
        self.keys(data, _TEMPLATE_KEYS, "")
        try:
            cadence = Cadence(str(data.get("cadence", "")))
        except ValueError:
            raise self.fail("", "cadence 应为 monthly、quarterly 或天数如 15d") from None
        scope = self.level(data, "scope", "", None)
        signatures: tuple[tuple[str, str], ...] = DEFAULT_SIGNATURES
        if "signatures" in data:
            raw = data["signatures"]
            if not isinstance(raw, list) or not raw:
                raise self.fail("", 'signatures 应为一组 { id = "...", label = "..." }')
            signatures = tuple(
                (self.ident(s, "signatures"), self.text(s, "label", "signatures", True)) for s in raw
            )
        raw_sections = data.get("sections")
        if not isinstance(raw_sections, list) or not raw_sections:
            raise self.fail("", "没有任何栏目（[[sections]]）")
        sections = tuple(self.section(raw, n, scope) for n, raw in enumerate(raw_sections, start=1))
        ids = [s.id for s in sections]
        if len(set(ids)) != len(ids):
            raise self.fail("", "栏目 id 有重复")
        alert = data.get("certificate_alert_days", 0)
        if isinstance(alert, bool) or not isinstance(alert, int) or not 0 <= alert <= 365:
            raise self.fail("", "certificate_alert_days 应为 0 到 365 之间的整数")
        return Template(
            id=self.path.stem,
            title=self.text(data, "title", "", True),
            rule=self.text(data, "rule", ""),
            cadence=cadence,
            scope=scope,
            note=self.text(data, "note", ""),
            signatures=signatures,
            sections=sections,
            certificate_alert_days=alert,
        )

    def section(self, raw: Any, number: int, scope: Level) -> CheckSection:
        where = f"第 {number} 个栏目"
        if not isinstance(raw, dict):
            raise self.fail(where, "应为一个表（[[sections]]）")
        self.keys(raw, _SECTION_KEYS, where)
        section_id = self.ident(raw, where)
        where = f"{where}（{section_id}）"
        per = self.level(raw, "per", where, scope)
        if per.depth < scope.depth:
            raise self.fail(where, f"per = {per.value} 比本表的范围 {scope.value} 更大")
        kind = self.text(raw, "kind", where) or section_id
        responsible = self.responsible(raw, where, "station")
        raw_items = raw.get("items")
        if not isinstance(raw_items, list) or not raw_items:
            raise self.fail(where, "没有任何检查项（items）")
        items: list[CheckItem] = []
        for n, raw_item in enumerate(raw_items, start=1):
            at = f"{where}第 {n} 项"
            if not isinstance(raw_item, dict):
                raise self.fail(at, '应写成 { id = "...", label = "..." }')
            self.keys(raw_item, _ITEM_KEYS, at)
            item_id = f"{section_id}.{self.ident(raw_item, at)}"
            if any(i.id == item_id for i in items):
                raise self.fail(at, f"检查项 id“{item_id}”出现了两次")
            results = raw_item.get("results", ["ok", "defect", "na"])
            if (
                not isinstance(results, list)
                or not results
                or not all(isinstance(r, str) and r in Result._value2member_map_ for r in results)
                or "ok" not in results
            ):
                raise self.fail(at, 'results 应为 ["ok", "defect", "na"] 中的几个，且包括 ok')
            item_per = self.level(raw_item, "per", at, per)
            if item_per.depth < scope.depth:
                raise self.fail(at, f"per = {item_per.value} 比本表的范围 {scope.value} 更大")
            items.append(
                CheckItem(
                    id=item_id,
                    label=self.text(raw_item, "label", at, True),
                    look=self.text(raw_item, "look", at),
                    per=item_per,
                    results=tuple(Result(r) for r in results),
                    photo=self.flag(raw_item, "photo", at, False),
                    note=self.flag(raw_item, "note", at, True),
                    structural=self.flag(raw_item, "structural", at, False),
                    kind=self.text(raw_item, "kind", at) or kind,
                    responsible=self.responsible(raw_item, at, responsible),
                )
            )
        return CheckSection(
            section_id, self.text(raw, "title", where, True), per, self.text(raw, "note", where), tuple(items)
        )

    def keys(self, raw: dict[str, Any], allowed: frozenset[str], where: str) -> None:
        unknown = sorted(set(raw) - allowed)
        if unknown:
            raise self.fail(
                where, f"不认识的键 {'、'.join(unknown)}（可用的键：{'、'.join(sorted(allowed))}）"
            )

    def ident(self, raw: Any, where: str) -> str:
        value = raw.get("id") if isinstance(raw, dict) else None
        if not isinstance(value, str) or not _NAME.match(value):
            raise self.fail(where, f"id 应由小写英文字母、数字和下划线组成并以字母开头，现在是“{value}”")
        return value

    def text(self, raw: dict[str, Any], key: str, where: str, required: bool = False) -> str:
        value = raw.get(key, "")
        if not isinstance(value, str):
            raise self.fail(where, f"{key} 应为文字（加引号）")
        if required and not value.strip():
            raise self.fail(where, f"缺少 {key}")
        return value.strip()

    def flag(self, raw: dict[str, Any], key: str, where: str, default: bool) -> bool:
        value = raw.get(key, default)
        if not isinstance(value, bool):
            raise self.fail(where, f"{key} 应为 true 或 false")
        return value

    def level(self, raw: dict[str, Any], key: str, where: str, default: Level | None) -> Level:
        if key not in raw and default is not None:
            return default
        try:
            return Level(str(raw.get(key)))
        except ValueError:
            choices = "、".join(level.value for level in Level)
            raise self.fail(where, f"{key} 应为 {choices} 之一") from None

    def responsible(self, raw: dict[str, Any], where: str, default: str) -> str:
        value = raw.get("responsible", default)
        if value not in RESPONSIBLE:
            raise self.fail(where, f"responsible 应为 {'、'.join(RESPONSIBLE)} 之一")
        return str(value)


# -- one definition, every output ------------------------------------------------------------------------


def result_options(item: CheckItem) -> tuple[str, ...]:
    """The results of an item as printed tick boxes (有隐患 carries the severities to tick)."""
    return tuple(
        f"{r.label}（{'/'.join(s.label for s in Severity)}）" if r is Result.DEFECT else r.label
        for r in item.results
    )


def result_text(result: Result, severity: Severity | None, grade: DangerGrade | None) -> str:
    """How a recorded result reads on paper and in Excel: 正常, 不适用, 有隐患（较大，C级）."""
    if result is not Result.DEFECT:
        return result.label
    extra = "，".join(
        x for x in (severity.label if severity else "", f"{grade.value}级" if grade else "") if x
    )
    return f"{result.label}（{extra}）" if extra else result.label


def group_key(section_id: str, location: Scope) -> str:
    return f"{section_id}@{location}"


def value_key(item: CheckItem, location: Scope) -> str:
    section, _, name = item.id.partition(".")
    return f"{group_key(section, location)}.{name}"


def as_form_definition(
    template: Template, locations: dict[Level, list[Scope]], header: tuple[tuple[str, str], ...]
) -> FormDefinition:
    """The printable form of a round: the header fields, a checklist per section with one group for each
    location of the section's level (and each item), the items' looks as hints, the two signature lines (S2).

    header: (field id, label) of the header section; their values come with the filled print.
    """
    sections: list[Section] = [
        Section(
            id="header",
            type=SectionType.FIELDS,
            title="基本信息",
            fields=tuple(Field(id=fid, label=label) for fid, label in header),
        )
    ]
    for section in template.sections:
        levels = sorted({item.per for item in section.items}, key=lambda lv: lv.depth)
        groups: list[Group] = []
        for level in levels:
            for location in locations.get(level, []):
                items = tuple(
                    Item(
                        id=value_key(item, location),
                        label=item.label,
                        results=result_options(item),
                        hint=item.look,
                    )
                    for item in section.items
                    if item.per is level
                )
                groups.append(Group(group_key(section.id, location), location.label, items))
        if groups:
            sections.append(
                Section(
                    id=section.id,
                    type=SectionType.CHECKLIST,
                    title=section.title,
                    note=section.note,
                    groups=tuple(groups),
                    value_label="检查结果",
                    group_label="位置",
                )
            )
    sections.append(
        Section(
            id="signatures",
            type=SectionType.SIGNATURES,
            title="签字确认",
            note="检查记录由检查人和被检查单位负责人签名（S2）。",
            fields=tuple(Field(id=sid, label=label) for sid, label in template.signatures),
        )
    )
    return FormDefinition(
        kind=template.id,
        title=template.title,
        code=ROUND_FORM,
        record=RecordType.INSPECTION_ROUND,
        sections=tuple(sections),
        note=template.note,
    )


def excel_columns(template: Template) -> list[tuple[str, str]]:
    """(item id, column heading) of every item, in template order: the result columns of the Excel sheet."""
    return [(item.id, f"{item.label}") for item in template.items]
