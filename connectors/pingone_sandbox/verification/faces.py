"""Synthetic faces drawn from a seed: the ID portrait and camera-like selfies of the same face."""

from __future__ import annotations

import random
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageEnhance, ImageFilter

__all__ = ["FaceParams", "draw_face", "draw_selfie"]


@dataclass(frozen=True)
class FaceParams:
    """The features of one synthetic face, all derived from a seed."""

    skin: tuple[int, int, int]
    hair: tuple[int, int, int]
    eyes: tuple[int, int, int]
    face_w: float  # fractions of the canvas
    face_h: float
    eye_y: float
    eye_gap: float
    eye_r: float
    brow_tilt: float
    nose_len: float
    mouth_w: float
    mouth_y: float
    smile: float
    hair_h: float
    hair_side: float

    @classmethod
    def from_seed(cls, seed: str) -> FaceParams:
        """Deterministic features for a seed (the same seed always draws the same face)."""
        r = random.Random(seed)
        tone = r.randint(110, 215)
        return cls(
            skin=(tone, int(tone * r.uniform(0.72, 0.86)), int(tone * r.uniform(0.55, 0.72))),
            hair=(r.randint(10, 120), r.randint(10, 80), r.randint(0, 50)),
            eyes=(r.randint(20, 90), r.randint(40, 120), r.randint(40, 160)),
            face_w=r.uniform(0.42, 0.66),
            face_h=r.uniform(0.56, 0.74),
            eye_y=r.uniform(0.38, 0.52),
            eye_gap=r.uniform(0.14, 0.30),
            eye_r=r.uniform(0.022, 0.055),
            brow_tilt=r.uniform(-0.03, 0.03),
            nose_len=r.uniform(0.07, 0.14),
            mouth_w=r.uniform(0.12, 0.26),
            mouth_y=r.uniform(0.68, 0.76),
            smile=r.uniform(-0.02, 0.05),
            hair_h=r.uniform(0.06, 0.13),
            hair_side=r.uniform(0.0, 0.14),
        )


def draw_face(
    params: FaceParams, size: tuple[int, int], background: tuple[int, int, int]
) -> Image.Image:
    """Draw a head and shoulders filling `size`, on a flat background."""
    w, h = size
    img = Image.new("RGB", size, background)
    d = ImageDraw.Draw(img)
    cx, p = w / 2, params
    fw, fh = p.face_w * w, p.face_h * h
    top = 0.16 * h
    # Shoulders first, so the face overlaps them.
    d.ellipse((0.08 * w, 0.86 * h, 0.92 * w, 1.4 * h), fill=_shade(p.hair, 0.6))
    d.rectangle((cx - 0.1 * w, top + fh * 0.8, cx + 0.1 * w, 0.92 * h), fill=_shade(p.skin, 0.9))
    hair_box = (cx - fw / 2 - p.hair_side * w, top - p.hair_h * h, cx + fw / 2 + p.hair_side * w)
    d.ellipse((*hair_box, top + fh * 0.75), fill=p.hair)
    d.ellipse((cx - fw / 2, top, cx + fw / 2, top + fh), fill=p.skin)
    _draw_features(d, p, w, h, cx)
    return img


def _draw_features(d: ImageDraw.ImageDraw, p: FaceParams, w: int, h: int, cx: float) -> None:
    """Eyes, brows, nose and mouth."""
    ey, gap, er = p.eye_y * h, p.eye_gap * w, p.eye_r * w
    for side in (-1, 1):
        ex = cx + side * gap / 2
        d.ellipse((ex - er * 1.8, ey - er, ex + er * 1.8, ey + er), fill=(245, 245, 240))
        d.ellipse((ex - er, ey - er, ex + er, ey + er), fill=p.eyes)
        d.ellipse((ex - er / 2, ey - er / 2, ex + er / 2, ey + er / 2), fill=(15, 15, 15))
        by = ey - er * 2.6
        tilt = side * p.brow_tilt * h
        d.line((ex - er * 2, by + tilt, ex + er * 2, by - tilt), fill=p.hair, width=max(2, w // 60))
    ny = ey + p.nose_len * h
    d.line((cx, ey + er, cx - 0.02 * w, ny, cx + 0.02 * w, ny), fill=_shade(p.skin, 0.7), width=2)
    my, mw = p.mouth_y * h, p.mouth_w * w
    d.arc(
        (cx - mw / 2, my - 0.04 * h, cx + mw / 2, my + (0.02 + p.smile) * h),
        start=10,
        end=170,
        fill=(150, 40, 50),
        width=max(2, w // 70),
    )


def draw_selfie(seed: str, *, variant: int = 1, size: tuple[int, int] = (480, 480)) -> Image.Image:
    """A camera-like selfie of the seed's face: shifted, scaled, lit from one side, with grain."""
    r = random.Random(f"{seed}/selfie/{variant}")
    params = FaceParams.from_seed(seed)
    wall = _wall_colour(r, avoid=(params.skin, params.hair))
    # Same 4:5 head-and-shoulders framing as the ID portrait, at another scale and position.
    scale = r.uniform(0.78, 0.88)
    face_size = (int(size[1] * scale * 0.8), int(size[1] * scale))
    face = draw_face(params, face_size, wall)
    img = Image.new("RGB", size, wall)
    dx = r.randint(-size[0] // 14, size[0] // 14)
    img.paste(face, ((size[0] - face_size[0]) // 2 + dx, size[1] - face_size[1]))
    img = _side_light(img.filter(ImageFilter.GaussianBlur(0.6)), strength=r.uniform(0.06, 0.12))
    img = ImageEnhance.Brightness(img).enhance(r.uniform(0.85, 1.1))
    return _add_noise(img, r, amount=0.06)


def _wall_colour(
    r: random.Random, *, avoid: tuple[tuple[int, int, int], ...]
) -> tuple[int, int, int]:
    """A plain wall colour clearly apart from skin and hair (a backdrop a matcher can segment)."""
    best: tuple[int, int, int] = (70, 130, 190)
    best_apart = min(_dist(best, c) for c in avoid)
    for _ in range(40):
        wall = (r.randint(40, 120), r.randint(100, 170), r.randint(150, 220))
        apart = min(_dist(wall, c) for c in avoid)
        if apart >= 150:
            return wall
        if apart > best_apart:
            best, best_apart = wall, apart
    return best


def _side_light(img: Image.Image, *, strength: float) -> Image.Image:
    """Darken the image progressively to the right, like light from a window on the left."""
    ramp = Image.linear_gradient("L").rotate(90).resize(img.size)  # 255 left .. 0 right
    ramp = ramp.point(lambda v: int(255 * (1 - strength) + v * strength))
    black = Image.new("RGB", img.size, (0, 0, 0))
    return Image.composite(img, black, ramp)


def _add_noise(img: Image.Image, r: random.Random, *, amount: float) -> Image.Image:
    """Add deterministic sensor grain (a camera image is never flat; liveness looks for it)."""
    grain = Image.frombytes("L", img.size, r.randbytes(img.width * img.height))
    return Image.blend(img, Image.merge("RGB", (grain, grain, grain)), amount)


def _shade(rgb: tuple[int, int, int], factor: float) -> tuple[int, int, int]:
    return (int(rgb[0] * factor), int(rgb[1] * factor), int(rgb[2] * factor))


def _dist(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    return abs(a[0] - b[0]) + abs(a[1] - b[1]) + abs(a[2] - b[2])
