"""Accuracy on MNIST test digits redrawn the way people draw them on a 280x280 canvas.

Each digit's centre line is drawn with a round pen at a random size and position, in several
variants: a fixed 18 px pen whatever the digit's size; pens from thin to thick; tilted
digits; sloppy (elastically bent) strokes. Every test 1 is also drawn with a flag at its top
(`synthetic.add_flag`), as most of Europe writes a 1 and few of MNIST's writers did, and every
test 0 with a slash through it (`synthetic.add_slash`); the same digits are also drawn
narrower and wider, and with straight strokes or square corners (`ANGULAR`). Every drawing is
read in each convention through `to_mnist` + `Predictor`, by each model given, once as the
model alone reads it and once also turned by `--turns` (default `READ_TURNS`, as the web app
and the drawing pad read), with naive whole-canvas resizing beside the fixed-pen rows for contrast.
Digits the learner collected in notebook 03 (`data/my_digits/`) are scored too when there are
any.

Given several models, two reference columns follow: their probabilities for each drawing as
drawn, averaged (an ensemble, not a single model), and how many drawings every model
misreads. A drawing all of them misread has often been bent or redrawn into another digit;
`--mistakes DIR` saves the first model's misreadings per variant as pictures, for a person
to judge.

Run: `python bench/drawn_digits.py [--model models/cnn.keras --model models/seed.keras]
[--n 5000] [--turns -8 8 | --turns] [--mistakes DIR]` (`--turns` alone: one reading only).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
from command_line import ArgumentParser, check_output, count, finite, random_seed, run

from digitrec import plots, settings, strokes, synthetic
from digitrec.constants import CANVAS_SIZE, INK_THRESHOLD, PEN_WIDTH
from digitrec.data import DatasetError, load_mnist, take_subset
from digitrec.my_digits import load_my_digits
from digitrec.predict import READ_TURNS, ModelLoadError, ModelNotFoundError, Predictor
from digitrec.preprocess import INK_IN_ALPHA, WHITE_ON_BLACK, naive_resize, to_mnist

# name -> how each digit's drawing varies (ranges are drawn uniformly per digit)
VARIANTS: dict[str, dict[str, tuple[float, float]]] = {
    f"fixed pen {PEN_WIDTH} px": {},
    "pen 6-32 px": {"pen": (6, 32)},
    "tilted up to 15 deg": {"rotation": (-15, 15)},
    "sloppy strokes": {"wobble": (1.0, 2.5)},
}
CONVENTIONS = (WHITE_ON_BLACK, INK_IN_ALPHA)
# Widths, as factors of the digit's own at the same height, that the variants leave out.
STRETCHES: dict[str, tuple[tuple[float, float], ...]] = {
    "narrow or wide (x 0.6-0.8, 1.25-1.6)": ((0.6, 0.8), (1.25, 1.6)),
    "very narrow (x 0.35-0.5)": ((0.35, 0.5),),
}

# Drawn with straight strokes, as with a mouse from point to point, and boxy, as on a digital
# clock (`synthetic.redraw_digit`'s `straighten`, drawn from `strokes.STRAIGHTEN`, and
# `square`): name -> square corners. No acceptance figure rests on these rows either.
ANGULAR = {"drawn with straight strokes": False, "drawn boxy (square corners)": True}


def draw_variant(digits, variant, seed):
    rng = np.random.default_rng(seed)
    inks = []
    for digit in digits:
        height, top, left = synthetic.random_placement(rng)
        options = {name: rng.uniform(*span) for name, span in VARIANTS[variant].items()}
        inks.append(synthetic.redraw_digit(digit, height, top, left, rng=rng, **options))
    return inks


def draw_stretched(
    digits: np.ndarray, spans: tuple[tuple[float, float], ...], seed: int
) -> list[np.ndarray]:
    """Digits redrawn narrower or wider at the same height, by a factor from one of `spans`
    (picked per digit), at a size that keeps a wide one on the canvas: inks."""
    rng = np.random.default_rng(seed)
    inks = []
    for digit in digits:
        # One span draws no number for its choice, as `not_digits` drew before sharing this.
        span = spans[int(rng.integers(len(spans)))] if len(spans) > 1 else spans[0]
        stretch = float(rng.uniform(*span))
        height, top, left = synthetic.random_placement(
            rng, 100, round(CANVAS_SIZE / max(stretch, 1))
        )
        ink = synthetic.redraw_digit(digit, height, top, left, stretch=stretch)
        if ink.max() <= INK_THRESHOLD:  # a faint stroke narrowed may leave nothing to trace
            ink = synthetic.redraw_digit(digit, height, top, left)
        inks.append(ink)
    return inks


def draw_angular(digits: np.ndarray, square: bool, seed: int) -> list[np.ndarray]:
    """Digits redrawn along their centre lines straightened, with square corners or not."""
    rng = np.random.default_rng(seed)
    inks = []
    for digit in digits:
        height, top, left = synthetic.random_placement(rng)
        straighten = float(rng.uniform(*strokes.STRAIGHTEN))
        inks.append(
            synthetic.redraw_digit(
                digit, height, top, left, straighten=straighten, square=square, rng=rng
            )
        )
    return inks


def default_models() -> list[Path]:
    recommended = settings.default_model_path()
    seed = recommended.with_name("seed.keras")
    return [p for p in (recommended, seed) if p.is_file()] or [recommended]


def main() -> None:
    parser = ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", action="append", type=Path, help="repeat for several")
    parser.add_argument("--n", type=count, default=5000, help="test digits per variant")
    parser.add_argument("--seed", type=random_seed, default=0)
    parser.add_argument("--json", default=None, help="also write the results here")
    parser.add_argument(
        "--turns",
        type=finite,
        nargs="*",
        default=list(READ_TURNS),
        help="degrees: also read each image turned by these and averaged (default %(default)s)",
    )
    parser.add_argument(
        "--mistakes",
        type=Path,
        default=None,
        help="save the first model's misread drawings per variant as PNG files in this folder",
    )
    args = parser.parse_args()
    check_output(parser, args.json)
    check_output(parser, args.mistakes, folder=True)

    try:
        predictors = [Predictor.load(path) for path in (args.model or default_models())]
        if args.turns:
            predictors += [
                Predictor(p.model, name=p.name, metadata=p.metadata, turns=args.turns)
                for p in predictors
            ]
        (_, _), (x_test, y_test) = load_mnist()
    except (ModelNotFoundError, ModelLoadError, DatasetError, ValueError) as error:
        raise SystemExit(f"drawn_digits: {error}") from None
    digits, labels = take_subset(x_test, y_test, args.n, seed=args.seed)

    # (input, preprocessing, labels, images in MNIST form)
    cases = [(f"all {len(x_test):,} MNIST test digits as they are", "-", y_test, x_test / 255.0)]
    for index, variant in enumerate(VARIANTS):
        started = time.perf_counter()
        inks = draw_variant(digits, variant, seed=args.seed + index)
        for convention in CONVENTIONS:
            drawings = [synthetic.render(ink, convention) for ink in inks]
            prepared = np.stack([to_mnist(d) for d in drawings])
            cases.append((f"{variant}, {convention}", "to_mnist", labels, prepared))
            if index == 0:
                naive = np.stack([naive_resize(d) for d in drawings])
                cases.append((f"{variant}, {convention}", "naive resize", labels, naive))
        print(f"drew {variant!r} in {time.perf_counter() - started:.0f} s", flush=True)
    # Ways MNIST's writers seldom wrote: the 1 as most of Europe writes it, every test 1 with a
    # flag (`synthetic.add_flag`), and every test 0 slashed so it is no letter O
    # (`synthetic.add_slash`), redrawn as the first variant draws.
    rng = np.random.default_rng(args.seed)
    marks = ((1, synthetic.add_flag, "a flag"), (0, synthetic.add_slash, "a slash"))
    for digit, mark, what in marks:
        marked = [mark(d / 255.0, rng) * 255.0 for d in x_test[y_test == digit]]
        inks = draw_variant(marked, next(iter(VARIANTS)), seed=args.seed)
        drawn = np.stack([to_mnist(synthetic.render(ink, CONVENTIONS[0])) for ink in inks])
        label = f"all {len(marked):,} test {digit}s with {what}, fixed pen"
        cases.append((label, "to_mnist", np.full(len(marked), digit), drawn))
    # Narrower or wider than MNIST's writers wrote, as a hand on a mouse often draws: the same
    # test digits as the variants, at the same height.
    for index, (what, spans) in enumerate(STRETCHES.items()):
        inks = draw_stretched(digits, spans, seed=args.seed + len(VARIANTS) + index)
        drawn = np.stack([to_mnist(synthetic.render(ink, CONVENTIONS[0])) for ink in inks])
        cases.append((f"drawn {what}", "to_mnist", labels, drawn))
    first = len(VARIANTS) + len(STRETCHES)
    for index, (what, square) in enumerate(ANGULAR.items()):
        inks = draw_angular(digits, square, seed=args.seed + first + index)
        drawn = np.stack([to_mnist(synthetic.render(ink, CONVENTIONS[0])) for ink in inks])
        cases.append((what, "to_mnist", labels, drawn))
    mine = load_my_digits()
    if len(mine):
        cases.append(
            (f"your digits ({len(mine)}, data/my_digits)", "to_mnist", mine.labels, mine.as_mnist())
        )

    names = [
        p.name
        + (f" ({p.metadata['arch']})" if "arch" in p.metadata else "")
        + (" turned" if p.turns else "")
        for p in predictors
    ]
    as_drawn = [i for i, p in enumerate(predictors) if not p.turns]
    together = len(as_drawn) > 1  # the reference columns: averaged, and misread by every model
    turns = ", ".join(f"{t:g}" for t in args.turns)
    turned = (
        f" ('turned': the average of readings as drawn and turned {turns} degrees)"
        if turns
        else " (each drawing read once, as drawn)"
    )
    print(
        f"\n{len(digits)} MNIST test digits per variant, ink about 70-200 px tall on a "
        f"{CANVAS_SIZE}x{CANVAS_SIZE} canvas; accuracy per model{turned}:"
    )
    header = f"{'input':<44} {'preprocessing':<13} " + " ".join(f"{n:>18}" for n in names)
    if together:
        header += f" {'models averaged':>18} {'wrong in all':>13}"
    print(header)
    if args.mistakes:
        args.mistakes.mkdir(parents=True, exist_ok=True)
    rows = []
    for name, method, truth, images in cases:
        readings = [p.predict_arrays(images) for p in predictors]
        accuracies = [float(np.mean(r.argmax(1) == truth)) for r in readings]
        row = {
            "input": name,
            "preprocessing": method,
            "accuracy": dict(zip(names, accuracies, strict=True)),
        }
        line = f"{name:<44} {method:<13} " + " ".join(f"{a:>18.2%}" for a in accuracies)
        if together:
            averaged = np.mean([readings[i] for i in as_drawn], axis=0)
            wrong = np.all([readings[i].argmax(1) != truth for i in as_drawn], axis=0)
            row["models averaged"] = float(np.mean(averaged.argmax(1) == truth))
            row["wrong in all"] = int(wrong.sum())
            line += f" {row['models averaged']:>18.2%} {row['wrong in all']:>13}"
        rows.append(row)
        print(line, flush=True)
        if args.mistakes and method == "to_mnist" and CONVENTIONS[0] in name:
            figure = plots.plot_misclassified(
                images, truth, readings[as_drawn[0]], n=60, columns=10
            )
            figure.savefig(args.mistakes / f"{name.split(',')[0].replace(' ', '-')}.png")
    if args.json:
        Path(args.json).write_text(
            json.dumps({"n": len(digits), "turns": args.turns, "rows": rows}, indent=2)
        )


if __name__ == "__main__":
    run(main)
