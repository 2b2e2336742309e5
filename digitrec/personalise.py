"""Fine-tuning: teach a copy of a trained model a new hand from a few of its drawings.

A model trained on MNIST reads the hands MNIST holds. Training it a little more, at a small
learning rate, on drawings of a class (or of one learner) adapts it to their style. Two things
can go wrong, and `fine_tune` guards against both:

- *forgetting*: a few hundred drawings pull the weights towards them and the model reads MNIST
  worse. Each fine-tuning batch therefore mixes in MNIST training digits (`mnist_mix` of them
  per drawing), so the old task stays in the loss;
- *overfitting*: with so few examples, many epochs learn the drawings by heart. A few epochs
  at a small rate are the default; `augment` (a `digitrec.augment.Augmentation`) also varies
  each drawing a little every epoch, so a few drawings go further.

The model passed in is never changed: a copy is trained and returned, so a lesson can compare
the two. Notebooks 06 (a learner's own digits, `digitrec.my_digits`) and 07 (tuned on some
writers of a class, tested on the others) write its steps out in a cell, and tests keep those
cells and this function in step. Notebook 07 also writes out its split by writer and checks
it against `split_by_writer`.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np

from digitrec import augment as augmentation
from digitrec import data
from digitrec.constants import MNIST_SIZE, NUM_CLASSES

EPOCHS = 3
LEARNING_RATE = 1e-4
BATCH_SIZE = 32
MNIST_MIX = 8  # MNIST training digits mixed in per drawing, so the model does not forget


def copy_model(model: keras.Model) -> keras.Model:
    """A new model with the same layers and weights; training it leaves `model` alone."""
    copy = keras.models.clone_model(model)
    copy.set_weights(model.get_weights())
    return copy


def fine_tune(
    model: keras.Model,
    images: np.ndarray,
    labels: np.ndarray,
    *,
    epochs: int = EPOCHS,
    learning_rate: float = LEARNING_RATE,
    batch_size: int = BATCH_SIZE,
    mnist_mix: float = MNIST_MIX,
    mnist: tuple[np.ndarray, np.ndarray] | None = None,
    augment: augmentation.Augmentation | None = None,
    seed: int = 0,
    verbose: int | str = 0,
) -> keras.Model:
    """A copy of `model` trained `epochs` more passes on `images` plus some MNIST digits.

    `images`: drawings in MNIST form, (N, 28, 28) (or (N, 28, 28, 1)), float in [0, 1] as
    `to_mnist` gives, or uint8; `labels`: their digits. `mnist_mix` MNIST digits per drawing
    are drawn at random (without repeats) from `mnist` = (x, y), by default MNIST's training
    set; 0 mixes in none. `augment`: vary every digit (drawings and MNIST's alike) each epoch
    with this augmentation. `seed` fixes the draw, the shuffling and the augmentation.
    """
    x_new, y_new = _checked(images, labels)
    for name, value in (("epochs", epochs), ("batch_size", batch_size)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a whole number of at least 1, got {value!r}")
    if not 0.0 < learning_rate < 1.0:
        raise ValueError(f"learning_rate must be between 0 and 1, got {learning_rate!r}")
    if mnist_mix < 0:
        raise ValueError(f"mnist_mix must be 0 or more, got {mnist_mix!r}")
    x_old, y_old = _mnist_sample(round(mnist_mix * len(y_new)), mnist, seed)
    x = np.concatenate([x_new, x_old])[..., np.newaxis]
    y = np.concatenate([y_new, y_old])

    keras.utils.set_random_seed(seed)
    tuned = copy_model(model)
    tuned.compile(
        optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    if augment is None:
        tuned.fit(x, y, epochs=epochs, batch_size=batch_size, shuffle=True, verbose=verbose)
        return tuned
    dataset = augmentation.training_dataset(x, y, batch_size, config=augment, seed=seed)
    steps = augmentation.steps_per_epoch(len(y), batch_size, augmenting=True)
    tuned.fit(
        dataset.repeat(), steps_per_epoch=steps, epochs=epochs, shuffle=False, verbose=verbose
    )
    return tuned


def split_by_writer(
    writers: np.ndarray, test_writers: int | float = 0.5, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Boolean masks (tune, test) over the drawings, with every writer on one side only.

    `test_writers`: how many writers to test on (an int), or what fraction of them (a float
    below 1); both sides keep at least one writer. Testing on writers the model was never
    tuned on measures how well it reads *new* people, not whether it remembers these ones.
    """
    writers = np.asarray(writers)
    names = np.unique(writers)
    if len(names) < 2:
        raise ValueError(f"a split by writer needs at least 2 writers, got {len(names)}")
    if isinstance(test_writers, float) and 0.0 < test_writers < 1.0:
        count = round(test_writers * len(names))
    elif isinstance(test_writers, int) and not isinstance(test_writers, bool):
        count = test_writers
    else:
        raise ValueError(
            f"test_writers must be a number of writers or a fraction below 1, got {test_writers!r}"
        )
    count = min(max(count, 1), len(names) - 1)
    chosen = np.random.default_rng(seed).choice(names, size=count, replace=False)
    test = np.isin(writers, chosen)
    return ~test, test


def _checked(images: Any, labels: Any) -> tuple[np.ndarray, np.ndarray]:
    """Float (N, 28, 28) images and int labels 0-9 of the same length, or a ValueError."""
    x = data.as_float_images(images)
    if x.shape[1:] != (MNIST_SIZE, MNIST_SIZE):
        raise ValueError(f"images must be (N, 28, 28) in MNIST form, got {np.shape(images)}")
    y = np.asarray(labels)
    if y.shape != (len(x),):
        raise ValueError(f"expected {len(x)} labels, one per image, got shape {y.shape}")
    if len(x) == 0:
        raise ValueError("no drawings to fine-tune on")
    if not np.issubdtype(y.dtype, np.integer) or y.min() < 0 or y.max() >= NUM_CLASSES:
        raise ValueError("labels must be whole numbers from 0 to 9")
    return x, y.astype(np.int64)


def _mnist_sample(
    count: int, mnist: tuple[np.ndarray, np.ndarray] | None, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """`count` random digits from `mnist` (default: MNIST's training set), as floats."""
    if count == 0:
        return np.zeros((0, MNIST_SIZE, MNIST_SIZE), np.float32), np.zeros(0, np.int64)
    if mnist is None:
        mnist = data.load_mnist()[0]
    x, y = data.take_subset(*mnist, count, seed=seed)
    return _checked(x, y)
