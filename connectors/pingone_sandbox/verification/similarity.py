"""Image measures on real pixels (Pillow only): foreground masks, face similarity, liveness."""

from __future__ import annotations

import math
from dataclasses import dataclass

from PIL import Image, ImageChops, ImageFilter, ImageStat

__all__ = [
    "FaceRegion",
    "face_region",
    "face_similarity",
    "foreground_mask",
    "grain",
    "replay_distance",
]

# Width the mask is computed at: enough for a head outline, small enough for a pure-Python fill.
MASK_SIZE = 96
# A face is compared as a SIG_W x SIG_H patch (4:5, the framing of an ID portrait).
SIG_W, SIG_H = 40, 50
# Largest colour step (|dR| + |dG| + |dB|) the backdrop fill takes between neighbours; the
# backdrop may differ from the median border colour by three times this.
TOLERANCE = 28

RGB = tuple[int, int, int]


def _rgb(img: Image.Image) -> Image.Image:
    """The image in RGB, without a copy when it already is."""
    return img if img.mode == "RGB" else img.convert("RGB")


def _small(img: Image.Image) -> Image.Image:
    """The image at MASK_SIZE width, lightly denoised: what the backdrop search works on."""
    w, h = img.size
    small = _rgb(img).resize(
        (MASK_SIZE, max(3, round(MASK_SIZE * h / w))), Image.Resampling.BILINEAR
    )
    return small.filter(ImageFilter.MedianFilter(3))


def _median_border(small: Image.Image) -> RGB:
    """The median colour of the outermost ring of pixels."""
    w, h = small.size
    frame = Image.new("L", small.size, 255)
    frame.paste(0, (1, 1, w - 1, h - 1))
    # The median, not the mean: shoulders or hair touching the border must not shift it.
    r, g, b = ImageStat.Stat(small, mask=frame).median
    return r, g, b


def _l1_below(a: Image.Image, b: Image.Image, limit: int) -> Image.Image:
    """An "L" image: 255 where |dR| + |dG| + |dB| between two RGB images is below `limit`.

    Computed in C (the sum is clipped at 255, which is above every limit used here).
    """
    r, g, b_ = ImageChops.difference(a, b).split()
    return ImageChops.add(ImageChops.add(r, g), b_).point(lambda v: 255 if v < limit else 0)


def foreground_mask(img: Image.Image) -> Image.Image:
    """A MASK_SIZE-wide "L" mask: 0 where the backdrop (grown from the border) is, 255 elsewhere.

    The backdrop is what a flood fill from the border reaches, stepping to neighbours close in
    colour to the current pixel and to the median border colour, so a lighting gradient across a
    wall stays backdrop while the edge of a head stops the fill.
    """
    return _backdrop(img)[0]


def _backdrop(img: Image.Image) -> tuple[Image.Image, RGB]:
    """The foreground mask and the backdrop colour it was grown from."""
    small = _small(img)
    sw, sh = small.size
    bg = _median_border(small)
    near = _l1_below(small, Image.new("RGB", small.size, bg), TOLERANCE * 3)
    # Whether a step to the right / downward neighbour is small enough; the wrapped last
    # column / row are blanked so the fill never crosses an edge.
    right = _l1_below(small, ImageChops.offset(small, -1, 0), TOLERANCE)
    right.paste(0, (sw - 1, 0, sw, sh))
    down = _l1_below(small, ImageChops.offset(small, 0, -1), TOLERANCE)
    down.paste(0, (0, sh - 1, sw, sh))
    step_r, step_d = right.tobytes(), down.tobytes()
    todo = bytearray(near.tobytes())  # backdrop-coloured and not reached yet
    stack = []
    seeds = (
        *range(sw),  # top row
        *range((sh - 1) * sw, sh * sw),  # bottom row
        *range(0, sh * sw, sw),  # first column
        *range(sw - 1, sh * sw, sw),  # last column
    )
    for i in seeds:
        if todo[i]:
            todo[i] = 0
            stack.append(i)
    while stack:
        i = stack.pop()
        # Left of the first column is the previous row's last column, whose step_r is 0.
        steps = (
            (i - 1, i and step_r[i - 1]),
            (i + 1, step_r[i]),
            (i + sw, step_d[i]),
            (i - sw, i >= sw and step_d[i - sw]),
        )
        for j, ok in steps:
            if ok and todo[j]:
                todo[j] = 0
                stack.append(j)
    reached = ImageChops.subtract(near, Image.frombytes("L", (sw, sh), bytes(todo)))
    return ImageChops.invert(reached), bg


@dataclass(frozen=True)
class FaceRegion:
    """A head-and-shoulders region: its SIG_W x SIG_H patch and mask."""

    mask: bytes  # 1 = foreground, per patch pixel
    bands: tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]


def _fine_box(img: Image.Image, mask: Image.Image, bg: RGB) -> tuple[int, int, int, int]:
    """The foreground box at full resolution: the mask's box, refined on the real pixels."""
    box = mask.getbbox() or (0, 0, mask.width, mask.height)
    sx, sy = img.width / mask.width, img.height / mask.height
    pad = 2  # mask cells: the coarse edge is at most this far from the true one
    coarse = (
        max(0, int((box[0] - pad) * sx)),
        max(0, int((box[1] - pad) * sy)),
        min(img.width, math.ceil((box[2] + pad) * sx)),
        min(img.height, math.ceil((box[3] + pad) * sy)),
    )
    region = img.crop(coarse)
    diff = ImageChops.difference(region, Image.new("RGB", region.size, bg)).convert("L")
    fine = diff.point(lambda v: 255 if v > 30 else 0).getbbox()
    if fine is None:
        return coarse
    return (coarse[0] + fine[0], coarse[1] + fine[1], coarse[0] + fine[2], coarse[1] + fine[3])


def face_region(img: Image.Image) -> FaceRegion:
    """Find the head and shoulders in front of a plain backdrop and sample it for comparison."""
    img = _rgb(img)
    mask, bg = _backdrop(img)
    box = _fine_box(img, mask, bg)
    sx, sy = mask.width / img.width, mask.height / img.height
    mask_box = (box[0] * sx, box[1] * sy, box[2] * sx, box[3] * sy)
    patch_mask = mask.resize((SIG_W, SIG_H), Image.Resampling.BILINEAR, box=mask_box)
    patch_mask = patch_mask.point(lambda v: 1 if v > 200 else 0)
    patch = (
        img.crop(box)
        .resize((SIG_W, SIG_H), Image.Resampling.BOX)
        .filter(ImageFilter.GaussianBlur(0.5))
    )
    r, g, b = (tuple(band.tobytes()) for band in patch.split())
    return FaceRegion(mask=patch_mask.tobytes(), bands=(r, g, b))


def _masked_ncc(xs: list[int], ys: list[int]) -> float:
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    num = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
    den = math.sqrt(sum((x - mx) ** 2 for x in xs) * sum((y - my) ** 2 for y in ys))
    return num / den if den else 0.0


def face_similarity(selfie: Image.Image, portrait: Image.Image) -> float:
    """Similarity of two faces in 0..1: masked normalised cross-correlation, averaged over R, G, B.

    Both faces are cropped to their head-and-shoulders box (position and scale drop out) and
    compared only where both are foreground (the backdrop drops out); NCC ignores brightness
    and contrast, so the same face under other light scores near 1.
    """
    a, b = face_region(selfie), face_region(portrait)
    both = [i for i, (m, n) in enumerate(zip(a.mask, b.mask, strict=True)) if m and n]
    if len(both) < SIG_W * SIG_H // 10:
        return 0.0  # no face-like region in common
    total = 0.0
    for band_a, band_b in zip(a.bands, b.bands, strict=True):
        total += _masked_ncc([band_a[i] for i in both], [band_b[i] for i in both])
    return max(0.0, min(1.0, total / 3))


def grain(img: Image.Image) -> float:
    """Sensor grain: mean absolute difference (grey levels) between the image and its 3x3 median.

    A camera frame carries noise; a flat drawing or a re-encoded copy of a printed photo has
    almost none.
    """
    # At native resolution (downscaling would average the grain away), on the central
    # 240x240 at most: the face, and a cheap median filter.
    w, h = img.size
    cw, ch = min(w, 240), min(h, 240)
    box = ((w - cw) // 2, (h - ch) // 2, (w - cw) // 2 + cw, (h - ch) // 2 + ch)
    gray = img.crop(box).convert("L")
    diff = ImageChops.difference(gray, gray.filter(ImageFilter.MedianFilter(3)))
    return ImageStat.Stat(diff).mean[0]


def replay_distance(selfie: Image.Image, portrait: Image.Image) -> float:
    """Mean absolute grey-level difference between the selfie and the portrait, same size.

    A selfie that is the ID portrait itself (a photo of the printed photo, a re-upload) lands
    near 0; a real capture differs in backdrop, framing and light.
    """
    a = selfie.convert("L").resize((64, 80), Image.Resampling.BOX)
    b = portrait.convert("L").resize((64, 80), Image.Resampling.BOX)
    return ImageStat.Stat(ImageChops.difference(a, b)).mean[0]
