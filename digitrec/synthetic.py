"""Synthetic drawings made from MNIST digits, for tests, benchmarks and demonstrations.

A person drawing on a 280x280 canvas uses a pen of one width whatever size the digit is, and
puts the digit anywhere. `redraw_digit` imitates that: it traces the centre line of an MNIST
digit (keeping the loops that its thick strokes fill in, `inside_strokes`), scales it to the
requested size and draws it with a round pen of fixed width.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from digitrec.preprocess import BLACK_ON_WHITE, INK_IN_ALPHA, WHITE_ON_BLACK

CONVENTIONS = (WHITE_ON_BLACK, INK_IN_ALPHA, BLACK_ON_WHITE)
CANVAS = 280
PEN = 18
# Ink levels above half at which a loop that thick strokes fill in may still show, and the
# smallest such loop (in MNIST pixels squared) worth keeping open.
LOOP_LEVELS = (0.65, 0.8, 0.9)
LOOP_AREA = 0.25


def enlarge_digit(
    digit: np.ndarray, height: int, top: int, left: int, canvas: int = CANVAS
) -> np.ndarray:
    """An MNIST digit's 28x28 field scaled to `height` px and placed on a blank canvas.

    Returns ink (canvas, canvas) float32 in [0, 1]; strokes grow with the digit.
    """
    big = ndimage.zoom(np.asarray(digit, np.float32) / 255.0, height / 28.0, order=1)
    return _place(np.clip(big, 0.0, 1.0), top, left, canvas)


def redraw_digit(
    digit: np.ndarray,
    height: int,
    top: int,
    left: int,
    pen: float = PEN,
    canvas: int = CANVAS,
    *,
    rotation: float = 0.0,
    wobble: float = 0.0,
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """An MNIST digit redrawn `height` px tall with a round pen `pen` px wide.

    Returns ink (canvas, canvas) float32 in [0, 1], anti-aliased like a browser stroke.
    `height` is the size of the digit's 28x28 field, so the ink itself is about 5/7 of it.
    `rotation` tilts the digit (degrees, anticlockwise); `wobble` bends its strokes by a
    smooth random displacement of up to about `wobble` MNIST pixels (a sloppy hand), drawn
    from `rng`.
    """
    field = np.asarray(digit, np.float32) / 255.0
    if rotation or wobble:  # room for corners that turn or bend out of the 28x28 field
        margin = 4
        field = np.pad(field, margin)
        top -= round(margin * height / 28.0)
        left -= round(margin * height / 28.0)
    if rotation:
        field = ndimage.rotate(field, rotation, reshape=False, order=1)
    if wobble:
        field = _wobble(field, wobble, rng or np.random.default_rng())
    big = ndimage.zoom(field, height / 28.0, order=1)
    inside = inside_strokes(big, height / 28.0)
    if not inside.any():
        return np.zeros((canvas, canvas), np.float32)
    line = centre_line(inside)
    distance = ndimage.distance_transform_edt(~line)
    ink = np.clip(pen / 2.0 + 0.5 - distance, 0.0, 1.0).astype(np.float32)
    return _place(ink, top, left, canvas)


def random_placement(
    rng: np.random.Generator, low: int = 100, high: int = CANVAS, canvas: int = CANVAS
) -> tuple[int, int, int]:
    """A random (height, top, left) that keeps the digit's field on the canvas.

    The field's height is uniform in [low, high]; the ink is about 5/7 of it, so the
    defaults give digits about 70-200 px tall on a 280 px canvas.
    """
    height = int(rng.integers(low, high + 1))
    top = int(rng.integers(0, canvas - height + 1))
    left = int(rng.integers(0, canvas - height + 1))
    return height, top, left


def render(ink: np.ndarray, convention: str) -> np.ndarray:
    """Ink -> a uint8 RGBA (or RGB) drawing in one of the three conventions.

    white-on-black: opaque RGBA, white pen on black (a canvas filled black first);
    ink-in-alpha: RGBA, untouched pixels (0, 0, 0, 0), the pen's coverage in alpha;
    black-on-white: opaque RGB, dark ink on white paper (a scan or a photo).
    """
    level = np.round(np.clip(ink, 0.0, 1.0) * 255).astype(np.uint8)
    height, width = level.shape
    if convention == WHITE_ON_BLACK:
        rgba = np.empty((height, width, 4), np.uint8)
        rgba[..., :3] = level[..., None]
        rgba[..., 3] = 255
        return rgba
    if convention == INK_IN_ALPHA:
        rgba = np.zeros((height, width, 4), np.uint8)
        rgba[..., :3] = np.where(level > 0, 255, 0)[..., None]
        rgba[..., 3] = level
        return rgba
    if convention == BLACK_ON_WHITE:
        return np.repeat((255 - level)[..., None], 3, axis=2)
    raise ValueError(f"unknown convention {convention!r}; choose one of {CONVENTIONS}")


def inside_strokes(field: np.ndarray, pixel: float = 1.0) -> np.ndarray:
    """The pixels inside the strokes (ink above half), with loops that thick strokes fill kept.

    A thick MNIST 6, 8 or 9 often has its loop filled in at half ink, and thinning that traces a
    line or a blob, not the loop the writer drew. A loop that still shows at a higher ink level
    (`LOOP_LEVELS`, at least `LOOP_AREA` MNIST pixels squared) is cut back out of the strokes.
    `pixel` is the size of one MNIST pixel in `field`'s pixels.
    """
    inside = field > 0.5
    above = field > np.reshape(LOOP_LEVELS, (-1, 1, 1))
    # the gaps at every level, labelled in one go (no connection from one level to the next)
    flat = np.zeros((3, 3, 3), bool)
    flat[1] = ndimage.generate_binary_structure(2, 1)
    gaps, _ = ndimage.label(~above, flat)
    loop = np.bincount(gaps.ravel()) >= LOOP_AREA * pixel * pixel
    edges = np.concatenate([gaps[:, 0], gaps[:, -1], gaps[:, :, 0], gaps[:, :, -1]], axis=None)
    loop[edges] = False  # a gap open to the edge is the paper around the digit
    loop[0] = False
    loops = loop[gaps].any(axis=0)
    return inside & ~loops


def centre_line(inside: np.ndarray) -> np.ndarray:
    """The one-pixel centre line of the strokes (scikit-image's morphological thinning)."""
    from skimage.morphology import skeletonize

    return skeletonize(inside)


def _wobble(field: np.ndarray, amount: float, rng: np.random.Generator) -> np.ndarray:
    """Elastic distortion (Simard et al. 2003): a smooth random field moves every pixel."""
    sigma = 4.0  # MNIST pixels: the bends are as long as a stroke, not pixel noise
    shape = field.shape
    dy, dx = (ndimage.gaussian_filter(rng.uniform(-1, 1, shape), sigma) for _ in range(2))
    scale = amount / max(np.abs(dy).max(), np.abs(dx).max(), 1e-6)
    rows, cols = np.meshgrid(np.arange(shape[0]), np.arange(shape[1]), indexing="ij")
    coords = np.array([rows + dy * scale, cols + dx * scale])
    return ndimage.map_coordinates(field, coords, order=1, mode="constant")


def _place(patch: np.ndarray, top: int, left: int, canvas: int) -> np.ndarray:
    """Paste `patch` with its corner at (top, left), cropping whatever falls off the canvas."""
    field = np.zeros((canvas, canvas), np.float32)
    patch = patch[max(0, -top) : canvas - top, max(0, -left) : canvas - left]
    top, left = max(0, top), max(0, left)
    field[top : top + patch.shape[0], left : left + patch.shape[1]] = patch
    return field
