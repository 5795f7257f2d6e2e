"""The op runner: work off the GUI thread, results and problems back on it, changed(topic) after writes."""

from __future__ import annotations

import threading

from yuexiu_desk.domain.units import UnitStatus
from yuexiu_desk.errors import EnvironmentProblem, UserError
from yuexiu_desk.gui.oprunner import OpRunner
from yuexiu_desk.services.units import UnitFilter, list_units


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
    runner = OpRunner(demo_store, operator="王前台")
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
