"""Time per training step of the improved CNN: with and without batch norm, float32 and bfloat16.

Why the improved CNN has no `BatchNormalization` and trains in `mixed_bfloat16` where it
can: Keras 3 computes batch norm op by op (no fused kernel), and bfloat16 convolutions run
on the CPU's matrix units. Each variant trains on the same random batches; the variants
take turns, round after round, so the machine's noise hits them alike; medians are shown.

Run: `python bench/train_step.py [--batch 256] [--rounds 5] [--steps 30]`.
"""

from __future__ import annotations

import argparse
import statistics
import time

import keras
import numpy as np
import tensorflow as tf
from keras import layers

from digitrec.model import IMPROVED_FILTERS, build_model, compile_model
from digitrec.train import cpu_has_bfloat16, dtype_policy


def with_batch_norm() -> keras.Model:
    """The improved CNN with every convolution and the dense layer batch-normalised."""

    def conv(filters: int) -> list:
        return [
            layers.Conv2D(filters, 3, padding="same", use_bias=False),
            layers.BatchNormalization(),
            layers.Activation("relu"),
        ]

    first, middle, last = IMPROVED_FILTERS
    model = keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            *conv(first),
            layers.MaxPooling2D(2),
            *conv(middle),
            *conv(middle),
            layers.MaxPooling2D(2),
            layers.Dropout(0.1),
            *conv(last),
            layers.GlobalAveragePooling2D(),
            layers.Dense(128, use_bias=False),
            layers.BatchNormalization(),
            layers.Activation("relu"),
            layers.Dropout(0.3),
            layers.Dense(10, activation="softmax", dtype="float32"),
        ]
    )
    return compile_model(model)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=30, help="steps timed per round")
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    x = rng.random((args.batch * 8, 28, 28, 1), dtype=np.float32)
    y = rng.integers(0, 10, len(x))
    data = tf.data.Dataset.from_tensor_slices((x, y)).batch(args.batch).cache().repeat()
    precisions = ["float32"] + (["mixed_bfloat16"] if cpu_has_bfloat16() else [])
    models = {}
    for precision in precisions:
        with dtype_policy(precision):
            models[f"with batch norm, {precision}"] = with_batch_norm()
            models[f"improved (no batch norm), {precision}"] = build_model("improved")
    for model in models.values():  # build and trace each train step before timing
        model.fit(data, steps_per_epoch=5, epochs=1, verbose=0, shuffle=False)

    times: dict[str, list[float]] = {name: [] for name in models}
    for _ in range(args.rounds):
        for name, model in models.items():
            started = time.perf_counter()
            model.fit(data, steps_per_epoch=args.steps, epochs=1, verbose=0, shuffle=False)
            times[name].append((time.perf_counter() - started) / args.steps)

    base = statistics.median(times["with batch norm, float32"])
    print(f"batch {args.batch}, median of {args.rounds} rounds of {args.steps} steps")
    print(f"{'model, precision':<40} {'ms/step':>8} {'s/epoch':>8} {'speed-up':>9}")
    for name, values in times.items():
        step = statistics.median(values)
        epoch = step * 60_000 / args.batch
        print(f"{name:<40} {step * 1000:>8.1f} {epoch:>8.1f} {base / step:>8.1f}x")


if __name__ == "__main__":
    main()
