"""Time for the seed CNN to reach a test accuracy (default 99.0 %): old recipe vs new.

The old recipe is the course's original, `digitrec.train.RECIPES["classic"]`; the new one
is `RECIPES["fast"]`. After every epoch the full test set is scored; that time
is left out, so the figures are training time only.

Run: `python bench/train_speed.py [--target 0.99] [--rounds 1]`.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import time

import keras

from digitrec.data import load_mnist, scale_images
from digitrec.train import RECIPES, train


class TimeToTarget(keras.callbacks.Callback):
    """Scores the test set after each epoch and notes when `target` was first reached."""

    def __init__(self, x_test, y_test, target: float):
        super().__init__()
        self.x_test, self.y_test, self.target = x_test, y_test, target

    def on_train_begin(self, logs=None):
        self.started = time.perf_counter()
        self.scoring = 0.0
        self.reached: float | None = None
        self.accuracies: list[float] = []

    def on_epoch_end(self, epoch, logs=None):
        begin = time.perf_counter()
        accuracy = self.model.evaluate(self.x_test, self.y_test, batch_size=1024, verbose=0)[1]
        self.accuracies.append(accuracy)
        if self.reached is None and accuracy >= self.target:
            self.reached = begin - self.started - self.scoring
        self.scoring += time.perf_counter() - begin

    def on_train_end(self, logs=None):
        self.total = time.perf_counter() - self.started - self.scoring


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", type=float, default=0.99)
    parser.add_argument("--rounds", type=int, default=1, help="runs of each recipe")
    args = parser.parse_args()

    (_, _), (x_test, y_test) = load_mnist()
    x_test = scale_images(x_test)
    results: dict[str, list[TimeToTarget]] = {"classic": [], "fast": []}
    for round_ in range(args.rounds):
        for name in results:  # interleaved, so machine noise hits both alike
            watch = TimeToTarget(x_test, y_test, args.target)
            recipe = dataclasses.replace(RECIPES[name], seed=round_)
            train(recipe, verbose=0, callbacks=[watch])
            results[name].append(watch)
            reached = f"{watch.reached:.1f} s" if watch.reached is not None else "never"
            print(
                f"round {round_ + 1} {name:<8} reached {args.target:.1%} after {reached}; "
                f"{len(watch.accuracies)} epochs in {watch.total:.1f} s, final "
                f"{watch.accuracies[-1]:.2%} (per epoch: "
                + ", ".join(f"{a:.2%}" for a in watch.accuracies)
                + ")",
                flush=True,
            )

    print(f"\n{'recipe':<8} {'settings':<58} {'to target':>10} {'whole run':>10} {'final':>7}")
    medians = {}
    for name, watches in results.items():
        r = RECIPES[name]
        setting = f"batch {r.batch_size}, peak lr {r.learning_rate:g}, {r.schedule}, {r.epochs} ep"
        hits = [w.reached for w in watches if w.reached is not None]
        medians[name] = statistics.median(hits) if len(hits) == len(watches) else float("nan")
        total = statistics.median(w.total for w in watches)
        final = statistics.median(w.accuracies[-1] for w in watches)
        print(f"{name:<8} {setting:<58} {medians[name]:>9.1f}s {total:>9.1f}s {final:>7.2%}")
    print(f"time to {args.target:.1%}: fast is {medians['classic'] / medians['fast']:.1f}x quicker")


if __name__ == "__main__":
    main()
