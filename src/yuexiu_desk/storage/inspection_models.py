"""ORM models of inspections and safety checks: rounds, their results, hazards (隐患) and elevator certificates.

Kept apart from storage.models, like billing_models, so the desk's start-up does not pay for declaring them;
services.inspections, services.hazards and the migrations import this module. Every table is journaled
(UUID keys, a change_journal row per write) so the bureau exchange can carry them.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from yuexiu_desk.storage.models import Base, UTCDateTime


class InspectionRound(Base):
    """One inspection of one template for one scope (a building, an entrance …), from start to close."""

    __tablename__ = "inspection_round"
    __journaled__ = True
    __table_args__ = (Index("ix_inspection_round_template_scope", "template", "scope_kind", "scope_value"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    round_no: Mapped[str] = mapped_column(String(30), unique=True)  # XC2026-0001: what clerks type
    template: Mapped[str] = mapped_column(String(40))  # forms/inspections/<template>.toml
    scope_kind: Mapped[str] = mapped_column(String(10))  # estate, building, entrance, floor, unit
    scope_value: Mapped[str] = mapped_column(String(30))  # "", "1", "1-2", "1-2-16", "1-2-1603"
    # Places added to the round after a scan outside its scope (JSON list of scope strings).
    added_scope: Mapped[str] = mapped_column(Text, default="[]")
    started_on: Mapped[date] = mapped_column(Date)
    closed_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    inspector: Mapped[str] = mapped_column(String(50), default="")
    inspected_party: Mapped[str] = mapped_column(String(100), default="")
    status: Mapped[str] = mapped_column(String(10))  # open, closed
    operator: Mapped[str] = mapped_column(String(50))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class InspectionResult(Base):
    """The answer to one item at one place in a round (recorded again → updated, not duplicated)."""

    __tablename__ = "inspection_result"
    __journaled__ = True
    __table_args__ = (UniqueConstraint("round_id", "item_key", "location"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    round_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("inspection_round.id"))
    item_key: Mapped[str] = mapped_column(String(80))  # "<section>.<item>" of the template
    location: Mapped[str] = mapped_column(String(30))  # a scope string: "building:1", "unit:1-2-1603"
    result: Mapped[str] = mapped_column(String(10))  # ok, defect, na
    severity: Mapped[str] = mapped_column(String(10), default="")  # minor, major, critical (defects)
    danger_grade: Mapped[str] = mapped_column(String(1), default="")  # A–D on structural defects (S1)
    note: Mapped[str] = mapped_column(Text, default="")
    photo_path: Mapped[str] = mapped_column(Text, default="")
    operator: Mapped[str] = mapped_column(String(50))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Hazard(Base):
    """A defect found by an inspection (隐患), followed to closure: 整改 → 验收 (a re-inspection) → closed."""

    __tablename__ = "hazard"
    __journaled__ = True
    __table_args__ = (Index("ix_hazard_status", "status"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    hazard_no: Mapped[str] = mapped_column(String(30), unique=True)  # YH2026-0001
    round_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("inspection_round.id"), nullable=True, index=True
    )
    result_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("inspection_result.id"), nullable=True)
    template: Mapped[str] = mapped_column(String(40), default="")
    item_key: Mapped[str] = mapped_column(String(80), default="")
    location: Mapped[str] = mapped_column(String(30))  # scope string of the place
    unit_code: Mapped[str] = mapped_column(String(20), default="")  # when the place is a unit
    building_no: Mapped[int | None] = mapped_column(Integer, nullable=True)  # for statistics by building
    kind: Mapped[str] = mapped_column(String(20))
    description: Mapped[str] = mapped_column(Text, default="")
    severity: Mapped[str] = mapped_column(String(10))
    danger_grade: Mapped[str] = mapped_column(String(1), default="")  # A–D when structural (S1)
    responsible: Mapped[str] = mapped_column(String(20))
    found_on: Mapped[date] = mapped_column(Date)
    deadline: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10))  # open, verified (验收合格), closed
    # S1: a C or D grade escalates at once; the manager acknowledges the alert.
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    acknowledged_by: Mapped[str] = mapped_column(String(50), default="")
    rectification: Mapped[str] = mapped_column(Text, default="")  # what the responsible party did (整改)
    reinspections: Mapped[int] = mapped_column(Integer, default=0)
    reinspected_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    reinspection_note: Mapped[str] = mapped_column(Text, default="")
    # The round whose re-inspection found it fixed (None when re-inspected on its own).
    fixed_round_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("inspection_round.id"), nullable=True)
    closed_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    # The repair work order raised for it (services.workorders; text so this table does not depend on it).
    work_order_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    operator: Mapped[str] = mapped_column(String(50))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ElevatorCertificate(Base):
    """An elevator's inspection certificate (使用标志 / 检验合格证) and its expiry (S5: alert 30 days ahead)."""

    __tablename__ = "elevator_certificate"
    __journaled__ = True
    __table_args__ = (Index("ix_elevator_certificate_expires_on", "expires_on"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    elevator: Mapped[str] = mapped_column(String(40))  # e.g. 1栋1单元电梯
    location: Mapped[str] = mapped_column(String(30))  # scope string, e.g. entrance:1-1
    certificate_no: Mapped[str] = mapped_column(String(40))
    expires_on: Mapped[date] = mapped_column(Date)
    operator: Mapped[str] = mapped_column(String(50))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
