"""DrawingPad in a real JupyterLab, drawn on with real mouse moves in headless Chromium: one
digit, and a whole number in number mode.

Like the unit tests, the pads read with the model the test session trains (the harness points
DIGITREC_MODEL at it), so the tests need no model file beyond those.

The harness (a throwaway `jupyter lab` on 127.0.0.1, a notebook with a pad, drawing and
reading helpers) is `digitrec.jupyter_browser`, which `bench/browser_digits.py` also uses to
draw 0-9 against the real model.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import numpy as np
import pytest
from test_widgets import number_strokes

from digitrec.constants import CANVAS_SIZE
from digitrec.jupyter_browser import (
    KERNEL_READY_JS,
    NOTEBOOK,
    NUMBER_NOTEBOOK,
    NUMBER_SETUP_CODE,
    SETUP_CODE,
    JupyterLab,
    browser_canvas,
    draw,
    ink_iou,
    jupyter_lab,
    kernel_canvas,
    kernel_json,
    open_notebook,
    shown_digit,
    shown_number,
    wait_until_idle,
    write_notebook,
)
from digitrec.strokes import example_strokes


@pytest.fixture(scope="module", params=["lab", "notebook"])
def server(request, tmp_path_factory, trained_model_path) -> Iterator[JupyterLab]:
    """JupyterLab 4, then Notebook 7 (a dependency of the course: never skipped)."""
    if request.param == "notebook":
        import notebook

        assert int(notebook.__version__.split(".")[0]) >= 7, notebook.__version__
    root = tmp_path_factory.mktemp(request.param)
    write_notebook(root / NOTEBOOK, [SETUP_CODE])
    write_notebook(root / NUMBER_NOTEBOOK, [NUMBER_SETUP_CODE])
    with jupyter_lab(root, trained_model_path, app=request.param) as running:
        yield running


@contextlib.contextmanager
def new_page(browser, shot, width: int = 1280) -> Iterator:
    """A fresh page, closed afterwards; a failing test leaves a screenshot `{shot}_failure`."""
    page = browser.new_page(viewport={"width": width, "height": 900})
    try:
        yield page
    except Exception:
        page.screenshot(path=f"{shot}_failure.png", full_page=True)
        raise
    finally:
        page.close()


@pytest.mark.browser
def test_draw_predict_and_clear(server, browser, artifacts_dir):
    shot = artifacts_dir / f"widget_{server.app}"
    with new_page(browser, shot) as page:
        open_notebook(page, server)
        assert "The canvas is empty" in page.locator(".digitrec-status").first.inner_text()
        assert kernel_json(page, "pad.prediction is None") is True

        draw(page, example_strokes(7))
        wait_until_idle(page)
        strokes = kernel_json(page, "pad.strokes")
        assert len(strokes) == 1 and len(strokes[0]) >= 3
        seen_in_page = browser_canvas(page)
        read_in_kernel = kernel_canvas(page)
        # What the learner sees and what the model reads are the same drawing.
        assert seen_in_page.max() == 255 and read_in_kernel.max() == 255
        assert ink_iou(seen_in_page, read_in_kernel) > 0.9

        # A page reload keeps the kernel's pad; the browser canvas is repainted from it.
        page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
        page.reload()
        page.wait_for_function(KERNEL_READY_JS, timeout=60_000, polling=250)
        page.locator("canvas.digitrec-canvas").first.wait_for(state="visible", timeout=30_000)
        wait_until_idle(page)
        assert ink_iou(browser_canvas(page), read_in_kernel) > 0.9

        page.locator(".digitrec-predict").first.click()
        page.locator(".digitrec-digit").first.wait_for(state="visible", timeout=20_000)
        wait_until_idle(page)
        in_kernel = kernel_json(
            page, "[pad.prediction.digit, pad.prediction.confidence, pad.message]"
        )
        assert shown_digit(page) == "7"
        assert in_kernel[0] == 7
        assert in_kernel[2] in page.locator(".digitrec-status").first.inner_text()
        page.screenshot(path=f"{shot}_predict_7.png", full_page=True)

        page.locator(".digitrec-clear").first.click()
        page.locator(".digitrec-digit").first.wait_for(state="detached", timeout=20_000)
        wait_until_idle(page)
        assert "The canvas is empty" in page.locator(".digitrec-status").first.inner_text()
        assert kernel_json(page, "[pad.prediction is None, pad.strokes]") == [True, []]
        assert browser_canvas(page).max() == 0
        assert kernel_canvas(page).max() == 0
        page.screenshot(path=f"{shot}_cleared.png", full_page=True)


# Number mode is the same widget code in both front ends, which the test above already
# compares; in JupyterLab alone it keeps the suite shorter.
@pytest.mark.browser
@pytest.mark.parametrize("server", ["lab"], indirect=True)
def test_write_2026_in_number_mode(server, browser, artifacts_dir):
    shot = artifacts_dir / f"widget_number_{server.app}"
    with new_page(browser, shot, width=1600) as page:
        open_notebook(page, server, NUMBER_NOTEBOOK)
        assert "write a number" in page.locator(".digitrec-status").first.inner_text()

        draw(page, number_strokes("2026"))
        wait_until_idle(page)
        assert len(kernel_json(page, "pad.strokes")) == len(number_strokes("2026"))
        seen_in_page = browser_canvas(page)
        read_in_kernel = kernel_canvas(page)
        assert read_in_kernel.shape == seen_in_page.shape == (CANVAS_SIZE, 3 * CANVAS_SIZE)
        assert ink_iou(seen_in_page, read_in_kernel) > 0.9

        page.locator(".digitrec-predict").first.click()
        page.locator(".digitrec-number").first.wait_for(state="visible", timeout=30_000)
        wait_until_idle(page)
        text, boxes = kernel_json(
            page, "[pad.number_reading.text, [list(b) for b in pad.number_reading.boxes]]"
        )
        assert text == "2026"
        assert shown_number(page) == "2026"
        readings = page.locator(".digitrec-piece-reading")
        assert [readings.nth(k).inner_text()[0] for k in range(4)] == list("2026")
        # Each digit's box is drawn over the writing in the page, in colour; the kernel's
        # raster, which the model reads, still holds the ink alone.
        page_rgb = browser_canvas(page, rgb=True).astype(int)
        coloured = (page_rgb.max(axis=-1) - page_rgb.min(axis=-1)) > 60
        for top, left, bottom, right in boxes:
            assert coloured[max(top - 2, 0) : top + 2, left:right].mean() > 0.5
            assert coloured[top:bottom, max(left - 2, 0) : left + 2].mean() > 0.5
        np.testing.assert_array_equal(kernel_canvas(page), read_in_kernel)
        page.screenshot(path=f"{shot}_2026.png", full_page=True)

        # A slip, then Undo: the page shows the writing as before, boxes gone with the slip.
        draw(page, [[(760, 40), (820, 250)]])
        wait_until_idle(page)
        page.locator(".digitrec-undo").first.click()
        wait_until_idle(page)
        np.testing.assert_array_equal(kernel_canvas(page), read_in_kernel)
        assert ink_iou(browser_canvas(page), read_in_kernel) > 0.9
        page_rgb = browser_canvas(page, rgb=True).astype(int)
        assert ((page_rgb.max(axis=-1) - page_rgb.min(axis=-1)) > 60).sum() == 0  # no boxes

        page.locator(".digitrec-clear").first.click()
        page.locator(".digitrec-number").first.wait_for(state="detached", timeout=20_000)
        wait_until_idle(page)
        assert browser_canvas(page, rgb=True).max() == 0  # no ink, no boxes


# A five-pointed star in one stroke, corner to every second corner.
STAR = [
    [(140 + 100 * np.cos(a), 145 + 100 * np.sin(a)) for a in np.radians(-90 + 144 * np.arange(6))]
]


@pytest.mark.browser
def test_a_star_is_refused(server, browser, artifacts_dir):
    shot = artifacts_dir / f"widget_star_{server.app}"
    with new_page(browser, shot) as page:
        open_notebook(page, server)
        problem = kernel_json(page, "pad.refusal_problem")
        assert problem is None, f"the pad cannot refuse without its refusal model: {problem}"
        draw(page, STAR)
        wait_until_idle(page)
        page.locator(".digitrec-predict").first.click()
        page.locator(".digitrec-refused").first.wait_for(state="visible", timeout=20_000)
        wait_until_idle(page)

        assert shown_digit(page) == "Not a digit"
        assert kernel_json(page, "pad.prediction.not_a_digit") is True
        assert "does not look like a digit" in page.locator(".digitrec-status").first.inner_text()
        page.screenshot(path=f"{shot}.png", full_page=True)
