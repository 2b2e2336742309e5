"""Where a training step of the improved CNN spends its time: layers, augmentation, whole step.

Three measurements, each a median over rounds in which the variants take turns:

- per layer: the forward and backward pass of each layer alone, on inputs of the shape it
  sees in the model, in each precision;
- the augmentation of one batch alone (`digitrec.augment.augmenter`, called directly), and
  the model's training step alone on cached batches;
- the two together, as `digitrec.train` runs them: the pipeline then competes with the model
  for the same cores.

Each figure is given twice: wall-clock time, and the process's CPU time divided by the
number of cores, which other work on a shared machine disturbs much less (it is what the
wall-clock time would be if every core were busy with this work alone).

Run: `python bench/train_profile.py [--arch improved] [--batch 256] [--rounds 5]`.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable

# Time training as the training commands run it: with TensorFlow's oneDNN kernels, which
# must be chosen before TensorFlow starts (see digitrec/__init__.py).
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")

# isort: split
import keras
import numpy as np
import tensorflow as tf
from command_line import ArgumentParser, count, run

from digitrec import augment, data
from digitrec.model import ARCHITECTURES, build_model
from digitrec.train import cpu_description, dtype_policy

CORES = os.cpu_count() or 1


def interleaved(
    tasks: dict[str, Callable[[], None]], rounds: int, repeats: int
) -> dict[str, tuple[float, float]]:
    """(wall ms, CPU ms / cores) per call of each task: medians, the tasks taking turns."""
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in tasks}
    for task in tasks.values():  # warm up: trace and allocate
        task()
    for _ in range(rounds):
        for name, task in tasks.items():
            wall, cpu = time.perf_counter(), time.process_time()
            for _ in range(repeats):
                task()
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            times[name].append((wall / repeats * 1000, cpu / repeats / CORES * 1000))
    return {
        name: (statistics.median(w for w, _ in values), statistics.median(c for _, c in values))
        for name, values in times.items()
    }


def layer_tasks(model: keras.Model, batch: int) -> dict[str, Callable[[], None]]:
    """One task per layer that does work: its forward and backward pass, alone."""
    tasks = {}
    for layer in model.layers:
        if isinstance(layer, keras.layers.Dropout):
            continue
        x = tf.random.uniform((batch, *layer.input.shape[1:]), dtype=layer.compute_dtype)

        @tf.function
        def step(x=x, layer=layer):
            with tf.GradientTape() as tape:
                tape.watch(x)
                loss = tf.reduce_sum(tf.cast(layer(x, training=True), tf.float32))
            return tape.gradient(loss, [x, *layer.trainable_variables])

        tasks[layer.name] = step
    return tasks


def show(title: str, times: dict[str, tuple[float, float]], batch: int | None = None) -> None:
    print(f"\n{title}")
    print(f"  {'':<44} {'wall ms':>8} {'CPU/core':>9}" + ("  s/epoch" if batch else ""))
    for name, (wall, cpu) in times.items():
        epoch = f" {cpu * 60_000 / batch / 1000:>8.1f}" if batch else ""
        print(f"  {name:<44} {wall:>8.1f} {cpu:>9.1f}{epoch}")


def main() -> None:
    parser = ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", choices=sorted(ARCHITECTURES), default="improved")
    parser.add_argument("--batch", type=count, default=256)
    parser.add_argument("--rounds", type=count, default=5)
    parser.add_argument("--steps", type=count, default=5, help="calls per task and round")
    precisions = ["float32", "mixed_bfloat16"]
    parser.add_argument("--precision", nargs="*", choices=precisions, default=precisions)
    parser.add_argument("--no-layers", action="store_true", help="skip the per-layer table")
    args = parser.parse_args()
    print(cpu_description(), f"| load {os.getloadavg()[0]:.2f}")

    (x_train, y_train), _ = data.load_mnist()
    x_train, y_train = x_train[:6_000], y_train[:6_000]
    scaled = data.scale_images(x_train)
    started = time.perf_counter()
    distances = augment.centre_line_distances(x_train)
    per_digit = (time.perf_counter() - started) / len(x_train)
    print(f"centre lines: {per_digit * 1e3:.2f} ms a digit, {per_digit * 60_000:.0f} s for MNIST")

    if not args.no_layers:
        for precision in args.precision:
            with dtype_policy(precision):
                model = build_model(args.arch)
            times = interleaved(layer_tasks(model, args.batch), args.rounds, args.steps)
            times["sum"] = tuple(sum(t[i] for t in times.values()) for i in (0, 1))
            show(f"per layer, forward + backward, {precision}, batch {args.batch}", times)

    augment_batch = tf.function(augment.augmenter())
    batch = [tf.constant(a[: args.batch]) for a in (scaled, y_train, distances)]
    rng = np.random.default_rng(0)
    x = rng.random((args.batch * 4, 28, 28, 1), dtype=np.float32)
    cached = tf.data.Dataset.from_tensor_slices((x, rng.integers(0, 10, len(x))))
    cached = cached.batch(args.batch).take(4).cache().repeat()
    augmented = augment.training_dataset(scaled, y_train, args.batch, distances=distances)
    tasks: dict[str, Callable[[], None]] = {
        "augmenting a batch, alone": lambda: augment_batch(*batch)
    }
    for precision in args.precision:
        with dtype_policy(precision):
            model = build_model(args.arch)
        for label, dataset in (("cached batches", cached), ("augmented", augmented.repeat())):
            # One iterator per task, as `digitrec.train` keeps one for the whole run.
            iterator = iter(dataset)
            tasks[f"train step, {precision}, {label}"] = lambda m=model, i=iterator: (
                m.train_on_batch(*next(i))
            )
    times = interleaved(tasks, args.rounds, args.steps)
    show(f"batch {args.batch}, median of {args.rounds} rounds of {args.steps}", times, args.batch)
    print(f"load {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    run(main)
