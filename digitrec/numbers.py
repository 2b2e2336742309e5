"""Read a whole number: split a drawing into digits and read them left to right.

The digit model reads one digit per image, so a drawing of "2026" must first be cut into
digits. `segment` finds the pieces of ink (connected components, SciPy) and handles what real
writing does to them:

- a line of beads (an app that stamps a dot at each pointer sample; a dot-matrix display)
  is one stroke (`preprocess.linked`), and a number drawn so is as many pieces as drawn in
  strokes;
- a dot or a speck (much smaller than the writing) is set aside, and so is a line under it,
  apart from it or touching it (`preprocess.touching_underlines`);
- strokes of one digit that do not touch (a 5 whose bar floats, a 7 drawn in two strokes)
  are joined when their column spans overlap mostly (`MERGE`);
- a piece wide enough to hold touching digits gets candidate cuts: paths from top to bottom
  that cross as little ink as possible (`Cut`), found by dynamic programming as in seam
  carving, so a cut can follow the slant between two leaning digits;
- where one digit leans into the next so that no such path parts them, it also gets
  candidate partings (`Parting`): the ink taken out where their strokes meet, or along the
  stretch of stroke two round digits share (two 0s written into each other), or, between
  two loops side by side, every pixel given to the nearer loop and the ink they share to
  both, or a stroke run into a loop's side (the 1 of a tight 10) taken off its ring
  (`_loop_partings`).

`read_number` then decides what the pieces are by reading them. Every candidate digit (a
whole piece; its ink between any two of its cuts; either side of a parting; neighbouring
pieces close enough to be one digit, such as a 4 whose bar stops short of its stem) goes
through `to_mnist` and is read in one batch, and the likeliest left-to-right reading wins (a
shortest-path search over the candidates). What makes a reading likely is what a person goes
by:

- each candidate is read confidently as a digit, and the refusal model (`digitrec.refusal`)
  takes it for one. A candidate the refusal model calls no digit is reported as such (`?` in
  `text`), not guessed, and counts as a mark at a prior (`NOT_A_DIGIT`): a star stays one
  mark rather than being cut into parts that each look a little like a digit; a mark that
  is all the drawing holds, at a higher one (`ALONE`): a heart drawn alone is no 67. In a
  number the writer meant digits, so a piece the digit model is sure of (`SURE`) is refused
  only when the refusal model is sure too (`SURELY_NOT`); but a piece of ink is likelier one
  thing (a digit, a letter, a doodle) than touching digits, so a part cut from it must read
  surely as a digit, by both models together (`ONE_PIECE`): the letters of a word are no
  "6117". In a drawing of one piece that holds however sure the digit model is; among other
  pieces a part passes that neither model doubts (`SURE` to the digit model, under the
  refusal model's threshold). A drawing read as one digit or one mark gets the answer
  `Predictor.predict` gives it, so both ways of asking agree; one whose marks that are no
  digit hold most of its ink (`MOSTLY`) is one mark, a doodle: no number (beside marks, where
  nothing is plainly a digit, a digit the refusal model doubts is a mark too: a cloud beside
  an umbrella is no "?0"), and so is one piece
  of ink read as partly no digit (a cloud is no "?3"), and so are several pieces none of which
  is surely a digit whole, only cut into parts of which one is no digit: the letters of "hen"
  are no "17?17";
- a digit is about as tall as the rest of the writing (`SHORT`), not much wider than it is
  high (`WIDE`) and, cut from a piece, not thinner than the pen (`THIN`): a bit of stroke or
  a slice of one is no digit, and a blob as wide as two digits is likely two;
- pieces apart are one digit only where they need each other: where one of them alone is
  surely the digit they make together, the rest, if tall enough, is a mark of its own (the
  plus of 2+3);
- every cut costs a penalty (`CUT_PENALTY`), more for each stroke it crosses beyond the first
  (`STROKE_PENALTY`): touching digits meet at one narrow place, while a cut through a 0, an 8
  or a star crosses a loop;
- digits stand side by side: a part of a piece that lies within the columns of the rest
  (`INSIDE`), like a stem inside an outline, is no digit beside it;
- a 1 does not touch a 1: a drawing of one piece is never read as 1s on either side of a cut
  (a V, a u, a zigzag is no "11" or "1111");
- a drawing of one piece narrower than it is tall (`ONE_CHARACTER`) is one character: an H,
  a W or an & is no "14" or "86", however surely the digit model reads its parts; but not
  where it parts plainly into digits: only beside or between loops (a 10 written narrow, its
  1 run into the 0's side), or where they touch, into digits both models are sure of and as
  tall as the drawing (a narrow 17; an n, an H and some Ms read so too);
- no digit holds another in its loop: a piece with a part of its ink inside a hole of another
  part (a face's mouth in its outline) is one thing and is not cut; nor is a piece of two
  straight strokes that cross (`_a_cross`: an X is no "76");
- a 1 or a 7 with a dot straight under or over it is an !, an i or a ? (`_dotted`): "?!" is
  no "71".
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
from digitrec.predict import Prediction, Predictor, refused_by_shape
from digitrec.preprocess import (
    AWAY,
    FLAT,
    SPECK,
    EmptyDrawingError,
    beads_joined,
    broken_off,
    extract_ink,
    far_marks,
    frames,
    ink_pieces,
    preprocess_stages,
    touching_underlines,
)
from digitrec.refusal import DOT, DOTTED, NotDigitModel, default_model, is_crescent
from digitrec.strokes import pen_width

# (top, left, bottom, right) in the drawing's pixels, bottom and right exclusive, so
# `ink[top:bottom, left:right]` is the box.
Box = tuple[int, int, int, int]

# A piece whose longer side is under `SPECK` (`digitrec.preprocess`) of the writing's height is
# a speck, set aside wherever it lies (a drawing of one digit leaves out only stray ones).

# More pieces than this (specks aside) are no number: the drawing is not read.
MAX_PIECES = 40
# Pieces whose column spans overlap by this fraction of the narrower one are one digit.
MERGE = 0.5
# Two parts of one piece are no digits side by side where one lies within the other's columns
# (all but this share of it): a stem inside a cup is no 1 beside a 2. Touching digits overlap
# less, if often more than `MERGE` (a slanted 1 leaning into a 7).
INSIDE = 0.9
# A stroke at least `FLAT` (`digitrec.preprocess`) times as wide as it is tall, under or over
# most of the columns of two or more digits, is a line under (or over) the writing, set aside
# like a speck: a person reads an underlined 42 as 42, where joining columns would make the
# three strokes one piece.
# Neighbours closer than this fraction of the writing's height may be one digit.
NEAR = 0.25
# A face's outline or a frame holds a mark in it even with gaps up to this many pen widths.
GAPS = 1.5
# A piece wider than this times its height may be touching digits: it gets candidate cuts ...
SPLITTABLE = 0.6
# ... `CUTS_PER_HEIGHT` for each height of its width, `MAX_CUTS` at most, each leaving a share
# of the ink on its left at least `DISTINCT` from every other's (cuts that split the ink
# alike are one).
CUTS_PER_HEIGHT = 4
MAX_CUTS = 8
DISTINCT = 0.04
# Cuts are tried every `CUT_STEP` of the piece's height, each free to move `CUT_BAND` of it
# to either side on its way down, one column per row at a cost of `SIDEWAYS` pixels of ink;
# such a step through ink is `SLANT` pixels long, so a cut across a slanting stroke costs
# what a cut across an upright one does.
CUT_STEP = 0.04
CUT_BAND = 0.2
SIDEWAYS = 0.1
SLANT = float(np.sqrt(2.0))
SEAM_ROWS = 90
# A cut leaves at least this share of the piece's ink on either side.
EDGE_SHARE = 0.05
# A piece wider than this times its height may be touching digits parted at a junction of
# strokes (`Parting`; a 1 leaning into a 9 makes a narrow piece), `MAX_PARTINGS` ways at most;
# each side at least `PARTED` of its height tall, their centres `PARTED_APART` of it apart.
NARROW = 0.4
MAX_PARTINGS = 6
# A piece whose centre line has more junctions than this is no few touching digits but a
# scribble or a hatched area: it is not parted (trying each junction, and each two, would take
# minutes), and at most `MAX_PLACES` junctions or pairs of them are tried in any piece.
MAX_JUNCTIONS = 30
MAX_PLACES = 100
PARTED = 0.5
PARTED_APART = 0.15
# Loops side by side (two 0s written into each other, an 8 run into a 0) are parted between
# them too (`_loop_partings`): a hole in the ink at least `HOLE` of the piece's height across
# both ways, once gaps narrower than a pen are closed (a 0 left a little open), is a loop,
# and holes whose column spans overlap by more than `STACKED` of the narrower one are one
# digit's (an 8's two).
HOLE = 0.2
STACKED = 0.5
# A loop's ring is its ink within `RING` pen widths of its hole (a pen wide, and some: a hole
# found in ink closed over small gaps is a little smaller than the loop). Ink beyond it on the
# loop's outer side is a digit run into the loop (`_beside_a_loop`) where `BEYOND` of it lies
# past the hole and it spans `SIMILAR` of the rows either spans.
RING = 1.3
BEYOND = 0.6
SIMILAR = 0.7
# Passing a parting between loops, or off a loop, multiplies a reading's score by this, not
# by the `CUT_PENALTY` and `STROKE_PENALTY` of a cut across two strokes: loops side by side
# are more plainly two digits than a path through ink is. At a cut's cost, a mark refused as
# no digit that spans three loops (the "100" of a 1000 whose 1 runs into its 0) cost less
# than the three digits it holds. Three digits written narrow, all in one piece (a tight 100),
# pass two partings: at 0.4 they cost more than one mark that is all the drawing holds
# (`ALONE`).
LOOP_PENALTY = 0.5
# Two junctions one above the other and at most this fraction of the piece's height apart may
# be where two round digits touch along a stretch of stroke (two 0s side by side).
SHARED = 0.7
# A piece wider than this times the writing's height may be three touching digits: narrow
# digits (a 1, 0s as tall ovals) written tight make a 100 about as wide as it is tall.
THREE_WIDE = 0.8
# At most this many neighbouring pieces are read as one digit ...
MAX_RUN = 3
# ... and a digit is at most this many times as wide as the writing is high.
MAX_WIDTH = 1.3
# ... and at least this many pen widths wide: every stroke is a pen wide, so a thinner part is
# a slice of a stroke (the slice a cut takes off the inside of a 0's side is no 1).
THIN = 0.5
# Each cut (or parting) a reading uses multiplies its score by this: a piece is one digit
# unless reading it as several is better ...
CUT_PENALTY = 0.7
# ... and by this again for each stroke a cut crosses beyond the first: touching digits meet
# at one place, while a cut through a loop (a 0 cut in two, or a star) crosses two or more.
STROKE_PENALTY = float(np.exp(-1.0))
# A mark the refusal model calls no digit may be read as one ("?") at this prior, instead of
# being cut into parts that each look a little like a digit.
NOT_A_DIGIT = 0.1
# A mark that is all the drawing holds is a doodle drawn on its own, likelier than a mark among
# digits: this prior, rather than `NOT_A_DIGIT` (a heart drawn alone is no 67). Chosen on
# `bench/read_numbers.py --plain`, shapes alone against touching pairs, which are also all
# their drawing holds: of the pairs it changes, more were misread than read right before.
ALONE = 0.2
# In a number the writer meant digits, so a piece needs more to be called no digit than a
# drawing alone does: the refusal model's score above its threshold, and either the digit
# model less sure of it than `SURE` or that score above `SURELY_NOT`. (Chosen on numbers of
# MNIST training digits: a stray refusal costs the whole number, a star between digits must
# still read "?".)
SURE = 0.99
SURELY_NOT = 0.8
# A drawing whose marks that are no digit hold at least this share of its ink is no number but
# a doodle: one mark, "?" (a snake read "?0?0?" is a snake). A mark among digits ("2?6") holds
# less: the bench's shapes between a 2 and a 6, drawn as tall as the digits, held 26-62 %.
MOSTLY = 2 / 3
# A digit is at least `SHORT` of the writing's height; every tenth of it shorter costs
# `SHORT_COST` (log): a bit of a digit that does not touch it is no digit. A part cut from a
# piece that is under `LOWEST` of it is not even read.
SHORT = 0.55
SHORT_COST = 1.5
LOWEST = 0.4
# A digit or a mark wider than this times the writing's height is likelier several digits:
# every tenth of the height wider costs `WIDE_COST` (log).
WIDE = 1.2
WIDE_COST = 0.5
# A piece of ink (strokes one above the other, such as a 7's bar, count as one) is likelier one
# thing (a digit, a letter, a doodle) than touching digits: a part cut from it is a digit only
# where it reads as one at least this surely (its confidence times one minus its refusal
# score): cutting makes a bit of almost anything look a little like a digit. Most touching
# digits read far more surely than this; the letters of a word drawn apart seldom do. Among
# other pieces, where the writer more likely meant digits, a part neither model doubts (the
# digit model `SURE` of it, the refusal score under its threshold) is a digit all the same: a
# bit of the neighbour's ink left on a cut part raises its refusal score a little.
ONE_PIECE = 0.6
# A drawing refused as one digit is named as the number it plainly shows (`several_digits`)
# only where each part cut from a piece reads beyond doubt (`SURE`), or, in a reading of at
# least `MANY` digits not all 1s, at least `SURE_IN_MANY`: letters and doodles that read so
# surely when cut give two digits (an M's "14", a %'s "96") or 1s from their strokes, while
# touching digits in a longer number often read a little less surely (a bit of the
# neighbour's stroke left on one).
MANY = 3
SURE_IN_MANY = 0.95
# A piece that is two straight strokes crossing (an X, a +) is one mark, never cut: each of
# its four arms from the junction at least `ARM` pen widths and `ARM_SHARE` of the piece's
# height long, bent off its straight line by no more than `BENT` pen widths or, if more,
# `BENT_SHARE` of its length, and pointing away from another (`OPPOSITE`: their cosine at
# most this). Cut down its middle, an X reads "76". Of 1,000 touching pairs of
# `bench/read_numbers.py` (MNIST digits redrawn), none is such a piece; the probes' Xs bend by
# 0.04 of their length or less.
ARM = 1.0
ARM_SHARE = 0.2
BENT = 0.25
BENT_SHARE = 0.06
OPPOSITE = -0.85
# A drawing that is one piece narrower than `ONE_CHARACTER` times its height is one character,
# a letter (H, K, M, R, h, u), a symbol (&, %) or a digit, rarely touching digits: they stand
# side by side, so a piece they make is about as wide as it is tall or wider. Chosen from how
# wide such pieces are on the probes, not by trying values: 5 of 70 numbers written as one
# piece are narrower (a "17" written touching; four photographs), 219 of 315 letters. Digits
# written narrow and tight are, though, and are read where they part plainly: only beside or
# between loops (`_off_loops`: a 1 run into a 0's side), or cut where they touch (through one
# or two strokes) into digits both models are sure of, each at least `NARROW_TALL` of the
# drawing's height (`_plainly_parted`: a narrow 17, but not a P's stem and bowl), and each
# taken for a digit beyond doubt by the refusal model too: its score under `PLAINLY` of the
# threshold. On the probes, the parts of narrow numbers parted so scored at most 0.29 of the
# threshold, a W's V-shaped right half (read as a 4) 0.54, an H's right half 0.32.
ONE_CHARACTER = 0.85
NARROW_TALL = 0.8
PLAINLY = 0.4
# A part cut from a piece that holds no loop of its own and whose every stroke end (two or
# more) lies within `SLICE_END` pen widths of the ink cut away from it is a slice of a loop,
# an arc cut off both ways: no digit. Touching digits meet, they do not run through each other,
# so a digit cut from its neighbour keeps a free end (a 1's foot) or its own loop (a 0); the
# left lobe of a heart cut off reads as a 1 all the same ("10" for a heart).
SLICE_END = 0.5
SLICE_BOW = 1.0


@dataclass(frozen=True)
class Cut:
    """A path from the top of a piece to its bottom: the column it takes on every row."""

    columns: np.ndarray  # (piece height,) int, in the drawing's columns
    ink: float  # how much ink it crosses, in pixels of its length: between digits, little
    strokes: int = 1  # how many strokes it crosses: a cut through a loop (a 0) crosses two

    @property
    def column(self) -> float:
        """The cut's mean column in the drawing."""
        return float(self.columns.mean())


@dataclass(frozen=True)
class Parting:
    """Touching digits parted where their strokes meet, or between their loops: the ink left
    of the junction or the loop.

    Where one digit leans into the next, no path from top to bottom parts them; taking out
    the ink where they meet does, and every other pixel goes with the nearer side. Between
    two loops, or a loop and a stroke run into it (`_loop_partings`), the ink both digits
    need (`shared`) goes with both.
    """

    left: np.ndarray  # (piece height, piece width) bool: the left digit's ink, in the box
    centre: tuple[int, int]  # where the strokes meet, (row, column) in the drawing
    strokes: int = 1  # 2 along a stretch of stroke two digits share, or between loops
    shared: np.ndarray | None = None  # ink both sides need, in the box (between loops)


@dataclass(frozen=True)
class Piece:
    """Ink that is one digit or several touching ones, with the places it may be split at."""

    box: Box
    mask: np.ndarray  # (bottom - top, right - left) bool: this piece's own ink in its box
    cuts: tuple[Cut, ...] = ()  # candidate cuts between touching digits, left to right
    partings: tuple[Parting, ...] = ()  # candidate partings at junctions of strokes


@dataclass(frozen=True)
class Segmentation:
    """The pieces of a drawing, left to right, before any is read."""

    ink: np.ndarray  # (H, W) float32, 1.0 = full ink
    pieces: tuple[Piece, ...]
    specks: tuple[Box, ...]  # dots, specks and lines under or over the number, set aside
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
    specks: tuple[Box, ...] = ()  # dots, specks and lines under or over, ignored

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
    if not mask.any():
        raise EmptyDrawingError("the drawing is empty: write a number first")
    ink, mask, pieces = beads_joined(ink, mask)  # a line of beads: one stroke
    framing = frames(mask, pieces)  # the boxes of a form, a ring around a digit
    if framing.any():
        mask &= ~framing
        pieces = ink_pieces(mask)
    underlining = touching_underlines(mask, pieces)  # a line under it that touches it
    if underlining.any():
        mask &= ~underlining
        pieces = ink_pieces(mask)
    labels, spans = pieces
    heights, widths = spans[:, 2] - spans[:, 0], spans[:, 3] - spans[:, 1]
    height = float(heights.max())
    # specks, and low marks far above or below the writing (a screenshot's status bar)
    speck = (np.maximum(heights, widths) < SPECK * height) | far_marks(spans)
    marks = np.count_nonzero(~speck)
    if marks > MAX_PIECES:
        raise TooManyPiecesError(
            f"the drawing has {marks} separate marks of about the same size: too many to read "
            f"as a number (at most {MAX_PIECES})"
        )
    skeleton = skeletonize(mask)
    stroke = pen_width(mask, skeleton)
    speck &= ~_fragments(spans, speck, stroke) & ~broken_off(labels, spans, speck, stroke)
    speck[~speck] = _lines(spans[~speck], stroke)
    specks = tuple(_box(span) for span in spans[speck])
    kept = np.flatnonzero(~speck)
    pieces = []
    for members in _overlapping(spans[kept, 1], spans[kept, 3]):
        chosen = kept[members]
        box = _box(np.r_[spans[chosen, :2].min(axis=0), spans[chosen, 2:].max(axis=0)])
        inside = labels[box[0] : box[2], box[1] : box[3]]
        own = np.isin(inside, chosen + 1)
        centre_line = skeleton[box[0] : box[2], box[1] : box[3]] & own
        if _encloses(inside, chosen + 1, stroke) or _a_cross(centre_line, stroke):
            # a face, a framed mark, an X: never cut
            cuts, partings = (), ()
        else:
            cuts = _cuts(own, box, stroke)
            partings = _partings(own, centre_line, box, stroke) + _loop_partings(own, box, stroke)
        pieces.append(Piece(box, own, cuts, partings))
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
    return _read(segment(drawing), predictor, refusal)


def _read(seg: Segmentation, predictor: Predictor, refusal: NotDigitModel | None) -> NumberReading:
    """`read_number`'s reading of a segmented drawing."""
    return _read_and_cut(seg, predictor, refusal)[0]


def _read_and_cut(
    seg: Segmentation, predictor: Predictor, refusal: NotDigitModel | None
) -> tuple[NumberReading, tuple[bool, ...]]:
    """`_read`, and for each digit read whether it is a part cut from a piece of ink."""
    lattice = _lattice(seg)
    readings, scores, refused, value = _judge(seg, lattice, predictor, refusal)
    # In a drawing of one piece, no 1 touches a 1 (`_best_path`); among other pieces it may
    # (the 1s of 6411 run together).
    ones = np.array([r.digit == 1 for r in readings]) & ~refused & (len(seg.pieces) == 1)
    chosen = _best_path(lattice, value, ones)
    if (
        len(seg.pieces) == 1
        and _one_character(seg.pieces[0])
        and not _off_loops(lattice, chosen)
        and not _plainly_parted(lattice, chosen, readings, scores, refusal)
    ):
        chosen = [lattice.whole[0]]  # read below as a drawing of one digit is
    # Mostly marks that are no digit (`MOSTLY`), or one piece of ink partly no digit: the
    # whole drawing is one mark.
    mostly = (
        len(chosen) > 1
        and refusal is not None
        and (
            _mostly_marks(lattice, chosen, _marks(chosen, scores, refused, refusal.threshold))
            or (len(seg.pieces) == 1 and bool(refused[chosen].any()))
            or _written(seg, lattice, chosen, readings, scores, refused)
        )
    )
    if mostly or (
        len(chosen) == 1 and refusal is not None and _everything(seg, lattice)[chosen[0]]
    ):
        # One digit or one mark is all there is: it is read as a drawing of one digit is
        # (`Predictor.predict`), so both ways of asking agree: with all the ink, specks too,
        # which `to_mnist` keeps or leaves out as it does for one digit (`preprocess.strays`:
        # a face's eyes and the dot of a "?" stay, a stray tap beside it goes), and refused
        # whenever the refusal model's score is over its threshold.
        box = _union(
            [(piece.box, piece.mask) for piece in seg.pieces]
            + [
                (speck, np.ones((speck[2] - speck[0], speck[3] - speck[1]), bool))
                for speck in seg.specks
            ]
        )[0]
        image = _image(seg.ink, box, np.ones((box[2] - box[0], box[3] - box[1]), bool))
        reading = predictor.predict_batch([image])[0]
        score = scores[chosen[0]]
        if mostly or score < 1.0:  # 1.0: a dot or a dash (`DOT`)
            score = refusal.score(reading.image[None])[0]
        shape = refused_by_shape([preprocess_stages(image)], reading.probabilities[None])[0]
        one = NumberReading(
            digits=(reading,),
            boxes=(box,),
            not_a_digit=(bool(mostly or shape or score > refusal.threshold),),
            not_digit_scores=(float(score),),
            specks=seg.specks,
        )
        return one, (False,)
    reading = NumberReading(
        digits=tuple(readings[k] for k in chosen),
        boxes=tuple(lattice.parts[k][0] for k in chosen),
        not_a_digit=tuple(bool(refused[k]) for k in chosen),
        not_digit_scores=tuple(float(scores[k]) for k in chosen),
        specks=seg.specks,
    )
    return reading, tuple(bool(k) for k in _cut_parts(lattice)[chosen])


def several_digits(drawing: Any, predictor: Predictor) -> str | None:
    """The number a drawing plainly shows, or None: for a drawing refused as one digit, which
    may be a number written where one digit was asked for.

    Plainly a number: read by `read_number` (with the predictor's refusal model, as the number
    pad reads) as two or more digits, none unsure, each read surely by both models together:
    as surely as a part cut from a piece must be (`ONE_PIECE`), and, cut from a piece itself
    (touching digits), beyond doubt (`SURE`; at `ONE_PIECE` two Xs cut apart read "7676"), or
    in a number of `MANY` digits or more, not all 1s, `SURE_IN_MANY` surely. A
    piece of its own that neither model doubts (the digit model `SURE` of it, the refusal
    score under its threshold) is plainly a digit too: the refusal model, which has seen
    letters, is torn over a 0 (an O?) that no one reads as a letter in "2020". A front end then
    says "it looks like the number 42" rather than only "not a digit". None too for a drawing
    `read_number` would not read.
    """
    refusal = getattr(predictor, "refusal", None)
    try:
        reading, cut = _read_and_cut(segment(drawing), predictor, refusal)
    except ValueError:  # an empty drawing, too many marks, an image it cannot read
        return None
    confidence = np.array([d.confidence for d in reading.digits])
    scores = np.array(reading.not_digit_scores)
    cut = np.array(cut, dtype=bool)
    sure = SURE_IN_MANY if len(reading) >= MANY and set(reading.text) != {"1"} else SURE
    plain = confidence * (1.0 - scores) >= np.where(cut, sure, ONE_PIECE)
    if refusal is not None:
        plain |= ~cut & (confidence >= SURE) & (scores <= refusal.threshold)
    if (
        len(reading) < 2
        or not reading.complete
        or any(d.unsure for d in reading.digits)
        or not plain.all()
    ):
        return None
    return reading.text


Part = tuple[Box, np.ndarray]


@dataclass(frozen=True)
class _Lattice:
    """Every candidate digit, as a step between two places in the drawing.

    The places (nodes) run left to right: each piece's left edge, its cuts, one node per
    parting; the last node is the right edge of the last piece. A candidate digit is a step
    from one node to a later one: the ink of a piece between two of its cuts (or its edges),
    either side of a parting, or several whole pieces read as one. A reading of the drawing is
    a path of steps from the first node to the last; passing a cut or a parting costs
    `passing` (`_split_cost`).
    """

    parts: list[Part]
    steps: list[tuple[int, int, int]]  # (from node, to node, part)
    passing: np.ndarray  # (nodes,) float: what passing each node costs (log), 0 but at cuts
    whole: list[int]  # the part that is each piece whole
    joined: list[tuple[int, range]]  # (part, pieces) for several whole pieces read as one
    # (nodes,) bool: partings that give ink to both sides (beside or between loops)
    looped: np.ndarray | None = None
    # (parts,) bool: parts that are slices of a loop (`SLICE_END`)
    sliced: np.ndarray | None = None
    # (parts,) bool: a crescent drawn in outline (`refusal.is_crescent`), or a part cut from one
    mooned: np.ndarray | None = None


def _judge(
    seg: Segmentation, lattice: _Lattice, predictor: Predictor, refusal: NotDigitModel | None
) -> tuple[list[Prediction], np.ndarray, np.ndarray, np.ndarray]:
    """Read every candidate digit in one batch: (readings, not-a-digit scores, refused, values).

    A candidate's value is a log-probability of what it will be reported as: a digit read
    this confidently that the refusal model takes for a digit, or, where it is refused (the
    refusal model doubts it and the digit model is not `SURE` of it, or the refusal model is
    sure: `SURELY_NOT`; or, cut from a piece, it reads less surely than `ONE_PIECE` and, in a
    drawing of several pieces, either model doubts it), a mark that is no digit
    (`NOT_A_DIGIT`, which needs no cutting to be read: a star stays whole); less for one much
    shorter than the writing or much wider than a digit.
    """
    readings = predictor.predict_batch(  # judged below, with the rules for parts
        [_image(seg.ink, box, mask) for box, mask in lattice.parts], parts=True, judge=False
    )
    scores = (
        refusal.score(np.stack([r.image for r in readings]))
        if refusal is not None
        else np.zeros(len(readings), np.float32)
    )
    confidence = np.array([r.confidence for r in readings])
    boxes = np.array([box for box, _ in lattice.parts], float).reshape(-1, 4)
    typical = _writing_height(seg)
    heights, widths = (boxes[:, 2] - boxes[:, 0]) / typical, (boxes[:, 3] - boxes[:, 1]) / typical
    short = SHORT_COST * np.maximum(0.0, SHORT - heights) / 0.1
    wide = WIDE_COST * np.maximum(0.0, widths - WIDE) / 0.1
    if refusal is not None:
        # A part no taller than `DOT` pen widths is a dot or a dash, or a slice of one: no digit.
        scores = np.where(boxes[:, 2] - boxes[:, 0] <= DOT * seg.stroke, np.float32(1.0), scores)
        # A 1 or a 7 with a dot straight under or over it is an !, an i or a ?: no digit.
        scores = np.where(_dotted(seg, boxes, readings), np.float32(1.0), scores)
        if lattice.sliced is not None:  # an arc cut off a loop both ways: no digit
            scores = np.where(lattice.sliced, np.float32(1.0), scores)
        if lattice.mooned is not None:  # a crescent, or a part of one: no digit
            scores = np.where(lattice.mooned, np.float32(1.0), scores)
    as_digit = np.log(np.clip(confidence * (1.0 - scores), 1e-9, 1.0))
    # Pieces apart are one digit only where they need each other: where one of them alone,
    # as tall as a digit (`SHORT`), is surely (`SURE`) the digit they make together, the
    # others are marks of their own (the plus of "2+3" is no part of the 3), if tall enough
    # to be read alone (`LOWEST`: the bar of a 5 or the tip of a 6 that broke off is no
    # mark). A 1's flag, drawn apart, reads as a 1 too, but is no digit's height.
    piece_heights = np.array([piece.box[2] - piece.box[0] for piece in seg.pieces], float)
    tall = piece_heights >= LOWEST * typical
    digit_tall = piece_heights >= SHORT * typical
    needless = np.zeros(len(readings), bool)
    for part, pieces in lattice.joined:
        needless[part] = any(
            readings[lattice.whole[k]].digit == readings[part].digit
            and readings[lattice.whole[k]].confidence >= SURE
            and digit_tall[k]
            and all(tall[m] for m in pieces if m != k)
            for k in pieces
        )
    if refusal is None:
        value = np.where(needless, -np.inf, as_digit - short - wide)
        return readings, scores, np.zeros(len(readings), bool), value
    everything = _everything(seg, lattice)
    prior = np.where(everything, ALONE, NOT_A_DIGIT)
    as_mark = np.log(np.clip(scores, 1e-9, 1.0)) + np.log(prior)
    refused = (scores > refusal.threshold) & ((confidence < SURE) | (scores > SURELY_NOT))
    # A part cut from a piece (neither a piece whole nor pieces joined): read surely, or no
    # digit; among other pieces (a number's) unless neither model doubts it.
    cut = _cut_parts(lattice)
    unsure = confidence * (1.0 - scores) < ONE_PIECE
    if len(seg.pieces) > 1:
        unsure &= (confidence < SURE) | (scores > refusal.threshold)
    refused |= cut & unsure
    value = np.where(refused, as_mark, as_digit) - short - wide
    return readings, scores, refused, np.where(needless, -np.inf, value)


def _dotted(seg: Segmentation, boxes: np.ndarray, readings: list[Prediction]) -> np.ndarray:
    """Which candidates (`boxes`, (N, 4)) read as a 1 or a 7 (`refusal.DOTTED`) have a dot
    (a speck no longer than `DOT` pen widths) straight under or over them, apart from them and
    no further than `AWAY` of their height: an !, an i, the hook of a ? (as `refusal.is_dotted`
    finds on the one-digit pad). A decimal point sits on the line, beside a digit."""
    dotted = np.zeros(len(boxes), bool)
    ones = np.array([r.digit in DOTTED for r in readings])
    if not ones.any():
        return dotted
    top, left, bottom, right = boxes.T
    reach = AWAY * (bottom - top)
    for row, column, end_row, end_column in seg.specks:
        if max(end_row - row, end_column - column) > DOT * seg.stroke:
            continue
        middle = (column + end_column) / 2
        straight = (left - seg.stroke <= middle) & (middle <= right + seg.stroke)
        under = (row >= bottom) & (row - bottom <= reach)
        over = (end_row <= top) & (top - end_row <= reach)
        dotted |= ones & straight & (under | over)
    return dotted


def _encloses(labels: np.ndarray, members: np.ndarray, stroke: float) -> bool:
    """Whether one of a piece's parts of ink (`members` in `labels`) lies in a hole of
    another: a mouth inside a face's outline, a mark inside a frame, also where the outline
    has gaps up to `GAPS` pen widths (`stroke`; a touchpad's lifted finger). Digits stand side
    by side, and none holds another in its loop."""
    if len(members) < 2:
        return False
    radius = GAPS * stroke / 2.0
    pad = int(np.ceil(radius)) + 1
    for member in members:
        ring = labels == member
        # closed by a disc: grown by its radius, then shrunk back by it
        grown = ndimage.distance_transform_edt(~np.pad(ring, pad)) <= radius
        ring |= ndimage.distance_transform_edt(grown)[pad:-pad, pad:-pad] > radius
        held = ndimage.binary_fill_holes(ring) & ~ring
        if held.any() and np.isin(labels[held], members[members != member]).any():
            return True
    return False


def _a_cross(centre_line: np.ndarray, stroke: float) -> bool:
    """Whether a piece is two straight strokes that cross, an X or a +: its centre line (in
    its box) is four straight arms (`ARM`, `BENT`) from one junction, each pointing away from
    another (`OPPOSITE`). Touching digits cut apart curve, or meet at an end of a stroke."""
    neighbours = ndimage.convolve(centre_line.astype(np.uint8), np.ones((3, 3), np.uint8))
    junctions = centre_line & (neighbours >= 4)  # itself and three neighbours
    height, width = centre_line.shape
    ends = np.count_nonzero(centre_line & (neighbours == 2))  # itself and one neighbour
    if width <= SPLITTABLE * height or ends < 4 or not junctions.any():  # never cut, or no X
        return False
    hub = ndimage.distance_transform_edt(~junctions) <= 0.75 * stroke  # where the arms meet
    if ndimage.label(hub)[1] != 1:
        return False
    arms, count = ndimage.label(centre_line & ~hub, structure=np.ones((3, 3), bool))
    rows, columns = np.nonzero(arms)
    middle = np.argwhere(junctions).mean(axis=0)
    directions = []
    for arm in range(1, count + 1):
        points = np.column_stack([rows, columns])[arms[rows, columns] == arm].astype(float)
        if len(points) < stroke / 2:  # a spur of the centre line at a thick stroke's end
            continue
        centred = points - points.mean(axis=0)
        along, across = np.linalg.svd(centred, full_matrices=False)[2]
        length = np.ptp(centred @ along)
        bent = np.abs(centred @ across).max()
        if length < max(ARM * stroke, ARM_SHARE * height) or bent > max(
            BENT * stroke, BENT_SHARE * length
        ):
            return False
        away = points.mean(axis=0) - middle
        directions.append(away / np.linalg.norm(away))
    if len(directions) != 4:
        return False
    cosines = np.array(directions) @ np.array(directions).T
    partner = cosines.argmin(axis=1)
    return bool(
        (partner[partner] == np.arange(4)).all() and (cosines.min(axis=1) <= OPPOSITE).all()
    )


def _one_character(piece: Piece) -> bool:
    """Whether a drawing's only piece is too narrow for touching digits (`ONE_CHARACTER`)."""
    top, left, bottom, right = piece.box
    return right - left < ONE_CHARACTER * (bottom - top)


def _off_loops(lattice: _Lattice, chosen: list[int]) -> bool:
    """Whether the chosen parts are parted only beside or between loops (`_loop_partings`):
    a narrow 10 or 19, whose 1 runs into the loop beside it, is no letter of one stroke."""
    passed = _passed(lattice, chosen)
    return bool(passed) and lattice.looped is not None and bool(lattice.looped[passed].all())


def _passed(lattice: _Lattice, chosen: list[int]) -> list[int]:
    """The places (nodes) a reading of the chosen parts passes between them."""
    ends = {part: stop for _, stop, part in lattice.steps}
    return [ends[k] for k in chosen[:-1]]


def _plainly_parted(
    lattice: _Lattice,
    chosen: list[int],
    readings: list[Prediction],
    scores: np.ndarray,
    refusal: NotDigitModel | None,
) -> bool:
    """Whether the chosen parts are digits beyond doubt, cut apart where they touch (a cut or
    a parting through one or two strokes, or a parting at a loop): each read `SURE`ly, taken
    for a digit beyond doubt by the refusal model (`PLAINLY`), and as tall as the drawing
    (`NARROW_TALL`). A 14, 17 or 91 written narrow is so; most letters are not (an h's hump,
    a P's bowl or a W's halves)."""
    if len(chosen) < 2 or lattice.looped is None:
        return False
    passed = _passed(lattice, chosen)
    clean = (lattice.passing[passed] >= _split_cost(2) - 1e-9) | lattice.looped[passed]
    threshold = PLAINLY * (refusal.threshold if refusal is not None else 1.0)
    boxes = [lattice.parts[k][0] for k in chosen]
    height = max(box[2] for box in boxes) - min(box[0] for box in boxes)
    return (
        bool(clean.all())
        and all(readings[k].confidence >= SURE and scores[k] <= threshold for k in chosen)
        and all(box[2] - box[0] >= NARROW_TALL * height for box in boxes)
    )


def _mostly_marks(lattice: _Lattice, chosen: list[int], marks: np.ndarray) -> bool:
    """Whether the chosen parts that are marks, no digit, hold at least `MOSTLY` of the ink."""
    ink = [np.count_nonzero(lattice.parts[k][1]) for k in chosen]
    held = sum(count for count, k in zip(ink, chosen, strict=True) if marks[k])
    return held >= MOSTLY * sum(ink)


def _written(
    seg: Segmentation,
    lattice: _Lattice,
    chosen: list[int],
    readings: list[Prediction],
    scores: np.ndarray,
    refused: np.ndarray,
) -> bool:
    """Whether a drawing of several pieces reads as writing rather than a number: no piece,
    whole or joined to another, is read surely as a digit (`ONE_PIECE`), only parts cut from
    them, and a mark that is no digit is among those parts. That is a word whose letters
    stand apart, each cut into bits that look like digits ("hen" read "17?17"); touching
    digits cut apart are digits, every one."""
    if len(seg.pieces) < 2 or not refused[chosen].any():
        return False
    cut = _cut_parts(lattice)
    sureness = np.array([r.confidence for r in readings]) * (1.0 - scores)
    chosen_ = np.asarray(chosen)
    whole = ~cut[chosen_] & ~refused[chosen_] & (sureness[chosen_] >= ONE_PIECE)
    return bool(cut[chosen_].any() and not whole.any())


def _marks(
    chosen: list[int], scores: np.ndarray, refused: np.ndarray, threshold: float
) -> np.ndarray:
    """Which candidates count as marks that are no digit (`MOSTLY`): those refused and, where
    beside them the drawing holds only digits the refusal model doubts (over its threshold,
    taken for digits because the digit model is sure of them), those too: a cloud read 0
    beside an umbrella. That a number pad holds digits is no reason to read a doubted mark as
    one when nothing beside it is plainly a digit."""
    chosen_ = np.asarray(chosen)
    marks = refused.copy()
    if refused[chosen_].any() and (scores[chosen_] > threshold).all():
        marks[chosen_] = True
    return marks


def _cut_parts(lattice: _Lattice) -> np.ndarray:
    """Which candidates are parts cut from a piece: neither a piece whole nor pieces joined."""
    cut = np.ones(len(lattice.parts), bool)
    cut[lattice.whole] = False
    cut[[part for part, _ in lattice.joined]] = False
    return cut


def _everything(seg: Segmentation, lattice: _Lattice) -> np.ndarray:
    """Which candidates hold all the drawing's ink (specks aside)."""
    ink = sum(np.count_nonzero(piece.mask) for piece in seg.pieces)
    return np.array([np.count_nonzero(mask) == ink for _, mask in lattice.parts], bool)


def _lattice(seg: Segmentation) -> _Lattice:
    """The candidate digits of a segmented drawing, as steps between its places."""
    # Each piece's nodes: its left edge, then its cuts and partings (`_places`).
    first = np.cumsum([0] + [1 + len(p.cuts) + len(p.partings) for p in seg.pieces])
    passing = np.zeros(first[-1] + 1)
    looped = np.zeros(first[-1] + 1, bool)
    typical = _writing_height(seg)
    parts: list[Part] = []
    steps: list[tuple[int, int, int]] = []
    whole: list[int] = []
    joined: list[tuple[int, range]] = []
    sliced: list[bool] = []
    owners: list[int] = []  # the piece each part is or was cut from; -1: pieces joined

    def step(start: int, stop: int, part: Part, owner: int, piece: Piece | None = None) -> None:
        steps.append((int(start), int(stop), len(parts)))
        sliced.append(piece is not None and _a_slice(piece, part, seg.stroke))
        owners.append(owner)
        parts.append(part)

    for k, piece in enumerate(seg.pieces):
        places = _places(piece)
        last = len(places) - 1
        nodes = [first[k] + n for n in range(last)] + [first[k + 1]]
        passing[nodes[1:-1]] = [cost for _, cost, _, _ in places[1:-1]]
        looped[nodes[1:-1]] = [(both & ~own).any() for own, _, _, both in places[1:-1]]
        # A part between two cuts is a middle digit of three: only in a piece that wide.
        three = piece.box[3] - piece.box[1] > THREE_WIDE * typical
        for i, j in itertools.combinations(range(last + 1), 2):
            (left, _, parted, _), (_, _, parts_right, right) = places[i], places[j]
            if (i, j) == (0, last):
                whole.append(len(parts))
                step(nodes[i], nodes[j], (piece.box, piece.mask), k)
                continue
            if not (three or i == 0 or j == last):
                continue
            part = right & ~left
            if not (_beside(part, left) and _beside(part, piece.mask & ~right)):
                continue
            if parted or parts_right:
                # Either side of a parting is read as it is. Between a parting and a cut or
                # another parting may be a middle digit too (the 0 of 2000, written in one
                # go), where the parting takes out a stretch two loops share or the digit
                # holds a loop (not a junction alone: a zigzag would read 111) and the one's
                # left side holds the other's.
                if i == 0 or j == last:
                    step(nodes[i], nodes[j], _trimmed(piece, part), k, piece)
                    continue
                if 1 in (parted, parts_right) and not _has_loop(part, seg.stroke):
                    continue
                if np.count_nonzero(left & ~right) > DISTINCT * np.count_nonzero(piece.mask):
                    continue
            part = _drop_slivers(part, SPECK * seg.height)
            if part.any():
                trimmed = _trimmed(piece, part)
                if _digit_sized(trimmed[0], typical, seg.stroke):
                    step(nodes[i], nodes[j], trimmed, k, piece)
    for i, j in _runs(seg):
        if j > i + 1:
            joined.append((len(parts), range(i, j)))
            step(first[i], first[j], _union([(p.box, p.mask) for p in seg.pieces[i:j]]), -1)
    crescents = np.array([is_crescent(piece.mask) for piece in seg.pieces] + [False])
    return _Lattice(
        parts,
        steps,
        passing,
        whole,
        joined,
        looped,
        np.array(sliced, bool),
        crescents[owners],
    )


def _a_slice(piece: Piece, part: Part, stroke: float) -> bool:
    """Whether a part cut from a piece is a slice of a loop: no loop of its own, its centre
    line's ends, two or more, all within `SLICE_END` pen widths of where it was cut from the
    rest of the piece, and bowed off the line between its farthest ends by `SLICE_BOW` pen
    widths (a 1 that a neighbour touches at both ends is straight)."""
    (top, left, _, _), own = part
    # the part's box and a pixel around it, in the piece's box
    top, left = top - piece.box[0], left - piece.box[1]
    window = np.pad(piece.mask, 1)[top : top + own.shape[0] + 2, left : left + own.shape[1] + 2]
    part = np.pad(own, 1)
    rest = window & ~part
    if not rest.any() or _has_loop(part, stroke):
        return False
    skeleton = skeletonize(part)
    neighbours = ndimage.convolve(
        skeleton.astype(np.uint8), np.ones((3, 3), np.uint8), mode="constant"
    )
    ends = skeleton & (neighbours == 2)  # itself and one neighbour
    if np.count_nonzero(ends) < 2:
        return False
    severed = part & ndimage.binary_dilation(rest, np.ones((3, 3), bool))  # where it was cut
    away = ndimage.distance_transform_edt(~severed)[ends]
    if not (away <= SLICE_END * stroke).all():
        return False
    # an arc, bowed off the line between its farthest ends: not a straight stroke (a 1 whose
    # ends a neighbour touches)
    points = np.argwhere(ends).astype(float)
    apart = np.linalg.norm(points[:, None] - points[None], axis=-1)
    first, last = np.unravel_index(np.argmax(apart), apart.shape)
    rows, columns = np.nonzero(skeleton)
    bow = _near_segment(rows, columns, points[first], points[last]).max()
    return bool(bow >= SLICE_BOW * stroke)


def _beside(part: np.ndarray, other: np.ndarray) -> bool:
    """Whether two parts of a piece (masks in its box) could be digits side by side: neither
    lies within the other's columns (`INSIDE`)."""
    if not (part.any() and other.any()):
        return True
    columns = [np.flatnonzero(mask.any(axis=0)) for mask in (part, other)]
    (a, b), (c, d) = ((cols[0], cols[-1] + 1) for cols in columns)
    return min(b, d) - max(a, c) < INSIDE * min(b - a, d - c)


def _digit_sized(box: Box, typical: float, stroke: float) -> bool:
    """Whether a part cut from a piece could be a digit at all: no wider than `MAX_WIDTH`
    times the writing's height, at least `LOWEST` of it tall, and at least `THIN` pen widths
    wide."""
    top, left, bottom, right = box
    width = right - left
    return THIN * stroke <= width <= MAX_WIDTH * typical and bottom - top >= LOWEST * typical


def _split_cost(strokes: int) -> float:
    """What reading a piece as split at a cut or a parting costs (log): `CUT_PENALTY`, and
    `STROKE_PENALTY` for each stroke it crosses beyond the first."""
    return float(np.log(CUT_PENALTY) + np.log(STROKE_PENALTY) * max(0, strokes - 1))


def _right_of(piece: Piece) -> list[np.ndarray]:
    """For each of a piece's cuts, the pixels of its box right of the cut, row by row."""
    columns = np.arange(piece.mask.shape[1])
    return [columns[None, :] >= (cut.columns - piece.box[1])[:, None] for cut in piece.cuts]


def _places(piece: Piece) -> list[tuple[np.ndarray, float, int, np.ndarray]]:
    """Where a piece may be split, each as the ink it leaves on its left (a mask in the
    piece's box): its left edge (none), its cuts and partings by how much ink that is, its
    right edge (all); with what passing it costs (log), for a parting the strokes it takes
    out (0 for the others), and the ink the digit on its left has: that ink and, at a
    parting, what both sides share (`Parting.shared`)."""
    inner = []
    for cut, right in zip(piece.cuts, _right_of(piece), strict=True):
        left = piece.mask & ~right
        inner.append((left, _split_cost(cut.strokes), 0, left))
    for p in piece.partings:
        shared = p.shared if p.shared is not None else np.zeros_like(p.left)
        cost = np.log(LOOP_PENALTY) if p.shared is not None else _split_cost(p.strokes)
        inner.append((p.left & ~shared, float(cost), p.strokes, p.left | shared))
    inner.sort(key=lambda place: np.count_nonzero(place[0]))
    none, every = np.zeros_like(piece.mask), piece.mask
    return [(none, 0.0, 0, none), *inner, (every, 0.0, 0, every)]


def _trimmed(piece: Piece, part: np.ndarray) -> Part:
    """Some of a piece's ink (a mask in its box), in the box that just holds it."""
    rows, cols = np.flatnonzero(part.any(axis=1)), np.flatnonzero(part.any(axis=0))
    top, left, _, _ = piece.box
    box = (top + rows[0], left + cols[0], top + rows[-1] + 1, left + cols[-1] + 1)
    return _box(box), part[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


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


def _best_path(lattice: _Lattice, value: np.ndarray, ones: np.ndarray | None = None) -> list[int]:
    """The parts of the best-valued path from the first place to the last (a DP), with no
    two parts in `ones` on either side of a cut or a parting: two strokes that make the whole
    drawing, one piece of ink, are a letter or a doodle (n, V, a wave), not two 1s that
    touch."""
    nodes = len(lattice.passing)
    ones = np.zeros(len(value), bool) if ones is None else ones
    # total[node, arrived by a 1]: the best value reaching the node
    total = np.full((nodes, 2), -np.inf)
    total[0, 0] = 0.0
    came_from: dict[tuple[int, int], tuple[int, int, int]] = {}
    for start, stop, part in sorted(lattice.steps):
        after = int(ones[part])
        for before in (0, 1):
            if before and after and lattice.passing[start] < 0:  # a cut or parting
                continue
            reached = total[start, before] + lattice.passing[start] + value[part]
            if reached > total[stop, after]:
                total[stop, after], came_from[stop, after] = reached, (start, before, part)
    chosen: list[int] = []
    node, state = nodes - 1, int(np.argmax(total[-1]))
    while node > 0:
        node, state, part = came_from[node, state]
        chosen.insert(0, part)
    return chosen


def _writing_height(seg: Segmentation) -> float:
    """How tall a digit of this writing is: the median height of the pieces that are not
    much shorter than the tallest (bits of a digit that do not touch it are)."""
    heights = np.array([piece.box[2] - piece.box[0] for piece in seg.pieces], float)
    return float(np.median(heights[heights >= 0.5 * heights.max()]))


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


def _fragments(spans: np.ndarray, speck: np.ndarray, stroke: float) -> np.ndarray:
    """Which specks are broken-off bits of one digit's stroke, not stray marks: a stroke
    (longer than `DOT` pen widths, so no tap) mostly within the columns of one piece (`MERGE`),
    touching no other's, and near it (no farther above or below than `AWAY` of the writing's
    height: a screenshot's buttons far under the writing are no part of it). Such a bit is
    read with that digit, as a person reads a broken 2."""
    small, big = spans[speck], spans[~speck]
    overlap = np.minimum.outer(small[:, 3], big[:, 3]) - np.maximum.outer(small[:, 1], big[:, 1])
    gap = np.maximum(
        np.subtract.outer(small[:, 0], big[:, 2]), -np.subtract.outer(small[:, 2], big[:, 0])
    )
    widths = small[:, 3] - small[:, 1]
    height = (big[:, 2] - big[:, 0]).max(initial=0)
    within = overlap >= MERGE * widths[:, None]
    near = (within & (gap <= AWAY * height)).any(axis=1)
    alone = (overlap > 0).sum(axis=1) == 1
    longer = np.maximum(small[:, 2] - small[:, 0], widths)
    fragment = np.zeros(len(spans), bool)
    fragment[speck] = (within.sum(axis=1) == 1) & near & alone & (longer > DOT * stroke)
    return fragment


def _lines(spans: np.ndarray, stroke: float) -> np.ndarray:
    """Which pieces are lines under or over the writing: flat (`FLAT`), over most (`MERGE`)
    of the columns of two or more pieces that are not themselves flat and stand apart, and
    wholly below them or above them (a stroke's width of overlap allowed)."""
    heights, widths = spans[:, 2] - spans[:, 0], spans[:, 3] - spans[:, 1]
    flat = widths >= FLAT * heights
    overlap = np.minimum.outer(spans[:, 3], spans[:, 3]) - np.maximum.outer(
        spans[:, 1], spans[:, 1]
    )
    line = np.zeros(len(spans), bool)
    for k in np.flatnonzero(flat):
        under = np.flatnonzero((overlap[k] >= MERGE * widths) & ~flat)
        if len(under) < 2 or len(_overlapping(spans[under, 1], spans[under, 3])) < 2:
            continue
        top, bottom = spans[k, 0], spans[k, 2]
        below = top >= spans[under, 2].max() - stroke
        above = bottom <= spans[under, 0].min() + stroke
        line[k] = below or above
    return line


def _overlapping(lefts: np.ndarray, rights: np.ndarray) -> list[np.ndarray]:
    """Groups of pieces joined when their column spans overlap mostly (`MERGE`)."""
    widths = rights - lefts
    overlap = np.minimum.outer(rights, rights) - np.maximum.outer(lefts, lefts)
    joined = overlap >= MERGE * np.minimum.outer(widths, widths)
    _, group = connected_components(joined, directed=False)
    return [np.flatnonzero(group == g) for g in np.unique(group)]


def _cuts(mask: np.ndarray, box: Box, stroke: float) -> tuple[Cut, ...]:
    """The cuts from top to bottom that cross the least ink, if the piece is wide enough.

    For columns across the piece, seam carving's dynamic programme finds the cheapest path
    from top to bottom within a band around that column (`CUT_BAND` of the height each way),
    moving at most one column per row, so a cut can follow the slant between two digits. The
    cheapest of those paths that leave a fair share of ink on each side are the cuts, each
    splitting the ink differently from the others (`DISTINCT`): many paths run down the same
    gap.
    """
    height, width = mask.shape
    if width <= SPLITTABLE * height:
        return ()
    # Seams are found on the ink shrunk to about `SEAM_ROWS` rows (a block's share of ink is
    # its cost), then drawn back at full size.
    scale = max(1, height // SEAM_ROWS)
    blocks = np.pad(mask, ((0, -height % scale), (0, -width % scale))).astype(np.float32)
    blocks = blocks.reshape(-(-height // scale), scale, -(-width // scale), scale).mean(axis=(1, 3))
    paths, crossed = _seams(blocks)
    paths = np.repeat(paths * scale + scale // 2, scale, axis=1)[:, :height].clip(0, width - 1)
    crossed *= scale
    inked = mask[np.arange(height), paths]  # (paths, height)
    entries = np.array([_strokes_crossed(path, stroke) for path in inked])
    before = np.pad(np.cumsum(mask, axis=1), ((0, 0), (1, 0)))  # ink left of each column
    share = before[np.arange(height), paths].sum(axis=1) / max(1, mask.sum())
    usable = np.isfinite(crossed) & (share >= EDGE_SHARE) & (share <= 1 - EDGE_SHARE)
    cuts: list[Cut] = []
    shares: list[float] = []
    most = min(MAX_CUTS, int(np.ceil(CUTS_PER_HEIGHT * width / height)))
    for k in np.argsort(crossed, kind="stable"):
        if len(cuts) == most:
            break
        if usable[k] and all(abs(share[k] - other) >= DISTINCT for other in shares):
            cuts.append(Cut(paths[k] + box[1], float(crossed[k]), int(entries[k])))
            shares.append(float(share[k]))
    return tuple(sorted(cuts, key=lambda cut: cut.column))


def _strokes_crossed(inked: np.ndarray, stroke: float) -> int:
    """How many strokes a cut crosses: the runs of ink along it, row by row, that are at
    least half a stroke long (clipping the tip of a stroke is no crossing)."""
    edges = np.diff(np.r_[0, inked.astype(np.int8), 0])
    lengths = np.flatnonzero(edges == -1) - np.flatnonzero(edges == 1)
    return int(np.count_nonzero(lengths >= 0.5 * stroke))


def _seams(ink: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The cheapest top-to-bottom path near each of a row of start columns, and its cost.

    `ink`: (height, width) float, how much ink each pixel holds. Returns (paths, crossed):
    paths (starts, height) int, the column on each row; crossed (starts,), the ink each
    crosses (inf where none fits).
    """
    height, width = ink.shape
    band = max(1, round(CUT_BAND * height))
    starts = np.arange(0, width, max(1, round(CUT_STEP * height)))
    # Each band's ink, (starts, height, 2 * band + 1); columns outside the piece are walls.
    walled = np.pad(ink.astype(np.float32), ((0, 0), (band, band)), constant_values=np.inf)
    cost = walled[:, starts[:, None] + np.arange(2 * band + 1)].transpose(1, 0, 2)
    total = cost[:, 0].copy()
    step = np.zeros(cost.shape, np.int8)  # -1, 0, 1: the column on the row above, relative
    shifted = np.full((len(starts), total.shape[1] + 2), np.inf, np.float32)
    for row in range(1, height):
        shifted[:, 1:-1] = total
        # A step to the side is longer (by sqrt 2): through ink it crosses that much more,
        # so a cut across a slanting stroke costs what a cut across an upright one does.
        slanting = np.minimum(shifted[:, :-2], shifted[:, 2:]) + SIDEWAYS + SLANT * cost[:, row]
        straight = total + cost[:, row]
        step[:, row] = np.where(
            straight <= slanting, 0, np.where(shifted[:, :-2] <= shifted[:, 2:], -1, 1)
        )
        total = np.minimum(straight, slanting)
    ends = total.argmin(axis=1)
    crossed = total[np.arange(len(starts)), ends]
    paths = np.empty((len(starts), height), int)
    paths[:, -1] = ends
    for row in range(height - 1, 0, -1):
        paths[:, row - 1] = paths[:, row] + step[np.arange(len(starts)), row, paths[:, row]]
    return paths + starts[:, None] - band, crossed


def _partings(
    mask: np.ndarray, skeleton: np.ndarray, box: Box, stroke: float
) -> tuple[Parting, ...]:
    """Where touching digits may be parted at a junction of strokes, if the piece is wide
    enough for two digits one of which is a 1.

    The junctions are where three or more branches of the ink's centre line (`skeleton`, in
    the piece's box) meet. Taking out the ink within a stroke's width of one (or of the
    stretch between two, one above the other: `_meeting_places`) must leave pieces side by
    side, each at least `PARTED` of the piece's height tall; each way to group them into a
    left and a right side is a parting, the ink taken out going with the nearer side. A
    stretch is taken out only where one side is a loop (a 0, 6, 8 or 9), and counts as two
    strokes crossed: a star or a heart has such stretches too.
    """
    height, width = mask.shape
    if width <= NARROW * height:
        return ()
    branches = ndimage.convolve(skeleton.astype(np.uint8), np.ones((3, 3), np.uint8))
    junctions = skeleton & (branches >= 4)  # itself and three neighbours
    labels, count = ndimage.label(ndimage.binary_dilation(junctions, iterations=2))
    if not 0 < count <= MAX_JUNCTIONS:
        return ()
    centres = np.array(ndimage.center_of_mass(junctions, labels, range(1, count + 1)))
    rows, columns = np.indices(mask.shape)
    found: list[Parting] = []
    for start, stop in _meeting_places(centres, height)[:MAX_PLACES]:
        shared = not (start == stop).all()
        hole = _near_segment(rows, columns, start, stop) <= stroke
        rest, _ = ndimage.label(mask & ~hole, structure=np.ones((3, 3), bool))
        spans = ndimage.find_objects(rest)
        big = [
            k + 1 for k, span in enumerate(spans) if span[0].stop - span[0].start >= PARTED * height
        ]
        if not 2 <= len(big) <= 4:
            continue
        centre_of = {k: float(columns[rest == k].mean()) for k in big}
        big.sort(key=centre_of.get)
        for split in range(1, len(big)):
            left, right = np.isin(rest, big[:split]), np.isin(rest, big[split:])
            if centre_of[big[split]] - centre_of[big[split - 1]] < PARTED_APART * height:
                continue
            nearer_left = ndimage.distance_transform_edt(~left) <= ndimage.distance_transform_edt(
                ~right
            )
            left = mask & (left | (nearer_left & ~right))
            if shared and not (_has_loop(left, stroke) or _has_loop(mask & ~left, stroke)):
                continue  # a shared stretch is parted only where it closes a loop
            if all(np.count_nonzero(left ^ other.left) > DISTINCT * mask.sum() for other in found):
                row, column = (start + stop) / 2
                centre = (box[0] + round(row), box[1] + round(column))
                found.append(Parting(left, centre, 2 if shared else 1))
        if len(found) >= MAX_PARTINGS:
            break
    return tuple(found[:MAX_PARTINGS])


def _meeting_places(centres: np.ndarray, height: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Where strokes of touching digits may meet, as (start, stop) points: each junction
    alone (a stroke ending on another), then each two junctions one above the other, at most
    `SHARED` of the height apart (two round digits side by side share a stretch of stroke,
    from where they meet to where they part)."""
    places = [(centre, centre) for centre in centres]
    for upper, lower in itertools.combinations(centres, 2):
        rise, run = abs(upper[0] - lower[0]), abs(upper[1] - lower[1])
        if run <= rise <= SHARED * height:
            places.append((upper, lower))
    return places


def _loop_partings(mask: np.ndarray, box: Box, stroke: float) -> tuple[Parting, ...]:
    """Where touching digits with loops (`HOLE`, `STACKED`) may be parted, the ink both sides
    need (`Parting.shared`) going with both.

    Between each two neighbouring loops every pixel goes with the nearer loop, and the ink as
    near to both (within half a pen width: the stretch two 0s share, where they cross) with
    either side. A seam between two 0s written into each other leaves one a bit of the
    other's ring, and a parting at a junction gives the stretch they share to one of them:
    read so, "8008" and "10000" were refused. Where a digit's stem runs along the next loop
    (the 9 of 90, the 6 of 06), the half of that loop's ring facing it is both digits' too.

    Beside the first loop and the last, a stroke as tall as the loop run into its side (the
    1 of 10, the 5 of 500, `_beside_a_loop`) is parted off it: the ink beyond the loop's ring
    (`RING` pen widths from its hole) is the other digit, and the ring within half a pen of
    that ink is both digits'.
    """
    height = mask.shape[0]
    closed = ndimage.binary_closing(mask, iterations=max(1, round(stroke / 2)))
    holes = ndimage.binary_fill_holes(closed) & ~closed  # a 0 left a little open is a loop
    labels, _ = ndimage.label(holes)
    spans = ndimage.find_objects(labels)
    big = [
        (cols.start, cols.stop, k + 1)
        for k, (rows, cols) in enumerate(spans)
        if min(rows.stop - rows.start, cols.stop - cols.start) >= HOLE * height
    ]
    big.sort()
    groups: list[list[tuple[int, int, int]]] = []
    for hole in big:
        if groups:
            left, right = min(h[0] for h in groups[-1]), max(h[1] for h in groups[-1])
            overlap = min(right, hole[1]) - max(left, hole[0])
            if overlap > STACKED * min(right - left, hole[1] - hole[0]):
                groups[-1].append(hole)
                continue
        groups.append([hole])
    if not 1 <= len(groups) <= MAX_PARTINGS + 1:  # a row of many loops is no few digits
        return ()
    loops = [np.isin(labels, [hole[2] for hole in group]) for group in groups]
    rings = [mask & (ndimage.distance_transform_edt(~loop) <= RING * stroke) for loop in loops]
    columns = np.indices(mask.shape)[1]
    found: list[Parting] = []

    def add(left: np.ndarray, shared: np.ndarray) -> None:
        """A parting whose left digit is `left`, and `shared` too, if it is a new one."""
        right = mask & ~left & ~shared
        if not (left & ~shared).any() or not right.any():
            return
        left = left | shared
        if all(np.count_nonzero(left ^ other.left) > DISTINCT * mask.sum() for other in found):
            rows, cols = np.nonzero(shared if shared.any() else mask)
            centre = (box[0] + int(rows.mean()), box[1] + int(cols.mean()))
            found.append(Parting(left, centre, 2, shared))

    for loop, ring, side in ((loops[0], rings[0], -1), (loops[-1], rings[-1], 1)):
        other = _beside_a_loop(mask, loop, ring, side, stroke)
        if other is not None:
            shared = ring & (ndimage.distance_transform_edt(~other) <= stroke / 2)
            add(other if side < 0 else mask & ~other, shared)
    for g in range(1, len(groups)):
        to_left = ndimage.distance_transform_edt(~np.any(loops[:g], axis=0))
        to_right = ndimage.distance_transform_edt(~np.any(loops[g:], axis=0))
        left = mask & (to_left < to_right)
        shared = mask & (np.abs(to_left - to_right) <= stroke / 2)
        add(left, shared)
        # the half of the right loop's ring facing left, then of the left one's facing right
        for loop, ring, towards in ((loops[g], rings[g], -1), (loops[g - 1], rings[g - 1], 1)):
            rows = np.flatnonzero(loop.any(axis=1))
            middles = [np.flatnonzero(loop[row]).mean() for row in rows]
            middle = np.interp(np.arange(mask.shape[0]), rows, middles)[:, None]
            half = ring & (towards * (columns - middle) > 0)
            add(left, shared | half)
    return tuple(found)


def _beside_a_loop(
    mask: np.ndarray, loop: np.ndarray, ring: np.ndarray, side: int, stroke: float
) -> np.ndarray | None:
    """The ink beyond a loop's ring on one side (-1 left, 1 right) where it could be a digit
    run into the loop's side: at least two pen widths square of it, `BEYOND` of it past the
    loop's hole, and beside the loop, on `SIMILAR` of the rows either spans. A b's stem is
    twice as tall as its loop, an A's legs stand under its loop, a planet's ring sticks out
    of it a little: none is a digit beside a loop."""
    outside, count = ndimage.label(mask & ~ring, structure=np.ones((3, 3), bool))
    columns = np.indices(mask.shape)[1]
    hole_columns = columns[loop]
    middles = ndimage.mean(columns, outside, range(1, count + 1))
    other = np.isin(outside, 1 + np.flatnonzero(side * (middles - hole_columns.mean()) > 0))
    ink = np.count_nonzero(other)
    if ink < 2 * stroke**2:
        return None
    edge = hole_columns.min() if side < 0 else hole_columns.max()
    beyond = np.count_nonzero(other & (side * (columns - edge) > 0)) / ink
    rows, ring_rows = other.any(axis=1), ring.any(axis=1)
    beside = np.count_nonzero(rows & ring_rows) / max(rows.sum(), ring_rows.sum())
    return other if beyond >= BEYOND and beside >= SIMILAR else None


def _has_loop(ink: np.ndarray, stroke: float) -> bool:
    """Whether ink encloses paper at least a pen's width square: a loop, as in a 0, 6, 8 or 9,
    not a pinhole where a thick pen turned sharply."""
    enclosed = np.count_nonzero(ndimage.binary_fill_holes(ink)) - np.count_nonzero(ink)
    return bool(enclosed >= stroke**2)


def _near_segment(
    rows: np.ndarray, columns: np.ndarray, start: np.ndarray, stop: np.ndarray
) -> np.ndarray:
    """Each pixel's distance from the line segment between two (row, column) points."""
    along = stop - start
    length = float(along @ along)
    offset_rows, offset_columns = rows - start[0], columns - start[1]
    if length == 0.0:
        return np.hypot(offset_rows, offset_columns)
    t = np.clip((offset_rows * along[0] + offset_columns * along[1]) / length, 0.0, 1.0)
    return np.hypot(offset_rows - t * along[0], offset_columns - t * along[1])


def _drop_slivers(mask: np.ndarray, smallest: float) -> np.ndarray:
    """Keep the parts of a cut piece that are not tiny slivers of a neighbour's ink."""
    labels, spans = ink_pieces(mask)
    if len(spans) <= 1:
        return mask
    sizes = np.maximum(spans[:, 2] - spans[:, 0], spans[:, 3] - spans[:, 1])
    big = np.flatnonzero(sizes >= smallest) + 1
    return np.isin(labels, big) if big.size else mask


def _box(values: Any) -> Box:
    top, left, bottom, right = (int(v) for v in values)
    return (top, left, bottom, right)
