"""digitrec.refusal: the shipped model refuses non-digits and lets drawn digits through."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
from scipy import ndimage

from digitrec import negatives, refusal, refusal_training, strokes, synthetic
from digitrec.constants import PEN_WIDTH
from digitrec.preprocess import preprocess_stages, to_mnist
from digitrec.strokes import example_strokes, rasterise


@pytest.fixture(scope="module")
def shipped() -> refusal.NotDigitModel:
    return refusal.NotDigitModel.load()


def test_the_shipped_model_is_small_and_records_how_it_was_made(shipped):
    assert refusal.DEFAULT_PATH.stat().st_size <= 1_000_000
    assert 0.0 < shipped.threshold < 1.0
    # trained, then polished with the kinds of drawing training leaves out
    assert shipped.metadata["command"].startswith(refusal_training.POLISH_COMMAND)
    assert shipped.metadata["polished_from"]["command"].startswith(refusal.TRAIN_COMMAND)
    assert {"held_out_digits_refused", "held_out_negatives_refused"} <= set(shipped.metadata)


def test_shapes_it_never_trained_on_are_mostly_refused(shipped):
    """Measured, not read from its record: of the pictures kept out of its training
    (`negatives.UNSEEN_SHAPES`), drawn with the pad's pen, it refused 86 % at this seed."""
    rng = np.random.default_rng(7)
    rates = [
        shipped.refuse(
            np.stack([to_mnist(negatives.draw_shape(kind, rng, pen=PEN_WIDTH)) for _ in range(20)])
        ).mean()
        for kind in negatives.UNSEEN_SHAPES
    ]
    assert np.mean(rates) >= 0.8


def test_digits_drawn_from_code_are_not_refused(shipped):
    images = np.stack(
        [to_mnist(rasterise(example_strokes(d, height=h))) for d in range(10) for h in (120, 200)]
    )
    assert not shipped.refuse(images).any()


def turned(strokes: list, degrees: float) -> list:
    """Strokes turned about the canvas's middle."""
    cos, sin = np.cos(np.radians(degrees)), np.sin(np.radians(degrees))
    return [
        [
            (140 + (x - 140) * cos - (y - 140) * sin, 140 + (x - 140) * sin + (y - 140) * cos)
            for x, y in stroke
        ]
        for stroke in strokes
    ]


@pytest.mark.parametrize("pen", [9, 18, 36])
def test_digits_written_as_mnist_writers_rarely_wrote_them_are_not_refused(shipped, pen):
    """A 1 with a flag and a base, a tall narrow 0 and a 7 tilted 30 degrees."""
    serif_one = [[(105, 70), (140, 40), (140, 240)], [(100, 240), (180, 240)]]
    drawings = [
        serif_one,
        example_strokes(0, height=230, width=70, top=25),
        turned(example_strokes(7), 30),
    ]
    images = np.stack([to_mnist(rasterise(strokes, pen=pen)) for strokes in drawings])
    assert not shipped.refuse(images).any()


@pytest.mark.parametrize("kind", ["square", "star", "hash", "spiral", "cross"])
def test_shapes_drawn_on_the_canvas_are_mostly_refused(shipped, kind):
    rng = np.random.default_rng(7)
    images = np.stack([to_mnist(negatives.draw_shape(kind, rng, pen=PEN_WIDTH)) for _ in range(20)])
    assert shipped.refuse(images).mean() >= 0.8


def tap(x: float, y: float, pen: float, drag: float = 0.0) -> np.ndarray:
    """A tap of the pen on the canvas, or a drag of `drag` pen widths: ink."""
    return rasterise([[(x, y), (x + drag * pen, y + drag * pen / 2)]], pen=pen)


@pytest.mark.parametrize("pen", [4, 6, 18, 32])
@pytest.mark.parametrize("drag", [0.0, 0.25])
def test_a_tap_is_a_dot(pen, drag):
    assert refusal.is_dot(tap(140, 140, pen, drag))
    assert refusal.is_dot(tap(20, 260, pen, drag))


def test_digits_and_lines_are_shapes_not_dots():
    """Even drawn small with the thickest pen, a digit is longer than `DOT` pen widths."""
    small_thick = [rasterise(example_strokes(d, height=70), pen=32) for d in range(10)]
    lines = [rasterise([[(140, 60), (140, 220)]]), rasterise([[(60, 140), (220, 140)]])]
    dash = tap(140, 140, 18, drag=1.0)  # a dash is a shape: the network judges it
    for ink in [*small_thick, *lines, dash]:
        assert not refusal.is_dot(ink)
    assert not refusal.is_dot(np.zeros((28, 28)))  # no ink: nothing to call a dot


@pytest.mark.parametrize("pen", [6, 18, 32])
def test_taps_and_nothing_else_are_dots(pen):
    """A few taps in a ring, a colon: dots, each by its own pen. One tap is a dot, not dots;
    a digit with a tap beside it, or a 5's bar drawn apart, is more than dots."""
    ring = [tap(140 + 90 * np.cos(a), 140 + 90 * np.sin(a), pen) for a in np.arange(5) * 1.3]
    colon = [tap(140, 100, pen), tap(140, 180, pen, drag=0.25)]
    for taps in (ring, colon):
        assert refusal.is_dots(preprocess_stages(np.max(taps, axis=0)).crop)
    five = rasterise([[(100, 60), (190, 60)], [(100, 90), (95, 140), (170, 150), (160, 220)]])
    beside = np.maximum(rasterise(example_strokes(3, height=180), pen=pen), tap(250, 250, pen))
    for ink in (tap(140, 140, pen), five, beside):
        assert not refusal.is_dots(ink)
    assert not refusal.is_dots(np.zeros((28, 28)))


@pytest.mark.parametrize("pen", [6, 18, 32])
@pytest.mark.parametrize("drag", [0.5, 1.0, 2.0])
def test_a_dash_is_a_blob(pen, drag):
    """A short drag of the pen has no hole and fills its outline: no ring, so no 0."""
    assert refusal.is_blob(preprocess_stages(tap(140, 140, pen, drag)).crop)


@pytest.mark.parametrize("pen", [9, 18, 32])
def test_digits_are_rings_and_strokes_not_blobs(pen):
    """Drawn from code, 120 and 200 px tall, no digit is a blob but the 1 (a straight stroke
    fills its outline too, which is why only a blob read as 0 is refused)."""
    for height in (120, 200):
        for digit in (0, 2, 3, 4, 5, 6, 7, 8, 9):
            ink = rasterise(example_strokes(digit, height=height), pen=pen)
            assert not refusal.is_blob(preprocess_stages(ink).crop), (digit, height)
    assert refusal.is_blob(preprocess_stages(rasterise([[(140, 60), (140, 220)]], pen=pen)).crop)
    assert not refusal.is_blob(np.zeros((28, 28)))  # no ink: nothing to call a blob


def crescent(inner: float, shift: float, side: float = 1.0, radius: float = 90) -> list:
    """A crescent moon drawn in outline, as one stroke: an outer arc, then an inner one (a
    circle `inner` as big, its centre `shift` to the side) back to where it began."""
    across = (1 + shift**2 - inner**2) / (2 * shift)  # where the two circles cross
    tip = np.arctan2(np.sqrt(1 - across**2), across)
    inner_tip = np.arctan2(np.sqrt(1 - across**2), across - shift)
    outer = [(np.cos(a), np.sin(a)) for a in np.linspace(tip, 2 * np.pi - tip, 40)]
    back = np.linspace(2 * np.pi - inner_tip, inner_tip, 30)
    edge = [(shift + inner * np.cos(a), inner * np.sin(a)) for a in back]
    return [[(140 + side * radius * x, 140 + radius * y) for x, y in [*outer, *edge]]]


@pytest.mark.parametrize("pen", [9, 14, 20])
@pytest.mark.parametrize("inner, shift", [(0.85, 0.6), (0.9, 0.4), (0.93, 0.35)])
def test_a_crescent_in_outline_is_no_ring(pen, inner, shift):
    """A crescent moon's outline has a bent hole (`refusal.is_crescent`), facing either way; a
    drawn digit's holes are not bent so, with a thin pen or with a pen so thick it squeezes a
    0's hole into a crescent of its own, nor an 8's or a 6's."""
    for side in (-1.0, 1.0):
        moon = rasterise(crescent(inner, shift, side), pen=pen)
        assert refusal.is_crescent(preprocess_stages(moon).crop), side
    for thick in (pen, 3 * pen):
        for digit in (0, 6, 8, 9):
            ink = rasterise(example_strokes(digit, height=120), pen=thick)
            assert not refusal.is_crescent(preprocess_stages(ink).crop), (digit, thick)
    assert not refusal.is_crescent(np.zeros((28, 28)))  # no ink, no hole


EXCLAMATION = [[(140, 40), (134, 190)]]  # its dot: a tap at (132, 235)
LETTER_I = [[(140, 100), (140, 240)]]  # its dot: a tap at (140, 55)


@pytest.mark.parametrize("pen", [9, 18, 32])
def test_a_stroke_with_a_dot_over_or_under_it_is_dotted(pen):
    """An ! and an i: a stroke with a tap of the pen straight under or over it, apart from it,
    or (the !'s dot pressed round) a blob half as wide again as the pen."""
    exclamation = np.maximum(rasterise(EXCLAMATION, pen=pen), tap(132, 235, pen))
    letter_i = np.maximum(rasterise(LETTER_I, pen=pen), tap(140, 55, pen))
    pressed = np.maximum(
        rasterise(EXCLAMATION, pen=pen), rasterise([[(128, 232), (136, 238)]], pen=1.5 * pen)
    )
    for ink in (exclamation, letter_i, pressed):
        assert refusal.is_dotted(preprocess_stages(ink).crop)


@pytest.mark.parametrize("pen", [9, 18, 32])
def test_digits_and_marks_beside_them_are_not_dotted(pen):
    """Digits drawn from code, a 5 or a 7 whose bar floats apart (longer than a dot), a tap
    beside a 1 rather than under it, and a speck far smaller than the pen over a 0."""
    digits = [rasterise(example_strokes(d, height=180), pen=pen) for d in range(10)]
    floating = [
        rasterise(
            [[(100, 60), (190, 60)], [(100, 90), (95, 140), (170, 150), (160, 220)]], pen=pen
        ),
        rasterise([[(90, 50), (190, 50)], [(185, 80), (120, 230)]], pen=pen),
    ]
    beside = np.maximum(rasterise(LETTER_I, pen=pen), tap(190, 240, pen))
    speck = np.maximum(
        rasterise(example_strokes(0, height=180), pen=pen), tap(140, 15, max(1, pen / 4))
    )
    for ink in [*digits, *floating, beside, speck]:
        assert not refusal.is_dotted(preprocess_stages(ink).crop)


def test_mnist_test_digits_are_almost_never_refused(shipped, mnist):
    _, (x_test, _) = mnist
    assert shipped.refuse(x_test[:2000] / 255.0).mean() <= 0.02


def test_scores_are_probabilities_one_per_image(shipped, rng):
    images = rng.random((5, 28, 28)).astype(np.float32)
    scores = shipped.score(images)
    assert scores.shape == (5,) and ((scores >= 0) & (scores <= 1)).all()
    np.testing.assert_allclose(shipped.score(images[..., None]), scores, rtol=1e-6)
    np.testing.assert_array_equal(
        refusal.is_not_a_digit(images), scores > refusal.default_model().threshold
    )
    np.testing.assert_allclose(refusal.not_digit_score(images), scores, rtol=1e-6)
    assert shipped.score(np.zeros((0, 28, 28))).shape == (0,)


@pytest.mark.parametrize(
    ("images", "message"),
    [
        (np.zeros((2, 28, 27)), "MNIST form"),
        (np.zeros((28, 28)), "MNIST form"),
        (np.full((1, 28, 28), np.nan), "NaN"),
    ],
)
def test_bad_input_gets_a_clear_error(shipped, images, message):
    with pytest.raises(ValueError, match=message):
        shipped.score(images)


def test_a_missing_model_says_how_to_make_one(tmp_path):
    with pytest.raises(refusal.RefusalModelError, match=refusal.TRAIN_COMMAND):
        refusal.NotDigitModel.load(tmp_path / "none.keras")


def test_a_broken_model_says_how_to_make_a_new_one(tmp_path):
    broken = tmp_path / "broken.keras"
    broken.write_bytes(b"not a model")
    broken.with_suffix(".json").write_text(json.dumps({"threshold": 0.5}))
    with pytest.raises(refusal.RefusalModelError, match="could not load") as info:
        refusal.NotDigitModel.load(broken)
    # The command it gives replaces the broken file, so it must say --force.
    assert f"{refusal.TRAIN_COMMAND} --out {broken} --force" in str(info.value)


def test_a_digit_model_given_as_the_refusal_model_is_left_alone(trained_model_path):
    # A model whose record holds no threshold (here a digit model): the hint writes elsewhere.
    with pytest.raises(refusal.RefusalModelError, match="is no refusal model") as info:
        refusal.NotDigitModel.load(trained_model_path)
    assert (
        "--force" not in str(info.value)
        and str(trained_model_path) not in str(info.value).split("Give a refusal model")[1]
    )


def test_a_threshold_outside_zero_to_one_is_rejected(shipped):
    with pytest.raises(ValueError, match="threshold"):
        refusal.NotDigitModel(shipped.model, 1.5)


def test_font_digits_are_drawn_small_like_the_font_negatives():
    inks = refusal_training.font_digits(12, np.random.default_rng(2))
    assert len(inks) == 12
    for ink in inks:
        assert ink.shape == (negatives.TRAINING_CANVAS,) * 2 and ink.max() > 0.5


def test_training_data_counts_every_kind_of_digit_as_a_digit(mnist):
    (x_train, y_train), _ = mnist
    small = refusal_training.TrainingSettings(
        digits=30, plain_digits=10, font_digits=20, negatives=40, seed=4
    )
    images, labels, kinds = refusal_training.training_data(x_train, y_train, small)
    assert images.shape == (100, 28, 28, 1)
    assert (labels == 0).sum() == 60 and (labels == 1).sum() == 40
    assert sum(kinds.values()) == 40


def test_restyled_digits_are_narrower_or_wider_and_tilt_further(mnist, monkeypatch):
    (x_train, _), _ = mnist
    redraw, asked = synthetic.redraw_digit, []

    def spy(*args, **kwargs):  # the real redraw, its stretch and tilt noted
        asked.append((kwargs["stretch"], kwargs["rotation"]))
        return redraw(*args, **kwargs)

    monkeypatch.setattr(synthetic, "redraw_digit", spy)
    monkeypatch.setattr(refusal_training, "ANGULAR", 0.0)  # square digits are narrowed too
    for restyled in (0.0, 1.0):
        monkeypatch.setattr(refusal_training, "RESTYLED", restyled)
        asked.clear()
        inks = refusal_training.sketched_digits(x_train[:60], np.random.default_rng(3))
        assert all(ink.max() > 0.5 for ink in inks)
        stretch, tilt = np.abs(np.log([a[0] for a in asked])), np.abs([a[1] for a in asked])
        if restyled:
            assert stretch.max() <= np.log(1 / refusal_training.STRETCH[0]) + 1e-9
            assert (stretch > 0.2).mean() > 0.3 and tilt.max() > 20
        else:
            assert (stretch == 0).all() and tilt.max() <= 15


def test_a_share_of_the_sketched_digits_is_drawn_with_straight_strokes(mnist, monkeypatch):
    (x_train, _), _ = mnist
    redraw, asked = synthetic.redraw_digit, []

    def spy(*args, **kwargs):  # the real redraw, how straight, square and wide it was asked
        asked.append((kwargs["straighten"], kwargs["square"], kwargs["stretch"]))
        return redraw(*args, **kwargs)

    monkeypatch.setattr(synthetic, "redraw_digit", spy)
    monkeypatch.setattr(refusal_training, "RESTYLED", 0.0)
    for share in (0.0, 1.0):
        monkeypatch.setattr(refusal_training, "ANGULAR", share)
        asked.clear()
        inks = refusal_training.sketched_digits(x_train[:60], np.random.default_rng(3))
        assert all(ink.max() > 0.5 for ink in inks)
        straighten, square, stretch = (np.array(column) for column in zip(*asked, strict=True))
        if share:
            low, high = strokes.STRAIGHTEN
            assert ((straighten >= low) & (straighten <= high)).all()
            assert 0.2 < square.mean() < 0.8  # about half with square corners
            # boxy digits stand taller than wide: no square among them for a 0
            np.testing.assert_allclose(stretch[square], refusal_training.SQUARE_NARROW)
            assert (stretch[~square] == 1.0).all()
        else:
            assert (straighten == 0).all() and not square.any() and (stretch == 1.0).all()


def test_a_share_of_the_sketched_zeros_is_slashed_or_dotted_and_no_other_digit(mnist, monkeypatch):
    (x_train, y_train), _ = mnist
    redraw, drawn = synthetic.redraw_digit, []

    def spy(digit, *args, **kwargs):  # the real redraw, the digit it was given noted
        drawn.append(np.asarray(digit, np.float32))
        return redraw(digit, *args, **kwargs)

    monkeypatch.setattr(synthetic, "redraw_digit", spy)
    monkeypatch.setattr(refusal_training, "RESTYLED", 0.0)
    monkeypatch.setattr(refusal_training, "ANGULAR", 0.0)
    digits, labels = x_train[:80], y_train[:80]
    for slashed, dotted in ((0.0, 0.0), (1.0, 0.0), (0.0, 1.0)):
        monkeypatch.setattr(refusal_training, "SLASHED", slashed)
        monkeypatch.setattr(refusal_training, "DOTTED", dotted)
        drawn.clear()
        refusal_training.sketched_digits(digits, np.random.default_rng(3), labels)
        changed = np.array([(d != x).any() for d, x in zip(drawn, digits, strict=True)])
        pieces = np.array([ndimage.label(d > 127)[1] for d in drawn]) - np.array(
            [ndimage.label(x > 127)[1] for x in digits]
        )
        if dotted:  # a dot is a piece of its own, in every 0 with room for one
            assert not changed[labels != 0].any() and changed[labels == 0].mean() > 0.5
            assert (pieces[changed] == 1).all()
        else:  # a slash crosses the ring
            assert (changed == ((labels == 0) & (slashed > 0))).all()
            assert (pieces <= 0).all()
    drawn.clear()  # without labels, nothing is slashed
    refusal_training.sketched_digits(digits, np.random.default_rng(3))
    assert all((d == x).all() for d, x in zip(drawn, digits, strict=True))


# A judge small enough to train in seconds.
SMALL = refusal_training.TrainingSettings(
    digits=300,
    plain_digits=100,
    font_digits=50,
    negatives=400,
    epochs=1,
    calibration_digits=80,
    calibration_negatives=80,
    seed=5,
    members=2,
)


@pytest.mark.slow
def test_training_saves_an_averaged_ensemble_and_its_threshold_that_load_back(tmp_path):
    out = tmp_path / "nd.keras"
    small = SMALL
    trained = refusal_training.train(out, small, verbose=0)
    record = json.loads(out.with_suffix(".json").read_text())
    assert record["threshold"] == pytest.approx(trained.threshold)
    assert record["training"]["negatives"] == 400
    assert record["training"]["font_digits"] == 50
    assert record["training"]["members"] == 2
    assert [m["seed"] for m in record["members"]] == [5, 6]
    assert all(0.0 <= m["held_out_negatives_refused_alone"] <= 1.0 for m in record["members"])
    assert record["command"].endswith("--seed 5 --epochs 1 --members 2")
    assert sum(record["training"]["negatives_by_kind"].values()) == 400
    assert record["held_out_digits_refused"] <= 0.05
    assert out.is_file() and not list(tmp_path.glob("*.tmp*"))  # one file, no leftovers

    loaded = refusal.NotDigitModel.load(out)
    images = np.random.default_rng(0).random((6, 28, 28)).astype(np.float32)
    np.testing.assert_allclose(loaded.score(images), trained.score(images), rtol=1e-5)
    members = [loaded.model.get_layer(f"member_{i}") for i in range(2)]
    assert record["parameters"] == sum(m.count_params() for m in members)
    alone = np.stack([m(images[..., None], training=False).numpy().reshape(-1) for m in members])
    # Different seeds, different networks: and the saved model scores their mean.
    assert not np.allclose(members[0].get_weights()[0], members[1].get_weights()[0])
    np.testing.assert_allclose(loaded.score(images), alone.mean(axis=0), rtol=1e-5, atol=1e-6)


def test_an_ensemble_scores_the_mean_of_its_members():
    members = [refusal_training.build_model(f"member_{i}") for i in range(3)]
    rng = np.random.default_rng(1)
    for member in members:  # distinct weights, so the mean is not any one of them
        member.set_weights([rng.normal(0, 0.3, w.shape) for w in member.get_weights()])
    ensemble = refusal_training.build_ensemble(members)
    images = np.random.default_rng(2).random((8, 28, 28, 1)).astype(np.float32)
    alone = np.stack([m(images, training=False).numpy().reshape(-1) for m in members])
    assert np.ptp(alone, axis=0).max() > 1e-3
    scores = refusal.NotDigitModel(ensemble, 0.5).score(images)
    np.testing.assert_allclose(scores, alone.mean(axis=0), rtol=1e-5, atol=1e-6)


def test_member_seeds_follow_the_seed_and_an_empty_ensemble_is_rejected():
    config = refusal_training.TrainingSettings(seed=3, members=3)
    assert refusal_training.member_seeds(config) == [3, 4, 5]
    with pytest.raises(ValueError, match="at least one member"):
        refusal_training.member_seeds(refusal_training.TrainingSettings(members=0))
    with pytest.raises(SystemExit):
        refusal_training.main(["train", "--members", "0"])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--epochs", "0"], "--epochs must be at least 1"),
        (["--epochs", "-3"], "--epochs must be at least 1"),
        (["--members", "0"], "--members must be at least 1"),
        (["--seed", "-1"], "--seed must be 0 or more"),
    ],
)
def test_the_command_line_refuses_bad_numbers_before_training(tmp_path, capsys, args, message):
    out = tmp_path / "judge.keras"
    with pytest.raises(SystemExit) as stopped:
        refusal_training.main(["train", "--out", str(out), *args])
    assert stopped.value.code == 2
    assert message in capsys.readouterr().err and not out.exists()


def test_the_command_line_says_when_mnist_is_missing(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("DIGITREC_MNIST", str(tmp_path / "none.npz"))
    with pytest.raises(SystemExit) as stopped:
        refusal_training.main(["train", "--out", str(tmp_path / "judge.keras")])
    assert stopped.value.code == 2
    error = capsys.readouterr().err
    assert "MNIST file not found" in error and "Traceback" not in error


def test_the_command_line_refuses_to_replace_a_model_before_training(tmp_path, capsys):
    out = tmp_path / "judge.keras"
    out.write_bytes(b"a model someone trained")
    with pytest.raises(SystemExit) as stopped:
        refusal_training.main(["train", "--out", str(out)])
    assert stopped.value.code == 2
    error = capsys.readouterr().err.strip()
    assert "already exists" in error and "--force" in error and "\n" not in error
    assert out.read_bytes() == b"a model someone trained"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["judge.keras"]


@pytest.mark.slow
def test_polishing_goes_on_from_a_trained_judges_members(tmp_path, monkeypatch):
    small = replace(SMALL, seed=2)
    first = refusal_training.train(tmp_path / "first.keras", small, verbose=0)
    images = np.random.default_rng(0).random((6, 28, 28)).astype(np.float32)
    monkeypatch.setattr(refusal_training, "POLISH_LEARNING_RATE", 0.0)  # carried, not learnt
    still = refusal_training.polish(first, tmp_path / "still.keras", small, verbose=0)
    np.testing.assert_allclose(still.score(images), first.score(images), rtol=1e-4, atol=1e-6)
    monkeypatch.setattr(refusal_training, "POLISH_LEARNING_RATE", 2e-4)
    polished = refusal_training.polish(first, tmp_path / "polished.keras", small, verbose=0)
    assert not np.allclose(polished.score(images), first.score(images), atol=1e-6)
    record = json.loads((tmp_path / "polished.json").read_text())
    assert record["command"] == f"{refusal_training.POLISH_COMMAND} --seed 2"
    assert record["polished_from"] == {"command": first.metadata["command"]}
    assert record["training"]["members"] == 2
    assert record["training"]["epochs"] == refusal_training.POLISH_EPOCHS
    assert refusal.NotDigitModel.load(tmp_path / "polished.keras").threshold == pytest.approx(
        polished.threshold
    )
    with pytest.raises(ValueError, match="has 2 member networks, not the 3 asked for"):
        refusal_training.train(
            tmp_path / "three.keras", replace(small, members=3), verbose=0, init=first
        )


@pytest.mark.slow
def test_polishing_learns_the_new_kinds_and_keeps_each_members_own_verdicts(
    tmp_path, monkeypatch, mnist
):
    """A polish learns data drawn with `POLISH_KINDS` on, by its labels, together with the data
    `train` draws, by the member's own scores, so what the judge knew is kept, not relearnt."""
    (x_train, y_train), _ = mnist
    small = replace(SMALL, seed=3)
    first = refusal_training.train(tmp_path / "first.keras", small, verbose=0)
    drawn, member = refusal_training.training_data, refusal_training.train_member
    kinds_on, taught = [], []

    def spy_data(*args):  # the real data; were the judge's new kinds on as it was drawn?
        kinds_on.append((refusal_training.ANGULAR, negatives.TOUCHING_PAIRS))
        return drawn(*args)

    def spy_member(images, labels, seed, config, **kwargs):  # the real training, noted
        taught.append((images, labels, kwargs["start"]))
        return member(images, labels, seed, config, **kwargs)

    monkeypatch.setattr(refusal_training, "training_data", spy_data)
    monkeypatch.setattr(refusal_training, "train_member", spy_member)
    refusal_training.polish(first, tmp_path / "polished.keras", small, verbose=0)
    kinds = refusal_training.POLISH_KINDS
    on = (kinds[refusal_training.__name__]["ANGULAR"], kinds[negatives.__name__]["TOUCHING_PAIRS"])
    assert kinds_on == [on, (0.0, 0.0)]
    assert (refusal_training.ANGULAR, negatives.TOUCHING_PAIRS) == (0.0, 0.0)  # off again
    anchor = drawn(x_train, y_train, small)[0]  # what `train` draws from the same seed
    assert len(taught) == small.members
    for images, labels, start in taught:
        new = len(images) - len(anchor)
        np.testing.assert_array_equal(images[new:], anchor)
        assert not np.array_equal(images[:new], anchor)
        assert set(np.unique(labels[:new])) == {0.0, 1.0}
        own = start.predict(anchor, verbose=0)[:, 0]
        np.testing.assert_allclose(labels[new:], own, rtol=1e-4, atol=1e-6)
        assert ((own > 0.02) & (own < 0.98)).any()  # scores, not labels
    record = json.loads((tmp_path / "polished.json").read_text())
    assert record["own_verdicts_kept_on"] == len(anchor)
    assert record["polish_kinds"]["digitrec.negatives.NEVER_TALL"] == ["square"]


def test_polishing_needs_a_judge_to_go_on_from(tmp_path, capsys, trained_model_path):
    out = tmp_path / "judge.keras"
    for init in (tmp_path / "none.keras", trained_model_path):  # missing; a digit model
        with pytest.raises(SystemExit) as stopped:
            refusal_training.main(["polish", "--init", str(init), "--out", str(out)])
        assert stopped.value.code == 2
        error = capsys.readouterr().err.strip()
        assert "Traceback" not in error and "\n" not in error and not out.exists()
