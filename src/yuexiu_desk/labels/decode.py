"""Reading QR codes out of images (a photo of a label, a clipboard image, a webcam frame) with pyzbar.

Only decoding lives here; what a decoded text means is decided by services.lookup, the one parser that
typed, scanned and photographed labels all go through.
"""

from __future__ import annotations

import functools
import io
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from yuexiu_desk.errors import EnvironmentProblem, UserError

if TYPE_CHECKING:
    from PIL.Image import Image as PILImage

# Sizes (longest side, px) of the smaller copies tried when the image as given shows no code, and the
# size above which the contrast stretch works on a smaller copy rather than the (slow) full photo.
RETRY_SIDES = (1600, 800)
LARGE_SIDE = 2000
ORIENTATION_TAG = 0x0112
MAX_PEEL_PASSES = 4
# From this size on (pixels) an image with one code found is looked at again with that code painted out: a
# scanned or photographed label sheet, where zbar's first look has been seen to find only one of 24 codes.
# Webcam frames (720p: 0.9 million, 1080p: 2.1 million) stay at one pass.
PEEL_SINGLE_MIN_PIXELS = 3_000_000
PEEL_GROWTH = 1.1

NOT_FOUND = "图片中没有找到二维码，请对准标签拍清楚（靠近一点、避免反光和抖动）后再试。"

_Decoder = Callable[["PILImage"], list[Any]]


def decode_qr_texts(source: Path | str | bytes | Any) -> list[str]:
    """The text of every QR code in the image (a path, encoded image bytes, or a PIL image).

    Texts come in reading order (top to bottom, then left to right), each once. Raises UserError when the
    source is missing, is not a readable image, or holds no QR code.
    """
    from PIL import Image

    image = source if isinstance(source, Image.Image) else _open(source)
    if image.width == 0 or image.height == 0:
        raise UserError("这张图片是空的（没有内容），请重新拍照或截图后再试。")
    try:
        grey = _greyscale(image)
    except OSError as exc:
        # A lazily loaded PIL image from a damaged file fails only now, when its pixels are read.
        raise UserError(f"这张图片已损坏或不完整（{exc}），请重新拍照或重新保存后再试。") from None
    decode = _decoder()
    # First pass: the image as given, which is all a sharp screenshot or a decent photo needs. It must stay
    # as cheap as calling pyzbar directly: webcam frames come several times a second.
    found = decode(grey)
    if not found:
        grey, found = _retry(grey, decode)
    if not found:
        raise UserError(NOT_FOUND)
    if len(found) > 1 or grey.width * grey.height >= PEEL_SINGLE_MIN_PIXELS:
        found.extend(_peel(grey, found, decode))
    return _reading_order(found)


def _open(source: Path | str | bytes | Any) -> PILImage:
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
        if not data:
            raise UserError("收到的图片是空的（0 字节），请重新复制或拍照后再试。")
        return _load(io.BytesIO(data), "这张图片")
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        if not path.exists():
            raise UserError(f"找不到图片文件 {path}，请检查文件名和位置后再选一次。")
        if path.is_dir():
            raise UserError(f"{path} 是一个文件夹，不是图片，请选择一张图片文件。")
        try:
            size = path.stat().st_size
            if size == 0:
                raise UserError(f"图片文件 {path} 是空的（0 字节），请重新拍照或换一张图片。")
            data = path.read_bytes()
        except OSError as exc:
            raise EnvironmentProblem(
                f"无法读取图片文件 {path}（{exc.strerror or exc}），请检查文件权限或把它复制到别处再试。"
            ) from exc
        return _load(io.BytesIO(data), f"文件 {path} ")
    raise TypeError(f"decode_qr_texts needs a path, image bytes or a PIL image, not {type(source).__name__}")


def _load(stream: io.BytesIO, what: str) -> PILImage:
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        image = Image.open(stream)
        # Decode now, not lazily at the first pixel access, so a truncated file is reported here.
        image.load()
    except UnidentifiedImageError:
        raise UserError(f"{what}不是可识别的图片，请选择照片或截图（PNG、JPEG 等格式）。") from None
    except Image.DecompressionBombError:
        raise UserError(f"{what}尺寸过大，无法识别，请缩小后或只截取标签部分再试。") from None
    except (OSError, SyntaxError, ValueError) as exc:
        # Pillow reports truncated and damaged files as OSError (sometimes SyntaxError/ValueError).
        raise UserError(f"{what}已损坏或不完整（{exc}），请重新拍照或重新保存后再试。") from None
    # Phone photos are stored sideways with an EXIF note to turn them; reading order needs them upright.
    # (exif_transpose copies even an upright image, so ask first.)
    if image.getexif().get(ORIENTATION_TAG, 1) != 1:
        return ImageOps.exif_transpose(image)
    return image


def _greyscale(image: PILImage) -> PILImage:
    from PIL import Image

    if image.mode == "L":
        return image
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        # A transparent screenshot background would turn black and swallow the code's quiet zone.
        rgba = image.convert("RGBA")
        backdrop = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(backdrop, rgba).convert("L")
    return image.convert("L")


def _retry(grey: PILImage, decode: _Decoder) -> tuple[PILImage, list[Any]]:
    """A second look for hard images: smaller copies, then a contrast-stretched copy.

    Returns the image the codes were found in (their positions refer to it) and the codes.
    """
    from PIL import Image, ImageOps

    # zbar's edge detector trips over sensor noise once a module spans more than a few pixels (a phone
    # photo taken close up); averaging pixels down removes the noise and keeps the code readable.
    copies: list[PILImage] = []
    current = grey
    for side in RETRY_SIDES:
        if side > max(current.size) * 0.8:
            continue  # hardly smaller: not worth a pass
        current = current.copy()
        current.thumbnail((side, side), Image.Resampling.BOX)
        found = decode(current)
        if found:
            return current, found
        copies.append(current)
    # Grey-on-grey (a dim photo, a faded print): stretch the histogram, ignoring a few outlier pixels.
    # A huge photo is stretched at the first smaller size: the full size would cost a slow pass.
    base = copies[0] if copies and max(grey.size) > LARGE_SIDE else grey
    stretched = ImageOps.autocontrast(base, cutoff=1)
    return stretched, decode(stretched)


def _peel(grey: PILImage, found: Sequence[Any], decode: _Decoder) -> list[Any]:
    """The codes zbar missed beside those it found, when an image holds several (a photo of a label sheet).

    With many codes in view zbar pairs up finder patterns of neighbouring codes and gives up on some
    (a few in a hundred on a full label sheet, and once all but one); painting out the codes already read and
    looking again finds them. A single code in a small image never gets here, so webcam frames cost one pass.
    """
    from PIL import ImageDraw

    canvas = grey.copy()
    draw = ImageDraw.Draw(canvas)
    more: list[Any] = []
    latest = list(found)
    for _ in range(MAX_PEEL_PASSES):
        for item in latest:
            draw.polygon(_grown(item.polygon), fill=255)
        latest = decode(canvas)
        if not latest:
            break
        more.extend(latest)
    return more


def _grown(polygon: Sequence[Any]) -> list[tuple[float, float]]:
    """The polygon enlarged about its centre, so the anti-aliased rim of the code is painted out too."""
    cx = sum(point.x for point in polygon) / len(polygon)
    cy = sum(point.y for point in polygon) / len(polygon)
    return [(cx + (point.x - cx) * PEEL_GROWTH, cy + (point.y - cy) * PEEL_GROWTH) for point in polygon]


@functools.cache
def _decoder() -> _Decoder:
    # Imported on first use: pyzbar loads the zbar C library, which headless commands rarely need.
    try:
        from pyzbar.pyzbar import ZBarSymbol
        from pyzbar.pyzbar import decode as zbar_decode
    except (ImportError, OSError) as exc:
        raise EnvironmentProblem(
            "找不到二维码识别库 zbar，无法识别图片中的二维码；请安装 libzbar0"
            "（Debian/Ubuntu：apt-get install libzbar0，较新的系统为 libzbar0t64）后重新启动程序。"
        ) from exc
    symbols = [ZBarSymbol.QRCODE]

    def decode(image: PILImage) -> list[Any]:
        return list(zbar_decode(image, symbols=symbols))

    return decode


def _reading_order(found: Sequence[Any]) -> list[str]:
    """Texts top to bottom, then left to right, each once.

    Codes whose vertical centres fall within the first code's height of a row count as one row, so a
    slightly tilted photo of a label sheet still reads row by row.
    """
    boxes = sorted(found, key=lambda item: item.rect.top + item.rect.height / 2)
    rows: list[list[Any]] = []
    row_bottom = -1.0
    for item in boxes:
        centre = item.rect.top + item.rect.height / 2
        if not rows or centre > row_bottom:
            rows.append([])
            row_bottom = item.rect.top + item.rect.height
        rows[-1].append(item)
    texts: dict[str, None] = {}
    for row in rows:
        for item in sorted(row, key=lambda item: item.rect.left):
            texts.setdefault(item.data.decode("utf-8", errors="replace"), None)
    return list(texts)
