"""Complaints and suggestions: intake with a time limit by category, handling notes, the reply, the return
visit (satisfaction 1–5, only after a reply), overdue ones first, and personal data shown masked only."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from yuexiu_desk.clock import FixedClock
from yuexiu_desk.domain.access import system_operator
from yuexiu_desk.domain.repairs import ComplaintStatus
from yuexiu_desk.errors import UserError
from yuexiu_desk.services import complaints as svc
from yuexiu_desk.storage.db import Store
from yuexiu_desk.storage.repair_models import Complaint, ComplaintNote

OPERATOR = "吴站长"


def _add(store: Store, **kwargs: object) -> str:
    fields: dict[str, object] = {
        "channel": "phone",
        "category": "environment",
        "content": "垃圾清运不及时，有异味",
        "operator": OPERATOR,
        "complainant": "张建国",
        "phone": "13871234567",
        "unit_code": "1-2-1603",
    }
    fields.update(kwargs)
    with store.unit_of_work(system_operator(OPERATOR)) as session:
        return svc.add_complaint(session, **fields).number  # type: ignore[arg-type]


def test_a_complaint_from_intake_to_return_visit(demo_store: Store, clock: FixedClock) -> None:
    number = _add(demo_store)
    with demo_store.read() as session:
        row = svc.get_complaint(session, number)
    assert row.due_at - row.received_at == timedelta(days=3)  # 环境卫生: 3 days [U]
    assert (row.complainant, row.phone) == ("张**", "138****4567")
    assert "张建国" not in str(row.as_json()) and "13871234567" not in str(row.as_json())
    clock.advance(timedelta(hours=5))
    with demo_store.unit_of_work(system_operator(OPERATOR)) as session:
        row = svc.add_note(session, number, "已联系物业增加清运", OPERATOR, handler="周管家")
    assert (row.status, row.handler) == (ComplaintStatus.HANDLING, "周管家")
    clock.advance(timedelta(days=1))
    with demo_store.unit_of_work(system_operator(OPERATOR)) as session:
        row = svc.reply(session, number, "已协调物业每日清运两次", OPERATOR, public_result="已增加清运次数。")
    assert row.status is ComplaintStatus.REPLIED and not row.overdue
    clock.advance(timedelta(days=3))
    with demo_store.unit_of_work(system_operator(OPERATOR)) as session:
        row = svc.return_visit(session, number, 5, OPERATOR, comment="满意")
        assert svc.notes(session, number)[0][2] == "已联系物业增加清运"
    assert (row.status, row.satisfaction) == (ComplaintStatus.CLOSED, 5)


def _counts(store: Store) -> tuple[int, int]:
    with store.read() as session:
        return (
            session.scalar(select(func.count()).select_from(Complaint)) or 0,
            session.scalar(select(func.count()).select_from(ComplaintNote)) or 0,
        )


def test_a_return_visit_before_the_reply_or_outside_1_to_5_is_refused_and_nothing_is_saved(
    demo_store: Store,
) -> None:
    number = _add(demo_store)
    before = _counts(demo_store)
    with (
        pytest.raises(UserError, match="还没有答复（已受理），答复后才能回访"),
        demo_store.unit_of_work() as session,
    ):
        svc.return_visit(session, number, 5, OPERATOR)
    with demo_store.unit_of_work(system_operator(OPERATOR)) as session:
        svc.reply(session, number, "已处理", OPERATOR)
    for bad in (0, 6):
        with pytest.raises(UserError, match="1 到 5 之间"), demo_store.unit_of_work() as session:
            svc.return_visit(session, number, bad, OPERATOR)
    assert _counts(demo_store) == before
    with demo_store.read() as session:
        assert svc.get_complaint(session, number).status is ComplaintStatus.REPLIED


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"content": " "}, "请写明投诉或建议的内容"),
        ({"channel": "传真"}, "没有“传真”这种投诉渠道"),
        ({"category": "噪音"}, "没有“噪音”这种投诉类别"),
        ({"phone": "12345"}, "电话“12345”格式不对"),
    ],
)
def test_bad_intake_is_one_sentence_and_saves_nothing(
    demo_store: Store, changes: dict[str, str], words: str
) -> None:
    before = _counts(demo_store)
    with pytest.raises(UserError, match=words):
        _add(demo_store, **changes)
    assert _counts(demo_store) == before


def test_overdue_unanswered_complaints_come_first(demo_store: Store, clock: FixedClock) -> None:
    late = _add(demo_store, category="safety", received_at=clock.now() - timedelta(days=2))  # limit 1 day
    fresh = _add(demo_store, category="suggestion", complainant="", phone="", unit_code=None)
    with demo_store.read() as session:
        rows = svc.list_complaints(session, open_only=True)
    numbers = [r.number for r in rows]
    assert rows[0].overdue and numbers.index(late) < numbers.index(fresh)
    assert all(r.overdue for r in rows[: numbers.index(late) + 1])
    unanswered = [r.status in (ComplaintStatus.RECEIVED, ComplaintStatus.HANDLING) for r in rows]
    assert unanswered == sorted(unanswered, reverse=True)  # all unanswered before any answered
    anonymous = next(r for r in rows if r.number == fresh)
    assert (anonymous.complainant, anonymous.phone, anonymous.unit_code) == ("", "", "")
