"""Repair work orders (维修) and complaints (投诉建议): their choices, lifecycle and time targets.

Every target here is a [U] default (no Wuhan or bureau rule was found for them): the station confirms them
against its entrustment contract and service commitments, and passes other values as RepairRules /
ComplaintRules where it needs to.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from yuexiu_desk.domain.choices import parse_choice
from yuexiu_desk.errors import UserError


class WorkOrderChannel(StrEnum):
    PHONE = "phone"
    WALK_IN = "walk_in"
    WECHAT = "wechat"
    INSPECTION = "inspection"  # raised from an inspection hazard (隐患)

    @property
    def label(self) -> str:
        return {
            WorkOrderChannel.PHONE: "电话",
            WorkOrderChannel.WALK_IN: "来访",
            WorkOrderChannel.WECHAT: "微信",
            WorkOrderChannel.INSPECTION: "巡查隐患",
        }[self]


class RepairCategory(StrEnum):
    PLUMBING = "plumbing"
    ELECTRICAL = "electrical"
    DOORS_WINDOWS = "doors_windows"
    WALLS = "walls"
    ELEVATOR = "elevator"
    PUBLIC_AREA = "public_area"
    GAS = "gas"
    OTHER = "other"

    @property
    def label(self) -> str:
        return {
            RepairCategory.PLUMBING: "给排水",
            RepairCategory.ELECTRICAL: "电气",
            RepairCategory.DOORS_WINDOWS: "门窗",
            RepairCategory.WALLS: "墙面",
            RepairCategory.ELEVATOR: "电梯",
            RepairCategory.PUBLIC_AREA: "公共区域",
            RepairCategory.GAS: "燃气",
            RepairCategory.OTHER: "其他",
        }[self]


class Urgency(StrEnum):
    URGENT = "urgent"
    NORMAL = "normal"
    PLANNED = "planned"

    @property
    def label(self) -> str:
        return {Urgency.URGENT: "紧急", Urgency.NORMAL: "一般", Urgency.PLANNED: "计划"}[self]


class WorkOrderStatus(StrEnum):
    REPORTED = "reported"
    DISPATCHED = "dispatched"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    CLOSED = "closed"  # after the follow-up visit (回访)

    @property
    def label(self) -> str:
        return {
            WorkOrderStatus.REPORTED: "已报修",
            WorkOrderStatus.DISPATCHED: "已派单",
            WorkOrderStatus.IN_PROGRESS: "维修中",
            WorkOrderStatus.COMPLETED: "已完工待回访",
            WorkOrderStatus.CLOSED: "已回访关闭",
        }[self]


OPEN_STATUSES = frozenset(
    {
        WorkOrderStatus.REPORTED,
        WorkOrderStatus.DISPATCHED,
        WorkOrderStatus.IN_PROGRESS,
    }
)


class AssigneeKind(StrEnum):
    WORKER = "worker"
    CONTRACTOR = "contractor"

    @property
    def label(self) -> str:
        return {AssigneeKind.WORKER: "维修工", AssigneeKind.CONTRACTOR: "外包单位"}[self]


class Payer(StrEnum):
    STATION = "station"
    TENANT = "tenant"
    CONTRACTOR = "contractor"
    PROPERTY = "property"

    @property
    def label(self) -> str:
        return {
            Payer.STATION: "服务站",
            Payer.TENANT: "租户",
            Payer.CONTRACTOR: "施工单位（保修）",
            Payer.PROPERTY: "物业公司",
        }[self]


class EventKind(StrEnum):
    REPORT = "report"
    DISPATCH = "dispatch"
    START = "start"
    COMPLETE = "complete"
    FOLLOW_UP = "follow_up"
    REOPEN = "reopen"

    @property
    def label(self) -> str:
        return {
            EventKind.REPORT: "报修",
            EventKind.DISPATCH: "派单",
            EventKind.START: "开始维修",
            EventKind.COMPLETE: "完工",
            EventKind.FOLLOW_UP: "回访",
            EventKind.REOPEN: "返修",
        }[self]


_S = WorkOrderStatus
# Which transition each action is allowed from; anything else is refused with the order's current status.
ALLOWED_FROM: dict[EventKind, frozenset[WorkOrderStatus]] = {
    EventKind.DISPATCH: frozenset({_S.REPORTED, _S.DISPATCHED}),  # a second dispatch re-assigns
    EventKind.START: frozenset({_S.DISPATCHED}),
    EventKind.COMPLETE: frozenset({_S.DISPATCHED, _S.IN_PROGRESS}),
    EventKind.FOLLOW_UP: frozenset({_S.COMPLETED}),
    EventKind.REOPEN: frozenset({_S.COMPLETED, _S.CLOSED}),
}


def check_transition(kind: EventKind, current: WorkOrderStatus, number: str) -> None:
    if current in ALLOWED_FROM[kind]:
        return
    if kind is EventKind.FOLLOW_UP:
        raise UserError(f"维修单 {number} 还未完工（{current.label}），完工后才能回访。")
    if kind is EventKind.REOPEN:
        raise UserError(f"维修单 {number} 还未完工（{current.label}），不能返修；请继续跟进原单。")
    allowed = "、".join(s.label for s in WorkOrderStatus if s in ALLOWED_FROM[kind])
    raise UserError(
        f"维修单 {number} 当前为“{current.label}”，不能{kind.label}（只能在{allowed}时{kind.label}）。"
    )


SATISFACTION_MIN, SATISFACTION_MAX = 1, 5


def check_satisfaction(value: int) -> int:
    if not SATISFACTION_MIN <= value <= SATISFACTION_MAX:
        raise UserError(
            f"满意度应为 {SATISFACTION_MIN} 到 {SATISFACTION_MAX} 之间的整数"
            f"（5 为非常满意，1 为很不满意），现在是 {value}。"
        )
    return value


def parse_channel(text: str) -> WorkOrderChannel:
    return parse_choice(WorkOrderChannel, text, "报修渠道")


def parse_category(text: str) -> RepairCategory:
    return parse_choice(RepairCategory, text, "维修类别")


def parse_urgency(text: str) -> Urgency:
    return parse_choice(Urgency, text, "紧急程度")


def parse_payer(text: str) -> Payer:
    return parse_choice(Payer, text, "费用承担方")


def parse_assignee_kind(text: str) -> AssigneeKind:
    return parse_choice(AssigneeKind, text, "维修方")


@dataclass(frozen=True)
class Target:
    """Response (reported → dispatched) and completion (reported → completed) targets of one urgency."""

    respond: timedelta
    complete: timedelta


@dataclass(frozen=True)
class RepairRules:
    # [U] defaults, to be confirmed against the station's service commitments: 紧急 2 h / 24 h,
    # 一般 24 h / 3 days, 计划 3 days / 15 days.
    targets: dict[Urgency, Target] = field(
        default_factory=lambda: {
            Urgency.URGENT: Target(timedelta(hours=2), timedelta(hours=24)),
            Urgency.NORMAL: Target(timedelta(hours=24), timedelta(days=3)),
            Urgency.PLANNED: Target(timedelta(days=3), timedelta(days=15)),
        }
    )
    # [U] a unit with this many orders within repeat_window_days is a repeat-repair unit (重复报修).
    repeat_window_days: int = 90
    repeat_min_orders: int = 2

    def response_due(self, urgency: Urgency, reported_at: datetime) -> datetime:
        return reported_at + self.targets[urgency].respond

    def completion_due(self, urgency: Urgency, reported_at: datetime) -> datetime:
        return reported_at + self.targets[urgency].complete


DEFAULT_REPAIR_RULES = RepairRules()


# ---- complaints -----------------------------------------------------------------------------------------


class ComplaintChannel(StrEnum):
    PHONE = "phone"
    VISIT = "visit"
    SUGGESTION_BOX = "suggestion_box"
    LETTER = "letter"
    WECHAT = "wechat"
    BUREAU = "bureau"  # referred by the housing bureau (房管局转办)

    @property
    def label(self) -> str:
        return {
            ComplaintChannel.PHONE: "电话",
            ComplaintChannel.VISIT: "来访",
            ComplaintChannel.SUGGESTION_BOX: "意见箱",
            ComplaintChannel.LETTER: "信件",
            ComplaintChannel.WECHAT: "微信",
            ComplaintChannel.BUREAU: "房管局转办",
        }[self]


class ComplaintCategory(StrEnum):
    REPAIR = "repair"
    SAFETY = "safety"
    ENVIRONMENT = "environment"
    NEIGHBOUR = "neighbour"
    SERVICE = "service"
    CHARGES = "charges"
    SUGGESTION = "suggestion"
    OTHER = "other"

    @property
    def label(self) -> str:
        return {
            ComplaintCategory.REPAIR: "维修服务",
            ComplaintCategory.SAFETY: "安全隐患",
            ComplaintCategory.ENVIRONMENT: "环境卫生",
            ComplaintCategory.NEIGHBOUR: "邻里纠纷",
            ComplaintCategory.SERVICE: "服务态度",
            ComplaintCategory.CHARGES: "租金收费",
            ComplaintCategory.SUGGESTION: "意见建议",
            ComplaintCategory.OTHER: "其他",
        }[self]


class ComplaintStatus(StrEnum):
    RECEIVED = "received"
    HANDLING = "handling"
    REPLIED = "replied"
    CLOSED = "closed"  # after the return visit (回访)

    @property
    def label(self) -> str:
        return {
            ComplaintStatus.RECEIVED: "已受理",
            ComplaintStatus.HANDLING: "处理中",
            ComplaintStatus.REPLIED: "已答复待回访",
            ComplaintStatus.CLOSED: "已回访办结",
        }[self]


@dataclass(frozen=True)
class ComplaintRules:
    # [U] time limits from intake to the reply, by category: safety the next day, repairs and hygiene
    # within 3 days, the rest within 5, suggestions within 15 (to be confirmed with the bureau).
    limits: dict[ComplaintCategory, timedelta] = field(
        default_factory=lambda: {
            ComplaintCategory.SAFETY: timedelta(days=1),
            ComplaintCategory.REPAIR: timedelta(days=3),
            ComplaintCategory.ENVIRONMENT: timedelta(days=3),
            ComplaintCategory.NEIGHBOUR: timedelta(days=5),
            ComplaintCategory.SERVICE: timedelta(days=5),
            ComplaintCategory.CHARGES: timedelta(days=5),
            ComplaintCategory.SUGGESTION: timedelta(days=15),
            ComplaintCategory.OTHER: timedelta(days=5),
        }
    )

    def due(self, category: ComplaintCategory, received_at: datetime) -> datetime:
        return received_at + self.limits[category]


DEFAULT_COMPLAINT_RULES = ComplaintRules()


def parse_complaint_channel(text: str) -> ComplaintChannel:
    return parse_choice(ComplaintChannel, text, "投诉渠道")


def parse_complaint_category(text: str) -> ComplaintCategory:
    return parse_choice(ComplaintCategory, text, "投诉类别")


def season_of(month: int) -> str:
    """春 (3–5), 夏 (6–8), 秋 (9–11), 冬 (12–2)."""
    return "冬冬春春春夏夏夏秋秋秋冬"[month - 1]
