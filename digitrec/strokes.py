"""Strokes and pens: drawing polylines with a round pen, tracing a digit's centre line, and
example strokes of the digits 0-9.

One module for both directions between strokes and pixels, so the drawing pad, the training
augmentation, the synthetic drawings and the tests draw with the same pen:

- `PenRaster` and `rasterise` draw strokes (sequences of (x, y) canvas points) the way the pad
  does: a white round pen on black, rasterised with Pillow at `SUPERSAMPLE` times the
  resolution and then reduced, so edges are anti-aliased like a browser's stroke;
- `inside_strokes`, `centre_line` and `centre_line_distance` go the other way, from an image
  of a digit to the line a pen would follow, `pen_width` measures the pen that drew it, and
  `pen_coverage` draws along that line again with an even pen of any width;
- `centre_line_paths` follows a centre line from end to end as polylines, and `angular`
  straightens them into a few segments, or into square corners, as a digit drawn with a
  mouse from point to point, or copied off a digital clock, looks;
- `example_strokes` gives plain strokes for each digit, for drawings with no hand.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
from PIL import Image, ImageDraw
from scipy import ndimage
from skimage.draw import line as line_pixels
from skimage.measure import approximate_polygon
from skimage.morphology import skeletonize

from digitrec.constants import CANVAS_SIZE, PEN_WIDTH

SUPERSAMPLE = 4  # rasterise at 4x, then reduce: anti-aliased edges like the browser's
# Ink levels above half at which a loop that thick strokes fill in may still show, and the
# smallest such loop (in MNIST pixels squared) worth keeping open.
LOOP_LEVELS = (0.65, 0.8, 0.9)
LOOP_AREA = 0.25
# `angular`'s square corners: every corner moves to the nearest line of a grid `SQUARE_SNAP`
# of the drawing's longer side apart; then a segment this many degrees off the level (either
# way) and off the upright, and shorter than `SQUARE_LONGEST` of that side (a bend, not a 1's
# or a 7's slanting stroke), is drawn as two, one of each.
SQUARE_SNAP = 0.12
SQUARE_SLANT = (25.0, 65.0)
SQUARE_LONGEST = 0.65
# How far training straightens a digit drawn from point to point: `angular`'s tolerance as a
# share of the height of the digit's field (MNIST's 28 px), drawn uniformly from this range;
# half of them get square corners (`SQUARE_SHARE`).
STRAIGHTEN = (0.025, 0.07)
SQUARE_SHARE = 0.5

Point = tuple[float, float]
Stroke = Sequence[Point]


class PenRaster:
    """A square canvas that strokes are drawn on point by point: white round pen on black.

    The pad adds each point as the mouse reports it (`dot` where the pen goes down, `segment`
    for each move), so the image is complete the moment the pen is lifted.
    """

    def __init__(self, size: int = CANVAS_SIZE, pen: float = PEN_WIDTH) -> None:
        self.size = int(size)
        self.pen = float(pen)
        if self.size < 1:
            raise ValueError(f"the canvas needs a positive size, not {size}")
        if not 0 < self.pen <= self.size:  # also refuses NaN
            raise ValueError(
                f"the pen's width is in pixels, above 0 and at most the canvas's {self.size}: "
                f"not {pen}"
            )
        self.clear()

    def clear(self) -> None:
        """Back to a blank canvas."""
        self._ink = Image.new("L", (self.size * SUPERSAMPLE, self.size * SUPERSAMPLE), 0)
        self._draw = ImageDraw.Draw(self._ink)

    def dot(self, point: Point) -> None:
        """The pen's round tip at `point`."""
        x, y = (c * SUPERSAMPLE for c in point)
        r = self.pen * SUPERSAMPLE / 2
        self._draw.ellipse((x - r, y - r, x + r, y + r), fill=255)

    def segment(self, start: Point, end: Point) -> None:
        """The pen moved from `start` to `end`, with a round cap and join at `end`."""
        scaled = [(start[0] * SUPERSAMPLE, start[1] * SUPERSAMPLE)]
        scaled.append((end[0] * SUPERSAMPLE, end[1] * SUPERSAMPLE))
        self._draw.line(scaled, fill=255, width=round(self.pen * SUPERSAMPLE))
        self.dot(end)

    def stroke(self, points: Stroke) -> None:
        """A whole stroke: pen down on the first point, through the others, up on the last."""
        if len(points) == 0:
            return
        self.dot(points[0])
        for start, end in zip(points[:-1], points[1:], strict=True):
            self.segment(start, end)

    def level(self) -> np.ndarray:
        """The ink as (size, size) uint8, 0 for the black paper and 255 for full ink."""
        return np.asarray(self._ink.reduce(SUPERSAMPLE))


def rasterise(
    strokes: Iterable[Stroke], size: int = CANVAS_SIZE, pen: float = PEN_WIDTH
) -> np.ndarray:
    """Strokes drawn as the pad draws them: (size, size) uint8 ink, 255 for full ink."""
    raster = PenRaster(size, pen)
    for stroke in strokes:
        raster.stroke([(float(x), float(y)) for x, y in stroke])
    return raster.level()


def canvas_rgba(level: np.ndarray) -> np.ndarray:
    """(H, W) uint8 ink -> (H, W, 4) uint8 RGBA as a canvas filled black stores it.

    White (grey where anti-aliased) ink on opaque black: what the pad gives the model and
    what a browser canvas's `getImageData` returns.
    """
    level = np.asarray(level, np.uint8)
    rgba = np.empty((*level.shape, 4), np.uint8)
    rgba[..., :3] = level[..., None]
    rgba[..., 3] = 255
    return rgba


def inside_strokes(field: np.ndarray, pixel: float = 1.0) -> np.ndarray:
    """The pixels inside the strokes (ink above half), with loops that thick strokes fill kept.

    A thick MNIST 6, 8 or 9 often has its loop filled in at half ink, and thinning that traces a
    line or a blob, not the loop the writer drew. A loop that still shows at a higher ink level
    (`LOOP_LEVELS`, at least `LOOP_AREA` MNIST pixels squared) is cut back out of the strokes.
    `field` is ink in [0, 1]; `pixel` is the size of one MNIST pixel in `field`'s pixels.
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
    return skeletonize(inside)


def centre_line_distance(
    field: np.ndarray,
    pixel: float = 1.0,
    *,
    straighten: float = 0.0,
    square: bool = False,
    rng: np.random.Generator | None = None,
) -> np.ndarray | None:
    """How far each pixel of `field` is from the centre line of its strokes, in pixels.

    `field` and `pixel` as for `inside_strokes`. None when `field` has no strokes (no ink
    above half), so there is no line to be near. `straighten` (pixels): the line straightened
    first (`angular`, with `square` and `rng`), as a digit drawn from point to point.
    """
    inside = inside_strokes(field, pixel)
    if not inside.any():
        return None
    line = centre_line(inside)
    if straighten > 0:
        paths = angular(
            centre_line_paths(line), straighten, rng or np.random.default_rng(), square=square
        )
        line = _drawn_paths(paths, line.shape)
    return ndimage.distance_transform_edt(~line)


def _drawn_paths(paths: Sequence[np.ndarray], shape: tuple[int, ...]) -> np.ndarray:
    """Paths of (row, col) points drawn back as a one-pixel line: bool `shape`."""
    line = np.zeros(shape, bool)
    for path in paths:
        points = np.round(path).astype(int)
        line[points[0, 0], points[0, 1]] = True
        for (r0, c0), (r1, c1) in zip(points[:-1], points[1:], strict=True):
            line[line_pixels(r0, c0, r1, c1)] = True
    return line


def centre_line_paths(centre: np.ndarray) -> list[np.ndarray]:
    """A one-pixel centre line (`centre_line`) as paths of (row, col) points: from each end or
    junction along the line to the next; a loop with neither (a 0) is one closed path."""
    centre = np.asarray(centre, bool)
    rows, cols = np.nonzero(centre)
    index = -np.ones(centre.shape, int)
    index[rows, cols] = np.arange(rows.size)
    padded = np.pad(index, 1, constant_values=-1)
    offsets = [(dr, dc) for dr in (-1, 0, 1) for dc in (-1, 0, 1) if dr or dc]
    around = np.stack([padded[rows + 1 + dr, cols + 1 + dc] for dr, dc in offsets], axis=1)
    neighbours = [[int(m) for m in row if m >= 0] for row in around]
    points = np.stack([rows, cols], axis=1).astype(float)
    walked: set[tuple[int, int]] = set()
    paths: list[np.ndarray] = []

    def walk(start: int, step: int) -> list[int]:
        path, previous, current = [start], start, step
        walked.add((min(start, step), max(start, step)))
        while True:
            path.append(current)
            if len(neighbours[current]) != 2 or current == start:
                return path
            ahead = [m for m in neighbours[current] if m != previous]
            edge = (min(current, ahead[0]), max(current, ahead[0]))
            if edge in walked:
                return path
            walked.add(edge)
            previous, current = current, ahead[0]

    nodes = [k for k in range(rows.size) if len(neighbours[k]) != 2]
    for start in [*nodes, *range(rows.size)]:  # ends and junctions first, then loops
        for step in neighbours[start]:
            if (min(start, step), max(start, step)) not in walked:
                paths.append(points[walk(start, step)])
    paths += [points[[k]] for k in range(rows.size) if not neighbours[k]]  # a lone dot
    return paths


def angular(
    paths: Sequence[np.ndarray], tolerance: float, rng: np.random.Generator, *, square: bool
) -> list[np.ndarray]:
    """Paths straightened into segments no further than `tolerance` from them (Douglas-Peucker).

    With `square`, the corners are also lined up, as on graph paper or a digital clock: each
    moves to the nearest line of a grid `SQUARE_SNAP` of the drawing's size apart, and each
    slanting segment (`SQUARE_SLANT`) no shorter than
    `tolerance` (a step where the line's pixels meet is no bend) and shorter than
    `SQUARE_LONGEST` of the drawing (a 7's stem stays) becomes two, one level and one upright,
    turning at the corner furthest from the drawing's middle (a 0 becomes an oblong), or
    either corner where both are as far.
    """
    straight = [approximate_polygon(np.asarray(path, float), tolerance) for path in paths]
    if not square or not straight:
        return straight
    every = np.concatenate(straight)
    low = every.min(axis=0)
    size = float((every.max(axis=0) - low).max())
    if size == 0:  # a dot alone: no corner to square
        return straight
    grid = SQUARE_SNAP * size
    straight = [low + np.round((path - low) / grid) * grid for path in straight]
    every = np.concatenate(straight)
    middle = every.mean(axis=0)
    longest = SQUARE_LONGEST * size
    cornered = []
    for path in straight:
        points = [path[0]]
        for start, end in zip(path[:-1], path[1:], strict=True):
            rise, run = np.abs(end - start)
            slant = np.degrees(np.arctan2(rise, run))
            length = float(np.linalg.norm(end - start))
            if tolerance <= length < longest and SQUARE_SLANT[0] <= slant <= SQUARE_SLANT[1]:
                corners = [np.array([start[0], end[1]]), np.array([end[0], start[1]])]
                far = [float(np.linalg.norm(c - middle)) for c in corners]
                if abs(far[0] - far[1]) < 0.1 * length:
                    points.append(corners[int(rng.integers(2))])
                else:
                    points.append(corners[int(np.argmax(far))])
            points.append(end)
        cornered.append(np.array(points))
    return cornered


def straight_style(rng: np.random.Generator) -> tuple[float, bool]:
    """How a training drawing is drawn from point to point: `angular`'s tolerance as a share
    of a digit field's height (`STRAIGHTEN`), and whether with square corners (`SQUARE_SHARE`)."""
    return float(rng.uniform(*STRAIGHTEN)), bool(rng.random() < SQUARE_SHARE)


def pen_width(mask: np.ndarray, centre: np.ndarray | None = None) -> float:
    """The width of the pen that drew `mask` (ink, bool), in its pixels: twice the median
    distance from the ink's centre line (`centre`, default: traced here) to the paper.

    Beyond the image's edge is taken for paper, so a mark cropped tightly (as `to_mnist`'s
    `Stages.crop` is) measures as it did on its canvas. At least 1 pixel; 0 for no ink.
    """
    mask = np.asarray(mask, bool)
    if not mask.any():
        return 0.0
    depth = ndimage.distance_transform_edt(np.pad(mask, 1))[1:-1, 1:-1]
    centre = centre_line(mask) if centre is None else centre & mask
    across = np.median(depth[centre]) if centre.any() else depth.max()
    return max(1.0, 2.0 * float(across))


def pen_coverage(distance: np.ndarray, pen: float) -> np.ndarray:
    """Ink of a round pen `pen` px wide drawn along a line, given each pixel's distance to it.

    float32 in [0, 1]: full inside the pen, a one-pixel anti-aliased edge, none beyond.
    """
    return np.clip(pen / 2.0 + 0.5 - np.asarray(distance), 0.0, 1.0).astype(np.float32)


def example_strokes(
    digit: int,
    *,
    height: float = 200,
    width: float | None = None,
    top: float = 40,
    left: float | None = None,
    size: int = CANVAS_SIZE,
) -> list[list[Point]]:
    """Polylines that draw `digit` the way a person might, scaled into a box on the canvas.

    For notebooks, tests and benchmarks that need a drawing with no hand: the shapes are
    plain (a 7 with no bar, an open 4), so a model trained on MNIST should read them. The box
    is `height` px tall and `width` wide (default 0.65 of the height), its top-left corner at
    (`left`, `top`); `left` defaults to centring it on a canvas `size` px wide.
    """
    if int(digit) not in range(10):
        raise ValueError(f"digit must be 0-9, got {digit!r}")
    width = 0.65 * height if width is None else width
    left = (size - width) / 2 if left is None else left
    return [
        [(left + x * width, top + y * height) for x, y in stroke]
        for stroke in _unit_strokes(int(digit))
    ]


def _arc(cx: float, cy: float, rx: float, ry: float, start: float, stop: float, n: int = 24):
    """Points on an ellipse; angles in degrees, y pointing down (so + is clockwise)."""
    angles = np.radians(np.linspace(start, stop, n))
    return [(cx + rx * np.cos(a), cy + ry * np.sin(a)) for a in angles]


def _unit_strokes(digit: int) -> list[list[Point]]:
    """Each digit's strokes in a unit box: x from 0 (left) to 1, y from 0 (top) to 1."""
    if digit == 0:
        return [_arc(0.5, 0.5, 0.45, 0.5, -90, 270, 40)]
    if digit == 1:
        return [[(0.3, 0.18), (0.55, 0.0), (0.55, 1.0)]]
    if digit == 2:
        return [_arc(0.5, 0.28, 0.42, 0.28, 200, 400) + [(0.05, 1.0), (0.95, 1.0)]]
    if digit == 3:
        return [_arc(0.45, 0.26, 0.4, 0.26, 200, 450) + _arc(0.45, 0.74, 0.47, 0.26, -90, 160)]
    if digit == 4:
        return [[(0.35, 0.0), (0.05, 0.62), (0.95, 0.62)], [(0.72, 0.15), (0.72, 1.0)]]
    if digit == 5:
        return [[(0.9, 0.0), (0.2, 0.0), (0.12, 0.48)] + _arc(0.45, 0.7, 0.45, 0.3, -140, 150)]
    if digit == 6:
        return [[(0.75, 0.0), (0.4, 0.2), (0.15, 0.5)] + _arc(0.5, 0.72, 0.4, 0.28, 180, -180, 40)]
    if digit == 7:
        return [[(0.05, 0.0), (0.95, 0.0), (0.4, 1.0)]]
    if digit == 8:
        return [_arc(0.5, 0.25, 0.34, 0.25, 90, 450), _arc(0.5, 0.72, 0.44, 0.28, -90, 270)]
    return [_arc(0.45, 0.28, 0.4, 0.28, 0, -360, 40) + [(0.85, 0.3), (0.8, 1.0)]]
