"""Synthetic drawings made from MNIST digits, for tests, benchmarks and demonstrations.

A person drawing on the canvas uses a pen of one width whatever size the digit is, and puts
the digit anywhere. `redraw_digit` imitates that: it traces the centre line of an MNIST digit
(`digitrec.strokes.centre_line_distance`, which keeps the loops that thick strokes fill in),
scales it to the requested size and draws it with a round pen of fixed width. `add_flag` gives
a 1 the flag many people write and MNIST's writers seldom did (`--flags` in training);
`add_slash` gives a 0 the slash some people write so it is no letter O. `stretch_some` draws
digits narrower or wider than MNIST's writers did, as a hand on a mouse often does
(`--stretches` in training).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy import ndimage

from digitrec.constants import CANVAS_SIZE, MNIST_SIZE, PEN_WIDTH
from digitrec.preprocess import BLACK_ON_WHITE, INK_IN_ALPHA, WHITE_ON_BLACK
from digitrec.robustness import deskew
from digitrec.strokes import canvas_rgba, centre_line_distance, pen_coverage, pen_width, rasterise

CONVENTIONS = (WHITE_ON_BLACK, INK_IN_ALPHA, BLACK_ON_WHITE)
# A flag on a 1, as many people write one: a stroke down and to the left from its top, turned
# this many degrees from the stem, at least `FLAG_LOWEST` below the level (a 7's bar is nearer
# level, and further from its stem), and this share of the 1's height.
FLAG_ANGLE = (25.0, 50.0)
FLAG_LOWEST = 35.0
FLAG_LENGTH = (0.2, 0.35)
# A slash through a 0: a straight stroke through the middle of its ink, this many degrees above
# the level (rising to the right), reaching past the ink by this share of its height at each end.
SLASH_ANGLE = (40.0, 75.0)
SLASH_BEYOND = (0.0, 0.2)
# A dot in a 0, as some write one to tell it from an O: this many of the pen's widths across,
# within `DOT_OFF` of the hole's height and width from its deepest point.
DOT_SIZE = (1.0, 1.8)
DOT_OFF = 0.08
# A digit drawn narrower or wider than MNIST's at the same height: its width times a factor in
# this range, drawn log-uniform (a factor and its inverse equally likely where both are in it).
STRETCH_RANGE = (0.4, 1.6)


def enlarge_digit(
    digit: np.ndarray, height: int, top: int, left: int, canvas: int = CANVAS_SIZE
) -> np.ndarray:
    """An MNIST digit's field scaled to `height` px and placed on a blank canvas.

    Returns ink (canvas, canvas) float32 in [0, 1]; strokes grow with the digit.
    """
    big = ndimage.zoom(np.asarray(digit, np.float32) / 255.0, height / MNIST_SIZE, order=1)
    return _place(np.clip(big, 0.0, 1.0), top, left, canvas)


def redraw_digit(
    digit: np.ndarray,
    height: int,
    top: int,
    left: int,
    pen: float = PEN_WIDTH,
    canvas: int = CANVAS_SIZE,
    *,
    rotation: float = 0.0,
    wobble: float = 0.0,
    stretch: float = 1.0,
    straighten: float = 0.0,
    square: bool = False,
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """An MNIST digit redrawn `height` px tall with a round pen `pen` px wide.

    Returns ink (canvas, canvas) float32 in [0, 1], anti-aliased like a browser stroke.
    `height` is the size of the digit's whole field, so the ink itself is about 5/7 of it.
    `rotation` tilts the digit (degrees, anticlockwise); `wobble` bends its strokes by a
    smooth random displacement of up to about `wobble` MNIST pixels (a sloppy hand), drawn
    from `rng`; `stretch` makes it wider (> 1) or narrower (< 1) at the same height, about
    its middle. `straighten` (a share of `height`) draws the centre line as straight segments
    no further than that from it, and `square` turns their bends into square corners
    (`strokes.angular`): digits drawn with a mouse from point to point, or boxy ones.
    """
    if stretch <= 0:
        raise ValueError(f"stretch must be above 0, not {stretch!r}")
    field = np.asarray(digit, np.float32) / 255.0
    if square:  # drawn upright, as on graph paper: the writer's slant taken out first
        field = deskew(field)
    if rotation or wobble or stretch > 1:  # room for what turns, bends or widens out of it
        margin = 4
        field = np.pad(field, margin)
        top -= round(margin * height / MNIST_SIZE)
        left -= round(margin * height / MNIST_SIZE)
    if stretch != 1:  # one resampling for both: twice would fade a thin stroke away
        field = _stretch_and_turn(field, stretch, rotation)
    elif rotation:
        field = ndimage.rotate(field, rotation, reshape=False, order=1)
    if wobble:
        field = _wobble(field, wobble, rng or np.random.default_rng())
    big = ndimage.zoom(field, height / MNIST_SIZE, order=1)
    distance = centre_line_distance(
        big, height / MNIST_SIZE, straighten=straighten * height, square=square, rng=rng
    )
    if distance is None:
        return np.zeros((canvas, canvas), np.float32)
    return _place(pen_coverage(distance, pen), top, left, canvas)


def add_flag(digit: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A 1 (or any digit) with a flag drawn from the top of its ink, down to the left
    (`FLAG_ANGLE`, `FLAG_LENGTH`), with the pen that drew it: the 1 most of Europe writes,
    which MNIST's American writers seldom did. `digit` is (H, W) in [0, 1]; so is the result.
    """
    field = np.asarray(digit, np.float32)
    mask = field > 0.5
    if not mask.any():
        return field
    pen = pen_width(mask)
    rows = np.flatnonzero(mask.any(axis=1))
    top, height = rows[0], rows[-1] - rows[0] + 1
    tip = np.flatnonzero(mask[top : top + max(1, round(pen / 2))].any(axis=0))
    # Pixel centres: (x, y) on the pen's canvas is the middle of pixel (x - 0.5, y - 0.5).
    x, y = tip.mean() + 0.5, top + pen / 2 + 0.5
    # The stem's direction from the top, in degrees below the level towards the left (90 for
    # an upright 1, less for one leaning right), from the ink's second moments.
    ys, xs = np.nonzero(mask)
    across, down = np.linalg.eigh(np.cov(xs, ys))[1][:, -1]
    if down < 0:
        across, down = -across, -down
    stem = np.degrees(np.arctan2(down, -across))
    angle = np.radians(max(FLAG_LOWEST, min(stem, 90.0) - rng.uniform(*FLAG_ANGLE)))
    length = rng.uniform(*FLAG_LENGTH) * height
    end = (x - length * np.cos(angle), y + length * np.sin(angle))
    size = max(field.shape)
    flag = rasterise([[(x, y), end]], size=size, pen=pen)[: field.shape[0], : field.shape[1]]
    return np.maximum(field, flag.astype(np.float32) / 255.0)


def add_slash(digit: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A 0 (or any digit) with a slash through it (`SLASH_ANGLE`, `SLASH_BEYOND`), drawn with
    the pen that drew it, as programmers and some schools write a 0. `digit` is (H, W) in
    [0, 1]; so is the result, the slash clipped to the field.
    """
    field = np.asarray(digit, np.float32)
    mask = field > 0.5
    if not mask.any():
        return field
    pen = pen_width(mask)
    rows, columns = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    height = rows[-1] - rows[0] + 1
    # Pixel centres, as in `add_flag`; the slash crosses the middle of the ink's box.
    x, y = (columns[0] + columns[-1]) / 2 + 0.5, (rows[0] + rows[-1]) / 2 + 0.5
    angle = np.radians(rng.uniform(*SLASH_ANGLE))
    half = height / 2 * (1 + rng.uniform(*SLASH_BEYOND)) / np.sin(angle)
    dx, dy = half * np.cos(angle), half * np.sin(angle)
    size = max(field.shape)
    slash = rasterise([[(x - dx, y + dy), (x + dx, y - dy)]], size=size, pen=pen)
    return np.maximum(field, slash[: field.shape[0], : field.shape[1]].astype(np.float32) / 255.0)


def add_dot(digit: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A 0 with a dot in its hole, drawn with the pen that drew it (`DOT_SIZE` pen widths, no
    wider than leaves a gap to the ring), within `DOT_OFF` of the hole's size from its deepest
    point. A digit with no hole is left as it is. `digit` is (H, W) in [0, 1]; so is the result.
    """
    field = np.asarray(digit, np.float32)
    mask = field > 0.5
    hole = ndimage.binary_fill_holes(mask) & ~mask
    if not hole.any():
        return field
    room = ndimage.distance_transform_edt(hole)  # how far each hole pixel is from the ring
    rows, columns = np.nonzero(hole)
    span = np.array([np.ptp(rows) + 1, np.ptp(columns) + 1])
    deepest = np.array(np.unravel_index(np.argmax(room), room.shape), float)
    y, x = np.clip(deepest + rng.uniform(-DOT_OFF, DOT_OFF, 2) * span, 0, np.array(room.shape) - 1)
    free = float(room[round(y), round(x)])
    stroke = pen_width(mask)
    pen = min(stroke * rng.uniform(*DOT_SIZE), 2 * (free - 1.5))
    if pen < max(1.5, stroke / 2):  # a hole too small for a dot one would see
        return field
    # Pixel centres, as in `add_flag`.
    dot = rasterise([[(x + 0.5, y + 0.5)]], size=max(field.shape), pen=pen)
    return np.maximum(field, dot[: field.shape[0], : field.shape[1]].astype(np.float32) / 255.0)


def flag_ones(x: np.ndarray, y: np.ndarray, share: float, seed: int = 0) -> np.ndarray:
    """A copy of digits `x` (N, 28, 28) or (N, 28, 28, 1) in [0, 1] with `share` of the 1s
    among them (labels `y`) given a flag (`add_flag`), chosen at random by `seed`."""
    return _mark_some(x, y, share, seed, 1, add_flag)


def slash_zeros(x: np.ndarray, y: np.ndarray, share: float, seed: int = 0) -> np.ndarray:
    """The same as `flag_ones` for the 0s: `share` of them slashed (`add_slash`)."""
    return _mark_some(x, y, share, seed, 0, add_slash)


def stretch_some(
    x: np.ndarray, share: float, seed: int = 0, span: tuple[float, float] = STRETCH_RANGE
) -> np.ndarray:
    """A copy of digits `x` (N, 28, 28) or (N, 28, 28, 1) in [0, 1] with `share` of them,
    chosen at random by `seed`, made narrower or wider at the same height (a factor in `span`,
    log-uniform). A narrower digit keeps its height; a wider one keeps its width and loses
    height instead, so it stays in its field: the same shape once framed as `to_mnist` frames a
    drawing.
    """
    rng = np.random.default_rng(seed)
    low, high = span
    if not 0 < low <= high:
        raise ValueError(f"span must be 0 < low <= high, not {span!r}")
    chosen = rng.choice(len(x), size=round(share * len(x)), replace=False)
    factors = np.exp(rng.uniform(np.log(low), np.log(high), size=len(chosen)))
    stretched = np.array(x, copy=True)
    shape = stretched.shape[1:3]
    centre = (np.array(shape) - 1) / 2
    for k, factor in zip(chosen, factors, strict=True):
        # Output pixel -> input pixel: columns read 1/factor apart, or rows factor apart. The
        # strokes are first widened along that axis by the gap between reads, so a thin one
        # is not skipped: a pen draws a narrow digit with strokes as wide as ever.
        squeeze = 1.0 / factor if factor < 1 else factor
        matrix = np.diag([1.0, squeeze] if factor < 1 else [squeeze, 1.0])
        reach = max(1, round(squeeze))
        field = stretched[k].reshape(shape).astype(np.float32)
        field = ndimage.grey_dilation(field, size=(1, reach) if factor < 1 else (reach, 1))
        field = ndimage.affine_transform(field, matrix, centre - matrix @ centre, order=1)
        stretched[k] = field.reshape(x.shape[1:]).astype(stretched.dtype)
    return stretched


def _mark_some(
    x: np.ndarray, y: np.ndarray, share: float, seed: int, digit: int, mark: Callable
) -> np.ndarray:
    """A copy of `x` with `share` of the digits labelled `digit` marked by `mark`."""
    rng = np.random.default_rng(seed)
    these = np.flatnonzero(np.asarray(y) == digit)
    chosen = rng.choice(these, size=round(share * len(these)), replace=False)
    marked = np.array(x, copy=True)
    for k in chosen:
        marked[k] = mark(marked[k].reshape(marked.shape[1:3]), rng).reshape(x.shape[1:])
    return marked


def random_placement(
    rng: np.random.Generator, low: int = 100, high: int = CANVAS_SIZE, canvas: int = CANVAS_SIZE
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
        return canvas_rgba(level)
    if convention == INK_IN_ALPHA:
        rgba = np.zeros((height, width, 4), np.uint8)
        rgba[..., :3] = np.where(level > 0, 255, 0)[..., None]
        rgba[..., 3] = level
        return rgba
    if convention == BLACK_ON_WHITE:
        return np.repeat((255 - level)[..., None], 3, axis=2)
    raise ValueError(f"unknown convention {convention!r}; choose one of {CONVENTIONS}")


def _wobble(field: np.ndarray, amount: float, rng: np.random.Generator) -> np.ndarray:
    """Elastic distortion (Simard et al. 2003): a smooth random field moves every pixel."""
    sigma = 4.0  # MNIST pixels: the bends are as long as a stroke, not pixel noise
    shape = field.shape
    dy, dx = (ndimage.gaussian_filter(rng.uniform(-1, 1, shape), sigma) for _ in range(2))
    scale = amount / max(np.abs(dy).max(), np.abs(dx).max(), 1e-6)
    rows, cols = np.meshgrid(np.arange(shape[0]), np.arange(shape[1]), indexing="ij")
    coords = np.array([rows + dy * scale, cols + dx * scale])
    return ndimage.map_coordinates(field, coords, order=1, mode="constant")


def _stretch_and_turn(field: np.ndarray, stretch: float, rotation: float) -> np.ndarray:
    """`field` `stretch` times as wide, then turned `rotation` degrees as `ndimage.rotate`
    turns, both about its middle and in one resampling."""
    cos, sin = np.cos(np.radians(rotation)), np.sin(np.radians(rotation))
    matrix = np.diag([1.0, 1.0 / stretch]) @ np.array([[cos, sin], [-sin, cos]])
    centre = (np.array(field.shape) - 1) / 2
    return ndimage.affine_transform(field, matrix, centre - matrix @ centre, order=1)


def _place(patch: np.ndarray, top: int, left: int, canvas: int) -> np.ndarray:
    """Paste `patch` with its corner at (top, left), cropping whatever falls off the canvas."""
    field = np.zeros((canvas, canvas), np.float32)
    patch = patch[max(0, -top) : canvas - top, max(0, -left) : canvas - left]
    top, left = max(0, top), max(0, left)
    field[top : top + patch.shape[0], left : left + patch.shape[1]] = patch
    return field
