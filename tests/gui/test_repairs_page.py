"""维修台账 as the front desk uses it: a repair reported by scanning the unit's label, dispatched with its slip
printed (the slip's QR finds the order), completed with who/what/cost, a follow-up that says 未修好 sends it back,
late orders first and in red, and bad input said in one sentence."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt

from yuexiu_desk.labels.decode import decode_qr_texts
from yuexiu_desk.services import users, workorders
from yuexiu_desk.services.lookup import resolve_work_order, unit_payload
from yuexiu_desk.storage.db import Store


def repairs_page(window):
    window.show_page(9)
    page = window.repairs
    assert window.current_page() is page
    return page


def test_late_orders_lead_in_red(window) -> None:
    page = repairs_page(window)
    rows = page.model.rows
    assert rows and rows[0].number in page.late  # the demo has an open order past its target
    assert page.model.index(0, 0).data(Qt.ItemDataRole.ForegroundRole) is not None
    assert "超过响应或完工时限" in page.summary_label.text()


def test_report_dispatch_complete_and_follow_up_a_repair(
    window, demo_store: Store, wait_job, messages, unit_id, tmp_path: Path
) -> None:
    demo_store.operator = users.sign_in(demo_store, "frontdesk", users.DEMO_PASSWORD)
    page = repairs_page(window)
    with demo_store.read() as session:
        scanned = unit_payload("YXY01", unit_id("1-2-1603"))
    dialog = page.new_order_dialog()
    page.unit_edit.setText(scanned)  # the scanner types the label's payload into the box
    page.category_combo.setCurrentIndex(page.category_combo.findData("plumbing"))
    page.description_edit.setText("厨房水龙头漏水")
    dialog.accept()
    with wait_job(window.runner):
        page.add_order(dialog)
    (said,) = messages.texts("information")
    number = said.split("工单 ")[1].split("（")[0]
    assert "1-2-1603" in said

    def select(number: str) -> None:
        page.table.selectRow([r.number for r in page.model.rows].index(number))

    select(number)
    with wait_job(window.runner):
        page.dispatch("王师傅")
    select(number)
    slip = tmp_path / "slip.pdf"
    with wait_job(window.runner):
        page.print_slip(slip)
    images = _pdf_page_png(slip, tmp_path)
    (payload,) = [text for text in decode_qr_texts(images) if text.startswith("YX1FW")]
    with demo_store.read() as session:
        assert resolve_work_order(session, payload) == workorders.get_work_order(session, number).id

    select(number)
    done = page.completion_dialog()
    page.labour_edit.setText("更换水龙头阀芯")
    page.materials_edit.setText("阀芯 1 个")
    page.cost_edit.setText("abc")
    done.accept()
    with wait_job(window.runner):
        page.complete(done)
    assert len(messages.texts("warning")) == 1  # a cost that is no amount: one sentence, nothing saved
    with demo_store.read() as session:
        assert workorders.get_work_order(session, number).status.value == "dispatched"
    page.cost_edit.setText("35.50")
    with wait_job(window.runner):
        page.complete(done)

    select(number)
    visit = page.follow_up_dialog()
    page.satisfaction_spin.setValue(2)
    page.not_fixed_check.setChecked(True)
    page.comment_edit.setText("还在滴水")
    visit.accept()
    with wait_job(window.runner):
        page.follow_up(visit)
    with demo_store.read() as session:
        order = workorders.get_work_order(session, number)
    assert (order.status.value, order.assignee, order.reopen_count, order.cost_fen) == (
        "dispatched",
        "王师傅",
        1,
        3550,
    )


def _pdf_page_png(pdf: Path, folder: Path) -> Path:
    import pypdfium2

    page = pypdfium2.PdfDocument(str(pdf))[0]
    out = folder / "slip.png"
    page.render(scale=3).to_pil().save(out)
    return out


def test_the_statistics_tab_charts_the_last_twelve_months(window, demo_store: Store) -> None:
    from datetime import date, timedelta

    from yuexiu_desk.services.workorders import repair_statistics

    page = repairs_page(window)
    page.tabs.setCurrentIndex(1)
    end = date(2026, 11, 20)  # the demo's today
    with demo_store.read() as session:
        expected = repair_statistics(session, end - timedelta(days=364), end)
    assert expected.orders > 0
    assert sum(n for _m, n in page.month_chart.rows) == expected.orders
    assert [label for label, _n in page.category_chart.rows] == [
        f.category.label for f in expected.by_category
    ]
    assert page.floor_chart.rows[0] == (expected.hotspot_floors[0].place, expected.hotspot_floors[0].orders)
    text = page.stats_label.text()
    assert f"报修 {expected.orders} 张" in text and "平均满意度" in text and "反复报修的房屋" in text
    page.month_chart.grab()  # paints without error
