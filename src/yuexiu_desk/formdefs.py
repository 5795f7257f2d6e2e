"""Form definitions (forms/*.toml) as typed, checked data: what each printed form and checklist holds.

A definition is read with tomllib, checked (ids, types, allowed results, references) and resolved: a
section may include a section of another form (the move-out form includes the check-in checklist), so
the two can never drift apart. One definition drives the screen checklist, the blank and the filled
print and the Excel columns; nothing here imports reportlab, Qt or the database.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from yuexiu_desk import paths
from yuexiu_desk.errors import UserError


class SectionType(StrEnum):
    FIELDS = "fields"  # label / value pairs: who, where, when
    READINGS = "readings"  # meter readings, each with its unit
    COUNTS = "counts"  # things handed over and how many (keys, cards)
    CHECKLIST = "checklist"  # groups (rooms) of items whose result is one of a fixed list, plus a note
    TABLE = "table"  # rows under column headings (household members, damages)
    AMOUNTS = "amounts"  # money lines, each with how it is worked out (settlement)
    TEXT = "text"  # fixed wording under headings (a notice, contract terms)
    SIGNATURES = "signatures"  # who signs, each with a date


# Sections whose values belong to one record, so they can print beside an earlier record's values.
COMPARABLE = frozenset({SectionType.READINGS, SectionType.COUNTS, SectionType.CHECKLIST})

DEFAULT_VALUE_LABELS = {
    SectionType.READINGS: "读数",
    SectionType.COUNTS: "数量",
    SectionType.CHECKLIST: "状况",
    SectionType.AMOUNTS: "金额（元）",
}


DEFAULT_GROUP_LABEL = "房间"


class RecordType(StrEnum):
    """What the form's QR code points at: the record a signed scan of it is filed to."""

    LEASE = "lease"
    HOUSEHOLD = "household"
    # An inspection round (forms/inspections/): built by inspection_templates, never named in forms/*.toml.
    INSPECTION_ROUND = "inspection_round"


@dataclass(frozen=True)
class Field:
    """One value slot: a header field, a meter, a key, a table column, a money line, a paragraph or a signer."""

    id: str
    label: str
    unit: str = ""
    source: str = ""  # the record value a filled print shows (named by services.form_print); "" = by hand
    text: str = ""  # fixed wording, printed on blank and filled forms alike
    hint: str = ""  # small print: how to fill it in, or how the amount is worked out
    wide: bool = False  # fields sections: takes a whole line
    width: float = 1.0  # tables: relative column width


@dataclass(frozen=True)
class Item:
    """A checklist item. Its result is one of results, with a free note."""

    id: str  # "<group id>.<item id>", e.g. "kitchen.gas_stove": the key its result is stored under
    label: str
    results: tuple[str, ...]
    hint: str = ""


@dataclass(frozen=True)
class Group:
    """A group of checklist items: a room."""

    id: str
    label: str
    items: tuple[Item, ...]


@dataclass(frozen=True)
class Section:
    id: str
    type: SectionType
    title: str
    note: str = ""
    fields: tuple[Field, ...] = ()  # every type but checklist
    groups: tuple[Group, ...] = ()  # checklist only
    value_label: str = ""  # heading of the value column (读数, 数量, 状况, 金额（元）)
    group_label: str = ""  # checklist: heading of the group column (房间)
    columns: int = 2  # fields: label/value pairs per line
    rows: int = 0  # table: rows printed at least (empty ones for handwriting)
    source: str = ""  # table: where a filled print takes its rows from
    compare: bool = False  # printed beside the values of the earlier record (check-in on the move-out form)
    origin: str = ""  # kind of the form this section was included from; "" when defined in this form

    @property
    def items(self) -> tuple[Item, ...]:
        return tuple(item for group in self.groups for item in group.items)


@dataclass(frozen=True)
class FormDefinition:
    kind: str  # the file name without .toml, e.g. "checkin"
    title: str  # e.g. 入住交接单
    code: str  # the letter naming this form in QR payloads
    record: RecordType
    sections: tuple[Section, ...]
    note: str = ""  # printed under the title
    compare_labels: tuple[str, str] = ("", "")  # headings of compared values, e.g. 入住时 / 退出时
    path: Path | None = None

    def section(self, section_id: str) -> Section:
        for section in self.sections:
            if section.id == section_id:
                return section
        raise KeyError(section_id)

    @property
    def items(self) -> tuple[Item, ...]:
        """Every checklist item of the form, in print order."""
        return tuple(item for section in self.sections for item in section.items)

    def fields_of(self, *types: SectionType) -> Iterator[Field]:
        """The fields of the sections of these types, in print order."""
        for section in self.sections:
            if section.type in types:
                yield from section.fields


class FormDefinitionError(UserError):
    """A form definition file that cannot be used; the message names the file and what to correct."""


_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_INCLUDE = re.compile(r"^(?P<kind>[a-z][a-z0-9_]*):(?P<section>[a-z][a-z0-9_]*)$")
_CODE = re.compile(r"^[A-Z]$")
MAX_ROWS = 40

# Values of these sections are written on site (or come from a handover record), never from a source.
_RECORDED = frozenset({SectionType.READINGS, SectionType.COUNTS, SectionType.SIGNATURES})
# QR letters of printed records that are not forms/*.toml definitions (see printing.receipts and
# printing.repairs).
RESERVED_CODES = {"R": "收据", "N": "催缴通知书", "I": "检查记录表", "W": "维修派工单"}
_FORM_KEYS = frozenset({"title", "code", "record", "note", "compare_labels", "sections"})
_SECTION_KEYS = frozenset(
    {
        "id",
        "type",
        "title",
        "note",
        "fields",
        "groups",
        "results",
        "value_label",
        "group_label",
        "columns",
        "rows",
        "source",
    }
)
_INCLUDE_KEYS = frozenset({"include", "title", "note", "compare"})
_GROUP_KEYS = frozenset({"id", "label", "items", "results"})
_ITEM_KEYS = frozenset({"id", "label", "results", "hint"})
_FIELD_KEYS = frozenset({"id", "label", "unit", "source", "text", "hint", "wide", "width"})


def _dir(forms_dir: Path | None) -> Path:
    return Path(forms_dir) if forms_dir is not None else paths.forms_dir()


def form_kinds(forms_dir: Path | None = None) -> list[str]:
    """The kinds of form there are definitions for (file names without .toml), sorted."""
    folder = _dir(forms_dir)
    if not folder.is_dir():
        return []
    return sorted(p.stem for p in folder.glob("*.toml") if _NAME.match(p.stem))


def load_form(kind: str, forms_dir: Path | None = None) -> FormDefinition:
    """The checked definition of one kind of form, with the sections it includes from other forms resolved."""
    folder = _dir(forms_dir)
    cleaned = (kind or "").strip().lower()
    if not _NAME.match(cleaned) or not (folder / f"{cleaned}.toml").is_file():
        raise UserError(f"没有“{kind}”这种表单，可打印的表单有：{_choices(folder)}。")
    return _Reader(cleaned, folder).form()


def load_all_forms(forms_dir: Path | None = None) -> dict[str, FormDefinition]:
    """Every form definition, checked; two forms with the same QR letter are refused."""
    forms = {kind: load_form(kind, forms_dir) for kind in form_kinds(forms_dir)}
    seen: dict[str, str] = {}
    for kind, form in forms.items():
        if form.code in seen:
            raise FormDefinitionError(
                f"表单 {seen[form.code]} 和 {kind} 的二维码代码都是 {form.code}，"
                f"无法区分扫描件属于哪张表，请把其中一个的 code 改为其他字母。"
            )
        seen[form.code] = kind
    return forms


def form_for_code(code: str, forms_dir: Path | None = None) -> FormDefinition:
    """The form whose QR letter is code (from a scanned form's payload)."""
    for form in load_all_forms(forms_dir).values():
        if form.code == code:
            return form
    raise UserError(f"二维码中的表单代码 {code} 本程序不认识，可能是新版本打印的表单，请升级程序。")


def _choices(folder: Path) -> str:
    found = []
    for kind in form_kinds(folder):
        try:
            with (folder / f"{kind}.toml").open("rb") as handle:
                title = tomllib.load(handle).get("title", "")
        except (OSError, tomllib.TOMLDecodeError):
            title = ""
        found.append(f"{kind}（{title}）" if isinstance(title, str) and title else kind)
    return "、".join(found) if found else f"（{folder} 中没有表单定义文件）"


class _Reader:
    """Reads one definition file; every error names the file and the place in it."""

    def __init__(self, kind: str, folder: Path) -> None:
        self.kind = kind
        self.folder = folder
        self.path = folder / f"{kind}.toml"
        self.name = f"{folder.name}/{self.path.name}"

    def fail(self, where: str, what: str) -> FormDefinitionError:
        place = f"{where}：" if where else ""
        return FormDefinitionError(f"表单定义 {self.name} 有误：{place}{what}，请改正该文件。")

    def raw(self) -> dict[str, Any]:
        try:
            with self.path.open("rb") as handle:
                return tomllib.load(handle)
        except FileNotFoundError:
            raise FormDefinitionError(
                f"找不到表单定义文件 {self.name}，请检查 {self.folder} 文件夹。"
            ) from None
        except OSError as exc:
            raise FormDefinitionError(
                f"无法读取表单定义文件 {self.name}（{exc.strerror or exc}），请检查文件权限。"
            ) from exc
        except tomllib.TOMLDecodeError as exc:
            raise FormDefinitionError(
                f"表单定义 {self.name} 不是有效的 TOML（{exc}），请改正该文件。"
            ) from None
        except UnicodeDecodeError:
            raise FormDefinitionError(
                f"表单定义 {self.name} 不是 UTF-8 编码的文本，请以 UTF-8 保存。"
            ) from None

    # -- the form ---------------------------------------------------------------------------------------

    def form(self) -> FormDefinition:
        data = self.raw()
        self.keys(data, _FORM_KEYS, "")
        title = self.text(data, "title", "", required=True)
        code = self.text(data, "code", "", required=True)
        if not _CODE.match(code):
            raise self.fail("", f"code 应为一个大写字母（二维码中代表这张表），现在是“{code}”")
        if code in RESERVED_CODES:
            raise self.fail("", f"code “{code}”已用于{RESERVED_CODES[code]}，请换一个字母")
        record_text = self.text(data, "record", "", required=True)
        try:
            record = RecordType(record_text)
            if record is RecordType.INSPECTION_ROUND:
                raise ValueError(record_text)
        except ValueError:
            choices = "、".join(r.value for r in RecordType if r is not RecordType.INSPECTION_ROUND)
            raise self.fail("", f"record 应为 {choices} 之一，现在是“{record_text}”") from None
        raw_sections = data.get("sections")
        if not isinstance(raw_sections, list) or not raw_sections:
            raise self.fail("", "没有任何栏目（[[sections]]）")
        sections = tuple(self.section_or_include(raw, n) for n, raw in enumerate(raw_sections, start=1))
        compare_labels: tuple[str, str] = ("", "")
        if "compare_labels" in data:
            labels = data["compare_labels"]
            if (
                not isinstance(labels, list)
                or len(labels) != 2
                or not all(isinstance(x, str) and x.strip() for x in labels)
            ):
                raise self.fail("", 'compare_labels 应为两个文字，例如 ["入住时", "退出时"]')
            compare_labels = (labels[0].strip(), labels[1].strip())
        if any(s.compare for s in sections) and not compare_labels[0]:
            raise self.fail("", "有栏目设置了 compare = true，但没有 compare_labels（对照两栏的标题）")
        self.check_unique(sections)
        return FormDefinition(
            kind=self.kind,
            title=title,
            code=code,
            record=record,
            sections=sections,
            note=self.text(data, "note", ""),
            compare_labels=compare_labels,
            path=self.path,
        )

    def check_unique(self, sections: tuple[Section, ...]) -> None:
        section_ids: set[str] = set()
        value_ids: dict[str, str] = {}
        for section in sections:
            if section.id in section_ids:
                raise self.fail("", f"栏目 id“{section.id}”出现了两次，每个栏目的 id 在一张表内只能用一次")
            section_ids.add(section.id)
            if section.type is SectionType.TABLE:
                continue  # columns name the cells of a row, not values of the form
            ids = [f.id for f in section.fields] + [i.id for i in section.items]
            for value_id in ids:
                if value_id in value_ids:
                    raise self.fail(
                        "",
                        f"id“{value_id}”在栏目 {value_ids[value_id]} 和 {section.id} 中都出现了；"
                        f"每个 id 在一张表内只能用一次（结果按 id 保存）",
                    )
                value_ids[value_id] = section.id

    # -- sections ---------------------------------------------------------------------------------------

    def section_or_include(self, raw: Any, number: int) -> Section:
        where = f"第 {number} 个栏目"
        if not isinstance(raw, dict):
            raise self.fail(where, "应为一个表（[[sections]]）")
        if "include" in raw:
            return self.include(raw, where)
        return self.section(raw, where)

    def include(self, raw: dict[str, Any], where: str) -> Section:
        self.keys(raw, _INCLUDE_KEYS, where)
        reference = self.text(raw, "include", where, required=True)
        match = _INCLUDE.match(reference)
        if match is None:
            raise self.fail(where, f'include = “{reference}”应写成 表单:栏目id，例如 "checkin:rooms"')
        where = f"{where}（include = “{reference}”）"
        kind, section_id = match["kind"], match["section"]
        if kind == self.kind:
            raise self.fail(where, "引用的是本表自己的栏目，请直接定义该栏目")
        other = _Reader(kind, self.folder)
        if not other.path.is_file():
            raise self.fail(where, f"引用的表单 {kind} 不存在（没有 {other.name}）")
        raw_sections = other.raw().get("sections")
        candidates = (
            [s for s in raw_sections if isinstance(s, dict)] if isinstance(raw_sections, list) else []
        )
        found = [s for s in candidates if s.get("id") == section_id]
        if not found:
            known = "、".join(str(s["id"]) for s in candidates if "id" in s) or "无"
            raise self.fail(where, f"引用的栏目 {section_id} 在 {other.name} 中不存在（那里有：{known}）")
        position = candidates.index(found[0]) + 1
        base = other.section(found[0], f"第 {position} 个栏目")
        compare = self.flag(raw, "compare", where)
        if compare and base.type not in COMPARABLE:
            raise self.fail(
                where,
                f"compare = true 只能用于 读数、数量 和 检查清单 栏目，{section_id} 是 {base.type.value}",
            )
        return Section(
            id=base.id,
            type=base.type,
            title=self.text(raw, "title", where) or base.title,
            note=self.text(raw, "note", where) if "note" in raw else base.note,
            fields=base.fields,
            groups=base.groups,
            value_label=base.value_label,
            group_label=base.group_label,
            columns=base.columns,
            rows=base.rows,
            source=base.source,
            compare=compare,
            origin=kind,
        )

    def section(self, raw: dict[str, Any], where: str) -> Section:
        self.keys(raw, _SECTION_KEYS, where)
        section_id = self.ident(raw, where)
        where = f"{where}（{section_id}）"
        type_text = self.text(raw, "type", where, required=True)
        try:
            section_type = SectionType(type_text)
        except ValueError:
            choices = "、".join(t.value for t in SectionType)
            raise self.fail(where, f"type 应为 {choices} 之一，现在是“{type_text}”") from None
        title = self.text(raw, "title", where, required=True)
        groups: tuple[Group, ...] = ()
        fields: tuple[Field, ...] = ()
        if section_type is SectionType.CHECKLIST:
            if "fields" in raw:
                raise self.fail(where, "检查清单栏目的项目应写在 groups 的 items 中，而不是 fields")
            default_results = self.results(raw, where, required=True)
            groups = self.groups(raw, where, default_results)
        else:
            for key in ("groups", "results"):
                if key in raw:
                    raise self.fail(where, f"只有检查清单（checklist）栏目才能有 {key}")
            fields = self.fields(raw, where, section_type)
        columns = self.integer(raw, "columns", where, 2, 1, 3)
        rows = self.integer(raw, "rows", where, 0, 0, MAX_ROWS)
        for key, allowed in (("columns", SectionType.FIELDS), ("rows", SectionType.TABLE)):
            if key in raw and section_type is not allowed:
                raise self.fail(where, f"{key} 只适用于 {allowed.value} 栏目")
        if "source" in raw and section_type is not SectionType.TABLE:
            raise self.fail(where, "source 只适用于 table 栏目（其他栏目的 source 写在各字段上）")
        if "group_label" in raw and section_type is not SectionType.CHECKLIST:
            raise self.fail(where, "group_label 只适用于 checklist 栏目")
        value_label = self.text(raw, "value_label", where) or DEFAULT_VALUE_LABELS.get(section_type, "")
        return Section(
            id=section_id,
            type=section_type,
            title=title,
            note=self.text(raw, "note", where),
            fields=fields,
            groups=groups,
            value_label=value_label,
            group_label=(self.text(raw, "group_label", where) or DEFAULT_GROUP_LABEL) if groups else "",
            columns=columns,
            rows=rows,
            source=self.text(raw, "source", where),
        )

    def groups(self, raw: dict[str, Any], where: str, default_results: tuple[str, ...]) -> tuple[Group, ...]:
        raw_groups = raw.get("groups")
        if not isinstance(raw_groups, list) or not raw_groups:
            raise self.fail(where, "检查清单没有任何分组（[[sections.groups]]，例如每个房间一组）")
        groups: list[Group] = []
        for number, raw_group in enumerate(raw_groups, start=1):
            at = f"{where}第 {number} 组"
            if not isinstance(raw_group, dict):
                raise self.fail(at, "应为一个表（[[sections.groups]]）")
            self.keys(raw_group, _GROUP_KEYS, at)
            group_id = self.ident(raw_group, at)
            at = f"{where}第 {number} 组（{group_id}）"
            if any(g.id == group_id for g in groups):
                raise self.fail(at, f"分组 id“{group_id}”在本栏目中出现了两次")
            label = self.text(raw_group, "label", at, required=True)
            group_results = self.results(raw_group, at) or default_results
            raw_items = raw_group.get("items")
            if not isinstance(raw_items, list) or not raw_items:
                raise self.fail(at, "没有任何检查项目（items）")
            items: list[Item] = []
            for item_number, raw_item in enumerate(raw_items, start=1):
                item_at = f"{at}第 {item_number} 项"
                if not isinstance(raw_item, dict):
                    raise self.fail(item_at, '应写成 { id = "...", label = "..." }')
                self.keys(raw_item, _ITEM_KEYS, item_at)
                item_id = f"{group_id}.{self.ident(raw_item, item_at)}"
                item_at = f"{at}第 {item_number} 项（{item_id}）"
                if any(i.id == item_id for i in items):
                    raise self.fail(item_at, f"检查项 id“{item_id}”出现了两次（结果按 id 保存，不能重复）")
                items.append(
                    Item(
                        id=item_id,
                        label=self.text(raw_item, "label", item_at, required=True),
                        results=self.results(raw_item, item_at) or group_results,
                        hint=self.text(raw_item, "hint", item_at),
                    )
                )
            groups.append(Group(group_id, label, tuple(items)))
        return tuple(groups)

    def fields(self, raw: dict[str, Any], where: str, section_type: SectionType) -> tuple[Field, ...]:
        raw_fields = raw.get("fields")
        if not isinstance(raw_fields, list) or not raw_fields:
            raise self.fail(where, "没有任何字段（fields）")
        fields: list[Field] = []
        for number, raw_field in enumerate(raw_fields, start=1):
            at = f"{where}第 {number} 个字段"
            if not isinstance(raw_field, dict):
                raise self.fail(at, '应写成 { id = "...", label = "..." }')
            self.keys(raw_field, _FIELD_KEYS, at)
            field_id = self.ident(raw_field, at)
            at = f"{where}第 {number} 个字段（{field_id}）"
            if any(f.id == field_id for f in fields):
                raise self.fail(at, f"字段 id“{field_id}”在本栏目中出现了两次")
            if "source" in raw_field and section_type in _RECORDED:
                raise self.fail(at, "读数、数量和签字栏由现场填写或来自交接记录，不能设置 source")
            width = raw_field.get("width", 1.0)
            if isinstance(width, bool) or not isinstance(width, int | float) or not 0 < width <= 10:
                raise self.fail(at, f"width 应为 0 到 10 之间的数（相对列宽），现在是“{width}”")
            fields.append(
                Field(
                    id=field_id,
                    label=self.text(raw_field, "label", at, required=True),
                    unit=self.text(raw_field, "unit", at),
                    source=self.text(raw_field, "source", at),
                    text=self.text(raw_field, "text", at),
                    hint=self.text(raw_field, "hint", at),
                    wide=self.flag(raw_field, "wide", at),
                    width=float(width),
                )
            )
        return tuple(fields)

    # -- values -----------------------------------------------------------------------------------------

    def keys(self, raw: Mapping[str, Any], allowed: frozenset[str], where: str) -> None:
        unknown = sorted(set(raw) - allowed)
        if unknown:
            raise self.fail(
                where,
                f"不认识的键 {'、'.join(unknown)}（可用的键：{'、'.join(sorted(allowed))}），可能是拼写错误",
            )

    def ident(self, raw: Mapping[str, Any], where: str) -> str:
        value = raw.get("id")
        if not isinstance(value, str) or not _NAME.match(value):
            raise self.fail(
                where, f"id 应由小写英文字母、数字和下划线组成并以字母开头（例如 gas_stove），现在是“{value}”"
            )
        return value

    def text(self, raw: Mapping[str, Any], key: str, where: str, *, required: bool = False) -> str:
        value = raw.get(key, "")
        if not isinstance(value, str):
            raise self.fail(where, f"{key} 应为文字（加引号），现在是“{value}”")
        if required and not value.strip():
            raise self.fail(where, f"缺少 {key}")
        return value.strip()

    def flag(self, raw: Mapping[str, Any], key: str, where: str) -> bool:
        value = raw.get(key, False)
        if not isinstance(value, bool):
            raise self.fail(where, f"{key} 应为 true 或 false，现在是“{value}”")
        return value

    def integer(self, raw: Mapping[str, Any], key: str, where: str, default: int, low: int, high: int) -> int:
        value = raw.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise self.fail(where, f"{key} 应为 {low} 到 {high} 之间的整数，现在是“{value}”")
        return value

    def results(self, raw: Mapping[str, Any], where: str, *, required: bool = False) -> tuple[str, ...]:
        if "results" not in raw:
            if required:
                raise self.fail(where, '缺少 results（允许的检查结果，例如 ["完好", "损坏", "缺失"]）')
            return ()
        value = raw["results"]
        if (
            not isinstance(value, list)
            or not value
            or not all(isinstance(x, str) and x.strip() for x in value)
        ):
            raise self.fail(where, 'results 应为一组文字，例如 ["完好", "损坏", "缺失"]')
        results = tuple(x.strip() for x in value)
        if len(set(results)) != len(results):
            raise self.fail(where, f"results 中有重复的结果（{'、'.join(results)}）")
        return results
