"""Time per training step of the improved CNN: with and without batch norm, float32 and bfloat16.

Why the improved CNN has no `BatchNormalization`, and what `--precision auto` weighs: Keras 3
computes batch norm op by op (no fused kernel), and bfloat16 convolutions may or may not run
faster than float32 ones, depending on the CPU. Each variant trains on the same random
batches; the variants take turns, round after round, so the machine's noise hits them alike;
medians are shown, as wall-clock time and as CPU time per core (what an idle machine would
take: the figure to trust when other work shares the machine).

`--onednn` compares TensorFlow's oneDNN CPU kernels off and on (digitrec's training commands
turn them on; on its own TensorFlow uses them only on CPUs with AVX-512 VNNI, bfloat16 or AMX
units): a float32 step of the seed, lean and improved CNNs, timed in child processes that take
turns, since the setting is read once when TensorFlow starts.

`--layers` shows where a float32 step of the improved CNN goes instead: each layer's forward
and backward pass timed alone at the batch's shapes, the augmentation of one batch (redraw,
stroke width, bends and the warp), and the whole step for comparison.

Run: `python bench/train_step.py [--batch 256] [--rounds 5] [--steps 10] [--layers | --onednn]`.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

# Time training as the training commands run it: with TensorFlow's oneDNN kernels, which
# must be chosen before TensorFlow starts (see digitrec/__init__.py).
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")

# isort: split
import keras
import numpy as np
import tensorflow as tf
from command_line import ArgumentParser, count, run
from keras import layers

from digitrec.model import IMPROVED_FILTERS, build_model, compile_model
from digitrec.train import cpu_description, cpu_has_bfloat16, dtype_policy

CORES = os.cpu_count() or 1


def with_batch_norm() -> keras.Model:
    """The improved CNN with every convolution and the dense layer batch-normalised."""

    def normalised(layer: layers.Layer) -> list[layers.Layer]:
        return [layer, layers.BatchNormalization(), layers.Activation("relu")]

    first, middle, last = IMPROVED_FILTERS
    model = keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            *normalised(layers.Conv2D(first, 5, strides=2, padding="same", use_bias=False)),
            *normalised(layers.Conv2D(middle, 3, padding="same", use_bias=False)),
            *normalised(layers.Conv2D(middle, 3, padding="same", use_bias=False)),
            layers.MaxPooling2D(2),
            layers.Dropout(0.1),
            *normalised(layers.Conv2D(last, 3, padding="same", use_bias=False)),
            layers.GlobalAveragePooling2D(),
            *normalised(layers.Dense(128, use_bias=False)),
            layers.Dropout(0.3),
            layers.Dense(10, activation="softmax", dtype="float32"),
        ]
    )
    return compile_model(model)


def layer_step(layer: layers.Layer, shape: tuple[int, ...], batch: int, first: bool):
    """A traced forward and backward pass of a copy of `layer` alone, as it runs in the net."""
    alone = layer.__class__.from_config(layer.get_config())
    net = keras.Sequential([keras.Input(shape), alone])
    x = tf.random.uniform((batch, *shape))

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            tape.watch(x)
            loss = tf.reduce_sum(net(x, training=True))
        # in the net every layer but the first passes the gradient on to the one before it
        sources = net.trainable_variables + ([] if first else [x])
        return tape.gradient(loss, sources) if sources else loss

    return step


def timed(run, rounds: int, steps: int) -> tuple[float, float]:
    """Median (wall, CPU per core) seconds of one call of `run`, over `rounds` of `steps`."""
    run()
    samples = []
    for _ in range(rounds):
        wall, cpu = time.perf_counter(), time.process_time()
        for _ in range(steps):
            run()
        wall, cpu = time.perf_counter() - wall, (time.process_time() - cpu) / CORES
        samples.append((wall / steps, cpu / steps))
    return tuple(statistics.median(s[i] for s in samples) for i in (0, 1))


def where_the_time_goes(args: argparse.Namespace) -> None:
    """Per-layer, augmentation and whole-step times of the improved CNN in float32."""
    from digitrec import augment
    from digitrec.data import load_mnist

    model = build_model("improved")
    rows: list[tuple[str, tuple[float, float]]] = []
    for index, layer in enumerate(model.layers):
        shape = tuple(layer.input.shape[1:])
        out = tuple(layer.output.shape[1:])
        name = f"{layer.name} {'x'.join(map(str, shape))} -> {'x'.join(map(str, out))}"
        rows.append(
            (name, timed(layer_step(layer, shape, args.batch, index == 0), args.rounds, args.steps))
        )
    parts = sum(cpu for _, (_, cpu) in rows)

    (x_train, _), _ = load_mnist()
    images = x_train[: args.batch, :, :, None].astype(np.float32) / 255.0
    distances = tf.constant(augment.centre_line_distances(images))
    images, labels = tf.constant(images), tf.zeros(args.batch, tf.int64)
    transform = tf.function(augment.augmenter(augment.DEFAULT, seed=0))
    augmenting = timed(lambda: transform(images, labels, distances), args.rounds, args.steps)
    y = tf.constant(np.random.default_rng(0).integers(0, 10, args.batch))
    whole = timed(lambda: model.train_on_batch(images, y), args.rounds, args.steps)

    print(f"improved CNN, float32, batch {args.batch}: forward + backward of each layer alone")
    print(f"{'layer, input -> output':<44} {'wall ms':>8} {'CPU/core':>9} {'share':>6}")
    for name, (wall, cpu) in rows:
        print(f"{name:<44} {wall * 1000:>8.1f} {cpu * 1000:>9.1f} {cpu / parts:>6.0%}")
    print(f"{'sum of the layers':<44} {'':>8} {parts * 1000:>9.1f}")
    for name, (wall, cpu) in (
        ("whole training step (train_on_batch)", whole),
        ("augmenting one batch (tf.data map)", augmenting),
    ):
        print(f"{name:<44} {wall * 1000:>8.1f} {cpu * 1000:>9.1f}")
    print(f"load {os.getloadavg()[0]:.1f}")


# The architectures `--onednn` times.
ONEDNN_ARCHS = ("seed", "lean", "improved")


def arch_step_times(args: argparse.Namespace) -> dict[str, tuple[float, float]]:
    """Median (wall, CPU per core) seconds of a float32 training step of each of ONEDNN_ARCHS."""
    rng = np.random.default_rng(0)
    x = tf.constant(rng.random((args.batch, 28, 28, 1), dtype=np.float32))
    y = tf.constant(rng.integers(0, 10, args.batch))
    models = {arch: build_model(arch) for arch in ONEDNN_ARCHS}
    return {
        arch: timed(lambda m=model: m.train_on_batch(x, y), args.rounds, args.steps)
        for arch, model in models.items()
    }


def onednn_off_and_on(args: argparse.Namespace) -> None:
    """Float32 step times with TensorFlow's oneDNN kernels off and on, side by side."""
    samples: dict[str, dict[str, list[tuple[float, float]]]] = {"0": {}, "1": {}}
    child = [sys.executable, __file__, "--arch-times", "--batch", str(args.batch)]
    child += ["--rounds", str(args.rounds), "--steps", str(args.steps)]
    for _ in range(3):  # the two settings take turns, so the machine's noise hits both
        for setting, runs in samples.items():
            env = {**os.environ, "TF_ENABLE_ONEDNN_OPTS": setting}
            out = subprocess.run(child, env=env, capture_output=True, text=True, check=True)
            for arch, times in json.loads(out.stdout.strip().splitlines()[-1]).items():
                runs.setdefault(arch, []).append(tuple(times))
    print(f"float32 training step, batch {args.batch}; median of 3 processes each")
    print(
        f"{'model':<10} {'oneDNN off: wall / CPU ms':>26} {'oneDNN on: wall / CPU ms':>26} "
        f"{'CPU ratio':>10}"
    )
    for arch in ONEDNN_ARCHS:
        off, on = (
            tuple(statistics.median(t[i] for t in samples[s][arch]) * 1000 for i in (0, 1))
            for s in ("0", "1")
        )
        print(
            f"{arch:<10} {off[0]:>13.1f} / {off[1]:>8.1f} {on[0]:>13.1f} / {on[1]:>8.1f} "
            f"{off[1] / on[1]:>9.2f}x"
        )
    print(f"load {os.getloadavg()[0]:.1f}")


def main() -> None:
    parser = ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=count, default=256)
    parser.add_argument("--rounds", type=count, default=5)
    parser.add_argument("--steps", type=count, default=10, help="steps timed per round")
    parser.add_argument(
        "--layers", action="store_true", help="where a float32 step of the improved CNN goes"
    )
    parser.add_argument(
        "--onednn", action="store_true", help="float32 steps with TensorFlow's oneDNN off and on"
    )
    parser.add_argument("--arch-times", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.arch_times:  # a child of --onednn: one JSON line
        print(json.dumps(arch_step_times(args)))
        return
    print(f"{cpu_description()}; load {os.getloadavg()[0]:.1f}")
    if args.onednn:
        onednn_off_and_on(args)
        return
    if args.layers:
        where_the_time_goes(args)
        return

    rng = np.random.default_rng(0)
    x = tf.constant(rng.random((args.batch, 28, 28, 1), dtype=np.float32))
    y = tf.constant(rng.integers(0, 10, args.batch))
    precisions = ["float32"] + (["mixed_bfloat16"] if cpu_has_bfloat16() else [])
    models = {}
    for precision in precisions:
        with dtype_policy(precision):
            models[f"with batch norm, {precision}"] = with_batch_norm()
            models[f"improved (no batch norm), {precision}"] = build_model("improved")
    for model in models.values():  # build and trace each train step before timing
        model.train_on_batch(x, y)

    times: dict[str, list[tuple[float, float]]] = {name: [] for name in models}
    for _ in range(args.rounds):
        for name, model in models.items():
            wall, cpu = time.perf_counter(), time.process_time()
            for _ in range(args.steps):
                model.train_on_batch(x, y)
            wall, cpu = time.perf_counter() - wall, (time.process_time() - cpu) / CORES
            times[name].append((wall / args.steps, cpu / args.steps))

    medians = {
        name: tuple(statistics.median(t[i] for t in values) for i in (0, 1))
        for name, values in times.items()
    }
    base = medians["with batch norm, float32"][1]
    print(f"batch {args.batch}, median of {args.rounds} rounds of {args.steps} steps")
    print(f"{'model, precision':<40} {'wall ms':>8} {'CPU/core':>9} {'s/epoch':>8} {'speed-up':>9}")
    for name, (wall, cpu) in medians.items():
        epoch = cpu * 60_000 / args.batch
        print(
            f"{name:<40} {wall * 1000:>8.1f} {cpu * 1000:>9.1f} {epoch:>8.1f} {base / cpu:>8.1f}x"
        )
    print(f"(s/epoch and speed-up from CPU time per core); load {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    run(main)
