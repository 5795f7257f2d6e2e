"""Check-in handover and move-out: every form item answered, readings compared, settlement to the fen."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from yuexiu_desk.clock import FixedClock, local_date
from yuexiu_desk.domain.access import system_operator
from yuexiu_desk.domain.leases import LeaseStatus
from yuexiu_desk.domain.money import format_yuan
from yuexiu_desk.domain.units import ChangeKind, UnitStatus
from yuexiu_desk.errors import UserError
from yuexiu_desk.formdefs import SectionType, load_form
from yuexiu_desk.services import handover as svc
from yuexiu_desk.services.form_print import print_form
from yuexiu_desk.services.leases import list_leases
from yuexiu_desk.services.units import unit_card
from yuexiu_desk.storage.db import Store
from yuexiu_desk.storage.models import Handover, Lease


def full_answers(kind: str, reading: str = "100.5", result_index: int = 0) -> dict[str, Any]:
    form = load_form(kind)
    readings = {
        f"{s.id}.{f.id}": reading for s in form.sections if s.type is SectionType.READINGS for f in s.fields
    }
    counts = {f"{s.id}.{f.id}": "2" for s in form.sections if s.type is SectionType.COUNTS for f in s.fields}
    results = {i.id: (i.results[result_index], "" if result_index == 0 else "有划痕") for i in form.items}
    return {"readings": readings, "counts": counts, "results": results}


@pytest.fixture
def lease(demo_store: Store) -> Lease:
    with demo_store.read() as session:
        row = next(r for r in list_leases(session, active_only=True) if r.deposit > 0)
        found = session.get(Lease, row.id)
    assert found is not None
    return found


def test_checkin_saves_every_answer_under_the_form_keys(
    demo_store: Store, lease: Lease, clock: FixedClock
) -> None:
    today = local_date(clock.now())
    with demo_store.unit_of_work(system_operator("李明")) as session:
        svc.record_checkin(
            session, lease.lease_no, svc.HandoverInput(today, **full_answers("checkin")), "李明"
        )
    with demo_store.read() as session:
        saved = svc.handover_values(session, lease.lease_no, "checkin")
    assert saved is not None
    form = load_form("checkin")
    assert {i.id for i in form.items} <= set(saved)
    assert saved["meters.water_meter"].reading_hundredths == 10050
    with pytest.raises(UserError, match="已办理入住交接"), demo_store.unit_of_work() as session:
        svc.record_checkin(session, lease.lease_no, svc.HandoverInput(today, **full_answers("checkin")), "x")


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ("drop_item", "未查验"),
        ("bad_result", "状况只能是"),
        ("damaged_without_note", "备注"),
        ("negative_reading", "不小于 0"),
        ("three_decimals", "两位小数"),
        ("unknown_key", "没有这些项目"),
        ("bad_count", "数量"),
    ],
)
def test_incomplete_or_wrong_checkins_save_nothing(
    demo_store: Store, lease: Lease, clock: FixedClock, change: str, words: str
) -> None:
    answers = full_answers("checkin")
    readings, counts, results = dict(answers["readings"]), dict(answers["counts"]), dict(answers["results"])
    first_item = next(iter(results))
    first_reading = next(iter(readings))
    item = next(i for i in load_form("checkin").items if i.id == first_item)
    if change == "drop_item":
        del results[first_item]
    elif change == "bad_result":
        results[first_item] = ("还行", "")
    elif change == "damaged_without_note":
        results[first_item] = (item.results[1], " ")
    elif change == "negative_reading":
        readings[first_reading] = "-1"
    elif change == "three_decimals":
        readings[first_reading] = "1.234"
    elif change == "unknown_key":
        results["attic.window"] = ("完好", "")
    elif change == "bad_count":
        counts[next(iter(counts))] = "两把"
    data = svc.HandoverInput(local_date(clock.now()), readings, counts, results)
    with pytest.raises(UserError, match=words), demo_store.unit_of_work() as session:
        svc.record_checkin(session, lease.lease_no, data, "x")
    with demo_store.read() as session:
        assert session.scalars(select(Handover)).all() == []


def test_moveout_settles_rent_to_the_day_damages_and_deposit_and_frees_the_unit(
    demo_store: Store, lease: Lease, clock: FixedClock
) -> None:
    today = local_date(clock.now())
    start = max(lease.start_date, today - timedelta(days=60))
    with demo_store.unit_of_work() as session:
        svc.record_checkin(
            session, lease.lease_no, svc.HandoverInput(start, **full_answers("checkin", "100")), "x"
        )
    move_out = today.replace(day=10) if today.day >= 10 else today
    data = svc.MoveOutInput(
        held_on=today,
        move_out_date=move_out,
        damages=[("卫生间镜子破裂", "120.00"), ("入户门锁损坏", "85.5")],
        **full_answers("moveout", "180.25"),
    )
    with demo_store.unit_of_work(system_operator("李明")) as session:
        settlement = svc.record_moveout(session, lease.lease_no, data, "李明")
    days = move_out.day
    import calendar

    month_days = calendar.monthrange(move_out.year, move_out.month)[1]
    expected_rent = (lease.monthly_rent_fen * days * 2 + month_days) // (2 * month_days)  # half up
    assert settlement.rent_to_day_fen == expected_rent
    assert settlement.damages_fen == 20550
    assert settlement.balance_fen == lease.deposit_fen - expected_rent - 20550
    with demo_store.read() as session:
        ended = session.get(Lease, lease.id)
        assert ended is not None and ended.status == LeaseStatus.ENDED.value and ended.ended_on == move_out
        card = unit_card(session, lease.unit_id)
    assert card.row.status is UnitStatus.VACANT
    assert card.history[0].kind is ChangeKind.MOVE_OUT and lease.lease_no in card.history[0].reason


def test_moveout_readings_lower_than_at_checkin_need_a_meter_replacement_confirmation(
    demo_store: Store, lease: Lease, clock: FixedClock
) -> None:
    today = local_date(clock.now())
    with demo_store.unit_of_work() as session:
        svc.record_checkin(
            session, lease.lease_no, svc.HandoverInput(today, **full_answers("checkin", "500")), "x"
        )
    data = svc.MoveOutInput(held_on=today, **full_answers("moveout", "20"))
    with pytest.raises(UserError, match="换过表"), demo_store.unit_of_work() as session:
        svc.record_moveout(session, lease.lease_no, data, "x")
    with demo_store.read() as session:
        assert session.get(Lease, lease.id).status == LeaseStatus.ACTIVE.value  # type: ignore[union-attr]
    with demo_store.unit_of_work() as session:
        svc.record_moveout(
            session, lease.lease_no, dataclasses.replace(data, confirm_lower_readings=True), "x"
        )


def test_moveout_to_repair_and_bad_dates(demo_store: Store, lease: Lease, clock: FixedClock) -> None:
    today = local_date(clock.now())
    answers = full_answers("moveout")
    early = svc.MoveOutInput(held_on=today, move_out_date=lease.start_date - timedelta(days=1), **answers)
    with pytest.raises(UserError, match="早于合同开始日期"), demo_store.unit_of_work() as session:
        svc.record_moveout(session, lease.lease_no, early, "x")
    future = svc.MoveOutInput(held_on=today + timedelta(days=1), **answers)
    with pytest.raises(UserError, match="晚于今天"), demo_store.unit_of_work() as session:
        svc.record_moveout(session, lease.lease_no, future, "x")
    repair = svc.MoveOutInput(held_on=today, unit_after=UnitStatus.UNDER_REPAIR, **answers)
    with demo_store.unit_of_work() as session:
        svc.record_moveout(session, lease.lease_no, repair, "x")
        code = session.get(Lease, lease.id).unit_id  # type: ignore[union-attr]
    with demo_store.read() as session:
        assert unit_card(session, code).row.status is UnitStatus.UNDER_REPAIR
    with pytest.raises(UserError, match="没有编号"), demo_store.unit_of_work() as session:
        svc.record_moveout(session, lease.lease_no, repair, "x")


def _pdf_text(path: Path) -> str:
    import pypdfium2

    document = pypdfium2.PdfDocument(str(path))
    try:
        return "".join(page.get_textpage().get_text_range() for page in document)
    finally:
        document.close()


def test_the_printed_moveout_form_shows_checkin_values_beside_moveout_values_and_the_settlement(
    demo_store: Store, lease: Lease, clock: FixedClock, tmp_path: Path
) -> None:
    today = local_date(clock.now())
    with demo_store.unit_of_work() as session:
        svc.record_checkin(
            session,
            lease.lease_no,
            svc.HandoverInput(lease.start_date, **full_answers("checkin", "123.4")),
            "x",
        )
    data = svc.MoveOutInput(
        held_on=today, damages=[("卫生间镜子破裂", "120")], **full_answers("moveout", "456.7")
    )
    with demo_store.unit_of_work() as session:
        settlement = svc.record_moveout(session, lease.lease_no, data, "x")
    with demo_store.read() as session:
        checkin_pdf = print_form(session, "checkin", tmp_path / "in.pdf", lease_no=lease.lease_no).path
        moveout_pdf = print_form(session, "moveout", tmp_path / "out.pdf", lease_no=lease.lease_no).path
    checkin_text = _pdf_text(checkin_pdf)
    assert "123.40" in checkin_text and "456.70" not in checkin_text
    moveout_text = _pdf_text(moveout_pdf)
    assert "入住时" in moveout_text and "退出时" in moveout_text
    assert "123.40" in moveout_text and "456.70" in moveout_text  # both columns filled from the records
    assert "卫生间镜子破裂" in moveout_text and "120.00" in moveout_text
    assert format_yuan(abs(settlement.balance_fen)) in moveout_text


def test_moving_out_after_a_termination_keeps_why_the_lease_ended(
    demo_store: Store, lease: Lease, clock: FixedClock
) -> None:
    from yuexiu_desk.domain.leases import TerminationKind
    from yuexiu_desk.services.leases import terminate_lease

    today = local_date(clock.now())
    with demo_store.unit_of_work() as session:
        terminate_lease(session, lease.lease_no, TerminationKind.OTHER_HOME, today, "已购买商品房", "x")
        svc.record_moveout(
            session, lease.lease_no, svc.MoveOutInput(held_on=today, **full_answers("moveout")), "x"
        )
    with demo_store.read() as session:
        ended = session.get(Lease, lease.id)
        assert ended is not None
        assert (ended.status, ended.end_kind, ended.ended_on) == (
            LeaseStatus.ENDED.value,
            "other_home",
            today,
        )
        assert unit_card(session, ended.unit_id).row.status is UnitStatus.VACANT


def test_a_checkin_stays_with_the_lease_through_a_change_of_version(
    demo_store: Store, lease: Lease, clock: FixedClock
) -> None:
    """A tier change makes a new lease version; the tenancy's check-in is still found, and not done twice."""
    from yuexiu_desk.domain.leases import RentTier
    from yuexiu_desk.services.leases import change_rent_tier

    today = local_date(clock.now())
    with demo_store.unit_of_work(system_operator("李明")) as session:
        svc.record_checkin(
            session, lease.lease_no, svc.HandoverInput(today, **full_answers("checkin")), "李明"
        )
        other = RentTier.LOW_INCOME if lease.rent_tier == RentTier.STANDARD.value else RentTier.STANDARD
        change_rent_tier(session, lease.lease_no, other, today, "复核结论 2026-9", "李明")
    with pytest.raises(UserError, match="已办理入住交接"), demo_store.unit_of_work() as session:
        svc.record_checkin(
            session, lease.lease_no, svc.HandoverInput(today, **full_answers("checkin")), "李明"
        )
    with demo_store.read() as session:
        saved = svc.handover_values(session, lease.lease_no, "checkin")
    assert saved is not None and saved["meters.water_meter"].reading_hundredths == 10050
