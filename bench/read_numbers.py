"""Reading whole numbers: MNIST test digits redrawn with a pen side by side, read by `read_number`.

Each number is 2-6 MNIST test digits traced along their centre lines and drawn with the
canvas's round pen (`PEN_WIDTH`), at a random size (ink 70-160 px tall, each digit 0.85-1.15
of that), with random gaps and a jittered baseline. Touching neighbours are pushed together
until their ink meets, then a little further. Every number is read in two conventions (white
on black, ink in the alpha channel). Reported per case: the exact-number accuracy, the
per-digit accuracy (digits aligned in order), how often the digit count is right, how often a
piece was refused as not a digit, and, for comparison, the exact accuracy if each digit were
read alone from its own ink (what a perfect segmentation would give with this model).

`--plain` also reads pairs of plain digits (`strokes.example_strokes`) in which one is round
(0, 6, 8 or 9) and the two touch or run into each other, as a 0 is often written into the next
one in 100 or 2000: every digit with every round one, either way round, at three overlaps and
two pens; and each shape of `digitrec.negatives` (four of each) between a plain 2 and 6, which
should read "2?6", and alone, which should read as no digit ("?").

Run: `python bench/read_numbers.py [--model PATH] [--n 300] [--turns -8 8 | --turns] [--plain]`.
"""

from __future__ import annotations

import difflib
import itertools
import json
import time
from pathlib import Path

import numpy as np
from command_line import ArgumentParser, check_output, count, finite, random_seed, run

from digitrec import negatives, settings, synthetic
from digitrec.constants import INK_THRESHOLD, PEN_WIDTH
from digitrec.data import DatasetError, load_mnist
from digitrec.negatives import touching_offset
from digitrec.numbers import read_number
from digitrec.predict import READ_TURNS, ModelLoadError, ModelNotFoundError, Predictor
from digitrec.preprocess import INK_IN_ALPHA, WHITE_ON_BLACK
from digitrec.refusal import NotDigitModel, RefusalModelError
from digitrec.strokes import example_strokes, rasterise
from digitrec.train import cpu_description

# name -> (digits per number, chance that a digit touches the one before)
CASES = {
    "separated, 2-4 digits": ((2, 4), 0.0),
    "separated, 5-6 digits": ((5, 6), 0.0),
    "touching pairs": ((2, 2), 1.0),
    "2-6 digits, 30 % of neighbours touching": ((2, 6), 0.3),
}
CONVENTIONS = (WHITE_ON_BLACK, INK_IN_ALPHA)
MARGIN = 20
PLAIN_PENS = (10.0, 20.0)  # pens of the plain pairs, in px


def digit_ink(field: np.ndarray, height: float, rng: np.random.Generator) -> np.ndarray:
    """One MNIST digit redrawn with the canvas pen, its ink about `height` px tall, cropped."""
    size = round(height * 28 / 20) + 2 * PEN_WIDTH
    ink = synthetic.redraw_digit(field, size - 2 * PEN_WIDTH, PEN_WIDTH, PEN_WIDTH, canvas=size)
    rows = np.flatnonzero(ink.max(axis=1) > INK_THRESHOLD)
    cols = np.flatnonzero(ink.max(axis=0) > INK_THRESHOLD)
    return ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def draw_number(
    fields: np.ndarray, touching: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, list[np.ndarray]]:
    """A number's ink on a canvas, and each digit's ink alone on the same canvas."""
    height = rng.uniform(70, 160)
    inks = [digit_ink(f, height * rng.uniform(0.85, 1.15), rng) for f in fields]
    tops = [
        round(MARGIN + (height * 1.2 - ink.shape[0]) / 2 + rng.uniform(-0.1, 0.1) * height)
        for ink in inks
    ]
    tops = [max(0, t) for t in tops]
    lefts = [MARGIN]
    for k in range(1, len(inks)):
        if touching[k]:
            pair_top = min(tops[k - 1], tops[k])
            offset = touching_offset(
                inks[k - 1], inks[k], (tops[k - 1] - pair_top, tops[k] - pair_top)
            )
            step = offset - round(rng.uniform(0, PEN_WIDTH / 2))
        else:
            step = inks[k - 1].shape[1] + round(rng.uniform(0.15, 0.6) * height)
        lefts.append(lefts[-1] + max(1, step))
    canvas = (
        max(t + ink.shape[0] for t, ink in zip(tops, inks, strict=True)) + MARGIN,
        max(x + ink.shape[1] for x, ink in zip(lefts, inks, strict=True)) + MARGIN,
    )
    alone = []
    for top, left, ink in zip(tops, lefts, inks, strict=True):
        layer = np.zeros(canvas, np.float32)
        layer[top : top + ink.shape[0], left : left + ink.shape[1]] = ink
        alone.append(layer)
    return np.max(alone, axis=0), alone


def plain_pair(digits: str, pen: float, overlap: float) -> np.ndarray:
    """Plain digits 100 px tall side by side, each `overlap` of the height into the one before."""
    height, width, strokes = 100.0, 65.0, []
    for k, digit in enumerate(digits):
        left = MARGIN + k * (width - overlap * height)
        strokes += example_strokes(int(digit), height=height, top=MARGIN, left=left)
    return rasterise(strokes, size=300, pen=pen)[: int(height) + 2 * MARGIN]


def plain_pairs(predictor: Predictor, refusal: NotDigitModel | None) -> None:
    """Exact readings of every plain digit touching a round one (`--plain`), by overlap."""
    cases = [
        (pair, pen)
        for a in "0123456789"
        for b in "0689"
        for pair in sorted({a + b, b + a})
        for pen in PLAIN_PENS
    ]
    print(f"\n{'plain pairs with a round digit':<42} {'exact':>7} {'pairs':>6}")
    for overlap in (0.0, 0.03, 0.08):
        right = [
            read_number(plain_pair(pair, pen, overlap), predictor, refusal=refusal).text == pair
            for pair, pen in cases
        ]
        label = f"each {overlap:.0%} of the height into the next"
        print(f"{label:<42} {np.mean(right):>7.2%} {len(cases):>6}", flush=True)
    # A shape between a plain 2 and 6 (as tests/test_numbers.py draws a star) should read 2?6,
    # and a shape alone no digit at all: "?", or "??" for a shape in two pieces.
    kinds = [*negatives.SHAPES, *negatives.UNSEEN_SHAPES]
    between, alone = [], []
    for kind, seed in itertools.product(kinds, range(4)):
        rng = np.random.default_rng(seed)
        unit = negatives.shape_strokes(kind, rng)
        width, height = 150 * rng.uniform(0.8, 1.2), 150
        mark = [[(260 + x * width, 120 + y * height) for x, y in s] for s in unit]
        strokes = [
            *example_strokes(2, height=height, top=120, left=60, size=640),
            *mark,
            *example_strokes(6, height=height, top=120, left=480, size=640),
        ]
        text = read_number(rasterise(strokes, size=640), predictor, refusal=refusal).text
        between.append(text == "2?6")
        text = read_number(rasterise(mark, size=640), predictor, refusal=refusal).text
        alone.append(set(text) == {"?"})
    for label, right in (
        ("a shape between a 2 and a 6 read as 2?6", between),
        ("a shape alone read as no digit (?)", alone),
    ):
        print(f"{label:<42} {np.mean(right):>7.2%} {len(right):>6}", flush=True)


def digits_right(truth: str, text: str) -> int:
    """How many of the true digits were read, in order (an alignment of the two strings)."""
    matcher = difflib.SequenceMatcher(None, truth, text, autojunk=False)
    return sum(block.size for block in matcher.get_matching_blocks())


def model_path(given: Path | None, bench: str) -> Path:
    """The digit model to use: `given`, else the recommended model, else the course's."""
    if given is not None:
        return given
    for path in (settings.default_model_path(), settings.course_model_path()):
        if path.is_file():
            return path
    raise SystemExit(
        f"{bench}: no model. Train one (about a minute): python -m digitrec.train --recipe fast "
        "--out /tmp/seed_cnn.keras, then pass --model /tmp/seed_cnn.keras"
    )


def main() -> None:
    parser = ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=count, default=300, help="numbers per case")
    parser.add_argument(
        "--model", type=Path, help="digit model (default: recommended, else course)"
    )
    parser.add_argument("--refusal", type=Path, help="refusal model (default: the shipped one)")
    parser.add_argument("--no-refusal", action="store_true", help="read every piece as a digit")
    turns = "degrees: also read each piece turned by these and averaged (default %(default)s)"
    parser.add_argument("--turns", type=finite, nargs="*", default=list(READ_TURNS), help=turns)
    parser.add_argument("--seed", type=random_seed, default=0)
    parser.add_argument("--json", help="also write the results here")
    parser.add_argument("--plain", action="store_true", help="also plain pairs that touch")
    args = parser.parse_args()
    check_output(parser, args.json)
    path = model_path(args.model, "read_numbers")
    try:
        predictor = Predictor.load(path, turns=args.turns)
        refusal = None if args.no_refusal else NotDigitModel.load(args.refusal)
        (_, _), (x_test, y_test) = load_mnist()
    except (ModelNotFoundError, ModelLoadError, RefusalModelError, DatasetError) as error:
        raise SystemExit(f"numbers: {error}") from None

    print(f"CPU: {cpu_description()}")
    print(
        f"model {path} (turns {args.turns or 'none'}), refusal "
        f"{'off' if refusal is None else args.refusal or 'shipped'}; {args.n} numbers per case"
    )
    header = f"{'case':<42} {'convention':<15} {'exact':>7} {'digits':>7} {'count':>7}"
    print(header + f" {'refused':>8} {'alone':>7} {'ms':>6}")
    rng = np.random.default_rng(args.seed)
    rows = []
    for case, ((low, high), touch) in CASES.items():
        numbers = []
        for _ in range(args.n):
            length = int(rng.integers(low, high + 1))
            picked = rng.integers(len(x_test), size=length)
            touching = rng.random(length) < touch
            ink, alone = draw_number(x_test[picked], touching, rng)
            numbers.append(("".join(str(d) for d in y_test[picked]), ink, alone))
        alone_reads = [
            "".join(str(p.digit) for p in predictor.predict_batch(alone)) for _, _, alone in numbers
        ]
        for convention in CONVENTIONS:
            started = time.perf_counter()
            texts, refused = [], 0
            for _, ink, _ in numbers:
                reading = read_number(synthetic.render(ink, convention), predictor, refusal=refusal)
                texts.append(reading.text)
                refused += not reading.complete
            ms = (time.perf_counter() - started) * 1000 / len(numbers)
            truths = [truth for truth, _, _ in numbers]
            row = {
                "case": case,
                "convention": convention,
                "exact": float(np.mean([t == r for t, r in zip(truths, texts, strict=True)])),
                "digits": sum(map(digits_right, truths, texts)) / sum(map(len, truths)),
                "count": float(
                    np.mean([len(t) == len(r) for t, r in zip(truths, texts, strict=True)])
                ),
                "refused": refused / len(numbers),
                "alone": float(np.mean([t == r for t, r in zip(truths, alone_reads, strict=True)])),
                "ms_per_number": ms,
            }
            rows.append(row)
            print(
                f"{case:<42} {convention:<15} {row['exact']:>7.2%} {row['digits']:>7.2%} "
                f"{row['count']:>7.2%} {row['refused']:>8.2%} {row['alone']:>7.2%} {ms:>6.0f}",
                flush=True,
            )
    if args.plain:
        plain_pairs(predictor, refusal)
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {"model": str(path), "n": args.n, "cpu": cpu_description(), "rows": rows},
                indent=2,
            )
        )


if __name__ == "__main__":
    run(main)
