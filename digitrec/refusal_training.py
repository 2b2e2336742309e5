"""Train the "not a digit" judge (`digitrec.refusal`) and choose its threshold.

Digits: MNIST training digits, redrawn with pens the way the canvas draws them
(`digitrec.synthetic`) and as they are, and digits in ordinary fonts. MNIST's writers wrote
few digits some people write every day (a 1 with a flag and a base, a tall narrow 0, a slashed
0, a digit tilted well over): a share of the redrawn digits is made narrower or wider and tilted
further (`RESTYLED`), a share of the 0s is slashed (`SLASHED`), and the font digits bring a 1
with a base and a closed 4. Non-digits: `digitrec.negatives` (shapes, scribbles, doodled
pictures and made-up ones, letters and symbols in ordinary fonts, two digits squeezed into one
box). The threshold is chosen on held-out digits drawn on a canvas, so that only
`DIGIT_REFUSAL` of them are refused. Dotted 0s and digits drawn with straight strokes
(`DOTTED`, `ANGULAR`), and non-digits to match them, can be drawn too: `train` leaves them
out, `polish` adds them.

The judge is an ensemble: `--members` copies of one small CNN (`build_model`), trained on the
same generated data from different seeds (`member_seeds`), averaged into one Keras model
(`build_ensemble`) saved as one `.keras` file. Members trained alike still err on different
drawings, so their mean score separates digits from non-digits better than any one of them;
the threshold is chosen on that mean.

    python -m digitrec.refusal_training train [--out PATH] [--seed 0] [--epochs N] [--members 3]

`polish` goes on from a judge already trained (`--init`, default the shipped one): each
member trained for `POLISH_EPOCHS` more at `POLISH_LEARNING_RATE`, and the threshold chosen
again. It teaches a trained judge the kinds of drawing `train` leaves out (`POLISH_KINDS`)
while it keeps what it has learnt: the members learn freshly drawn data with those kinds
turned on, labelled, together with the data `train` draws, scored by the member itself (its
own verdicts as soft targets, "learning without forgetting"). Trained afresh, or polished on
labels alone, a judge changed the number pad's verdicts on many drawings at once.

    python -m digitrec.refusal_training polish [--init PATH] [--out PATH] [--seed 0] [--force]
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, replace
from pathlib import Path

import keras
import numpy as np
from keras import layers

from digitrec import command_line, negatives, strokes, synthetic
from digitrec.constants import INK_THRESHOLD, MNIST_SIZE
from digitrec.data import DatasetError, load_mnist
from digitrec.preprocess import to_mnist
from digitrec.refusal import (
    DEFAULT_PATH,
    TRAIN_COMMAND,
    NotDigitModel,
    RefusalModelError,
)
from digitrec.train import check_writable, cpu_description, library_versions, save_model

# The share of held-out drawn digits the threshold lets be refused.
DIGIT_REFUSAL = 0.01
# The share of redrawn training digits drawn in ways MNIST has few of: their width times a
# factor in `STRETCH` (log-uniform; the height stays) and tilted up to `WIDE_TILT` degrees
# (the others: up to 15).
RESTYLED = 0.3
STRETCH = (0.4, 1.5)
WIDE_TILT = 30
# The share of redrawn training 0s given a slash through them (`synthetic.add_slash`), as
# some people write a 0; without them the judge refused nearly every slashed 0.
SLASHED = 0.2
# Off for `train`, as `negatives.NEVER_TALL` and the rest; `polish` turns them on
# (`POLISH_KINDS`):
# - the share of the other 0s given a dot in the middle (`synthetic.add_dot`), as some people
#   write a 0 to tell it from an O: the shipped judge takes some for an outline with a mark
#   inside, and refuses them (0.15 tried);
DOTTED = 0.0
# - the share of redrawn digits drawn with straight strokes (`synthetic.redraw_digit`'s
#   `straighten`, as `strokes.STRAIGHTEN`, some with square corners), as people draw digits with
#   a mouse from point to point or copy a digital clock: without them the judge refuses most 0s
#   drawn as an oblong and 2s and 8s drawn boxy (0.15 tried);
ANGULAR = 0.0
# - those with square corners drawn this much narrower: boxy digits stand taller than wide, as
#   on a digital clock, and a square is no 0.
SQUARE_NARROW = 0.8
POLISH_COMMAND = "python -m digitrec.refusal_training polish"
# `polish`: how long and how fast a trained judge's members go on learning, and the kinds of
# drawing it turns on, by module and setting (the shares tried in docs/results.md).
POLISH_EPOCHS = 1
POLISH_LEARNING_RATE = 2e-4
POLISH_KINDS: dict[str, dict[str, object]] = {
    __name__: {"ANGULAR": 0.15, "DOTTED": 0.15},
    negatives.__name__: {
        "ANGULAR_NEGATIVES": 0.25,
        "NEVER_TALL": frozenset({"square"}),
        "TOUCHING_PAIRS": 0.3,
        "SQUEEZED_PAIRS": 0.5,
    },
}
# MNIST training digits from this index on are held out to choose the threshold.
HELD_OUT_FROM = 50_000
# How the held-out digits are drawn (as people draw on the canvas): (pen px, tilt deg, bend).
CALIBRATION_DRAWING = (
    ((18, 18), (0, 0), (0, 0)),
    ((6, 32), (0, 0), (0, 0)),
    ((18, 18), (-15, 15), (0, 0)),
    ((18, 18), (0, 0), (1.0, 2.5)),
)


@dataclass(frozen=True)
class TrainingSettings:
    """How the refusal model is trained (all recorded beside it)."""

    # Every MNIST training digit not held out is a digit here, once: the more writers the
    # judge has seen, the fewer real digits by new writers it refuses.
    digits: int = 40_000  # MNIST training digits, redrawn with pens
    plain_digits: int = 10_000  # MNIST training digits as they are
    font_digits: int = 5_000  # digits in the ordinary fonts, drawn as the font negatives are
    negatives: int = 40_000  # generated non-digits
    epochs: int = 6
    batch_size: int = 128
    learning_rate: float = 2e-3
    calibration_digits: int = 2_000  # held-out digits drawn on a canvas, for the threshold
    calibration_negatives: int = 2_000  # held-out non-digits, to report the refusal rate
    seed: int = 0  # draws the data; member i is trained from seed + i (`member_seeds`)
    members: int = 3  # networks averaged into the one saved model


def member_seeds(config: TrainingSettings) -> list[int]:
    """The seed each ensemble member is initialised and shuffled from: `seed`, `seed + 1`, ..."""
    if config.members < 1:
        raise ValueError(f"an ensemble needs at least one member, not {config.members}")
    return [config.seed + i for i in range(config.members)]


def build_model(name: str = "not_digit") -> keras.Model:
    """One member: Conv16-Pool-Conv32-Pool-Conv64-Pool-Dense64-Dense1, about 60,000 weights."""
    return keras.Sequential(
        [
            keras.Input(shape=(MNIST_SIZE, MNIST_SIZE, 1)),
            layers.Conv2D(16, 3, activation="relu", padding="same"),
            layers.MaxPooling2D(),
            layers.Conv2D(32, 3, activation="relu", padding="same"),
            layers.MaxPooling2D(),
            layers.Conv2D(64, 3, activation="relu", padding="same"),
            layers.MaxPooling2D(),
            layers.Flatten(),
            layers.Dense(64, activation="relu"),
            layers.Dropout(0.3),
            layers.Dense(1, activation="sigmoid", name="not_a_digit"),
        ],
        name=name,
    )


def build_ensemble(members: Sequence[keras.Model]) -> keras.Model:
    """One model whose score is the mean of `members`' scores: Input -> each member -> Average.

    Saved and loaded as one `.keras` file, so whatever reads the refusal model
    (`NotDigitModel.load`) needs no change. The members need distinct names.
    """
    image = keras.Input(shape=(MNIST_SIZE, MNIST_SIZE, 1), name="image")
    scores = [member(image) for member in members]
    return keras.Model(image, layers.Average(name="mean_score")(scores), name="not_digit")


def drawn_digits(digits: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """MNIST digits drawn on the canvas as people draw (pens, tilts, sloppy strokes), 28x28.

    Each digit gets one of the `CALIBRATION_DRAWING` styles in turn.
    """
    images = np.empty((len(digits), MNIST_SIZE, MNIST_SIZE), np.float32)
    for i, digit in enumerate(digits):
        pen, tilt, bend = CALIBRATION_DRAWING[i % len(CALIBRATION_DRAWING)]
        height, top, left = synthetic.random_placement(rng)
        ink = synthetic.redraw_digit(
            digit,
            height,
            top,
            left,
            pen=rng.uniform(*pen),
            rotation=rng.uniform(*tilt),
            wobble=rng.uniform(*bend),
            rng=rng,
        )
        images[i] = to_mnist(ink)
    return images


def sketched_digits(
    digits: np.ndarray, rng: np.random.Generator, labels: np.ndarray | None = None
) -> list[np.ndarray]:
    """MNIST digits redrawn small, as `negatives` draws for training: pens, tilts, bends.

    Returns each digit's ink on a `negatives.TRAINING_CANVAS` px canvas, so the digits and
    the non-digits reach `to_mnist` drawn the same way and only their shapes tell them apart.
    A share `RESTYLED` of them is also made narrower or wider and may tilt further, and with
    `labels`, a share `SLASHED` of the 0s is slashed and a share `DOTTED` dotted. A share
    `ANGULAR` is drawn with straight strokes, those with square corners narrower.
    """
    size = negatives.TRAINING_CANVAS
    inks = []
    for i, digit in enumerate(digits):
        if labels is not None and labels[i] == 0:
            mark = rng.random()
            if mark < SLASHED:
                digit = synthetic.add_slash(digit / 255.0, rng) * 255.0
            elif mark < SLASHED + DOTTED:
                digit = synthetic.add_dot(digit / 255.0, rng) * 255.0
        height, top, left = synthetic.random_placement(rng, round(0.75 * size), size, size)
        stretch, tilt = 1.0, 15.0
        if rng.random() < RESTYLED:
            stretch, tilt = float(np.exp(rng.uniform(*np.log(STRETCH)))), WIDE_TILT
            height = round(height / max(stretch, 1.0))  # a wide digit stays on the canvas
        low, high = np.log(negatives.PEN_RATIO) + np.log(height * 5 / 7)
        pen = max(1.0, float(np.exp(rng.uniform(low, high))))
        rotation, wobble = rng.uniform(-tilt, tilt), rng.uniform(0, 2.5)
        straighten, square = 0.0, False
        if ANGULAR and rng.random() < ANGULAR:  # no draw when off: the data as before
            straighten, square = strokes.straight_style(rng)
            stretch *= SQUARE_NARROW if square else 1.0
        # A faint stroke narrowed, or squared, may leave nothing to trace: then drawn plainer.
        tries = [(stretch, straighten, square), (1.0, straighten, square), (1.0, 0.0, False)]
        for width, straight, boxy in tries:
            ink = synthetic.redraw_digit(
                digit,
                height,
                top,
                left,
                pen=pen,
                canvas=size,
                rotation=rotation,
                wobble=wobble,
                stretch=width,
                straighten=straight,
                square=boxy,
                rng=rng,
            )
            if ink.max() > INK_THRESHOLD:
                break
        inks.append(ink)
    return inks


def font_digits(
    count: int, rng: np.random.Generator, fonts: Sequence[str] | None = None
) -> list[np.ndarray]:
    """`count` random digits in `fonts` (default `negatives.training_fonts()`): inks.

    Drawn small, tilted and bent like the letters of `negatives.training_negatives`, most
    of them traced and redrawn with an even pen, so a font's look alone says nothing.
    """
    fonts = list(negatives.training_fonts() if fonts is None else fonts)
    return [
        negatives.draw_glyph(
            str(rng.integers(10)),
            fonts[int(rng.integers(len(fonts)))],
            rng,
            negatives.TRAINING_CANVAS,
            scale=negatives.TRAINING_SCALE,
            redraw=rng.random() < 0.7,
        )
        for _ in range(count)
    ]


def training_data(
    x_train: np.ndarray, y_train: np.ndarray, config: TrainingSettings
) -> tuple[np.ndarray, np.ndarray, dict[str, int]]:
    """Images (N, 28, 28, 1) and labels (1 = not a digit), shuffled, plus counts by kind.

    Digits: MNIST training digits redrawn with pens (`sketched_digits`) and as they are, and
    digits in fonts (`font_digits`).
    Non-digits: `negatives.training_negatives`, its pairs made of the same two kinds of digit
    and its turned digits of the redrawn ones (but 0s and 8s, which stay digits on their side).
    """
    rng = np.random.default_rng(config.seed)
    pool = x_train[:HELD_OUT_FROM]
    chosen = rng.choice(len(pool), config.digits + config.plain_digits, replace=False)
    labels_of = y_train[chosen[: config.digits]]
    drawn = sketched_digits(pool[chosen[: config.digits]], rng, labels_of)
    plain = list(pool[chosen[config.digits :]])
    written = font_digits(config.font_digits, rng)
    digits = np.stack([to_mnist(ink) for ink in drawn + plain + written])
    turnable = [ink for ink, y in zip(drawn, labels_of, strict=True) if y not in (0, 8)]
    bad, kinds = negatives.training_negatives(
        config.negatives, rng, drawn + plain, turnable=turnable
    )
    images = np.concatenate([digits, bad])
    labels = np.concatenate([np.zeros(len(digits)), np.ones(len(bad))]).astype(np.float32)
    order = rng.permutation(len(images))
    counts = {str(k): int(n) for k, n in zip(*np.unique(kinds, return_counts=True), strict=True)}
    return images[order, ..., None], labels[order], counts


@contextmanager
def polishing_kinds() -> Iterator[None]:
    """Within it, training data is drawn with `POLISH_KINDS` on; after it, as before."""
    saved = {
        name: {key: getattr(sys.modules[name], key) for key in kinds}
        for name, kinds in POLISH_KINDS.items()
    }
    try:
        for name, kinds in POLISH_KINDS.items():
            for key, value in kinds.items():
                setattr(sys.modules[name], key, value)
        yield
    finally:
        for name, kinds in saved.items():
            for key, value in kinds.items():
                setattr(sys.modules[name], key, value)


def train_member(
    images: np.ndarray,
    labels: np.ndarray,
    seed: int,
    config: TrainingSettings,
    *,
    verbose: int,
    start: keras.Model | None = None,
) -> keras.Model:
    """One member trained on the shared data, its initial weights and batch order from `seed`;
    from `start`'s weights (a member of a trained judge) when given."""
    keras.utils.set_random_seed(seed)
    model = build_model()
    if start is not None:
        model.set_weights(start.get_weights())
    model.compile(
        optimizer=keras.optimizers.Adam(config.learning_rate),
        loss="binary_crossentropy",
        metrics=["accuracy"] if start is None else [],  # a polish's targets are also scores
    )
    model.fit(images, labels, batch_size=config.batch_size, epochs=config.epochs, verbose=verbose)
    return model


def train(
    out: str | os.PathLike[str] = DEFAULT_PATH,
    config: TrainingSettings = TrainingSettings(),
    *,
    verbose: int = 2,
    force: bool = False,
    init: NotDigitModel | None = None,
) -> NotDigitModel:
    """Train the ensemble, choose its threshold on held-out drawings, and save both.

    The training data is drawn once and shared by all members (`member_seeds`). An existing
    model at `out` is refused before any training (`train.ModelExistsError`) unless `force`.
    With `init` (a trained judge of `config.members` members), its members go on learning
    from their weights instead of from scratch (`polish`): from data drawn with
    `polishing_kinds`, and from the data drawn without them, scored by the member itself.
    """
    check_writable(Path(out), force=force)
    seeds = member_seeds(config)
    starts = _members_of(init, config.members) if init is not None else [None] * len(seeds)
    started = time.perf_counter()
    (x_train, y_train), _ = load_mnist()
    keras.utils.set_random_seed(config.seed)
    with polishing_kinds() if init is not None else nullcontext():
        images, labels, kinds = training_data(x_train, y_train, config)
    anchor = training_data(x_train, y_train, config)[0] if init is not None else images[:0]
    prepared = time.perf_counter() - started
    if verbose:
        print(f"drew {len(images) + len(anchor):,} training images in {prepared:.0f} s", flush=True)
    members = []
    for index, seed in enumerate(seeds):
        if verbose:
            print(f"member {index + 1} of {len(seeds)} (seed {seed})", flush=True)
        start = starts[index]
        x, y = images, labels
        if start is not None:  # its own verdicts on the data it was trained on, kept
            own = start.predict(anchor, batch_size=1024, verbose=0)[:, 0].astype(np.float32)
            x, y = np.concatenate([images, anchor]), np.concatenate([labels, own])
        trained = train_member(x, y, seed, config, verbose=verbose, start=start)
        member = build_model(f"member_{index}")  # the weights alone: no optimiser state
        member.set_weights(trained.get_weights())
        members.append(member)
    trained_at = time.perf_counter()
    ensemble = build_ensemble(members)
    # The threshold: held-out MNIST digits drawn on a canvas, and fresh non-digits to report.
    rng = np.random.default_rng(config.seed + 1)
    held_out = drawn_digits(x_train[HELD_OUT_FROM:][: config.calibration_digits], rng)
    bad, _ = negatives.training_negatives(
        config.calibration_negatives, rng, list(x_train[HELD_OUT_FROM:])
    )
    threshold, digits_refused, negatives_refused = _calibrate(ensemble, held_out, bad)
    alone = []  # each member on its own, with its own threshold chosen the same way
    for seed, member in zip(seeds, members, strict=True):
        _, _, member_refused = _calibrate(member, held_out, bad)
        alone.append({"seed": seed, "held_out_negatives_refused_alone": member_refused})
    record = {
        "threshold": threshold,
        "held_out_digits_refused": digits_refused,
        "held_out_negatives_refused": negatives_refused,
        "members": alone,
        "training": vars(config) | {"negatives_by_kind": kinds},
        "fonts": [Path(f).name for f in negatives.training_fonts()],
        "parameters": int(ensemble.count_params()),
        "seconds": {
            "data": round(prepared, 1),
            "training": round(trained_at - started - prepared, 1),
            "total": round(time.perf_counter() - started, 1),
        },
        "cpu": cpu_description(),
        "command": (
            f"{TRAIN_COMMAND} --seed {config.seed} --epochs {config.epochs} "
            f"--members {config.members}"
            if init is None
            else f"{POLISH_COMMAND} --seed {config.seed}"
        ),
        "versions": library_versions(),
    }
    if init is not None:  # what it was polished from, as that judge's record told it
        record["polished_from"] = {
            key: init.metadata[key] for key in ("command", "polished_from") if key in init.metadata
        }
        record["polish_kinds"] = {
            f"{name}.{key}": sorted(value) if isinstance(value, frozenset) else value
            for name, kinds in POLISH_KINDS.items()
            for key, value in kinds.items()
        }
        record["own_verdicts_kept_on"] = len(anchor)
    save_model(ensemble, out, record, force=force)
    return NotDigitModel(ensemble, threshold, record)


def polish(
    init: NotDigitModel,
    out: str | os.PathLike[str] = DEFAULT_PATH,
    config: TrainingSettings = TrainingSettings(),
    *,
    verbose: int = 2,
    force: bool = False,
) -> NotDigitModel:
    """`init`'s members trained `POLISH_EPOCHS` more at `POLISH_LEARNING_RATE` on data drawn
    as `config` says (its epochs, rate and members aside) with `POLISH_KINDS` on, and on the
    data drawn without them with their own scores as targets; the threshold chosen again,
    saved at `out` (`train`)."""
    config = replace(
        config,
        epochs=POLISH_EPOCHS,
        learning_rate=POLISH_LEARNING_RATE,
        members=len(_members_of(init)),
    )
    return train(out, config, verbose=verbose, force=force, init=init)


def _members_of(judge: NotDigitModel, count: int | None = None) -> list[keras.Model]:
    """The member networks of a judge `build_ensemble` made, in order; `count` of them."""
    members = []
    while True:
        try:
            members.append(judge.model.get_layer(f"member_{len(members)}"))
        except ValueError:
            break
    if not members or (count is not None and len(members) != count):
        raise ValueError(
            f"the judge to go on from has {len(members)} member networks"
            + (f", not the {count} asked for" if count is not None else "")
            + "; give one that python -m digitrec.refusal_training train made"
        )
    return members


def _calibrate(
    model: keras.Model, digits: np.ndarray, bad: np.ndarray
) -> tuple[float, float, float]:
    """The threshold refusing `DIGIT_REFUSAL` of `digits`, and the shares of both refused."""
    scorer = NotDigitModel(model, 0.5)
    digit_scores = scorer.score(digits)
    threshold = float(np.quantile(digit_scores, 1.0 - DIGIT_REFUSAL))
    return (
        threshold,
        float(np.mean(digit_scores > threshold)),
        float(np.mean(scorer.score(bad) > threshold)),
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = command_line.ArgumentParser(
        prog="python -m digitrec.refusal_training", description=__doc__
    )
    commands = parser.add_subparsers(dest="command", required=True)
    trainer = commands.add_parser("train", help="train the refusal model and its threshold")
    trainer.add_argument("--out", type=Path, default=DEFAULT_PATH)
    trainer.add_argument("--seed", type=int, default=0)
    trainer.add_argument("--epochs", type=int, default=TrainingSettings.epochs)
    trainer.add_argument(
        "--members",
        type=int,
        default=TrainingSettings.members,
        help="networks trained from seeds seed, seed+1, ... and averaged into one model",
    )
    trainer.add_argument(
        "--force",
        action="store_true",
        help="replace an existing model (the default --out is the judge shipped in the package)",
    )
    polisher = commands.add_parser(
        "polish", help="go on training a trained judge a little, and choose its threshold again"
    )
    polisher.add_argument(
        "--init", type=Path, default=DEFAULT_PATH, help="the judge to go on from (default: shipped)"
    )
    polisher.add_argument("--out", type=Path, default=DEFAULT_PATH)
    polisher.add_argument("--seed", type=int, default=0, help="draws the data")
    polisher.add_argument(
        "--force",
        action="store_true",
        help="replace an existing model (the default --out is the judge shipped in the package)",
    )
    args = parser.parse_args(argv)
    for option in ("members", "epochs"):
        if getattr(args, option, 1) < 1:
            parser.error(f"--{option} must be at least 1")
    if args.seed < 0:
        parser.error("--seed must be 0 or more")
    try:
        if args.command == "polish":
            init = NotDigitModel.load(args.init)
            refusal = polish(init, args.out, TrainingSettings(seed=args.seed), force=args.force)
        else:
            config = TrainingSettings(seed=args.seed, epochs=args.epochs, members=args.members)
            refusal = train(args.out, config, force=args.force)
    except (ValueError, OSError, DatasetError, RefusalModelError) as exc:  # a model there, no
        parser.exit(2, f"{parser.prog}: {exc}\n")  # .keras, no MNIST, no judge to go on from
    except KeyboardInterrupt:
        parser.exit(130, f"\ninterrupted: nothing was written; {args.out} is unchanged\n")
    record = refusal.metadata
    print(
        f"saved {args.out}: threshold {refusal.threshold:.4f}, held-out drawn digits refused "
        f"{record['held_out_digits_refused']:.2%}, held-out non-digits refused "
        f"{record['held_out_negatives_refused']:.2%}, {record['seconds']['total']:.0f} s"
    )


if __name__ == "__main__":
    main()
