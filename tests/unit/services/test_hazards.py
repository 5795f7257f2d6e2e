"""Hazards to closure: 整改 → 验收 (a re-inspection) → closed, and the seam to the repair ledger."""

from __future__ import annotations

import sqlite3
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from yuexiu_desk.domain.access import system_operator
from yuexiu_desk.errors import UserError
from yuexiu_desk.paths import StationPaths
from yuexiu_desk.services import hazards as svc
from yuexiu_desk.services import inspections
from yuexiu_desk.storage.db import Store

OP = "测试"


def _hazard(session: Session) -> str:
    round_no = inspections.start_round(session, "monthly_fire", "building:2", OP).round_no
    hazard = inspections.record_result(
        session,
        round_no,
        inspections.Answer("equipment.extinguishers", "entrance:2-2", "defect", "minor", note="压力不足"),
        OP,
    )
    assert hazard is not None
    return hazard.hazard_no


def _state(paths: StationPaths, number: str) -> tuple[str, int]:
    with sqlite3.connect(paths.database) as conn:
        status, reinspections = conn.execute(
            "SELECT status, reinspections FROM hazard WHERE hazard_no = ?", (number,)
        ).fetchone()
    return str(status), int(reinspections)


def test_a_hazard_cannot_close_without_a_re_inspection_that_found_it_fixed(
    demo_store: Store, demo_paths: StationPaths
) -> None:
    with demo_store.unit_of_work(system_operator(OP)) as session:
        number = _hazard(session)
    with pytest.raises(UserError) as refused, demo_store.unit_of_work(system_operator(OP)) as session:
        svc.close_hazard(session, number, OP)
    assert "还没有复查验收合格，不能关闭" in refused.value.message
    assert _state(demo_paths, number) == ("open", 0)
    with demo_store.unit_of_work(system_operator(OP)) as session:
        svc.record_rectification(session, number, "已更换灭火器", OP)
        with pytest.raises(UserError, match="写明还存在什么问题"):
            svc.reinspect(session, number, False, "", OP)
        svc.reinspect(session, number, False, "仍有一具压力不足", OP)
    assert _state(demo_paths, number) == ("open", 1)
    with pytest.raises(UserError), demo_store.unit_of_work(system_operator(OP)) as session:
        svc.close_hazard(session, number, OP)
    with demo_store.unit_of_work(system_operator(OP)) as session:
        row = svc.reinspect(session, number, True, "", OP)
        assert row.status is svc.HazardStatus.VERIFIED
        closed = svc.close_hazard(session, number, OP)
        assert closed.status is svc.HazardStatus.CLOSED
    assert _state(demo_paths, number) == ("closed", 2)
    with pytest.raises(UserError, match="已经关闭"), demo_store.unit_of_work(system_operator(OP)) as session:
        svc.close_hazard(session, number, OP)


def test_a_re_inspection_in_the_future_or_before_the_finding_is_refused(demo_store: Store) -> None:
    with demo_store.unit_of_work(system_operator(OP)) as session:
        number = _hazard(session)
        today = svc.hazard_row(session, number).found_on
        with pytest.raises(UserError, match="晚于今天"):
            svc.reinspect(session, number, True, "", OP, today + timedelta(days=1))
        with pytest.raises(UserError, match="早于发现隐患"):
            svc.reinspect(session, number, True, "", OP, today - timedelta(days=1))


def test_the_list_puts_overdue_and_severe_first_and_open_only_hides_closed(demo_store: Store) -> None:
    with demo_store.read() as session:
        everything = svc.list_hazards(session)
        still_open = svc.list_hazards(session, open_only=True)
    assert any(r.status is svc.HazardStatus.CLOSED for r in everything)
    assert all(r.status is not svc.HazardStatus.CLOSED for r in still_open)
    assert still_open and still_open[0].severity.value == "critical"  # the demo's grade-C settlement
    assert set(still_open[0].as_json()) >= {
        "id",
        "unit_code",
        "location",
        "kind",
        "severity",
        "deadline",
        "status",
    }


def test_raise_work_order_stores_the_id_the_repair_ledger_returns_and_only_once(demo_store: Store) -> None:
    """The seam: any function (session, request, operator) → work-order id; services.workorders plugs in."""
    seen: list[svc.WorkOrderRequest] = []

    def create(session: Session, request: svc.WorkOrderRequest, operator: str) -> str:
        seen.append(request)
        return "WO-2026-0001"

    with demo_store.unit_of_work(system_operator(OP)) as session:
        number = _hazard(session)
        assert svc.raise_work_order(session, number, create, OP) == "WO-2026-0001"
        assert svc.hazard_row(session, number).work_order_id == "WO-2026-0001"
        with pytest.raises(UserError, match="已经生成过维修工单"):
            svc.raise_work_order(session, number, create, OP)
    (request,) = seen
    assert request.hazard_no == number and request.category == "public_area" and request.urgency == "normal"
    assert request.location_label == "2栋2单元" and request.unit_code == ""
    assert request.source == "inspection"


def test_a_hazard_raises_a_real_work_order_in_one_action(demo_store: Store) -> None:
    from yuexiu_desk.services import workorders

    with demo_store.unit_of_work(system_operator(OP)) as session:
        number = _hazard(session)
        order_no = svc.raise_repair(session, number, OP)
    with demo_store.read() as session:
        order = workorders.get_work_order(session, order_no)
        hazard = svc.hazard_row(session, number)
    assert hazard.work_order_id == order_no
    assert order.as_json()["hazard_id"] is not None and order.as_json()["location"] == "2栋2单元"
    assert order.as_json()["unit_code"] is None and order.as_json()["category"] == "public_area"
    assert number in order.description and order.as_json()["status"] == "reported"


def test_a_failing_work_order_service_leaves_the_hazard_without_an_id(demo_store: Store) -> None:
    with demo_store.unit_of_work(system_operator(OP)) as session:
        number = _hazard(session)

    def broken(session: Session, request: svc.WorkOrderRequest, operator: str) -> str:
        raise UserError("维修工单没有保存。")

    with pytest.raises(UserError), demo_store.unit_of_work(system_operator(OP)) as session:
        svc.raise_work_order(session, number, broken, OP)
    with demo_store.read() as session:
        assert svc.hazard_row(session, number).work_order_id is None


def test_unknown_hazard_numbers_are_named(demo_store: Store) -> None:
    with pytest.raises(UserError, match="没有编号为 YH1999-0001 的隐患"), demo_store.read() as session:
        svc.find_hazard(session, "YH1999-0001")
