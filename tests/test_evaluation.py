"""digitrec.evaluation: confusion matrix and the numbers derived from it."""

from __future__ import annotations

import numpy as np
import pytest

from digitrec import evaluation


def test_confusion_matrix_matches_tensorflow(rng):
    import tensorflow as tf

    y_true = rng.integers(0, 10, 500)
    y_pred = np.where(rng.random(500) < 0.8, y_true, rng.integers(0, 10, 500))
    ours = evaluation.confusion_matrix(y_true, y_pred)
    theirs = tf.math.confusion_matrix(y_true, y_pred, num_classes=10).numpy()
    np.testing.assert_array_equal(ours, theirs)
    assert ours.sum() == 500


def test_confusion_matrix_accepts_probabilities():
    probabilities = np.eye(10)[[3, 3, 5]]
    matrix = evaluation.confusion_matrix(np.array([3, 5, 5]), probabilities)
    assert matrix[3, 3] == 1 and matrix[5, 3] == 1 and matrix[5, 5] == 1
    assert matrix.sum() == 3


def test_confusion_matrix_rejects_bad_labels():
    with pytest.raises(ValueError, match="labels 0-9"):
        evaluation.confusion_matrix(np.array([10]), np.array([1]))
    with pytest.raises(ValueError, match="2 labels but y_pred has 3"):
        evaluation.confusion_matrix(np.array([1, 2]), np.array([1, 2, 3]))


def test_accuracy():
    assert evaluation.accuracy(np.array([1, 2, 3, 4]), np.array([1, 2, 0, 4])) == 0.75
    assert np.isnan(evaluation.accuracy(np.array([], int), np.array([], int)))


def test_per_class_accuracy_is_recall_and_nan_for_absent_classes():
    matrix = evaluation.confusion_matrix(np.array([0, 0, 0, 1]), np.array([0, 0, 7, 1]))
    accuracy = evaluation.per_class_accuracy(matrix)
    assert accuracy[0] == pytest.approx(2 / 3) and accuracy[1] == 1.0
    assert np.isnan(accuracy[2:]).all()


def test_most_confused_pairs_biggest_first_and_only_real_mistakes():
    y_true = np.array([4, 4, 4, 7, 7, 2])
    y_pred = np.array([9, 9, 4, 1, 7, 2])
    pairs = evaluation.most_confused_pairs(evaluation.confusion_matrix(y_true, y_pred), k=5)
    assert pairs == [(4, 9, 2), (7, 1, 1)]
    assert pairs[0].true == 4 and pairs[0].predicted == 9 and pairs[0].count == 2


def test_most_confused_pairs_empty_when_perfect():
    labels = np.arange(10)
    assert evaluation.most_confused_pairs(evaluation.confusion_matrix(labels, labels)) == []


def test_misclassified_most_confident_first():
    probabilities = np.full((4, 10), 0.0)
    probabilities[0, 1] = 1.0  # right
    probabilities[1, 2], probabilities[1, 3] = 0.6, 0.4  # wrong, 60 %
    probabilities[2, 5] = 1.0  # wrong, 100 %
    probabilities[3, 3] = 1.0  # right
    wrong = evaluation.misclassified(np.array([1, 3, 6, 3]), probabilities)
    np.testing.assert_array_equal(wrong, [2, 1])


def test_on_a_real_model(mnist, predictor):
    (_, _), (x_test, y_test) = mnist
    probabilities = predictor.predict_arrays(x_test[:1000] / 255.0)
    matrix = evaluation.confusion_matrix(y_test[:1000], probabilities)
    accuracy = evaluation.accuracy(y_test[:1000], probabilities)
    assert accuracy > 0.9
    assert np.trace(matrix) / matrix.sum() == pytest.approx(accuracy)
    assert len(evaluation.misclassified(y_test[:1000], probabilities)) == matrix.sum() - np.trace(
        matrix
    )
