"""Background replacement, QR codes and the face measures behind the decisions."""

from __future__ import annotations

import io

import pytest
from flowengine_connectors.pingone_sandbox import documents_for

# Tests of the verification rules (a private subpackage): they call its functions directly.
from flowengine_connectors.pingone_sandbox.verification import (
    DocumentError,
    background_request,
    qr_png,
    replace_background,
)
from flowengine_connectors.pingone_sandbox.verification._jpeg import to_jpeg
from flowengine_connectors.pingone_sandbox.verification.cards import PORTRAIT_BACKDROP
from flowengine_connectors.pingone_sandbox.verification.faces import (
    FaceParams,
    draw_face,
    draw_selfie,
)
from flowengine_connectors.pingone_sandbox.verification.similarity import (
    face_similarity,
    foreground_mask,
    grain,
)
from PIL import Image

RED = (220, 20, 30)


def _selfie() -> bytes:
    data = dict(documents_for("success"))["Selfie"]
    assert isinstance(data, bytes)
    return data


def _open(data: bytes) -> Image.Image:
    img = Image.open(io.BytesIO(data))
    assert img.format == "JPEG"
    return img.convert("RGB")


def _close(a, b, tol=40):
    return sum(abs(x - y) for x, y in zip(a, b, strict=True)) <= tol


def test_background_pixels_change_colour_and_the_face_does_not():
    before = _open(_selfie())
    out, fmt = replace_background(_selfie(), rgb=RED, aspect_ratio=None)
    after = _open(out)
    assert fmt == "JPEG"
    assert after.size == before.size
    for corner in ((5, 5), (before.width - 6, 5), (5, before.height // 2)):
        assert not _close(before.getpixel(corner), RED)
        assert _close(after.getpixel(corner), RED), corner
    centre = (before.width // 2, before.height * 3 // 5)  # the face
    assert _close(after.getpixel(centre), before.getpixel(centre), tol=24)


@pytest.mark.parametrize(
    ("ratio", "expected"), [("1:1", 1.0), ("3:4", 0.75), ("4:3", 4 / 3), ("35:45", 35 / 45)]
)
def test_background_aspect_ratio(ratio, expected):
    out, _ = replace_background(_selfie(), rgb=(255, 255, 255), aspect_ratio=ratio)
    img = _open(out)
    assert img.width / img.height == pytest.approx(expected, abs=0.01)
    assert min(img.size) >= 480  # padded, never shrunk
    assert _close(img.getpixel((2, 2)), (255, 255, 255), tol=12)


def test_background_request_body():
    body = {
        "backgroundColor": {"red": 1, "green": 2, "blue": 3},
        "aspectRatio": {"aspectWidth": 3, "aspectHeight": 4},
    }
    assert background_request(body) == ((1, 2, 3), "3:4")
    assert background_request({"backgroundColor": {"red": 0, "green": 0, "blue": 0}}) == (
        (0, 0, 0),
        None,
    )


@pytest.mark.parametrize(
    ("body", "target"),
    [
        ({}, "backgroundColor"),
        ({"backgroundColor": {"red": 256, "green": 0, "blue": 0}}, "backgroundColor.red"),
        ({"backgroundColor": {"red": 0, "green": "0", "blue": 0}}, "backgroundColor.green"),
        (
            {"backgroundColor": {"red": 0, "green": 0, "blue": 0}, "aspectRatio": {}},
            "aspectRatio.aspectWidth",
        ),
    ],
)  # fmt: skip
def test_background_request_errors_name_the_field(body, target):
    with pytest.raises(DocumentError) as err:
        background_request(body)
    assert err.value.target == target


def test_background_rejects_bad_ratio_and_non_jpeg():
    with pytest.raises(DocumentError, match="aspect ratio"):
        replace_background(_selfie(), rgb=RED, aspect_ratio="square")
    with pytest.raises(DocumentError, match="not a JPEG"):
        replace_background(b"\x89PNG\r\n", rgb=RED, aspect_ratio=None)


def test_qr_png_is_a_png_of_a_qr_code():
    data = qr_png("http://sandbox.pingone.local/verify-webapp/index.html?txnid=abc&code=123456")
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    img = Image.open(io.BytesIO(data))
    assert img.format == "PNG"
    assert img.width == img.height >= 21 * 8
    gray = img.convert("L")
    assert gray.getpixel((0, 0)) == 255  # quiet zone
    assert gray.getpixel((4 * 8 + 2, 4 * 8 + 2)) == 0  # finder pattern corner
    assert qr_png("a") != qr_png("b")


def test_mask_separates_head_from_backdrop():
    mask = foreground_mask(draw_selfie("john-doe"))
    assert mask.getpixel((2, 2)) == 0
    assert mask.getpixel((mask.width // 2, mask.height * 3 // 5)) == 255


def test_face_similarity_separates_people():
    seeds = [f"person-{i}" for i in range(6)]
    portraits = {
        s: draw_face(FaceParams.from_seed(s), (176, 220), PORTRAIT_BACKDROP) for s in seeds
    }
    selfies = {s: _open(to_jpeg(draw_selfie(s))) for s in seeds}
    same = [face_similarity(selfies[s], portraits[s]) for s in seeds]
    other = [face_similarity(selfies[s], portraits[t]) for s in seeds for t in seeds if s != t]
    assert min(same) >= 0.955  # MEDIUM threshold
    assert max(other) < 0.94  # LOW threshold
    assert min(same) > max(other)


def test_grain_tells_a_camera_frame_from_a_flat_picture():
    camera = draw_selfie("john-doe")
    flat = draw_face(FaceParams.from_seed("john-doe"), (480, 600), PORTRAIT_BACKDROP)
    assert grain(camera) >= 2.0
    assert grain(flat) < 1.0
