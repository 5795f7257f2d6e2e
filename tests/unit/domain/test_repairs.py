"""The repair and complaint rules: seasons, satisfaction 1–5, which step may follow which, [U] targets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from yuexiu_desk.domain.repairs import (
    DEFAULT_COMPLAINT_RULES,
    DEFAULT_REPAIR_RULES,
    ComplaintCategory,
    EventKind,
    Urgency,
    WorkOrderStatus,
    check_satisfaction,
    check_transition,
    parse_category,
    season_of,
)
from yuexiu_desk.errors import UserError


def test_seasons_follow_the_chinese_calendar_of_months() -> None:
    assert [season_of(m) for m in range(1, 13)] == list("冬冬春春春夏夏夏秋秋秋冬")


@pytest.mark.parametrize("value", [0, 6, -1, 10])
def test_a_satisfaction_outside_1_to_5_is_one_clear_sentence(value: int) -> None:
    with pytest.raises(UserError, match=f"1 到 5 之间的整数.*现在是 {value}"):
        check_satisfaction(value)


def test_satisfaction_1_and_5_are_accepted() -> None:
    assert (check_satisfaction(1), check_satisfaction(5)) == (1, 5)


def test_a_follow_up_before_completion_is_refused_with_the_current_status() -> None:
    for status in (WorkOrderStatus.REPORTED, WorkOrderStatus.DISPATCHED, WorkOrderStatus.IN_PROGRESS):
        with pytest.raises(UserError, match=f"还未完工（{status.label}），完工后才能回访"):
            check_transition(EventKind.FOLLOW_UP, status, "WX-1")
    check_transition(EventKind.FOLLOW_UP, WorkOrderStatus.COMPLETED, "WX-1")


def test_completion_needs_a_dispatch_first() -> None:
    with pytest.raises(UserError, match="不能完工（只能在已派单、维修中时完工）"):
        check_transition(EventKind.COMPLETE, WorkOrderStatus.REPORTED, "WX-1")


def test_default_targets_are_the_u_defaults_of_the_brief() -> None:
    at = datetime(2026, 7, 1, 2, 0, tzinfo=UTC)
    rules = DEFAULT_REPAIR_RULES
    assert rules.response_due(Urgency.URGENT, at) - at == timedelta(hours=2)
    assert rules.completion_due(Urgency.URGENT, at) - at == timedelta(hours=24)
    assert rules.completion_due(Urgency.NORMAL, at) - at == timedelta(days=3)
    assert rules.completion_due(Urgency.PLANNED, at) - at == timedelta(days=15)
    assert DEFAULT_COMPLAINT_RULES.due(ComplaintCategory.SAFETY, at) - at == timedelta(days=1)


def test_categories_are_read_by_code_or_chinese_label() -> None:
    assert parse_category("给排水") == parse_category("plumbing")
    with pytest.raises(UserError, match="没有“屋顶”这种维修类别"):
        parse_category("屋顶")
