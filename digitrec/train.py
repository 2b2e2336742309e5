"""Train a model on MNIST and save it safely: `python -m digitrec.train --arch seed --epochs 5`.

Saving is atomic (a temporary file, then a rename) and never replaces an existing model
without `--force`, so an interrupted or mistaken run cannot cost a learner a trained model.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from digitrec import data, settings


class ModelExistsError(FileExistsError):
    """The output model exists and replacing it was not asked for."""


@dataclass
class TrainResult:
    """What a training run produced: the model, its history and the recorded metrics."""

    model: Any  # keras.Model; typed loosely so importing this module stays cheap
    history: dict[str, list[float]]
    metrics: dict[str, Any]
    path: Path | None = None
    sidecar: Path | None = None


@dataclass(frozen=True)
class Recipe:
    """Everything that decides how a model is trained, so a result can be reproduced by name."""

    arch: str
    epochs: int
    batch_size: int
    learning_rate: float = 1e-3
    schedule: str = "constant"  # or "cosine": linear warm-up, then cosine decay to zero
    warmup_epochs: float = 0.0
    augment: bool = False
    precision: str = "float32"  # or "auto": bfloat16 arithmetic where the CPU has it
    description: str = ""


RECIPES: dict[str, Recipe] = {
    "classic": Recipe(
        "seed", 5, 64, description="the course's original recipe: Adam 1e-3, batch 64, 5 epochs"
    ),
    "fast": Recipe(
        "seed",
        3,
        256,
        learning_rate=4e-3,
        schedule="cosine",
        warmup_epochs=0.3,
        description="the seed CNN in half the time: bigger batches, a higher peak learning "
        "rate, warm-up and cosine decay",
    ),
    "improved": Recipe(
        "improved",
        52,
        128,
        learning_rate=3e-3,
        schedule="cosine",
        warmup_epochs=0.5,
        augment=True,
        precision="auto",
        description="the improved CNN; half its digits redrawn with an even pen of random "
        "width, the rest thickened or thinned; elastic bends, rotation, a little zoom and shift",
    ),
}
# The model `make train` builds and the app and notebook 03 use by default.
RECOMMENDED = "improved"
# Which recipe `--arch NAME` alone means.
DEFAULT_RECIPE = {"seed": "classic", "improved": "improved", "dense": "classic"}


def train(
    arch: str = "seed",
    epochs: int = 5,
    batch_size: int = 64,
    out: str | os.PathLike[str] | None = None,
    *,
    force: bool = False,
    data_path: str | os.PathLike[str] | None = None,
    limit: int | None = None,
    validation_split: float = 0.0,
    seed: int = 0,
    verbose: int | str = "auto",
    learning_rate: float = 1e-3,
    schedule: str = "constant",
    warmup_epochs: float = 0.0,
    augment: bool = False,
    callbacks: list | None = None,
    recipe: str | None = None,
    precision: str = "float32",
) -> TrainResult:
    """Train `arch` on MNIST, evaluate on the full test set, and save to `out` if given.

    `limit` trains on a random subset (fast mode); `out=None` keeps the model in memory only.
    `recipe` only labels the run in the sidecar; use `train_recipe` to train one by name.
    `precision` "auto" trains in mixed bfloat16 where the CPU computes it natively (see
    `training_precision`); the model returned and saved always computes in float32.
    """
    policy = training_precision(precision)
    out_path = Path(out) if out is not None else None
    if out_path is not None:
        check_writable(out_path, force=force)

    (x_train, y_train), (x_test, y_test) = data.load_mnist(data_path)
    source = data.dataset_file(data_path)
    if limit is not None:
        x_train, y_train = data.take_subset(x_train, y_train, limit, seed=seed)

    import keras

    from digitrec.model import build_model, compile_model

    keras.utils.set_random_seed(seed)
    x_train = data.scale_images(x_train)
    # Hold out the last `validation_split` of the examples, as Keras's own option does.
    split_at = math.floor(len(x_train) * (1.0 - validation_split))
    x_fit, y_fit = x_train[:split_at], y_train[:split_at]
    validation = (x_train[split_at:], y_train[split_at:]) if split_at < len(x_train) else None
    from digitrec import augment as augmentation

    steps_per_epoch = augmentation.steps_per_epoch(len(x_fit), batch_size, augmenting=augment)
    with dtype_policy(policy):
        model = compile_model(
            build_model(arch),
            learning_rate_schedule(learning_rate, schedule, epochs, steps_per_epoch, warmup_epochs),
        )
    started = time.perf_counter()  # the clock includes tracing centre lines for augmentation
    if augment:
        distances = augmentation.centre_line_distances(x_fit)
        dataset = augmentation.training_dataset(
            x_fit, y_fit, batch_size, seed=seed, distances=distances
        )
        # One endless iterator for the whole run (it reshuffles every pass): Keras would
        # otherwise start a new one each epoch, which here sometimes stalled for 30 s.
        fit_data = {"x": dataset.repeat(), "steps_per_epoch": steps_per_epoch, "shuffle": False}
    else:
        fit_data = {"x": x_fit, "y": y_fit, "batch_size": batch_size}
    history = model.fit(
        **fit_data,
        epochs=epochs,
        validation_data=validation,
        verbose=verbose,
        callbacks=callbacks,
    )
    seconds = time.perf_counter() - started
    if policy != "float32":
        # The weights are float32 already; a float32 copy reads drawings on any CPU.
        trained, model = model, build_model(arch)
        model.set_weights(trained.get_weights())
    test_loss, test_accuracy = model.evaluate(
        data.scale_images(x_test), y_test, batch_size=512, verbose=0
    )
    metrics = {
        "arch": arch,
        "params": int(model.count_params()),
        "test_accuracy": float(test_accuracy),
        "test_loss": float(test_loss),
        "recipe": recipe,
        "epochs": epochs,
        "batch_size": batch_size,
        "learning_rate": learning_rate,
        "schedule": schedule,
        "warmup_epochs": warmup_epochs,
        "augment": augment,
        "precision": policy,
        "train_examples": len(x_fit),
        "validation_split": validation_split,
        "seconds": round(seconds, 2),
        "data_sha256": data.file_sha256(source) if source else None,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "versions": library_versions(),
    }
    result = TrainResult(
        model, {k: list(map(float, v)) for k, v in history.history.items()}, metrics
    )
    if out_path is not None:
        result.path, result.sidecar = save_model(model, out_path, metrics, force=force)
    return result


def train_recipe(name: str, **overrides: Any) -> TrainResult:
    """Train one of `RECIPES` by name; keyword arguments override its settings or `train`'s."""
    try:
        recipe = RECIPES[name]
    except KeyError:
        known = ", ".join(sorted(RECIPES))
        raise ValueError(f"unknown recipe {name!r}; choose one of: {known}") from None
    settings_ = {k: v for k, v in vars(recipe).items() if k != "description"}
    return train(**{**settings_, "recipe": name, **overrides})


def learning_rate_schedule(
    peak: float, schedule: str, epochs: int, steps_per_epoch: int, warmup_epochs: float = 0.0
) -> Any:
    """A constant rate, or linear warm-up to `peak` then cosine decay to zero ("cosine").

    Warm-up lets a high peak rate be used safely; the decay settles the weights at the end.
    """
    if schedule == "constant":
        return peak
    if schedule != "cosine":
        raise ValueError(f"unknown schedule {schedule!r}; choose 'constant' or 'cosine'")
    import keras

    total = max(1, epochs * steps_per_epoch)
    warmup = min(total - 1, round(warmup_epochs * steps_per_epoch))
    return keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=peak / 10 if warmup else peak,
        decay_steps=total - warmup,
        warmup_target=peak if warmup else None,
        warmup_steps=warmup,
    )


PRECISIONS = ("auto", "float32", "mixed_bfloat16")


def training_precision(precision: str = "auto") -> str:
    """The Keras dtype policy to train with: "float32", or "mixed_bfloat16" for "auto" when
    training on a CPU with bfloat16 units (Intel AMX or AVX-512 BF16), which run the
    convolutions several times faster; elsewhere bfloat16 may be emulated and slow.
    """
    if precision not in PRECISIONS:
        known = ", ".join(PRECISIONS)
        raise ValueError(f"unknown precision {precision!r}; choose one of: {known}")
    if precision != "auto":
        return precision
    return "mixed_bfloat16" if cpu_has_bfloat16() and not _has_gpu() else "float32"


def _has_gpu() -> bool:
    import tensorflow as tf

    return bool(tf.config.list_physical_devices("GPU"))


def cpu_has_bfloat16() -> bool:
    """True on a Linux CPU that advertises bfloat16 arithmetic (amx_bf16 or avx512_bf16)."""
    try:
        flags = Path("/proc/cpuinfo").read_text().split()
    except OSError:
        return False
    return "amx_bf16" in flags or "avx512_bf16" in flags


@contextmanager
def dtype_policy(name: str) -> Iterator[None]:
    """Build layers under Keras's global dtype policy `name`, then restore the previous one."""
    import keras

    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy(name)
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy(previous)


def ensure_model(path: str | os.PathLike[str] | None = None) -> Path:
    """Return a trained model's path, training a quick one first (and saying so) if none.

    Lets every notebook also run on its own: a real lesson trains one epoch on all of MNIST
    (about 98.5 %), fast mode one epoch on 5,000 digits.
    """
    model_path = Path(path) if path is not None else settings.default_model_path()
    if model_path.is_file():
        return model_path
    limit = 5_000 if settings.fast_mode() else None
    print(
        f"No trained model at {model_path}: training a quick one now (1 epoch"
        f"{' on 5,000 digits, fast mode' if limit else ' on all of MNIST'}). "
        "Notebook 02 or `make train` trains the real one."
    )
    result = train("seed", epochs=1, out=model_path, limit=limit, verbose=0)
    print(f"Quick model saved: test accuracy {result.metrics['test_accuracy']:.2%}")
    return model_path


def check_writable(out: Path, *, force: bool) -> None:
    """Refuse early (before any training) if `out` exists or has the wrong suffix."""
    if out.suffix != ".keras":
        raise ValueError(f"the model file must end in .keras, got {out}")
    if out.exists() and not force:
        raise ModelExistsError(
            f"{out} already exists; pass --force to replace it (or choose another --out)"
        )


def save_model(
    model: Any, out: Path, metrics: dict[str, Any], *, force: bool = False
) -> tuple[Path, Path]:
    """Write the model and its JSON sidecar atomically: temporary files, then renames."""
    check_writable(out, force=force)
    out.parent.mkdir(parents=True, exist_ok=True)
    sidecar = settings.sidecar_path(out)
    tmp_model = out.with_name(f".{out.stem}.{os.getpid()}.tmp.keras")
    tmp_sidecar = sidecar.with_name(f".{sidecar.stem}.{os.getpid()}.tmp.json")
    try:
        model.save(tmp_model)
        tmp_sidecar.write_text(json.dumps(metrics, indent=2) + "\n")
        os.replace(tmp_model, out)
        os.replace(tmp_sidecar, sidecar)
    finally:
        tmp_model.unlink(missing_ok=True)
        tmp_sidecar.unlink(missing_ok=True)
    return out, sidecar


def library_versions() -> dict[str, str]:
    """Versions that decide whether a saved model loads and behaves the same elsewhere."""
    import keras
    import numpy
    import tensorflow

    return {
        "python": platform.python_version(),
        "tensorflow": tensorflow.__version__,
        "keras": keras.__version__,
        "numpy": numpy.__version__,
    }


def _parser() -> argparse.ArgumentParser:
    from digitrec.model import ARCHITECTURES

    def positive(text: str) -> int:
        value = int(text)
        if value < 1:
            raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
        return value

    def fraction(text: str) -> float:
        value = float(text)
        if not 0.0 <= value < 1.0:
            raise argparse.ArgumentTypeError(f"must be in [0, 1), got {value}")
        return value

    def rate(text: str) -> float:
        value = float(text)
        if not 0.0 < value < 1.0:
            raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {value}")
        return value

    recipes = "; ".join(f"{name}: {r.description}" for name, r in RECIPES.items())
    parser = argparse.ArgumentParser(
        prog="python -m digitrec.train",
        description="Train a digit recogniser on MNIST.",
        epilog=f"Recipes -- {recipes}. `--arch seed` alone means the classic recipe; "
        f"the recommended one is {RECOMMENDED!r}. Any option given overrides the recipe.",
    )
    parser.add_argument("--recipe", choices=sorted(RECIPES), default=None)
    parser.add_argument("--arch", choices=sorted(ARCHITECTURES), default=None)
    parser.add_argument("--epochs", type=positive, default=None)
    parser.add_argument("--batch-size", type=positive, default=None)
    parser.add_argument("--learning-rate", type=rate, default=None, help="peak rate")
    parser.add_argument("--schedule", choices=("constant", "cosine"), default=None)
    parser.add_argument("--augment", action=argparse.BooleanOptionalAction, default=None)
    parser.add_argument(
        "--precision",
        choices=PRECISIONS,
        default=None,
        help="auto: bfloat16 arithmetic on CPUs that have it (the model is saved as float32)",
    )
    parser.add_argument(
        "--out", type=Path, default=None, help="model file (default: models/cnn.keras)"
    )
    parser.add_argument("--force", action="store_true", help="replace an existing model")
    parser.add_argument("--data", type=Path, default=None, help="a local mnist.npz")
    parser.add_argument("--limit", type=positive, default=None, help="train on N examples")
    parser.add_argument("--validation-split", type=fraction, default=0.0)
    parser.add_argument("--seed", type=int, default=0)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit status."""
    args = _parser().parse_args(argv)
    out = args.out or settings.default_model_path()
    recipe = args.recipe or DEFAULT_RECIPE[args.arch or "seed"]
    overrides = {
        key: value
        for key, value in (
            ("arch", args.arch),
            ("epochs", args.epochs),
            ("batch_size", args.batch_size),
            ("learning_rate", args.learning_rate),
            ("schedule", args.schedule),
            ("augment", args.augment),
            ("precision", args.precision),
        )
        if value is not None
    }
    try:
        check_writable(out, force=args.force)
        result = train_recipe(
            recipe,
            **overrides,
            out=out,
            force=args.force,
            data_path=args.data,
            limit=args.limit,
            validation_split=args.validation_split,
            seed=args.seed,
        )
    except KeyboardInterrupt:
        print(f"\ninterrupted: nothing was written; {out} is unchanged", file=sys.stderr)
        return 130
    except (ModelExistsError, ValueError, data.DatasetError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    m = result.metrics
    print(
        f"saved {result.path} ({m['arch']}, {m['params']:,} parameters, recipe {recipe}): "
        f"test accuracy {m['test_accuracy']:.2%}, trained in {m['seconds']:.0f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
