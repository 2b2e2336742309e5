"""Training speed on this machine: the seed CNN's time to 99.0 %, the recommended recipe's time.

The seed CNN trains by the course's original recipe, `digitrec.train.RECIPES["classic"]`,
and by `RECIPES["fast"]`; after every epoch the full test set is scored, and that time is
left out, so the figures are training time only. `--recommended` also times a training step
of the recommended model in each precision and trains it by its recipe (many minutes).

Times are wall-clock and, in brackets, the process's CPU time divided by the number of
cores: on a machine shared with other work the second is what an idle machine would take.

Run: `python bench/train_speed.py [--target 0.99] [--rounds 1] [--recipes fast] [--recommended]`.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import time

# Time training as the training commands run it: with TensorFlow's oneDNN kernels, which
# must be chosen before TensorFlow starts (see digitrec/__init__.py).
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")

# isort: split
import keras
from command_line import ArgumentParser, count, finite, run

from digitrec.data import load_mnist, scale_images
from digitrec.train import (
    RECIPES,
    RECOMMENDED,
    choose_precision,
    cpu_description,
    precision_step_times,
    train,
)

CORES = os.cpu_count() or 1


class TimeToTarget(keras.callbacks.Callback):
    """Scores the test set after each epoch and notes when `target` was first reached."""

    def __init__(self, x_test, y_test, target: float):
        super().__init__()
        self.x_test, self.y_test, self.target = x_test, y_test, target

    def on_train_begin(self, logs=None):
        self.started, self.cpu_started = time.perf_counter(), time.process_time()
        self.scoring = self.cpu_scoring = 0.0
        self.reached: tuple[float, float] | None = None
        self.accuracies: list[float] = []

    def elapsed(self) -> tuple[float, float]:
        """(wall seconds, CPU seconds per core) of training so far, scoring left out."""
        wall = time.perf_counter() - self.started - self.scoring
        cpu = time.process_time() - self.cpu_started - self.cpu_scoring
        return wall, cpu / CORES

    def on_epoch_end(self, epoch, logs=None):
        begin, cpu_begin = time.perf_counter(), time.process_time()
        now = self.elapsed()
        accuracy = self.model.evaluate(self.x_test, self.y_test, batch_size=1024, verbose=0)[1]
        self.accuracies.append(accuracy)
        if self.reached is None and accuracy >= self.target:
            self.reached = now
        self.scoring += time.perf_counter() - begin
        self.cpu_scoring += time.process_time() - cpu_begin

    def on_train_end(self, logs=None):
        self.total = self.elapsed()


def seconds(times: tuple[float, float] | None) -> str:
    return "never" if times is None else f"{times[0]:.1f} s ({times[1]:.1f} s)"


def report_precision(name: str) -> None:
    """Say what `--precision auto` chose for recipe `name`, and why (the probe is cached)."""
    recipe = RECIPES[name]
    if recipe.precision == "auto":
        choice = choose_precision(recipe.arch, recipe.batch_size)
        print(f"{name}: precision auto trains in {choice.policy} ({choice.reason})", flush=True)


def seed_cnn(args: argparse.Namespace, x_test, y_test) -> None:
    results: dict[str, list[TimeToTarget]] = {name: [] for name in args.recipes}
    for name in args.recipes:
        report_precision(name)
    for round_ in range(args.rounds):
        for name in results:  # interleaved, so machine noise hits both alike
            watch = TimeToTarget(x_test, y_test, args.target)
            recipe = dataclasses.replace(RECIPES[name], seed=round_)
            train(recipe, verbose=0, callbacks=[watch])
            results[name].append(watch)
            print(
                f"round {round_ + 1} {name:<8} reached {args.target:.1%} after "
                f"{seconds(watch.reached)}; {len(watch.accuracies)} epochs in "
                f"{seconds(watch.total)}, final {watch.accuracies[-1]:.2%} (per epoch: "
                + ", ".join(f"{a:.2%}" for a in watch.accuracies)
                + f"), load {os.getloadavg()[0]:.1f}",
                flush=True,
            )

    print(f"\n{'recipe':<8} {'settings':<54} {'to target':>18} {'whole run':>18} {'final':>7}")
    for name, watches in results.items():
        r = RECIPES[name]
        setting = f"batch {r.batch_size}, peak lr {r.learning_rate:g}, {r.schedule}, {r.epochs} ep"
        if all(w.reached is not None for w in watches):
            hit = tuple(statistics.median(w.reached[i] for w in watches) for i in (0, 1))
        else:
            hit = None
        total = tuple(statistics.median(w.total[i] for w in watches) for i in (0, 1))
        final = statistics.median(w.accuracies[-1] for w in watches)
        print(f"{name:<8} {setting:<54} {seconds(hit):>18} {seconds(total):>18} {final:>7.2%}")


def recommended() -> None:
    recipe = RECIPES[RECOMMENDED]
    step = precision_step_times(recipe.arch, recipe.batch_size, steps=20)
    print(
        f"\nrecommended recipe {recipe.name!r}: CPU time of a training step of {recipe.arch} "
        f"at batch {recipe.batch_size}: "
        + ", ".join(f"{policy} {s * 1000:.1f} ms" for policy, s in step.items())
        + f" (median of 20, all threads; load {os.getloadavg()[0]:.1f})"
    )
    report_precision(RECOMMENDED)
    started, cpu_started = time.perf_counter(), time.process_time()
    result = train(recipe, verbose=2)
    wall, cpu = time.perf_counter() - started, (time.process_time() - cpu_started) / CORES
    print(
        f"recommended recipe: test accuracy {result.record['test_accuracy']:.2%} in "
        f"{wall / 60:.1f} min ({cpu / 60:.1f} min CPU per core), trained in "
        f"{result.record['dtype_policy']}, load {os.getloadavg()[0]:.1f}"
    )


def main() -> None:
    parser = ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", type=finite, default=0.99)
    parser.add_argument("--rounds", type=count, default=1, help="runs of each seed-CNN recipe")
    parser.add_argument(
        "--recipes",
        nargs="+",
        choices=("classic", "fast"),
        default=["classic", "fast"],
        help="the seed-CNN recipes to time",
    )
    parser.add_argument("--recommended", action="store_true", help="also the recommended recipe")
    args = parser.parse_args()
    if not 0.0 < args.target < 1.0:
        parser.error(f"--target must be an accuracy between 0 and 1, got {args.target}")
    print(f"{cpu_description()}; load {os.getloadavg()[0]:.1f}")
    print("times: wall clock (CPU time per core)")
    (_, _), (x_test, y_test) = load_mnist()
    x_test = scale_images(x_test)
    seed_cnn(args, x_test, y_test)
    if args.recommended:
        recommended()


if __name__ == "__main__":
    run(main)
