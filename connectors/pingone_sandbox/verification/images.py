"""Selfie background replacement and QR codes: real image work for the sandbox routes."""

from __future__ import annotations

import io
import re
from typing import Any

from PIL import Image, ImageFilter

from ._jpeg import DocumentError, decode_jpeg, to_jpeg
from .similarity import foreground_mask

__all__ = ["background_request", "qr_png", "replace_background"]

_RATIO = re.compile(r"^\s*(\d{1,4})\s*:\s*(\d{1,4})\s*$")


def _ratio(aspect_ratio: str) -> float:
    """Width / height of an "W:H" aspect ratio such as "1:1" or "3:4" (1 to 1000 each)."""
    m = _RATIO.match(aspect_ratio)
    if not m or not all(1 <= int(g) <= 1000 for g in m.groups()):
        raise DocumentError(
            f"aspect ratio {aspect_ratio!r} must be 'W:H' with integers 1..1000",
            target="aspectRatio",
        )
    return int(m.group(1)) / int(m.group(2))


def _fit(img: Image.Image, ratio: float, fill: tuple[int, int, int]) -> Image.Image:
    """Pad with the backdrop colour to the ratio: sideways evenly, or above the head (never below
    the shoulders, which would leave them floating)."""
    w, h = img.size
    if abs(w / h - ratio) < 1e-3:
        return img
    if w / h < ratio:
        new_w = round(h * ratio)
        canvas = Image.new("RGB", (new_w, h), fill)
        canvas.paste(img, ((new_w - w) // 2, 0))
    else:
        new_h = round(w / ratio)
        canvas = Image.new("RGB", (w, new_h), fill)
        canvas.paste(img, (0, new_h - h))
    return canvas


def replace_background(
    image: bytes, *, rgb: tuple[int, int, int], aspect_ratio: str | None
) -> tuple[bytes, str]:
    """Replace the selfie's backdrop with `rgb`, fit it to `aspect_ratio`; (JPEG bytes, "JPEG")."""
    if len(rgb) != 3 or not all(isinstance(c, int) and 0 <= c <= 255 for c in rgb):
        raise DocumentError(
            f"background colour {rgb!r} must be three integers 0..255", target="backgroundColor"
        )
    ratio = _ratio(aspect_ratio) if aspect_ratio else None
    img = decode_jpeg(image, what="Selfie")
    mask = foreground_mask(img).resize(img.size, Image.Resampling.BILINEAR)
    # Harden then soften the upscaled mask edge: no halo of the old wall, no jagged outline.
    mask = mask.point(lambda v: 255 if v > 127 else 0).filter(ImageFilter.GaussianBlur(1.2))
    out = Image.composite(img, Image.new("RGB", img.size, rgb), mask)
    if ratio is not None:
        out = _fit(out, ratio, rgb)
    return to_jpeg(out, quality=92), "JPEG"


def background_request(body: dict[str, Any]) -> tuple[tuple[int, int, int], str | None]:
    """(rgb, "W:H" or None) from the API body `{backgroundColor{red,green,blue}, aspectRatio}`."""
    colour = body.get("backgroundColor")
    if not isinstance(colour, dict):
        raise DocumentError(
            "backgroundColor is required: {red, green, blue}", target="backgroundColor"
        )
    rgb: list[int] = []
    for key in ("red", "green", "blue"):
        value = colour.get(key)
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 255:
            raise DocumentError(
                f"backgroundColor.{key} must be an integer 0..255", target=f"backgroundColor.{key}"
            )
        rgb.append(value)
    aspect = body.get("aspectRatio")
    if aspect is None:
        return (rgb[0], rgb[1], rgb[2]), None
    if not isinstance(aspect, dict):
        raise DocumentError("aspectRatio must be {aspectWidth, aspectHeight}", target="aspectRatio")
    sides = []
    for key in ("aspectWidth", "aspectHeight"):
        value = aspect.get(key)
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 1000:
            raise DocumentError(
                f"aspectRatio.{key} must be an integer 1..1000", target=f"aspectRatio.{key}"
            )
        sides.append(value)
    return (rgb[0], rgb[1], rgb[2]), f"{sides[0]}:{sides[1]}"


def qr_png(text: str) -> bytes:
    """A PNG image of a QR code holding `text` (the transaction's webVerificationUrl)."""
    import qrcode  # late: only the QR route needs it

    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=8, border=4)
    qr.add_data(text)
    qr.make(fit=True)
    buf = io.BytesIO()
    qr.make_image(fill_color="black", back_color="white").save(buf, format="PNG")
    return buf.getvalue()
