"""ORM model of the audit log (审计日志): one append-only, hash-chained row per audited action.

Kept apart from storage.models (like billing_models) so the desk's start-up does not declare it; the
services write it with plain SQL (services.audit), the migrations and the schema check import this module.
Triggers in migration 0007 refuse UPDATE and DELETE on it.
"""

from __future__ import annotations

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from yuexiu_desk.storage.models import Base


class AuditEntry(Base):
    """One audited action: who, what, on what, when, chained to the entry before it by its hash."""

    __tablename__ = "audit_entry"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)  # 1, 2, 3 … no gaps
    at: Mapped[str] = mapped_column(String(40))  # UTC, ISO 8601 text (hashed exactly as stored)
    operator: Mapped[str] = mapped_column(String(50))
    action: Mapped[str] = mapped_column(String(30))
    subject: Mapped[str] = mapped_column(Text)
    detail: Mapped[str] = mapped_column(Text)  # JSON; never plaintext personal data
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
