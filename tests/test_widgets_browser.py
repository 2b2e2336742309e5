"""DrawingPad in a real JupyterLab, drawn on with real mouse moves in headless Chromium.

The harness (a throwaway `jupyter lab` on 127.0.0.1, a notebook with a pad, drawing and
reading helpers) is `digitrec.jupyter_browser`, which `bench/browser_digits.py` also uses to
draw 0-9 against the real model.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from digitrec.jupyter_browser import (
    KERNEL_READY_JS,
    NOTEBOOK,
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
    wait_until_idle,
    write_notebook,
)
from digitrec.strokes import example_strokes


@pytest.fixture(scope="module", params=["lab", "notebook"])
def server(request, tmp_path_factory, trained_model_path) -> Iterator[JupyterLab]:
    """JupyterLab 4, then Notebook 7 (skipped when the `notebook` package is not installed)."""
    if request.param == "notebook":
        pytest.importorskip("notebook", minversion="7", reason="Notebook 7 is not installed")
    root = tmp_path_factory.mktemp(request.param)
    write_notebook(root / NOTEBOOK, [SETUP_CODE])
    with jupyter_lab(root, trained_model_path, app=request.param) as running:
        yield running


@pytest.mark.browser
def test_draw_predict_and_clear(server, browser, artifacts_dir):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    shot = artifacts_dir / f"widget_{server.app}"
    try:
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
    except Exception:
        page.screenshot(path=f"{shot}_failure.png", full_page=True)
        raise
    finally:
        page.close()
