"""digitrec.predict: load once, read drawings fast, from many threads, with clear errors."""

from __future__ import annotations

import shutil
from concurrent.futures import ThreadPoolExecutor

import keras
import numpy as np
import pytest
from scipy import ndimage
from test_refusal import crescent

from digitrec import refusal, synthetic
from digitrec.predict import (
    READ_TURNS,
    TRAIN_COMMAND,
    UNSURE_BELOW,
    ModelLoadError,
    ModelNotFoundError,
    Prediction,
    Predictor,
)
from digitrec.preprocess import EmptyDrawingError, to_mnist
from digitrec.refusal import NotDigitModel
from digitrec.strokes import canvas_rgba, example_strokes, rasterise


@pytest.fixture(scope="module")
def drawings(mnist):
    """Twenty MNIST test digits redrawn on 280x280 RGBA canvases, with their labels."""
    (_, _), (x_test, y_test) = mnist
    rng = np.random.default_rng(3)
    images = []
    for digit in x_test[:20]:
        height, top, left = synthetic.random_placement(rng)
        ink = synthetic.redraw_digit(digit, height, top, left)
        images.append(synthetic.render(ink, synthetic.INK_IN_ALPHA))
    return images, y_test[:20]


def test_predict_reads_a_drawing(predictor, drawings):
    images, labels = drawings
    prediction = predictor.predict(images[0])
    assert isinstance(prediction, Prediction)
    assert prediction.digit == labels[0]
    assert prediction.probabilities.shape == (10,)
    assert prediction.probabilities.sum() == pytest.approx(1.0, abs=1e-5)
    assert prediction.confidence == pytest.approx(prediction.probabilities.max())
    assert np.array_equal(prediction.image, to_mnist(images[0]))
    assert prediction.unsure == (prediction.confidence < 0.6)


def test_drawn_digits_are_mostly_read_right(predictor, drawings):
    images, labels = drawings
    digits = [p.digit for p in predictor.predict_batch(images)]
    assert np.mean(np.array(digits) == labels) >= 0.85


def test_batch_agrees_with_single_predictions(predictor, drawings):
    images, _ = drawings
    batch = predictor.predict_batch(images[:5])
    for image, from_batch in zip(images[:5], batch, strict=True):
        single = predictor.predict(image)
        assert single.digit == from_batch.digit
        assert np.allclose(single.probabilities, from_batch.probabilities, atol=1e-5)


def test_predict_arrays_matches_keras_and_chunks(predictor, mnist):
    (_, _), (x_test, _) = mnist
    x = x_test[:2100] / 255.0  # more than one chunk
    ours = predictor.predict_arrays(x)
    reference = predictor.model.predict(x[..., None], verbose=0, batch_size=512)
    assert ours.shape == (2100, 10)
    assert np.allclose(ours, reference, atol=1e-5)


def test_many_threads_get_the_same_answers(predictor, drawings):
    images, _ = drawings
    expected = [predictor.predict(image).probabilities for image in images]
    jobs = [i % len(images) for i in range(400)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda i: (i, predictor.predict(images[i])), jobs))
    for i, prediction in results:
        assert np.allclose(prediction.probabilities, expected[i], atol=1e-5)


def test_empty_drawing_is_refused(predictor):
    with pytest.raises(EmptyDrawingError):
        predictor.predict(np.zeros((280, 280, 4), np.uint8))


def test_load_reads_the_sidecar(trained_model_path):
    predictor = Predictor.load(trained_model_path)
    assert predictor.name == "cnn"
    assert predictor.metadata["arch"] == "seed"
    assert 0.5 < predictor.metadata["test_accuracy"] <= 1.0


def test_load_uses_the_default_path(trained_model_path, monkeypatch):
    monkeypatch.setenv("DIGITREC_MODEL", str(trained_model_path))
    assert Predictor.load().metadata["params"] == 93_322


def test_missing_model_names_the_training_command(tmp_path, monkeypatch):
    monkeypatch.setenv("DIGITREC_MODEL", str(tmp_path / "cnn.keras"))
    with pytest.raises(ModelNotFoundError) as info:
        Predictor.load()
    assert str(tmp_path / "cnn.keras") in str(info.value)
    assert TRAIN_COMMAND in str(info.value)
    # The recommended model: what `make train` builds and the app serves by default.
    assert "make train" in TRAIN_COMMAND and "--recipe improved" in TRAIN_COMMAND


def test_unreadable_model_file_gives_a_clear_error(tmp_path):
    bad = tmp_path / "cnn.keras"
    bad.write_bytes(b"not a zip file at all")
    with pytest.raises(ModelLoadError, match="could not load the model") as info:
        Predictor.load(bad)
    # The command replaces the unreadable file itself, never a model elsewhere.
    assert f"--out {bad} --force" in str(info.value)
    # Keras calls such a file "not found"; it is there, and the message says what it is.
    assert "not a .keras model file, or one cut short" in str(info.value)
    assert "File not found" not in str(info.value)


def test_safe_mode_refuses_code_in_the_model_file(tmp_path):
    inputs = keras.Input((28, 28, 1))
    x = keras.layers.Flatten()(inputs)
    outputs = keras.layers.Lambda(lambda t: keras.ops.softmax(t[:, :10]))(x)
    path = tmp_path / "lambda.keras"
    keras.Model(inputs, outputs).save(path)
    with pytest.raises(ModelLoadError, match="could not load"):
        Predictor.load(path)


def test_a_model_of_the_wrong_shape_is_refused(tmp_path):
    model = keras.Sequential(
        [keras.Input((32, 32, 3)), keras.layers.Flatten(), keras.layers.Dense(5)]
    )
    path = tmp_path / "other.keras"
    model.save(path)
    with pytest.raises(ModelLoadError, match="not a digit model") as info:
        Predictor.load(path)
    assert "--force" not in str(info.value)  # it may be a good model of another kind


@pytest.mark.parametrize("record", ["[1, 2]", '"text"', "{not json"])
def test_a_record_that_is_no_json_object_is_ignored(trained_model_path, tmp_path, record):
    path = tmp_path / "cnn.keras"
    shutil.copyfile(trained_model_path, path)
    path.with_suffix(".json").write_text(record)
    predictor = Predictor.load(path)
    assert predictor.metadata == {} and predictor.unsure_below == UNSURE_BELOW


def test_turns_average_the_readings_of_the_turned_images(predictor, mnist):
    (_, _), (x_test, _) = mnist
    x = x_test[:50] / 255.0
    steadied = Predictor(predictor.model, turns=(-8, 8))
    assert steadied.turns == (-8.0, 8.0)
    views = [x] + [ndimage.rotate(x, a, axes=(1, 2), reshape=False, order=1) for a in (-8, 8)]
    expected = np.mean([predictor.predict_arrays(v) for v in views], axis=0)
    ours = steadied.predict_arrays(x)
    assert np.allclose(ours.sum(axis=1), 1.0, atol=1e-5)
    assert np.abs(ours - expected).max() < 0.02  # SciPy's and our bilinear turns agree
    assert np.abs(ours - predictor.predict_arrays(x)).max() > 0.01  # and it is not one reading


def test_without_turns_a_predictor_reads_each_image_once(predictor, mnist):
    (_, _), (x_test, _) = mnist
    x = x_test[:20] / 255.0
    alone = predictor.model(x[..., None].astype(np.float32), training=False).numpy()
    assert predictor.turns == ()
    assert np.allclose(predictor.predict_arrays(x), alone, atol=1e-6)


@pytest.mark.parametrize("turns", [(90,), (float("nan"),), (-8, 46)])
def test_turns_must_be_small_angles(predictor, turns):
    with pytest.raises(ValueError, match="at most 45 degrees"):
        Predictor(predictor.model, turns=turns)


def test_load_passes_the_turns_on(trained_model_path):
    assert Predictor.load(trained_model_path, turns=READ_TURNS).turns == READ_TURNS


def test_no_images_give_no_probabilities(predictor):
    empty = predictor.predict_arrays(np.zeros((0, 28, 28), np.float32))
    assert empty.shape == (0, 10) and empty.dtype == np.float32


@pytest.mark.parametrize(
    "record, expected",
    [
        ({"calibration": {"unsure_below": 0.86}}, 0.86),
        ({"calibration": {"unsure_below": 0.0}}, 0.0),  # the target met answering everything
        ({"calibration": {"unsure_below": -0.1}}, UNSURE_BELOW),
        ({}, UNSURE_BELOW),
        ({"calibration": {"unsure_below": 1.5}}, UNSURE_BELOW),
        ({"calibration": {"unsure_below": "0.9"}}, UNSURE_BELOW),
        ({"calibration": None}, UNSURE_BELOW),
    ],
)
def test_the_unsure_threshold_comes_from_the_models_record(predictor, record, expected):
    reader = Predictor(predictor.model, metadata=record)
    assert reader.unsure_below == expected
    probabilities = np.full(10, 0.02, np.float32)
    probabilities[3] = 0.82
    drawing = np.zeros((28, 28), np.float32)
    drawing[6:22, 12:16] = 1.0  # a 1
    reading = reader.predict_batch([drawing])[0]
    assert reading.unsure_below == expected
    between = Prediction(3, probabilities, 0.82, None, unsure_below=expected)
    assert between.unsure is (expected > 0.82)


def constant_judge(score: float) -> NotDigitModel:
    """A refusal model that gives every image the same not-a-digit score."""
    model = keras.Sequential(
        [keras.Input((28, 28, 1)), keras.layers.Flatten(), keras.layers.Dense(1, "sigmoid")]
    )
    kernel, _ = model.layers[-1].get_weights()
    logit = float(np.log(score / (1 - score)))
    model.layers[-1].set_weights([np.zeros_like(kernel), np.array([logit], np.float32)])
    return NotDigitModel(model, threshold=0.5)


TAPS = [(90, 70), (200, 80), (220, 170), (120, 210), (80, 150)]  # five taps around a ring


@pytest.mark.parametrize("pen", [6, 18, 32])
def test_a_tap_is_no_digit_whatever_the_network_says(predictor, pen):
    """`to_mnist` enlarges a tap to a filled disc, read as a 0: the refusal says no digit; nor
    are a few taps (`refusal.is_dots`), which it reads as a 6 or a 0."""
    reader = Predictor(predictor.model, refusal=constant_judge(0.01))
    tap = canvas_rgba(rasterise([[(140, 140), (141, 141)]], pen=pen))
    taps = canvas_rgba(rasterise([[(x, y), (x + 1, y)] for x, y in TAPS], pen=pen))
    one = canvas_rgba(rasterise([[(140, 60), (140, 220)]], pen=pen))
    tapped, several, drawn = reader.predict_batch([tap, taps, one])
    assert tapped.not_a_digit and several.not_a_digit and not drawn.not_a_digit
    assert not Predictor(predictor.model).predict(tap).not_a_digit  # no refusal, no verdict


def constant_reader(digit: int) -> keras.Model:
    """A digit model that reads every image as `digit`."""
    model = keras.Sequential(
        [keras.Input((28, 28, 1)), keras.layers.Flatten(), keras.layers.Dense(10, "softmax")]
    )
    kernel, _ = model.layers[-1].get_weights()
    model.layers[-1].set_weights([np.zeros_like(kernel), 5.0 * np.eye(10, dtype=np.float32)[digit]])
    return model


@pytest.mark.parametrize("pen", [6, 18, 32])
def test_a_blob_read_as_0_is_no_digit(pen):
    """A dash has no hole: read as 0 it is refused (`refusal.SOLID`), a drawn 0 is not, and
    read as 1 the dash is a short stroke the refusal model judges."""
    dash = canvas_rgba(rasterise([[(120, 140), (120 + pen, 150)]], pen=pen))
    ring = canvas_rgba(rasterise(example_strokes(0), pen=pen))
    dashed, drawn = Predictor(constant_reader(0), refusal=constant_judge(0.01)).predict_batch(
        [dash, ring]
    )
    assert dashed.digit == 0 and dashed.not_a_digit
    assert drawn.digit == 0 and not drawn.not_a_digit
    as_one = Predictor(constant_reader(1), refusal=constant_judge(0.01)).predict(dash)
    assert as_one.digit == 1 and not as_one.not_a_digit


@pytest.mark.parametrize("digit", [0, 6])
def test_a_crescent_moon_is_no_digit(digit):
    """A crescent drawn in outline is a ring whose hole is bent (`refusal.is_crescent`): read
    as 0 or 6 it is refused whatever the refusal network says; a drawn 0 or 6 is not."""
    moon = canvas_rgba(rasterise(crescent(0.9, 0.4), pen=14))
    ring = canvas_rgba(rasterise(example_strokes(digit), pen=14))
    judge = constant_judge(0.01)
    mooned, drawn = Predictor(constant_reader(digit), refusal=judge).predict_batch([moon, ring])
    assert mooned.digit == digit and mooned.not_a_digit
    assert drawn.digit == digit and not drawn.not_a_digit


@pytest.mark.parametrize("digit, refused", [(1, True), (7, True), (0, False), (4, False)])
def test_an_exclamation_mark_read_as_1_or_7_is_no_digit(digit, refused):
    """An ! is a stroke with a dot under it (`refusal.is_dotted`): read as 1 or 7 (an i, an !,
    a ?), it is refused whatever the network says; other readings are left to the network."""
    mark = canvas_rgba(
        np.maximum(rasterise([[(140, 40), (134, 190)]]), rasterise([[(132, 235), (133, 236)]]))
    )
    reading = Predictor(constant_reader(digit), refusal=constant_judge(0.01)).predict(mark)
    assert reading.digit == digit and reading.not_a_digit is refused


@pytest.mark.parametrize("score, refused", [(0.9, True), (0.1, False)])
def test_a_refusal_model_marks_readings_that_are_not_digits(predictor, score, refused):
    reader = Predictor(predictor.model, refusal=constant_judge(score))
    drawing = np.zeros((28, 28), np.float32)
    drawing[6:22, 12:16] = 1.0
    reading = reader.predict(drawing)
    assert reading.not_a_digit is refused
    assert Predictor(predictor.model).predict(drawing).not_a_digit is False


def test_a_batch_read_unjudged_leaves_the_verdict_to_the_caller(predictor):
    """`judge=False` reads as before but asks no refusal model: `not_a_digit` stays False."""
    reader = Predictor(predictor.model, refusal=constant_judge(0.9))
    drawing = np.zeros((28, 28), np.float32)
    drawing[6:22, 12:16] = 1.0
    (judged,) = reader.predict_batch([drawing])
    (unjudged,) = reader.predict_batch([drawing], judge=False)
    assert judged.not_a_digit and not unjudged.not_a_digit
    assert unjudged.digit == judged.digit
    np.testing.assert_allclose(unjudged.probabilities, judged.probabilities)


def test_load_without_a_refusal_model_reads_on_and_says_why(
    trained_model_path, tmp_path, monkeypatch
):
    monkeypatch.setattr(refusal, "DEFAULT_PATH", tmp_path / "missing.keras")
    reader = Predictor.load(trained_model_path, refusal=True)
    assert reader.refusal is None and "no refusal model" in reader.refusal_problem
    assert Predictor.load(trained_model_path).refusal_problem is None
