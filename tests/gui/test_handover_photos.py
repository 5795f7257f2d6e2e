"""Photos in the handover dialogs: chosen or dropped per item, shown as a strip with counts, attached in the
save job (a bad one reported, the handover kept), and the check-in's photos seen and added to later."""

from __future__ import annotations

import hashlib
from pathlib import Path

import shiboken6
from PIL import Image
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QFileDialog, QLabel
from sqlalchemy import select

from yuexiu_desk.domain.access import system_operator
from yuexiu_desk.services.handover import CHECKIN, MOVEOUT, handover_values
from yuexiu_desk.services.leases import list_leases
from yuexiu_desk.services.photos import photos_of
from yuexiu_desk.storage.models import HandoverPhoto

STOVE = "kitchen.gas_stove"


def an_active_lease(store):
    with store.read() as session:
        return list_leases(session, active_only=True)[0]


def open_dialog(window, lease_no, kind):
    window.show_page(4)
    page = window.leases
    assert page.select_lease(lease_no)
    return page.handover(kind)


def fill_checkin(dialog):
    for i, edit in enumerate(dialog.readings.values()):
        edit.setText(f"{120 + i}.50")
    for spin in dialog.counts.values():
        spin.setValue(2)
    dialog.fill_unanswered_with_first()


def picture(folder: Path, name: str, colour: tuple[int, int, int], size=(1200, 900)) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    image = Image.new("RGB", size, colour)
    for x in range(size[0]):
        image.putpixel((x, size[1] // 2), (0, 0, 0))
    out = folder / name
    image.save(out)
    return out


def choose_files(monkeypatch, files):
    asked = []

    def chooser(parent, title, folder, filters):
        asked.append((title, filters))
        return [str(f) for f in files], filters.split(";;")[0]

    monkeypatch.setattr(QFileDialog, "getOpenFileNames", chooser)
    return asked


def drop(widget, files):
    """Files dropped from the file manager. Qt delivers a drop only inside a real drag, so the widget's
    handler is called as Qt would call it."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(f)) for f in files])
    event = QDropEvent(
        QPointF(5, 5),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    widget.dropEvent(event)
    assert event.isAccepted()


def kept_rows(store):
    with store.read() as session:
        return list(session.scalars(select(HandoverPhoto).order_by(HandoverPhoto.item_key)))


def test_two_photos_on_an_item_and_one_dropped_are_saved_with_the_checkin(
    window, demo_store, wait_job, messages, monkeypatch, tmp_path
):
    lease = an_active_lease(demo_store)
    dialog = open_dialog(window, lease.lease_no, CHECKIN)
    phone = tmp_path / "phone"
    first, second = picture(phone, "IMG_1.JPG", (200, 80, 40)), picture(phone, "IMG_2.jpg", (40, 80, 200))
    heic = phone / "IMG_3.HEIC"
    heic.write_bytes(b"\x00\x00\x00\x18ftypheic" + b"\x00" * 40)
    stove = dialog.photos.buttons[STOVE]
    asked = choose_files(monkeypatch, [first, second, heic])

    stove.click()
    # The chooser offers photos (upper-case .JPG too); the HEIC is refused at once, with why.
    assert "*.JPG" in asked[0][1] and "燃气灶" in asked[0][0]
    assert "HEIC" in messages.texts("warning")[-1]
    assert stove.text() == "照片 2"
    assert [t.label for t in dialog.photo_strip.tiles] == ["厨房·燃气灶", "厨房·燃气灶"]
    dialog.photo_strip.tiles[0].caption.setText("灶台左侧划痕")
    choose_files(monkeypatch, [first])
    stove.click()  # the same file twice for one item is one photo
    assert stove.text() == "照片 2"

    whole = picture(phone, "room.png", (90, 160, 90))
    drop(dialog.photo_strip, [whole])
    assert [t.item_key for t in dialog.photo_strip.tiles][-1] == ""
    assert dialog.photo_strip.isVisible()

    fill_checkin(dialog)
    with wait_job(window.runner):
        dialog.ok_button.click()
    assert not shiboken6.isValid(dialog) or not dialog.isVisible()
    assert not any("照片" in t for t in messages.texts("warning")[1:])

    rows = kept_rows(demo_store)
    assert sorted((r.item_key, r.caption) for r in rows) == [("", ""), (STOVE, ""), (STOVE, "灶台左侧划痕")]
    digest = {f: hashlib.sha256(f.read_bytes()).hexdigest() for f in (first, second, whole)}
    assert {r.caption: r.sha256 for r in rows if r.caption} == {"灶台左侧划痕": digest[first]}
    assert {r.sha256 for r in rows} == set(digest.values())
    for row in rows:
        kept = demo_store.paths.root / row.file_name
        assert row.file_name.startswith(f"photos/{row.handover_id}/")
        assert hashlib.sha256(kept.read_bytes()).hexdigest() == row.sha256 == kept.stem
    assert all(r.operator == window.runner.operator for r in rows)


def test_a_photo_that_fails_at_save_is_reported_and_the_checkin_stays_saved(
    window, demo_store, wait_job, messages, monkeypatch, tmp_path
):
    lease = an_active_lease(demo_store)
    dialog = open_dialog(window, lease.lease_no, CHECKIN)
    good = picture(tmp_path, "good.jpg", (10, 120, 60))
    spoilt = picture(tmp_path, "meter.jpg", (60, 60, 60))
    choose_files(monkeypatch, [spoilt])
    dialog.photos.buttons["meters.water_meter"].click()
    drop(dialog.photos.buttons[STOVE], [good])
    assert dialog.photos.buttons[STOVE].text() == "照片 1"
    spoilt.write_bytes(spoilt.read_bytes()[:2000])  # the card was pulled while copying
    fill_checkin(dialog)

    with wait_job(window.runner):
        dialog.ok_button.click()
    warning = messages.texts("warning")[-1]
    assert "入住交接已保存" in warning and "水表" in warning and "已损坏或不完整" in warning
    with demo_store.read() as session:
        assert handover_values(session, lease.lease_no, CHECKIN) is not None
    assert [r.item_key for r in kept_rows(demo_store)] == [STOVE]


def test_the_moveout_shows_the_checkin_photos_and_more_can_be_added_to_a_saved_handover(
    window, demo_store, wait_job, messages, monkeypatch, tmp_path
):
    lease = an_active_lease(demo_store)
    checkin = open_dialog(window, lease.lease_no, CHECKIN)
    stove = picture(tmp_path, "stove.jpg", (200, 100, 0))
    choose_files(monkeypatch, [stove])
    checkin.photos.buttons[STOVE].click()
    fill_checkin(checkin)
    with wait_job(window.runner):
        checkin.ok_button.click()

    moveout = open_dialog(window, lease.lease_no, MOVEOUT)
    texts = [label.text() for label in moveout.findChildren(QLabel)]
    assert "入住时：完好，照片 1 张" in texts
    assert moveout.checkin_photos_button is not None
    assert moveout.checkin_photos_button.text() == "入住时的照片（1 张）…"
    photos = moveout.show_checkin_photos()
    assert not photos.empty.isVisible()
    assert len(photos.kept) == 1 and photos.kept[0].label == "厨房·燃气灶"
    assert not photos.save_button.isEnabled()

    later = picture(tmp_path, "later.webp", (0, 0, 200))
    photos.target.setCurrentIndex(photos.target.findData("meters.gas_meter"))
    drop(photos.strip, [later])
    assert photos.save_button.isEnabled()
    photos.strip.tiles[0].caption.setText("补拍燃气表")
    with wait_job(window.runner):
        photos.save_button.click()
    assert photos.strip.pending() == []
    assert [(p.label, p.caption) for p in photos.kept] == [("燃气表", "补拍燃气表"), ("厨房·燃气灶", "")]
    with demo_store.read() as session:
        kept = photos_of(session, demo_store.paths, lease.lease_no, CHECKIN)
    assert {p.path.suffix for p in kept} == {".webp", ".jpg"}
    photos.reject()
    moveout.reject()


def test_the_lease_page_opens_a_saved_checkins_photos(window, demo_store, wait_job, tmp_path):
    """Photos copied off a phone after the handover are seen and added from the lease page (交接照片)."""
    from yuexiu_desk.services.photos import attach_photo

    lease = an_active_lease(demo_store)
    dialog = open_dialog(window, lease.lease_no, CHECKIN)
    fill_checkin(dialog)
    with wait_job(window.runner):
        dialog.ok_button.click()
    with demo_store.unit_of_work(system_operator("李明")) as session:
        photo = picture(tmp_path, "a.jpg", (200, 40, 40))
        attach_photo(session, demo_store.paths, lease.lease_no, CHECKIN, "", photo, "", "李明")
    window.show_page(4)
    page = window.leases
    assert page.select_lease(lease.lease_no)
    photos = page.handover_photos(CHECKIN)
    assert photos is not None and photos.isVisible()
    assert photos.lease_no == lease.lease_no and photos.kind == CHECKIN
    assert not photos.empty.isVisible()  # the saved photo is shown, not "还没有照片"
