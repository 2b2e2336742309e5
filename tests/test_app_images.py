"""app.images: data URLs to bytes, bytes to a decoded image, with refusals before decoding."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from PIL import Image

from app.errors import ApiError
from app.images import decode_data_url, open_image


def png_bytes(image: Image.Image, fmt: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt)
    return buffer.getvalue()


def test_decode_data_url_variants():
    raw = b"\x89PNG\r\n\x1a\nrest"
    b64 = base64.b64encode(raw).decode()
    assert decode_data_url(f"data:image/png;base64,{b64}") == raw
    assert decode_data_url(f"DATA:IMAGE/JPEG;BASE64,{b64}") == raw
    assert decode_data_url(f"data:;base64,{b64}") == raw
    assert decode_data_url(f"data:image/png;charset=x;base64,{b64}") == raw
    assert decode_data_url(b64) == raw
    wrapped = "\n".join(b64[i : i + 4] for i in range(0, len(b64), 4))
    assert decode_data_url(f"data:image/png;base64,{wrapped}") == raw


@pytest.mark.parametrize(
    ("value", "status", "words"),
    [
        ("data:image/png;base64,####", 400, "base64"),
        ("data:image/svg+xml;base64,PHN2Zz4=", 400, "image/svg+xml"),
        ("data:image/png,plain", 400, "base64"),
        ("data:", 400, "malformed"),
        ("   ", 400, "empty"),
        ("QUJD\u0000", 400, "base64"),
    ],
)
def test_decode_data_url_refusals(value, status, words):
    with pytest.raises(ApiError) as caught:
        decode_data_url(value)
    assert caught.value.status == status
    assert words in caught.value.message


def test_open_image_decodes_png_and_jpeg():
    pixels = (np.arange(28 * 28).reshape(28, 28) % 256).astype(np.uint8)
    png = open_image(png_bytes(Image.fromarray(pixels)), 10_000)
    assert png.size == (28, 28) and png.format == "PNG"
    np.testing.assert_array_equal(np.asarray(png), pixels)
    jpeg = open_image(png_bytes(Image.fromarray(pixels), "JPEG"), 10_000)
    assert jpeg.size == (28, 28) and jpeg.format == "JPEG"


def test_open_image_checks_size_from_the_header_before_decoding(monkeypatch):
    data = png_bytes(Image.new("L", (200, 100)))
    loaded = []
    monkeypatch.setattr(Image.Image, "load", lambda self: loaded.append(self))
    with pytest.raises(ApiError) as caught:
        open_image(data, 19_999)
    assert caught.value.status == 413
    assert "200x100 = 20,000 pixels" in caught.value.message
    assert loaded == []  # not a pixel was decoded


@pytest.mark.parametrize("fmt", ["GIF", "BMP", "TIFF", "WEBP"])
def test_open_image_refuses_other_formats(fmt):
    with pytest.raises(ApiError) as caught:
        open_image(png_bytes(Image.new("RGB", (8, 8)), fmt), 10_000)
    assert caught.value.status == 400
    assert "PNG or JPEG" in caught.value.message


def test_open_image_refuses_png_magic_with_a_gif_inside():
    gif = png_bytes(Image.new("L", (8, 8)), "GIF")
    with pytest.raises(ApiError) as caught:
        open_image(b"\x89PNG\r\n\x1a\n" + gif, 10_000)
    assert caught.value.status == 400


def test_open_image_decodes_a_large_jpeg_at_a_reduced_scale():
    data = png_bytes(Image.new("L", (2400, 2000), 255), "JPEG")
    image = open_image(data, 313_600)
    assert image.size == (600, 500)  # 1/4 scale: the smallest reduction within the limit
    assert open_image(data, 2400 * 2000).size == (2400, 2000)  # within the limit: full size


def test_a_phone_photo_with_a_second_picture_is_read_at_a_reduced_scale_too():
    """Many phones write a JPEG with a preview inside (MPO): it is a JPEG all the same."""
    photo, buffer = Image.new("RGB", (2400, 2000), "white"), io.BytesIO()
    photo.save(buffer, "MPO", save_all=True, append_images=[photo.resize((240, 200))])
    assert Image.open(io.BytesIO(buffer.getvalue())).format == "MPO"
    assert open_image(buffer.getvalue(), 313_600).size == (600, 500)


def test_open_image_refuses_a_jpeg_too_large_even_at_one_eighth():
    with pytest.raises(ApiError) as caught:
        open_image(png_bytes(Image.new("L", (2400, 2000)), "JPEG"), 10_000)
    assert caught.value.status == 413
    assert "2400x2000" in caught.value.message and "1/8 scale" in caught.value.message


@pytest.mark.parametrize(("orientation", "size"), [(1, (40, 20)), (3, (40, 20)), (6, (20, 40))])
def test_open_image_applies_the_exif_orientation(orientation, size):
    pixels = np.zeros((20, 40), np.uint8)
    pixels[:, :10] = 255  # a white band on the left of the stored image
    exif = Image.Exif()
    exif[0x0112] = orientation
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "JPEG", quality=95, exif=exif.tobytes())
    image = open_image(buffer.getvalue(), 10_000)
    assert image.size == size
    shown = np.asarray(image.convert("L")) > 128
    expected = {1: shown[:, :10], 3: shown[:, -10:], 6: shown[:10, :]}[orientation]
    assert expected.all()  # the band is where a photo viewer shows it
    assert shown.sum() == 20 * 10
