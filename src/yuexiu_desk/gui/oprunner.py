"""The one way the desk app writes: an operation runs off the GUI thread in its own unit of work, then the
result comes back to the GUI thread, problems go to one dialog, and `changed(topic)` tells pages to refresh.

Jobs run one at a time on a private single-thread pool: SQLite takes one writer anyway, and the order in
which the clerk asked for things is the order they happen. Each job opens its own session inside the
worker thread (SQLite connections must not be shared between threads mid-use). Nothing queued is ever
dropped: shutdown() waits for every job, and a job's callbacks are skipped (never crash) when the window
they belong to has been closed meanwhile.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QElapsedTimer, QEventLoop, QObject, QRunnable, QThreadPool, Signal
from PySide6.QtWidgets import QApplication, QWidget
from shiboken6 import isValid
from sqlalchemy.orm import Session

from yuexiu_desk.gui import messages
from yuexiu_desk.storage.db import Store

log = logging.getLogger(__name__)

DESK_OPERATOR = "前台"

SuccessCallback = Callable[[Any], None]
FailureCallback = Callable[[BaseException], None]
WaitCallback = Callable[[str], None]

_SHUTDOWN_SLICE_MS = 50
_SHUTDOWN_LOG_EVERY_MS = 10_000
_LOST_REPORT_MS = 2_000  # every job has run but its report has not arrived: something is badly wrong


@dataclass
class _Pending:
    description: str
    topic: str | None
    on_success: SuccessCallback | None
    on_failure: FailureCallback | None
    parent: QWidget | None
    owner: QObject | None
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
        except BaseException as exc:  # every job reports back, or shutdown() would wait for it forever
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

    def __init__(self, store: Store, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._ids = itertools.count(1)
        self._pending: dict[int, _Pending] = {}
        self._report.connect(self._on_report)

    @property
    def operator(self) -> str:
        """The name of whoever is signed in (recorded as 经办人 on what the runner writes)."""
        signed_in = self.store.operator
        return signed_in.name if signed_in is not None else DESK_OPERATOR

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
        owner: QObject | None = None,
        write: bool = True,
        quiet: bool = False,
    ) -> int:
        """Run op(session) in one unit of work (committed when it returns) or, with write=False, a read session.

        parent is where a problem is shown (the active window if it is gone by then). owner is the object the
        callbacks belong to: when it has been deleted by the time the job reports back (the clerk closed the
        window), the callbacks are skipped; changed(topic) and the problem dialog happen regardless.
        """
        store = self.store

        def work() -> Any:
            if write:
                with store.unit_of_work() as session:
                    return op(session)
            with store.read() as session:
                return op(session)

        return self._submit(work, description, topic, on_success, on_failure, parent, owner, quiet)

    def run_task(
        self,
        fn: Callable[[], Any],
        *,
        description: str = "正在处理…",
        topic: str | None = None,
        on_success: SuccessCallback | None = None,
        on_failure: FailureCallback | None = None,
        parent: QWidget | None = None,
        owner: QObject | None = None,
        quiet: bool = False,
    ) -> int:
        """Run work that needs no session from this runner (e.g. creating the demo station)."""
        return self._submit(fn, description, topic, on_success, on_failure, parent, owner, quiet)

    def wait(self, msecs: int = 30_000) -> bool:
        """Block until every queued job has run (for shutting down; results still arrive as events)."""
        return self._pool.waitForDone(msecs)

    def shutdown(self, on_wait: WaitCallback | None = None) -> None:
        """Let every job finish, the queued ones included, and deliver their results; then return.

        Nothing is dropped: a status change queued behind a slow job is a write the clerk asked for. While
        waiting, on_wait(description) is called whenever the job at the head of the queue changes (the main
        window shows it in its status bar), and events other than user input are processed so the results
        (callbacks, changed(topic), problem dialogs) arrive and the window repaints.
        """
        shown: str | None = None
        waited = QElapsedTimer()
        waited.start()
        next_log = _SHUTDOWN_LOG_EVERY_MS
        idle_since: int | None = None
        while self._pending:
            description = self.current_description()
            if on_wait is not None and description != shown:
                shown = description
                on_wait(description)
            pool_idle = self._pool.waitForDone(_SHUTDOWN_SLICE_MS)
            QApplication.processEvents(QEventLoop.ProcessEventsFlag.ExcludeUserInputEvents)
            if not pool_idle or not self._pending:
                idle_since = None
            elif idle_since is None:
                idle_since = waited.elapsed()
            elif waited.elapsed() - idle_since > _LOST_REPORT_MS:
                log.error("%d job(s) never reported back; not waiting for them", len(self._pending))
                break
            if waited.elapsed() >= next_log:
                log.warning(
                    "still waiting for %d background job(s) at shutdown (%s)", len(self._pending), description
                )
                next_log += _SHUTDOWN_LOG_EVERY_MS
        self._pool.waitForDone()

    def _submit(
        self,
        work: Callable[[], Any],
        description: str,
        topic: str | None,
        on_success: SuccessCallback | None,
        on_failure: FailureCallback | None,
        parent: QWidget | None,
        owner: QObject | None,
        quiet: bool,
    ) -> int:
        job_id = next(self._ids)
        was_idle = not self._pending
        self._pending[job_id] = _Pending(description, topic, on_success, on_failure, parent, owner, quiet)
        self.started.emit(job_id)
        if was_idle:
            self.busy.emit(True)
        self._pool.start(_Job(job_id, work, self._report))
        return job_id

    def current_description(self) -> str:
        return next(iter(self._pending.values())).description if self._pending else ""

    def _on_report(self, job_id: int, ok: bool, payload: object) -> None:
        """A job is done. What happened in the database is announced first (changed), whatever the
        callbacks then do: they belong to windows that may be gone, or may have a bug of their own."""
        pending = self._pending.pop(job_id, None)
        if pending is None:
            return
        try:
            if ok:
                if pending.topic:
                    self.changed.emit(pending.topic)
                self._call(pending, "on_success", pending.on_success, payload)
            else:
                exc = payload if isinstance(payload, BaseException) else RuntimeError(repr(payload))
                self._call(pending, "on_failure", pending.on_failure, exc)
                if not pending.quiet:
                    messages.show_problem(self._parent_for(pending), exc)
        finally:
            if not self._pending:
                self.busy.emit(False)
            self.finished.emit(job_id, ok)

    def _call(
        self, pending: _Pending, name: str, callback: Callable[[Any], None] | None, arg: object
    ) -> None:
        if callback is None:
            return
        if pending.owner is not None and not isValid(pending.owner):
            log.info("%s of %r skipped: its window was closed meanwhile", name, pending.description)
            return
        try:
            callback(arg)
        except Exception:
            # The job itself is over (and for a write, committed): log the bug, say so honestly, carry on.
            log.exception("%s of %r failed", name, pending.description)
            messages.apologise(self._parent_for(pending))

    @staticmethod
    def _parent_for(pending: _Pending) -> QWidget | None:
        return pending.parent if _alive(pending.parent) else QApplication.activeWindow()


def _alive(widget: QWidget | None) -> bool:
    return widget is not None and isValid(widget)
