"""Printing inspection records: the blank form of a round (for handwriting on site) and the filled record, both
from the round's template through printing.forms, with the round's QR code (form letter I) on every page and
the inspector's and inspected party's signature lines (S2); and the quarterly report (PDF or Excel).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from yuexiu_desk.errors import UserError
from yuexiu_desk.inspection_templates import (
    ROUND_FORM,
    DangerGrade,
    Level,
    Result,
    Scope,
    Severity,
    as_form_definition,
    load_template,
    result_options,
    value_key,
)
from yuexiu_desk.labels.payload import Payload, RecordKind
from yuexiu_desk.services import inspections
from yuexiu_desk.storage.db import require_station
from yuexiu_desk.storage.inspection_models import InspectionRound

HEADER = (
    ("round_no", "轮次编号"),
    ("scope", "检查范围"),
    ("started_on", "检查日期"),
    ("rule", "依据"),
    ("inspector", "检查人"),
    ("inspected_party", "被检查单位"),
)


def _pdf(out: Path) -> Path:
    out = Path(out)
    if out.suffix.lower() != ".pdf":
        raise UserError(f"输出文件应以 .pdf 结尾，现在是“{out.name}”。")
    return out


def round_payload(session: Session, round_: InspectionRound) -> str:
    return Payload(RecordKind.FORM, require_station(session).code, round_.id, ROUND_FORM).encode()


def print_round(session: Session, round_no: str, out: Path, blank: bool = False) -> int:
    """The round's record as a PDF: blank (results left for handwriting) or filled; returns the pages."""
    from yuexiu_desk.printing.forms import FormValues, write_form

    out = _pdf(out)
    round_ = inspections.find_round(session, round_no)
    template = load_template(round_.template)
    pairs = inspections.expected(session, round_, template)
    locations: dict[Level, list[Scope]] = {}
    for _item, place in pairs:
        seen = locations.setdefault(place.level, [])
        if place not in seen:
            seen.append(place)
    definition = as_form_definition(template, locations, HEADER)
    scope = inspections._scope_of(round_)
    fields = {
        "round_no": round_.round_no,
        "scope": scope.label,
        "started_on": "" if blank else round_.started_on.isoformat(),
        "rule": f"{template.rule} · {template.cadence.label}",
        "inspector": "" if blank else round_.inspector,
        "inspected_party": round_.inspected_party,
    }
    results: dict[str, tuple[str, str]] = {}
    if not blank:
        items = {item.id: item for item in template.items}
        for (item_id, location), stored in inspections._results(session, round_.id).items():
            item = items.get(item_id)
            if item is None:
                raise UserError(
                    f"检查项 {item_id} 已从检查表 inspections/{template.id}.toml 中删除，"
                    f"请恢复它后再打印该轮次的记录。"
                )
            answer = Result(stored.result)
            options = result_options(item)
            chosen = options[item.results.index(answer)] if answer in item.results else answer.label
            extra = []
            if stored.severity:
                extra.append(f"程度：{Severity(stored.severity).label}")
            if stored.danger_grade:
                extra.append(f"危险等级：{DangerGrade(stored.danger_grade).value}级")
            if stored.note:
                extra.append(stored.note)
            if stored.photo_path:
                extra.append(f"照片：{Path(stored.photo_path).name}")
            results[value_key(item, Scope.parse(location))] = (chosen, "；".join(extra))
    values = FormValues(fields={k: v for k, v in fields.items() if v}, results=results)
    state = "空白表" if blank else ("已结束" if round_.status == inspections.CLOSED else "进行中")
    return write_form(
        definition,
        values,
        out,
        round_payload(session, round_),
        title_extra=f"{scope.label} · {round_.round_no} · {state}",
    )


def print_blank(
    session: Session, template_id: str, scope_text: str, out: Path, operator: str, today: date | None = None
) -> tuple[str, int, bool]:
    """The blank form of the open round of template for scope, starting that round when there is none
    (the QR code names the round, so the signed scan files to it). Returns (round number, pages, started)."""
    out = _pdf(out)
    template = load_template(template_id)
    scope = Scope.parse(scope_text)
    value = str(scope).partition(":")[2]
    round_no = session.scalar(
        select(InspectionRound.round_no).where(
            InspectionRound.template == template.id,
            InspectionRound.scope_kind == scope.level.value,
            InspectionRound.scope_value == value,
            InspectionRound.status == inspections.OPEN,
        )
    )
    started = round_no is None
    if round_no is None:
        round_no = inspections.start_round(
            session, template.id, str(scope), operator, started_on=today
        ).round_no
    return round_no, print_round(session, round_no, out, blank=True), started


def export_quarter_report(session: Session, quarter: str, out: Path) -> inspections.QuarterReport:
    """The quarterly inspection report as a PDF (with a chart) or an Excel workbook, by out's suffix."""
    out = Path(out)
    suffix = out.suffix.lower()
    if suffix not in (".pdf", ".xlsx"):
        raise UserError(f"输出文件应以 .pdf 或 .xlsx 结尾，现在是“{out.name}”。")
    report = inspections.quarter_report(session, quarter)
    templates = {t.template: load_template(t.template) for t in report.templates}
    station = require_station(session)
    if suffix == ".pdf":
        from yuexiu_desk.printing.inspection_report import write_inspection_report

        write_inspection_report(report, station.estate_name, out)
    else:
        from yuexiu_desk.export.inspection_report import write_inspection_workbook

        write_inspection_workbook(report, templates, station.estate_name, out)
    return report
