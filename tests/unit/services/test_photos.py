"""Handover photos: only real JPEG/PNG/WebP photos of a saved handover's items are kept, byte for byte
under their hash, once per item, journaled; listed in the form's order; printed on the appendix."""

from __future__ import annotations

import hashlib
import io
from datetime import timedelta
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium
import pytest
from PIL import Image
from sqlalchemy import func, select

from yuexiu_desk.clock import FixedClock, local_date
from yuexiu_desk.domain.access import system_operator
from yuexiu_desk.errors import UserError
from yuexiu_desk.formdefs import SectionType, load_form
from yuexiu_desk.paths import StationPaths
from yuexiu_desk.printing.photo_pages import write_photo_appendix
from yuexiu_desk.services import handover as handovers
from yuexiu_desk.services import photos as svc
from yuexiu_desk.services.leases import list_leases
from yuexiu_desk.storage.db import Store
from yuexiu_desk.storage.models import ChangeJournal, HandoverPhoto

STOVE = "kitchen.gas_stove"


def answers(kind: str) -> dict[str, Any]:
    form = load_form(kind)
    readings = {
        f"{s.id}.{f.id}": "100.5" for s in form.sections if s.type is SectionType.READINGS for f in s.fields
    }
    counts = {f"{s.id}.{f.id}": "2" for s in form.sections if s.type is SectionType.COUNTS for f in s.fields}
    return {"readings": readings, "counts": counts, "results": {i.id: (i.results[0], "") for i in form.items}}


def photo(
    folder: Path,
    name: str,
    size: tuple[int, int] = (640, 480),
    colour: tuple[int, ...] = (180, 120, 60),
    fmt: str | None = None,
    mode: str = "RGB",
    **save: Any,
) -> Path:
    """A picture with some structure (a cross), so JPEG keeps it recognisable."""
    image = Image.new(mode, size, colour)
    for x in range(size[0]):
        image.putpixel((x, size[1] // 3), (0,) * len(colour))
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / name
    image.save(out, fmt, **save)
    return out


@pytest.fixture
def lease_no(demo_store: Store) -> str:
    with demo_store.read() as session:
        return list_leases(session, active_only=True)[0].lease_no


@pytest.fixture
def checked_in(demo_store: Store, lease_no: str, clock: FixedClock) -> str:
    with demo_store.unit_of_work(system_operator("李明")) as session:
        handovers.record_checkin(
            session, lease_no, handovers.HandoverInput(local_date(clock.now()), **answers("checkin")), "李明"
        )
    return lease_no


def attach(store: Store, lease_no: str, item: str, source: Path, caption: str = "", kind: str = "checkin"):
    with store.unit_of_work(system_operator("李明")) as session:
        return svc.attach_photo(session, store.paths, lease_no, kind, item, source, caption, "李明")


def rows(store: Store) -> list[HandoverPhoto]:
    with store.read() as session:
        return list(session.scalars(select(HandoverPhoto).order_by(HandoverPhoto.created_at)))


def kept_files(paths: StationPaths) -> list[Path]:
    folder = svc.photos_folder(paths)
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def test_a_photo_is_kept_byte_for_byte_under_its_hash_with_a_thumbnail_and_journaled(
    demo_store: Store, checked_in: str, tmp_path: Path
) -> None:
    source = photo(tmp_path / "phone", "IMG_0001.JPG", size=(4000, 3000), quality=92)
    photo_id = attach(demo_store, checked_in, STOVE, source, "  灶台左侧有划痕  ")

    [row] = rows(demo_store)
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    assert row.id == photo_id and row.sha256 == digest and row.item_key == STOVE
    assert row.file_name == f"photos/{row.handover_id}/{digest}.jpg"
    kept = demo_store.paths.root / row.file_name
    assert kept.read_bytes() == source.read_bytes()  # evidence: never re-encoded
    assert hashlib.sha256(kept.read_bytes()).hexdigest() == row.sha256
    assert row.caption == "灶台左侧有划痕" and row.operator == "李明"
    with Image.open(kept.with_name(f"{digest}.thumb.jpg")) as thumb:
        assert thumb.format == "JPEG" and max(thumb.size) == svc.THUMBNAIL_SIDE
    assert not list(kept.parent.glob(".*.tmp"))
    with demo_store.read() as session:
        journal = session.scalars(select(ChangeJournal).where(ChangeJournal.record_id == photo_id)).all()
    assert [(j.table_name, j.operation, j.operator) for j in journal] == [
        ("handover_photo", "insert", "李明")
    ]


def test_the_kept_suffix_comes_from_the_content_and_webp_and_png_are_accepted(
    demo_store: Store, checked_in: str, tmp_path: Path
) -> None:
    disguised = photo(tmp_path, "meter.png", fmt="JPEG")  # a JPEG with the wrong name
    webp = photo(tmp_path, "door.webp", colour=(10, 200, 30))
    png = photo(tmp_path, "screen.png", mode="RGBA", colour=(0, 0, 255, 0))  # transparent: white thumbnail
    attach(demo_store, checked_in, "meters.water_meter", disguised)
    attach(demo_store, checked_in, "keys.door_keys", webp)
    attach(demo_store, checked_in, svc.WHOLE, png)
    names = [r.file_name for r in rows(demo_store)]
    assert [Path(n).suffix for n in names] == [".jpg", ".webp", ".png"]
    with Image.open(demo_store.paths.root / svc.thumbnail_name(names[2])) as thumb:
        assert thumb.mode == "RGB" and thumb.getpixel((5, 5)) == (255, 255, 255)


def test_the_thumbnail_is_upright_but_the_original_keeps_its_exif_turn(
    demo_store: Store, checked_in: str, tmp_path: Path
) -> None:
    exif = Image.Exif()
    exif[svc.ORIENTATION_TAG] = 6  # stored sideways, "turn 90° clockwise to view"
    source = photo(tmp_path, "sideways.jpg", size=(1200, 900), exif=exif)
    attach(demo_store, checked_in, STOVE, source)
    [row] = rows(demo_store)
    with Image.open(demo_store.paths.root / svc.thumbnail_name(row.file_name)) as thumb:
        assert thumb.size == (600, 800)
    assert (demo_store.paths.root / row.file_name).read_bytes() == source.read_bytes()


def test_the_same_content_is_one_file_and_the_same_photo_on_the_same_item_is_refused(
    demo_store: Store, checked_in: str, tmp_path: Path
) -> None:
    source = photo(tmp_path, "a.jpg")
    copy = tmp_path / "copy of a.jpg"
    copy.write_bytes(source.read_bytes())
    attach(demo_store, checked_in, STOVE, source)
    attach(demo_store, checked_in, "kitchen.gas_pipe", copy)  # the same picture shows both
    with pytest.raises(UserError, match="已经添加到“厨房·燃气灶”"):
        attach(demo_store, checked_in, STOVE, copy)
    assert len(rows(demo_store)) == 2
    originals = [p for p in kept_files(demo_store.paths) if not p.name.endswith(svc.THUMBNAIL_SUFFIX)]
    assert len(originals) == 1


def test_a_damaged_kept_copy_is_replaced_by_the_good_one(
    demo_store: Store, checked_in: str, tmp_path: Path
) -> None:
    source = photo(tmp_path, "a.jpg")
    attach(demo_store, checked_in, STOVE, source)
    kept = demo_store.paths.root / rows(demo_store)[0].file_name
    kept.write_bytes(b"bit rot")
    attach(demo_store, checked_in, "kitchen.cabinets", source)
    assert kept.read_bytes() == source.read_bytes()


def not_a_photo(folder: Path) -> Path:
    out = folder / "notes.jpg"
    out.write_text("这不是照片", encoding="utf-8")
    return out


def heic(folder: Path) -> Path:
    out = folder / "IMG_0002.HEIC"
    out.write_bytes(b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64)
    return out


def truncated(folder: Path) -> Path:
    whole = photo(folder, "whole.jpg", size=(1600, 1200)).read_bytes()
    out = folder / "half.jpg"
    out.write_bytes(whole[: len(whole) // 2])
    return out


def too_large(folder: Path) -> Path:
    out = photo(folder, "huge.png")
    with out.open("r+b") as handle:  # sparse: 20 MB and a byte, written in no time
        handle.truncate(svc.MAX_PHOTO_BYTES + 1)
    return out


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (not_a_photo, "不是可识别的图片"),
        (lambda folder: photo(folder, "scan.gif", mode="P", colour=(3,)), "是 GIF 格式"),
        (lambda folder: photo(folder, "scan.bmp"), "是 BMP 格式"),
        (lambda folder: photo(folder, "scan.tif"), "是 TIFF 格式"),
        (heic, "HEIC"),
        (truncated, "已损坏或不完整"),
        (too_large, "超过 20 MB"),
        (lambda folder: folder / "gone.jpg", "找不到照片文件"),
    ],
    ids=["text", "gif", "bmp", "tiff", "heic", "truncated", "too-large", "missing"],
)
def test_files_that_are_not_usable_photos_are_refused_and_nothing_is_kept(
    demo_store: Store, checked_in: str, tmp_path: Path, make: Any, words: str
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    source = make(folder)
    with pytest.raises(UserError, match=words) as refused:
        attach(demo_store, checked_in, STOVE, source)
    assert "。" in refused.value.message
    assert rows(demo_store) == []
    assert kept_files(demo_store.paths) == []


def test_the_quick_check_refuses_what_attaching_refuses(tmp_path: Path) -> None:
    svc.check_photo(photo(tmp_path, "fine.jpg"))
    for bad in (not_a_photo(tmp_path), heic(tmp_path), too_large(tmp_path)):
        with pytest.raises(UserError):
            svc.check_photo(bad)


def test_unknown_items_kinds_missing_handovers_and_long_captions_are_refused(
    demo_store: Store, lease_no: str, tmp_path: Path, clock: FixedClock
) -> None:
    source = photo(tmp_path, "a.jpg")
    with pytest.raises(UserError, match="还没有办理入住交接"):
        attach(demo_store, lease_no, STOVE, source)
    with pytest.raises(UserError, match="还没有办理退出查验"):
        attach(demo_store, lease_no, STOVE, source, kind="moveout")
    with demo_store.unit_of_work(system_operator("李明")) as session:
        handovers.record_checkin(
            session, lease_no, handovers.HandoverInput(local_date(clock.now()), **answers("checkin")), "李明"
        )
    with pytest.raises(UserError, match=r"没有“kitchen\.sofa”这一项"):
        attach(demo_store, lease_no, "kitchen.sofa", source)
    with pytest.raises(UserError, match="只能添加到入住交接"):
        attach(demo_store, lease_no, STOVE, source, kind="lease")
    with pytest.raises(UserError, match="最多 200 个字"):
        attach(demo_store, lease_no, STOVE, source, caption="很" * 201)
    assert rows(demo_store) == []


def test_photos_are_listed_in_the_form_order_with_labels_and_counted(
    demo_store: Store, checked_in: str, tmp_path: Path, clock: FixedClock
) -> None:
    added = [
        (STOVE, "灶台"),
        ("meters.water_meter", ""),
        (svc.WHOLE, ""),
        (STOVE, "第二张"),
    ]
    for n, (item, caption) in enumerate(added):
        clock.advance(timedelta(minutes=1))
        attach(demo_store, checked_in.lower(), item, photo(tmp_path, f"{n}.jpg", colour=(n, 2, 3)), caption)
    with demo_store.read() as session:
        listed = svc.photos_of(session, demo_store.paths, checked_in, "checkin")
        counts = svc.photo_counts(session, checked_in, "checkin")
        assert svc.photos_of(session, demo_store.paths, checked_in, "moveout") == []
    assert [(p.item_key, p.label) for p in listed] == [
        ("", "整体"),
        ("meters.water_meter", "水表"),
        (STOVE, "厨房·燃气灶"),
        (STOVE, "厨房·燃气灶"),
    ]
    assert [p.caption for p in listed[2:]] == ["灶台", "第二张"] and listed[2].operator == "李明"
    assert all(p.path.is_file() and p.thumbnail.is_file() for p in listed)
    assert counts == {"": 1, "meters.water_meter": 1, STOVE: 2}


def test_photos_attach_to_the_moveout_of_an_ended_lease(
    demo_store: Store, checked_in: str, tmp_path: Path, clock: FixedClock
) -> None:
    data = handovers.MoveOutInput(held_on=local_date(clock.now()), **answers("moveout"))
    with demo_store.unit_of_work(system_operator("李明")) as session:
        handovers.record_moveout(session, checked_in, data, "李明")
    source = photo(tmp_path, "after.jpg")
    attach(demo_store, checked_in, STOVE, source, kind="moveout")
    attach(demo_store, checked_in, STOVE, source)  # the same picture on the check-in: another handover
    with demo_store.read() as session:
        moveout = svc.photos_of(session, demo_store.paths, checked_in, "moveout")
        checkin = svc.photos_of(session, demo_store.paths, checked_in, "checkin")
    assert len(moveout) == len(checkin) == 1
    assert moveout[0].path.parent != checkin[0].path.parent


def test_photos_chosen_with_a_new_handover_are_attached_in_its_job_and_a_bad_one_only_is_left_out(
    demo_store: Store, lease_no: str, tmp_path: Path, clock: FixedClock
) -> None:
    good = photo(tmp_path, "good.jpg")
    bad = not_a_photo(tmp_path)
    chosen = [
        svc.NewPhoto(STOVE, good, "灶台"),
        svc.NewPhoto("meters.water_meter", bad),
        svc.NewPhoto(svc.WHOLE, good),
    ]
    with demo_store.unit_of_work(system_operator("李明")) as session:
        handovers.record_checkin(
            session, lease_no, handovers.HandoverInput(local_date(clock.now()), **answers("checkin")), "李明"
        )
        report = svc.attach_photos(session, demo_store.paths, lease_no, "checkin", chosen, "李明")
    assert len(report.attached) == 2
    [failure] = report.failed
    assert failure.photo.source == bad and failure.label == "水表" and "不是可识别的图片" in failure.message
    with demo_store.read() as session:
        assert handovers.handover_values(session, lease_no, "checkin") is not None
        assert session.scalar(select(func.count()).select_from(HandoverPhoto)) == 2
        logged = session.scalar(
            select(func.count())
            .select_from(ChangeJournal)
            .where(ChangeJournal.table_name == "handover_photo")
        )
    assert logged == 2  # the refused photo's savepoint left no journal row behind


def test_a_missing_thumbnail_is_rebuilt_and_a_missing_original_prints_as_missing(
    demo_store: Store, checked_in: str, tmp_path: Path
) -> None:
    attach(demo_store, checked_in, STOVE, photo(tmp_path, "a.jpg"), "灶台左侧划痕")
    attach(demo_store, checked_in, svc.WHOLE, photo(tmp_path, "b.png", colour=(9, 9, 9)))
    with demo_store.read() as session:
        listed = svc.photos_of(session, demo_store.paths, checked_in, "checkin")
    listed[1].thumbnail.unlink()
    assert svc.ensure_thumbnail(listed[1]) == listed[1].thumbnail and listed[1].thumbnail.is_file()
    listed[0].thumbnail.unlink()
    listed[0].path.unlink()
    assert svc.ensure_thumbnail(listed[0]) is None

    out = tmp_path / "photos.pdf"
    pages = write_photo_appendix(out, svc.appendix_photos(listed), "入住交接照片", "合同 " + checked_in)
    assert pages == 1
    pdf = pdfium.PdfDocument(io.BytesIO(out.read_bytes()))
    text = pdf[0].get_textpage().get_text_range()
    for words in ("附页：交接照片", "1．整体", "2．厨房·燃气灶", "灶台左侧划痕", "照片文件缺失", "李明"):
        assert words in text.replace("\r\n", ""), words
    images = [o for o in pdf[0].get_objects() if o.type == pdfium.raw.FPDF_PAGEOBJ_IMAGE]
    assert len(images) == 1
    pdf.close()


def test_the_filled_checkin_form_says_which_items_have_photos_and_shows_them_on_an_appendix(
    demo_store: Store, checked_in: str, tmp_path: Path
) -> None:
    from printing.test_forms import read_pdf, squeeze

    from yuexiu_desk.services.form_print import print_form

    item = load_form("checkin").items[0].id
    attach(demo_store, checked_in, item, photo(tmp_path / "in", "a.jpg"), "灶台有划痕")
    out = tmp_path / "入住交接单.pdf"
    with demo_store.read() as session:
        printed = print_form(session, "checkin", out, lease_no=checked_in, paths=demo_store.paths)
        without = print_form(session, "checkin", tmp_path / "plain.pdf", lease_no=checked_in)
    pages = read_pdf(out)
    assert printed.pages == len(pages) == without.pages + 1
    assert "照片1张" in squeeze("".join(p.text for p in pages[:-1]))
    last = squeeze(pages[-1].text)
    assert "附页：入住交接照片" in last and "灶台有划痕" in last
