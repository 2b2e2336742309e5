"""digitrec.preprocess: any drawing comes out the way MNIST digits were prepared."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageDraw
from scipy import ndimage
from skimage.morphology import disk

from digitrec import preprocess, synthetic
from digitrec.preprocess import (
    BLACK_ON_WHITE,
    INK_IN_ALPHA,
    MNIST_CENTRE,
    WHITE_ON_BLACK,
    EmptyDrawingError,
    extract_ink,
    ink_pieces,
    naive_resize,
    preprocess_stages,
    to_mnist,
)

CONVENTIONS = (WHITE_ON_BLACK, BLACK_ON_WHITE, INK_IN_ALPHA)


def draw_seven(size: int, box: tuple[int, int, int, int], pen: int) -> np.ndarray:
    """Ink (size, size) of a '7' drawn with a round pen inside `box` (left, top, right, bottom)."""
    canvas = Image.new("L", (size, size), 0)
    pen_draw = ImageDraw.Draw(canvas)
    left, top, right, bottom = box
    points = [(left, top), (right, top), (left + (right - left) // 3, bottom)]
    pen_draw.line(points, fill=255, width=pen, joint="curve")
    for x, y in points:
        r = pen // 2
        pen_draw.ellipse((x - r, y - r, x + r, y + r), fill=255)
    return np.asarray(canvas, np.float32) / 255.0


def beads(strokes: list, dot: float, spacing: float, shape: tuple[int, int]) -> np.ndarray:
    """Ink `shape` (H, W) of polylines of (x, y) points drawn as an app that stamps a round
    dot `dot` px wide at each pointer sample, every `spacing` px, and never joins them."""
    canvas = Image.new("L", (shape[1], shape[0]), 0)
    pen = ImageDraw.Draw(canvas)
    for stroke in strokes:
        points = np.asarray(stroke, float)
        along = np.r_[0.0, np.cumsum(np.hypot(*np.diff(points, axis=0).T))]
        for t in np.arange(0.0, along[-1] + 1e-6, spacing):
            x, y = np.interp(t, along, points[:, 0]), np.interp(t, along, points[:, 1])
            pen.ellipse((x - dot / 2, y - dot / 2, x + dot / 2, y + dot / 2), fill=255)
    return np.asarray(canvas, np.float32) / 255.0


SEVEN = [[(60, 40), (190, 40), (103, 220)]]  # the `draw_seven` of box (60, 40, 190, 220)


def ink_extent(image: np.ndarray) -> tuple[int, int]:
    rows = np.flatnonzero((image > 0.05).any(axis=1))
    cols = np.flatnonzero((image > 0.05).any(axis=0))
    return rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1


def assert_mnist_like(out: np.ndarray) -> None:
    assert out.shape == (28, 28) and out.dtype == np.float32
    assert out.min() >= 0.0 and out.max() <= 1.0 and out.max() == pytest.approx(1.0)
    com = ndimage.center_of_mass(out)
    assert abs(com[0] - MNIST_CENTRE[0]) <= 1.0 and abs(com[1] - MNIST_CENTRE[1]) <= 1.0
    height, width = ink_extent(out)
    assert 19 <= max(height, width) <= 21


@pytest.mark.parametrize("convention", CONVENTIONS)
@pytest.mark.parametrize("size", [100, 280, 1000])
def test_every_convention_and_canvas_size(convention, size):
    margin = size // 5
    ink = draw_seven(size, (margin, margin, size - margin, size - margin), pen=max(3, size // 16))
    drawing = synthetic.render(ink, convention)
    stages = preprocess_stages(drawing)
    assert stages.convention == convention
    assert_mnist_like(stages.centred)


def test_the_three_conventions_agree():
    ink = draw_seven(280, (60, 50, 220, 240), pen=18)
    outs = [to_mnist(synthetic.render(ink, c)) for c in CONVENTIONS]
    for out in outs[1:]:
        assert np.abs(out - outs[0]).max() < 0.02


@pytest.mark.parametrize("box", [(5, 5, 60, 70), (200, 190, 275, 275), (10, 200, 40, 270)])
def test_off_centre_drawings_are_centred(box):
    out = to_mnist(synthetic.render(draw_seven(280, box, pen=10), WHITE_ON_BLACK))
    assert_mnist_like(out)


def test_position_does_not_matter():
    a = to_mnist(draw_seven(280, (10, 10, 90, 100), pen=9))
    b = to_mnist(draw_seven(280, (180, 170, 260, 260), pen=9))
    assert np.abs(a - b).max() < 0.05


def test_tiny_drawing_is_enlarged_to_20_px():
    out = to_mnist(draw_seven(280, (130, 130, 142, 145), pen=3))
    assert_mnist_like(out)


def test_huge_drawing_on_huge_canvas():
    out = to_mnist(draw_seven(1000, (20, 20, 980, 980), pen=60))
    assert_mnist_like(out)


def test_aspect_ratio_is_kept_for_a_one():
    canvas = np.zeros((280, 280), np.float32)
    canvas[40:240, 130:148] = 1.0  # a tall thin stroke, 200 x 18
    out = to_mnist(canvas)
    height, width = ink_extent(out)
    assert height == 20 and width <= 4
    assert_mnist_like(out)


def test_pil_images_in_every_mode_agree():
    ink = draw_seven(280, (60, 50, 220, 240), pen=18)
    reference = to_mnist(ink)
    rgba = Image.fromarray(synthetic.render(ink, INK_IN_ALPHA))
    for image in (
        rgba,
        Image.fromarray(synthetic.render(ink, BLACK_ON_WHITE)),
        Image.fromarray((ink * 255).astype(np.uint8)),
        Image.fromarray(synthetic.render(ink, WHITE_ON_BLACK)).convert("RGB"),
        rgba.convert("LA"),
    ):
        assert np.abs(to_mnist(image) - reference).max() < 0.02, image.mode


@pytest.mark.parametrize("mode", ["I;16", "I;16B", "I", "F"])
def test_wide_grey_pil_modes(mode):
    ink = draw_seven(280, (60, 50, 220, 240), pen=18)
    scale = 65535 if mode.startswith("I;16") else 1000
    image = Image.fromarray(np.round(ink * scale).astype(np.int32)).convert(mode)
    assert np.abs(to_mnist(image) - to_mnist(ink)).max() < 0.02


def test_float_and_uint8_arrays_agree():
    ink = draw_seven(280, (60, 50, 220, 240), pen=18)
    as_uint8 = np.round(ink * 255).astype(np.uint8)
    assert np.abs(to_mnist(ink) - to_mnist(as_uint8)).max() < 0.02
    assert np.abs(to_mnist(ink) - to_mnist(as_uint8.astype(np.float64))).max() < 0.02


def test_grey_pen_on_grey_paper_still_reads_as_full_ink():
    ink = draw_seven(280, (60, 50, 220, 240), pen=18)
    paper = 0.85 - 0.5 * ink  # a photo of pencil on grey paper
    stages = preprocess_stages(paper)
    assert stages.convention == BLACK_ON_WHITE
    assert np.abs(stages.centred - to_mnist(ink)).max() < 0.05


def photographed(ink: np.ndarray, seed: int = 0) -> np.ndarray:
    """`ink` (white on black, uint8 or [0, 1]) as a phone photographs it on ruled paper: light
    falling off across the page, grain, faint lines every 28 px, dark ink; RGB uint8."""
    ink = ink / 255.0 if ink.dtype == np.uint8 else ink
    rng = np.random.default_rng(seed)
    height, width = ink.shape
    page = 0.95 - 0.25 * np.linspace(0.0, 1.0, width)[None, :] + rng.normal(0, 0.01, ink.shape)
    for row in range(14, height, 28):
        page[row : row + 2] -= 0.15  # a ruled line, about a fifth as dark as the writing's strokes
    photo = np.clip(page - 0.7 * ink, 0.0, 1.0)
    return np.dstack([(photo * 255).astype(np.uint8)] * 3)


def test_a_photographed_page_reads_as_the_drawing_on_it():
    ink = draw_seven(280, (60, 50, 220, 240), pen=14)
    found, convention = extract_ink(photographed(ink))
    assert convention == BLACK_ON_WHITE
    assert not found[:, :40].any() and not found[:, 240:].any()  # no lines, grain or shadow
    assert np.abs(to_mnist(photographed(ink)) - to_mnist(ink)).mean() < 0.02
    assert np.abs(found - ink).mean() < 0.02  # the writing itself at full ink


def test_a_lightly_pressed_stroke_on_a_photographed_page_is_kept():
    canvas = Image.new("L", (280, 280), 0)
    pen = ImageDraw.Draw(canvas)
    pen.line([(110, 50), (70, 170), (200, 170)], fill=255, width=16)
    pen.line([(170, 60), (170, 240)], fill=int(255 * 0.55), width=16)  # pressed lightly
    found, _ = extract_ink(photographed(np.asarray(canvas)))
    assert found[185:230, 166:175].min() > 0.4  # the light stroke's lower half, whole


@pytest.mark.parametrize("quality", [50, 70, 85])
def test_a_jpeg_of_a_drawing_in_coloured_ink_is_not_taken_for_a_photograph(quality, monkeypatch):
    canvas = Image.new("RGB", (560, 200), "white")
    pen = ImageDraw.Draw(canvas)
    for left in (40, 200, 360):
        pen.line([(left, 40), (left + 100, 40), (left + 40, 170)], fill=(200, 0, 0), width=12)
    buffer = io.BytesIO()
    canvas.save(buffer, "JPEG", quality=quality)
    photo = Image.open(buffer)
    found, _ = extract_ink(photo)
    monkeypatch.setattr(preprocess, "_photo_ink", lambda grey, ink, convention: (ink, convention))
    np.testing.assert_array_equal(found, extract_ink(photo)[0])  # left as it came


def on_a_desk(ink: np.ndarray, page: float, desk: float, margin: int, seed: int = 0) -> np.ndarray:
    """`ink` (white on black, in [0, 1]) written in dark ink on a page of brightness `page` that
    lies on a textured desk of brightness `desk` showing `margin` px on every side,
    photographed with grain and a little blur; grey uint8."""
    rng = np.random.default_rng(seed)
    height, width = ink.shape
    scene = np.full((height + 2 * margin, width + 2 * margin), desk)
    scene[margin : margin + height, margin : margin + width] = page - (page - 0.1) * ink
    grain = ndimage.gaussian_filter(rng.normal(0, 0.2, scene.shape), 2.0)  # the desk's texture
    scene[scene == desk] += grain[scene == desk]
    scene = ndimage.gaussian_filter(scene, 1.0) + rng.normal(0, 0.015, scene.shape)
    return (np.clip(scene, 0.0, 1.0) * 255).astype(np.uint8)


@pytest.mark.parametrize(
    ("page", "desk", "margin"),
    [(0.85, 0.2, 80), (0.85, 0.2, 20), (0.45, 0.45, 0), (0.9, 0.55, 30)],
    ids=["note-on-a-dark-desk", "page-with-a-dark-rim", "cardboard", "board-and-wall"],
)
def test_a_page_on_a_desk_reads_as_the_drawing_on_it(page, desk, margin):
    """The border is the desk, not the page, or the page is mid grey: the ink is still found
    dark on the page, and the desk around it is not ink."""
    ink = draw_seven(280, (60, 50, 220, 240), pen=14)
    photo = on_a_desk(ink, page, desk, margin)
    found, convention = extract_ink(photo)
    assert convention == BLACK_ON_WHITE
    inside = found[margin : margin + 280, margin : margin + 280]
    assert found.sum() - inside.sum() < 0.01 * inside.sum()  # nothing of the desk
    assert np.abs(to_mnist(photo) - to_mnist(ink)).mean() < 0.03


@pytest.mark.parametrize(("canvas", "pen"), [(0.53, 0.0), (0.33, 1.0), (0.6, 0.06)])
@pytest.mark.parametrize("box", [(60, 50, 220, 270), (4, 50, 120, 240)], ids=["edge", "side"])
def test_a_drawing_on_a_grey_canvas_reads_as_on_black(canvas, pen, box):
    """A grey canvas is no photograph: its drawing is read whole, even touching the edge,
    whichever way round its ink is."""
    ink = draw_seven(280, box, pen=18)
    drawing = canvas + (pen - canvas) * ink
    assert np.abs(to_mnist(drawing) - to_mnist(ink)).max() < 0.02


@pytest.mark.parametrize("shape", [(1, 2), (2, 1), (1, 500), (500, 1), (2, 300)])
def test_a_picture_one_or_two_pixels_across_is_read_without_error(shape):
    rng = np.random.default_rng(0)
    picture = np.clip(0.5 + rng.normal(0, 0.05, shape), 0, 1)
    picture.flat[0] = 0.0
    found, _ = extract_ink(picture)
    assert found.shape == shape and np.isfinite(found).all()


def test_a_thick_stroke_touching_a_photographed_page_edge_is_kept():
    """A pen stroke that runs off the picture only touches its edge; a table runs along it."""
    ink = draw_seven(280, (60, 50, 220, 280), pen=18)  # the 7's foot runs off the bottom
    photo = photographed(ink)
    found, _ = extract_ink(photo)
    assert (found > 0.5).sum() > 0.9 * (ink > 0.5).sum()


@pytest.mark.parametrize("size", [300, 600])
def test_a_blurred_photograph_keeps_its_writing_at_any_size(size):
    """A pen's edge is judged sharp or soft per pixel of a picture at most `SMALL` across, so
    a larger photograph of the same blurred page keeps its writing too."""
    ink = draw_seven(size, (size // 5, size // 6, 4 * size // 5, 5 * size // 6), pen=size // 20)
    shade = 0.85 - 0.08 * np.linspace(0, 1, size)[None, :]
    rng = np.random.default_rng(0)
    photo = ndimage.gaussian_filter(shade - 0.75 * ink, size / 120) + rng.normal(0, 0.03, ink.shape)
    found, _ = extract_ink((np.clip(photo, 0, 1) * 255).astype(np.uint8))
    assert (found > 0.1).sum() > 0.9 * (ink > 0.1).sum()


def test_a_soft_shadow_on_a_photographed_page_is_not_ink():
    ink = draw_seven(280, (60, 30, 220, 200), pen=14)
    rows, cols = np.mgrid[0:280, 0:280]
    shadow = 0.45 / (1 + np.exp(-(rows - 235) / 10.0)) * (cols > 40)  # a hand's, fading in
    rng = np.random.default_rng(0)
    photo = np.clip(0.9 - shadow - 0.75 * ink + rng.normal(0, 0.01, ink.shape), 0, 1)
    found, convention = extract_ink((photo * 255).astype(np.uint8))
    assert convention == BLACK_ON_WHITE
    assert not found[215:].any()  # the shadow's core is gone
    assert np.abs(to_mnist(photo) - to_mnist(ink)).mean() < 0.03


def test_chalk_on_a_blackboard_in_a_light_frame_is_light_ink():
    ink = draw_seven(280, (60, 50, 220, 240), pen=14)
    photo = 255 - on_a_desk(ink, 0.85, 0.2, 30)  # a dark board and light chalk, a light wall
    found, convention = extract_ink(photo)
    assert convention == WHITE_ON_BLACK
    assert np.abs(to_mnist(photo) - to_mnist(ink)).mean() < 0.03


def test_a_drawing_comes_back_exactly_as_drawn():
    """Pages with nothing but the writing on them are left alone (`STRAY_SHARE`): the faint
    anti-aliased edges of a canvas stroke stay, however faint."""
    big = draw_seven(1120, (240, 200, 880, 960), pen=56)
    smooth = Image.fromarray(big).resize((280, 280), Image.Resampling.BILINEAR)  # anti-aliased
    ink = np.asarray(smooth, np.float32)
    assert ((ink > 0) & (ink < 0.1)).sum() > 100  # many faint edge pixels
    for drawing, convention in ((ink, WHITE_ON_BLACK), (1.0 - ink, BLACK_ON_WHITE)):
        found, name = extract_ink(drawing)
        assert name == convention
        np.testing.assert_allclose(found, ink, atol=1e-6)


@pytest.mark.parametrize(("pen", "blur"), [(20, 4.0), (40, 1.0)], ids=["soft", "bold"])
def test_a_drawing_with_soft_edges_or_bold_strokes_comes_back_as_drawn(pen, blur):
    """Edges blurred far beyond the pen (an MNIST digit scaled up, a soft brush) or the edges
    of strokes as bold as typed digits' stay near the strokes: no long faint line
    (`LINES_LONG`) is seen, and the drawing is left as it is."""
    ink = ndimage.gaussian_filter(draw_seven(280, (15, 15, 265, 265), pen=pen), blur)
    assert ((ink > 0.01) & (ink < 0.1)).sum() > 500
    for drawing in (ink, 1.0 - ink):
        np.testing.assert_allclose(extract_ink(drawing)[0], ink, atol=1e-6)


@pytest.mark.parametrize("part", ["whole", "half"])
def test_a_tight_crop_of_a_soft_brush_digit_comes_back_as_drawn(part):
    """Cropped close, as the number pad crops each digit and each part cut from the drawing,
    a soft brush's edge is still no page line: it lies within a pen's width of the stroke."""
    ink = ndimage.gaussian_filter(draw_seven(140, (28, 23, 112, 116), pen=20), 4.0)
    rows, cols = (np.flatnonzero((ink > 0.02).any(axis=axis)) for axis in (1, 0))
    crop = ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    crop = crop[:, crop.shape[1] // 2 :] if part == "half" else crop
    assert np.abs(extract_ink(crop)[0] - crop).max() < 0.05


def lined_page(ink: np.ndarray, paper: str, shadow: float = 0.0) -> np.ndarray:
    """`ink` (white on black, in [0, 1]) in grey pencil on "ruled", "squared" or "dotted"
    paper as a scanner or a phone's smoothing camera gives it: pale lines (or dots where they
    would cross) every 28 px, no grain; `shadow`, the darkness of a soft shadow over the right
    half of the page; grey uint8."""
    page = np.full(ink.shape, 0.95)
    if paper == "dotted":
        page[13::28, 13::28] -= 0.15
        page[14::28, 14::28] -= 0.15
    else:
        page[14::28] -= 0.12
    if paper == "squared":
        page[:, 14::28] -= 0.12
    cols = np.arange(ink.shape[1])[None, :]
    page = page - shadow / (1 + np.exp(-(cols - 180) / 20.0))
    return (np.clip(page - 0.45 * ink, 0.0, 1.0) * 255).astype(np.uint8)


@pytest.mark.parametrize("shadow", [0.0, 0.3], ids=["even", "in-shadow"])
@pytest.mark.parametrize("paper", ["ruled", "squared", "dotted"])
def test_ruled_squared_or_dotted_paper_with_no_grain_is_a_photographed_page(paper, shadow):
    """A page clean between its lines or dots is still a page: they go, even under a shadow
    almost as dark as the pencil writing, and the digit reads as drawn."""
    ink = draw_seven(280, (60, 50, 220, 240), pen=10)
    photo = lined_page(ink, paper, shadow)
    found, convention = extract_ink(photo)
    assert convention == BLACK_ON_WHITE
    assert not found[:, :40].any() and not found[:, 240:].any()  # no lines, dots or shadow
    assert np.abs(to_mnist(photo) - to_mnist(ink)).mean() < 0.05


@pytest.mark.parametrize(
    "blank",
    [
        np.zeros((280, 280, 4), np.uint8),  # untouched HTML canvas
        np.zeros((280, 280), np.uint8),  # black canvas
        np.full((280, 280, 3), 255, np.uint8),  # white paper
        np.dstack([np.zeros((280, 280, 3)), np.ones((280, 280))]).astype(np.float32),
    ],
)
def test_empty_drawing_raises(blank):
    with pytest.raises(EmptyDrawingError, match="empty"):
        to_mnist(blank)
    assert issubclass(EmptyDrawingError, ValueError)


def test_faint_noise_alone_counts_as_empty(rng):
    noise = (rng.random((280, 280)) * 0.05).astype(np.float32)
    with pytest.raises(EmptyDrawingError):
        to_mnist(noise)


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (np.zeros((280, 280, 5), np.uint8), "shape"),
        (np.zeros((2, 280, 280, 3), np.uint8), "shape"),
        (np.zeros((0, 280), np.uint8), "no pixels"),
        (np.full((10, 10), np.nan), "NaN"),
        (np.full((10, 10), -1.0), "negative"),
        (np.array([["a"]]), "numeric"),
    ],
)
def test_bad_arrays_raise_value_errors(bad, message):
    with pytest.raises(ValueError, match=message):
        to_mnist(bad)


def test_a_speck_beside_the_writing_is_left_out_and_one_above_or_below_kept():
    """A stray tap beside a digit, or far above or below it, is no part of it
    (`preprocess.strays`): the digit reads as if the tap were not there. A dot close under the
    writing (a "?", an "!") and a stroke beside it as long as a third of its height stay in
    the crop."""

    def with_disc(ink: np.ndarray, centre: tuple[int, int], radius: int) -> np.ndarray:
        rows, cols = np.ogrid[: ink.shape[0], : ink.shape[1]]
        disc = (rows - centre[0]) ** 2 + (cols - centre[1]) ** 2 <= radius**2
        return np.where(disc, 1.0, ink).astype(np.float32)

    seven = draw_seven(280, (60, 40, 190, 220), pen=18)
    height = preprocess_stages(seven).crop.shape[0]
    tapped = with_disc(seven, (50, 250), 8)
    assert preprocess.strays(tapped > 0.1).sum() > 150
    for convention in CONVENTIONS:
        assert np.array_equal(
            to_mnist(synthetic.render(tapped, convention)),
            to_mnist(synthetic.render(seven, convention)),
        )
    dotted = with_disc(seven, (262, 100), 8)
    assert preprocess_stages(dotted).crop.shape[0] > height
    small = draw_seven(280, (60, 20, 160, 120), pen=18)  # room below for a tap far under it
    assert np.array_equal(to_mnist(with_disc(small, (250, 110), 6)), to_mnist(small))
    stroke = seven.copy()
    stroke[100:170, 240:252] = 1.0  # 70 px tall: over a third of the seven's height
    assert preprocess_stages(stroke).crop.shape[1] > preprocess_stages(seven).crop.shape[1]


def test_the_dot_of_a_leaning_exclamation_mark_is_kept_a_tap_to_the_side_is_not():
    """A dot wholly under a bar and no more than its own width beyond the bar's columns is the
    dot of an "!" (kept, so the refusal sees it); one as low but farther aside is a stray."""
    bar = np.zeros((280, 280), np.float32)
    bar[60:200, 130:146] = 1.0
    rows, cols = np.ogrid[:280, :280]
    for centre, kept in ((122, True), (100, False)):
        ink = np.where((rows - 225) ** 2 + (cols - centre) ** 2 <= 7**2, 1.0, bar)
        assert preprocess.strays(ink > 0.1).any() != kept
        crop = preprocess_stages(ink.astype(np.float32)).crop
        assert (crop.shape[0] > 150) == kept


def test_low_marks_far_above_or_below_the_digit_are_left_out():
    """A screenshot's status bar (a wide, low pill) far above a digit and its toolbar far
    below are no part of the digit, however wide (`preprocess.far_marks`); two bars of the
    same height, as in an "=", are both kept."""
    seven = draw_seven(280, (90, 100, 190, 180), pen=14)
    bars = seven.copy()
    bars[8:22, 60:220] = 1.0  # 160 px wide: no speck
    bars[250:262, 40:240] = 1.0
    assert np.array_equal(to_mnist(bars), to_mnist(seven))
    equal = np.zeros((280, 280), np.float32)
    equal[100:116, 60:220] = equal[180:196, 60:220] = 1.0
    assert not preprocess.far_marks(ink_pieces(equal > 0.5)[1]).any()
    assert preprocess_stages(equal).crop.shape[0] == 96
    # a part cut from a drawing keeps all its bits: the cut may part a digit's arc from it
    assert preprocess_stages(bars, part=True).crop.shape[0] > 150  # the seven alone: 95


def test_stages_show_every_step():
    ink = draw_seven(280, (60, 50, 220, 240), pen=18)
    stages = preprocess_stages(synthetic.render(ink, INK_IN_ALPHA))
    assert stages.ink.shape == (280, 280)
    assert stages.crop.shape == ink_extent(ink)
    assert max(stages.box.shape) == 20
    assert stages.centred.shape == (28, 28)
    assert np.array_equal(stages.centred, to_mnist(ink))


def test_extract_ink_finds_each_convention():
    ink = draw_seven(280, (60, 50, 220, 240), pen=18)
    for convention in CONVENTIONS:
        found, name = extract_ink(synthetic.render(ink, convention))
        assert name == convention
        assert np.abs(found - ink).max() < 0.01


def test_ink_of_one_colour_on_a_transparent_sheet_is_in_the_alpha_channel():
    ink = draw_seven(280, (60, 50, 220, 240), pen=18)
    bold = np.zeros((100, 60), np.float32)  # a tight crop of a bold 1: mostly opaque
    bold[:, 8:52] = 1.0
    for colour in (0, 128, 255):  # black, grey or white strokes
        for strokes in (ink, bold):
            rgba = np.zeros((*strokes.shape, 4), np.uint8)
            rgba[..., :3] = colour
            rgba[..., 3] = np.round(strokes * 255)
            found, name = extract_ink(rgba)
            assert name == INK_IN_ALPHA and np.abs(found - strokes).max() < 0.01


def test_a_page_with_transparent_corners_or_margins_is_read_by_its_colours():
    """A screenshot with rounded corners or a transparent margin: the page is not all ink."""
    ink = draw_seven(280, (60, 50, 220, 240), pen=18)
    page = np.dstack([synthetic.render(ink, BLACK_ON_WHITE), np.full((280, 280), 255, np.uint8)])
    corner, margin, nearly = page.copy(), page.copy(), page.copy()
    corner[:3, :3, 3] = 0
    margin[:8, :, 3] = margin[-8:, :, 3] = margin[:, :8, 3] = margin[:, -8:, 3] = 0
    nearly[..., 3] = 254  # translucent all over
    for picture in (corner, margin, nearly):
        found, name = extract_ink(picture)
        assert name == BLACK_ON_WHITE
        assert np.abs(found - ink).max() < 0.01
        assert np.array_equal(to_mnist(picture), to_mnist(ink))
    # a little writing on a big page: under 2 % of what is opaque is ink
    small = draw_seven(280, (120, 120, 150, 160), pen=4)
    assert np.count_nonzero(small > 0.5) < 0.02 * small.size
    rounded = np.dstack(
        [synthetic.render(small, BLACK_ON_WHITE), np.full((280, 280), 255, np.uint8)]
    )
    rounded[:6, :6, 3] = rounded[:6, -6:, 3] = rounded[-6:, :6, 3] = rounded[-6:, -6:, 3] = 0
    found, name = extract_ink(rounded)
    assert name == BLACK_ON_WHITE and np.abs(found - small).max() < 0.01


def outline(size: int, box: tuple[int, int, int, int], pen: int, round_: bool) -> np.ndarray:
    """Ink (size, size) of a ring or a square drawn with a pen around `box`."""
    canvas = Image.new("L", (size, size), 0)
    draw = ImageDraw.Draw(canvas)
    (draw.ellipse if round_ else draw.rectangle)(box, outline=255, width=pen)
    return np.asarray(canvas, np.float32) / 255.0


@pytest.mark.parametrize("round_", [True, False])
def test_a_ring_or_a_box_around_a_digit_is_left_out(round_):
    seven = draw_seven(280, (100, 80, 180, 200), pen=14)
    framed = np.maximum(seven, outline(280, (30, 20, 250, 260), 12, round_))
    assert preprocess.frames(framed > 0.5).sum() > 0
    assert np.array_equal(to_mnist(framed), to_mnist(seven))


def test_a_straight_1_in_a_box_and_a_digit_in_one_box_of_a_form_are_read_alone():
    one = line(280, (140, 70), (140, 210), 14)
    boxed = np.maximum(one, outline(280, (80, 30, 200, 250), 12, round_=False))
    assert np.array_equal(to_mnist(boxed), to_mnist(one))
    seven = draw_seven(560, (250, 80, 310, 180), pen=10)
    form = seven.copy()
    for left in (30, 230, 430):  # three boxes in a row, the middle one written in
        form = np.maximum(form, outline(560, (left, 50, left + 100, 210), 6, round_=False))
    assert np.array_equal(to_mnist(form), to_mnist(seven))


def test_what_is_no_framed_digit_keeps_its_ring():
    """A slashed 0 whose slash stays clear of the ring, a dotted 0, a face, a small mark in a
    big ring: the ring is part of the drawing."""
    ring = outline(280, (60, 30, 220, 250), 14, round_=True)

    def inside(strokes: list, pen: int = 14) -> np.ndarray:
        canvas = Image.new("L", (280, 280), 0)
        draw = ImageDraw.Draw(canvas)
        for stroke in strokes:
            draw.line(stroke, fill=255, width=pen, joint="curve")
        return np.maximum(ring, np.asarray(canvas, np.float32) / 255.0)

    slashed = inside([[(170, 70), (110, 210)]])
    dotted = inside([[(140, 140), (141, 141)]], pen=20)
    face = inside([[(115, 100), (115, 115)], [(165, 100), (165, 115)]])
    face = np.maximum(face, inside([[(105, 170), (140, 190), (175, 170)]]))
    small = inside([[(125, 125), (155, 125), (135, 160)]], pen=8)
    body = outline(280, (60, 100, 220, 275), 14, round_=False)
    keyhole = [(125, 130), (155, 130), (155, 170), (140, 230), (125, 170), (125, 130)]
    shackle = Image.new("L", (280, 280), 0)  # a keyhole in a body with a shackle: a picture
    ImageDraw.Draw(shackle).line(keyhole, fill=255, width=14, joint="curve")
    ImageDraw.Draw(shackle).arc((90, 5, 190, 150), 180, 360, fill=255, width=14)
    for x in (90, 190):
        ImageDraw.Draw(shackle).line([(x, 77), (x, 105)], fill=255, width=14)
    padlock = np.maximum(body, np.asarray(shackle, np.float32) / 255.0)
    target = np.maximum(
        inside([[(140, 140), (141, 141)]], pen=20), outline(280, (90, 80, 190, 200), 14, True)
    )
    for drawing in (slashed, dotted, face, small, target, padlock):
        assert not preprocess.frames(drawing > 0.5).any()


def line(size: int, start: tuple[int, int], end: tuple[int, int], pen: int) -> np.ndarray:
    canvas = Image.new("L", (size, size), 0)
    ImageDraw.Draw(canvas).line([start, end], fill=255, width=pen)
    return np.asarray(canvas, np.float32) / 255.0


def test_a_line_under_a_digit_is_left_out_and_a_stroke_of_its_own_is_not():
    """Apart from it by `GAP` of its height: the gap under it and how far the line reaches
    beyond it on both sides, together."""
    seven = draw_seven(280, (100, 60, 180, 200), pen=14)
    underlined = np.maximum(seven, line(280, (70, 240), (210, 240), 12))
    assert np.array_equal(to_mnist(underlined), to_mnist(seven))
    # close under it with a thick pen, but reaching beyond it on both sides
    close = np.maximum(seven, line(280, (70, 222), (210, 222), 12))
    assert np.array_equal(to_mnist(close), to_mnist(seven))
    # a little apart and reaching a little beyond, neither alone `GAP` of its height: together
    near = np.maximum(seven, line(280, (84, 220), (196, 220), 12))
    (top, left, bottom, right), under = preprocess.ink_pieces(near > 0.5)[1]
    gap, beyond = under[0] - bottom, min(left - under[1], under[3] - right)
    assert 0 < gap < preprocess.GAP * (bottom - top) and 0 < beyond < preprocess.GAP * (
        bottom - top
    )
    assert np.array_equal(to_mnist(near), to_mnist(seven))
    # a base drawn apart just under a digit, no wider than it: the digit's own (a 2's)
    based = np.maximum(seven, line(280, (100, 220), (180, 220), 12))
    # a bar apart above it: the digit's own (a 5's, a 7's)
    barred = np.maximum(seven, line(280, (70, 30), (210, 30), 12))
    for drawing in (based, barred):
        assert len(preprocess.ink_pieces(drawing > 0.5)[1]) == 2  # the stroke stands apart
        assert not preprocess.underlines(drawing > 0.5).any()
        assert not np.array_equal(to_mnist(drawing), to_mnist(seven))


def test_a_line_under_the_writing_that_touches_it_is_found_and_a_base_is_not():
    """Two sevens on a line drawn so close it touches them: one piece of ink, and the line is
    taken out (`touching_underlines`), leaving the two apart. A seven alone on such a line
    keeps it: one mark over a flat stroke could be a 2 and its base."""
    sevens = np.maximum(
        draw_seven(280, (30, 60, 110, 200), 14), draw_seven(280, (150, 60, 230, 200), 14)
    )
    underlined = np.maximum(sevens, line(280, (20, 212), (260, 210), 14))
    mask = underlined > 0.5
    assert len(preprocess.ink_pieces(mask)[1]) == 1
    taken = preprocess.touching_underlines(mask)
    assert taken.any() and not taken[:190].any()  # only along the bottom
    assert len(preprocess.ink_pieces(mask & ~taken)[1]) == 2
    alone = np.maximum(
        draw_seven(280, (100, 60, 180, 200), 14), line(280, (90, 212), (200, 210), 14)
    )
    assert len(preprocess.ink_pieces(alone > 0.5)[1]) == 1
    assert not preprocess.touching_underlines(alone > 0.5).any()


def test_naive_resize_shrinks_the_whole_canvas():
    ink = draw_seven(280, (10, 10, 90, 100), pen=18)
    small = naive_resize(ink)
    assert small.shape == (28, 28)
    height, width = ink_extent(small)
    assert max(height, width) <= 13  # the digit stays small (not 20 px) and in its corner
    assert ndimage.center_of_mass(small)[0] < 8


def test_mnist_digits_come_back_close_to_themselves(mnist):
    (_, _), (x_test, _) = mnist
    for digit in x_test[:50]:
        out = to_mnist(digit)
        assert np.abs(out - digit / 255.0).mean() < 0.06


def test_round_trip_on_a_big_canvas_keeps_predictions(mnist, predictor):
    """MNIST test digits enlarged onto 280x280 canvases come back as the same digits."""
    (_, _), (x_test, y_test) = mnist
    rng = np.random.default_rng(7)
    digits = x_test[:300]
    canvases = []
    for digit in digits:
        height, top, left = synthetic.random_placement(rng, low=56, high=280)
        canvases.append(synthetic.enlarge_digit(digit, height, top, left))
    direct = predictor.predict_arrays(digits / 255.0).argmax(axis=1)
    round_trip = predictor.predict_arrays(np.stack([to_mnist(c) for c in canvases])).argmax(1)
    agreement = np.mean(direct == round_trip)
    assert agreement >= 0.97, f"predictions agree on only {agreement:.1%}"
    assert np.mean(round_trip == y_test[:300]) >= 0.93


def test_a_line_of_beads_is_one_stroke():
    """An app that stamps a dot at each pointer sample leaves a stroke of beads with gaps
    between them (`preprocess.linked`): the gaps are bridged, so the beads are one piece of
    ink and read as the stroke they make."""
    beaded = beads(SEVEN, dot=16, spacing=26, shape=(280, 280))
    mask = beaded > 0.1
    _, spans = preprocess.ink_pieces(mask)
    assert len(spans) >= preprocess.BEADS  # the beads really are apart
    joined = preprocess.linked(mask)
    assert len(preprocess.ink_pieces(joined)[1]) == 1
    assert (joined & ~ndimage.binary_dilation(mask, iterations=10)).sum() == 0  # only gaps
    solid = to_mnist(draw_seven(280, (60, 40, 190, 220), pen=16))
    for convention in CONVENTIONS:
        read = to_mnist(synthetic.render(beaded, convention))
        assert_mnist_like(read)
        assert np.abs(read - solid).mean() < 0.05


def test_a_stroke_partly_of_beads_is_one_stroke(monkeypatch):
    """Drawn fast, only part of a drawing may come out as beads (the bar of a 7; the rest
    drawn slowly, solid): six beads are enough to be a line of them (`BEADS`), though fewer
    than eight, and the 7 is one piece again."""
    bar = beads([[(60, 40), (190, 40)]], dot=16, spacing=22, shape=(280, 280)) > 0.1
    canvas = Image.new("L", (280, 280), 0)
    ImageDraw.Draw(canvas).line([(190, 40), (103, 220)], fill=255, width=16)
    seven = bar | (np.asarray(canvas) > 25)
    pieces = len(preprocess.ink_pieces(seven)[1])
    assert 6 <= pieces - 1 < 8 and pieces - 1 >= preprocess.BEADS  # beads, and the rest
    assert len(preprocess.ink_pieces(preprocess.linked(seven))[1]) == 1
    monkeypatch.setattr(preprocess, "BEADS", 8)
    assert preprocess.linked(seven) is seven


def test_a_dash_broken_off_a_stroke_is_no_stray(monkeypatch):
    """A 7 whose bar the pen drew in two: the left bit is a speck beside the rest, but a dash
    (longer than `DASH` pen widths) within `NEARLY` pen widths of the 7's ink, so it stays
    (`broken_off`); so does a bit broken off it in turn. A tap beside it and a dash further off
    are strays."""
    canvas = Image.new("L", (280, 280), 0)
    draw = ImageDraw.Draw(canvas)
    draw.line([(150, 40), (230, 40), (160, 240)], fill=255, width=16, joint="curve")
    draw.line([(98, 40), (142, 40)], fill=255, width=16)  # broken off the bar
    draw.line([(44, 40), (88, 40)], fill=255, width=16)  # broken off that
    draw.ellipse((26, 150, 40, 164), fill=255)  # a tap
    draw.line([(10, 230), (60, 230)], fill=255, width=16)  # a dash well apart
    mask = np.asarray(canvas) > 25
    labels, spans = preprocess.ink_pieces(mask)
    assert len(spans) == 5
    stray = preprocess.strays(mask)
    kept = [bool((~stray & (labels == k)).any()) for k in range(1, 6)]
    lefts = [int(span[1]) for span in spans]
    by_left = dict(zip(lefts, kept, strict=True))
    assert by_left[44] and by_left[98] and by_left[150]  # the dashes off the bar, the 7
    assert not by_left[10] and not by_left[26]  # the far dash and the tap
    monkeypatch.setattr(preprocess, "DASH", 100.0)
    stray = preprocess.strays(mask)
    assert stray[40, 60] and stray[40, 120]  # without it, both bits of the bar are strays


def test_dots_that_make_no_stroke_are_left_as_they_are():
    """Dust beside a drawing, a few dots, and dots all over the page are not beads on a line:
    `linked` gives back the very same mask."""
    seven = draw_seven(280, (60, 40, 190, 220), pen=16) > 0.1
    dusty = seven.copy()
    rows, cols = np.random.default_rng(3).integers(0, 280, (2, 40))
    dusty[rows, cols] = True  # single pixels: a JPEG's grain, no beads
    few = beads([[(40, 140), (140, 140)]], dot=16, spacing=26, shape=(280, 280)) > 0.1
    assert 1 < len(preprocess.ink_pieces(few)[1]) < preprocess.BEADS
    grid = np.zeros((280, 280), bool)
    grid[8::12, 8::12] = True
    grid = ndimage.binary_dilation(grid, iterations=3)  # dots as wide as a pen, everywhere
    close = np.zeros((280, 280), bool)
    close[20:260:10, 20:260:10] = True
    close = ndimage.binary_dilation(close, disk(4))  # joined, they would be a blot
    grain = np.zeros((280, 280), bool)
    grain[::4, ::4] = True  # single pixels close together: grain, however many
    for mask in (seven, dusty, few, grid, close, grain):
        assert preprocess.linked(mask) is mask
