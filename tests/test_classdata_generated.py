"""The stand-in class set (imaginary writers, each with a hand of their own) and where the
class set is configured."""

from __future__ import annotations

import numpy as np
import pytest

from digitrec import classdata, settings
from digitrec.preprocess import MNIST_BOX


@pytest.fixture(scope="module")
def test_digits(mnist):
    (_, _), (x_test, y_test) = mnist
    return x_test[:1000], y_test[:1000]


@pytest.fixture(scope="module")
def generated(test_digits):
    return classdata.generated_class_set(*test_digits, writers=4, per_digit=2, seed=3)


def test_every_writer_draws_every_digit_from_distinct_source_digits(generated, test_digits):
    x, y = test_digits
    assert len(generated) == 4 * 10 * 2
    assert generated.images.shape == (80, 28, 28) and generated.images.dtype == np.float32
    names = [f"generated/writer {n:02d}" for n in range(1, 5)]
    assert np.unique(generated.writers).tolist() == names
    for name in names:
        mine = generated.writers == name
        assert np.bincount(generated.labels[mine], minlength=10).tolist() == [2] * 10
    assert len(set(generated.ids.tolist())) == 80, "no source digit is used twice"
    assert np.array_equal(y[generated.ids], generated.labels)


def test_drawings_are_in_mnist_form(generated):
    ink = generated.images > 0.1
    heights, widths = ink.any(axis=2).sum(axis=1), ink.any(axis=1).sum(axis=1)
    assert np.all(np.maximum(heights, widths) <= MNIST_BOX + 1)
    assert np.all(generated.images.max(axis=(1, 2)) > 0.9)


def test_each_writer_has_a_hand_of_their_own(generated):
    """Their drawings differ more between writers than within one writer (stroke ink)."""
    ink = generated.images.sum(axis=(1, 2))
    names = np.unique(generated.writers)
    means = np.array([ink[generated.writers == n].mean() for n in names])
    within = np.mean([ink[generated.writers == n].std() for n in names])
    assert means.std() > 0.5 * within


def test_the_same_seed_gives_the_same_class(test_digits, generated):
    again = classdata.generated_class_set(*test_digits, writers=4, per_digit=2, seed=3)
    np.testing.assert_array_equal(again.images, generated.images)
    other = classdata.generated_class_set(*test_digits, writers=4, per_digit=2, seed=4)
    assert not np.array_equal(other.ids, generated.ids)


@pytest.mark.parametrize(
    "shape, writers, per_digit, words",
    [
        ((10, 28, 28), 1, 2, "not enough source digits"),
        ((20, 20, 20), 1, 1, r"shape \(N, 28, 28\)"),
        ((100, 28, 28), 0, 1, "at least 1"),
    ],
)
def test_bad_requests_are_clear_errors(test_digits, shape, writers, per_digit, words):
    x, y = test_digits
    digits = x[: shape[0], : shape[1], : shape[2]]
    with pytest.raises(ValueError, match=words):
        classdata.generated_class_set(digits, y[: shape[0]], writers=writers, per_digit=per_digit)


def test_configured_path_comes_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.delenv(classdata.PATH_ENV, raising=False)
    assert classdata.configured_path() is None
    monkeypatch.setenv(classdata.PATH_ENV, "  ")
    assert classdata.configured_path() is None
    monkeypatch.setenv(classdata.PATH_ENV, str(tmp_path / "class.sqlite"))
    assert classdata.configured_path() == tmp_path / "class.sqlite"
    # A relative path is from the project root, wherever the process runs (a notebook's
    # kernel runs in notebooks/).
    monkeypatch.setattr(settings, "project_root", lambda: tmp_path)
    (tmp_path / "notebooks").mkdir()
    monkeypatch.chdir(tmp_path / "notebooks")
    monkeypatch.setenv(classdata.PATH_ENV, "data/class.sqlite")
    assert classdata.configured_path() == tmp_path / "data" / "class.sqlite"
