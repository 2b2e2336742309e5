"""Accuracy on MNIST test digits redrawn the way a person draws them on a 280x280 canvas.

Each digit's centre line is drawn with a round pen of fixed width (18 px, whatever the
digit's size) at a random size and position, then read in each drawing convention through
`to_mnist` + `Predictor`. Naive whole-canvas resizing is measured beside it for contrast.

Run: `python bench/drawn_digits.py [--model models/cnn.keras] [--n 10000]`.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from digitrec import synthetic
from digitrec.data import load_mnist, take_subset
from digitrec.predict import Predictor
from digitrec.preprocess import naive_resize, to_mnist


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="default: models/cnn.keras")
    parser.add_argument("--n", type=int, default=10_000, help="test digits to redraw")
    parser.add_argument("--pen", type=float, default=synthetic.PEN)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", default=None, help="also write the results here")
    args = parser.parse_args()

    predictor = Predictor.load(args.model)
    (_, _), (x_test, y_test) = load_mnist()
    digits, labels = take_subset(x_test, y_test, args.n, seed=args.seed)
    rng = np.random.default_rng(args.seed)

    started = time.perf_counter()
    placements = [synthetic.random_placement(rng) for _ in digits]
    inks = [
        synthetic.redraw_digit(d, *at, pen=args.pen)
        for d, at in zip(digits, placements, strict=True)
    ]
    heights = np.array([at[0] for at in placements])
    small = heights <= np.percentile(heights, 33)
    draw_seconds = time.perf_counter() - started

    rows = [("MNIST test digits as they are", "-", predictor.predict_arrays(digits / 255.0))]
    for convention in synthetic.CONVENTIONS:
        drawings = [synthetic.render(ink, convention) for ink in inks]
        prepared = np.stack([to_mnist(d) for d in drawings])
        naive = np.stack([naive_resize(d) for d in drawings])
        rows.append((f"drawn, {convention}", "to_mnist", predictor.predict_arrays(prepared)))
        rows.append((f"drawn, {convention}", "naive resize", predictor.predict_arrays(naive)))

    meta = predictor.metadata
    print(
        f"model {predictor.name} ({meta.get('arch', '?')}, MNIST test accuracy "
        f"{meta.get('test_accuracy', float('nan')):.2%}); {len(digits)} digits, pen "
        f"{args.pen:g} px, ink about {heights.min() * 5 // 7}-{heights.max() * 5 // 7} px tall "
        f"on 280x280; drawing took {draw_seconds:.0f} s"
    )
    print(f"{'input':<32} {'preprocessing':<14} {'accuracy':>9} {'smallest third':>15}")
    results = []
    for name, method, probabilities in rows:
        correct = probabilities.argmax(axis=1) == labels
        accuracy, on_small = float(correct.mean()), float(correct[small].mean())
        results.append(
            {"input": name, "preprocessing": method, "accuracy": accuracy, "small": on_small}
        )
        print(f"{name:<32} {method:<14} {accuracy:>9.2%} {on_small:>15.2%}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"model": predictor.name, "n": len(digits), "rows": results}, fh, indent=2)


if __name__ == "__main__":
    main()
