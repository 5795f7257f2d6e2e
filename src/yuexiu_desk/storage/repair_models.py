"""ORM models of the repair ledger (维修台账) and of complaints and suggestions (投诉建议).

Kept apart from storage.models, like billing_models, so that the desk's start-up does not pay for declaring
them; services.workorders, services.complaints and the migrations import this module. The order and complaint
tables are journaled (UUID keys, a change_journal row per write) for the bureau exchange; the daily summary of
the orders that the statistics read (repair_day_summary) is derived from them and is not.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import (
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from yuexiu_desk.storage.models import Base, UTCDateTime


class WorkOrder(Base):
    """A repair work order (维修单): what, where, how urgent, who fixes it, what it cost, how the tenant found it.

    The latest completion and follow-up are kept here; every transition (with the earlier completions of a
    reopened order) is a WorkOrderEvent.
    """

    __tablename__ = "work_order"
    __journaled__ = True
    __table_args__ = (
        Index("ix_work_order_reported_at", "reported_at"),
        Index("ix_work_order_status", "status"),
        Index("ix_work_order_unit_reported", "unit_id", "reported_at"),
        # Covers the statistics by building, entrance and floor (and the units of each).
        Index("ix_work_order_place", "building_no", "entrance", "floor", "unit_id", "reported_at"),
        # The few orders whose SLA breach still depends on the moment asked about (not yet dispatched or not
        # yet completed): the statistics count those live, the rest come from repair_day_summary.
        Index(
            "ix_work_order_unfinished",
            "reported_at",
            "response_due_at",
            "completion_due_at",
            "dispatched_at",
            "completed_at",
            sqlite_where=text("dispatched_at IS NULL OR completed_at IS NULL"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    number: Mapped[str] = mapped_column(String(30), unique=True)
    unit_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("unit.id"), nullable=True)
    # Denormalised from the unit (as unit itself does from its code) so that the statistics group orders
    # by building, entrance and floor in SQL without a join: at bureau scale that join is most of their time.
    building_no: Mapped[int | None] = mapped_column(Integer, nullable=True)
    entrance: Mapped[int | None] = mapped_column(Integer, nullable=True)
    floor: Mapped[int | None] = mapped_column(Integer, nullable=True)
    location: Mapped[str] = mapped_column(String(100), default="")  # public areas: "1栋2单元电梯厅"
    channel: Mapped[str] = mapped_column(String(20))
    # The inspection hazard this order was raised from (its id as text; the hazard tables live elsewhere).
    hazard_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    category: Mapped[str] = mapped_column(String(20))
    urgency: Mapped[str] = mapped_column(String(10))
    description: Mapped[str] = mapped_column(Text)
    reporter: Mapped[str] = mapped_column(String(50), default="")
    photos: Mapped[str] = mapped_column(Text, default="")  # file names under the station folder, one a line
    status: Mapped[str] = mapped_column(String(20))
    assignee: Mapped[str] = mapped_column(String(100), default="")
    assignee_kind: Mapped[str] = mapped_column(String(20), default="")
    reported_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Targets fixed at intake from the rules in force then, so a later change of rules does not rewrite history.
    response_due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    completion_due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)  # the first dispatch
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)  # the latest completion
    labour: Mapped[str] = mapped_column(Text, default="")
    materials: Mapped[str] = mapped_column(Text, default="")
    cost_fen: Mapped[int] = mapped_column(Integer, default=0)
    payer: Mapped[str] = mapped_column(String(20), default="")
    followed_up_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    satisfaction: Mapped[int | None] = mapped_column(Integer, nullable=True)
    follow_up_comment: Mapped[str] = mapped_column(Text, default="")
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)
    operator: Mapped[str] = mapped_column(String(50))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class RepairDaySummary(Base):
    """The work orders reported on one station day in one category, added up: what the repair statistics
    read instead of scanning every order (at most a few thousand rows a year).

    services.repair_summary keeps it in step with each write of an order in the same transaction, and rebuilds
    it from the orders after a bulk insert; migration 0011 filled it for the orders existing then. Every
    figure depends only on the orders' stored fields; a breach of an order not yet dispatched (completed)
    depends on the moment asked about, so those are counted from work_order (ix_work_order_unfinished).
    """

    __tablename__ = "repair_day_summary"

    reported_on: Mapped[date] = mapped_column(Date, primary_key=True)  # the station's date of reported_at
    category: Mapped[str] = mapped_column(String(20), primary_key=True)
    orders: Mapped[int] = mapped_column(Integer)
    # Orders by urgency (domain.repairs.Urgency).
    urgency_urgent: Mapped[int] = mapped_column(Integer)
    urgency_normal: Mapped[int] = mapped_column(Integer)
    urgency_planned: Mapped[int] = mapped_column(Integer)
    cost_fen: Mapped[int] = mapped_column(Integer)
    open_orders: Mapped[int] = mapped_column(Integer)
    closed_orders: Mapped[int] = mapped_column(Integer)
    public_area_orders: Mapped[int] = mapped_column(Integer)  # no unit
    reopened_orders: Mapped[int] = mapped_column(Integer)  # reopened at least once
    # Times in whole microseconds, so that adding and taking away an order's share is exact (floats drift).
    responded: Mapped[int] = mapped_column(Integer)  # orders dispatched
    response_us: Mapped[int] = mapped_column(Integer)  # their dispatched_at - reported_at, summed
    completed: Mapped[int] = mapped_column(Integer)  # orders with a (latest) completion
    completion_us: Mapped[int] = mapped_column(Integer)  # their completed_at - reported_at, summed
    response_breaches: Mapped[int] = mapped_column(Integer)  # dispatched after response_due_at
    completion_breaches: Mapped[int] = mapped_column(Integer)  # completed after completion_due_at
    # Orders by their follow-up satisfaction (1–5, domain.repairs.check_satisfaction).
    satisfaction_1: Mapped[int] = mapped_column(Integer)
    satisfaction_2: Mapped[int] = mapped_column(Integer)
    satisfaction_3: Mapped[int] = mapped_column(Integer)
    satisfaction_4: Mapped[int] = mapped_column(Integer)
    satisfaction_5: Mapped[int] = mapped_column(Integer)


class WorkOrderEvent(Base):
    """One timed step of a work order: reported, dispatched, started, completed, followed up, reopened."""

    __tablename__ = "work_order_event"
    __journaled__ = True
    __table_args__ = (UniqueConstraint("work_order_id", "position"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    work_order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("work_order.id"))
    # 1, 2, … within the order: steps entered in the same minute still read in the order they happened.
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))
    from_status: Mapped[str] = mapped_column(String(20), default="")
    to_status: Mapped[str] = mapped_column(String(20))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(100))  # who did it: the clerk, the worker, the contractor
    note: Mapped[str] = mapped_column(Text, default="")
    operator: Mapped[str] = mapped_column(String(50))


class Complaint(Base):
    """A complaint or suggestion (投诉建议). complainant_name and the (sealed) phone are personal data: read
    them through services.people (masked) only; the public notice never shows them."""

    __tablename__ = "complaint"
    __journaled__ = True
    __table_args__ = (
        Index("ix_complaint_received_at", "received_at"),
        Index("ix_complaint_status_due", "status", "due_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    number: Mapped[str] = mapped_column(String(30), unique=True)
    channel: Mapped[str] = mapped_column(String(20))
    category: Mapped[str] = mapped_column(String(20))
    content: Mapped[str] = mapped_column(Text)
    complainant_name: Mapped[str] = mapped_column(String(50), default="")
    complainant_phone_sealed: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    unit_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("unit.id"), nullable=True, index=True)
    handler: Mapped[str] = mapped_column(String(50), default="")
    status: Mapped[str] = mapped_column(String(20))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reply: Mapped[str] = mapped_column(Text, default="")
    replied_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # What the public notice says of the result: written for the notice board, without personal data.
    public_result: Mapped[str] = mapped_column(Text, default="")
    visited_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    satisfaction: Mapped[int | None] = mapped_column(Integer, nullable=True)
    visit_comment: Mapped[str] = mapped_column(Text, default="")
    operator: Mapped[str] = mapped_column(String(50))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ComplaintNote(Base):
    """A handling note of a complaint (处理记录): what was done, by whom, when."""

    __tablename__ = "complaint_note"
    __journaled__ = True
    __table_args__ = (Index("ix_complaint_note_complaint", "complaint_id", "noted_at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    complaint_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("complaint.id"))
    noted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    author: Mapped[str] = mapped_column(String(50))
    note: Mapped[str] = mapped_column(Text)
