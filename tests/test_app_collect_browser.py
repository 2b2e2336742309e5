"""The collect page in a real Chromium: type a name and a class code, draw the three digits
asked for with the mouse, Save each, and find them in the class's database.

The app runs on waitress (`app.serve.serving`) on 127.0.0.1 and a free port, without a model.
"""

from __future__ import annotations

import io
import sqlite3

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import expect

from app import create_app
from app.serve import serving
from digitrec.strokes import example_strokes

pytestmark = pytest.mark.browser


def mouse_strokes(page, strokes) -> None:
    """Each stroke (canvas pixels) as a mouse drag, scaled to the canvas's size on screen."""
    box = page.locator("#sheet").bounding_box()
    scale = box["width"] / 280

    def on_page(x: float, y: float) -> tuple[float, float]:
        return box["x"] + x * scale, box["y"] + y * scale

    for stroke in strokes:
        page.mouse.move(*on_page(*stroke[0]))
        page.mouse.down()
        for point in stroke[1:]:
            page.mouse.move(*on_page(*point), steps=4)
        page.mouse.up()


def test_three_digits_drawn_with_the_mouse_are_three_rows(browser, tmp_path, artifacts_dir):
    db = tmp_path / "class.sqlite"
    app = create_app({"MODEL_PATH": str(tmp_path / "no-model.keras"), "CLASSDATA_PATH": str(db)})
    assert "collect" in app.blueprints  # create_app registers it
    problems: list[str] = []
    with serving(app, threads=2) as url:
        context = browser.new_context(viewport={"width": 900, "height": 900})
        page = context.new_page()
        page.on("pageerror", lambda error: problems.append(str(error)))
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        response = page.goto(f"{url}/collect")
        assert response.status == 200
        page.wait_for_selector("html[data-ready=true]")

        page.locator("#save").click()  # no name yet: the page asks for one, saves nothing
        expect(page.locator("#message")).to_contain_text("Type your name")
        page.fill("#writer", "Zoë O'Neil")
        page.fill("#class-code", "7b")
        for digit in range(3):
            expect(page.locator("#digit")).to_have_text(str(digit))
            mouse_strokes(page, example_strokes(digit))
            page.screenshot(path=str(artifacts_dir / f"collect_{digit}.png"))
            page.locator("#save").click()
            expect(page.locator("#count")).to_have_text(f"{digit + 1} saved")
            expect(page.locator("#save")).to_be_focused()  # the focus is not lost as it saves
        expect(page.locator("#digit")).to_have_text("3")
        expect(page.locator("#message")).to_contain_text("Saved your 2. Now draw a 3.")
        # A reload goes on from the digit asked for, not from 0 (the set stays balanced).
        page.reload()
        page.wait_for_selector("html[data-ready=true]")
        expect(page.locator("#prompt")).to_have_text("Draw a 3")
        page.evaluate("sessionStorage.setItem('digitrec.next', '8')")
        page.reload()
        page.wait_for_selector("html[data-ready=true]")
        expect(page.locator("#prompt")).to_have_text("Draw an 8")
        # The count is the writer's in the database: after a reload it goes on from 3.
        expect(page.locator("#count")).to_have_text("")
        expect(page.locator("#writer")).to_have_value("Zoë O'Neil")  # remembered
        mouse_strokes(page, example_strokes(8))
        page.locator("#save").click()
        expect(page.locator("#count")).to_have_text("4 saved")
        # The next learner at a shared computer opens the page afresh: no name filled in.
        fresh = context.new_page()
        fresh.goto(f"{url}/collect")
        fresh.wait_for_selector("html[data-ready=true]")
        expect(fresh.locator("#writer")).to_have_value("")
        expect(fresh.locator("#class-code")).to_have_value("")
        expect(fresh.locator("#prompt")).to_have_text("Draw a 0")
        context.close()
    assert problems == []
    with sqlite3.connect(db) as connection:
        stored = connection.execute(
            "SELECT class, writer, label FROM drawings ORDER BY id"
        ).fetchall()
    assert stored == [("7b", "Zoë O'Neil", digit) for digit in (0, 1, 2, 8)]


def test_a_1_drawn_with_the_keyboard_alone_is_saved(browser, tmp_path):
    db = tmp_path / "class.sqlite"
    app = create_app({"MODEL_PATH": str(tmp_path / "no-model.keras"), "CLASSDATA_PATH": str(db)})
    problems: list[str] = []
    with serving(app, threads=2) as url:
        context = browser.new_context(viewport={"width": 900, "height": 900})
        page = context.new_page()
        page.on("pageerror", lambda error: problems.append(str(error)))
        page.goto(f"{url}/collect")
        page.wait_for_selector("html[data-ready=true]")
        page.evaluate("sessionStorage.setItem('digitrec.next', '1')")
        page.reload()
        page.wait_for_selector("html[data-ready=true]")
        page.fill("#writer", "Ada")
        page.fill("#class-code", "7b")
        page.keyboard.press("Tab")  # from the class code to the drawing area
        expect(page.locator("#sheet")).to_be_focused()
        expect(page.locator("#sheet-cursor")).to_be_visible()
        for _ in range(9):
            page.keyboard.press("ArrowUp")  # to the top of the stem
        page.keyboard.press("Space")  # pen down
        expect(page.locator("#sheet-pen")).to_contain_text("Pen down")
        for _ in range(18):
            page.keyboard.press("ArrowDown")
        page.keyboard.press("Space")  # pen up
        expect(page.locator("#sheet-pen")).to_have_text(
            "Pen up, 14 of 28 across and 23 of 28 down."
        )
        page.keyboard.press("Enter")  # saves
        expect(page.locator("#count")).to_have_text("1 saved")
        expect(page.locator("#prompt")).to_have_text("Draw a 2")
        context.close()
    assert problems == []
    with sqlite3.connect(db) as connection:
        [(label, png)] = connection.execute("SELECT label, png FROM drawings").fetchall()
    ink = np.asarray(Image.open(io.BytesIO(png)).convert("L"))
    columns = np.flatnonzero(ink.max(axis=0) > 128)
    rows = np.flatnonzero(ink.max(axis=1) > 128)
    assert label == 1
    assert columns.max() - columns.min() < 30 and rows.max() - rows.min() > 150  # a stem
