"""From the request's `image` field (a data URL) to a decoded PIL image, refusing bad input early.

Every refusal is an `ApiError` with a status and a message that says what was wrong. The
image's size is read from its header and checked *before* any pixel is decoded, so a small
file that claims to be a huge image (a decompression bomb) costs nothing, and one request
cannot keep the single worker busy for long.
"""

from __future__ import annotations

import base64
import binascii
import io
import re

from PIL import Image, ImageOps, UnidentifiedImageError

from app.errors import ApiError
from digitrec.constants import CANVAS_SIZE

FORMATS = ("PNG", "JPEG")
MEDIA_TYPES = {"image/png", "image/jpeg", "image/jpg"}
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
JPEG_MAGIC = b"\xff\xd8\xff"
# data:[<media type>][;param=value]*;base64,<data>
DATA_URL = re.compile(r"data:(?P<type>[^;,]*)(?P<params>(?:;[^;,]*)*),", re.IGNORECASE)
BASE64_TEXT = re.compile(r"[A-Za-z0-9+/]*={0,2}")
SEND_SMALLER = f" (the drawing canvas is {CANVAS_SIZE}x{CANVAS_SIZE}): send a smaller image"


def decode_data_url(value: str) -> bytes:
    """The bytes in a `data:image/png;base64,...` URL (a bare base64 string is accepted too)."""
    value = value.strip()  # a line break before "data:" is as harmless as one inside
    if not value:
        raise ApiError(400, "the image is empty: send data:image/png;base64,<data>")
    payload = value
    match = DATA_URL.match(value)
    if match:
        media_type = match["type"].strip().lower()
        params = [p.strip().lower() for p in match["params"].split(";") if p.strip()]
        if media_type and media_type not in MEDIA_TYPES:
            shown = media_type if len(media_type) <= 40 else media_type[:40] + "..."
            raise ApiError(400, f"the image must be a PNG or JPEG data URL, not {shown!r}")
        if "base64" not in params:
            raise ApiError(400, "the data URL must be base64: data:image/png;base64,<data>")
        payload = value[match.end() :]
    elif value[:5].lower() == "data:":
        raise ApiError(400, "malformed data URL: expected data:image/png;base64,<data>")
    payload = "".join(payload.split())  # line breaks from some encoders are harmless
    if not payload:
        raise ApiError(400, "the image is empty: no base64 data after the comma")
    if not BASE64_TEXT.fullmatch(payload):
        raise ApiError(400, "the image is not valid base64 (characters A-Z a-z 0-9 + / =)")
    if len(payload) % 4:
        raise ApiError(
            400,
            f"the image's base64 is {len(payload):,} characters, not a multiple of 4: "
            "its '=' padding is missing, or it was cut short",
        )
    try:
        return base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise ApiError(400, "the image is not valid base64") from None


def open_image(data: bytes, max_pixels: int) -> Image.Image:
    """Decode PNG or JPEG bytes into an upright PIL image of at most `max_pixels` pixels.

    The size is checked from the header, before any pixel is decoded. A JPEG larger than the
    limit is decoded at 1/2, 1/4 or 1/8 scale instead (libjpeg's draft mode, which skips most
    of the work), so a phone photo costs little. An animated PNG is read as its first frame.
    The EXIF orientation a camera records is applied, so a photo is read the way it is shown.
    """
    if not (data.startswith(PNG_MAGIC) or data.startswith(JPEG_MAGIC)):
        raise ApiError(400, "the image is not a PNG or JPEG file")
    try:
        image = Image.open(io.BytesIO(data), formats=FORMATS)  # reads the header only
    except Image.DecompressionBombError:  # past Pillow's own limit, far above ours
        raise ApiError(
            413,
            f"the image is far too large: over {2 * Image.MAX_IMAGE_PIXELS:,} pixels; "
            f"the limit is {max_pixels:,}{SEND_SMALLER}",
        ) from None
    except UnidentifiedImageError:
        raise ApiError(400, "the image is not a readable PNG or JPEG file") from None
    except Exception as exc:  # Pillow raises many kinds (SyntaxError, struct.error...) for junk
        raise ApiError(400, f"the image header is broken ({_reason(exc)})") from None
    width, height = image.size
    if width < 1 or height < 1:
        raise ApiError(400, f"the image has no pixels ({width}x{height})")
    # A phone's photo may carry a second, smaller picture: Pillow reads it as "MPO", a JPEG.
    if width * height > max_pixels and image.format in ("JPEG", "MPO"):
        _draft(image, max_pixels)
    if image.width * image.height > max_pixels:
        drafted = " (too many even read at 1/8 scale)" if image.size != (width, height) else ""
        raise ApiError(
            413,
            f"the image is {width}x{height} = {width * height:,} pixels{drafted}; "
            f"the limit is {max_pixels:,}{SEND_SMALLER}",
        )
    try:
        image.load()
        ImageOps.exif_transpose(image, in_place=True)
    except Exception as exc:  # truncated data, bad checksums, bad Huffman tables, bad EXIF...
        raise ApiError(400, f"the image could not be decoded ({_reason(exc)})") from None
    return image


def _draft(image: Image.Image, max_pixels: int) -> None:
    """Ask libjpeg to decode at the smallest reduction (1/2, 1/4, 1/8) that fits the limit."""
    width, height = image.size
    scale = next((s for s in (2, 4) if -(-width // s) * -(-height // s) <= max_pixels), 8)
    image.draft(None, (max(1, width // scale), max(1, height // scale)))


def _reason(exc: Exception) -> str:
    """What Pillow said, in its words (its first line), without Python's name for the error."""
    text = str(exc).splitlines()[0][:120] if str(exc) else ""
    return text or "no reason given"
