"""Two years of made-up inspection history for the demo station, written through the inspection services.

Quarterly inspection records and safety checks per building (2栋's inspection record of last quarter was
missed, so it shows as overdue), monthly fire checks, elevator maintenance visits every 14 days per entrance,
defects now and then: older hazards rectified, re-inspected and closed, recent ones open, one structural
defect graded C waiting for the manager (S1); and the elevators' certificates, one expiring within 30 days.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from sqlalchemy.orm import Session

from yuexiu_desk.clock import local_date
from yuexiu_desk.inspection_templates import Level, Result, load_all_templates
from yuexiu_desk.services import hazards, inspections

DEMO_OPERATOR = "演示数据"
INSPECTOR = "安全员 王建国"
PARTY = {
    "quarterly_inspection": "悦秀物业服务有限公司",
    "quarterly_safety": "悦秀物业服务有限公司",
    "monthly_fire": "悦秀物业服务有限公司",
    "elevator_maintenance": "江城电梯维保有限公司",
}
HISTORY_DAYS = 730
# Made-up findings: (template, item, severity, note).
FINDINGS = {
    "quarterly_inspection": [
        ("structure.envelope", "minor", "北侧外墙渗水痕迹"),
        ("facilities.stair_lights", "minor", "5层声控灯不亮"),
        ("hygiene.corridors", "minor", "楼道堆放纸箱"),
        ("units.walls", "minor", "卫生间顶棚渗水"),
    ],
    "quarterly_safety": [
        ("falling.tiles", "major", "东立面12层外墙面砖空鼓"),
        ("falling.ac_brackets", "major", "空调外机支架锈蚀"),
        ("manholes.covers", "minor", "南侧雨水井盖松动"),
    ],
    "monthly_fire": [
        ("evacuation.routes", "major", "楼梯间堆放电动车"),
        ("evacuation.emergency_lights", "minor", "应急照明灯不亮"),
        ("equipment.extinguishers", "minor", "灭火器压力不足"),
        ("equipment.electrical", "major", "飞线充电"),
    ],
    "elevator_maintenance": [
        ("half_month.doors", "minor", "层门关门有卡阻"),
        ("half_month.leveling", "minor", "平层误差偏大"),
    ],
}


def _dates(template_id: str, today: date, rng: random.Random) -> list[date]:
    start = today - timedelta(days=HISTORY_DAYS)
    days: list[date] = []
    if template_id == "elevator_maintenance":
        day = start + timedelta(days=rng.randint(0, 6))
        while day <= today - timedelta(days=2):
            days.append(day)
            day += timedelta(days=14)
        return days
    months = 3 if template_id.startswith("quarterly") else 1
    month = date(start.year, start.month - (start.month - 1) % months, 1)
    while month <= today:
        day = month + timedelta(days=rng.randint(8, 20))
        if start <= day < today:
            days.append(day)
        year, m = divmod(month.month - 1 + months, 12)
        month = date(month.year + year, m + 1, 1)
    return days


def install_demo_inspections(session: Session, rng: random.Random) -> None:
    today = local_date(session.info["clock"].now())
    templates = load_all_templates()
    _forget(session)
    units = inspections.unit_places(session)
    this_quarter = date(today.year, today.month - (today.month - 1) % 3, 1)
    last_quarter = (this_quarter - timedelta(days=1)).replace(day=1)
    last_quarter = date(last_quarter.year, last_quarter.month - (last_quarter.month - 1) % 3, 1)
    for template in templates.values():
        scopes = inspections.places(units, template.scope)
        for day in _dates(template.id, today, rng):
            for scope in scopes:
                # The overdue one: 2栋's inspection record of last quarter was never done, nor this quarter's.
                if template.id == "quarterly_inspection" and scope.path == (2,) and day >= last_quarter:
                    continue
                _round(session, template.id, str(scope), day, today, rng)
                _forget(session)
    _grade_c_finding(session, today)
    _certificates(session, today)


def _forget(session: Session) -> None:
    """Write what is pending and empty the session: every flush (and so every autoflushing query) looks at
    every object the session holds, and the demo's households, bills and rounds are thousands of them. The
    rows are in the transaction; nothing here or in create_demo_station holds on to the objects."""
    session.flush()
    session.expunge_all()


def _round(
    session: Session, template_id: str, scope: str, day: date, today: date, rng: random.Random
) -> None:
    info = inspections.start_round(
        session, template_id, scope, DEMO_OPERATOR, INSPECTOR, PARTY[template_id], day
    )
    findings = FINDINGS.get(template_id, [])
    if findings and rng.random() < 0.35:
        item_id, severity, note = rng.choice(findings)
        template = load_all_templates()[template_id]
        item = template.item(item_id)
        where = [
            p
            for i, p in inspections.expected(
                session, inspections.find_round(session, info.round_no), template
            )
            if i.id == item_id
        ]
        place = rng.choice(where)
        hazard = inspections.record_result(
            session,
            info.round_no,
            inspections.Answer(
                item_id,
                str(place),
                Result.DEFECT.value,
                severity,
                "B" if item.structural else "",
                note,
                f"demo/{info.round_no}-{item_id}.jpg" if item.photo else "",
            ),
            DEMO_OPERATOR,
        )
        assert hazard is not None
        age = (today - day).days
        if age > 45 or (age > 10 and rng.random() < 0.5):
            fixed_on = min(day + timedelta(days=rng.randint(2, 25)), today)
            hazards.record_rectification(session, hazard.hazard_no, "责任方已整改", DEMO_OPERATOR)
            hazards.reinspect(session, hazard.hazard_no, True, "复查合格", DEMO_OPERATOR, fixed_on)
            hazards.close_hazard(session, hazard.hazard_no, DEMO_OPERATOR, fixed_on)
    inspections.record_rest_ok(session, info.round_no, DEMO_OPERATOR)
    inspections.close_round(session, info.round_no, DEMO_OPERATOR, day)


def _grade_c_finding(session: Session, today: date) -> None:
    """An open round of this quarter's safety check of 1栋 with a settlement graded C, escalated (S1)."""
    scope = "building:1"
    open_now = [r for r in inspections.list_rounds(session, open_only=True) if r.scope == scope]
    if open_now:
        return
    info = inspections.start_round(
        session, "quarterly_safety", scope, DEMO_OPERATOR, INSPECTOR, PARTY["quarterly_safety"], today
    )
    inspections.record_result(
        session,
        info.round_no,
        inspections.Answer(
            "settlement.settlement",
            scope,
            Result.DEFECT.value,
            "critical",
            "C",
            "1单元北侧散水与外墙脱开约3厘米，首层地面开裂",
            "demo/settlement.jpg",
        ),
        DEMO_OPERATOR,
    )


def _certificates(session: Session, today: date) -> None:
    units = inspections.unit_places(session)
    for number, entrance in enumerate(inspections.places(units, Level.ENTRANCE), start=1):
        expires = today + timedelta(days=20 if number == 1 else 120 + 40 * number)
        inspections.record_certificate(
            session, str(entrance), f"TSX4201-{today.year}-{number:04d}", expires, DEMO_OPERATOR
        )
