"""Median latency of `Predictor.predict` on one 280x280 RGBA drawing, beside `model.predict`.

All paths get the same drawing and the same model in one run, interleaved round by round
so machine noise hits them alike. "turned" reads the drawing as the web app does: as drawn
and turned by `READ_TURNS`, averaged (three images in one forward pass).
Run: `python bench/predict_latency.py [--rounds 300]`.
"""

from __future__ import annotations

import statistics
import time

import numpy as np
from command_line import ArgumentParser, count, run

from digitrec import synthetic
from digitrec.constants import CANVAS_SIZE
from digitrec.data import DatasetError, load_mnist
from digitrec.predict import READ_TURNS, ModelLoadError, ModelNotFoundError, Predictor
from digitrec.preprocess import to_mnist


def main() -> None:
    parser = ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--model",
        default=None,
        help="default: the model the app reads (models/cnn.keras, else the shipped one)",
    )
    parser.add_argument("--rounds", type=count, default=300)
    args = parser.parse_args()

    try:
        predictor = Predictor.load(args.model)
        (_, _), (x_test, _) = load_mnist()
    except (ModelNotFoundError, ModelLoadError, DatasetError) as error:
        raise SystemExit(f"predict_latency: {error}") from None
    ink = synthetic.redraw_digit(x_test[0], height=200, top=40, left=40)
    drawing = synthetic.render(ink, synthetic.INK_IN_ALPHA)

    def naive() -> int:  # the same preprocessing, then Keras's general-purpose predict()
        probs = predictor.model.predict(to_mnist(drawing)[None, ..., None], verbose=0)
        return int(np.argmax(probs))

    def fast() -> int:
        return predictor.predict(drawing).digit

    turned = Predictor(predictor.model, turns=READ_TURNS)

    def fast_turned() -> int:
        return turned.predict(drawing).digit

    def preprocess_only() -> None:
        to_mnist(drawing)

    paths = {
        "Predictor.predict": fast,
        "  ... turned": fast_turned,
        "model.predict": naive,
        "to_mnist alone": preprocess_only,
    }
    for fn in paths.values():  # warm-up: tracing, first-call allocations
        for _ in range(5):
            fn()
    times: dict[str, list[float]] = {name: [] for name in paths}
    for _ in range(args.rounds):
        for name, fn in paths.items():
            started = time.perf_counter()
            fn()
            times[name].append((time.perf_counter() - started) * 1000)
    assert fast() == naive(), "the two paths disagree"

    medians = {name: statistics.median(ts) for name, ts in times.items()}
    print(f"one {CANVAS_SIZE}x{CANVAS_SIZE} RGBA drawing, {args.rounds} interleaved rounds")
    print(f"{'path':<20} {'median ms':>10} {'p90 ms':>8}")
    for name, ts in times.items():
        p90 = float(np.percentile(ts, 90))
        print(f"{name:<20} {medians[name]:>10.2f} {p90:>8.2f}")
    ratio = medians["model.predict"] / medians["Predictor.predict"]
    print(f"Predictor.predict is {ratio:.1f}x faster than model.predict (median)")


if __name__ == "__main__":
    run(main)
