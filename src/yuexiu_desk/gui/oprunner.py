"""The one way the desk app writes: an operation runs off the GUI thread in its own unit of work, then the
result comes back to the GUI thread, problems go to one dialog, and `changed(topic)` tells pages to refresh.

Jobs run one at a time on a private single-thread pool: SQLite takes one writer anyway, and the order in
which the clerk asked for things is the order they happen. Each job opens its own session inside the
worker thread (SQLite connections must not be shared between threads mid-use).
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal
from PySide6.QtWidgets import QApplication, QWidget
from shiboken6 import isValid
from sqlalchemy.orm import Session

from yuexiu_desk.gui import messages
from yuexiu_desk.storage.db import Store

log = logging.getLogger(__name__)

DESK_OPERATOR = "前台"

SuccessCallback = Callable[[Any], None]
FailureCallback = Callable[[BaseException], None]


@dataclass
class _Pending:
    description: str
    topic: str | None
    on_success: SuccessCallback | None
    on_failure: FailureCallback | None
    parent: QWidget | None
    quiet: bool


class _Job(QRunnable):
    def __init__(self, job_id: int, work: Callable[[], Any], report: Any) -> None:
        super().__init__()
        self._job_id = job_id
        self._work = work
        self._report = report

    def run(self) -> None:
        try:
            result = self._work()
        except Exception as exc:
            self._report.emit(self._job_id, False, exc)
        else:
            self._report.emit(self._job_id, True, result)


class OpRunner(QObject):
    """Runs operations in the background; the GUI thread only ever sees their results.

    started(job_id) / finished(job_id, ok) bracket every job (tests wait on finished);
    changed(topic) follows a successful job that declared a topic (e.g. "units");
    busy(bool) is True while any job is queued or running.
    """

    started = Signal(int)
    finished = Signal(int, bool)
    changed = Signal(str)
    busy = Signal(bool)
    _report = Signal(int, bool, object)

    def __init__(self, store: Store, operator: str = DESK_OPERATOR, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.operator = operator
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._ids = itertools.count(1)
        self._pending: dict[int, _Pending] = {}
        self._report.connect(self._on_report)

    @property
    def is_busy(self) -> bool:
        return bool(self._pending)

    def run(
        self,
        op: Callable[[Session], Any],
        *,
        description: str = "正在保存…",
        topic: str | None = "units",
        on_success: SuccessCallback | None = None,
        on_failure: FailureCallback | None = None,
        parent: QWidget | None = None,
        write: bool = True,
        quiet: bool = False,
    ) -> int:
        """Run op(session) in one unit of work (committed when it returns) or, with write=False, a read session."""
        store, operator = self.store, self.operator

        def work() -> Any:
            if write:
                with store.unit_of_work(operator) as session:
                    return op(session)
            with store.read() as session:
                return op(session)

        return self._submit(work, description, topic, on_success, on_failure, parent, quiet)

    def run_task(
        self,
        fn: Callable[[], Any],
        *,
        description: str = "正在处理…",
        topic: str | None = None,
        on_success: SuccessCallback | None = None,
        on_failure: FailureCallback | None = None,
        parent: QWidget | None = None,
        quiet: bool = False,
    ) -> int:
        """Run work that needs no session from this runner (e.g. creating the demo station)."""
        return self._submit(fn, description, topic, on_success, on_failure, parent, quiet)

    def wait(self, msecs: int = 30_000) -> bool:
        """Block until every queued job has run (for shutting down; results still arrive as events)."""
        return self._pool.waitForDone(msecs)

    def shutdown(self) -> None:
        self._pool.clear()
        if not self._pool.waitForDone(30_000):
            log.error("background jobs still running at shutdown")

    def _submit(
        self,
        work: Callable[[], Any],
        description: str,
        topic: str | None,
        on_success: SuccessCallback | None,
        on_failure: FailureCallback | None,
        parent: QWidget | None,
        quiet: bool,
    ) -> int:
        job_id = next(self._ids)
        was_idle = not self._pending
        self._pending[job_id] = _Pending(description, topic, on_success, on_failure, parent, quiet)
        self.started.emit(job_id)
        if was_idle:
            self.busy.emit(True)
        self._pool.start(_Job(job_id, work, self._report))
        return job_id

    def current_description(self) -> str:
        return next(iter(self._pending.values())).description if self._pending else ""

    def _on_report(self, job_id: int, ok: bool, payload: object) -> None:
        pending = self._pending.pop(job_id, None)
        if pending is None:
            return
        try:
            if ok:
                if pending.on_success is not None:
                    pending.on_success(payload)
                if pending.topic:
                    self.changed.emit(pending.topic)
            else:
                assert isinstance(payload, BaseException)
                if pending.on_failure is not None:
                    pending.on_failure(payload)
                if not pending.quiet:
                    parent = pending.parent if _alive(pending.parent) else QApplication.activeWindow()
                    messages.show_problem(parent, payload)
        finally:
            if not self._pending:
                self.busy.emit(False)
            self.finished.emit(job_id, ok)


def _alive(widget: QWidget | None) -> bool:
    return widget is not None and isValid(widget)
