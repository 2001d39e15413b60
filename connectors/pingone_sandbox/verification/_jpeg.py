"""JPEG checks: the markers a provider looks at, the comment segment, and Pillow decoding."""

from __future__ import annotations

import base64
import binascii
import io

from PIL import Image

__all__ = ["DocumentError", "as_bytes", "decode_jpeg", "jpeg_comments", "read_jpeg", "to_jpeg"]

_SOI = b"\xff\xd8"
_EOI = b"\xff\xd9"
_COM = 0xFE
_SOS = 0xDA
# Markers that stand alone, without a length field (TEM, RSTn).
_STANDALONE = {0x01, *range(0xD0, 0xD8)}


class DocumentError(ValueError):
    """A submitted document cannot be read; `.target` names the request field to blame."""

    def __init__(self, message: str, *, target: str = "value") -> None:
        super().__init__(message)
        self.target = target


def as_bytes(data: bytes | str, *, what: str) -> bytes:
    """Raw bytes of an image document: bytes as given, a str as base64 (the API's `value`)."""
    if isinstance(data, bytes):
        return data
    try:
        return base64.b64decode(data.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise DocumentError(
            f"{what}: value is not valid base64 ({exc}); send the JPEG base64-encoded"
        ) from exc


def jpeg_comments(data: bytes, *, what: str = "image") -> list[str]:
    """The COM segments of a JPEG, in order; raises DocumentError if the markers are wrong."""
    if not data.startswith(_SOI):
        raise DocumentError(f"{what}: not a JPEG image (no SOI marker FFD8 at the start)")
    if not data.rstrip(b"\x00").endswith(_EOI):
        raise DocumentError(f"{what}: truncated JPEG image (no EOI marker FFD9 at the end)")
    comments: list[str] = []
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            raise DocumentError(f"{what}: corrupt JPEG image (expected a marker at byte {pos})")
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte before a marker
            pos += 1
            continue
        if marker in _STANDALONE:
            pos += 2
            continue
        if marker == _SOS:  # entropy-coded data follows; no more header segments to read
            break
        length = int.from_bytes(data[pos + 2 : pos + 4], "big")
        if length < 2 or pos + 2 + length > len(data):
            raise DocumentError(
                f"{what}: corrupt JPEG image (segment at byte {pos} overruns the file)"
            )
        if marker == _COM:
            comments.append(data[pos + 4 : pos + 2 + length].decode("utf-8", "replace"))
        pos += 2 + length
    return comments


def read_jpeg(data: bytes | str, *, what: str) -> tuple[bytes, Image.Image, list[str]]:
    """Raw bytes, decoded RGB image and COM segments of an image document (bytes or base64)."""
    raw = as_bytes(data, what=what)
    comments = jpeg_comments(raw, what=what)
    return raw, _decode(raw, what=what), comments


def decode_jpeg(data: bytes, *, what: str = "image") -> Image.Image:
    """A fully decoded RGB image; raises DocumentError unless `data` is a JPEG Pillow can decode."""
    jpeg_comments(data, what=what)
    return _decode(data, what=what)


def _decode(data: bytes, *, what: str) -> Image.Image:
    """Decode JPEG bytes whose markers were checked; an RGB image is returned as decoded."""
    try:
        with Image.open(io.BytesIO(data)) as img:
            if img.format != "JPEG":
                raise DocumentError(f"{what}: not a JPEG image (Pillow reads it as {img.format})")
            img.load()  # read the pixels now, while the buffer is open
            return img if img.mode == "RGB" else img.convert("RGB")
    except DocumentError:
        raise
    except (OSError, SyntaxError, ValueError) as exc:
        raise DocumentError(f"{what}: JPEG image cannot be decoded ({exc})") from exc


def to_jpeg(img: Image.Image, *, comment: str | None = None, quality: int = 88) -> bytes:
    """Encode an image as JPEG bytes, with an optional COM segment (machine-readable text)."""
    buf = io.BytesIO()
    kwargs: dict[str, object] = {"quality": quality}
    if comment is not None:
        kwargs["comment"] = comment.encode("utf-8")
    (img if img.mode == "RGB" else img.convert("RGB")).save(buf, "JPEG", **kwargs)
    return buf.getvalue()
