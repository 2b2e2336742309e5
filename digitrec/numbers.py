"""Read a whole number: split a drawing into digits and read them left to right.

The digit model reads one digit per image, so a drawing of "2026" must first be cut into
digits. `segment` finds the pieces of ink (connected components, SciPy) and handles what real
writing does to them:

- a dot or a speck (much smaller than the writing) is set aside;
- strokes of one digit that do not touch (a 5 whose bar floats, a 7 drawn in two strokes)
  are joined when their column spans overlap mostly (`MERGE`);
- a piece wide enough to hold touching digits gets candidate cuts: paths from top to bottom
  that cross as little ink as possible (`Cut`), found by dynamic programming as in seam
  carving, so a cut can follow the slant between two leaning digits.

`read_number` then decides what the pieces are by reading them: every candidate digit (a
whole piece; the parts of a piece cut once or twice; neighbouring pieces close enough to be
one digit, such as a 4 whose bar stops short of its stem) goes through `to_mnist` and is read
in one batch, and the left-to-right reading whose digits are read most confidently wins.
Cutting costs a penalty (`CUT_PENALTY`), so a piece stays whole unless its parts read much
better. A candidate that the refusal model (`digitrec.refusal`) calls not a digit counts
against the reading it belongs to; if it is still chosen, it is reported as not a digit (`?`
in `text`), not guessed.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import ndimage
from scipy.sparse.csgraph import connected_components
from skimage.morphology import skeletonize

from digitrec.constants import INK_THRESHOLD
from digitrec.predict import Prediction, Predictor
from digitrec.preprocess import EmptyDrawingError, extract_ink
from digitrec.refusal import NotDigitModel, default_model

# (top, left, bottom, right) in the drawing's pixels, bottom and right exclusive, so
# `ink[top:bottom, left:right]` is the box.
Box = tuple[int, int, int, int]

# A piece whose longer side is under this fraction of the writing's height is a speck.
SPECK = 0.3
# More pieces than this (specks aside) are no number: the drawing is not read.
MAX_PIECES = 40
# Pieces whose column spans overlap by this fraction of the narrower one are one digit.
MERGE = 0.5
# Neighbours closer than this fraction of the writing's height may be one digit.
NEAR = 0.25
# A piece wider than this times its height may be touching digits: it gets candidate cuts ...
SPLITTABLE = 0.85
# ... this many at most, at least this fraction of its height apart and from its sides.
MAX_CUTS = 4
CUT_SPACING = 0.2
# Cuts are tried every `CUT_STEP` of the piece's height, each free to move `CUT_BAND` of it
# to either side on its way down.
CUT_STEP = 0.04
CUT_BAND = 0.3
CUT_SLOPE = 1  # columns a cut may move sideways from one row to the next
# A cut leaves at least this share of the piece's ink on either side.
EDGE_SHARE = 0.05
# A piece wider than this times its height may be three touching digits (two cuts).
THREE_WIDE = 1.6
# At most this many neighbouring pieces are read as one digit ...
MAX_RUN = 3
# ... and a digit is at most this many times as wide as the writing is high.
MAX_WIDTH = 1.3
# Each cut a reading uses multiplies its score by this: a piece is one digit unless reading
# it as several is clearly better (a 0 cut in two reads as two confident 1s).
CUT_PENALTY = 0.3


@dataclass(frozen=True)
class Cut:
    """A path from the top of a piece to its bottom: the column it takes on every row."""

    columns: np.ndarray  # (piece height,) int, in the drawing's columns
    ink: float  # how much ink it crosses, in pixels: a cut between digits crosses little

    @property
    def column(self) -> float:
        """The cut's mean column in the drawing."""
        return float(self.columns.mean())


@dataclass(frozen=True)
class Piece:
    """Ink that is one digit or several touching ones, with the cuts it may be split at."""

    box: Box
    mask: np.ndarray  # (bottom - top, right - left) bool: this piece's own ink in its box
    cuts: tuple[Cut, ...] = ()  # candidate cuts between touching digits, left to right


@dataclass(frozen=True)
class Segmentation:
    """The pieces of a drawing, left to right, before any is read."""

    ink: np.ndarray  # (H, W) float32, 1.0 = full ink
    pieces: tuple[Piece, ...]
    specks: tuple[Box, ...]  # dots and specks set aside
    height: float  # the writing's height: the tallest piece, in pixels
    stroke: float  # the pen's width, estimated from the ink, in pixels

    @property
    def boxes(self) -> list[Box]:
        """Each piece's box, left to right."""
        return [piece.box for piece in self.pieces]


@dataclass(frozen=True)
class NumberReading:
    """A number read from a drawing: one entry per digit found, left to right."""

    digits: tuple[Prediction, ...]  # each digit's reading
    boxes: tuple[Box, ...]  # where each digit is in the drawing
    not_a_digit: tuple[bool, ...]  # True where the refusal model says the piece is no digit
    not_digit_scores: tuple[float, ...]  # its score per piece (0 without a refusal model)
    specks: tuple[Box, ...] = ()  # dots and specks that were ignored

    @property
    def text(self) -> str:
        """The digits as a string, e.g. "2026", with "?" for each piece that is not a digit."""
        return "".join(
            "?" if refused else str(p.digit)
            for p, refused in zip(self.digits, self.not_a_digit, strict=True)
        )

    @property
    def complete(self) -> bool:
        """True when every piece was read as a digit."""
        return not any(self.not_a_digit)

    def __len__(self) -> int:
        return len(self.digits)


class TooManyPiecesError(ValueError):
    """The drawing has more separate marks than any number would: it is not read."""


class _Shipped:
    def __repr__(self) -> str:
        return "the shipped refusal model"


SHIPPED = _Shipped()


def segment(drawing: Any) -> Segmentation:
    """Split a drawing (any size or convention `to_mnist` accepts) into pieces of ink.

    Raises `EmptyDrawingError` when there is no ink, and `TooManyPiecesError` (a ValueError)
    when it has more than `MAX_PIECES` pieces.
    """
    ink, _ = extract_ink(drawing)
    mask = ink > INK_THRESHOLD
    labels, count = ndimage.label(mask, structure=np.ones((3, 3), bool))
    if count == 0:
        raise EmptyDrawingError("the drawing is empty: write a number first")
    spans = np.array(
        [[s[0].start, s[1].start, s[0].stop, s[1].stop] for s in ndimage.find_objects(labels)]
    )
    heights, widths = spans[:, 2] - spans[:, 0], spans[:, 3] - spans[:, 1]
    height = float(heights.max())
    speck = np.maximum(heights, widths) < SPECK * height
    specks = tuple(_box(span) for span in spans[speck])
    kept = np.flatnonzero(~speck)
    if len(kept) > MAX_PIECES:
        raise TooManyPiecesError(
            f"the drawing has {len(kept)} separate marks of about the same size: too many to "
            f"read as a number (at most {MAX_PIECES})"
        )
    stroke = _stroke_width(mask)
    pieces = []
    for members in _overlapping(spans[kept, 1], spans[kept, 3]):
        chosen = kept[members]
        box = _box(np.r_[spans[chosen, :2].min(axis=0), spans[chosen, 2:].max(axis=0)])
        own = np.isin(labels[box[0] : box[2], box[1] : box[3]], chosen + 1)
        pieces.append(Piece(box, own, _cuts(own, box)))
    pieces.sort(key=lambda piece: (piece.box[1] + piece.box[3]) / 2)
    return Segmentation(ink, tuple(pieces), specks, height, stroke)


def read_number(
    drawing: Any,
    predictor: Predictor | None = None,
    *,
    refusal: NotDigitModel | None | _Shipped = SHIPPED,
) -> NumberReading:
    """Read every digit in a drawing, left to right.

    `predictor` defaults to `Predictor.load()` (the recommended model). `refusal` judges
    whether each piece is a digit at all: by default the predictor's own (`Predictor.refusal`)
    if it has one, else the shipped refusal model; None: every piece is taken for a digit.
    Raises `EmptyDrawingError` when there is no ink, `TooManyPiecesError` when it has more than
    `MAX_PIECES` pieces, and ValueError for an image `to_mnist` cannot read.
    """
    predictor = predictor if predictor is not None else Predictor.load()
    if isinstance(refusal, _Shipped):
        refusal = getattr(predictor, "refusal", None) or default_model()
    seg = segment(drawing)
    # Every way to read each run of neighbouring pieces: a list of parts (masks in the
    # drawing's coordinates, as (box, mask)), each part one digit.
    runs = _runs(seg)
    options = {run: _options(seg, run) for run in runs}
    parts = [part for run in runs for option in options[run] for part in option]
    images = [_image(seg.ink, box, mask) for box, mask in parts]
    readings = predictor.predict_batch(images)
    scores = (
        refusal.score(np.stack([r.image for r in readings]))
        if refusal is not None
        else np.zeros(len(readings), np.float32)
    )
    # How good each candidate digit is, as a log-probability: read confidently, and a digit.
    likely = np.array([r.confidence for r in readings]) * (1.0 - scores)
    value = np.log(np.clip(likely, 1e-9, 1.0))
    # The best option of each run, then the best runs from left to right.
    best: dict[tuple[int, int], tuple[float, list[int]]] = {}
    index = 0
    for run in runs:
        for option in options[run]:
            chosen = list(range(index, index + len(option)))
            total = float(value[chosen].sum()) + (len(option) - 1) * np.log(CUT_PENALTY)
            if run not in best or total > best[run][0]:
                best[run] = (total, chosen)
            index += len(option)
    chosen = _best_partition(len(seg.pieces), best)
    return NumberReading(
        digits=tuple(readings[k] for k in chosen),
        boxes=tuple(parts[k][0] for k in chosen),
        not_a_digit=tuple(
            bool(refusal is not None and scores[k] > refusal.threshold) for k in chosen
        ),
        not_digit_scores=tuple(float(scores[k]) for k in chosen),
        specks=seg.specks,
    )


Part = tuple[Box, np.ndarray]


def _runs(seg: Segmentation) -> list[tuple[int, int]]:
    """(start, stop) of every run of neighbouring pieces that could be one digit."""
    pieces, runs = seg.pieces, []
    for i in range(len(pieces)):
        for j in range(i + 1, min(i + MAX_RUN, len(pieces)) + 1):
            if j > i + 1:
                gap = pieces[j - 1].box[1] - max(p.box[3] for p in pieces[i : j - 1])
                width = max(p.box[3] for p in pieces[i:j]) - pieces[i].box[1]
                if gap >= NEAR * seg.height or width > MAX_WIDTH * seg.height:
                    break
            runs.append((i, j))
    return runs


def _options(seg: Segmentation, run: tuple[int, int]) -> list[list[Part]]:
    """The ways to read a run: whole, and for a single piece also cut at one or two cuts."""
    members = seg.pieces[run[0] : run[1]]
    whole = _union([(p.box, p.mask) for p in members])
    if len(members) > 1:
        return [[whole]]
    (piece,) = members
    smallest = SPECK * seg.height
    options = [[whole]]
    for cut in piece.cuts:
        options.append(_split(piece, [cut], smallest))
    top, left, bottom, right = piece.box
    if right - left > THREE_WIDE * (bottom - top):
        for first, second in itertools.combinations(piece.cuts, 2):
            if (second.columns - first.columns).min() >= CUT_SPACING * (bottom - top):
                options.append(_split(piece, [first, second], smallest))
    return [option for option in options if len(option) > 0]


def _split(piece: Piece, cuts: list[Cut], smallest: float) -> list[Part]:
    """A piece's ink on each side of the cuts, each part trimmed to its own box."""
    top, left, _, _ = piece.box
    columns = np.arange(piece.mask.shape[1])
    side = np.zeros(piece.mask.shape, int)
    for cut in cuts:
        side += columns[None, :] >= (cut.columns - left)[:, None]
    parts = []
    for k in range(len(cuts) + 1):
        part = _drop_slivers(piece.mask & (side == k), smallest)
        rows, cols = np.flatnonzero(part.any(axis=1)), np.flatnonzero(part.any(axis=0))
        if rows.size == 0:
            return []  # a cut that leaves nothing on one side is no split
        box = (top + rows[0], left + cols[0], top + rows[-1] + 1, left + cols[-1] + 1)
        parts.append((_box(box), part[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]))
    return parts


def _union(parts: list[Part]) -> Part:
    """Several parts as one: their common box, and all their ink in it."""
    boxes = np.array([box for box, _ in parts])
    top, left = boxes[:, :2].min(axis=0)
    bottom, right = boxes[:, 2:].max(axis=0)
    mask = np.zeros((bottom - top, right - left), bool)
    for (row, column, end_row, end_column), own in parts:
        mask[row - top : end_row - top, column - left : end_column - left] |= own
    return _box((top, left, bottom, right)), mask


def _image(ink: np.ndarray, box: Box, mask: np.ndarray) -> np.ndarray:
    """A part's own ink with a blank margin, so `to_mnist` reads it like any drawing."""
    top, left, bottom, right = box
    return np.pad(np.where(mask, ink[top:bottom, left:right], 0.0), 2)


def _best_partition(count: int, best: dict[tuple[int, int], tuple[float, list[int]]]) -> list[int]:
    """The readings (indices) of the runs that cover pieces 0..count-1 with the best total."""
    total = np.full(count + 1, -np.inf)
    total[0] = 0.0
    came_from: dict[int, tuple[int, int]] = {}
    for (i, j), (value, _) in sorted(best.items(), key=lambda item: item[0][1]):
        if total[i] + value > total[j]:
            total[j], came_from[j] = total[i] + value, (i, j)
    chosen: list[int] = []
    end = count
    while end > 0:
        run = came_from[end]
        chosen = best[run][1] + chosen
        end = run[0]
    return chosen


def _overlapping(lefts: np.ndarray, rights: np.ndarray) -> list[np.ndarray]:
    """Groups of pieces joined when their column spans overlap mostly (`MERGE`)."""
    widths = rights - lefts
    overlap = np.minimum.outer(rights, rights) - np.maximum.outer(lefts, lefts)
    joined = overlap >= MERGE * np.minimum.outer(widths, widths)
    _, group = connected_components(joined, directed=False)
    return [np.flatnonzero(group == g) for g in np.unique(group)]


def _cuts(mask: np.ndarray, box: Box) -> tuple[Cut, ...]:
    """The cuts from top to bottom that cross the least ink, if the piece is wide enough.

    For columns across the piece, seam carving's dynamic programme finds the cheapest path
    from top to bottom within a band around that column (`CUT_BAND` of the height each way),
    moving at most one column per row, so a cut can follow the slant between two digits. The
    cheapest of those paths that leave a fair share of ink on each side, apart from each
    other, are the cuts.
    """
    height, width = mask.shape
    if width <= SPLITTABLE * height:
        return ()
    band = max(1, round(CUT_BAND * height))
    starts = np.arange(0, width, max(1, round(CUT_STEP * height)))
    # Each band's ink, (starts, height, 2 * band + 1); columns outside the piece are walls.
    walled = np.pad(mask.astype(float), ((0, 0), (band, band)), constant_values=np.inf)
    offsets = np.arange(-band, band + 1)
    cost = walled[:, starts[:, None] + offsets + band].transpose(1, 0, 2)
    total = cost[:, 0].copy()
    step = np.zeros(cost.shape, np.int8)
    reach = CUT_SLOPE
    sideways = 0.1 * np.abs(np.arange(-reach, reach + 1))[:, None, None]
    for row in range(1, height):
        padded = np.pad(total, ((0, 0), (reach, reach)), constant_values=np.inf)
        width_band = total.shape[1]
        choices = np.stack([padded[:, k : k + width_band] for k in range(2 * reach + 1)])
        choices = choices + sideways
        step[:, row] = choices.argmin(axis=0) - reach
        total = choices.min(axis=0) + cost[:, row]
    ends = total.argmin(axis=1)
    crossed = total[np.arange(len(starts)), ends]
    paths = np.empty((len(starts), height), int)
    paths[:, -1] = ends
    for row in range(height - 1, 0, -1):
        paths[:, row - 1] = paths[:, row] + step[np.arange(len(starts)), row, paths[:, row]]
    paths += starts[:, None] - band  # band offsets -> the piece's columns
    before = np.pad(np.cumsum(mask, axis=1), ((0, 0), (1, 0)))  # ink left of each column
    share = before[np.arange(height), paths].sum(axis=1) / max(1, mask.sum())
    usable = np.isfinite(crossed) & (share >= EDGE_SHARE) & (share <= 1 - EDGE_SHARE)
    spacing = CUT_SPACING * height
    cuts: list[Cut] = []
    for k in np.argsort(crossed):
        if len(cuts) == MAX_CUTS or not usable[k]:
            continue
        columns = paths[k] + box[1]
        if all(abs(columns.mean() - cut.column) >= spacing for cut in cuts):
            cuts.append(Cut(columns, float(crossed[k])))
    return tuple(sorted(cuts, key=lambda cut: cut.column))


def _drop_slivers(mask: np.ndarray, smallest: float) -> np.ndarray:
    """Keep the parts of a cut piece that are not tiny slivers of a neighbour's ink."""
    labels, count = ndimage.label(mask, structure=np.ones((3, 3), bool))
    if count <= 1:
        return mask
    sizes = np.array(
        [max(s[0].stop - s[0].start, s[1].stop - s[1].start) for s in ndimage.find_objects(labels)]
    )
    big = np.flatnonzero(sizes >= smallest) + 1
    return np.isin(labels, big) if big.size else mask


def _stroke_width(mask: np.ndarray) -> float:
    """The pen's width: twice the median distance to the ink's edge along its centre line."""
    depth = ndimage.distance_transform_edt(mask)
    return max(1.0, 2.0 * float(np.median(depth[skeletonize(mask)])))


def _box(values: Any) -> Box:
    top, left, bottom, right = (int(v) for v in values)
    return (top, left, bottom, right)
