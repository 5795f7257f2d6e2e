"""Photos attached to a check-in or move-out handover (交接照片): checking the file, keeping it, listing it.

A photo is evidence of the state a flat was handed over in, so this module owns three promises: the file
kept is byte for byte the one the clerk chose (stored under its SHA-256 in photos/<handover id>/, so the
name proves the content), it is written before the row that points at it (a failed save leaves at most an
unreferenced file, never a row without its file), and nothing here removes a photo. Beside each original
lies a small upright JPEG (<sha256>.thumb.jpg) for the screen and the printed appendix; it is derived,
so it can be rebuilt from the original at any time (ensure_thumbnail).
"""

from __future__ import annotations

import hashlib
import io
import logging
import uuid
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from yuexiu_desk.clock import local_text
from yuexiu_desk.errors import EnvironmentProblem, UserError
from yuexiu_desk.files import write_atomically
from yuexiu_desk.formdefs import FormDefinition, SectionType, load_form
from yuexiu_desk.paths import StationPaths
from yuexiu_desk.printing.photo_pages import AppendixPhoto
from yuexiu_desk.services.access import require
from yuexiu_desk.services.handover import CHECKIN, MOVEOUT
from yuexiu_desk.storage.models import Handover, HandoverPhoto, Lease

if TYPE_CHECKING:
    from PIL.Image import Image as PILImage

log = logging.getLogger(__name__)

PHOTOS_FOLDER = "photos"
# Pillow's name of each accepted format → the suffix the kept file gets (from its content, not its name).
ACCEPTED_FORMATS = {"JPEG": ".jpg", "PNG": ".png", "WEBP": ".webp"}
ACCEPTED_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp")
MAX_PHOTO_BYTES = 20 * 1024 * 1024
MAX_PHOTO_MB = MAX_PHOTO_BYTES // (1024 * 1024)
MAX_CAPTION = 200
# Big enough to print a photo 9 cm wide at ~230 dpi on the appendix, small enough for a strip of them.
THUMBNAIL_SIDE = 800
THUMBNAIL_QUALITY = 85
THUMBNAIL_SUFFIX = ".thumb.jpg"
WHOLE = ""  # item_key of a photo of the handover as a whole
WHOLE_LABEL = "整体"
KIND_TITLES = {CHECKIN: "入住交接", MOVEOUT: "退出查验"}
ORIENTATION_TAG = 0x0112
# ISO base media "brands" of HEIF/HEIC/AVIF files (iPhone photos); Pillow cannot open them unaided.
_HEIF_BRANDS = (b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1", b"avif")


@dataclass(frozen=True)
class PhotoView:
    """One attached photo as the dialog and the printed appendix show it."""

    id: uuid.UUID
    item_key: str  # WHOLE, or the form key it belongs to ("kitchen.gas_stove", "meters.water_meter")
    label: str  # the item as the form names it ("厨房·燃气灶", "水表"), or WHOLE_LABEL
    path: Path  # the original, as the clerk chose it
    thumbnail: Path  # the small upright JPEG beside it (may be missing: see ensure_thumbnail)
    file_name: str  # relative to the station folder, as stored
    sha256: str
    caption: str
    operator: str
    added_at: datetime  # UTC


@dataclass(frozen=True)
class NewPhoto:
    """A photo the clerk chose for a handover that is about to be saved."""

    item_key: str
    source: Path
    caption: str = ""


@dataclass(frozen=True)
class PhotoFailure:
    photo: NewPhoto
    label: str
    message: str  # one sentence: why this photo was not attached


@dataclass(frozen=True)
class AttachReport:
    attached: tuple[uuid.UUID, ...]
    failed: tuple[PhotoFailure, ...]


@dataclass(frozen=True)
class _Checked:
    data: bytes
    sha256: str
    suffix: str
    thumbnail: bytes


def photos_folder(paths: StationPaths) -> Path:
    """Where the photos of every handover are kept (photos/ in the station folder)."""
    return paths.photos


def photo_targets(definition: FormDefinition) -> dict[str, str]:
    """Every key a photo may belong to → its label, in the form's order: the handover as a whole, each
    reading and count ("meters.water_meter" → 水表) and each checklist item ("kitchen.gas_stove" → 厨房·燃气灶)."""
    targets = {WHOLE: WHOLE_LABEL}
    for section in definition.sections:
        if section.type in (SectionType.READINGS, SectionType.COUNTS):
            targets.update({f"{section.id}.{f.id}": f.label for f in section.fields})
        elif section.type is SectionType.CHECKLIST:
            targets.update({i.id: f"{g.label}·{i.label}" for g in section.groups for i in g.items})
    return targets


def _kind(kind: str) -> str:
    if kind not in KIND_TITLES:
        raise UserError(f"照片只能添加到入住交接（{CHECKIN}）或退出查验（{MOVEOUT}），不能添加到“{kind}”。")
    return kind


def _handover(session: Session, lease_no: str, kind: str) -> Handover | None:
    # Any version of the lease: a check-in belongs to the version it was made under, and a lease
    # changed or renewed since then is still the same lease.
    found: Handover | None = session.scalar(
        select(Handover)
        .join(Lease, Lease.id == Handover.lease_id)
        .where(Lease.lease_no == lease_no.strip().upper(), Handover.kind == kind)
        .order_by(Handover.created_at.desc())
        .limit(1)
    )
    return found


def _require_handover(session: Session, lease_no: str, kind: str) -> Handover:
    handover = _handover(session, lease_no, _kind(kind))
    if handover is None:
        raise UserError(
            f"合同 {lease_no.strip().upper()} 还没有办理{KIND_TITLES[kind]}，"
            f"请先保存{KIND_TITLES[kind]}再添加照片。"
        )
    return handover


def _sniffed_heif(head: bytes) -> bool:
    return head[4:8] == b"ftyp" and head[8:12] in _HEIF_BRANDS


def _damaged(name: str, exc: BaseException) -> UserError:
    log.info("photo %s refused as damaged: %s", name, exc)  # Pillow's English detail is for the log
    return UserError(f"照片“{name}”已损坏或不完整，请重新从手机拷贝或重新拍照后再添加。")


def _open_image(data: bytes | BinaryIO, name: str) -> PILImage:
    """Pillow's image of the file, header read only; the refusals every caller shares."""
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            # Pillow warns above ~89 megapixels; a phone's 108 MP photo is still a photo, and the
            # thumbnail is decoded at a reduced scale. Above twice that, Pillow refuses (below).
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data) if isinstance(data, bytes) else data)
    except UnidentifiedImageError:
        raise UserError(f"“{name}”不是可识别的图片，只能添加 JPEG、PNG 或 WebP 格式的照片。") from None
    except Image.DecompressionBombError:
        raise UserError(f"照片“{name}”像素过多，无法处理，请用手机或看图软件缩小后再添加。") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise _damaged(name, exc) from None
    if image.format not in ACCEPTED_FORMATS:
        image.close()
        raise UserError(
            f"“{name}”是 {image.format} 格式，只能添加 JPEG、PNG 或 WebP 格式的照片，"
            f"请用看图软件另存为 JPEG 后再添加。"
        )
    return image


def check_photo(source: Path) -> None:
    """The quick checks the dialog runs as soon as a file is chosen: it exists, is not too large, and
    its header says JPEG, PNG or WebP. The whole file is decoded only when it is attached."""
    source = Path(source)
    _refuse_large(source, _size(source))
    try:
        with source.open("rb") as handle:
            if _sniffed_heif(handle.read(12)):
                raise UserError(_heif_refusal(source.name))
            handle.seek(0)
            _open_image(handle, source.name).close()
    except OSError as exc:
        raise _read_problem(source, exc) from exc


def _refuse_large(source: Path, size: int) -> None:
    if size > MAX_PHOTO_BYTES:
        raise UserError(
            f"照片“{source.name}”有 {size / 1024 / 1024:.1f} MB，超过 {MAX_PHOTO_MB} MB，"
            f"请用手机或看图软件压缩后再添加。"
        )


def _heif_refusal(name: str) -> str:
    return (
        f"“{name}”是 HEIC 格式（苹果手机默认格式），本程序无法打开；"
        f"请在手机“设置-相机-格式”中选“兼容性最佳”，或转成 JPEG 后再添加。"
    )


def _read_problem(source: Path, exc: OSError) -> EnvironmentProblem:
    return EnvironmentProblem(
        f"无法读取照片文件 {source}（{exc.strerror or exc}），请检查文件权限，或先把它复制到本机再添加。"
    )


def _size(source: Path) -> int:
    try:
        if not source.is_file():
            raise UserError(f"找不到照片文件 {source}，请确认文件还在（U 盘或手机是否已拔出）。")
        return source.stat().st_size
    except OSError as exc:
        raise _read_problem(source, exc) from exc


def _read(source: Path) -> bytes:
    _refuse_large(source, _size(source))
    try:
        # The bytes hashed are the bytes kept: read once, so a file changing meanwhile cannot differ.
        with source.open("rb") as handle:
            data = handle.read(MAX_PHOTO_BYTES + 1)
    except OSError as exc:
        raise _read_problem(source, exc) from exc
    _refuse_large(source, len(data))  # it grew since it was measured
    return data


def _thumbnail(image: PILImage, name: str) -> bytes:
    """Decode the whole photo (a truncated file is refused here) into a small upright JPEG."""
    from PIL import Image, ImageOps

    try:
        if image.format == "JPEG":
            # Decodes at 1/2, 1/4 or 1/8 scale: a 50 MP photo needs a fraction of the memory and time.
            image.draft("RGB", (THUMBNAIL_SIDE, THUMBNAIL_SIDE))
        image.load()
        # Phone photos are stored sideways with an EXIF note to turn them; the thumbnail is turned.
        upright = ImageOps.exif_transpose(image) if image.getexif().get(ORIENTATION_TAG, 1) != 1 else image
        if upright.mode in ("RGBA", "LA", "PA") or (upright.mode == "P" and "transparency" in upright.info):
            rgba = upright.convert("RGBA")
            backdrop = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
            small = Image.alpha_composite(backdrop, rgba).convert("RGB")
        else:
            small = upright.convert("RGB")
        small.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE))
        out = io.BytesIO()
        small.save(out, "JPEG", quality=THUMBNAIL_QUALITY, optimize=True)
    except (OSError, SyntaxError, ValueError) as exc:
        # Pillow reports truncated and damaged files as OSError (sometimes SyntaxError/ValueError).
        raise _damaged(name, exc) from None
    finally:
        image.close()
    return out.getvalue()


def _checked(source: Path) -> _Checked:
    data = _read(source)
    if _sniffed_heif(data[:12]):
        raise UserError(_heif_refusal(source.name))
    image = _open_image(data, source.name)
    suffix = ACCEPTED_FORMATS[str(image.format)]
    return _Checked(data, hashlib.sha256(data).hexdigest(), suffix, _thumbnail(image, source.name))


def _same_content(path: Path, sha256: str) -> bool:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest() == sha256
    except OSError:
        return False


def _bytes_writer(data: bytes) -> Callable[[BinaryIO], None]:
    def render(handle: BinaryIO) -> None:
        handle.write(data)

    return render


def _keep(paths: StationPaths, relative: str, data: bytes, sha256: str, what: str) -> None:
    target = paths.root / relative
    if target.is_file() and (sha256 == "" or _same_content(target, sha256)):
        return
    # A file of that name with other bytes was damaged on disk: the good copy replaces it.
    write_atomically(target, _bytes_writer(data), what)


def thumbnail_name(file_name: str) -> str:
    """The stored name of a photo's thumbnail: beside it, the hash and .thumb.jpg."""
    stem = file_name.rsplit(".", 1)[0]
    return stem + THUMBNAIL_SUFFIX


def attach_photo(
    session: Session,
    paths: StationPaths,
    lease_no: str,
    kind: str,
    item_key: str,
    source: Path,
    caption: str,
    operator: str,
) -> uuid.UUID:
    """Attach a photo file to the saved check-in or move-out of a lease (one item of it, or WHOLE).

    The file is copied into photos/<handover id>/<sha256>.<jpg|png|webp> as it is (never re-encoded:
    it is evidence) with a thumbnail beside it; the same content kept twice is one file. The same photo
    on the same item twice is refused. Returns the new photo's id.
    """
    handover = _require_handover(session, lease_no, kind)
    definition = load_form(kind)
    targets = photo_targets(definition)
    key = item_key.strip()
    if key not in targets:
        raise UserError(f"{definition.title}中没有“{key}”这一项，照片只能添加到表单中的项目或整张交接单。")
    text = caption.strip()
    if len(text) > MAX_CAPTION:
        raise UserError(f"照片说明最多 {MAX_CAPTION} 个字，现在有 {len(text)} 个字，请删减后再添加。")
    source = Path(source)
    checked = _checked(source)
    twice = session.scalar(
        select(HandoverPhoto.id).where(
            HandoverPhoto.handover_id == handover.id,
            HandoverPhoto.item_key == key,
            HandoverPhoto.sha256 == checked.sha256,
        )
    )
    if twice is not None:
        raise UserError(f"照片“{source.name}”已经添加到“{targets[key]}”了，同一张照片不必重复添加。")
    file_name = f"{PHOTOS_FOLDER}/{handover.id}/{checked.sha256}{checked.suffix}"
    # The file first: a row must never point at a file that is not there.
    _keep(paths, file_name, checked.data, checked.sha256, "照片文件")
    _keep(paths, thumbnail_name(file_name), checked.thumbnail, "", "照片缩略图")
    photo = HandoverPhoto(
        handover_id=handover.id,
        item_key=key,
        file_name=file_name,
        sha256=checked.sha256,
        caption=text,
        operator=operator,
        created_at=session.info["clock"].now(),
    )
    session.add(photo)
    session.flush()
    return photo.id


def keep_photo(paths: StationPaths, folder: str, source: Path) -> str:
    """Check a photo and keep it under photos/<folder>/<sha256>.<suffix> (with its thumbnail) for a record
    other than a handover (a repair request's photos); returns its name relative to the station folder,
    for the caller's row, which it must write only after this returned."""
    checked = _checked(Path(source))
    file_name = f"{PHOTOS_FOLDER}/{folder}/{checked.sha256}{checked.suffix}"
    _keep(paths, file_name, checked.data, checked.sha256, "照片文件")
    _keep(paths, thumbnail_name(file_name), checked.thumbnail, "", "照片缩略图")
    return file_name


def attach_photos(
    session: Session,
    paths: StationPaths,
    lease_no: str,
    kind: str,
    photos: Sequence[NewPhoto],
    operator: str,
) -> AttachReport:
    """Attach several photos, each on its own: one that cannot be attached is reported and the others
    (and whatever the session already holds, e.g. the handover saved just before) are kept."""
    require(session, "document.file")
    attached: list[uuid.UUID] = []
    failed: list[PhotoFailure] = []
    try:
        labels = photo_targets(load_form(_kind(kind)))
    except UserError:
        labels = {}
    for photo in photos:
        label = labels.get(photo.item_key, photo.item_key or WHOLE_LABEL)
        try:
            with session.begin_nested():
                attached.append(
                    attach_photo(
                        session, paths, lease_no, kind, photo.item_key, photo.source, photo.caption, operator
                    )
                )
        except (UserError, EnvironmentProblem) as exc:
            failed.append(PhotoFailure(photo, label, exc.message))
        except Exception:
            # The handover saved in this same job must not be lost to one photo Pillow chokes on.
            log.exception("attaching %s to %s %s failed", photo.source, lease_no, kind)
            failed.append(
                PhotoFailure(photo, label, f"照片“{photo.source.name}”无法处理（程序出错，已记入日志）。")
            )
    return AttachReport(tuple(attached), tuple(failed))


def photos_of(session: Session, paths: StationPaths, lease_no: str, kind: str) -> list[PhotoView]:
    """The photos of a lease's check-in or move-out in the form's order (the handover as a whole first),
    each item's in the order they were added; [] when that handover has not been saved."""
    handover = _handover(session, lease_no, _kind(kind))
    if handover is None:
        return []
    targets = photo_targets(load_form(kind))
    order = {key: position for position, key in enumerate(targets)}
    rows = session.scalars(
        select(HandoverPhoto)
        .where(HandoverPhoto.handover_id == handover.id)
        .order_by(HandoverPhoto.created_at, HandoverPhoto.id)
    ).all()
    # An item since removed from the form keeps its photos: they are listed last, under their key.
    ordered = sorted(rows, key=lambda row: order.get(row.item_key, len(order)))
    return [
        PhotoView(
            id=row.id,
            item_key=row.item_key,
            label=targets.get(row.item_key, row.item_key),
            path=paths.root / row.file_name,
            thumbnail=paths.root / thumbnail_name(row.file_name),
            file_name=row.file_name,
            sha256=row.sha256,
            caption=row.caption,
            operator=row.operator,
            added_at=row.created_at,
        )
        for row in ordered
    ]


def photo_counts(session: Session, lease_no: str, kind: str) -> dict[str, int]:
    """How many photos each item of a lease's check-in or move-out has (items without photos left out)."""
    handover = _handover(session, lease_no, _kind(kind))
    if handover is None:
        return {}
    rows = session.execute(
        select(HandoverPhoto.item_key, func.count())
        .where(HandoverPhoto.handover_id == handover.id)
        .group_by(HandoverPhoto.item_key)
    ).all()
    return {key: count for key, count in rows}


def ensure_thumbnail(photo: PhotoView) -> Path | None:
    """The photo's thumbnail, rebuilt from the original when it is missing; None when the original is
    missing or unreadable too (the caller shows that the file is gone rather than failing)."""
    if photo.thumbnail.is_file():
        return photo.thumbnail
    try:
        data = photo.path.read_bytes()
        small = _thumbnail(_open_image(data, photo.path.name), photo.path.name)
        write_atomically(photo.thumbnail, _bytes_writer(small), "照片缩略图")
    except (OSError, UserError, EnvironmentProblem):
        log.warning("no thumbnail for %s", photo.path, exc_info=True)
        return None
    return photo.thumbnail


def appendix_photos(photos: Sequence[PhotoView]) -> list[AppendixPhoto]:
    """The photos as the printed appendix shows them (printing.photo_pages), thumbnails rebuilt if needed."""
    return [
        AppendixPhoto(
            picture=ensure_thumbnail(photo),
            label=photo.label,
            caption=photo.caption,
            added=f"{local_text(photo.added_at)} {photo.operator}",
            file_name=photo.file_name,
        )
        for photo in photos
    ]
