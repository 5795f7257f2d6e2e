"""Reading QR codes from images: screenshots, files, phone-like photos, and the ways an image can be bad."""

from __future__ import annotations

import io
import random
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import qrcode
from PIL import Image, ImageChops, ImageFilter
from pyzbar.pyzbar import ZBarSymbol
from pyzbar.pyzbar import decode as zbar_decode

from yuexiu_desk.errors import EnvironmentProblem, UserError
from yuexiu_desk.labels import decode as decode_module
from yuexiu_desk.labels.decode import decode_qr_texts

TEXT_A = "YX1U-YXY01-NYWGQRZGTJCIRHTE2NVPQAT24Y-D"
TEXT_B = "YX1U-YXY01-B2AJAEC3JRASRPZRCNMNA65PUI-8"
TEXT_C = "YX1U-YXY01-HDSE4GVRQNADBLEMOVSQSOU5XU-D"


def qr_image(text: str, box_size: int = 6, border: int = 4) -> Image.Image:
    """The code as qrcode draws it: a black-and-white (mode "1") PIL image with a quiet zone."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=box_size, border=border)
    code.add_data(text)
    code.make(fit=True)
    image: Image.Image = code.make_image().get_image()
    return image


def png_bytes(image: Image.Image, format: str = "PNG", **options: Any) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=format, **options)
    return buffer.getvalue()


def noisy_background(size: tuple[int, int], seed: int = 7, low: int = 90, high: int = 190) -> Image.Image:
    """Grey sensor-like noise, reproducible (Pillow's effect_noise is not seeded)."""
    noise = random.Random(seed).randbytes(size[0] * size[1])
    return Image.frombytes("L", size, noise).point(lambda v: low + v * (high - low) // 255)


def bare_zbar(image: Image.Image) -> list[bytes]:
    """What pyzbar alone reads in the image: the baseline decode_qr_texts must do better than."""
    return [symbol.data for symbol in zbar_decode(image, symbols=[ZBarSymbol.QRCODE])]


@pytest.fixture
def count_zbar_passes(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """Count how many times zbar is run over an image."""
    real = decode_module._decoder()
    calls: list[int] = []

    def counting(image: Image.Image) -> list[Any]:
        calls.append(1)
        return real(image)

    monkeypatch.setattr(decode_module, "_decoder", lambda: counting)
    yield calls


def test_a_screenshot_of_a_label_is_read() -> None:
    assert decode_qr_texts(qr_image(TEXT_A)) == [TEXT_A]


def test_a_single_clear_code_costs_one_zbar_pass(count_zbar_passes: list[int]) -> None:
    frame = Image.new("L", (1280, 720), 200)
    frame.paste(qr_image(TEXT_A, box_size=8).convert("L"), (400, 150))

    assert decode_qr_texts(frame) == [TEXT_A]
    assert len(count_zbar_passes) == 1


def test_encoded_png_and_jpeg_bytes_are_read() -> None:
    image = qr_image(TEXT_A).convert("RGB")

    assert decode_qr_texts(png_bytes(image)) == [TEXT_A]
    assert decode_qr_texts(png_bytes(image, "JPEG", quality=70)) == [TEXT_A]
    assert decode_qr_texts(bytearray(png_bytes(image))) == [TEXT_A]


def test_an_image_file_is_read_by_path_or_string(tmp_path: Path) -> None:
    path = tmp_path / "标签照片.png"
    path.write_bytes(png_bytes(qr_image(TEXT_A)))

    assert decode_qr_texts(path) == [TEXT_A]
    assert decode_qr_texts(str(path)) == [TEXT_A]


def test_a_phone_like_photo_of_a_label_is_read() -> None:
    # A slightly enlarged, tilted, blurred code printed grey-on-grey, on a large noisy background.
    code = qr_image(TEXT_A, box_size=5).convert("L").point(lambda v: 205 if v else 45)
    code = code.resize((int(code.width * 1.37), int(code.height * 1.37)), Image.Resampling.BICUBIC)
    code = code.rotate(7, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=205)
    photo = noisy_background((1600, 1200))
    photo.paste(code, (530, 310))
    photo = photo.filter(ImageFilter.GaussianBlur(1.2)).convert("RGB")

    assert decode_qr_texts(png_bytes(photo, "JPEG", quality=80)) == [TEXT_A]


def test_a_noisy_close_up_from_a_phone_camera_is_read() -> None:
    # 12 megapixels, the code filling a third of the frame, with the sensor noise of a dim stairwell.
    # Bare zbar sees nothing in it: its edge detector trips over the noise inside the large modules.
    code = qr_image(TEXT_A, box_size=40).convert("L").point(lambda v: 188 if v else 68)
    scene = Image.new("L", (4000, 3000), 188)
    scene.paste(code, (1300, 600))
    photo = ImageChops.add(scene, noisy_background(scene.size, low=108, high=148), offset=-128)
    assert bare_zbar(photo) == []

    assert decode_qr_texts(photo.convert("RGB")) == [TEXT_A]


def test_a_dim_low_contrast_photo_is_read() -> None:
    # Four grey levels between dark and light modules: too faint for bare zbar.
    dim = qr_image(TEXT_A).convert("L").point(lambda v: 104 if v else 100)
    assert bare_zbar(dim) == []

    assert decode_qr_texts(dim) == [TEXT_A]


def test_a_screenshot_with_transparent_background_is_read() -> None:
    # Black modules on a transparent canvas: turned to grey naively, the background would be black too.
    mask = qr_image(TEXT_A).convert("L").point(lambda v: 0 if v else 255)
    clip = Image.new("RGBA", mask.size, (0, 0, 0, 0))
    clip.putalpha(mask)

    assert decode_qr_texts(png_bytes(clip)) == [TEXT_A]


def test_several_codes_come_in_reading_order() -> None:
    sheet = Image.new("L", (1400, 1000), 255)
    # Top row: B sits a little lower than A but is still to its right in the same row.
    sheet.paste(qr_image(TEXT_A).convert("L"), (700, 40))
    sheet.paste(qr_image(TEXT_B).convert("L"), (60, 60))
    sheet.paste(qr_image(TEXT_C).convert("L"), (300, 600))

    assert decode_qr_texts(sheet) == [TEXT_B, TEXT_A, TEXT_C]


def test_a_page_where_zbars_first_look_finds_one_code_is_still_read_whole(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Seen once on a 200 dpi scan of a demo label sheet: zbar's first pass returned one code of 24. Here
    its first look is made to return only the first code it finds; the page is still read whole."""
    page = Image.new("L", (1654, 2339), 255)  # A4 at 200 dpi
    for n, text in enumerate((TEXT_A, TEXT_B, TEXT_C)):
        page.paste(qr_image(text).convert("L"), (100 + 500 * n, 200 + 600 * n))
    real = decode_module._decoder()
    looks: list[int] = []

    def first_look_sees_one(image: Image.Image) -> list[Any]:
        looks.append(1)
        found = real(image)
        return found[:1] if len(looks) == 1 else found

    monkeypatch.setattr(decode_module, "_decoder", lambda: first_look_sees_one)
    assert decode_qr_texts(page) == [TEXT_A, TEXT_B, TEXT_C]


def test_the_same_code_twice_is_reported_once() -> None:
    sheet = Image.new("L", (1000, 400), 255)
    sheet.paste(qr_image(TEXT_A).convert("L"), (20, 20))
    sheet.paste(qr_image(TEXT_A).convert("L"), (520, 20))

    assert decode_qr_texts(sheet) == [TEXT_A]


def test_a_sideways_phone_photo_is_read_upright() -> None:
    upright = Image.new("L", (900, 400), 255)
    upright.paste(qr_image(TEXT_A).convert("L"), (20, 40))
    upright.paste(qr_image(TEXT_B).convert("L"), (500, 40))
    # Phones store the sensor image as is and note "turn 90° clockwise to view" in EXIF.
    stored = upright.rotate(90, expand=True)
    exif = Image.Exif()
    exif[0x0112] = 6

    assert decode_qr_texts(png_bytes(stored, "JPEG", quality=90, exif=exif)) == [TEXT_A, TEXT_B]


def test_an_image_without_a_code_says_to_take_a_clearer_photo() -> None:
    with pytest.raises(UserError, match="没有找到二维码") as caught:
        decode_qr_texts(noisy_background((800, 600)))

    assert "拍清楚" in caught.value.message


def test_a_text_file_is_not_an_image(tmp_path: Path) -> None:
    path = tmp_path / "notes.png"
    path.write_text("1-2-1603 漏水", encoding="utf-8")

    with pytest.raises(UserError, match="不是可识别的图片"):
        decode_qr_texts(path)
    with pytest.raises(UserError, match="不是可识别的图片"):
        decode_qr_texts(b"YX1U-YXY01-NYWGQRZGTJCIRHTE2NVPQAT24Y-D")


def test_a_truncated_image_is_reported_as_damaged() -> None:
    whole = png_bytes(qr_image(TEXT_A).convert("L"))

    with pytest.raises(UserError, match="损坏"):
        decode_qr_texts(whole[: len(whole) // 2])


def test_empty_file_and_empty_bytes_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "empty.png"
    path.write_bytes(b"")

    with pytest.raises(UserError, match="空的"):
        decode_qr_texts(path)
    with pytest.raises(UserError, match="空的"):
        decode_qr_texts(b"")


def test_a_zero_size_image_is_refused() -> None:
    with pytest.raises(UserError, match="空的"):
        decode_qr_texts(Image.new("L", (0, 0)))


def test_a_missing_file_names_the_file(tmp_path: Path) -> None:
    missing = tmp_path / "没有这张照片.jpg"

    with pytest.raises(UserError, match="找不到图片文件") as caught:
        decode_qr_texts(missing)

    assert str(missing) in caught.value.message


def test_a_folder_is_not_an_image(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="文件夹"):
        decode_qr_texts(tmp_path)


def test_missing_zbar_library_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    # As on a Linux machine without libzbar0: importing pyzbar.pyzbar fails.
    monkeypatch.setitem(sys.modules, "pyzbar.pyzbar", None)
    decode_module._decoder.cache_clear()
    try:
        with pytest.raises(EnvironmentProblem, match="libzbar0"):
            decode_qr_texts(qr_image(TEXT_A))
    finally:
        monkeypatch.undo()
        decode_module._decoder.cache_clear()

    assert decode_qr_texts(qr_image(TEXT_A)) == [TEXT_A]
