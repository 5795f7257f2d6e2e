"""The op runner: work off the GUI thread, results and problems back on it, changed(topic) after writes."""

from __future__ import annotations

import logging
import threading

import shiboken6
from PySide6.QtWidgets import QWidget

from yuexiu_desk.domain.access import Operator
from yuexiu_desk.domain.units import UnitStatus
from yuexiu_desk.errors import EnvironmentProblem, UserError
from yuexiu_desk.gui.messages import APOLOGY
from yuexiu_desk.gui.oprunner import OpRunner
from yuexiu_desk.services.units import UnitFilter, change_status, list_units, unit_card

GATE_TIMEOUT_S = 20  # a worker waiting for the test gives up after this (the test then fails)


def first_vacant(store):
    with store.read() as session:
        return list_units(session, UnitFilter(status=UnitStatus.VACANT))[0]


def status_of(store, unit_id):
    with store.read() as session:
        return unit_card(session, unit_id).row.status


def test_runs_off_the_gui_thread_and_reports_back(qtbot, demo_store, wait_job):
    runner = OpRunner(demo_store)
    threads, results = [], []

    def op(session):
        threads.append(threading.current_thread())
        return len(list_units(session, UnitFilter()))

    with qtbot.waitSignal(runner.changed, timeout=10_000) as changed, wait_job(runner) as finished:
        runner.run(op, topic="units", on_success=results.append)
    assert threads and threads[0] is not threading.main_thread()
    assert results == [194]
    assert changed.args == ["units"]
    assert finished.args[1] is True
    runner.shutdown()


def test_write_is_committed_with_the_operator(qtbot, demo_store, wait_job):
    demo_store.operator = Operator("wang", "王前台", "house_manager")
    runner = OpRunner(demo_store)
    from yuexiu_desk.services.units import change_status, unit_card

    with demo_store.read() as session:
        vacant = list_units(session, UnitFilter(status=UnitStatus.VACANT))[0]
    with wait_job(runner):
        runner.run(
            lambda s: change_status(s, vacant.id, UnitStatus.UNDER_REPAIR, "水管爆裂", s.info["operator"])
        )
    with demo_store.read() as session:
        card = unit_card(session, vacant.id)
    assert card.row.status == UnitStatus.UNDER_REPAIR
    assert card.history[0].operator == "王前台"
    runner.shutdown()


def test_user_error_is_shown_as_is_and_rolled_back(qtbot, demo_store, wait_job, messages):
    runner = OpRunner(demo_store)
    from yuexiu_desk.services.units import change_status, unit_card

    with demo_store.read() as session:
        vacant = list_units(session, UnitFilter(status=UnitStatus.VACANT))[0]

    def op(session):
        change_status(session, vacant.id, UnitStatus.RESERVED, "公示预留", "前台")
        raise UserError("第二步失败了。")

    failures = []
    with wait_job(runner) as finished:
        runner.run(op, on_failure=failures.append)
    assert finished.args[1] is False
    assert messages.texts("warning") == ["第二步失败了。"]
    assert isinstance(failures[0], UserError)
    with demo_store.read() as session:
        assert unit_card(session, vacant.id).row.status == UnitStatus.VACANT  # nothing half-written
    runner.shutdown()


def test_environment_problem_is_shown_as_is(qtbot, demo_store, wait_job, messages):
    runner = OpRunner(demo_store)

    def op(session):
        raise EnvironmentProblem("磁盘已满，请清理后再试。")

    with wait_job(runner):
        runner.run(op, write=False)
    assert messages.texts("warning") == ["磁盘已满，请清理后再试。"]
    runner.shutdown()


def test_bug_is_logged_and_apologised_for(qtbot, demo_store, wait_job, messages, caplog):
    runner = OpRunner(demo_store)

    def op(session):
        raise KeyError("oops")

    changed = []
    runner.changed.connect(changed.append)
    with wait_job(runner):
        runner.run(op)
    (apology,) = messages.texts("critical")
    assert apology == APOLOGY
    assert "很抱歉" in apology
    assert any(r.exc_info and r.exc_info[0] is KeyError for r in caplog.records)
    assert changed == []
    messages.allow_critical = True
    runner.shutdown()


def test_busy_brackets_the_jobs(qtbot, demo_store, wait_job):
    runner = OpRunner(demo_store)
    states = []
    runner.busy.connect(states.append)
    with wait_job(runner):
        runner.run_task(lambda: 1)
    assert states == [True, False]
    assert not runner.is_busy
    runner.shutdown()


# --- shutdown never drops a queued write ------------------------------------------------------------


def test_shutdown_waits_for_a_write_queued_behind_a_slow_job(qtbot, demo_store):
    runner = OpRunner(demo_store)
    vacant = first_vacant(demo_store)
    started, gate = threading.Event(), threading.Event()
    done = []

    def slow():
        started.set()
        assert gate.wait(GATE_TIMEOUT_S), "shutdown() never started waiting"
        return "slow"

    runner.run_task(slow, description="正在生成标签 PDF…", on_success=done.append)
    runner.run(
        lambda s: change_status(s, vacant.id, UnitStatus.UNDER_REPAIR, "水管爆裂", s.info["operator"]),
        description="正在保存房态变更…",
        on_success=lambda _event: done.append("write"),
    )
    assert started.wait(GATE_TIMEOUT_S)  # the slow job runs; the write is queued behind it
    waits = []

    def on_wait(description):
        waits.append(description)
        gate.set()  # the slow job ends only once shutdown() is waiting for it

    runner.shutdown(on_wait=on_wait)
    assert waits[0] == "正在生成标签 PDF…"
    assert done == ["slow", "write"]  # results delivered, in order, before shutdown() returned
    assert not runner.is_busy
    assert status_of(demo_store, vacant.id) == UnitStatus.UNDER_REPAIR


def test_shutdown_with_nothing_to_do_returns_at_once(qtbot, demo_store):
    runner = OpRunner(demo_store)
    waits = []
    runner.shutdown(on_wait=waits.append)
    assert waits == []


# --- callbacks of closed windows, and callbacks with bugs --------------------------------------------


def test_changed_comes_first_and_a_gone_owners_callback_is_skipped(qtbot, demo_store, wait_job, messages):
    runner = OpRunner(demo_store)
    vacant = first_vacant(demo_store)
    owner = QWidget()
    gate = threading.Event()
    order = []
    runner.changed.connect(lambda topic: order.append(f"changed:{topic}"))

    def op(session):
        assert gate.wait(GATE_TIMEOUT_S)
        return change_status(session, vacant.id, UnitStatus.RESERVED, "公示预留", "前台")

    runner.run(op, on_success=lambda _event: order.append(owner.windowTitle()), owner=owner, parent=owner)
    shiboken6.delete(owner)  # the clerk closed the window while the job ran
    with wait_job(runner) as finished:
        gate.set()
    assert finished.args[1] is True
    assert order == ["changed:units"]  # views refresh; the dead window's callback is skipped, not crashed
    assert messages.shown == []
    assert status_of(demo_store, vacant.id) == UnitStatus.RESERVED
    runner.shutdown()


def test_callbacks_of_a_live_owner_still_run_after_changed(qtbot, demo_store, wait_job):
    runner = OpRunner(demo_store)
    owner = QWidget()
    order = []
    runner.changed.connect(lambda topic: order.append(f"changed:{topic}"))
    with wait_job(runner):
        runner.run_task(lambda: 7, topic="units", on_success=lambda n: order.append(n), owner=owner)
    assert order == ["changed:units", 7]
    runner.shutdown()


def test_failure_of_a_gone_owner_still_shows_the_real_message(qtbot, demo_store, wait_job, messages):
    runner = OpRunner(demo_store)
    owner = QWidget()
    gate = threading.Event()

    def op(session):
        assert gate.wait(GATE_TIMEOUT_S)
        raise UserError("这套房源正在办理其他异动，请稍后再试。")

    failures = []
    runner.run(op, on_failure=lambda exc: failures.append(owner.windowTitle()), owner=owner, parent=owner)
    shiboken6.delete(owner)
    with wait_job(runner) as finished:
        gate.set()
    assert finished.args[1] is False
    assert failures == []
    assert messages.texts("warning") == ["这套房源正在办理其他异动，请稍后再试。"]
    assert messages.texts("critical") == []
    runner.shutdown()


def test_a_bug_in_a_success_callback_is_logged_and_does_not_hide_the_commit(
    qtbot, demo_store, wait_job, messages, caplog
):
    runner = OpRunner(demo_store)
    vacant = first_vacant(demo_store)
    changed, busy = [], []
    runner.changed.connect(changed.append)
    runner.busy.connect(busy.append)

    def broken(_event):
        raise KeyError("bug in the view")

    with caplog.at_level(logging.ERROR), wait_job(runner) as finished:
        runner.run(
            lambda s: change_status(s, vacant.id, UnitStatus.RESERVED, "公示预留", "前台"), on_success=broken
        )
    assert finished.args[1] is True
    assert changed == ["units"]
    assert busy == [True, False]
    assert any(r.exc_info and r.exc_info[0] is KeyError for r in caplog.records)
    (apology,) = messages.texts("critical")
    assert "没有被改动" not in apology and "确认是否已保存" in apology  # honest: it may have been saved
    assert status_of(demo_store, vacant.id) == UnitStatus.RESERVED
    messages.allow_critical = True
    runner.shutdown()
