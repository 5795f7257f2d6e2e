"""Two years of made-up repair and complaint history for the demo station.

The patterns are the ones a station manager would look for in the statistics: plumbing peaks in summer and
on the top floors (water pressure, roof tanks), a leaking drain stack in 1栋2单元 (room 03 on every floor
reports again and again), seepage and doors and windows in the plum-rain season (梅雨, June–July), heaters
tripping circuits in winter, elevator faults all year; most orders on time, some late (SLA breaches),
a few reopened after the follow-up visit. Complaints come by every channel, most answered and visited,
one still open past its time limit.

Rows are built directly (one flush) rather than step by step through the services, so that `demo` stays
fast; they are the rows the services would write, events and change journal included, and the statistics'
summary of the orders is then rebuilt from them.
"""

from __future__ import annotations

import random
import uuid
from collections import Counter as Tally
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from yuexiu_desk.clock import local_date
from yuexiu_desk.domain.repairs import (
    DEFAULT_COMPLAINT_RULES,
    DEFAULT_REPAIR_RULES,
    AssigneeKind,
    ComplaintCategory,
    ComplaintChannel,
    ComplaintStatus,
    EventKind,
    Payer,
    RepairCategory,
    Urgency,
    WorkOrderChannel,
    WorkOrderStatus,
)
from yuexiu_desk.services import people
from yuexiu_desk.services.repair_summary import rebuild_repair_summary
from yuexiu_desk.storage.billing_models import Counter
from yuexiu_desk.storage.models import Building, Station, Unit
from yuexiu_desk.storage.repair_models import Complaint, ComplaintNote, WorkOrder, WorkOrderEvent

DEMO_OPERATOR = "演示数据"
HISTORY_DAYS = 730
ORDERS = 420
COMPLAINTS = 48
_C = RepairCategory
# Relative weight of each category per month (Jan … Dec).
_SEASONS: dict[RepairCategory, tuple[int, ...]] = {
    _C.PLUMBING: (5, 5, 5, 6, 8, 12, 14, 14, 9, 6, 5, 5),
    _C.ELECTRICAL: (8, 7, 4, 3, 3, 5, 8, 8, 4, 3, 4, 8),
    _C.DOORS_WINDOWS: (2, 2, 3, 4, 5, 7, 6, 4, 3, 2, 2, 2),
    _C.WALLS: (1, 1, 2, 3, 4, 7, 6, 3, 2, 1, 1, 1),
    _C.ELEVATOR: (3, 3, 3, 3, 3, 4, 4, 4, 3, 3, 3, 3),
    _C.PUBLIC_AREA: (2, 2, 2, 2, 2, 3, 3, 3, 2, 2, 2, 2),
    _C.GAS: (2, 2, 1, 1, 1, 0, 0, 0, 1, 1, 1, 2),
    _C.OTHER: (1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1),
}
_DESCRIPTIONS: dict[RepairCategory, tuple[str, ...]] = {
    _C.PLUMBING: (
        "卫生间下水管漏水，楼下天花板渗水",
        "厨房水龙头关不紧，一直滴水",
        "马桶水箱进水阀坏，不停流水",
        "热水器进水角阀漏水",
        "水压太低，洗澡出水很小",
        "地漏堵塞，卫生间积水",
    ),
    _C.ELECTRICAL: (
        "卧室插座没电",
        "空调插座跳闸，开空调就断电",
        "客厅吊灯不亮，换灯泡也不行",
        "电取暖器一开就跳闸",
        "入户配电箱漏电保护器频繁跳闸",
    ),
    _C.DOORS_WINDOWS: (
        "卧室窗户关不严，下雨往里渗水",
        "入户防盗门锁芯坏，钥匙拧不动",
        "阳台推拉窗滑轮坏，推不动",
        "卫生间门把手脱落",
    ),
    _C.WALLS: ("外墙渗水，卧室墙面发霉起皮", "卫生间墙砖空鼓脱落", "厨房顶棚粉刷层脱落"),
    _C.ELEVATOR: ("电梯到 12 层开门不平层", "电梯按钮失灵", "电梯运行有异响", "电梯困人，已解救"),
    _C.PUBLIC_AREA: ("楼道声控灯不亮", "单元门门禁坏，关不上", "消防通道应急灯不亮", "一楼大厅地砖破损"),
    _C.GAS: ("燃气灶打不着火", "燃气热水器点火后熄灭"),
    _C.OTHER: ("晾衣架断裂", "信报箱锁坏"),
}
_COSTS: dict[RepairCategory, tuple[int, int]] = {  # fen, low and high
    _C.PLUMBING: (0, 38000),
    _C.ELECTRICAL: (0, 22000),
    _C.DOORS_WINDOWS: (3000, 45000),
    _C.WALLS: (8000, 120000),
    _C.ELEVATOR: (0, 80000),
    _C.PUBLIC_AREA: (1000, 30000),
    _C.GAS: (0, 15000),
    _C.OTHER: (0, 8000),
}
_MATERIALS: dict[RepairCategory, tuple[str, ...]] = {
    _C.PLUMBING: ("更换角阀 1 个", "更换下水管 PVC 管段及胶圈", "疏通，无材料", "更换水龙头阀芯"),
    _C.ELECTRICAL: ("更换插座 1 个", "更换漏电保护开关", "更换 LED 灯具", "紧固接线，无材料"),
    _C.DOORS_WINDOWS: ("更换窗户密封条", "更换锁芯 1 个", "更换滑轮 2 个", "更换门把手"),
    _C.WALLS: ("外墙打胶、内墙铲除重刷", "重新铺贴墙砖 6 块", "顶棚修补粉刷"),
    _C.ELEVATOR: ("维保单位调整平层", "更换按钮板", "润滑导轨并调整"),
    _C.PUBLIC_AREA: ("更换声控灯 2 个", "更换门禁闭门器", "更换应急灯", "修补地砖"),
    _C.GAS: ("清理点火针", "更换电池并调试"),
    _C.OTHER: ("更换晾衣架", "更换信报箱锁"),
}
_BUSIEST = max(sum(weights[m] for weights in _SEASONS.values()) for m in range(12))
_WORKERS = ("王师傅", "李师傅", "刘师傅")
_CONTRACTORS = {
    _C.ELEVATOR: "武汉江城电梯维保有限公司",
    _C.WALLS: "江岸区安居房屋修缮队",
    _C.GAS: "武汉燃气江岸服务网点",
}
_FOLLOW_UP_COMMENTS = ("修得很及时", "师傅态度好", "", "", "希望下次快一点", "基本满意")


_Step = Callable[[EventKind, WorkOrderStatus, datetime, str, str], bool]


@dataclass(frozen=True)
class _Unit:
    id: uuid.UUID
    code: str
    building: int
    entrance: int
    floor: int
    room: int
    top: bool


def install_demo_repairs(session: Session, rng: random.Random) -> None:
    now: datetime = session.info["clock"].now()
    tops = dict(session.execute(select(Building.number, Building.floors)).all())
    units = [
        _Unit(i, code, b, e, f, r, f >= tops[b] - 2)
        for i, code, b, e, f, r in session.execute(
            select(Unit.id, Unit.code, Unit.building_no, Unit.entrance, Unit.floor, Unit.room).order_by(
                Unit.code
            )
        )
    ]
    stack = [u for u in units if (u.building, u.entrance, u.room) == (1, 2, 3)]  # the leaking drain stack
    repeaters = rng.sample(units, 6)
    start = now - timedelta(days=HISTORY_DAYS)
    # Uniform moments, thinned by season below (the busiest month keeps all): about ORDERS remain.
    moments = sorted(
        start + timedelta(seconds=rng.uniform(0, HISTORY_DAYS * 86400)) for _ in range(ORDERS * 3 // 2)
    )
    code = session.scalar(select(Station.code)) or "YXY01"
    orders: list[WorkOrder] = []
    rows: list[WorkOrderEvent] = []
    numbers: Tally[int] = Tally()
    categories = list(_SEASONS)
    for moment in moments:
        # Thin the uniform moments by season so that the busy months are busy.
        local = moment + timedelta(hours=8)
        weights = [_SEASONS[c][local.month - 1] for c in categories]
        if rng.random() > sum(weights) / _BUSIEST:
            continue
        # Office hours mostly: 8:00–19:00 station time.
        moment = moment.replace(hour=rng.randint(0, 11), minute=rng.randint(0, 59))
        if moment > now - timedelta(hours=3):
            continue
        category = rng.choices(categories, weights=weights)[0]
        unit = _pick_unit(rng, category, units, stack, repeaters, local.month)
        order, events = _order(rng, category, unit, moment, now, numbers, code)
        orders.append(order)
        rows.extend(events)
    # And one the manager must see at once: an urgent leak in the stack, dispatched, not fixed after 30 hours.
    order, events = _order(
        rng, _C.PLUMBING, stack[-1], now - timedelta(hours=30), now, numbers, code, stall=Urgency.URGENT
    )
    orders.append(order)
    rows.extend(events)
    session.add_all(orders)
    session.flush()
    session.add_all(rows)
    for year, count in numbers.items():
        session.add(Counter(name=f"work-order-{year}", value=count))
    # The orders bypassed the services, which keep the statistics' summary; recompute it from them.
    rebuild_repair_summary(session)
    _complaints(session, rng, units, now)
    session.flush()


def _pick_unit(
    rng: random.Random,
    category: RepairCategory,
    units: list[_Unit],
    stack: list[_Unit],
    repeaters: list[_Unit],
    month: int,
) -> _Unit | None:
    if category in (_C.ELEVATOR, _C.PUBLIC_AREA):
        return None
    if category is _C.PLUMBING:
        roll = rng.random()
        if roll < 0.18:
            return rng.choice(stack)
        if roll < 0.5 and 6 <= month <= 8:
            return rng.choice([u for u in units if u.top])
    if rng.random() < 0.06:
        return rng.choice(repeaters)
    return rng.choice(units)


def _order(
    rng: random.Random,
    category: RepairCategory,
    unit: _Unit | None,
    reported: datetime,
    now: datetime,
    numbers: Tally[int],
    station_code: str,
    stall: Urgency | None = None,
) -> tuple[WorkOrder, list[WorkOrderEvent]]:
    """One order and its events up to now; stall: of this urgency, and stuck in progress (not completed)."""
    rules = DEFAULT_REPAIR_RULES
    urgency = rng.choices(list(Urgency), weights=(2, 6, 2))[0]
    if category is _C.ELEVATOR and rng.random() < 0.3:
        urgency = Urgency.URGENT
    urgency = stall or urgency
    target = rules.targets[urgency]
    year = local_date(reported).year
    numbers[year] += 1
    if unit is None:
        building = rng.choice((1, 2))
        location = f"{building}栋{rng.choice((1, 2))}单元" + ("电梯" if category is _C.ELEVATOR else "楼道")
    else:
        location = ""
    if unit is not None and unit.building == 1 and unit.entrance == 2 and unit.room == 3:
        description = "卫生间下水立管接口漏水，上下层都有渗水"
    else:
        description = rng.choice(_DESCRIPTIONS[category])
    channel = rng.choices(list(WorkOrderChannel), weights=(45, 25, 25, 5 if unit is None else 0))[0]
    contractor = _CONTRACTORS.get(category) if rng.random() < 0.8 else None
    assignee = contractor or rng.choice(_WORKERS)
    order = WorkOrder(
        id=uuid.uuid4(),
        number=f"{station_code}-WX{year}-{numbers[year]:05d}",
        unit_id=None if unit is None else unit.id,
        building_no=None if unit is None else unit.building,
        entrance=None if unit is None else unit.entrance,
        floor=None if unit is None else unit.floor,
        location=location,
        channel=channel.value,
        hazard_id=None,
        category=category.value,
        urgency=urgency.value,
        description=description,
        reporter="" if unit is None else "住户",
        photos="",
        status=WorkOrderStatus.REPORTED.value,
        assignee="",
        assignee_kind="",
        reported_at=reported,
        response_due_at=reported + target.respond,
        completion_due_at=reported + target.complete,
        reopen_count=0,
        cost_fen=0,
        labour="",
        materials="",
        payer="",
        follow_up_comment="",
        operator=DEMO_OPERATOR,
        updated_at=now,
    )
    events: list[WorkOrderEvent] = []

    def step(kind: EventKind, to: WorkOrderStatus, at: datetime, actor: str, note: str = "") -> bool:
        if at > now:
            return False
        events.append(
            WorkOrderEvent(
                id=uuid.uuid4(),
                work_order_id=order.id,
                position=len(events) + 1,
                kind=kind.value,
                from_status="" if kind is EventKind.REPORT else order.status,
                to_status=to.value,
                occurred_at=at,
                actor=actor,
                note=note,
                operator=DEMO_OPERATOR,
            )
        )
        order.status = to.value
        return True

    step(EventKind.REPORT, WorkOrderStatus.REPORTED, reported, order.reporter or DEMO_OPERATOR, description)
    # About 1 in 12 is answered late, 1 in 10 finished late.
    late_response = rng.random() < 0.08
    response = target.respond * (rng.uniform(1.1, 2.5) if late_response else rng.uniform(0.1, 0.9))
    dispatched = reported + response
    if not step(EventKind.DISPATCH, WorkOrderStatus.DISPATCHED, dispatched, assignee):
        return order, events
    order.assignee = assignee
    order.assignee_kind = (AssigneeKind.CONTRACTOR if contractor else AssigneeKind.WORKER).value
    order.dispatched_at = dispatched
    started = dispatched + (target.complete - response) * rng.uniform(0.05, 0.3)
    if not step(EventKind.START, WorkOrderStatus.IN_PROGRESS, started, assignee):
        return order, events
    order.started_at = started
    if stall is not None:
        return order, events
    late_completion = rng.random() < 0.10
    span = target.complete * (rng.uniform(1.05, 2.0) if late_completion else rng.uniform(0.3, 0.95))
    completed = max(reported + span, started + timedelta(minutes=30))
    reopen = rng.random() < 0.06
    for attempt in range(2 if reopen else 1):
        if not _complete(rng, order, category, unit, completed, step):
            return order, events
        visit = completed + timedelta(days=rng.uniform(1, 6))
        if attempt == 0 and reopen:
            score = rng.choice((1, 2))
            if not step(
                EventKind.FOLLOW_UP, WorkOrderStatus.COMPLETED, visit, "回访员", f"满意度 {score}；未修好"
            ):
                return order, events
            order.satisfaction, order.followed_up_at = score, visit
            step(EventKind.REOPEN, WorkOrderStatus.DISPATCHED, visit, assignee, "回访时住户反映未修好")
            order.reopen_count += 1
            order.completed_at = None
            completed = visit + timedelta(days=rng.uniform(0.5, 3))
            continue
        score = rng.choices((5, 4, 3, 2), weights=(55, 30, 10, 5))[0]
        comment = rng.choice(_FOLLOW_UP_COMMENTS)
        if not step(
            EventKind.FOLLOW_UP,
            WorkOrderStatus.CLOSED,
            visit,
            "回访员",
            f"满意度 {score}；{comment or '无意见'}",
        ):
            return order, events
        order.satisfaction, order.follow_up_comment = score, comment
        order.followed_up_at = order.closed_at = visit
    return order, events


def _complete(
    rng: random.Random,
    order: WorkOrder,
    category: RepairCategory,
    unit: _Unit | None,
    at: datetime,
    step: _Step,
) -> bool:
    low, high = _COSTS[category]
    cost = rng.randrange(low, high + 1, 100) if high else 0
    if unit is None:
        payer = Payer.PROPERTY if category is _C.PUBLIC_AREA else Payer.STATION
    else:
        payer = rng.choices((Payer.STATION, Payer.TENANT, Payer.CONTRACTOR), weights=(75, 15, 10))[0]
    labour = f"{order.assignee} {rng.choice((1, 1, 2, 3))} 工时"
    materials = rng.choice(_MATERIALS[category])
    note = f"人工：{labour}；材料：{materials}；费用 {cost / 100:.2f} 元，{payer.label}承担。"
    if not step(EventKind.COMPLETE, WorkOrderStatus.COMPLETED, at, order.assignee, note):
        return False
    order.labour, order.materials, order.payer = labour, materials, payer.value
    order.cost_fen += cost
    order.completed_at = at
    return True


_COMPLAINT_TEXTS: dict[ComplaintCategory, tuple[str, ...]] = {
    ComplaintCategory.REPAIR: ("报修三天没人来", "维修后还是漏水", "维修师傅没有预约就上门"),
    ComplaintCategory.SAFETY: ("楼道堆放杂物堵塞消防通道", "电动车在楼道充电"),
    ComplaintCategory.ENVIRONMENT: ("垃圾清运不及时，有异味", "楼道卫生差"),
    ComplaintCategory.NEIGHBOUR: ("楼上夜间噪音扰民", "邻居占用公共走廊"),
    ComplaintCategory.SERVICE: ("服务站工作人员态度不好", "办事要跑好几趟"),
    ComplaintCategory.CHARGES: ("对水费账单有疑问", "租金收据丢失要求补打"),
    ComplaintCategory.SUGGESTION: ("建议增设老年人活动座椅", "建议在一楼增加无障碍坡道扶手"),
    ComplaintCategory.OTHER: ("快递堆放在大厅无人管理",),
}
_PUBLIC_RESULTS: dict[ComplaintCategory, str] = {
    ComplaintCategory.REPAIR: "已督促维修人员上门处理并回访确认。",
    ComplaintCategory.SAFETY: "已清理楼道杂物，张贴安全提示并加强巡查。",
    ComplaintCategory.ENVIRONMENT: "已协调物业增加清运次数。",
    ComplaintCategory.NEIGHBOUR: "已上门调解，双方达成一致。",
    ComplaintCategory.SERVICE: "已对相关工作人员进行批评教育并整改。",
    ComplaintCategory.CHARGES: "已核对账目并向反映人说明。",
    ComplaintCategory.SUGGESTION: "建议已采纳，列入本年度改进计划。",
    ComplaintCategory.OTHER: "已协调相关单位处理。",
}
_SURNAMES = "张王李赵刘陈杨黄周吴"


def _complaints(session: Session, rng: random.Random, units: list[_Unit], now: datetime) -> None:
    rules = DEFAULT_COMPLAINT_RULES
    code = session.scalar(select(Station.code)) or "YXY01"
    start = now - timedelta(days=HISTORY_DAYS)
    moments = sorted(start + timedelta(days=rng.uniform(0, HISTORY_DAYS - 1)) for _ in range(COMPLAINTS - 2))
    # The newest two: one still being handled within its limit, one past it without a reply (overdue).
    moments += [now - timedelta(hours=20), now - timedelta(days=9)]
    numbers: Tally[int] = Tally()
    complaints: list[Complaint] = []
    notes: list[ComplaintNote] = []
    for index, received in enumerate(moments):
        category = rng.choice(list(ComplaintCategory))
        if index == len(moments) - 1:
            category = ComplaintCategory.NEIGHBOUR
        channel = rng.choices(list(ComplaintChannel), weights=(35, 25, 10, 5, 20, 5))[0]
        year = local_date(received).year
        numbers[year] += 1
        anonymous = (
            channel in (ComplaintChannel.SUGGESTION_BOX, ComplaintChannel.LETTER) and rng.random() < 0.6
        )
        unit = rng.choice(units) if category is not ComplaintCategory.SUGGESTION else None
        due = rules.due(category, received)
        content = rng.choice(_COMPLAINT_TEXTS[category])
        name = "" if anonymous else rng.choice(_SURNAMES) + rng.choice(("女士", "先生", "阿姨", "师傅"))
        phone = "" if anonymous else f"1{rng.choice('3578')}{rng.randrange(10**9):09d}"
        complaint = Complaint(
            id=uuid.uuid4(),
            number=f"{code}-TS{year}-{numbers[year]:04d}",
            channel=channel.value,
            category=category.value,
            content=content,
            unit_id=None if unit is None else unit.id,
            handler=rng.choice(("周管家", "吴站长", "郑管家")),
            status=ComplaintStatus.RECEIVED.value,
            received_at=received,
            due_at=due,
            reply="",
            public_result="",
            visit_comment="",
            operator=DEMO_OPERATOR,
            updated_at=now,
        )
        people.store_complainant(session, complaint, name, phone)
        complaints.append(complaint)
        handled = received + (due - received) * rng.uniform(0.1, 0.6)
        if handled > now:
            continue
        notes.append(
            ComplaintNote(
                id=uuid.uuid4(),
                complaint_id=complaint.id,
                noted_at=handled,
                author=complaint.handler,
                note="已联系反映人了解情况，安排现场核实。",
            )
        )
        complaint.status = ComplaintStatus.HANDLING.value
        if index >= len(moments) - 2:
            continue
        late = rng.random() < 0.1
        replied = received + (due - received) * (rng.uniform(1.1, 2.0) if late else rng.uniform(0.6, 1.0))
        if replied > now:
            continue
        complaint.reply = "经核实，" + _PUBLIC_RESULTS[category]
        complaint.public_result = _PUBLIC_RESULTS[category]
        complaint.replied_at = replied
        complaint.status = ComplaintStatus.REPLIED.value
        visited = replied + timedelta(days=rng.uniform(2, 10))
        if visited > now:
            continue
        complaint.visited_at = visited
        complaint.satisfaction = rng.choices((5, 4, 3, 2), weights=(45, 35, 15, 5))[0]
        complaint.visit_comment = rng.choice(("满意", "处理及时", "", "希望以后不再发生"))
        complaint.status = ComplaintStatus.CLOSED.value
    session.add_all(complaints)
    session.flush()
    session.add_all(notes)
    for year, count in numbers.items():
        session.add(Counter(name=f"complaint-{year}", value=count))
