"""Synthetic ID documents drawn with Pillow (machine-readable text goes in the JPEG comment)."""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from datetime import date
from functools import cache

from PIL import Image, ImageDraw, ImageEnhance, ImageFont

from .faces import FaceParams, draw_face
from .layout import CARD_REGIONS, PASSPORT_REGIONS, Regions

__all__ = [
    "CARD_REGIONS",
    "CARD_SIZE",
    "PASSPORT_REGIONS",
    "PASSPORT_SIZE",
    "PORTRAIT_BACKDROP",
    "Holder",
    "Regions",
    "draw_card",
    "draw_passport",
]

CARD_SIZE = (640, 400)
PASSPORT_SIZE = (640, 450)
PORTRAIT_BACKDROP = (228, 232, 238)


@dataclass(frozen=True)
class Holder:
    """The person a document is issued to (what is printed and encoded on it)."""

    given: str
    family: str
    birth: date
    expiry: date
    issue: date
    number: str
    street: str = "123 MAIN ST"
    city: str = "SPRINGFIELD"
    state: str = "IL"
    zip: str = "62701"
    sex: str = "M"
    eyes: str = "BRO"
    height_in: int = 70
    middle: str = ""
    nationality: str = "USA"
    face_seed: str = ""


@cache
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def _portrait(holder: Holder, box: tuple[int, int, int, int]) -> Image.Image:
    size = (box[2] - box[0], box[3] - box[1])
    return draw_face(
        FaceParams.from_seed(holder.face_seed or holder.number), size, PORTRAIT_BACKDROP
    )


def _signature(d: ImageDraw.ImageDraw, holder: Holder, box: tuple[int, int, int, int]) -> None:
    """A pen squiggle derived from the holder's name (the CROPPED_SIGNATURE region)."""
    r = random.Random(holder.given + holder.family)
    x0, y0, x1, y1 = box
    mid = (y0 + y1) / 2
    points = [
        (x0 + 8 + i * (x1 - x0 - 16) / 24, mid + r.uniform(-0.4, 0.4) * (y1 - y0))
        for i in range(25)
    ]
    d.line(points, fill=(20, 30, 90), width=2, joint="curve")


def draw_card(holder: Holder, *, side: str, kind: str = "DL", barcode: str = "") -> Image.Image:
    """The front or back of a driver licence ("DL") or ID card ("ID")."""
    img = Image.new("RGB", CARD_SIZE, (214, 226, 218) if kind == "DL" else (224, 218, 206))
    d = ImageDraw.Draw(img)
    title = "DRIVER LICENSE" if kind == "DL" else "IDENTIFICATION CARD"
    d.rectangle((0, 0, CARD_SIZE[0], 56), fill=(40, 70, 120))
    d.text((24, 10), "SANDBOX STATE", font=_font(26), fill=(255, 255, 255))
    d.text((360, 16), title, font=_font(22), fill=(255, 220, 120))
    if side == "front":
        _card_front(img, d, holder, kind)
    else:
        _card_back(img, d, holder, barcode)
    return img


def _card_front(img: Image.Image, d: ImageDraw.ImageDraw, h: Holder, kind: str) -> None:
    box = CARD_REGIONS.box("portrait", CARD_SIZE)
    portrait = _portrait(h, box)
    img.paste(portrait, box[:2])
    ghost = (
        ImageEnhance.Contrast(portrait.convert("L").convert("RGB")).enhance(0.35).resize((72, 90))
    )
    img.paste(ghost, (540, 262))
    ft, fs = _font(20), _font(16)
    lines = [
        (f"{'DL' if kind == 'DL' else 'ID'} {h.number}", ft, (160, 20, 20)),
        (f"EXP {h.expiry:%m/%d/%Y}", ft, (160, 20, 20)),
        (f"1 {h.family}", ft, (0, 0, 0)),
        (f"2 {' '.join(p for p in (h.given, h.middle) if p)}", ft, (0, 0, 0)),
        (f"8 {h.street}", fs, (0, 0, 0)),
        (f"  {h.city}, {h.state} {h.zip}", fs, (0, 0, 0)),
        (f"DOB {h.birth:%m/%d/%Y}   ISS {h.issue:%m/%d/%Y}", fs, (0, 0, 0)),
        (
            f"SEX {h.sex}  EYES {h.eyes}  HGT {h.height_in // 12}'-{h.height_in % 12:02d}\"",
            fs,
            (0, 0, 0),
        ),
    ]
    y = 72
    for text, font, colour in lines:
        d.text((228, y), text, font=font, fill=colour)
        y += 30 if font is ft else 26
    _signature(d, h, CARD_REGIONS.box("signature", CARD_SIZE))


def _card_back(img: Image.Image, d: ImageDraw.ImageDraw, h: Holder, barcode: str) -> None:
    """A PDF417-like pattern (a picture only: the decoded text is in the JPEG comment)."""
    seed = hashlib.sha256(barcode.encode()).digest()
    r = random.Random(seed)
    x0, y0, x1, y1 = 40, 90, 600, 290
    d.rectangle((x0 - 10, y0 - 10, x1 + 10, y1 + 10), fill=(255, 255, 255))
    rows, module = 20, 4
    for row in range(rows):
        ty = y0 + row * (y1 - y0) // rows
        x = x0
        while x < x1:
            width = module * r.randint(1, 4)
            if r.random() < 0.5:
                d.rectangle(
                    (x, ty, min(x1, x + width - 1), ty + (y1 - y0) // rows - 1), fill=(0, 0, 0)
                )
            x += width
    d.text((40, 320), f"{h.family}, {h.given}  {h.number}", font=_font(16), fill=(0, 0, 0))
    d.text((40, 350), "Organ donor: N    Restrictions: NONE", font=_font(14), fill=(60, 60, 60))


def draw_passport(holder: Holder, mrz: str) -> Image.Image:
    """A passport data page with the MRZ printed at the bottom."""
    img = Image.new("RGB", PASSPORT_SIZE, (232, 224, 240))
    d = ImageDraw.Draw(img)
    d.rectangle((0, 0, PASSPORT_SIZE[0], 50), fill=(90, 30, 60))
    d.text((24, 10), "PASSPORT  SANDBOX REPUBLIC", font=_font(24), fill=(255, 255, 255))
    box = PASSPORT_REGIONS.box("portrait", PASSPORT_SIZE)
    img.paste(_portrait(holder, box), box[:2])
    fields = [
        ("Surname", holder.family),
        ("Given names", " ".join(p for p in (holder.given, holder.middle) if p)),
        ("Nationality", holder.nationality),
        ("Date of birth", f"{holder.birth:%d %b %Y}".upper()),
        ("Sex", holder.sex),
        ("Date of expiry", f"{holder.expiry:%d %b %Y}".upper()),
        ("Passport No.", holder.number),
    ]
    y = 66
    for label, value in fields:
        d.text((228, y), label, font=_font(12), fill=(90, 70, 110))
        d.text((228, y + 13), value, font=_font(17), fill=(0, 0, 0))
        y += 32
    _signature(d, holder, PASSPORT_REGIONS.box("signature", PASSPORT_SIZE))
    d.rectangle((0, 350, PASSPORT_SIZE[0], PASSPORT_SIZE[1]), fill=(245, 245, 245))
    for k, line in enumerate(mrz.splitlines()):
        d.text((16, 362 + k * 36), line, font=_font(19), fill=(0, 0, 0))
    return img
