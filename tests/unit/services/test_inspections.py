"""Inspection rounds: what is due (S2 monthly fire checks, S5 elevator visits every 15 days, S9 quarterly),
rounds for a scope, answers by item or after a scan, closing, hazards from defects (S1 grades), the quarter."""

from __future__ import annotations

import sqlite3
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from yuexiu_desk.clock import FixedClock, local_date
from yuexiu_desk.domain.access import system_operator
from yuexiu_desk.errors import UserError
from yuexiu_desk.inspection_templates import Level, Scope, Severity, load_template
from yuexiu_desk.paths import StationPaths
from yuexiu_desk.services import hazards
from yuexiu_desk.services import inspections as svc
from yuexiu_desk.storage.db import Store
from yuexiu_desk.storage.inspection_models import Hazard, InspectionResult, InspectionRound
from yuexiu_desk.storage.models import ChangeJournal

OP = "测试"


def count(paths: StationPaths, table: str) -> int:
    with sqlite3.connect(paths.database) as conn:
        return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def _fresh_round(session: Session, template: str = "quarterly_safety", scope: str = "building:2") -> str:
    for running in svc.list_rounds(session, open_only=True):
        if running.template == template and running.scope == scope:
            return running.round_no
    return svc.start_round(session, template, scope, OP, "王建国", "悦秀物业").round_no


def test_the_demo_has_one_overdue_round_and_every_template_is_scheduled_per_place(demo_store: Store) -> None:
    """S9: the quarterly inspection of 2栋 was missed last quarter, so it is overdue; nothing else is."""
    with demo_store.read() as session:
        rows = svc.due(session)
    overdue = [(r.template, r.scope) for r in rows if r.overdue]
    assert overdue == [("quarterly_inspection", "building:2")]
    scopes = {(r.template, r.scope) for r in rows}
    assert ("elevator_maintenance", "entrance:2-2") in scopes
    assert ("monthly_fire", "building:1") in scopes
    assert rows[0].overdue  # overdue first


def test_s2_monthly_fire_check_is_due_by_the_end_of_the_next_month() -> None:
    cadence = load_template("monthly_fire").cadence
    assert cadence.due_date(date(2026, 10, 15), date(2026, 11, 20)) == date(2026, 11, 30)
    assert cadence.due_date(date(2026, 9, 10), date(2026, 11, 20)) == date(2026, 10, 31)  # overdue
    assert cadence.due_date(None, date(2026, 11, 20)) == date(2026, 11, 30)


def test_s5_elevator_visit_is_due_15_days_after_the_last_one() -> None:
    template = load_template("elevator_maintenance")
    assert template.cadence.due_date(date(2026, 11, 1), date(2026, 11, 20)) == date(2026, 11, 16)
    assert template.certificate_alert_days == 30


def test_s9_quarterly_check_is_due_by_the_end_of_the_next_quarter() -> None:
    cadence = load_template("quarterly_safety").cadence
    assert cadence.due_date(date(2026, 8, 3), date(2026, 11, 20)) == date(2026, 12, 31)
    assert cadence.due_date(date(2026, 4, 3), date(2026, 11, 20)) == date(2026, 9, 30)


def test_a_round_asks_every_item_at_every_place_of_its_level(demo_store: Store) -> None:
    with demo_store.unit_of_work(system_operator(OP)) as session:
        round_no = svc.start_round(session, "quarterly_inspection", "building:1", OP).round_no
        items = svc.round_items(session, round_no)
    template = load_template("quarterly_inspection")
    per = {item.id: item.per for item in template.items}
    units = [i for i in items if per[i.item_id] is Level.UNIT]
    assert len({i.location for i in units}) == 96  # 1栋 has 96 units
    assert {i.location for i in items if per[i.item_id] is Level.ENTRANCE} == {"entrance:1-1", "entrance:1-2"}


def test_a_round_for_the_wrong_level_or_a_place_that_does_not_exist_is_refused(demo_store: Store) -> None:
    with demo_store.unit_of_work(system_operator(OP)) as session:
        with pytest.raises(UserError, match="按楼栋检查"):
            svc.start_round(session, "quarterly_inspection", "entrance:1-1", OP)
        with pytest.raises(UserError, match="本站没有"):
            svc.start_round(session, "quarterly_inspection", "building:9", OP)
        with pytest.raises(UserError, match="范围“楼1”不对"):
            svc.start_round(session, "quarterly_inspection", "楼1", OP)


def test_a_scan_jumps_to_the_units_items_and_one_outside_the_scope_is_offered_to_add(
    demo_store: Store,
) -> None:
    with demo_store.unit_of_work(system_operator(OP)) as session:
        round_no = svc.start_round(session, "quarterly_inspection", "building:1", OP).round_no
        place, items = svc.scan(session, round_no, "1-2-1603")
        assert str(place) == "unit:1-2-1603"
        locations = {i.location for i in items}
        assert locations == {"building:1", "entrance:1-2", "unit:1-2-1603"}
        with pytest.raises(svc.OutsideScope) as outside:
            svc.scan(session, round_no, "2-1-301")
        assert "不在本轮检查" in outside.value.message and "加入本轮" in outside.value.message
        assert str(outside.value.place) == "unit:2-1-301"
        before = svc.round_info(session, svc.find_round(session, round_no)).expected
        info = svc.add_to_scope(session, round_no, str(outside.value.place), OP)
        assert info.expected == before + 2  # the two unit items of 2-1-301
        _place, items = svc.scan(session, round_no, "2-1-301")
        assert {i.location for i in items} == {"unit:2-1-301"}
        with pytest.raises(UserError, match="已在本轮检查范围内"):
            svc.add_to_scope(session, round_no, "1-1-101", OP)


def test_closing_a_round_with_unanswered_items_names_how_many_and_changes_nothing(
    demo_store: Store, demo_paths: StationPaths
) -> None:
    with demo_store.unit_of_work(system_operator(OP)) as session:
        round_no = svc.start_round(session, "quarterly_safety", "building:2", OP).round_no
        svc.record_result(session, round_no, svc.Answer("manholes.covers", "building:2", "ok"), OP)
    journal = count(demo_paths, "change_journal")
    with pytest.raises(UserError) as refused, demo_store.unit_of_work(system_operator(OP)) as session:
        svc.close_round(session, round_no, OP)
    expected = len(load_template("quarterly_safety").items) - 2 + 2 * 2  # 2 elevator items × 2 entrances
    assert f"还有 {expected - 1} 项未填写" in refused.value.message
    assert count(demo_paths, "change_journal") == journal
    with demo_store.read() as session:
        assert svc.find_round(session, round_no).status == "open"


def test_a_defect_opens_a_hazard_with_a_deadline_by_severity_from_the_settings(demo_store: Store) -> None:
    with demo_store.unit_of_work(system_operator(OP)) as session:
        round_no = _fresh_round(session)
        hazard = svc.record_result(
            session,
            round_no,
            svc.Answer(
                "falling.ac_brackets", "building:2", "defect", "较大", note="支架锈蚀", photo_path="a.jpg"
            ),
            OP,
        )
        assert hazard is not None
        assert hazard.severity == "major" and hazard.responsible == "property" and hazard.kind == "falling"
        assert hazard.deadline == hazard.found_on + timedelta(
            days=hazards.DEFAULT_DEADLINE_DAYS[Severity.MAJOR]
        )
        hazards.set_deadline_days(session, {Severity.MAJOR: 3})
        again = svc.record_result(
            session,
            round_no,
            svc.Answer(
                "falling.ac_brackets", "building:2", "defect", "major", note="支架锈蚀", photo_path="a.jpg"
            ),
            OP,
        )
        assert again is not None and again.id == hazard.id  # corrected, not duplicated
        assert again.deadline == again.found_on + timedelta(days=3)
        # Re-recorded as ok in the same round: the hazard was a mistake and goes.
        svc.record_result(session, round_no, svc.Answer("falling.ac_brackets", "building:2", "ok"), OP)
        assert session.get(Hazard, hazard.id) is None


def test_bad_answers_are_one_sentence_each(demo_store: Store) -> None:
    with demo_store.unit_of_work(system_operator(OP)) as session:
        round_no = _fresh_round(session)
        cases = [
            (
                svc.Answer("falling.tiles", "building:2", "defect", "", note="x", photo_path="p.jpg"),
                "严重程度",
            ),
            (svc.Answer("falling.tiles", "building:2", "defect", "minor", note="x"), "须拍照"),
            (svc.Answer("falling.tiles", "building:2", "defect", "minor", photo_path="p.jpg"), "写明部位"),
            (
                svc.Answer("settlement.tilt", "building:2", "defect", "minor", note="x", photo_path="p"),
                "危险等级",
            ),
            (svc.Answer("falling.tiles", "building:2", "maybe"), "检查结果“maybe”不对"),
            (svc.Answer("falling.tiles", "entrance:2-1", "ok"), "没有在 2栋1单元 检查"),
            (svc.Answer("falling.nothing", "building:2", "ok"), "没有检查项"),
            (svc.Answer("falling.tiles", "building:2", "ok", "minor"), "不需要严重程度"),
        ]
        for answer, words in cases:
            with pytest.raises(UserError) as caught:
                svc.record_result(session, round_no, answer, OP)
            assert words in caught.value.message, caught.value.message
            assert caught.value.message.count("。") == 1


def test_s1_a_grade_c_or_d_escalates_to_the_manager_at_once(demo_store: Store) -> None:
    with demo_store.unit_of_work(system_operator(OP)) as session:
        round_no = _fresh_round(session)
        before = {h.hazard_no for h in hazards.manager_alerts(session)}
        grade_b = svc.record_result(
            session,
            round_no,
            svc.Answer("settlement.tilt", "building:2", "defect", "major", "B", "轻微倾斜", "t.jpg"),
            OP,
        )
        grade_d = svc.record_result(
            session,
            round_no,
            svc.Answer("falling.parapet", "building:2", "defect", "critical", "D", "女儿墙开裂", "p.jpg"),
            OP,
        )
        assert grade_b is not None and grade_b.escalated_at is None
        assert grade_d is not None and grade_d.escalated_at == session.info["clock"].now()
        alerts = {h.hazard_no for h in hazards.manager_alerts(session)} - before
        assert alerts == {grade_d.hazard_no}
        hazards.acknowledge_alert(session, grade_d.hazard_no, "站长")
        assert grade_d.hazard_no not in {h.hazard_no for h in hazards.manager_alerts(session)}


def test_rounds_results_and_hazards_are_journaled_with_uuid_keys(demo_store: Store) -> None:
    with demo_store.unit_of_work(system_operator(OP)) as session:
        round_no = _fresh_round(session, "monthly_fire", "building:2")
        svc.record_result(
            session,
            round_no,
            svc.Answer("site.fire_lane", "building:2", "defect", "major", "", "占用", "f.jpg"),
            OP,
        )
        svc.record_rest_ok(session, round_no, OP)
        svc.close_round(session, round_no, OP)
    with demo_store.read() as session:
        round_ = svc.find_round(session, round_no)
        results = session.scalars(
            select(InspectionResult.id).where(InspectionResult.round_id == round_.id)
        ).all()
        journaled = set(
            session.scalars(
                select(ChangeJournal.record_id).where(ChangeJournal.table_name == "inspection_result")
            )
        )
        assert set(results) <= journaled
        for table in ("inspection_round", "hazard"):
            assert session.scalar(select(func.count()).where(ChangeJournal.table_name == table)) > 0
        assert round_.status == "closed"


def test_an_ok_answer_in_a_later_round_re_inspects_the_places_open_hazard(
    demo_paths: StationPaths, clock: FixedClock
) -> None:
    store = Store.open(demo_paths, clock)
    try:
        with store.unit_of_work(system_operator(OP)) as session:
            round_no = _fresh_round(session, "monthly_fire", "building:2")
            hazard = svc.record_result(
                session,
                round_no,
                svc.Answer("evacuation.signs", "entrance:2-1", "defect", "minor", note="指示标志损坏"),
                OP,
            )
            assert hazard is not None
            svc.record_rest_ok(session, round_no, OP)
            svc.close_round(session, round_no, OP)
            number = hazard.hazard_no
        clock.advance(timedelta(days=30))
        with store.unit_of_work(system_operator(OP)) as session:
            later = svc.start_round(session, "monthly_fire", "building:2", OP).round_no
            svc.record_rest_ok(session, later, OP)
            row = hazards.hazard_row(session, number)
            assert row.status is hazards.HazardStatus.VERIFIED
            hazards.close_hazard(session, number, OP)
    finally:
        store.close()


def test_the_quarter_report_counts_rounds_items_defects_and_hazards(demo_store: Store) -> None:
    with demo_store.read() as session:
        report = svc.quarter_report(session, "2026-Q3")
        rounds = session.scalars(
            select(InspectionRound).where(
                InspectionRound.closed_on >= date(2026, 7, 1), InspectionRound.closed_on <= date(2026, 9, 30)
            )
        ).all()
    by = {t.template: t for t in report.templates}
    assert by["quarterly_inspection"].due == 2 and by["quarterly_inspection"].done == 1  # 2栋 missed (S9)
    assert by["monthly_fire"].due == 6 and by["monthly_fire"].done == 6  # S2: monthly × 2 buildings
    assert by["elevator_maintenance"].due == 4 * 7  # S5: 92 days / 15, per elevator
    assert report.rounds_done == len(rounds)
    assert report.items_checked > 0
    assert sum(report.defects_by_kind.values()) == sum(t.defects for t in report.templates)
    assert sum(report.defects_by_building.values()) == sum(t.defects for t in report.templates)
    with pytest.raises(UserError, match="YYYY-Qn"):
        svc.parse_quarter("2026-Q5")


def test_scope_strings_round_trip() -> None:
    for text in ("estate", "building:1", "entrance:1-2", "floor:1-2-16", "unit:1-2-1603"):
        assert str(Scope.parse(text)) == text
    assert Scope.parse("unit:1-2-1603").label == "1-2-1603"
    assert Scope.parse("building:1").contains(Scope.parse("unit:1-2-1603"))
    assert not Scope.parse("building:2").contains(Scope.parse("unit:1-2-1603"))


def test_a_hazard_past_its_deadline_counts_as_overdue_until_a_re_inspection_finds_it_fixed(
    demo_paths: StationPaths, clock: FixedClock
) -> None:
    store = Store.open(demo_paths, clock)
    try:
        with store.unit_of_work(system_operator(OP)) as session:
            round_no = _fresh_round(session, "monthly_fire", "building:1")
            hazard = svc.record_result(
                session,
                round_no,
                svc.Answer("equipment.extinguishers", "entrance:1-1", "defect", "critical", note="失效"),
                OP,
            )
            assert hazard is not None
            number, deadline = hazard.hazard_no, hazard.deadline
            assert not hazards.hazard_row(session, number).overdue
        clock.advance(timedelta(days=(deadline - local_date(clock.now())).days + 2))
        with store.unit_of_work(system_operator(OP)) as session:
            overdue = svc.quarter_report(session, "2026-Q4").hazards_overdue
            assert overdue >= 1
            assert hazards.hazard_row(session, number).overdue
            hazards.reinspect(session, number, True, "", OP)
            assert svc.quarter_report(session, "2026-Q4").hazards_overdue == overdue - 1
            assert not hazards.hazard_row(session, number).overdue
    finally:
        store.close()


def test_a_place_may_be_typed_as_a_plain_unit_code(demo_store: Store) -> None:
    with demo_store.unit_of_work(system_operator(OP)) as session:
        round_no = svc.start_round(session, "quarterly_inspection", "building:1", OP).round_no
        items = svc.round_items(session, round_no, "1-1-101")
        assert {i.location for i in items} == {"building:1", "entrance:1-1", "unit:1-1-101"}
        assert svc.record_rest_ok(session, round_no, OP, "1-1-101") == len(items)
        svc.record_result(session, round_no, svc.Answer("units.walls", "1-1-102", "na", note="无人在家"), OP)


def test_a_unit_of_a_building_added_to_the_round_scans_into_it(demo_store: Store) -> None:
    from yuexiu_desk.services.lookup import unit_payload
    from yuexiu_desk.services.units import find_unit_id_by_code

    with demo_store.unit_of_work(system_operator(OP)) as session:
        round_no = svc.start_round(session, "quarterly_inspection", "building:1", OP).round_no
        with pytest.raises(svc.OutsideScope):
            svc.scan(session, round_no, "2-1-101")
        svc.add_to_scope(session, round_no, "building:2", OP)
        payload = unit_payload("YXY01", find_unit_id_by_code(session, "2-1-1204"))
        place, items = svc.scan(session, round_no, payload)
    assert str(place) == "unit:2-1-1204" and any(i.location_label == "2-1-1204" for i in items)
