"""Fine-tuning a copy of a real, small CNN on a hand it reads badly: MNIST digits turned 90°."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from digitrec import augment, personalise
from digitrec.data import scale_images


def turned(images: np.ndarray) -> np.ndarray:
    """A 'hand' MNIST never shows: every digit turned a quarter turn."""
    return np.rot90(images, axes=(1, 2)).copy()


def accuracy(model: keras.Model, images: np.ndarray, labels: np.ndarray) -> float:
    guesses = model.predict(scale_images(images), verbose=0).argmax(axis=1)
    return float((guesses == labels).mean())


@pytest.fixture(scope="module")
def small_cnn(mnist) -> keras.Model:
    """A small CNN trained for 2 epochs on 4,000 MNIST digits (a few seconds)."""
    (x_train, y_train), _ = mnist
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            keras.layers.Conv2D(8, 3, activation="relu"),
            keras.layers.MaxPooling2D(),
            keras.layers.Flatten(),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(scale_images(x_train[:4000]), y_train[:4000], epochs=2, batch_size=64, verbose=0)
    return model


@pytest.mark.slow
def test_fine_tuning_learns_a_new_hand_and_mixing_in_mnist_limits_forgetting(small_cnn, mnist):
    (x_train, y_train), (x_test, y_test) = mnist
    tune_x, tune_y = turned(x_test[:300]), y_test[:300]
    held_x, held_y = turned(x_test[300:600]), y_test[300:600]  # other digits, same hand
    mnist_x, mnist_y = x_test[1000:3000], y_test[1000:3000]
    weights = [w.copy() for w in small_cnn.get_weights()]
    pool = (x_train[4000:10000], y_train[4000:10000])  # digits the small CNN never saw
    options = {"epochs": 5, "learning_rate": 1e-3, "mnist": pool}

    mixed = personalise.fine_tune(small_cnn, tune_x, tune_y, **options)
    unmixed = personalise.fine_tune(small_cnn, tune_x, tune_y, mnist_mix=0, **options)

    before = accuracy(small_cnn, held_x, held_y)
    assert accuracy(mixed, held_x, held_y) > before + 0.25, "it learned the new hand"
    assert accuracy(mixed, mnist_x, mnist_y) > accuracy(unmixed, mnist_x, mnist_y) + 0.02
    assert all(np.array_equal(a, b) for a, b in zip(weights, small_cnn.get_weights(), strict=True))
    assert mixed is not small_cnn and mixed.count_params() == small_cnn.count_params()


@pytest.mark.slow
def test_fine_tuning_with_augmentation_trains_a_copy(small_cnn, mnist):
    (x_train, y_train), (x_test, y_test) = mnist
    pool = (x_train[4000:5000], y_train[4000:5000])
    tuned = personalise.fine_tune(
        small_cnn, x_test[:64], y_test[:64], epochs=1, mnist=pool, augment=augment.DEFAULT
    )
    changed = [
        not np.array_equal(a, b)
        for a, b in zip(tuned.get_weights(), small_cnn.get_weights(), strict=True)
    ]
    assert all(changed)
    assert accuracy(tuned, x_test[1000:1500], y_test[1000:1500]) > 0.5


def test_copy_model_shares_no_weights():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    copy = personalise.copy_model(model)
    copy.layers[0].kernel.assign(np.zeros((4, 2)))
    assert np.abs(model.layers[0].kernel.numpy()).sum() > 0


@pytest.mark.parametrize(
    "images, labels, options, message",
    [
        (np.zeros((3, 28, 28)), np.array([1, 2]), {}, "expected 3 labels"),
        (np.zeros((2, 20, 20)), np.array([1, 2]), {}, r"must be \(N, 28, 28\)"),
        (np.zeros((0, 28, 28)), np.array([], int), {}, "no drawings"),
        (np.zeros((2, 28, 28)), np.array([1, 10]), {}, "from 0 to 9"),
        (np.zeros((2, 28, 28)), np.array([1.0, 2.0]), {}, "whole numbers"),
        (np.zeros((2, 28, 28)), np.array([1, 2]), {"epochs": 0}, "epochs must be"),
        (np.zeros((2, 28, 28)), np.array([1, 2]), {"learning_rate": 2.0}, "learning_rate"),
        (np.zeros((2, 28, 28)), np.array([1, 2]), {"mnist_mix": -1}, "mnist_mix"),
    ],
)
def test_bad_input_is_a_clear_value_error(images, labels, options, message):
    model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten()])
    with pytest.raises(ValueError, match=message):
        personalise.fine_tune(model, images, labels, **options)


def test_split_by_writer_keeps_every_writer_on_one_side():
    writers = np.repeat([f"7b/w{n}" for n in range(7)], 10)
    tune, test = personalise.split_by_writer(writers, test_writers=0.3, seed=4)
    assert (tune ^ test).all(), "every drawing on exactly one side"
    assert not set(writers[tune]) & set(writers[test])
    assert len(set(writers[test])) == 2 and len(set(writers[tune])) == 5
    again = personalise.split_by_writer(writers, test_writers=0.3, seed=4)
    assert np.array_equal(again[1], test), "the same seed, the same split"


@pytest.mark.parametrize("count, expected", [(1, 1), (5, 4), (0, 1)])
def test_split_by_writer_leaves_a_writer_on_each_side(count, expected):
    writers = np.array(["a", "b", "c", "d", "e"])
    _, test = personalise.split_by_writer(writers, test_writers=count)
    assert test.sum() == expected


def test_split_by_writer_needs_two_writers_and_a_sensible_share():
    with pytest.raises(ValueError, match="at least 2 writers"):
        personalise.split_by_writer(np.array(["a", "a"]))
    with pytest.raises(ValueError, match="test_writers must be"):
        personalise.split_by_writer(np.array(["a", "b"]), test_writers=1.5)


@pytest.mark.slow
@pytest.mark.parametrize("mnist_mix", [2, 0.5, 0])
def test_notebook_07_writes_out_what_fine_tune_does(small_cnn, mnist, mnist_mix):
    """Notebook 07's cell tagged `fine-tune` (copy, mix in MNIST, compile and fit, written out
    for the learner) trains the same weights as `personalise.fine_tune`."""
    from types import SimpleNamespace

    from test_course_model import NOTEBOOKS, tagged_source

    from digitrec import data

    (x_train, y_train), (x_test, y_test) = mnist
    images, labels = scale_images(turned(x_test[:40]))[..., 0], y_test[:40]
    tune = np.arange(40) % 3 != 0
    pool_x, pool_y = x_train[4000:6000], y_train[4000:6000]
    settings = {"SEED": 3, "EPOCHS": 2, "LEARNING_RATE": 1e-3, "BATCH_SIZE": 16}
    namespace = {
        "keras": keras,
        "np": np,
        "data": data,
        "personalise": personalise,
        "model": small_cnn,
        "class_set": SimpleNamespace(images=images, labels=labels),
        "tune": tune,
        "x_train": pool_x,
        "y_train": pool_y,
        "MNIST_MIX": mnist_mix,
        **settings,
    }
    source = tagged_source(NOTEBOOKS / "07_how_well_does_it_read_us.ipynb", "fine-tune")
    exec(compile(source.replace("verbose=2", "verbose=0"), "<fine-tune cell>", "exec"), namespace)

    expected = personalise.fine_tune(
        small_cnn,
        images[tune],
        labels[tune],
        epochs=settings["EPOCHS"],
        learning_rate=settings["LEARNING_RATE"],
        batch_size=settings["BATCH_SIZE"],
        mnist_mix=mnist_mix,
        mnist=(pool_x, pool_y),
        seed=settings["SEED"],
    )
    ours = namespace["tuned"].get_weights()
    assert len(namespace["y_tune"]) == tune.sum() * (1 + mnist_mix)
    for mine, theirs in zip(ours, expected.get_weights(), strict=True):
        np.testing.assert_allclose(mine, theirs, rtol=1e-5, atol=1e-6)
    assert not all(np.allclose(a, b) for a, b in zip(ours, small_cnn.get_weights(), strict=True))


@pytest.mark.slow
@pytest.mark.parametrize("mnist_mix", [2, 0])
def test_notebook_06_writes_out_what_fine_tune_does(small_cnn, mnist, mnist_mix):
    """Notebook 06's cell tagged `fine-tune` (the copy, the MNIST mixed in, `compile` and
    `fit`, for `MNIST_MIX` and for none) trains the same weights as `personalise.fine_tune`."""
    import time
    from types import SimpleNamespace

    from test_course_model import NOTEBOOKS, tagged_source

    from digitrec import data

    (x_train, y_train), (x_test, y_test) = mnist
    images, labels = scale_images(turned(x_test[:30]))[..., 0], y_test[:30]
    pool_x, pool_y = x_train[4000:6000], y_train[4000:6000]
    settings = {"SEED": 2, "TUNE_EPOCHS": 2, "TUNE_LEARNING_RATE": 1e-3, "MNIST_MIX": mnist_mix}
    namespace = {
        "keras": keras,
        "np": np,
        "time": time,
        "data": data,
        "personalise": personalise,
        "recommended": SimpleNamespace(model=small_cnn),
        "x_tune_augmented": images,
        "y_tune_augmented": labels,
        "x_train": pool_x,
        "y_train": pool_y,
        **settings,
    }
    source = tagged_source(NOTEBOOKS / "06_make_it_robust_and_yours.ipynb", "fine-tune")
    exec(compile(source, "<fine-tune cell>", "exec"), namespace)

    tuned = namespace["tuned"]
    assert sorted(tuned) == sorted({mnist_mix, 0})  # one run when MNIST_MIX is 0
    for mix, model in tuned.items():
        expected = personalise.fine_tune(
            small_cnn,
            images,
            labels,
            epochs=settings["TUNE_EPOCHS"],
            learning_rate=settings["TUNE_LEARNING_RATE"],
            mnist_mix=mix,
            mnist=(pool_x, pool_y),
            seed=settings["SEED"],
        )
        for mine, theirs in zip(model.get_weights(), expected.get_weights(), strict=True):
            np.testing.assert_allclose(mine, theirs, rtol=1e-5, atol=1e-6)
    if mnist_mix:  # mixing MNIST in changes what the copy learns
        mixed, unmixed = tuned[mnist_mix].get_weights(), tuned[0].get_weights()
        assert not all(np.allclose(a, b) for a, b in zip(mixed, unmixed, strict=True))
