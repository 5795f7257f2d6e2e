"""异动统计: the page shows what services.units.change_statistics counts, for the chosen station dates."""

from __future__ import annotations

from datetime import date

from yuexiu_desk.services.units import change_statistics


def service_counts(store, start, end):
    with store.read() as session:
        stats = change_statistics(session, start, end)
    return {k.label: n for k, n in stats.by_kind.items()} | {"合计": stats.total}, stats


def test_default_range_is_this_year_in_station_time(window, demo_store):
    page = window.statistics
    # the test clock is 2026-11-20 02:00 UTC = 10:00 in Wuhan
    assert page.date_range() == (date(2026, 1, 1), date(2026, 11, 20))
    expected, stats = service_counts(demo_store, date(2026, 1, 1), date(2026, 11, 20))
    assert page.kind_counts() == expected
    assert stats.total > 0
    status_rows = {line.label: line.count for line in page.status_model.lines()}
    assert status_rows["维修中"] == 3
    assert status_rows["合计"] == 194


def test_quick_ranges(window, demo_store):
    page = window.statistics
    for button, start in (
        (page.month_button, date(2026, 11, 1)),
        (page.quarter_button, date(2026, 10, 1)),
        (page.year_button, date(2026, 1, 1)),
    ):
        button.click()
        assert page.date_range() == (start, date(2026, 11, 20))
        expected, _stats = service_counts(demo_store, start, date(2026, 11, 20))
        assert page.kind_counts() == expected


def test_reversed_range_says_why(window):
    page = window.statistics
    page.set_range(date(2026, 6, 1), date(2026, 5, 1))
    assert "结束日期早于开始日期" in page.error_label.text()
    page.year_button.click()
    assert page.error_label.text() == ""


def test_new_status_change_is_counted(window, demo_store, wait_job):
    from yuexiu_desk.domain.units import UnitStatus
    from yuexiu_desk.services.units import UnitFilter, change_status, list_units

    page = window.statistics
    before = page.kind_counts()["合计"]
    with demo_store.read() as session:
        vacant = list_units(session, UnitFilter(status=UnitStatus.VACANT))[0]
    with wait_job(window.runner):
        window.runner.run(lambda s: change_status(s, vacant.id, UnitStatus.RESERVED, "配租公示预留", "前台"))
    assert page.kind_counts()["合计"] == before + 1
    assert page.kind_counts()["预留"] >= 1


def test_a_hidden_page_recounts_when_shown_again(window, demo_store, wait_job):
    from yuexiu_desk.domain.units import UnitStatus
    from yuexiu_desk.services.units import UnitFilter, change_status, list_units

    window.show_page(2)
    page = window.statistics
    total = page.statistics.total
    window.show_page(0)
    with demo_store.read() as session:
        vacant = list_units(session, UnitFilter(status=UnitStatus.VACANT))[0]
    with wait_job(window.runner):
        window.runner.run(lambda s: change_status(s, vacant.id, UnitStatus.RESERVED, "配租公示预留", "前台"))
    assert page.statistics.total == total  # not counted while nobody looks
    window.show_page(2)
    assert page.statistics.total == total + 1
    assert page.range_label.text().endswith(f"异动共 {total + 1} 次")
