"""Train a model on MNIST and save it safely: `python -m digitrec.train --recipe fast`.

A `Recipe` is the one description of a training run: `train` follows it, the JSON record
saved beside the model is the recipe plus the results, and the command line's options are
the recipe's fields. Saving is atomic (a temporary file, then a rename) and never replaces an
existing model unless asked, so an interrupted or mistaken run cannot cost a learner a
trained model.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import importlib
import json
import math
import os
import platform
import statistics
import sys
import tempfile
import time
import typing
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import keras
import numpy as np

from digitrec import augment as augmentation
from digitrec import data, settings, synthetic
from digitrec.command_line import ArgumentParser
from digitrec.model import (
    ARCHITECTURES,
    INPUT_SHAPE,
    NUM_CLASSES,
    build_model,
    compile_model,
)

SCHEDULES = ("constant", "cosine")
PRECISIONS = ("auto", "float32", "mixed_bfloat16")
# The settings that take one of a few names; `Recipe` checks them and the CLI offers them.
CHOICES: dict[str, Collection[str]] = {
    "arch": ARCHITECTURES,
    "schedule": SCHEDULES,
    "precision": PRECISIONS,
}
# Fields of `Recipe` that label a run rather than change it.
LABELS = ("name", "description")


# Upper bounds that catch a slip of the keyboard before MNIST is loaded: a batch larger than
# MNIST's 60,000 training digits, a run of more epochs than anyone would wait for.
MOST_BATCH = 60_000
MOST_EPOCHS = 10_000


class ModelExistsError(FileExistsError):
    """The output model exists and replacing it was not asked for."""


def _setting(default: Any, doc: str) -> Any:
    """A `Recipe` field that is a setting; `doc` is its command-line help."""
    return field(default=default, metadata={"help": doc})


@dataclass(frozen=True)
class Recipe:
    """Every setting of a training run, so a model can be reproduced from its record.

    The defaults are the course's classic recipe. Values are checked when a recipe is made,
    so a bad setting fails before any data is loaded.
    """

    name: str = "custom"
    arch: str = _setting("seed", "architecture (digitrec.model.ARCHITECTURES)")
    epochs: int = _setting(5, "passes over the training data")
    batch_size: int = _setting(64, "examples per training step")
    learning_rate: float = _setting(1e-3, "Adam's (peak) learning rate")
    schedule: str = _setting(
        "constant", "constant rate, or cosine: linear warm-up, then cosine decay to zero"
    )
    warmup_epochs: float = _setting(0.0, "epochs of warm-up for the cosine schedule")
    augment: bool = _setting(False, "train on randomly redrawn, bent and turned digits")
    pen_max: float = _setting(
        augmentation.DEFAULT.pen[1],
        "with --augment: the widest pen digits are redrawn with, in MNIST pixels",
    )
    redraw: float = _setting(
        augmentation.DEFAULT.redraw,
        "with --augment: the fraction of digits redrawn along their centre lines with an even pen",
    )
    plain: float = _setting(
        augmentation.DEFAULT.plain,
        "with --augment: the fraction of digits kept with MNIST's own pen and framing (only "
        "turned, bent and moved), taken from those not redrawn",
    )
    angular: float = _setting(
        0.0,
        "with --augment: the share of digits whose redraw follows their centre line "
        "straightened, some with square corners, as digits drawn with a mouse from point to "
        "point or copied off a digital clock (MNIST's writers drew none)",
    )
    flags: float = _setting(
        0.0,
        "the share of 1s given a flag at the top, as most of Europe writes a 1 "
        "(MNIST's writers seldom did)",
    )
    slashes: float = _setting(
        0.0,
        "the share of 0s given a slash through them, as some people write a 0 "
        "(MNIST's writers seldom did)",
    )
    stretches: float = _setting(
        0.0,
        "the share of digits drawn narrower or wider at the same height "
        "(synthetic.STRETCH_RANGE), as a hand on a mouse often draws them",
    )
    init: str | None = _setting(
        None, "start from this model file's weights (same architecture) instead of fresh ones"
    )
    precision: str = _setting(
        "float32",
        "auto: mixed bfloat16 if a few timed steps show it faster on this CPU, else float32 "
        "(the model is saved as float32)",
    )
    seed: int = _setting(0, "random seed: data subset, initial weights, shuffling")
    limit: int | None = _setting(None, "train on a random subset of N examples")
    validation_split: float = _setting(0.0, "fraction of the training data held out")
    description: str = ""

    def __post_init__(self) -> None:
        for key, choices in CHOICES.items():
            if getattr(self, key) not in choices:
                known = ", ".join(sorted(choices))
                raise ValueError(f"unknown {key} {getattr(self, key)!r}; choose one of: {known}")
        for key in ("epochs", "batch_size", "limit"):
            value = getattr(self, key)
            if value is not None and value < 1:
                raise ValueError(f"{key} must be at least 1, got {value}")
        for key, most in (("epochs", MOST_EPOCHS), ("batch_size", MOST_BATCH)):
            if getattr(self, key) > most:
                raise ValueError(f"{key} must be at most {most:,}, got {getattr(self, key)}")
        if not augmentation.DEFAULT.pen[0] <= self.pen_max <= 12.0:
            raise ValueError(
                f"pen_max must be between {augmentation.DEFAULT.pen[0]:g} and 12, "
                f"got {self.pen_max}"
            )
        if not 0.0 <= self.redraw <= 1.0:
            raise ValueError(f"redraw must be between 0 and 1, got {self.redraw}")
        most = 1.0 - self.redraw
        if not 0.0 <= self.plain <= most:
            raise ValueError(f"plain must be between 0 and {most:g}, got {self.plain}")
        for share in ("angular", "flags", "slashes", "stretches"):
            if not 0.0 <= getattr(self, share) <= 1.0:
                raise ValueError(f"{share} must be between 0 and 1, got {getattr(self, share)}")
        if not 0 <= self.seed < 2**32:  # NumPy's and TensorFlow's seeds are 32-bit
            raise ValueError(f"seed must be 0 or more and under 2**32, got {self.seed}")
        if not 0.0 < self.learning_rate < 1.0:
            raise ValueError(f"learning_rate must be between 0 and 1, got {self.learning_rate}")
        if not (self.warmup_epochs >= 0 and math.isfinite(self.warmup_epochs)):
            raise ValueError(
                f"warmup_epochs must be a number of at least 0, got {self.warmup_epochs}"
            )
        if not 0.0 <= self.validation_split < 1.0:
            raise ValueError(f"validation_split must be in [0, 1), got {self.validation_split}")


RECIPES: dict[str, Recipe] = {
    recipe.name: recipe
    for recipe in (
        Recipe(
            "classic",
            description="the course's original recipe: Adam 1e-3, batch 64, 5 epochs",
        ),
        Recipe(
            "fast",
            epochs=1,
            batch_size=128,
            learning_rate=1e-2,
            schedule="cosine",
            warmup_epochs=0.3,
            precision="auto",
            description="the seed CNN in one epoch: bigger batches, a ten times higher peak "
            "learning rate, warm-up and cosine decay, bfloat16 where it is faster",
        ),
        Recipe(
            "improved",
            arch="improved",
            epochs=40,
            batch_size=128,
            learning_rate=3e-3,
            schedule="cosine",
            warmup_epochs=0.5,
            augment=True,
            pen_max=8.0,
            precision="auto",
            description="the improved CNN; half its digits redrawn with an even pen 1-8 px "
            "wide, the rest thickened or thinned; elastic bends, rotation, a little zoom and "
            "shift",
        ),
        Recipe(
            "polish",
            arch="improved",
            epochs=2,
            batch_size=128,
            learning_rate=3e-4,
            schedule="cosine",
            augment=True,
            pen_max=8.0,
            precision="auto",
            description="a second stage for a trained improved CNN (give it with --init): two "
            "epochs at a tenth of the peak rate with pens up to 8 px, as a small digit drawn "
            "with a thick pen looks once framed; it widens the pens of a model trained with "
            "narrower ones; make train runs it twice, with --flags 0.2 --slashes 0.2 (a fifth of "
            "the 1s carry a flag, a fifth of the 0s a slash), then also with --angular 0.15 "
            "(digits drawn with straight strokes)",
        ),
        Recipe(
            "lean",
            arch="lean",
            epochs=20,
            batch_size=128,
            learning_rate=3e-3,
            schedule="cosine",
            warmup_epochs=0.5,
            augment=True,
            pen_max=8.0,
            precision="auto",
            description="for a CPU without bfloat16 units: the lean CNN (the improved one with "
            "a convolution moved after the pooling) for half the epochs, with pens up to 8 px "
            "from the start; a little less accurate on MNIST than the recommended model",
        ),
        Recipe(
            "best",
            arch="deep",
            epochs=100,
            batch_size=128,
            learning_rate=2e-3,
            schedule="cosine",
            warmup_epochs=1.0,
            augment=True,
            pen_max=8.0,
            precision="auto",
            description="the most accurate single model, whatever the time: the "
            "deep CNN (five 5x5 convolutions at full resolution, batch norm) for 100 epochs "
            "with the improved recipe's augmentation, meant for a GPU (KERAS_BACKEND=jax "
            "there: a CPU takes hours); then the finish recipe",
        ),
        Recipe(
            "finish",
            arch="deep",
            epochs=2,
            batch_size=128,
            learning_rate=3e-4,
            schedule="cosine",
            pen_max=8.0,
            precision="auto",
            description="the best recipe's second stage (give its model with --init): two "
            "epochs on MNIST's digits as they are, no augmentation, at a seventh of best's "
            "peak rate",
        ),
    )
}
# Recipes that continue a trained model (`init`) rather than start afresh.
CONTINUING = ("polish", "finish")
# The recipe of the model the app serves: `make train` runs it, then `polish --flags 0.2
# --slashes 0.2`, then that again with `--angular 0.15`.
RECOMMENDED = "improved"
# Which recipe `--arch NAME` alone means.
DEFAULT_RECIPE = {
    "seed": "classic",
    "improved": "improved",
    "wide": "improved",
    "deep": "best",
    "lean": "lean",
    "dense": "classic",
}
# A stand-in seed CNN for a learner who opens a later notebook before notebook 03.
QUICK = Recipe(
    "quick", epochs=1, description="one epoch of the seed CNN, until notebook 03 saves the real one"
)
# Digits the quick model trains on in fast mode (the tests' setting).
QUICK_FAST_LIMIT = 5_000


@dataclass(frozen=True)
class TrainResult:
    """What a training run produced: the model, its history, its record and where it was saved."""

    model: keras.Model
    history: dict[str, list[float]]
    record: dict[str, Any]
    path: Path | None = None


@dataclass(frozen=True)
class _Data:
    """Scaled training, validation and test arrays, and the file they came from."""

    x_fit: np.ndarray
    y_fit: np.ndarray
    validation: tuple[np.ndarray, np.ndarray] | None
    x_test: np.ndarray
    y_test: np.ndarray
    source: Path | None


def get_recipe(name: str) -> Recipe:
    """One of `RECIPES` by name, or a ValueError listing the names."""
    try:
        return RECIPES[name]
    except KeyError:
        known = ", ".join(sorted(RECIPES))
        raise ValueError(f"unknown recipe {name!r}; choose one of: {known}") from None


def train(
    recipe: Recipe | str,
    *,
    out: str | os.PathLike[str] | None = None,
    force: bool = False,
    verbose: int | str = 1,
    data_path: str | os.PathLike[str] | None = None,
    callbacks: list[keras.callbacks.Callback] | None = None,
    resume_dir: str | os.PathLike[str] | None = None,
) -> TrainResult:
    """Train by `recipe` (a `Recipe` or a name in `RECIPES`), evaluate on the full test set,
    and save to `out` with its JSON record if given (`out=None` keeps it in memory only).

    With `resume_dir`, the run keeps a checkpoint there after every epoch and, started again
    with the same folder, continues from the last one: a run of hours can span sessions.
    The folder is removed when the run completes.

    The output path is checked before any data is loaded, so a run that could not be saved
    never starts. The model returned and saved computes in float32 whatever the precision
    it was trained in.
    """
    if isinstance(recipe, str):
        recipe = get_recipe(recipe)
    out_path = None if out is None else Path(out)
    if out_path is not None:
        check_writable(out_path, force=force)
    if recipe.name in CONTINUING and recipe.init is None:
        raise ValueError(f"the {recipe.name} recipe continues a trained model: give it with --init")
    start = initial_weights(recipe)
    arrays = _prepare_data(recipe, data_path)
    policy = training_precision(recipe.precision, recipe.arch, recipe.batch_size)
    if recipe.precision == "auto" and verbose:
        choice = choose_precision(recipe.arch, recipe.batch_size)
        print(f"precision auto: training in {choice.policy} ({choice.reason})", flush=True)
    keras.utils.set_random_seed(recipe.seed)
    clock = _Clock(resume_dir)
    if resume_dir is not None:
        callbacks = [*(callbacks or []), _backup(recipe, resume_dir), clock]
    model, history = _fit(recipe, arrays, policy, verbose, callbacks, start)
    seconds, cpu_seconds = clock.totals()
    test_loss, test_accuracy = model.evaluate(
        arrays.x_test, arrays.y_test, batch_size=512, verbose=0
    )
    record = training_record(
        recipe,
        model,
        test_loss=test_loss,
        test_accuracy=test_accuracy,
        seconds=seconds,
        cpu_seconds=cpu_seconds,
        train_examples=len(arrays.x_fit),
        policy=policy,
        data_file=arrays.source,
    )
    if out_path is not None:
        # On JAX, evaluating a compiled model builds its optimizer's (empty) state, which
        # would triple the file: save a copy of the weights alone.
        _write(_weights_copy(model, recipe.arch), out_path, record)
    return TrainResult(model, history, record, out_path)


class _Clock(keras.callbacks.Callback):
    """Wall and CPU seconds of a run, counting the earlier parts of a resumed one.

    The totals of the epochs done are kept in `folder`/clock.json beside the checkpoint, so
    the record gives the whole run's time however many times it was resumed.
    """

    def __init__(self, folder: str | os.PathLike[str] | None) -> None:
        super().__init__()
        self.file = None if folder is None else Path(folder) / "clock.json"
        self.before = (0.0, 0.0)
        if self.file is not None and self.file.is_file():
            kept = json.loads(self.file.read_text())
            self.before = (float(kept["seconds"]), float(kept["cpu_seconds"]))
        self.started = (time.perf_counter(), time.process_time())

    def totals(self) -> tuple[float, float]:
        return (
            self.before[0] + time.perf_counter() - self.started[0],
            self.before[1] + time.process_time() - self.started[1],
        )

    def on_epoch_end(self, epoch: int, logs: Mapping[str, Any] | None = None) -> None:
        if self.file is not None:
            seconds, cpu_seconds = self.totals()
            kept = {"epochs_done": epoch + 1, "seconds": seconds, "cpu_seconds": cpu_seconds}
            self.file.write_text(json.dumps(kept))

    def on_train_end(self, logs: Mapping[str, Any] | None = None) -> None:
        if self.file is not None:
            self.file.unlink(missing_ok=True)


# What a resume folder may hold: the recipe it belongs to, the run's clock, and Keras's
# checkpoint (and the one before it, in case a run was stopped while writing).
_RESUME_FILES = frozenset(
    name + suffix
    for name in ("recipe.json", "clock.json", "latest.weights.h5", "training_metadata.json")
    for suffix in ("", ".bkp")
)


def _backup(recipe: Recipe, folder: str | os.PathLike[str]) -> keras.callbacks.Callback:
    """Keras's checkpoint-per-epoch callback, in a folder that belongs to this run alone.

    Keras removes the folder when the run completes, so a folder holding anything else is
    refused, as is one holding another recipe's checkpoint.
    """
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"--resume-dir {folder} is a file, not a folder")
    folder.mkdir(parents=True, exist_ok=True)
    others = sorted(p.name for p in folder.iterdir() if p.name not in _RESUME_FILES)
    if others:
        raise ValueError(
            f"--resume-dir {folder} holds other files ({', '.join(others[:3])}); "
            "give a new or empty folder, which is removed when the run completes"
        )
    stamp = folder / "recipe.json"
    settings_now = json.dumps(dataclasses.asdict(recipe), sort_keys=True)
    if stamp.is_file() and stamp.read_text() != settings_now:
        raise ValueError(
            f"--resume-dir {folder} holds a checkpoint of another recipe; "
            "give a new or empty folder"
        )
    stamp.write_text(settings_now)
    return keras.callbacks.BackupAndRestore(str(folder), double_checkpoint=True)


def average_models(
    paths: Sequence[str | os.PathLike[str]],
    *,
    out: str | os.PathLike[str] | None = None,
    force: bool = False,
    data_path: str | os.PathLike[str] | None = None,
) -> TrainResult:
    """One model whose weights are the mean of several models' weights, evaluated and saved.

    Meant for runs of one recipe that started from the same model (`init`) with different
    seeds: such fine-tunings stay close to each other, and their average (a "model soup") is
    usually at least as accurate as each and less subject to one run's luck. The members
    must share an architecture. Their records go into the new record (`members`).
    """
    if len(paths) < 2:
        raise ValueError("give at least two models to average")
    out_path = None if out is None else Path(out)
    if out_path is not None:
        check_writable(out_path, force=force)
    models, records = [], []
    for path in map(Path, paths):
        try:
            models.append(keras.models.load_model(path, compile=False, safe_mode=True))
        except Exception as exc:  # a missing or corrupt file: Keras raises many kinds
            raise ValueError(
                f"could not read the model {path} ({settings.why_unreadable(path, exc)})"
            ) from None
        records.append(_sidecar(str(path)) or {})
    shapes = [[w.shape for w in m.get_weights()] for m in models]
    if any(shape != shapes[0] for shape in shapes):
        raise ValueError("the models to average do not share one architecture")
    if models[0].output_shape[-1] != NUM_CLASSES:
        raise ValueError(
            f"{paths[0]} is not a digit model (it gives {models[0].output_shape[-1]} outputs, "
            f"not {NUM_CLASSES}); --average is for models that read digits"
        )
    started, cpu_started = time.perf_counter(), time.process_time()
    model = models[0]
    model.set_weights(
        [np.mean(layer, axis=0) for layer in zip(*(m.get_weights() for m in models), strict=True)]
    )
    compile_model(model)
    (_, _), (x_test, y_test) = data.load_mnist(data_path)
    test_loss, test_accuracy = model.evaluate(
        data.scale_images(x_test), y_test, batch_size=512, verbose=0
    )
    first = records[0]
    source = data.dataset_file(data_path)
    record = {
        "name": "average",
        "arch": first.get("arch", model.name),
        "epochs": first.get("epochs"),
        "description": f"the weights of {len(models)} models averaged",
        "members": [{"path": str(path), **rec} for path, rec in zip(paths, records, strict=True)],
        "params": int(model.count_params()),
        "test_accuracy": float(test_accuracy),
        "test_loss": float(test_loss),
        "seconds": round(time.perf_counter() - started, 2),
        "cpu_seconds": round(time.process_time() - cpu_started, 2),
        "cpu": cpu_description(),
        "data_sha256": data.file_sha256(source) if source is not None else None,
        "versions": library_versions(),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    if out_path is not None:
        _write(model, out_path, record)
    return TrainResult(model, {}, record, out_path)


def _prepare_data(recipe: Recipe, data_path: str | os.PathLike[str] | None) -> _Data:
    """MNIST, subset to `recipe.limit`, scaled, with the last `validation_split` held out."""
    (x_train, y_train), (x_test, y_test) = data.load_mnist(data_path)
    if recipe.limit is not None:
        x_train, y_train = data.take_subset(x_train, y_train, recipe.limit, seed=recipe.seed)
    x_train = data.scale_images(x_train)
    # Hold out the last examples, as Keras's own `validation_split` does.
    split_at = math.floor(len(x_train) * (1.0 - recipe.validation_split))
    if split_at < 1:
        raise ValueError(
            f"holding out {recipe.validation_split:g} of {len(x_train):,} examples leaves none "
            "to train on: hold out less, or train on more (limit)"
        )
    validation = (x_train[split_at:], y_train[split_at:]) if split_at < len(x_train) else None
    return _Data(
        x_train[:split_at],
        y_train[:split_at],
        validation,
        data.scale_images(x_test),
        y_test,
        data.dataset_file(data_path),
    )


def _fit(
    recipe: Recipe,
    arrays: _Data,
    policy: str,
    verbose: int | str,
    callbacks: list[keras.callbacks.Callback] | None,
    start: list[np.ndarray] | None = None,
) -> tuple[keras.Model, dict[str, list[float]]]:
    """Build the model under `policy` (from `start`'s weights if given), fit it, and return a
    fresh float32 copy and the history."""
    steps = augmentation.steps_per_epoch(
        len(arrays.x_fit), recipe.batch_size, augmenting=recipe.augment
    )
    with dtype_policy(policy):
        model = build_model(recipe.arch)
        if start is not None:
            model.set_weights(start)
        model = compile_model(model, learning_rate_schedule(recipe, steps))
    x_fit = arrays.x_fit
    if recipe.flags:
        x_fit = synthetic.flag_ones(x_fit, arrays.y_fit, recipe.flags, seed=recipe.seed)
    if recipe.slashes:
        x_fit = synthetic.slash_zeros(x_fit, arrays.y_fit, recipe.slashes, seed=recipe.seed)
    if recipe.stretches:
        x_fit = synthetic.stretch_some(x_fit, recipe.stretches, seed=recipe.seed)
    if recipe.augment:
        batches = {
            "x": x_fit,
            "y": arrays.y_fit,
            "batch_size": recipe.batch_size,
            "config": augmentation_of(recipe),
            "seed": recipe.seed,
            # Tracing centre lines takes a while; only the redraw needs them.
            "distances": (
                augmentation.centre_line_distances(x_fit, recipe.angular, seed=recipe.seed)
                if recipe.redraw
                else None
            ),
        }
        if uses_tf_data():
            # One endless iterator for the whole run (it reshuffles every pass): Keras would
            # otherwise start a new one each epoch, which can stall.
            dataset = augmentation.training_dataset(**batches).repeat()
        else:  # JAX on a GPU: augmented there, chunk by chunk
            dataset = augmentation.augmented_batches(**batches)
        fit_data = {"x": dataset, "steps_per_epoch": steps, "shuffle": False}
    else:
        fit_data = {"x": x_fit, "y": arrays.y_fit, "batch_size": recipe.batch_size}
    history = model.fit(
        **fit_data,
        epochs=recipe.epochs,
        validation_data=arrays.validation,
        verbose=verbose,
        callbacks=callbacks,
    )
    # A fresh float32 copy of the weights (float32 already under mixed precision) reads
    # drawings on any machine.
    history = {key: [float(v) for v in values] for key, values in history.history.items()}
    return _weights_copy(model, recipe.arch), history


def _weights_copy(model: keras.Model, arch: str) -> keras.Model:
    """A fresh float32 `arch` model with `model`'s weights and no optimizer state (a third
    the size of a file that keeps Adam's two moments per weight)."""
    copy = build_model(arch)
    copy.set_weights(model.get_weights())
    return copy


def uses_tf_data() -> bool:
    """Whether training is fed by `tf.data` (the TensorFlow backend) rather than by
    `augment.augmented_batches` (JAX on a GPU, where TensorFlow may be absent)."""
    return keras.backend.backend() == "tensorflow"


def augmentation_of(recipe: Recipe) -> augmentation.Augmentation:
    """The augmentation a recipe trains with: the default, with the recipe's widest pen and
    shares of redrawn and plain digits."""
    return dataclasses.replace(
        augmentation.DEFAULT,
        pen=(augmentation.DEFAULT.pen[0], recipe.pen_max),
        redraw=recipe.redraw,
        plain=recipe.plain,
    )


def initial_weights(recipe: Recipe) -> list[np.ndarray] | None:
    """The weights of `recipe.init` (None without one), checked against the recipe's arch.

    Raises ValueError, before any data is loaded, when the file is missing, unreadable or
    holds another architecture.
    """
    if recipe.init is None:
        return None
    path = Path(recipe.init)
    if not path.is_file():
        raise ValueError(f"no model to start from at {path}")
    try:
        weights = keras.models.load_model(path, compile=False, safe_mode=True).get_weights()
    except Exception as exc:  # Keras raises many kinds for a bad file
        raise ValueError(
            f"could not read {path} to start from ({settings.why_unreadable(path, exc)})"
        ) from None
    expected = [w.shape for w in build_model(recipe.arch).get_weights()]
    if [w.shape for w in weights] != expected:
        raise ValueError(f"{path} is not a model of the {recipe.arch!r} architecture")
    return weights


def training_record(
    recipe: Recipe,
    model: keras.Model,
    *,
    test_loss: float,
    test_accuracy: float,
    seconds: float,
    train_examples: int,
    policy: str = "float32",
    data_file: str | os.PathLike[str] | None = None,
    cpu_seconds: float | None = None,
) -> dict[str, Any]:
    """What is saved beside a model: every field of `recipe`, then the results.

    A recipe that augments records the augmentation's settings (`augmentation_of`); one
    that started from another model (`init`) records that model's own record too.

    `policy` is the dtype policy the model trained under (what "auto" precision chose);
    `data_file` is the MNIST file it trained on (default: the one `load_mnist()` reads),
    recorded by its SHA-256. `seconds` is wall-clock time; `cpu_seconds`, the process's CPU
    time, says how long the training would take on an idle machine (divided by its cores)
    when other work slowed the wall clock down.
    """
    source = Path(data_file) if data_file is not None else data.dataset_file()
    return {
        **dataclasses.asdict(recipe),
        "augmentation": _augmentation_record(recipe),
        "init_record": _sidecar(recipe.init),
        "dtype_policy": policy,
        "params": int(model.count_params()),
        "train_examples": int(train_examples),
        "test_accuracy": float(test_accuracy),
        "test_loss": float(test_loss),
        "seconds": round(float(seconds), 2),
        "cpu_seconds": None if cpu_seconds is None else round(float(cpu_seconds), 2),
        "cpu": cpu_description(),
        "accelerator": accelerator(),
        "data_sha256": data.file_sha256(source) if source is not None else None,
        "versions": library_versions(),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


def _augmentation_record(recipe: Recipe) -> dict[str, Any] | None:
    """The recipe's augmentation settings as JSON holds them (lists, not tuples)."""
    if not recipe.augment:
        return None
    return json.loads(json.dumps(dataclasses.asdict(augmentation_of(recipe))))


def _sidecar(init: str | None) -> dict[str, Any] | None:
    """The record saved beside the model a run started from, if it has one."""
    if init is None:
        return None
    try:
        return json.loads(settings.sidecar_path(Path(init)).read_text())
    except (OSError, ValueError):
        return None


def learning_rate_schedule(recipe: Recipe, steps_per_epoch: int) -> Any:
    """The recipe's rate: constant, or linear warm-up to the peak then cosine decay to zero.

    Warm-up lets a high peak rate be used safely; the decay settles the weights at the end.
    """
    peak = recipe.learning_rate
    if recipe.schedule == "constant":
        return peak
    total = max(1, recipe.epochs * steps_per_epoch)
    warmup = min(total - 1, round(recipe.warmup_epochs * steps_per_epoch))
    return keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=peak / 10 if warmup else peak,
        decay_steps=total - warmup,
        warmup_target=peak if warmup else None,
        warmup_steps=warmup,
    )


# Auto precision takes bfloat16 only when a step is at least this much faster: float32 is
# exact and repeatable, so a tie goes to it.
BFLOAT16_MIN_GAIN = 0.9


@dataclass(frozen=True)
class PrecisionChoice:
    """What "auto" precision chose, and why (`reason` completes "trains in <policy>: ...")."""

    policy: str
    reason: str
    step_ms: dict[str, float] = field(default_factory=dict)


def training_precision(
    precision: str = "auto", arch: str = "improved", batch_size: int = 128
) -> str:
    """The Keras dtype policy for a recipe's `precision` (one of `PRECISIONS`).

    "auto" is `choose_precision(arch, batch_size).policy`: whichever of float32 and
    mixed bfloat16 trains this model faster here.
    """
    if precision != "auto":
        return precision
    return choose_precision(arch, batch_size).policy


@functools.cache
def choose_precision(arch: str = "improved", batch_size: int = 128) -> PrecisionChoice:
    """Float32 or mixed bfloat16 for training `arch`, by what is faster on this machine.

    A GPU trains in float32, and so does a CPU that does not advertise bfloat16 arithmetic
    (amx_bf16 or avx512_bf16), where it would be emulated. Elsewhere a flag alone does not
    tell: bfloat16 is several times faster on Intel AMX, but may gain little or lose on other
    CPUs, so a few training steps are timed in each (`precision_step_times`) and bfloat16 is
    taken only if clearly faster. Cached per process: the probe takes a few seconds.
    """
    if has_gpu():
        return PrecisionChoice("float32", "a GPU does the training")
    if not cpu_has_bfloat16():
        return PrecisionChoice("float32", "this CPU has no bfloat16 units")
    try:
        times = precision_step_times(arch, batch_size)
    except _kernel_errors() as error:  # e.g. oneDNN limited to an ISA without bfloat16
        failure = type(error).__name__
        return PrecisionChoice("float32", f"a bfloat16 training step failed here ({failure})")
    ms = {policy: round(seconds * 1000, 1) for policy, seconds in times.items()}
    measured = (
        f"a step of {arch} at batch {batch_size} took {ms['mixed_bfloat16']:g} ms of CPU "
        f"time in bfloat16, {ms['float32']:g} ms in float32"
    )
    if times["mixed_bfloat16"] < BFLOAT16_MIN_GAIN * times["float32"]:
        return PrecisionChoice("mixed_bfloat16", measured, ms)
    return PrecisionChoice("float32", f"{measured}: bfloat16 is not clearly faster", ms)


def precision_step_times(
    arch: str, batch_size: int, steps: int = 10, warmup: int = 2
) -> dict[str, float]:
    """Median CPU seconds per training step of `arch` in float32 and in mixed bfloat16.

    Random batches; after `warmup` steps each, the two precisions take turns step by step.
    CPU time (all threads) rather than the wall clock: other work on a shared machine
    stretches the wall clock of a step many times over, its CPU time hardly at all.
    """
    rng = np.random.default_rng(0)
    x = keras.ops.convert_to_tensor(rng.random((batch_size, *INPUT_SHAPE), dtype=np.float32))
    y = keras.ops.convert_to_tensor(rng.integers(0, NUM_CLASSES, batch_size))
    models = {}
    for policy in ("float32", "mixed_bfloat16"):
        with dtype_policy(policy):
            models[policy] = build_model(arch)
        for _ in range(warmup):
            models[policy].train_on_batch(x, y)
    times: dict[str, list[float]] = {policy: [] for policy in models}
    for _ in range(steps):
        for policy, model in models.items():
            started = time.process_time()
            model.train_on_batch(x, y)
            times[policy].append(time.process_time() - started)
    return {policy: statistics.median(values) for policy, values in times.items()}


def _kernel_errors() -> tuple[type[BaseException], ...]:
    """What the Keras backend raises when a kernel cannot run (e.g. bfloat16 on this CPU)."""
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        return (tf.errors.OpError,)
    return (RuntimeError,)


def accelerator() -> str | None:
    """The GPU (or other accelerator) the Keras backend trains on, by name; None on a CPU."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        gpus = tf.config.list_physical_devices("GPU")
        if not gpus:
            return None
        details = tf.config.experimental.get_device_details(gpus[0])
        return str(details.get("device_name", gpus[0].name))
    if backend == "jax":
        import jax

        device = jax.devices()[0]
        return None if device.platform == "cpu" else str(device.device_kind)
    return None


def has_gpu() -> bool:
    """True when the Keras backend sees a GPU, which then does the training."""
    return accelerator() is not None


def _cpu_flags() -> set[str]:
    try:
        return set(Path("/proc/cpuinfo").read_text().split())
    except OSError:
        return set()


def cpu_has_bfloat16() -> bool:
    """True on a Linux CPU that advertises bfloat16 arithmetic (amx_bf16 or avx512_bf16)."""
    return bool({"amx_bf16", "avx512_bf16"} & _cpu_flags())


def cpu_description() -> str:
    """The CPU's model, core count and the flags that decide training speed, in one line."""
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    flags = _cpu_flags()
    shown = " ".join(f"{flag}={'yes' if flag in flags else 'no'}" for flag in CPU_FLAGS)
    onednn = {True: "on", False: "off", None: "unknown"}[onednn_enabled()]
    return f"{model}, {os.cpu_count()} cores, {shown}, TensorFlow oneDNN {onednn}"


def onednn_enabled() -> bool | None:
    """Whether TensorFlow runs its oneDNN CPU kernels in this process (None: cannot tell).

    TensorFlow decides when it starts, from TF_ENABLE_ONEDNN_OPTS or, unset, from the CPU;
    the training commands set it (see `digitrec/__init__.py`).
    """
    try:
        from tensorflow.python.util import _pywrap_util_port
    except ImportError:
        return None
    return bool(_pywrap_util_port.IsMklEnabled())


# The CPU flags that `cpu_description` reports: vector width and bfloat16 units.
CPU_FLAGS = ("avx2", "avx512f", "avx512_bf16", "amx_bf16")


@contextmanager
def dtype_policy(name: str) -> Iterator[None]:
    """Build layers under Keras's global dtype policy `name`, then restore the previous one."""
    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy(name)
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy(previous)


def ensure_model() -> Path:
    """The course's seed CNN if notebook 03 has saved it, else a quick stand-in.

    The stand-in (`settings.quick_model_path()`) is trained for one epoch the first time it
    is needed (on a subset in fast mode), so a later notebook also runs on its own. This
    never writes the course model or the recommended model: those are the learner's.
    """
    course = settings.course_model_path()
    if course.is_file():
        return course
    quick = settings.quick_model_path()
    if quick.is_file():
        print(f"Using the quick seed CNN {quick}; notebook 03 trains and saves the real one.")
        return quick
    limit = QUICK_FAST_LIMIT if settings.fast_mode() else None
    digits = f"{limit:,} digits (fast mode)" if limit else "all of MNIST"
    print(
        f"No course model at {course} yet: training a quick seed CNN (1 epoch on {digits}) "
        f"into {quick}; notebook 03 trains and saves the real one."
    )
    train(dataclasses.replace(QUICK, limit=limit), out=quick, verbose=0)
    return quick


def check_writable(out: Path, *, force: bool) -> None:
    """Refuse a path without the `.keras` suffix, an existing model unless `force`, and a
    path that could not be written (a folder, under a file, in a folder one may not write
    to), so a long run does not fail at its end."""
    if out.suffix != ".keras":
        raise ValueError(f"the model file must end in .keras, got {out}")
    if out.is_dir():
        raise ValueError(f"{out} is a folder; give a model file's path ending in .keras")
    if out.exists() and not force:
        raise ModelExistsError(
            f"{out} already exists; to replace it pass force=True (command line: --force), "
            "or choose another path"
        )
    sidecar = settings.sidecar_path(out)
    if sidecar.exists() and not force:  # the record written beside the model would replace it
        raise ModelExistsError(
            f"{sidecar} already exists and the model's record would replace it; choose another "
            "path, or replace it (command line: --force)"
        )
    folder = out.absolute().parent  # the folder to write in, or the nearest that exists
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        raise ValueError(f"cannot save {out}: {folder} is a file, not a folder")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise PermissionError(f"cannot save {out}: no permission to write in {folder}")
    try:  # root passes os.access everywhere; a file made and removed shows what can be written
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise PermissionError(
            f"cannot save {out}: cannot write in {folder} ({exc.strerror})"
        ) from None


def save_model(
    model: keras.Model,
    out: str | os.PathLike[str],
    record: Mapping[str, Any],
    *,
    force: bool = False,
) -> Path:
    """Save `model` to `out` and `record` as JSON beside it (`settings.sidecar_path`).

    Refuses an existing `out` unless `force` (`ModelExistsError`). Both files are written to
    temporary files in the same folder and then renamed, so a save that fails or is
    interrupted leaves any model already there intact. Returns the model's path.
    """
    out = Path(out)
    check_writable(out, force=force)
    _write(model, out, record)
    return out


def _write(model: keras.Model, out: Path, record: Mapping[str, Any]) -> None:
    """The atomic write behind `save_model`, for a path already checked."""
    out.parent.mkdir(parents=True, exist_ok=True)
    sidecar = settings.sidecar_path(out)
    temporary = [
        path.with_name(f".{path.stem}.{os.getpid()}.tmp{path.suffix}") for path in (out, sidecar)
    ]
    try:
        model.save(temporary[0])
        temporary[1].write_text(json.dumps(record, indent=2) + "\n")
        os.replace(temporary[0], out)
        os.replace(temporary[1], sidecar)
    finally:
        for path in temporary:
            path.unlink(missing_ok=True)


def library_versions() -> dict[str, str]:
    """Versions that decide whether a saved model loads and behaves the same elsewhere."""
    backend = keras.backend.backend()  # tensorflow here; jax on a GPU
    return {
        "python": platform.python_version(),
        backend: importlib.import_module(backend).__version__,
        "keras": keras.__version__,
        "keras_backend": backend,
        "numpy": np.__version__,
    }


def default_out(recipe: Recipe) -> Path:
    """Where the command line saves a model unless `--out` says otherwise.

    The recommended architecture goes to the recommended model (`make train`), the seed CNN
    to the course model's place in `models_dir()` (`make train-seed`), anything else to
    `<arch>.keras` beside them.
    """
    if recipe.arch == RECIPES[RECOMMENDED].arch:
        return settings.recommended_model_path()
    if recipe.arch == "seed":  # a whole run in any mode: the lesson's, as `make train-seed`
        return settings.models_dir() / settings.COURSE_MODEL
    return settings.models_dir() / f"{recipe.arch}.keras"


def _setting_fields() -> list[dataclasses.Field]:
    return [f for f in dataclasses.fields(Recipe) if f.name not in LABELS]


def _parser() -> ArgumentParser:
    """The command line: `--recipe`, one option per setting of `Recipe`, and where to save."""
    recipes = "; ".join(f"{name}: {r.description}" for name, r in RECIPES.items())
    parser = ArgumentParser(
        prog="python -m digitrec.train",
        description="Train a digit recogniser on MNIST.",
        epilog=f"Recipes -- {recipes}. `--arch seed` alone means the classic recipe; "
        f"the recommended one is {RECOMMENDED!r}. Any option given overrides the recipe.",
    )
    parser.add_argument("--recipe", choices=sorted(RECIPES), help="start from this recipe")
    hints = typing.get_type_hints(Recipe)
    for setting in _setting_fields():
        flag = "--" + setting.name.replace("_", "-")
        kind = hints[setting.name]
        option: dict[str, Any] = {"help": setting.metadata["help"]}
        if kind is bool:
            option["action"] = argparse.BooleanOptionalAction
        elif setting.name in CHOICES:
            option["choices"] = sorted(CHOICES[setting.name])
        else:  # int, float, or one of them or None
            option["type"] = next(t for t in (*typing.get_args(kind), kind) if t is not type(None))
        parser.add_argument(flag, **option)
    parser.add_argument(
        "--out",
        type=Path,
        help="model file (default: models/cnn.keras for the improved CNN, "
        "models/seed_cnn.keras for the seed CNN)",
    )
    parser.add_argument(
        "--average",
        nargs="+",
        type=Path,
        metavar="MODEL",
        help="instead of training, average these models' weights (runs of one recipe from one "
        "--init with different seeds) into --out",
    )
    parser.add_argument("--force", action="store_true", help="replace an existing model")
    parser.add_argument(
        "--resume-dir",
        type=Path,
        metavar="DIR",
        help="keep a checkpoint in DIR (a new or empty folder) after every epoch; run the "
        "same command again to continue an interrupted run from its last epoch",
    )
    parser.add_argument("--data", type=Path, help="a local mnist.npz")
    return parser


def recipe_from_args(args: argparse.Namespace) -> Recipe:
    """The recipe named by `--recipe` (or implied by `--arch`), with the options given."""
    base = get_recipe(args.recipe or DEFAULT_RECIPE[args.arch or "seed"])
    overrides = {
        f.name: getattr(args, f.name)
        for f in _setting_fields()
        if getattr(args, f.name) is not None
    }
    return dataclasses.replace(base, **overrides)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        recipe = recipe_from_args(args)
    except ValueError as exc:
        parser.error(str(exc))
    out = args.out or default_out(recipe)
    if args.average and args.out is None:
        parser.error("--average needs --out")
    if args.average:  # it trains nothing: a training option given with it would be ignored
        given = [f.name for f in _setting_fields() if getattr(args, f.name) is not None]
        given += [name for name in ("recipe", "resume_dir") if getattr(args, name) is not None]
        if given:
            flags = ", ".join("--" + name.replace("_", "-") for name in given)
            parser.error(f"--average trains nothing, so it takes no {flags}")
    try:
        if args.average:
            result = average_models(args.average, out=out, force=args.force, data_path=args.data)
        else:
            result = train(
                recipe,
                out=out,
                force=args.force,
                data_path=args.data,
                resume_dir=args.resume_dir,
            )
    except KeyboardInterrupt:
        print(f"\ninterrupted: nothing was written; {out} is unchanged", file=sys.stderr)
        if args.resume_dir is not None and args.resume_dir.is_dir():
            print(
                f"the same command continues from the last epoch kept in {args.resume_dir}",
                file=sys.stderr,
            )
        return 130
    except (ValueError, data.DatasetError, OSError) as exc:  # ModelExistsError is an OSError
        print(f"error: {exc}", file=sys.stderr)
        return 1
    r = result.record
    if args.average:
        print(f"saved {result.path}: {r['description']}, test accuracy {r['test_accuracy']:.2%}")
        return 0
    print(
        f"saved {result.path} ({r['arch']}, {r['params']:,} parameters, recipe {r['name']}): "
        f"test accuracy {r['test_accuracy']:.2%}, trained in {r['seconds']:.0f} s on "
        f"{r['accelerator'] or r['cpu']}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
