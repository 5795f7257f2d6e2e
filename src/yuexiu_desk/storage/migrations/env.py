"""Alembic environment: runs on the connection the app hands over (or a URL for developers' CLI use)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from yuexiu_desk.storage import (  # noqa: F401  (their tables belong to the metadata)
    audit_models,
    billing_models,
    inspection_models,
    repair_models,
)
from yuexiu_desk.storage.models import Base

config = context.config
target_metadata = Base.metadata


def _run(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "sqlite:///station.sqlite3")
    with engine.begin() as conn:
        _run(conn)
