"""Where the drawn documents put the portrait and signature (what a reader crops).

Kept apart from `cards`, which draws the documents, so reading an ID does not load the drawing code.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CARD_REGIONS", "PASSPORT_REGIONS", "Regions"]


@dataclass(frozen=True)
class Regions:
    """Where a layout puts things, as fractions of the image (so a resized scan still works)."""

    portrait: tuple[float, float, float, float]
    signature: tuple[float, float, float, float]

    def box(self, name: str, size: tuple[int, int]) -> tuple[int, int, int, int]:
        """A region in pixels of an image of `size`."""
        x0, y0, x1, y1 = getattr(self, name)
        return (round(x0 * size[0]), round(y0 * size[1]), round(x1 * size[0]), round(y1 * size[1]))


# Fractions of the 640x400 card (cards.CARD_SIZE) and the 640x450 passport page (PASSPORT_SIZE).
CARD_REGIONS = Regions(
    portrait=(28 / 640, 78 / 400, 204 / 640, 298 / 400),
    signature=(228 / 640, 322 / 400, 470 / 640, 380 / 400),
)
PASSPORT_REGIONS = Regions(
    portrait=(28 / 640, 70 / 450, 204 / 640, 290 / 450),
    signature=(228 / 640, 292 / 450, 470 / 640, 334 / 450),
)
