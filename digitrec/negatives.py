"""Drawings that are not digits, for teaching a model to refuse them and for measuring that.

A classifier trained only on digits must answer a digit for anything it is shown. To say
"that is not a digit" it needs examples of what people draw instead, made here from code:

- shapes drawn with a round pen the way the canvas draws (`SHAPES`: a square, a triangle, a
  star, crosses, a `#`, spirals, zig-zags, random scribbles, an arrow, and pictures people
  doodle: a tree, a flower, a sun, a cloud, a note, a lightning bolt), bent by an unsteady
  hand, and made-up pictures built the way doodles are (`picture`: a body with parts on it);
- letters and symbols in ordinary fonts (`training_fonts`), also redrawn along their centre
  lines with an even pen; glyphs a person would read as a digit (O, l, S, Z, B, g, ...) are
  left out (`DIGIT_LOOKALIKES`);
- two digits squeezed into one box (`digit_pair`), which is what a missed split in a number
  looks like.

Some kinds are kept out of training so an evaluation can ask how the refusal does on things
it never saw: shapes in `UNSEEN_SHAPES` (a heart, a house, a smiley, ..., and other pictures:
a fish, an umbrella, a boat, a stick figure, a car, an envelope; a check mark and a crescent
moon) and letters in
handwriting-style fonts (`handwriting_fonts`).
Every drawing is ink (H, W) float32 in [0, 1]; `to_mnist` prepares it like any drawing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont
from scipy import ndimage

from digitrec.constants import CANVAS_SIZE, INK_THRESHOLD, MNIST_BOX, MNIST_SIZE
from digitrec.preprocess import to_mnist
from digitrec.strokes import (
    Point,
    angular,
    centre_line_distance,
    pen_coverage,
    rasterise,
    straight_style,
)

Strokes = list[list[Point]]

# Glyphs a person could read as a digit: never used as "not a digit".
DIGIT_LOOKALIKES = frozenset("0123456789OoQDIli|!jSsZzBbGgq&$/\\()[]{}")
LETTERS = "".join(c for c in "ABCEFHJKLMNPRTUVWXYacdefhkmnprtuvwxy" if c not in DIGIT_LOOKALIKES)
SYMBOLS = "#%*+<=>?@^~"
# Pen width as a fraction of the drawing's longer side: the canvas's 18 px pen on drawings
# 70-200 px tall spans about 0.09-0.26; a wider range covers thin and thick pens.
PEN_RATIO = (0.04, 0.35)
# What `training_negatives` draws, and how often.
TRAINING_MIX = {
    "shape": 0.3,
    "picture": 0.1,
    "glyph": 0.35,
    "pair": 0.15,
    "combo": 0.1,
    "turned": 0.1,
}
# Shapes whose strokes run close together get thinner pens, so they do not fill in.
THIN_SHAPES = {"spiral": 0.12, "zigzag": 0.15, "hash": 0.2, "scribble": 0.2, "loops": 0.1}
THIN_SHAPES |= {
    "picture": 0.12,
    "fish": 0.12,
    "envelope": 0.12,
    "umbrella": 0.15,
    "person": 0.15,
    "car": 0.15,
    "boat": 0.15,
    "tree": 0.15,
    "flower": 0.1,
    "sun": 0.12,
    "cloud": 0.15,
    "note": 0.15,
    "lightning": 0.15,
    "moon": 0.15,
}
# A drawing's longer side as a fraction of the canvas: 70-200 px on the 280 px canvas.
SCALE = (0.25, 0.72)
# Kinds of drawing that `refusal_training train` leaves out: each is off (empty, 0) here, and
# `refusal_training polish` turns them on (`refusal_training.POLISH_KINDS`) to teach a trained
# judge digits drawn with straight strokes without letting such letters and doodles through.
# - Outlines never taller than wide (`shape_strokes`): a tall oblong is how people draw a 0 with
#   straight strokes, as on a digital clock (with {"square"}).
NEVER_TALL: frozenset[str] = frozenset()
# - A share of the letters, symbols and shapes drawn with straight strokes, so that straight
#   strokes alone say nothing (a boxy M or W is no digit): glyphs get square corners half the
#   time (`strokes.straight_style`); shapes are only straightened, since a squared outline may
#   be a tall oblong, a boxy 0 (0.25 tried).
ANGULAR_NEGATIVES = 0.0
# - A share of the pairs of digits drawn touching (`digit_pair`), and a share of them squeezed
#   to a width times a factor in `SQUEEZE`: two narrow digits run into each other, a 1 against
#   a 0, are about as wide as one digit and still no one digit (0.3-0.5 and 0.5 tried).
TOUCHING_PAIRS = 0.0
SQUEEZED_PAIRS = 0.0
SQUEEZE = (0.45, 1.0)
# Training draws small (quick) drawings that fill most of a small canvas.
TRAINING_CANVAS = 64
TRAINING_SCALE = (0.45, 0.9)
# Ordinary (non-handwriting) fonts, as Debian's fonts-dejavu and fonts-liberation install them.
TRAINING_FONT_GLOBS = (
    "/usr/share/fonts/truetype/dejavu/DejaVu*.ttf",
    "/usr/share/fonts/truetype/liberation/Liberation*.ttf",
)
# Handwriting-style fonts, for evaluation only (Debian packages fonts-dkg-handwriting,
# fonts-breip, fonts-femkeklaver, fonts-rufscript, fonts-dancingscript, fonts-kristi).
HANDWRITING_FONT_GLOBS = (
    "/usr/share/fonts/truetype/fifthhorseman/dkg*.ttf",
    "/usr/share/fonts/truetype/breip/*.ttf",
    "/usr/share/fonts/truetype/femkeklaver/*.ttf",
    "/usr/share/fonts/truetype/rufscript/*.ttf",
    "/usr/share/fonts/opentype/dancingscript/*.otf",
    "/usr/share/fonts/truetype/kristi/*.ttf",
)
# Pillow's own font (shipped with Pillow, so always there): "pillow" in a font list.
PILLOW_FONT = "pillow"
GLYPH_SIZE = 96  # font size glyphs are rendered at before scaling


def _closed(points: Sequence[Point]) -> list[Point]:
    return [*points, points[0]]


def _polygon(count: int, radius: float = 0.5, turn: float = -90.0) -> list[Point]:
    angles = np.radians(turn + 360.0 * np.arange(count) / count)
    return [(0.5 + radius * np.cos(a), 0.5 + radius * np.sin(a)) for a in angles]


def _square(rng: np.random.Generator) -> Strokes:
    return [_closed([(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)])]


def _triangle(rng: np.random.Generator) -> Strokes:
    return [_closed(_polygon(3, turn=-90.0 + rng.choice([0.0, 180.0])))]


def _star(rng: np.random.Generator) -> Strokes:
    points = _polygon(5)
    if rng.random() < 0.5:  # drawn in one go, corner to every second corner
        return [_closed(points[::2] + points[1::2])]
    inner = _polygon(5, radius=0.2, turn=-54.0)
    return [_closed([p for pair in zip(points, inner, strict=True) for p in pair])]


def _cross(rng: np.random.Generator) -> Strokes:
    if rng.random() < 0.5:
        return [[(0.0, 0.0), (1.0, 1.0)], [(1.0, 0.0), (0.0, 1.0)]]
    return [[(0.5, 0.0), (0.5, 1.0)], [(0.0, 0.5), (1.0, 0.5)]]


def _hash(rng: np.random.Generator) -> Strokes:
    return [
        [(0.35, 0.0), (0.3, 1.0)],
        [(0.75, 0.0), (0.7, 1.0)],
        [(0.0, 0.33), (1.0, 0.33)],
        [(0.0, 0.67), (1.0, 0.67)],
    ]


def _spiral(rng: np.random.Generator) -> Strokes:
    turns = rng.uniform(1.6, 3.2)
    angle = np.linspace(0.0, 2 * np.pi * turns, 120) * rng.choice([-1.0, 1.0])
    radius = np.linspace(0.05, 0.5, angle.size)
    return [list(zip(0.5 + radius * np.cos(angle), 0.5 + radius * np.sin(angle), strict=True))]


def _zigzag(rng: np.random.Generator) -> Strokes:
    count = int(rng.integers(4, 8))
    xs = np.linspace(0.0, 1.0, count + 1)
    ys = np.where(np.arange(count + 1) % 2 == 0, 0.0, 1.0)
    points = list(zip(xs, ys, strict=True))
    return [[(y, x) for x, y in points]] if rng.random() < 0.3 else [points]


def _scribble(rng: np.random.Generator) -> Strokes:
    """A smooth random curve through 6-10 points: a doodle with no meaning."""
    knots = rng.uniform(0.0, 1.0, (int(rng.integers(6, 11)), 2))
    dense = ndimage.zoom(knots, (12, 1), order=3, mode="nearest")
    return [[(float(x), float(y)) for x, y in dense]]


def _outline(rng: np.random.Generator) -> Strokes:
    """A closed outline of 3-6 corners, at uneven distances and angles around its middle."""
    count = int(rng.integers(3, 7))
    spacing = 2 * np.pi / count
    angles = np.arange(count) * spacing + rng.uniform(-0.3, 0.3, count) * spacing
    radius = rng.uniform(0.25, 0.5, count)
    return [_closed(list(zip(radius * np.cos(angles), radius * np.sin(angles), strict=True)))]


def _enclosed(rng: np.random.Generator) -> Strokes:
    """An outline (round or with corners) with 1-3 dots or short marks inside: a face, an eye."""
    if rng.random() < 0.5:
        outline = _closed(_polygon(int(rng.integers(3, 7)), turn=rng.uniform(0, 360)))
    else:
        outline = _closed(_polygon(40))
    marks = []
    for _ in range(int(rng.integers(1, 4))):
        start = 0.5 + rng.uniform(-0.2, 0.2, 2)
        end = start + rng.uniform(-0.1, 0.1, 2) * (rng.random() < 0.6)
        marks.append([tuple(start), tuple(end)])
    return [outline, *marks]


def _strokes(rng: np.random.Generator) -> Strokes:
    """3-4 separate strokes, straight or bent, each across much of the box: a sketch."""
    strokes = []
    for _ in range(int(rng.integers(3, 5))):
        start, end = rng.uniform(0.0, 1.0, (2, 2))
        while np.hypot(*(end - start)) < 0.4:
            end = rng.uniform(0.0, 1.0, 2)
        middle = (start + end) / 2 + rng.normal(0.0, 0.15, 2) * (rng.random() < 0.5)
        strokes.append([tuple(start), tuple(middle), tuple(end)])
    return strokes


def _loops(rng: np.random.Generator) -> Strokes:
    """A row of 2-5 joined loops, like cursive e's or a telephone cord."""
    count = rng.uniform(2, 5)
    t = np.linspace(0.0, 2 * np.pi * count, round(40 * count))
    size = rng.uniform(1.5, 3.0)
    x, y = t - size * np.sin(t), -size * np.cos(t)
    return [list(zip(x, y * rng.uniform(0.5, 1.5), strict=True))]


def _heart(rng: np.random.Generator) -> Strokes:
    t = np.linspace(0.0, 2 * np.pi, 80)
    x = 16 * np.sin(t) ** 3
    y = -(13 * np.cos(t) - 5 * np.cos(2 * t) - 2 * np.cos(3 * t) - np.cos(4 * t))
    return [list(zip(x, y, strict=True))]


def _house(rng: np.random.Generator) -> Strokes:
    walls = [(0.1, 0.45), (0.1, 1.0), (0.9, 1.0), (0.9, 0.45)]
    return [walls, [(0.0, 0.5), (0.5, 0.0), (1.0, 0.5)], [(0.4, 1.0), (0.4, 0.7), (0.6, 0.7)]]


def _arrow(rng: np.random.Generator) -> Strokes:
    return [[(0.0, 0.5), (1.0, 0.5)], [(0.65, 0.2), (1.0, 0.5), (0.65, 0.8)]]


def _smiley(rng: np.random.Generator) -> Strokes:
    face = _closed(_polygon(40))
    mouth = [(0.5 + 0.3 * np.cos(a), 0.55 + 0.2 * np.sin(a)) for a in np.linspace(0.3, 2.8, 20)]
    eyes = [[(x, 0.33), (x, 0.42)] for x in (0.35, 0.65)]
    return [face, mouth, *eyes]


def _cat(rng: np.random.Generator) -> Strokes:
    head = _closed(
        [(0.5 + 0.4 * np.cos(a), 0.6 + 0.35 * np.sin(a)) for a in np.radians(np.arange(0, 360, 10))]
    )
    ears = [[(0.15, 0.45), (0.2, 0.0), (0.4, 0.28)], [(0.6, 0.28), (0.8, 0.0), (0.85, 0.45)]]
    whiskers = [[(0.0, 0.6 + dy), (0.3, 0.65)] for dy in (-0.05, 0.08)]
    whiskers += [[(1.0, 0.6 + dy), (0.7, 0.65)] for dy in (-0.05, 0.08)]
    return [head, *ears, *whiskers]


def _wave(rng: np.random.Generator) -> Strokes:
    x = np.linspace(0.0, 1.0, 80)
    y = 0.5 + 0.5 * np.sin(2 * np.pi * rng.uniform(1.5, 2.5) * x)
    return [list(zip(x, y, strict=True))]


def _round(cx: float, cy: float, rx: float, ry: float, count: int = 30) -> list[Point]:
    """A closed ellipse around (cx, cy)."""
    angles = np.linspace(0.0, 2 * np.pi, count + 1)
    return [(cx + rx * np.cos(a), cy + ry * np.sin(a)) for a in angles]


def _tree(rng: np.random.Generator) -> Strokes:
    """A round crown (smooth or bumpy) on a trunk of two lines: no 9, though it has a loop."""
    bumps = int(rng.choice([0, 5, 6, 7]))
    angles = np.linspace(0.0, 2 * np.pi, 61)
    radius = 0.32 * (1 + (0.12 * np.abs(np.sin(bumps * angles / 2)) if bumps else 0.0))
    crown = list(zip(0.5 + radius * np.cos(angles), 0.36 + radius * np.sin(angles), strict=True))
    trunk = [[(0.44, 0.66), (0.43, 1.0)], [(0.56, 0.66), (0.57, 1.0)]]
    ground = [[(0.25, 1.0), (0.75, 1.0)]] if rng.random() < 0.4 else []
    return [crown, *trunk, *ground]


def _flower(rng: np.random.Generator) -> Strokes:
    """A small middle ringed by 5-7 petals, on a stem with a leaf or none."""
    count = int(rng.integers(5, 8))
    petals = [
        _round(0.5 + 0.2 * np.cos(a), 0.3 + 0.2 * np.sin(a), 0.1, 0.1, 16)
        for a in np.linspace(0.0, 2 * np.pi, count, endpoint=False)
    ]
    stem = [[(0.5, 0.5), (0.48, 1.0)]]
    leaf = [[(0.49, 0.8), (0.7, 0.68), (0.49, 0.74)]] if rng.random() < 0.5 else []
    return [_round(0.5, 0.3, 0.08, 0.08, 12), *petals, *stem, *leaf]


def _sun(rng: np.random.Generator) -> Strokes:
    """A circle with 6-12 rays around it."""
    count = int(rng.integers(6, 13))
    angles = np.linspace(0.0, 2 * np.pi, count, endpoint=False) + rng.uniform(0, np.pi)
    rays = [
        [
            (0.5 + 0.3 * np.cos(a), 0.5 + 0.3 * np.sin(a)),
            (0.5 + 0.5 * np.cos(a), 0.5 + 0.5 * np.sin(a)),
        ]
        for a in angles
    ]
    return [_round(0.5, 0.5, 0.22, 0.22), *rays]


def _cloud(rng: np.random.Generator) -> Strokes:
    """A wide outline of 3-6 bumps on a flat base."""
    count = int(rng.integers(3, 7))
    t = np.linspace(0.0, np.pi, 12)
    top = []
    for k in range(count):
        centre, width = (k + 0.5) / count, 0.5 / count
        high = width * rng.uniform(1.4, 2.2)
        top += [(centre - width * np.cos(a), 0.3 - high * np.sin(a)) for a in t]
    base = 0.55 + rng.uniform(-0.05, 0.1)
    return [_closed([(0.0, 0.3), *top, (1.0, 0.3), (0.95, base), (0.05, base)])]


def _note(rng: np.random.Generator) -> Strokes:
    """A musical note: an oval head, a stem and a flag (or two notes joined by a beam)."""
    head = _round(0.3, 0.85, 0.14, 0.1, 16)
    if rng.random() < 0.5:
        return [head, [(0.44, 0.85), (0.44, 0.0)], [(0.44, 0.0), (0.7, 0.2), (0.72, 0.45)]]
    second = _round(0.8, 0.75, 0.14, 0.1, 16)
    return [
        head,
        second,
        [(0.44, 0.85), (0.44, 0.1)],
        [(0.94, 0.75), (0.94, 0.0)],
        [(0.44, 0.1), (0.94, 0.0)],
    ]


def _lightning(rng: np.random.Generator) -> Strokes:
    """A lightning bolt, drawn as its outline."""
    corners = [(0.55, 0.0), (0.2, 0.55), (0.45, 0.55), (0.3, 1.0), (0.8, 0.4), (0.55, 0.42)]
    return [_closed([*corners, (0.75, 0.0)])]


def _tick(rng: np.random.Generator) -> Strokes:
    """A check mark: a short arm down to the foot, a long one up; never short enough to be /."""
    foot = (rng.uniform(0.25, 0.45), 1.0)
    start = (0.0, rng.uniform(0.4, 0.7))
    end = (1.0, rng.uniform(0.0, 0.15))
    return [[start, foot, end]]


def _moon(rng: np.random.Generator) -> Strokes:
    """A crescent moon: an outer arc and an inner one meeting at two points, facing either way.

    The inner circle (radius `inner`, its centre `shift` to the side) keeps the crescent at
    least half the outer radius thick at its middle, so it never thins into a (.
    """
    inner = rng.uniform(0.75, 0.95)
    shift = rng.uniform(0.45, 0.75)
    x = (1 + shift**2 - inner**2) / (2 * shift)  # where the two circles cross
    y = np.sqrt(1 - x**2)  # x is 0.33-0.71 for these ranges
    tip = np.arctan2(y, x)
    outer = [(np.cos(a), np.sin(a)) for a in np.linspace(tip, 2 * np.pi - tip, 40)]
    tip_inner = np.arctan2(y, x - shift)
    back = np.linspace(2 * np.pi - tip_inner, tip_inner, 30)
    edge = [(shift + inner * np.cos(a), inner * np.sin(a)) for a in back]
    side = rng.choice([-1.0, 1.0])
    return [[(side * px, py) for px, py in [*outer, *edge]]]


def _fish(rng: np.random.Generator) -> Strokes:
    """A fish: a pointed oval body, a tail of two lines (or a closed triangle) and an eye."""
    t = np.linspace(0.0, np.pi, 16)
    fat = rng.uniform(0.18, 0.26)
    upper = [(0.75 - 0.75 * np.cos(a) / 2 - 0.375, 0.5 - fat * np.sin(a)) for a in t]
    lower = [(x, 1.0 - y) for x, y in reversed(upper)]
    body = [*upper, *lower]
    tail = [(0.75, 0.5), (1.0, 0.25), (1.0, 0.75), (0.75, 0.5)]
    if rng.random() < 0.5:
        tail = tail[:2] + [(0.92, 0.5), (1.0, 0.75), (0.75, 0.5)]
    eye = [(0.18, 0.45), (0.2, 0.46)]
    return [body, tail, eye]


def _umbrella(rng: np.random.Generator) -> Strokes:
    """An umbrella: a dome on a scalloped or flat edge, a handle hooked at the foot."""
    t = np.linspace(np.pi, 2 * np.pi, 24)
    dome = [(0.5 + 0.5 * np.cos(a), 0.45 + 0.45 * np.sin(a)) for a in t]
    scallops = int(rng.integers(0, 5))
    if scallops > 1:
        width = 1.0 / scallops
        u = np.linspace(0.0, np.pi, 8)
        edge = [
            (1.0 - (k + 0.5) * width + width / 2 * np.cos(a), 0.45 - 0.06 * np.sin(a))
            for k in range(scallops)
            for a in u
        ]
    else:
        edge = [(1.0, 0.45), (0.0, 0.45)]
    hook = [(0.5, 0.0), (0.5, 0.9)] + [
        (0.4 + 0.1 * np.cos(a), 0.9 + 0.1 * np.sin(a)) for a in np.linspace(0.0, np.pi, 8)
    ]
    return [[*dome, *edge], hook]


def _boat(rng: np.random.Generator) -> Strokes:
    """A sailing boat: a hull wider at the top, a mast and a triangular sail."""
    deck = 0.72
    hull = _closed([(0.0, deck), (1.0, deck), (0.8, 1.0), (0.2, 1.0)])
    mast = [(0.5, deck), (0.5, 0.0)]
    sail = [(0.5, 0.05), (0.5 - rng.uniform(0.3, 0.45), 0.62), (0.5, 0.62)]
    flag = [[(0.5, 0.0), (0.65, 0.06), (0.5, 0.12)]] if rng.random() < 0.4 else []
    return [hull, mast, sail, *flag]


def _person(rng: np.random.Generator) -> Strokes:
    """A stick figure: a round head, a body, arms out or up, and two legs."""
    head = _round(0.5, 0.13, 0.13, 0.13, 20)
    arms = rng.uniform(-0.15, 0.15)
    return [
        head,
        [(0.5, 0.26), (0.5, 0.65)],
        [(0.15, 0.45 + arms), (0.5, 0.38), (0.85, 0.45 + arms)],
        [(0.25, 1.0), (0.5, 0.65), (0.75, 1.0)],
    ]


def _car(rng: np.random.Generator) -> Strokes:
    """A car seen from the side: a body with a cabin on top, and two wheels."""
    cabin = rng.uniform(0.0, 0.08)
    body = _closed(
        [
            (0.0, 0.7),
            (0.0, 0.45),
            (0.2 + cabin, 0.45),
            (0.32, 0.15),
            (0.68, 0.15),
            (0.8 - cabin, 0.45),
            (1.0, 0.5),
            (1.0, 0.7),
        ]
    )
    wheels = [_round(x, 0.78, 0.11, 0.11, 16) for x in (0.22, 0.78)]
    return [body, *wheels]


def _envelope(rng: np.random.Generator) -> Strokes:
    """A letter in its envelope: a wide rectangle with the flap's V from the top corners."""
    tall = rng.uniform(0.55, 0.75)
    box = _closed([(0.0, 0.0), (1.0, 0.0), (1.0, tall), (0.0, tall)])
    return [box, [(0.0, 0.0), (0.5, tall * rng.uniform(0.45, 0.65)), (1.0, 0.0)]]


def _picture(rng: np.random.Generator) -> Strokes:
    """A made-up picture: a body (a ring or an outline) with 3-6 parts on it, pointing away
    from it (legs and rays, small rings, pointed ears or sails): what a doodle of a thing is
    built from, so that the refusal learns pictures it was never shown. The parts point out,
    never into the body, so no picture is a 0 with a stroke across it."""
    if rng.random() < 0.5:
        body = _round(0.5, 0.5, rng.uniform(0.2, 0.4), rng.uniform(0.15, 0.4), 30)
    else:
        corners = _outline(rng)[0]
        body = [(0.5 + x * 0.8, 0.5 + y * 0.8) for x, y in corners]
    strokes = [body]
    for _ in range(int(rng.integers(3, 7))):
        stroke = strokes[int(rng.integers(len(strokes)))]
        x, y = stroke[int(rng.integers(len(stroke)))]
        angle = np.arctan2(y - 0.5, x - 0.5) + rng.uniform(-1.0, 1.0)
        reach = rng.uniform(0.15, 0.45)
        far = (x + reach * np.cos(angle), y + reach * np.sin(angle))
        part = rng.choice(["line", "ring", "point"])
        if part == "line":  # a leg, a ray, a stem, an antenna
            strokes.append([(x, y), far])
        elif part == "ring":  # a wheel, an eye, a petal, a head
            size = reach / 2
            middle = (x + size * np.cos(angle), y + size * np.sin(angle))
            strokes.append(_round(*middle, size, size * rng.uniform(0.6, 1.0), 16))
        else:  # an ear, a sail, a flame, a tail
            side = angle + np.pi / 2
            width = reach * rng.uniform(0.3, 0.6)
            base = (x + width * np.cos(side), y + width * np.sin(side))
            strokes.append([(x, y), far, base])
    return strokes


ShapeMaker = Callable[[np.random.Generator], Strokes]
# Shapes used for training ...
SHAPES: dict[str, ShapeMaker] = {
    "square": _square,
    "triangle": _triangle,
    "star": _star,
    "cross": _cross,
    "hash": _hash,
    "spiral": _spiral,
    "zigzag": _zigzag,
    "scribble": _scribble,
    "polygon": _outline,
    "strokes": _strokes,
    "loops": _loops,
    "enclosed": _enclosed,
    "picture": _picture,
    "arrow": _arrow,
    # pictures people doodle
    "tree": _tree,
    "flower": _flower,
    "sun": _sun,
    "cloud": _cloud,
    "note": _note,
    "lightning": _lightning,
}
# ... and shapes kept for evaluation: does the refusal reach things it never saw?
UNSEEN_SHAPES: dict[str, ShapeMaker] = {
    "heart": _heart,
    "house": _house,
    "smiley": _smiley,
    "cat": _cat,
    "wave": _wave,
    # pictures, like the training's tree and flower, that the judge never sees
    "fish": _fish,
    "umbrella": _umbrella,
    "boat": _boat,
    "person": _person,
    "car": _car,
    "envelope": _envelope,
    # marks people make that are no digit, though a judge never shown one may take them for 0 or 6
    "tick": _tick,
    "moon": _moon,
}


def shape_strokes(kind: str, rng: np.random.Generator, *, straighten: float = 0.0) -> Strokes:
    """A shape's strokes in a unit box, as drawn by an unsteady hand (tilted, sheared, bent).

    `straighten` draws them from point to point as `synthetic.redraw_digit` draws a digit: as
    straight segments no further from them than that share of a digit field as big.
    """
    makers = {**SHAPES, **UNSEEN_SHAPES}
    if kind not in makers:
        raise ValueError(f"unknown shape {kind!r}; choose one of {', '.join(makers)}")
    strokes = _by_hand(makers[kind](rng), rng)
    points = np.concatenate([np.asarray(s, float) for s in strokes])
    width, height = points.max(axis=0) - points.min(axis=0)
    if kind in NEVER_TALL and height > width:  # turned over its diagonal: now wider than tall
        strokes = [[(y, x) for x, y in stroke] for stroke in strokes]
    if straighten > 0:
        tolerance = straighten * max(width, height) * MNIST_SIZE / MNIST_BOX
        paths = angular([np.asarray(s, float) for s in strokes], tolerance, rng, square=False)
        strokes = [[(float(x), float(y)) for x, y in path] for path in paths]
    return strokes


def draw_shape(
    kind: str,
    rng: np.random.Generator,
    size: int = CANVAS_SIZE,
    pen: float | None = None,
    scale: tuple[float, float] = SCALE,
    *,
    straighten: float = 0.0,
) -> np.ndarray:
    """A shape drawn with a round pen on a blank `size` x `size` canvas: ink float32.

    The drawing's longer side is a random fraction `scale` of the canvas (by default, on the
    280 px canvas, 70-200 px, as people draw digits); `pen` is the pen's width in pixels, by
    default a random fraction (`PEN_RATIO`) of the drawing's longer side. `straighten`: drawn
    from point to point (`shape_strokes`).
    """
    strokes = shape_strokes(kind, rng, straighten=straighten)
    points = np.concatenate([np.asarray(s, float) for s in strokes])
    low, high = points.min(axis=0), points.max(axis=0)
    longer = rng.uniform(*scale) * size
    thickest = THIN_SHAPES.get(kind, PEN_RATIO[1])
    if pen is None:
        pen = _pen(rng, longer, thickest)
    else:  # drawn big enough for the pen, as a person would, so the strokes stay apart
        pen = float(pen)
        longer = min(max(longer, pen / thickest), 0.9 * size)
    factor = longer / max(float((high - low).max()), 1e-6)
    extent = (high - low) * factor
    corner = rng.uniform(pen / 2, np.maximum(size - extent - pen / 2, pen / 2 + 1))
    placed = [[tuple((np.asarray(p) - low) * factor + corner) for p in s] for s in strokes]
    return rasterise(placed, size=size, pen=pen).astype(np.float32) / 255.0


def font_paths(globs: Sequence[str]) -> list[str]:
    """The font files these patterns find, in a fixed order."""
    found: list[str] = []
    for pattern in globs:
        found += sorted(str(p) for p in Path("/").glob(pattern.lstrip("/")))
    return found


def training_fonts() -> list[str]:
    """Ordinary fonts for training negatives: Pillow's own, plus DejaVu/Liberation if installed.

    Italic faces stay in: their letters (a single-storey a, a looped e) are nearer to
    handwriting than upright ones.
    """
    return [PILLOW_FONT, *font_paths(TRAINING_FONT_GLOBS)]


def handwriting_fonts() -> list[str]:
    """Handwriting-style fonts that are installed: kept for evaluation, never for training."""
    return font_paths(HANDWRITING_FONT_GLOBS)


def draw_glyph(
    char: str,
    font: str,
    rng: np.random.Generator,
    size: int = CANVAS_SIZE,
    pen: float | None = None,
    scale: tuple[float, float] = SCALE,
    *,
    redraw: bool = True,
    straighten: float = 0.0,
    square: bool = False,
) -> np.ndarray:
    """A letter or symbol as someone would draw it on a `size` x `size` canvas: ink float32.

    The glyph is rendered in `font` (a font file, or `PILLOW_FONT`), tilted and sheared a
    little, scaled like `draw_shape` (its longer side a fraction `scale` of the canvas), and
    with `redraw` traced along its centre line and drawn again with an even round pen (`pen`
    px, default a random fraction of its size); without `redraw` it keeps the font's strokes.
    A redrawn glyph may be drawn with straight strokes as `synthetic.redraw_digit` draws a
    digit: `straighten` a share of a digit field as tall as the glyph, `square` corners.
    """
    glyph = _bend(_tilt(_render_glyph(char, font), rng), rng)
    rows = np.flatnonzero(glyph.max(axis=1) > INK_THRESHOLD)
    cols = np.flatnonzero(glyph.max(axis=0) > INK_THRESHOLD)
    glyph = glyph[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    longer = rng.uniform(*scale) * size
    glyph = np.clip(ndimage.zoom(glyph, longer / max(glyph.shape), order=1), 0.0, 1.0)
    if redraw:
        field = longer / MNIST_BOX * MNIST_SIZE  # a digit's field, were the glyph a digit
        distance = centre_line_distance(
            np.pad(glyph, 2),
            longer / MNIST_BOX,
            straighten=straighten * field,
            square=square,
            rng=rng,
        )
        if distance is not None:
            pen = _pen(rng, longer) if pen is None else float(pen)
            margin = int(np.ceil(pen / 2)) + 1
            glyph = pen_coverage(np.pad(distance, margin, constant_values=1e6), pen)
    return _place_randomly(glyph, rng, size)


def digit_pair(
    left: np.ndarray,
    right: np.ndarray,
    rng: np.random.Generator,
    gap: tuple[float, float] = (-0.15, 0.2),
    touching: float = 0.0,
) -> np.ndarray:
    """Two digits' ink squeezed side by side into one drawing: ink float32.

    `left` and `right` are drawings of single digits (ink in [0, 1], or uint8 MNIST fields);
    each is cropped to its ink and scaled to about the same height. The space between them
    is drawn from `gap` as a fraction of that height (negative: they overlap), or, with
    probability `touching`, the right one is pushed against the left one until their inks
    meet (`touching_offset`) and then up to a tenth of the height further.
    """
    first, second = (_ink_crop(np.asarray(d)) for d in (left, right))
    height = max(first.shape[0], second.shape[0])
    second = np.clip(
        ndimage.zoom(second, height * rng.uniform(0.8, 1.1) / second.shape[0], order=1), 0, 1
    )
    first = np.clip(ndimage.zoom(first, height / first.shape[0], order=1), 0, 1)
    drop = round(rng.uniform(-0.12, 0.12) * height)
    tops = (max(0, -drop), max(0, drop))
    if rng.random() < touching:
        start = touching_offset(first, second, tops) - round(rng.uniform(0, 0.1) * height)
    else:
        start = first.shape[1] + round(rng.uniform(*gap) * height)
    start = max(start, 1)
    width = max(first.shape[1], start + second.shape[1])
    tall = max(tops[0] + first.shape[0], tops[1] + second.shape[0])
    ink = np.zeros((tall, width), np.float32)
    ink[tops[0] : tops[0] + first.shape[0], : first.shape[1]] = first
    window = ink[tops[1] : tops[1] + second.shape[0], start : start + second.shape[1]]
    np.maximum(window, second, out=window)
    return ink


def touching_offset(left: np.ndarray, right: np.ndarray, tops: tuple[int, int]) -> int:
    """How far right of `left`'s left edge `right` can start for the two inks just to touch.

    `left` and `right` are ink crops placed `tops` rows down; `right` slides in from beyond
    `left`'s right edge until some of its ink is next to some of `left`'s.
    """
    tall = max(tops[0] + left.shape[0], tops[1] + right.shape[0])
    reach = np.zeros((tall, left.shape[1] + right.shape[1]), bool)
    reach[tops[0] : tops[0] + left.shape[0], : left.shape[1]] = left > INK_THRESHOLD
    reach = ndimage.binary_dilation(reach, np.ones((3, 3), bool))
    second = right > INK_THRESHOLD
    for offset in range(left.shape[1], 0, -1):
        window = reach[tops[1] : tops[1] + right.shape[0], offset : offset + right.shape[1]]
        if (window & second[:, : window.shape[1]]).any():
            return offset
    return 1


def training_negatives(
    count: int,
    rng: np.random.Generator,
    digits: Sequence[np.ndarray],
    *,
    turnable: Sequence[np.ndarray] = (),
    fonts: Sequence[str] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """`count` non-digits in MNIST form, (count, 28, 28) float32, and each one's kind.

    The mix (`TRAINING_MIX`): `SHAPES`; made-up pictures ("picture", also one of `SHAPES`,
    but given a share of their own: no list of things people doodle is ever complete);
    letters and symbols in `fonts` (default
    `training_fonts()`); pairs of `digits` (drawings of single digits, or uint8 MNIST
    fields); a shape, a glyph or a digit beside a shape or a glyph ("combo"); and digits of
    `turnable` (drawings of digits that are no longer digits on their side: no 0 or 8)
    turned a quarter ("turned", left out when `turnable` is empty). All drawn small
    (`TRAINING_CANVAS`) to be quick.
    """
    fonts = list(training_fonts() if fonts is None else fonts)
    kinds = np.array(list(TRAINING_MIX), object)
    share = np.array(list(TRAINING_MIX.values()), float)
    share[kinds == "turned"] *= len(turnable) > 0
    picks = rng.choice(kinds, size=count, p=share / share.sum())
    images = np.empty((count, 28, 28), np.float32)
    names = np.empty(count, object)
    for i, pick in enumerate(picks):
        if pick == "pair":
            left, right = rng.integers(len(digits), size=2)
            ink = digit_pair(digits[left], digits[right], rng, touching=TOUCHING_PAIRS)
            if SQUEEZED_PAIRS and rng.random() < SQUEEZED_PAIRS:  # narrow: as tall, less wide
                factor = (1.0, rng.uniform(*SQUEEZE))
                ink = np.clip(ndimage.zoom(ink, factor, order=1), 0.0, 1.0)
        elif pick == "combo":
            first = _something(rng, fonts, digits if rng.random() < 0.3 else ())
            ink = digit_pair(first, _something(rng, fonts), rng)
        elif pick == "turned":
            ink = np.rot90(turnable[int(rng.integers(len(turnable)))], rng.choice([1, 3]))
        else:
            pick, ink = _one(pick, rng, fonts)
        names[i] = pick
        images[i] = _in_mnist_form(ink)
    return images, names


def _in_mnist_form(ink: np.ndarray) -> np.ndarray:
    """`to_mnist` of a drawing given as ink, with a blank rim around it: ink drawn along the
    small training canvas's edge would otherwise be taken for a white page (`extract_ink`)."""
    return to_mnist(np.pad(ink, 1))


def _one(pick: str, rng: np.random.Generator, fonts: Sequence[str]) -> tuple[str, np.ndarray]:
    """A training shape or glyph, drawn small: its kind and its ink."""
    straighten, square = 0.0, False
    if ANGULAR_NEGATIVES and rng.random() < ANGULAR_NEGATIVES:  # no draw when off
        straighten, square = straight_style(rng)
    if pick in ("shape", "picture"):
        kind = "picture" if pick == "picture" else str(rng.choice(list(SHAPES)))
        ink = draw_shape(kind, rng, TRAINING_CANVAS, scale=TRAINING_SCALE, straighten=straighten)
        return kind, ink
    glyphs = LETTERS + SYMBOLS
    char = glyphs[int(rng.integers(len(glyphs)))]
    font = fonts[int(rng.integers(len(fonts)))]
    ink = draw_glyph(
        char,
        font,
        rng,
        TRAINING_CANVAS,
        scale=TRAINING_SCALE,
        redraw=rng.random() < 0.7,
        straighten=straighten,
        square=square,
    )
    return ("letter" if char in LETTERS else "symbol"), ink


def _something(
    rng: np.random.Generator, fonts: Sequence[str], digits: Sequence[np.ndarray] = ()
) -> np.ndarray:
    """A shape or a glyph, or one of `digits` if any are given: half of a combo."""
    if len(digits):
        return np.asarray(digits[int(rng.integers(len(digits)))])
    return _one("shape" if rng.random() < 0.5 else "glyph", rng, fonts)[1]


def _pen(rng: np.random.Generator, longer: float, thickest: float = PEN_RATIO[1]) -> float:
    low, high = np.log([PEN_RATIO[0], thickest])
    return max(1.0, float(np.exp(rng.uniform(low, high)) * longer))


def _by_hand(strokes: Strokes, rng: np.random.Generator) -> Strokes:
    """Fit the strokes to a unit box, tilt, shear and stretch them, then bend them a little."""
    points = np.concatenate([np.asarray(s, float) for s in strokes])
    low = points.min(axis=0)
    span = max(float((points.max(axis=0) - low).max()), 1e-6)
    strokes = [[tuple((np.asarray(p) - low) / span) for p in s] for s in strokes]
    angle = np.radians(rng.uniform(-20, 20))
    shear = rng.uniform(-0.25, 0.25)
    stretch = np.exp(rng.uniform(-0.35, 0.35))
    matrix = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    matrix = matrix @ np.array([[stretch, shear], [0.0, 1.0 / stretch]])
    wobble = rng.uniform(0.0, 0.03)
    bent = []
    for stroke in strokes:
        points = _densify(np.asarray(stroke, float))
        points = (points - 0.5) @ matrix.T
        noise = ndimage.gaussian_filter1d(rng.normal(size=points.shape), 6.0, axis=0)
        noise *= wobble / max(float(np.abs(noise).max()), 1e-6)
        bent.append([(float(x), float(y)) for x, y in points + noise])
    return bent


def _densify(points: np.ndarray, step: float = 0.02) -> np.ndarray:
    """Points every `step` along a polyline, so a bend moves the middle of a long line too."""
    if len(points) < 2:
        return points
    lengths = np.hypot(*np.diff(points, axis=0).T)
    along = np.concatenate([[0.0], np.cumsum(lengths)])
    samples = np.linspace(0.0, along[-1], max(2, int(along[-1] / step) + 1))
    return np.stack([np.interp(samples, along, points[:, k]) for k in range(2)], axis=1)


def _render_glyph(char: str, font: str) -> np.ndarray:
    if font == PILLOW_FONT:
        face = ImageFont.load_default(GLYPH_SIZE)
    else:
        face = ImageFont.truetype(font, GLYPH_SIZE)
    canvas = Image.new("L", (GLYPH_SIZE * 2, GLYPH_SIZE * 2), 0)
    ImageDraw.Draw(canvas).text((GLYPH_SIZE, GLYPH_SIZE), char, fill=255, font=face, anchor="mm")
    glyph = np.asarray(canvas, np.float32) / 255.0
    if glyph.max() <= INK_THRESHOLD:
        raise ValueError(f"the font {font} draws nothing for {char!r}")
    return glyph


def _tilt(glyph: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Rotate up to 15 degrees and shear a little, about the glyph's middle."""
    angle = np.radians(rng.uniform(-15, 15))
    shear = rng.uniform(-0.2, 0.2)
    matrix = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    matrix = matrix @ np.array([[1.0, 0.0], [shear, 1.0]])
    centre = np.array(glyph.shape) / 2
    offset = centre - matrix @ centre
    return ndimage.affine_transform(glyph, matrix, offset, order=1)


def _bend(image: np.ndarray, rng: np.random.Generator, most: float = 0.04) -> np.ndarray:
    """Move every pixel by a smooth random field of up to `most` of the image: an unsteady hand."""
    coarse = rng.uniform(-1.0, 1.0, (2, 4, 4)) * rng.uniform(0.0, most) * max(image.shape)
    field = [ndimage.zoom(c, np.array(image.shape) / 4, order=3) for c in coarse]
    rows, cols = np.indices(image.shape, dtype=float)
    return ndimage.map_coordinates(image, [rows + field[0], cols + field[1]], order=1)


def _ink_crop(ink: np.ndarray) -> np.ndarray:
    ink = ink.astype(np.float32) / (255.0 if ink.dtype == np.uint8 else 1.0)
    rows = np.flatnonzero(ink.max(axis=1) > INK_THRESHOLD)
    cols = np.flatnonzero(ink.max(axis=0) > INK_THRESHOLD)
    if rows.size == 0:
        raise ValueError("a digit of the pair has no ink")
    return ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def _place_randomly(patch: np.ndarray, rng: np.random.Generator, size: int) -> np.ndarray:
    patch = patch[:size, :size]
    top = int(rng.integers(0, size - patch.shape[0] + 1))
    left = int(rng.integers(0, size - patch.shape[1] + 1))
    canvas = np.zeros((size, size), np.float32)
    canvas[top : top + patch.shape[0], left : left + patch.shape[1]] = patch
    return canvas
