"""Turn any drawing into a 28x28 MNIST-style image: the one function both front ends call.

MNIST digits were not just shrunk: each was cropped to its ink, scaled so the longer side is
20 px (keeping the aspect ratio, anti-aliased), and placed in a 28x28 field with its centre
of mass at the centre. A stray speck beside or far from the writing (a tap of the pen, a fleck
of dust) is left out of the crop, as a person reading the digit would ignore it, and a line
of beads (an app that stamps a dot at each pointer sample) is read as the stroke it makes.
A model trained on MNIST only reads a drawing prepared the same way; squeezing a whole
280x280 canvas down to 28x28 gives it digits of the wrong size in the wrong place (see
`naive_resize`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image
from scipy import ndimage
from skimage.filters import apply_hysteresis_threshold
from skimage.morphology import disk

from digitrec.constants import INK_THRESHOLD, MNIST_BOX, MNIST_CENTRE, MNIST_SIZE
from digitrec.strokes import pen_width

# Pillow filters scale their support when shrinking, so BILINEAR is an anti-aliased
# (area-weighted) reduction with no ringing, and smooth when enlarging tiny drawings.
RESAMPLE = Image.Resampling.BILINEAR

WHITE_ON_BLACK = "white-on-black"
BLACK_ON_WHITE = "black-on-white"
INK_IN_ALPHA = "ink-in-alpha"
# A picture with transparent pixels holds its ink in the alpha channel when what is opaque is
# all of one colour (pen strokes on a transparent sheet): the 2nd to 98th percentile of its
# brightness spans less than this. Otherwise the opaque part is a page with ink on it (a
# screenshot with rounded corners, a scan with a transparent margin), read by its colours.
ONE_COLOUR = 0.25
# ... and so is one where more than `FEW` of the opaque pixels stand that far from its median
# brightness: a screenshot with rounded corners and a little writing on its page (under 2 %,
# so within the percentiles). Strokes on a transparent sheet are all of their one colour,
# however much of the sheet they cover.
FEW = 0.002
GREY = np.array([0.299, 0.587, 0.114], dtype=np.float32)  # brightness of RGB (ITU-R 601)

# A photographed page (`clean_page`). Ink at least STRONG times the writing's own contrast is
# writing, and so is ink above FAINT times it that joins such ink (skimage's hysteresis
# threshold): ruled and squared lines, paper grain and shadows are much fainter than the
# writing, pencil pressed lightly in places is not.
FAINT = 0.45
STRONG = 0.65
# A page is taken as photographed when over STRAY_SHARE of it, more than three pixels from
# the writing, holds ink of at least STRAY times the writing's contrast (grain, lines, shadow).
# A drawing's page is empty there, or nearly so in a JPEG, and the drawing is left as it is.
STRAY = 0.05
STRAY_SHARE = 0.01
# So is a page clean between long faint lines (ruled or squared paper, a sheet's edge, on a
# scan or a phone's smoothed photo): ink of at least STRAY times the writing's contrast, more
# than LINES_AWAY of the picture's shorter side (and a pen's width) from the writing, in one
# mark that spans LINES_LONG of the picture's width or height, or in DOTS marks or more that
# together span LINES_LONG of both (a dotted grid). A drawing's anti-aliased or blurred edges
# stay near its strokes.
LINES_AWAY = 0.05
LINES_LONG = 0.5
DOTS = 30
# Which way round a photographed page's ink is: the tail of the picture's middle (where the
# writing usually is) that reaches SWITCH times further from its median than the other.
# A picture with a mid-grey border (GREY_PAGE: a grey canvas, cardboard, a table) has its
# polarity and page level from the whole picture, and is a photograph when its median is
# over NOT_PAGE from its border's (the border is then not the page).
SWITCH = 2.0
GREY_PAGE = (0.25, 0.7)
NOT_PAGE = 0.1
# What lies around the page (a table, a wall): regions touching the picture's edge, thicker
# than a pen's stroke, at least AROUND times the writing's contrast and AROUND_LEVEL darker
# than the page (when the ink is dark), ending in a sharp edge (slope at least SHARP times
# their level per pixel; a shadow fades out). Found on a copy at most SMALL pixels across.
AROUND = 0.6
AROUND_LEVEL = 0.35
SHARP = 0.1
SMALL = 400
# A mark lying within EDGE_BAND of the picture's edge and EDGE_LONG of its length is the
# page's or the board's edge, not writing.
EDGE_BAND = 0.12
EDGE_LONG = 0.6
# What lies around the page touches at least EDGE_CONTACT of the picture's edge.
EDGE_CONTACT = 0.05


# A piece of ink whose longer side is under this fraction of the tallest piece's height is a
# speck. A speck beside the writing (less than `BESIDE` of its width within the columns of the
# rest), or above or below it further than `AWAY` of that height, is a stray tap and is left
# out of the crop. One close above or below stays: the dot of a "?" or of an "i", a broken-off
# bit of a stroke; so does one wholly above or below whose middle is no more than its own
# width beyond the rest's columns (the dot of a slanted "!", put down a little to one side).
SPECK = 0.3
BESIDE = 0.5
AWAY = 0.5
# A speck that is a dash, longer than `DASH` pen widths, with its ink within `NEARLY` pen
# widths of a bigger piece's, is a bit of that stroke broken off where the pen lifted (a 7's
# bar in two), not a tap: it stays wherever it stands. (A shorter tick beside a digit, as a
# redrawn MNIST digit's stray pixels leave, read as a digit of its own.)
DASH = 2.5
NEARLY = 1.0
# A mark less than `LOW` of the tallest one's height, standing above or below all the taller
# ones further than `AWAY` of that height, is no part of the writing either, however wide: a
# phone's status bar or toolbar in a screenshot, a line of small print under a big digit. The
# bar of a 5 or a 7 drawn apart is closer. (Not in a part cut from a drawing, whose bits all
# belong to it: a cut between touching digits may part a 3's lower arc from the rest.)
LOW = 0.5
# A stroke at least `FLAT` times as wide as it is tall, under all of the rest of the ink's
# width (`UNDER`, so much as a pen's rounding short of it), and below it, standing apart by at
# least `GAP` of its height (the gap between them and how far the line reaches beyond it on
# both sides, together), is a line under the writing and is left out: a person reads an
# underlined 8 as 8. A 2's base drawn apart is close under it and no wider. Above, a 5's or a
# 7's bar may stand apart, so a line over the writing stays.
FLAT = 3.0
GAP = 0.08
UNDER = 0.95
# A line under a number drawn so close that it touches some of its digits is part of their
# piece of ink. It is found by the piece's lowest ink: no thicker than `LINE_THIN` of the
# piece's height, and in `LINE_ALONE` of the columns standing alone (no more than half again
# as thick: the digits touch it in a few places); in `ON_LINE` of the columns within
# `LINE_SLACK` of that thickness (2 px at least) of one straight line, sloping no more than
# `LINE_SLOPE`. (The probes' lines drawn so lay within 1.6 px of one in 90 % of their columns;
# the lowest ink of a 2 touching a 3, its base and the 3's lower curve, 7 px.) A band
# `LINE_BAND` times as thick along it is taken out, where that leaves at least two marks over
# it side by side, each at least `MARK` of the piece's height tall (a 2's flat base is no
# underline, even where taking it out leaves a bit of the 2 apart, or the 2's top was drawn
# apart).
MARK = 0.4
ON_LINE = 0.9
LINE_SLACK = 0.2
LINE_SLOPE = 0.25
LINE_THIN = 0.25
LINE_ALONE = 0.6
LINE_BAND = 1.2
# A ring or a box of ink around a digit (a circled digit, a form's box) is a frame, not part of
# the digit, and is left out, where what each of its holes holds is writing: its tallest mark
# at least `FRAMED` of the hole's height (a face's mouth, a house's window, a dotted 0's dot
# are less), no other mark beside it bigger than `DUST` of it (a face's eyes; a digit in a
# frame is written in one piece), no dot (`PENS`: a fish's eye), nothing in its own loop (a
# target's bull's eye), and, in a round ring (less `BOXY` than a box) with nothing else in
# it, no straight stroke: the spread of its ink across its length at least `STRAIGHT` of the
# spread along it (a slashed 0's slash, drawn clear of the ring, is less).
FRAMED = 0.45
STRAIGHT = 0.2
DUST = 0.1  # of the mark inside: a JPEG's grain, no speck
PENS = 3.0  # a digit inside is at least this many of its pen's widths long; a dot is one
BOXY = 0.86  # of its box a box's outline fills with its hole; an oval 0 about 0.79
SAME = 0.15  # an empty box as tall and wide as a frame, to this share, is the same form's
LOOP = 0.1  # of a cell with writing's box: an empty hole's this small is where strokes overlap
# A line of beads (a drawing app that stamps a dot at each pointer sample and does not join
# them; a dotted worksheet, a dot-matrix display) is a stroke. Where at least `BEADS` pieces
# of ink, and at least `BEADED` of those as wide as half the pen or more (grain and dust,
# under `GRAIN` pixels, aside), are dots no longer than `BEAD` pen widths, gaps of up to
# `LINK` pen widths are bridged before the ink is split into pieces, so long as what they
# make is strokes (no more than `LINK` pen widths wide, a loop for no fewer than `RING`
# pieces), not a blot or a mesh. Six beads make a line (a 7's bar drawn fast, the rest drawn
# slowly and solid); four or five in a row are a few dots.
BEADS = 6
BEADED = 0.5
BEAD = 2.5
LINK = 2.0
RING = 3
GRAIN = 3


class EmptyDrawingError(ValueError):
    """The drawing has no ink, so there is nothing to recognise."""


@dataclass(frozen=True)
class Stages:
    """Every step from a drawing to the model's input, so notebooks can show each one."""

    ink: np.ndarray  # (H, W) float32, 1.0 = full ink, whatever the drawing's convention
    crop: np.ndarray  # the ink cropped to its bounding box
    box: np.ndarray  # the crop scaled so its longer side is 20 px
    centred: np.ndarray  # (28, 28) float32: the box placed by its centre of mass
    convention: str  # which of the three conventions the drawing arrived in


def to_mnist(image: Any, *, part: bool = False) -> np.ndarray:
    """A drawing (PIL image or array, any size, any convention) -> float32 (28, 28) in [0, 1].

    `part`: the image is a part cut from a drawing (`digitrec.numbers`), whose bits all belong
    to it, so no low mark in it is set aside for standing far from the rest (`far_marks`).
    Raises `EmptyDrawingError` when the drawing has no ink.
    """
    return preprocess_stages(image, part=part).centred


def preprocess_stages(image: Any, *, part: bool = False) -> Stages:
    """`to_mnist`, keeping each intermediate stage: ink -> crop -> 20x20 box -> centred."""
    ink, convention = extract_ink(image)
    mask = ink > INK_THRESHOLD
    if not mask.any():
        raise EmptyDrawingError("the drawing is empty: draw a digit first")
    ink, mask, pieces = beads_joined(ink, mask)  # labelled once, again when something changes
    for set_aside in (frames, underlines):
        aside = set_aside(mask, pieces)
        if aside.any():
            mask &= ~aside
            pieces = ink_pieces(mask)
    mask &= ~strays(mask, pieces, far=not part)
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    crop = np.where(mask, ink, 0.0)[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    crop = (crop / crop.max()).astype(np.float32)
    box = _fit_box(crop)
    return Stages(ink, crop, box, _centre(box), convention)


Pieces = tuple[np.ndarray, np.ndarray]  # `ink_pieces`: labels (H, W) and boxes (N, 4)


def ink_pieces(mask: np.ndarray) -> Pieces:
    """The pieces of ink in a mask (H, W) bool, pixels touching at a corner counting as one:
    their labels (H, W), 1 to N, and their boxes (N, 4) as (top, left, bottom, right)."""
    labels, _ = ndimage.label(mask, structure=np.ones((3, 3), bool))
    boxes = [[s[0].start, s[1].start, s[0].stop, s[1].stop] for s in ndimage.find_objects(labels)]
    return labels, np.array(boxes, dtype=np.intp).reshape(-1, 4)


def beads_joined(ink: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, Pieces]:
    """The ink (H, W) float, its mask and the mask's `ink_pieces`, with any lines of beads
    joined into the strokes they make (`linked`), ink and all: what is read is the stroke."""
    pieces = ink_pieces(mask)
    joined = linked(mask, pieces)
    if joined is mask:
        return ink, mask, pieces
    return np.maximum(ink, joined.astype(np.float32)), joined, ink_pieces(joined)


def linked(mask: np.ndarray, pieces: Pieces | None = None) -> np.ndarray:
    """The ink mask (H, W) bool with its lines of beads joined into strokes (`BEADS`,
    `BEADED`, `BEAD`, `LINK`, `RING`, `GRAIN`); any other mask as it is, the very same array.
    `pieces`: as for `underlines`."""
    _, spans = pieces if pieces is not None else ink_pieces(mask)
    if len(spans) < BEADS:
        return mask
    pen = pen_width(mask)
    sides = np.maximum(spans[:, 2] - spans[:, 0], spans[:, 3] - spans[:, 1])
    marks = sides >= max(pen / 2.0, GRAIN)  # a bead is as wide as the pen; grain is less
    beads, count = np.count_nonzero(marks & (sides <= BEAD * pen)), np.count_nonzero(marks)
    if beads < BEADS or beads < BEADED * count:
        return mask
    # a closing by a disc as wide as the widest gap, by distances: as fast for any pen
    radius = LINK * pen / 2.0
    pad = int(np.ceil(radius)) + 1
    grown = ndimage.distance_transform_edt(~np.pad(mask, pad)) <= radius
    closed = ndimage.distance_transform_edt(grown) > radius
    joined = closed[pad:-pad, pad:-pad] | mask
    # beads on a line make a stroke as wide as a bead; dots all over make a blot or a mesh
    _, loops = ndimage.label(ndimage.binary_fill_holes(joined) & ~joined)
    return joined if pen_width(joined) <= LINK * pen and loops <= count / RING else mask


def underlines(mask: np.ndarray, pieces: Pieces | None = None) -> np.ndarray:
    """The lines under the writing in an ink mask (H, W) bool (`FLAT`, `UNDER`, `GAP`);
    `pieces`, the mask's `ink_pieces` where they are known already."""
    labels, spans = pieces if pieces is not None else ink_pieces(mask)
    heights, widths = spans[:, 2] - spans[:, 0], spans[:, 3] - spans[:, 1]
    flat = widths >= FLAT * heights
    if flat.all() or not flat.any():
        return np.zeros_like(mask)
    top, left = spans[~flat, :2].min(axis=0)
    bottom, right = spans[~flat, 2:].max(axis=0)
    under = np.minimum(spans[:, 3], right) - np.maximum(spans[:, 1], left) >= UNDER * (right - left)
    gap = spans[:, 0] - bottom
    beyond = np.maximum(0, np.minimum(left - spans[:, 1], spans[:, 3] - right))
    line = flat & under & (gap >= 0) & (gap + beyond >= GAP * (bottom - top))
    return np.isin(labels, np.flatnonzero(line) + 1)


def touching_underlines(mask: np.ndarray, pieces: Pieces | None = None) -> np.ndarray:
    """The lines under the writing that touch it, in an ink mask (H, W) bool: in a piece at
    least as wide as it is tall and half as tall as the tallest, a straight band along its
    lowest ink (`ON_LINE`, `LINE_SLACK`, `LINE_SLOPE`, `LINE_THIN`, `LINE_ALONE`,
    `LINE_BAND`) with at least two marks over it once it is gone. `pieces`: as for
    `underlines`."""
    labels, spans = pieces if pieces is not None else ink_pieces(mask)
    line = np.zeros_like(mask)
    heights, widths = spans[:, 2] - spans[:, 0], spans[:, 3] - spans[:, 1]
    for k in np.flatnonzero((widths >= heights) & (heights >= 0.5 * heights.max())):
        top, left, bottom, right = spans[k]
        own = labels[top:bottom, left:right] == k + 1
        rows = np.arange(bottom - top)[:, None]
        low = np.where(own, rows, -1).max(axis=0)  # each column's lowest ink
        columns = np.flatnonzero(low >= 0)
        if len(columns) < 3:  # a dot
            continue
        # the ink up from each column's lowest, to the first gap over it
        gap = np.where(~own & (rows < low[None, :]), rows, -1).max(axis=0)
        thick = (low - gap)[columns]
        thickness = float(np.median(thick))
        if thickness > LINE_THIN * heights[k] or np.mean(thick <= 1.5 * thickness) < LINE_ALONE:
            continue
        slope, offset = np.polyfit(columns, low[columns], 1)
        slack = max(2.0, LINE_SLACK * thickness)
        on = np.abs(low[columns] - (slope * columns + offset)) <= slack
        if on.mean() < ON_LINE or abs(slope) > LINE_SLOPE:
            continue
        band = own & (rows > low[None, :] - LINE_BAND * thickness)
        rest = ndimage.find_objects(ndimage.label(own & ~band, structure=np.ones((3, 3)))[0])
        marks = [
            (left + across.start, left + across.stop)
            for down, across in rest
            if down.stop - down.start >= MARK * heights[k]
        ]
        over = (spans[:, 3] > left) & (spans[:, 1] < right) & (spans[:, 2] <= bottom)
        over &= heights >= MARK * heights[k]
        over[k] = False
        marks += [(span[1], span[3]) for span in spans[over]]
        if _side_by_side(marks) >= 2:
            line[top:bottom, left:right] |= band
    return line


def _side_by_side(spans: list[tuple[int, int]]) -> int:
    """How many marks stand side by side, by their column spans (left, right): marks whose
    columns overlap by half the narrower one's are one (the bits of a 2 broken apart)."""
    groups: list[list[int]] = []
    for start, stop in sorted(spans):
        if groups and min(stop, groups[-1][1]) - start >= 0.5 * min(
            stop - start, groups[-1][1] - groups[-1][0]
        ):
            groups[-1][1] = max(stop, groups[-1][1])
        else:
            groups.append([start, stop])
    return len(groups)


def frames(mask: np.ndarray, pieces: Pieces | None = None) -> np.ndarray:
    """The frames in an ink mask (H, W) bool: pieces of ink whose holes hold the writing, such
    as a ring around a digit or a row of boxes on a form, each hole with ink in it holding a
    mark of the writing's kind (`FRAMED`, `DUST`, `PENS`, `STRAIGHT`, `BOXY`); and the empty
    boxes of the same form beside them (`SAME`). `pieces`: as for `underlines`."""
    labels, spans = pieces if pieces is not None else ink_pieces(mask)
    found = np.zeros_like(mask)
    if len(spans) < 2:
        return found
    framing, empty = [], []
    for number, (top, left, bottom, right) in enumerate(spans, start=1):
        ring = labels[top:bottom, left:right] == number
        holes, _ = ndimage.label(ndimage.binary_fill_holes(ring) & ~ring)
        if not holes.any():
            continue
        held = mask[top:bottom, left:right] & (holes > 0)
        if not held.any():
            empty.append(number - 1)
            continue
        filled = np.unique(holes[held])
        if not _cells(holes, filled):
            continue
        # A ring with one straight stroke in it may be a slashed 0; a box, or one of a row of
        # boxes, holds a 1 as well.
        boxy = np.count_nonzero(holes) + np.count_nonzero(ring) >= BOXY * ring.size
        straight_ok = boxy or len(filled) > 1
        if all(_framed(held & (holes == h), holes == h, straight_ok) for h in filled):
            found[top:bottom, left:right] |= ring
            framing.append(number - 1)
    sizes = spans[:, 2:] - spans[:, :2]
    for k in empty:  # the form's empty boxes, as tall and wide as a box with writing in it
        if any(np.all(np.abs(sizes[k] - sizes[f]) <= SAME * sizes[f]) for f in framing):
            found |= labels == k + 1
    return found


def _cells(holes: np.ndarray, filled: np.ndarray) -> bool:
    """Whether a piece's empty holes are cells like those with writing in them (`SAME`), as
    a form's are, or small loops where strokes overlap: a padlock's shackle, a bicycle's
    other wheel make it a picture, not a frame."""
    boxes = ndimage.find_objects(holes)
    sizes = np.array([[b[0].stop - b[0].start, b[1].stop - b[1].start] for b in boxes], float)
    inked = sizes[filled - 1]
    for k in np.setdiff1d(np.arange(1, len(boxes) + 1), filled):
        small = sizes[k - 1].prod() < LOOP * inked.prod(axis=1).max()
        alike = np.all(np.abs(sizes[k - 1] - inked) <= SAME * inked, axis=1).any()
        if not (small or alike):
            return False
    return True


def _framed(inside: np.ndarray, hole: np.ndarray, straight_ok: bool) -> bool:
    """Whether the ink `inside` one hole of a piece is writing that the piece frames."""
    labels, spans = ink_pieces(inside)
    heights = spans[:, 2] - spans[:, 0]
    sides = np.maximum(heights, spans[:, 3] - spans[:, 1])
    hole_rows = np.flatnonzero(hole.any(axis=1))
    if heights.max() < FRAMED * (hole_rows[-1] - hole_rows[0] + 1):
        return False
    main = sides >= DUST * sides.max()  # dust aside: a JPEG's grain
    if main.sum() > 1:  # one mark: eyes, or eyes and a mouth, are no framed digit
        return False
    top, left, bottom, right = spans[np.argmax(main)]
    mark = inside[top:bottom, left:right]
    pen = pen_width(mark)
    if max(bottom - top, right - left) < PENS * pen:  # a dot, eyes run together
        return False
    # a dot in the mark's own loop (a quarter of the pen's square, or 9 pixels: more than
    # grain): a target's bull's eye, no digit's
    own = labels[top:bottom, left:right] == np.argmax(main) + 1
    bulls_eye = inside[top:bottom, left:right] & ndimage.binary_fill_holes(own) & ~own
    if bulls_eye.sum() >= max(0.25 * pen**2, 9):
        return False
    spread = np.cov(np.argwhere(own).T.astype(np.float64))
    across, along = np.linalg.eigvalsh(spread)
    return straight_ok or bool(np.sqrt(max(across, 0.0) / max(along, 1e-9)) >= STRAIGHT)


def strays(mask: np.ndarray, pieces: Pieces | None = None, *, far: bool = True) -> np.ndarray:
    """The stray specks in an ink mask (H, W) bool: pieces of ink much smaller than the tallest
    (`SPECK`) that stand to the left or right of the rest (`BESIDE`), or far above or below
    it (`AWAY`); and, with `far`, low marks far above or below the writing (`far_marks`).
    `pieces`: as for `underlines`."""
    labels, spans = pieces if pieces is not None else ink_pieces(mask)
    if len(spans) < 2:
        return np.zeros_like(mask)
    heights, widths = spans[:, 2] - spans[:, 0], spans[:, 3] - spans[:, 1]
    speck = np.maximum(heights, widths) < SPECK * heights.max()
    distant = far_marks(spans) & ~speck if far else np.zeros(len(spans), bool)
    if not (speck.any() or distant.any()):
        return np.zeros_like(mask)
    top, left = spans[~speck & ~distant, :2].min(axis=0)
    bottom, right = spans[~speck & ~distant, 2:].max(axis=0)
    within = np.minimum(spans[:, 3], right) - np.maximum(spans[:, 1], left)
    gap = np.maximum(top - spans[:, 2], spans[:, 0] - bottom)
    middle = (spans[:, 1] + spans[:, 3]) / 2
    dotted = (gap >= 0) & (middle >= left - widths) & (middle <= right + widths)
    beside = (within < BESIDE * widths) & ~dotted
    stray = speck & (beside | (gap > AWAY * heights.max()))
    if stray.any():  # the pen's width, only where it is needed: every part read comes here
        stray &= ~broken_off(labels, spans, stray, pen_width(mask))
    return np.isin(labels, np.flatnonzero(stray | distant) + 1)


def broken_off(labels: np.ndarray, spans: np.ndarray, small: np.ndarray, pen: float) -> np.ndarray:
    """Which of the pieces marked `small` (by their labels (H, W) and boxes (N, 4)) are dashes
    broken off a bigger piece's stroke (`DASH`, `NEARLY`), or off such a dash (a bar broken
    twice)."""
    longer = np.maximum(spans[:, 2] - spans[:, 0], spans[:, 3] - spans[:, 1])
    dashes = small & (longer > DASH * pen)
    broken = np.zeros(len(spans), bool)
    while dashes.any() and not small.all():
        stroke = np.isin(labels, np.flatnonzero(~small | broken) + 1)
        away = ndimage.distance_transform_edt(~stroke)
        nearest = np.asarray(ndimage.minimum(away, labels, np.arange(1, len(spans) + 1)))
        found = dashes & ~broken & (nearest <= NEARLY * pen + 1.0)
        if not found.any():
            break
        broken |= found
    return broken


def far_marks(spans: np.ndarray) -> np.ndarray:
    """Which pieces, by their boxes (N, 4), are low marks far above or below the writing
    (`LOW`, `AWAY`): the writing is every piece at least `LOW` of the tallest one's height."""
    heights = spans[:, 2] - spans[:, 0]
    tallest = heights.max(initial=0)
    tall = heights >= LOW * tallest
    if tall.all():
        return ~tall
    top, bottom = spans[tall, 0].min(), spans[tall, 2].max()
    gap = np.maximum(top - spans[:, 2], spans[:, 0] - bottom)
    return ~tall & (gap > AWAY * tallest)


def extract_ink(image: Any) -> tuple[np.ndarray, str]:
    """The drawing as ink intensity (H, W) float32 in [0, 1], plus the convention found.

    Ink in the alpha channel wins when the image has transparent pixels and what is opaque is
    of one colour (`ONE_COLOUR`, `FEW`: an HTML canvas or ipycanvas leaves untouched pixels at
    (0, 0, 0, 0)); otherwise the transparent pixels take the opaque part's usual colour, and
    the border's brightness tells a white page with dark ink from a dark page with light ink.
    A photographed page is read on its own terms (`_photo_ink`): the ink's polarity from the
    picture's middle, the table or wall around the page taken out, then the page's lines,
    grain and shadows (`clean_page`). A drawing comes back as it was.
    """
    pixels = _as_float_array(image)
    if pixels.ndim == 3 and pixels.shape[2] in (2, 4):
        alpha, colour = pixels[..., -1:], pixels[..., :-1]
        opaque = alpha[..., 0] >= 0.5
        if not opaque.all():
            if _one_colour(colour[opaque]):
                return alpha[..., 0].astype(np.float32), INK_IN_ALPHA
            usual = np.median(colour[opaque], axis=0)
            colour = colour * alpha + usual * (1.0 - alpha)  # a page without holes
        pixels = colour
    if pixels.ndim == 3 and pixels.shape[2] == 3:
        grey = pixels @ GREY
    elif pixels.ndim == 3:
        grey = pixels[..., 0]
    else:
        grey = pixels
    border = _rim(grey)
    background = page = float(np.median(border))
    if background > 0.5:
        ink, convention = 1.0 - grey, BLACK_ON_WHITE
        background = 1.0 - background
    else:
        ink, convention = grey, WHITE_ON_BLACK
    if background > 0.0:  # a grey page: stretch so the page is 0 and full ink is 1
        ink = np.clip((ink - background) / (1.0 - background), 0.0, 1.0)
    if GREY_PAGE[0] < page < GREY_PAGE[1]:
        # a grey border: a grey canvas, or a photograph whose border is not its page; which
        # way round the ink is, and the page's level, from the whole picture
        convention, middle, _ = _tails(grey, convention)
        ink = 1.0 - grey if convention == BLACK_ON_WHITE else grey
        level = 1.0 - middle if convention == BLACK_ON_WHITE else middle
        if level < 1.0:
            ink = np.clip((ink - level) / (1.0 - level), 0.0, 1.0)
    ink = ink.astype(np.float32)
    if min(ink.shape) < 3:
        return ink, convention
    border_not_page = GREY_PAGE[0] < page < GREY_PAGE[1] and abs(middle - page) > NOT_PAGE
    if not (border_not_page or _photographed(ink)):
        return ink, convention
    return _photo_ink(grey, ink, convention)


def _one_colour(colours: np.ndarray) -> bool:
    """Whether these (N, channels) colours, the opaque pixels of a picture, are all about one
    colour (`ONE_COLOUR`, `FEW`); none at all (only faint ink) counts as one."""
    if not len(colours):
        return True
    grey = colours @ GREY if colours.shape[1] == 3 else colours[:, 0]
    low, middle, high = np.percentile(grey, [2, 50, 98])
    apart = np.count_nonzero(np.abs(grey - middle) >= ONE_COLOUR)
    return bool(high - low < ONE_COLOUR and apart <= FEW * len(grey))


def _photographed(ink: np.ndarray) -> bool:
    """Whether the picture is a photographed or scanned page rather than a drawing: it holds
    faint ink away from the writing (grain, lines, shadow, a table's texture), or long faint
    lines or a grid of faint dots (`LINES_LONG`, `DOTS`)."""
    writing = _writing(ink)
    if writing <= INK_THRESHOLD:
        return False
    faint = ink > INK_THRESHOLD * writing
    away = ~ndimage.binary_dilation(faint, iterations=3)
    if away.any() and np.mean(ink[away] > STRAY * writing) > STRAY_SHARE:
        return True
    return _ruled_or_dotted(ink, writing)


def _ruled_or_dotted(ink: np.ndarray, writing: float) -> bool:
    """Whether the page holds a long faint line, or a grid of faint dots, away from the
    writing (`LINES_LONG`, `DOTS`), given the writing's contrast (`_writing`)."""
    strong = ink > STRONG * writing
    faint = ink > STRAY * writing

    def apart(reach: float) -> np.ndarray:
        return faint & ~ndimage.maximum_filter(strong, size=2 * round(reach) + 1)

    reach = max(3.0, LINES_AWAY * min(ink.shape))
    if not strong.any() or not _spans_page(apart(reach)):
        return False
    # a pen's width from the writing at least: a soft brush's edge, or a tight crop's, is no line
    pen = 2.0 * float(np.percentile(ndimage.distance_transform_edt(strong)[strong], 90))
    return pen <= reach or _spans_page(apart(pen))


def _spans_page(mask: np.ndarray) -> bool:
    """Whether one mark of `mask` spans `LINES_LONG` of the picture's width or height, or
    `DOTS` marks or more together span it both ways."""
    height, width = mask.shape
    labels, count = ndimage.label(mask, structure=np.ones((3, 3)))
    if any(
        rows.stop - rows.start >= LINES_LONG * height
        or cols.stop - cols.start >= LINES_LONG * width
        for rows, cols in ndimage.find_objects(labels)
    ):
        return True
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    return bool(
        count >= DOTS
        and rows[-1] - rows[0] >= LINES_LONG * height
        and cols[-1] - cols[0] >= LINES_LONG * width
    )


def _polarity(grey: np.ndarray, convention: str) -> tuple[str, float, float]:
    """(polarity, the page's brightness, the writing's contrast) from the picture's middle
    half, where the writing usually is, not from a desk or a wall around it (`_tails`)."""
    h, w = grey.shape
    return _tails(grey[h // 4 : h - h // 4, w // 4 : w - w // 4], convention)


def _tails(pixels: np.ndarray, convention: str) -> tuple[str, float, float]:
    """The ink is the tail of the pixels' brightness that reaches SWITCH times further from
    their median (the page) than the other; where neither does, `convention`, no contrast."""
    if pixels.size == 0:
        return convention, 0.0, 0.0
    low, mid, high = np.percentile(pixels, [0.5, 50, 99.5])
    darker, lighter = mid - low, high - mid
    if darker > SWITCH * lighter:
        return BLACK_ON_WHITE, mid, darker
    if lighter > SWITCH * darker:
        return WHITE_ON_BLACK, mid, lighter
    return convention, mid, 0.0


def _photo_ink(grey: np.ndarray, ink: np.ndarray, convention: str) -> tuple[np.ndarray, str]:
    """A photographed page's ink: which way round its ink is, what lies around the page
    (a table, a wall) taken out, then `clean_page`, then marks that are no writing dropped."""
    found, page, contrast = _polarity(grey, convention)
    around = np.zeros(grey.shape, dtype=bool)
    if contrast > 0.0:
        step = max(1, max(grey.shape) // SMALL)
        small = grey[::step, ::step]
        level = page - small if found == BLACK_ON_WHITE else small - page
        around = _surroundings(level, max(AROUND * contrast, AROUND_LEVEL))
        around = np.repeat(np.repeat(around, step, axis=0), step, axis=1)
        around = around[: grey.shape[0], : grey.shape[1]]
    if found != convention or around.any():  # the border is not the page: measure it inside
        ink = 1.0 - grey if found == BLACK_ON_WHITE else grey
        background = float(np.median(ink[~around])) if not around.all() else 0.0
        if background < 1.0:
            ink = np.clip((ink - background) / (1.0 - background), 0.0, 1.0)
        ink = np.where(around, 0.0, ink).astype(np.float32)
    cleaned = clean_page(ink, outside=around)
    stray = _stray_marks(ink, cleaned > 0.0, around)
    if stray.any():
        around |= ndimage.binary_dilation(stray, iterations=2)
        cleaned = clean_page(np.where(around, 0.0, ink).astype(np.float32), outside=around)
    return cleaned, found


def _stray_marks(ink: np.ndarray, marks: np.ndarray, around: np.ndarray) -> np.ndarray:
    """Marks that are not writing: those that touch what lies around the page, long ones
    lying along the picture's edge (a whiteboard's frame, a desk's rim), and soft-edged ones
    (a shadow's core): a pen's stroke has sharp edges."""
    labels, count = ndimage.label(marks, structure=np.ones((3, 3)))
    if count == 0:
        return np.zeros_like(marks)
    index = np.arange(1, count + 1)
    height, width = marks.shape
    side = min(height, width)
    band = np.ones_like(marks)
    inner = max(1, round(EDGE_BAND * side))
    band[inner:-inner, inner:-inner] = False
    in_band = ndimage.mean(band, labels, index)
    near = ndimage.maximum_filter(around, size=2 * max(2, round(0.01 * side)) + 1)
    touching = ndimage.maximum(near, labels, index)
    # the slope per pixel of a copy at most SMALL pixels across, as in `_surroundings`
    scale = max(1.0, max(height, width) / SMALL)
    slope = np.hypot(*np.gradient(ndimage.gaussian_filter(ink, scale))) * scale
    rim = marks & ~ndimage.binary_erosion(marks)
    edge_slope = ndimage.mean(slope, np.where(rim, labels, 0), index)
    level = ndimage.mean(ink, labels, index)
    stray = np.zeros(count + 1, dtype=bool)
    for k, box in enumerate(ndimage.find_objects(labels)):
        along = max((box[0].stop - box[0].start) / height, (box[1].stop - box[1].start) / width)
        soft = edge_slope[k] < SHARP * level[k]
        stray[k + 1] = touching[k] > 0 or (in_band[k] >= 0.6 and along >= EDGE_LONG) or soft
    return stray[labels]


def _surroundings(level: np.ndarray, darker: float) -> np.ndarray:
    """What lies around the page (a table, a wall) on the small copy: regions over `darker`
    beyond the page's `level`, thicker than a stroke, running along the picture's edge and
    ending in a sharp edge; widened a little to cover the page's blurred rim."""
    inky = level > darker
    side = min(inky.shape)
    radius = max(1, round(0.02 * side))
    thick = ndimage.binary_opening(inky, structure=disk(radius))
    labels, count = ndimage.label(thick)
    if count == 0:
        return np.zeros_like(inky)
    rim_labels = _rim(labels)
    contact = np.bincount(rim_labels, minlength=count + 1)
    # a table or a wall runs along the picture's edge (a stroke only touches it) ...
    edge = np.flatnonzero(contact >= EDGE_CONTACT * rim_labels.size)
    edge = edge[edge > 0]
    # ... and ends at the page's sharp edge; a shadow fades out
    slope = np.hypot(*np.gradient(ndimage.gaussian_filter(level, 1.0)))
    rim = thick & ~ndimage.binary_erosion(thick, border_value=1)
    sharp = []
    for k in edge:
        region = labels == k
        edge_slope = slope[rim & region]
        if edge_slope.size and np.median(edge_slope) >= SHARP * np.median(level[region]):
            sharp.append(k)
    around = np.isin(labels, sharp)
    return ndimage.binary_dilation(around, structure=disk(max(1, round(0.015 * side))))


def _rim(array: np.ndarray) -> np.ndarray:
    """The picture's outermost rows and columns, in one flat array."""
    return np.concatenate([array[0], array[-1], array[:, 0], array[:, -1]])


def clean_page(ink: np.ndarray, outside: np.ndarray | None = None) -> np.ndarray:
    """A photographed or scanned page's ink with the page itself taken out.

    Uneven light is evened out: the page's own level, smoothed from the pixels away from the
    writing, is subtracted. Then ink fainter than the writing is dropped (see `FAINT` and
    `STRONG`), keeping a one-pixel fringe around what stays (anti-aliased edges), and the
    writing is stretched to full ink. `outside` marks what lies off the page (left out of the
    page's level). Without it, a drawing (on a canvas, or an MNIST digit) comes back as it
    was: its page holds no ink away from the writing (`_photographed`).
    """
    writing = _writing(ink)
    if writing <= INK_THRESHOLD or (outside is None and not _photographed(ink)):
        return ink  # no ink, or a drawing, not a photograph
    page = ~ndimage.binary_dilation(ink > FAINT * writing, iterations=2)
    if outside is not None:
        page &= ~outside
    if page.any() and np.ptp(ink[page]) > 0.0:
        ink = np.clip(ink - _page_level(ink, page), 0.0, 1.0)
        writing = _writing(ink)
        if writing <= INK_THRESHOLD:
            return ink
    kept = apply_hysteresis_threshold(ink, FAINT * writing, STRONG * writing)
    kept = ndimage.binary_dilation(kept) & (ink > INK_THRESHOLD * writing)
    return np.where(kept, np.clip(ink / writing, 0.0, 1.0), 0.0).astype(np.float32)


def _writing(ink: np.ndarray) -> float:
    """The strokes' own contrast: the upper quartile of the ink at least half as strong as
    the strongest (a 3x3 median first, so a speck does not count), not its very top, which a
    ruled line crossing a stroke darkens further."""
    top = float(ndimage.median_filter(ink, size=3).max())
    if top <= INK_THRESHOLD:
        return top
    return float(np.percentile(ink[ink > 0.5 * top], 75))


def _page_level(ink: np.ndarray, page: np.ndarray) -> np.ndarray:
    """The page's ink level everywhere, smoothed over an eighth of the picture from the
    page's own pixels only (normalised convolution), so no stroke, thick or lightly pressed,
    leaks into it."""
    step = max(1, min(ink.shape) // 96)
    small_ink = np.where(page, ink, 0.0)[::step, ::step]
    small_page = page[::step, ::step].astype(np.float32)
    sigma = max(1.0, min(small_ink.shape) / 8)
    weight = ndimage.gaussian_filter(small_page, sigma, mode="nearest")
    total = ndimage.gaussian_filter(small_ink, sigma, mode="nearest")
    fallback = float(np.median(ink[page]))
    level = np.where(weight > 1e-3, total / np.maximum(weight, 1e-3), fallback)
    zoom = np.divide(ink.shape, level.shape)
    level = ndimage.zoom(level, zoom, order=1, mode="nearest", grid_mode=True)
    return level[: ink.shape[0], : ink.shape[1]]


def naive_resize(image: Any) -> np.ndarray:
    """The whole canvas squeezed to 28x28 with no cropping or centring: the common mistake.

    Kept for contrast in the benchmarks and notebooks, not for prediction.
    """
    ink, _ = extract_ink(image)
    small = Image.fromarray(ink).resize((MNIST_SIZE, MNIST_SIZE), RESAMPLE)
    return np.clip(np.asarray(small, dtype=np.float32), 0.0, 1.0)


def _as_float_array(image: Any) -> np.ndarray:
    if isinstance(image, Image.Image):
        image = _pil_to_array(image)
    pixels = np.asarray(image)
    if pixels.ndim not in (2, 3) or (pixels.ndim == 3 and pixels.shape[2] not in (1, 2, 3, 4)):
        raise ValueError(
            f"expected an image of shape (H, W), (H, W, 3) or (H, W, 4), got {pixels.shape}"
        )
    if pixels.shape[0] < 1 or pixels.shape[1] < 1:
        raise ValueError(f"the image has no pixels (shape {pixels.shape})")
    if pixels.dtype == np.bool_:
        return pixels.astype(np.float32)
    if pixels.dtype == np.uint8:
        return pixels.astype(np.float32) / 255.0
    if not (np.issubdtype(pixels.dtype, np.integer) or np.issubdtype(pixels.dtype, np.floating)):
        raise ValueError(f"expected numeric pixels, got dtype {pixels.dtype}")
    pixels = pixels.astype(np.float32)
    if not np.isfinite(pixels).all():
        raise ValueError("the image holds NaN or infinite values")
    if pixels.min() < 0:
        raise ValueError("the image holds negative values")
    top = float(pixels.max(initial=0.0))
    if top > 1.0:  # 0-255 values in a float or wider integer array
        pixels /= 255.0 if top <= 255.0 else top
    return pixels


def _pil_to_array(image: Image.Image) -> np.ndarray:
    has_alpha = image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (
        image.mode == "P" and "transparency" in image.info
    )
    if has_alpha:
        return np.asarray(image.convert("RGBA"))
    if image.mode.startswith(("I", "F")):  # 16- and 32-bit integer or float greys
        return np.asarray(image.convert("F"), dtype=np.float32)
    if image.mode in ("1", "L", "P"):
        return np.asarray(image.convert("L"))
    return np.asarray(image.convert("RGB"))


def _fit_box(crop: np.ndarray) -> np.ndarray:
    height, width = crop.shape
    scale = MNIST_BOX / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    resized = Image.fromarray(crop).resize(size, RESAMPLE)
    box = np.clip(np.asarray(resized, dtype=np.float32), 0.0, 1.0)
    peak = box.max()
    return box / peak if peak > 0 else box


def _centre(box: np.ndarray) -> np.ndarray:
    """Place the box so its centre of mass lands on MNIST's centre, keeping all the ink."""
    com_row, com_col = ndimage.center_of_mass(box)
    height, width = box.shape
    top = int(np.clip(round(MNIST_CENTRE[0] - com_row), 0, MNIST_SIZE - height))
    left = int(np.clip(round(MNIST_CENTRE[1] - com_col), 0, MNIST_SIZE - width))
    field = np.zeros((MNIST_SIZE, MNIST_SIZE), dtype=np.float32)
    field[top : top + height, left : left + width] = box
    return field
