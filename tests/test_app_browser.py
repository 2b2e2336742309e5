"""The page in a real Chromium: draw with the mouse, a finger or the keyboard, upload, undo,
write a number in number mode, and see a drawing refused as "not a digit".

The app runs on the real server (waitress through `app.serve`, in a thread) on 127.0.0.1 and
a free port, with the small trained model. An automated accessibility check (axe-core) runs
on the page in both colour themes and in number mode. Screenshots go to the `artifacts_dir`
folder.
"""

from __future__ import annotations

import base64
import io
import re
from collections.abc import Iterator

import numpy as np
import pytest
from axe_playwright_python.sync_playwright import Axe
from PIL import Image
from playwright.sync_api import expect
from test_app_api import one_digit_pad_strokes
from test_app_models import save_constant_model
from test_app_number import digit_strokes, ink_judge, judged_app, number_drawing
from test_predict import constant_judge

from app import create_app
from app.pages import NUMBER_WIDTH
from app.serve import serving
from digitrec import refusal, synthetic
from digitrec.constants import CANVAS_SIZE, MNIST_SIZE

pytestmark = pytest.mark.browser

# Strokes in canvas pixels (the canvas is 280x280): a "7" and a "1" with a foot-less stem.
SEVEN = [[(70, 60), (150, 58), (212, 62), (170, 140), (128, 232)]]
ONE = [[(120, 80), (150, 50), (150, 150), (150, 235)]]
STROKE_END = [[(30, 250), (60, 250)]]  # a stray dash, to be undone
# A five-pointed star in one stroke, corner to every second corner.
CORNERS = [
    (140 + 105 * np.cos(a), 150 + 105 * np.sin(a)) for a in np.radians(np.arange(-90, 270, 72))
]
STAR = [[*CORNERS[::2], *CORNERS[1::2], CORNERS[0]]]
NOT_A_DIGIT = "That is not a digit."
# A phone of today, as Playwright emulates one: touch, no hover, a coarse pointer.
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}

# Collects CSP violations and every text the live region says (an emptied region says nothing).
# Playwright runs this before the page's own script.
WATCH_PAGE = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(e.violatedDirective + " " + e.blockedURI);
});
window.__said = [];
document.addEventListener("DOMContentLoaded", () => {
  const region = document.getElementById("status");
  new MutationObserver(() => region.textContent && window.__said.push(region.textContent)).observe(
    region, { childList: true, characterData: true, subtree: true });
});
"""
ANSWER = re.compile(r"^(\d), (\d+)\u00a0% sure\.$")


@pytest.fixture(scope="module")
def live_url(trained_model_path) -> Iterator[str]:
    with serving(create_app({"MODEL_PATH": str(trained_model_path)}), threads=2) as url:
        yield url


@pytest.fixture(scope="module")
def models_url(tmp_path_factory, trained_model_path) -> Iterator[str]:
    """The app with the trained model as its default and, in its models folder, a model that
    reads every drawing as a 3."""
    folder = tmp_path_factory.mktemp("models")
    save_constant_model(folder / "always3.keras", 3, {"arch": "constant", "test_accuracy": 0.1})
    app = create_app(
        {
            "MODEL_PATH": str(trained_model_path),
            "MODELS_DIR": str(folder),
            "SHIPPED_MODEL_PATH": str(folder / "none.keras"),
        }
    )
    with serving(app) as url:
        yield url


@pytest.fixture(scope="module")
def no_model_url(tmp_path_factory) -> Iterator[str]:
    missing = tmp_path_factory.mktemp("nomodel") / "cnn.keras"
    with serving(create_app({"MODEL_PATH": str(missing)})) as url:
        yield url


DESKTOP = {"width": 900, "height": 760}


@pytest.fixture
def desktop(browser, live_url):
    """A fresh desktop-sized page on the app, and its `Watch`."""
    context = browser.new_context(viewport=DESKTOP, accept_downloads=True)
    page, watch = open_page(context, live_url)
    yield page, watch
    context.close()


@pytest.fixture
def quiet(desktop):
    """`desktop` with live prediction off, so only Predict (or Enter) asks the server."""
    desktop[0].uncheck("#live")
    return desktop


class Watch:
    """Console errors, uncaught page errors and CSP violations seen by one page."""

    def __init__(self, page):
        self.page = page
        self.console: list[str] = []
        self.page_errors: list[str] = []
        page.on("console", lambda m: self.console.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.page_errors.append(str(e)))

    def csp_violations(self) -> list[str]:
        return self.page.evaluate("window.__cspViolations")

    def assert_clean(self) -> None:
        assert self.page_errors == []
        assert self.console == []
        assert self.csp_violations() == []


def open_page(context, url: str, health: str = "ok"):
    context.add_init_script(WATCH_PAGE)
    page = context.new_page()
    watch = Watch(page)
    response = page.goto(url)
    assert response.status == 200
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    page.wait_for_selector(f"html[data-health='{health}']")
    return page, watch


def said(page) -> list[str]:
    """Every text the live region has shown since the page loaded, in order."""
    return page.evaluate("window.__said")


def answers(page) -> list[str]:
    return [text for text in said(page) if ANSWER.match(text)]


def to_page(page, strokes):
    """Canvas pixels -> page coordinates, whatever size the canvas has on this screen (and in
    whichever mode: the canvas is wider in number mode)."""
    box = page.locator("#pad").bounding_box()
    scale = box["width"] / page.eval_on_selector("#pad", "c => c.width")
    return [[(box["x"] + x * scale, box["y"] + y * scale) for x, y in s] for s in strokes]


def draw_with_mouse(page, strokes, pause_ms: int = 0) -> None:
    page.locator("#pad").scroll_into_view_if_needed()  # as a person scrolls back to it
    for stroke in to_page(page, strokes):
        page.mouse.move(*stroke[0])
        page.mouse.down()
        for x, y in stroke[1:]:
            page.mouse.move(x, y, steps=8)
            if pause_ms:
                page.wait_for_timeout(pause_ms)
        page.mouse.up()


def draw_with_finger(page, strokes, rest_ms: int = 150) -> None:
    """A real touch drag: touchStart, touchMoves, touchEnd through the DevTools protocol;
    the finger rests `rest_ms` before it lifts (0: a flick, lifted while still moving)."""
    page.locator("#pad").scroll_into_view_if_needed()  # as a person scrolls back to it
    cdp = page.context.new_cdp_session(page)
    for stroke in to_page(page, strokes):
        points = []
        for (x0, y0), (x1, y1) in zip(stroke, stroke[1:], strict=False):
            points += [(x0 + (x1 - x0) * t / 8, y0 + (y1 - y0) * t / 8) for t in range(8)]
        points.append(stroke[-1])
        x, y = points[0]
        cdp.send(
            "Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x, "y": y}]}
        )
        for x, y in points[1:]:
            cdp.send(
                "Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x, "y": y}]}
            )
        if rest_ms:
            page.wait_for_timeout(rest_ms)  # the finger rests, then lifts: a stroke, not a fling
        cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    cdp.detach()


def press(page, key: str, times: int = 1) -> None:
    for _ in range(times):
        page.keyboard.press(key)


def ink_on(page, selector: str) -> int:
    """How many pixels of a canvas are not black."""
    return page.evaluate(
        """(selector) => {
            const c = document.querySelector(selector);
            const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
            let n = 0;
            for (let i = 0; i < d.length; i += 4) if (d[i] + d[i + 1] + d[i + 2] > 0) n++;
            return n;
        }""",
        selector,
    )


def pixels_of(page, selector: str) -> list[int]:
    return page.evaluate(
        """(selector) => { const c = document.querySelector(selector);
             return Array.from(c.getContext("2d").getImageData(0, 0, c.width, c.height).data); }""",
        selector,
    )


def text(page, selector: str) -> str:
    return page.locator(selector).inner_text().strip()


def status_text(page) -> str:
    """What the live region says now, exactly (no-break spaces kept)."""
    return page.eval_on_selector("#status", "e => e.textContent")


def assert_shows(page, digit: int) -> None:
    page.wait_for_function(
        "(d) => document.getElementById('status').textContent.startsWith(d + ', ')", arg=digit
    )
    assert ANSWER.match(status_text(page))
    assert text(page, "#digit") == str(digit)
    assert page.locator("#bars li.best").get_attribute("data-digit") == str(digit)
    widths = page.eval_on_selector_all(
        "#bars .bar", "bars => bars.map(b => parseFloat(b.style.transform.slice(7)))"
    )
    assert len(widths) == 10 and max(widths) == widths[digit] > 0.5
    assert sum(widths) == pytest.approx(1.0, abs=0.01)
    assert ink_on(page, "#preview") > 20  # the 28x28 image the model was fed
    assert page.is_enabled("#download")


def assert_cleared(page) -> None:
    assert text(page, "#digit") == "?"
    assert ink_on(page, "#pad") == 0
    assert ink_on(page, "#preview") == 0
    assert page.locator("#bars li.best").count() == 0
    assert page.is_disabled("#undo") and page.is_disabled("#download")


def test_desktop_draw_predict_clear(desktop, artifacts_dir):
    page, watch = desktop
    expect(page.locator("#model-info")).to_contain_text("cnn")
    page.uncheck("#live")  # so it is the Predict button that asks

    page.click("#predict")
    assert "empty" in text(page, "#status")
    assert text(page, "#digit") == "?"

    draw_with_mouse(page, SEVEN)
    assert ink_on(page, "#pad") > 3000
    assert text(page, "#digit") == "?"  # live prediction is off: nothing asked yet
    with page.expect_response("**/api/predict") as answer:
        page.click("#predict")
    assert answer.value.status == 200
    assert answer.value.headers["cache-control"] == "no-store"
    assert_shows(page, 7)
    assert said(page)[-2:] == ["Reading\u2026", status_text(page)]  # busy, then the answer
    page.screenshot(path=artifacts_dir / "app-desktop.png", animations="disabled")

    page.click("#clear")
    assert_cleared(page)
    watch.assert_clean()


def test_live_prediction_announces_one_answer_per_stroke(desktop):
    page, watch = desktop
    assert page.is_checked("#live")
    requests = []
    page.on("request", lambda r: requests.append(r) if r.url.endswith("/api/predict") else None)
    with page.expect_response("**/api/predict"):
        draw_with_mouse(page, ONE, pause_ms=400)  # a slow stroke: asked several times
    assert_shows(page, 1)
    page.wait_for_timeout(300)
    assert len(requests) >= 3  # live readings while drawing, and one as the stroke ended
    assert answers(page) == [status_text(page)]  # one answer said, not one per reading
    watch.assert_clean()


def test_keyboard_only_draw_predict_undo_clear(desktop):
    """No mouse at all: Tab to the pad, draw a 1 with the arrow keys, Enter, Ctrl+Z, Esc."""
    page, watch = desktop
    page.keyboard.press("Tab")  # the choice of one digit or a number comes first ...
    assert page.evaluate("document.activeElement.id") == "mode-digit"
    page.keyboard.press("Tab")  # ... then the pad
    assert page.evaluate("document.activeElement.id") == "pad"
    assert page.is_visible("#cursor")  # the keyboard pen shows where it is

    live = page.locator("#live")
    assert live.is_checked()
    press(page, "ArrowUp", 9)  # from the centre (14, 14) to the top of the stem
    press(page, "Space")  # pen down
    assert "down" in text(page, "#pen-state")
    press(page, "ArrowDown", 18)
    press(page, "Space")  # pen up: with live prediction on, the stroke is read now
    assert "up" in text(page, "#pen-state")
    assert ink_on(page, "#pad") > 2000
    assert_shows(page, 1)

    # Enter reads it again: "Reading..." then one sentence, in the one live region.
    before = len(said(page))
    press(page, "Enter")
    page.wait_for_function("(n) => window.__said.length >= n", arg=before + 2)
    assert said(page)[before:] == ["Reading\u2026", status_text(page)]
    assert ANSWER.match(said(page)[-1])

    press(page, "ArrowRight", 3)
    press(page, "Space")
    press(page, "ArrowRight", 4)  # a second stroke ...
    press(page, "Space")
    strokes_two = ink_on(page, "#pad")
    press(page, "Control+z")  # ... undone
    assert 0 < ink_on(page, "#pad") < strokes_two
    # Esc on the model chooser or the pen slider is theirs: the drawing stays.
    left = ink_on(page, "#pad")
    for control in ("#model", "#pen-width"):
        page.focus(control)
        page.keyboard.press("Escape")
        assert ink_on(page, "#pad") == left
    page.focus("#pad")
    press(page, "Escape")
    assert_cleared(page)
    assert "Cleared" in text(page, "#status")
    watch.assert_clean()


def test_undo_restores_the_drawing_exactly(quiet):
    page, watch = quiet
    draw_with_mouse(page, SEVEN)
    seven = pixels_of(page, "#pad")
    draw_with_mouse(page, STROKE_END)
    assert pixels_of(page, "#pad") != seven
    page.click("#undo")
    assert pixels_of(page, "#pad") == seven
    page.click("#predict")
    assert_shows(page, 7)
    page.click("#undo")
    assert_cleared(page)
    assert page.evaluate("document.activeElement.id") == "pad"  # focus is not lost
    watch.assert_clean()


def test_pen_width_changes_the_stroke(quiet):
    page, _ = quiet
    draw_with_mouse(page, ONE)
    thin = ink_on(page, "#pad")
    page.click("#clear")
    page.locator("#pen-width").fill("36")
    assert text(page, "#pen-width-value") == "36 px"
    draw_with_mouse(page, ONE)
    assert ink_on(page, "#pad") > 1.6 * thin


def photo_of_digit(mnist, index: int, size: int) -> Image.Image:
    """A test digit redrawn in black ink on white paper, as a size x size picture."""
    (_, _), (x_test, _) = mnist
    ink = synthetic.redraw_digit(x_test[index], height=200, top=40, left=40)
    pixels = synthetic.render(ink, synthetic.BLACK_ON_WHITE)[..., :3]
    return Image.fromarray(pixels).resize((size, size), Image.Resampling.BILINEAR)


def as_file(image: Image.Image, name: str, fmt: str, **save) -> dict:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **save)
    return {"name": name, "mimeType": f"image/{fmt.lower()}", "buffer": buffer.getvalue()}


def test_upload_a_picture(desktop, mnist):
    (_, _), (_, y_test) = mnist
    page, watch = desktop

    # A small PNG goes to the server as it is.
    small = as_file(photo_of_digit(mnist, 3, 280), "three.png", "PNG")
    with page.expect_request("**/api/predict") as sent:
        page.set_input_files("#upload", files=[small])
    assert_shows(page, int(y_test[3]))
    image = sent.value.post_data_json["image"]
    assert base64.b64decode(image.split(",", 1)[1]) == small["buffer"]
    assert ink_on(page, "#pad") > 1000  # the pad shows the picture
    assert "three.png" in text(page, "#advice")

    # A big phone photo, stored sideways with an EXIF orientation: the page scales it down
    # (the browser turns it upright), and the server reads what a person sees.
    stored = photo_of_digit(mnist, 4, 1200).transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = 6
    photo = as_file(stored, "photo.jpg", "JPEG", quality=92, exif=exif.tobytes())
    with page.expect_request("**/api/predict") as sent:
        page.set_input_files("#upload", files=[photo])
    assert_shows(page, int(y_test[4]))
    body = sent.value.post_data
    assert len(body) <= 1024 * 1024
    assert sent.value.post_data_json["image"].startswith("data:image/jpeg;base64,")

    # Undo removes the picture; a file that is no picture gets a clear message.
    page.click("#undo")
    assert_cleared(page)
    page.set_input_files(
        "#upload", files=[{"name": "notes.txt", "mimeType": "text/plain", "buffer": b"hello"}]
    )
    expect(page.locator("#status")).to_contain_text("not a PNG or JPEG")
    watch.assert_clean()


def test_number_boxes_sit_on_an_uploaded_picture(quiet):
    """The server's boxes are in the picture's pixels; the pad shows the picture scaled and
    centred, and each box is drawn where its digit is shown."""
    page, watch = quiet
    switch_to_number_mode(page)
    # "47" at the top of a square picture, the pad being three times as wide as high.
    ink = number_drawing([4, 7])
    square = np.zeros((NUMBER_WIDTH, NUMBER_WIDTH), np.uint8)
    square[: ink.shape[0]] = ink
    picture = as_file(Image.fromarray(square), "forty-seven.png", "PNG")
    with page.expect_response("**/api/number") as answer:
        page.set_input_files("#upload", files=[picture])
    read = answer.value.json()
    assert read["text"] == "47"
    # Over the server's pixel limit, the page sent the picture scaled down: boxes are in those.
    sent = answer.value.request.post_data_json["image"]
    sent_size = Image.open(io.BytesIO(base64.b64decode(sent.split(",", 1)[1]))).size[0]
    assert sent_size < NUMBER_WIDTH
    page.wait_for_function("() => document.querySelectorAll('#boxes .box').length === 2")
    pad = page.locator("#pad").bounding_box()
    shown = CANVAS_SIZE / NUMBER_WIDTH  # the picture's scale on the pad: it fits the height
    left_edge = (NUMBER_WIDTH - shown * NUMBER_WIDTH) / 2  # and is centred across
    css = pad["width"] / NUMBER_WIDTH
    for box, digit in zip(page.locator("#boxes .box").all(), read["digits"], strict=True):
        top, left, bottom, right = (NUMBER_WIDTH / sent_size * v for v in digit["box"])
        drawn = box.bounding_box()
        assert drawn["x"] == pytest.approx(pad["x"] + (left_edge + left * shown) * css, abs=2)
        assert drawn["y"] == pytest.approx(pad["y"] + top * shown * css, abs=2)
        assert drawn["width"] == pytest.approx((right - left) * shown * css, abs=2)
        assert drawn["height"] == pytest.approx((bottom - top) * shown * css, abs=2)
    watch.assert_clean()


def test_a_422_is_said_in_the_servers_words(quiet):
    page, watch = quiet
    draw_with_mouse(page, SEVEN)
    error = '{"error": "the drawing has 48 separate marks: too many to read"}'
    page.route(
        "**/api/predict",
        answering(status=422, body=error, content_type="application/json"),
    )
    page.click("#predict")
    expect(page.locator("#status")).to_have_text(
        "The drawing has 48 separate marks: too many to read."
    )
    page.unroute("**/api/predict")
    assert watch.page_errors == []  # the console notes the 422 itself, as browsers do


def test_download_the_28x28_image(quiet):
    page, _ = quiet
    draw_with_mouse(page, SEVEN)
    with page.expect_response("**/api/predict") as answer:
        page.click("#predict")
    assert_shows(page, 7)
    preview = np.array(answer.value.json()["preview"])
    with page.expect_download() as download:
        page.click("#download")
    assert download.value.suggested_filename == f"digit-7-{MNIST_SIZE}x{MNIST_SIZE}.png"
    saved = Image.open(download.value.path())
    assert saved.size == (MNIST_SIZE, MNIST_SIZE)
    grey = np.asarray(saved.convert("L"), dtype=float) / 255
    assert np.abs(grey - preview).max() <= 1 / 255 + 1e-9


def test_an_error_leaves_nothing_of_the_answer_before_it(quiet):
    page, _ = quiet
    draw_with_mouse(page, SEVEN)
    with page.expect_response("**/api/predict"):
        page.click("#predict")
    assert_shows(page, 7)
    assert page.is_enabled("#download") and ink_on(page, "#preview") > 20

    page.route("**/api/predict", lambda route: route.abort())  # the server is gone
    page.click("#predict")
    expect(page.locator("#status")).to_contain_text("Could not reach the server")
    # No bars, preview or download of the earlier answer beside the error; the drawing stays.
    assert text(page, "#digit") == "?"
    assert page.locator("#bars li.best").count() == 0
    assert ink_on(page, "#preview") == 0
    assert page.is_disabled("#download") and ink_on(page, "#pad") > 0
    page.unroute("**/api/predict")


def contrast(page, foreground: str, background: str) -> float:
    """WCAG contrast ratio between two CSS colours, as the browser computes them."""
    return page.evaluate(
        """([a, b]) => {
            const rgb = (css) => {
                const c = document.createElement("canvas").getContext("2d");
                c.fillStyle = css; c.fillRect(0, 0, 1, 1);
                return Array.from(c.getImageData(0, 0, 1, 1).data.slice(0, 3));
            };
            const lum = (css) => {
                const [r, g, b] = rgb(css).map((v) => {
                    v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
                return 0.2126 * r + 0.7152 * g + 0.0722 * b;
            };
            const [hi, lo] = [lum(a), lum(b)].sort((x, y) => y - x);
            return (hi + 0.05) / (lo + 0.05);
        }""",
        [foreground, background],
    )


def serious_violations(page) -> list[str]:
    """What axe-core finds on the page now that is serious or critical, one line each."""
    found = Axe().run(page, options={"resultTypes": ["violations"]}).response["violations"]
    return [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']]}"
        for v in found
        if v["impact"] in ("serious", "critical")
    ]


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_accessibility_check_and_contrast(browser, live_url, scheme):
    """axe-core finds no serious or critical violation, before and after an answer."""
    context = browser.new_context(viewport=DESKTOP, color_scheme=scheme)
    page, watch = open_page(context, live_url)
    page.uncheck("#live")

    assert serious_violations(page) == []
    draw_with_mouse(page, SEVEN)
    page.click("#predict")
    assert_shows(page, 7)
    assert serious_violations(page) == []

    # Focus rings at least 3:1 against the page (WCAG 2.2), bars at least 3:1 on their track.
    style = "(e, p) => getComputedStyle(e)[p]"
    page.focus("#pad")
    page.keyboard.press("ArrowUp")
    ring = page.eval_on_selector("#pad", style, "outlineColor")
    assert page.eval_on_selector("#pad", style, "outlineStyle") == "solid"
    page_colour = page.eval_on_selector("body", style, "backgroundColor")
    card = page.eval_on_selector("#result", style, "backgroundColor")
    assert contrast(page, ring, page_colour) >= 3
    assert contrast(page, ring, "#000") >= 3  # beside the black drawing pad
    track = page.eval_on_selector(".track", style, "backgroundColor")
    for selector in ("#bars li:not(.best) .bar", "#bars li.best .bar"):
        bar = page.eval_on_selector(selector, style, "backgroundColor")
        assert contrast(page, bar, track) >= 3, selector
    assert contrast(page, page.eval_on_selector("body", style, "color"), card) >= 4.5
    watch.assert_clean()
    context.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize(
    ("device", "options"),
    [
        ("desktop", {"viewport": {"width": 1000, "height": 720}}),
        (
            "phone",
            PHONE,
        ),
    ],
)
def test_screenshots(browser, live_url, artifacts_dir, scheme, device, options):
    """The page with an answer, in each theme, at desktop and phone width."""
    context = browser.new_context(color_scheme=scheme, **options)
    page, watch = open_page(context, live_url)
    page.uncheck("#live")
    if device == "phone":
        draw_with_finger(page, SEVEN)
        page.tap("#predict")
    else:
        draw_with_mouse(page, SEVEN)
        page.click("#predict")
    assert_shows(page, 7)
    background = page.eval_on_selector("body", "e => getComputedStyle(e).backgroundColor")
    assert (background == "rgb(15, 17, 21)") == (scheme == "dark")
    page.mouse.move(0, 0)
    # A phone's is its screen, the pad and the answer as one sees them while drawing (a
    # full-page capture there resizes the page and drops the touch emulation's styles).
    page.screenshot(
        path=artifacts_dir / f"app-{scheme}-{device}.png",
        full_page=device != "phone",
        animations="disabled",
    )
    watch.assert_clean()
    context.close()


def test_mobile_touch_draw_predict_clear(browser, live_url):
    context = browser.new_context(
        viewport={"width": 390, "height": 844},
        device_scale_factor=3,
        is_mobile=True,
        has_touch=True,
    )
    page, watch = open_page(context, live_url)
    page.uncheck("#live")
    assert page.evaluate("document.documentElement.scrollHeight > innerHeight")  # can scroll
    pointer_types = page.evaluate_handle(
        """() => { const seen = new Set();
           document.getElementById('pad').addEventListener('pointerdown',
               e => seen.add(e.pointerType));
           return seen; }"""
    )

    draw_with_finger(page, SEVEN)
    assert page.evaluate("(s) => [...s]", pointer_types) == ["touch"]
    assert page.evaluate("scrollY") == 0  # the drag drew; it did not scroll the page
    assert ink_on(page, "#pad") > 3000
    page.tap("#predict")
    assert_shows(page, 7)

    page.tap("#clear")
    assert_cleared(page)
    draw_with_finger(page, ONE)
    page.tap("#predict")
    assert_shows(page, 1)
    watch.assert_clean()
    context.close()


def test_on_a_phone_the_answer_shows_with_the_pad(browser, live_url):
    """On a phone's screen the pad and the answer fit together, so one sees the digit read
    while drawing; the keyboard's help, of no use without a keyboard, gives way."""
    context = browser.new_context(**PHONE)
    page, watch = open_page(context, live_url)
    draw_with_finger(page, SEVEN)
    assert_shows(page, 7)  # live prediction: no tap on Predict, no scrolling
    pad, digit = page.locator("#pad").bounding_box(), page.locator("#digit").bounding_box()
    assert pad["y"] >= 0 and digit["y"] + digit["height"] <= PHONE["viewport"]["height"]
    assert page.is_hidden("#keys") and page.is_hidden("#pen-state")
    assert "Keyboard" in page.eval_on_selector("#keys", "e => e.textContent")  # still described
    watch.assert_clean()
    context.close()


def test_a_tap_right_after_a_quick_stroke_is_heard(browser, live_url):
    """A finger lifted while still moving, then Predict tapped at once: the first tap reads."""
    context = browser.new_context(
        viewport={"width": 375, "height": 667}, is_mobile=True, has_touch=True
    )
    page, watch = open_page(context, live_url)
    page.uncheck("#live")
    draw_with_finger(page, SEVEN, rest_ms=0)
    page.tap("#predict")
    assert_shows(page, 7)
    draw_with_finger(page, STROKE_END, rest_ms=0)
    page.tap("#undo")
    expect(page.locator("#status")).to_contain_text("Undone the last stroke")
    watch.assert_clean()
    context.close()


def test_enter_after_drawing_with_the_mouse_reads_it(quiet):
    """Drawing gives the pad the focus: Enter reads, it does not press the button clicked
    last (here Clear, which would wipe the drawing)."""
    page, watch = quiet
    page.click("#clear")
    draw_with_mouse(page, SEVEN)
    assert page.evaluate("document.activeElement.id") == "pad"
    page.keyboard.press("Enter")
    assert_shows(page, 7)
    assert ink_on(page, "#pad") > 3000
    watch.assert_clean()


def test_a_stroke_added_after_an_answer_takes_the_answer_away(quiet):
    """With live reading off, an answer never stays beside a drawing it was not given for."""
    page, watch = quiet
    draw_with_mouse(page, SEVEN)
    page.click("#predict")
    assert_shows(page, 7)
    draw_with_mouse(page, STROKE_END)
    expect(page.locator("#status")).to_have_text(
        "Changed: press Predict to read the drawing again."
    )
    assert text(page, "#digit") == "?" and page.is_disabled("#download")
    assert ink_on(page, "#preview") == 0
    watch.assert_clean()


def test_a_lost_mouse_release_ends_the_stroke(quiet):
    """A release the page never hears (outside the window, a gesture): the next move with no
    button held ends the stroke instead of drawing on."""
    page, watch = quiet
    box = page.locator("#pad").bounding_box()
    page.mouse.move(box["x"] + 60, box["y"] + 60)
    page.mouse.down()
    page.mouse.move(box["x"] + 100, box["y"] + 60, steps=4)
    before = ink_on(page, "#pad")
    page.evaluate(
        """([x, y]) => {
            const pad = document.getElementById("pad");
            for (let i = 0; i < 10; i++) {
                pad.dispatchEvent(new PointerEvent("pointermove", { pointerId: 1,
                    pointerType: "mouse", buttons: 0, clientX: x, clientY: y + 10 * i,
                    bubbles: true }));
            }
        }""",
        [box["x"] + 100, box["y"] + 80],
    )
    assert ink_on(page, "#pad") == before
    page.mouse.up()
    watch.assert_clean()


@pytest.mark.parametrize("width", [320, 375])
def test_a_narrow_phone_never_scrolls_sideways(browser, live_url, width):
    """At 320 px (a small phone, or a laptop zoomed to 400 %) nothing is wider than the
    screen, in number mode with a mark at the pad's right edge either."""
    context = browser.new_context(viewport={"width": width, "height": 640})
    page, watch = open_page(context, live_url)
    page.uncheck("#live")
    wider = "document.documentElement.scrollWidth - innerWidth"
    assert page.evaluate(wider) <= 0
    switch_to_number_mode(page)
    wide = page.eval_on_selector("#pad", "c => c.width")
    draw_with_mouse(page, [[(40, 60), (100, 60), (70, 230)], [(wide - 30, 80), (wide - 30, 230)]])
    page.click("#predict")
    page.wait_for_function("() => document.querySelectorAll('#boxes .box').length === 2")
    assert page.evaluate(wider) <= 0
    pad = page.locator("#pad").bounding_box()
    tags = page.eval_on_selector_all(
        "#boxes .tag", "tags => tags.map(t => t.getBoundingClientRect().right)"
    )
    assert max(tags) <= pad["x"] + pad["width"] + 2
    watch.assert_clean()
    context.close()


def test_csp_blocks_inline_script(desktop):
    """The violation watch works: an injected inline script is refused and reported."""
    page, watch = desktop
    page.evaluate(
        """() => { const s = document.createElement('script');
                   s.textContent = 'window.__injected = true';
                   document.body.appendChild(s); }"""
    )
    page.wait_for_function("() => window.__cspViolations.length > 0")
    assert page.evaluate("window.__injected") is None
    assert any(v.startswith("script-src") for v in watch.csp_violations())
    assert any("Content Security Policy" in m for m in watch.console)


def answering(**answer):
    """A route handler that answers every request with `answer` (Route.fulfill's options)."""
    return lambda route: route.fulfill(**answer)


def test_no_model_is_said_on_load_and_the_page_keeps_working(browser, no_model_url):
    context = browser.new_context(viewport=DESKTOP)
    page, watch = open_page(context, no_model_url, health="no model")
    status = page.locator("#status")
    # Said as soon as the page opens, before anyone draws.
    expect(status).to_contain_text("No model is loaded")
    expect(status).to_contain_text("make train")
    # The shipped model is in the chooser: the page says it can read drawings now.
    assert set(
        page.eval_on_selector_all("#model option:not([disabled])", "os => os.map(o => o.value)")
    ) == {"cnn", "shipped"}  # the default (missing) and the shipped one
    expect(status).to_contain_text("Or choose another model under \u201cModel\u201d.")
    expect(status).to_have_class("status error")
    assert "No model" in text(page, "#model-info")

    page.uncheck("#live")
    draw_with_mouse(page, SEVEN)
    with page.expect_response("**/api/predict") as answer:
        page.click("#predict")
    assert answer.value.status == 503

    # The server cannot be reached at all.
    page.route("**/api/predict", lambda route: route.abort())
    page.click("#predict")
    expect(status).to_contain_text("Could not reach the server")

    # Something in between answers with an HTML error page instead of JSON; the server's
    # edge (waitress) refuses a body over the limit in plain text.
    for code, body, kind, said_then in [
        (502, "<h1>Bad Gateway</h1>", "text/html", "the server answered 502"),
        (413, "Request Entity Too Large", "text/plain", "the picture is too large to send (413)"),
    ]:
        page.unroute("**/api/predict")
        page.route("**/api/predict", answering(status=code, body=body, content_type=kind))
        page.click("#predict")
        expect(status).to_contain_text(said_then)

    page.click("#clear")  # still responsive
    assert_cleared(page)
    assert watch.page_errors == []
    assert watch.csp_violations() == []
    context.close()


def test_choosing_another_model_reads_the_drawing_again(browser, models_url, artifacts_dir):
    """The chooser lists both models; switching reads the same drawing with the other one."""
    context = browser.new_context(viewport=DESKTOP)
    page, watch = open_page(context, models_url)
    chooser = page.get_by_label("Model", exact=True)
    assert chooser.evaluate("e => e.id") == "model"
    assert chooser.input_value() == "cnn"  # the default
    assert page.eval_on_selector_all("#model option", "os => os.map(o => o.value)") == [
        "always3",
        "cnn",
    ]
    expect(page.locator("#model-info")).to_contain_text("\u201ccnn\u201d")
    page.uncheck("#live")
    draw_with_mouse(page, SEVEN)
    page.click("#predict")
    assert_shows(page, 7)

    with page.expect_request("**/api/predict") as sent:
        chooser.select_option("always3")  # no Predict: a new choice reads the drawing again
    assert sent.value.post_data_json["model"] == "always3"
    assert_shows(page, 3)
    expect(page.locator("#model-info")).to_contain_text("\u201calways3\u201d (constant): 10.00%")
    assert [text[0] for text in answers(page)] == ["7", "3"]  # each answer said once
    page.screenshot(path=artifacts_dir / "app-models.png", animations="disabled")
    assert serious_violations(page) == []

    # The keyboard reaches the chooser and changes the model back.
    chooser.focus()
    with page.expect_response("**/api/predict") as answer:
        page.keyboard.press("ArrowDown")
    assert answer.value.json()["model"] == "cnn"
    assert_shows(page, 7)
    watch.assert_clean()
    context.close()


# --- number mode, and "not a digit" ---------------------------------------------------------


def test_predict_clicked_twice_asks_once(quiet):
    """A double click on Predict (or Enter pressed twice) while the drawing is being read asks
    the server once; Predict after a change to the drawing asks again."""
    page, watch = quiet
    asked = []
    page.on("request", lambda r: asked.append(r.url) if "/api/predict" in r.url else None)
    draw_with_mouse(page, SEVEN)
    page.eval_on_selector("#predict", "b => { b.click(); b.click(); }")  # the second in flight
    assert_shows(page, 7)
    assert len(asked) == 1
    assert said(page).count("Reading\u2026") == 1
    draw_with_mouse(page, STROKE_END)
    page.eval_on_selector("#predict", "b => { b.click(); b.click(); }")
    page.wait_for_function("() => !document.getElementById('result').classList.contains('reading')")
    assert len(asked) == 2
    watch.assert_clean()


@pytest.mark.parametrize("control", ["#live", "#mode-digit", "#pen-width"])
def test_esc_on_a_form_control_keeps_the_drawing(quiet, control):
    """Esc clears the drawing from the pad or the page, not from a switch or a slider."""
    page, watch = quiet
    draw_with_mouse(page, SEVEN)
    ink = ink_on(page, "#pad")
    page.focus(control)
    page.keyboard.press("Escape")
    assert ink_on(page, "#pad") == ink > 3000
    page.focus("#pad")
    page.keyboard.press("Escape")
    assert_cleared(page)
    watch.assert_clean()


def switch_to_number_mode(page) -> None:
    """With the keyboard: focus the "Read" choice, and the right arrow picks "A number"."""
    page.focus("#mode-digit")
    page.keyboard.press("ArrowRight")
    expect(page.locator("#mode-number")).to_be_checked()
    page.wait_for_function("(w) => document.getElementById('pad').width === w", arg=NUMBER_WIDTH)


def tags_over_the_pad(page) -> list[str]:
    return page.eval_on_selector_all("#boxes .box .tag", "tags => tags.map(t => t.textContent)")


def assert_only_ink_on_the_pad(page) -> None:
    """The boxes are drawn over the pad, never on the drawing sent: only grey ink is on it."""
    rgba = np.array(pixels_of(page, "#pad")).reshape(-1, 4)
    assert (rgba[:, 0] == rgba[:, 1]).all() and (rgba[:, 1] == rgba[:, 2]).all()


def test_number_mode_reads_2026_written_with_the_mouse(quiet, artifacts_dir):
    page, watch = quiet
    square = page.locator("#pad").bounding_box()
    switch_to_number_mode(page)
    assert status_text(page) == "Number mode. Write a number, then press Predict."
    wide = page.locator("#pad").bounding_box()
    assert wide["width"] > 2 * square["width"]
    assert wide["width"] / wide["height"] == pytest.approx(NUMBER_WIDTH / CANVAS_SIZE, rel=0.02)
    assert page.is_hidden("#bars") and page.is_hidden("#preview")

    strokes = digit_strokes([2, 0, 2, 6])  # in the number canvas's pixels
    draw_with_mouse(page, [stroke for digit in strokes for stroke in digit])
    with page.expect_response("**/api/number") as answer:
        page.click("#predict")
    assert answer.value.status == 200
    page.wait_for_function("() => document.getElementById('status').textContent === '2026'")
    assert said(page)[-2:] == ["Reading\u2026", "2026"]  # busy, then the number
    assert text(page, "#digit") == "2026"

    # Each digit's box over the pad, with its reading, around that digit's strokes.
    assert tags_over_the_pad(page) == ["2", "0", "2", "6"]
    scale = wide["width"] / NUMBER_WIDTH
    for shown, digit in zip(page.locator("#boxes .box").all(), strokes, strict=True):
        box = shown.bounding_box()
        xs = np.concatenate([np.asarray(stroke)[:, 0] for stroke in digit])
        left, right = wide["x"] + xs.min() * scale, wide["x"] + xs.max() * scale
        assert left - 20 * scale < box["x"] < left
        assert right < box["x"] + box["width"] < right + 20 * scale
    assert_only_ink_on_the_pad(page)
    # ... and in the answer, each reading with the 28x28 image it was read from.
    items = page.locator("#number-digits li")
    assert [r.strip() for r in items.locator(".reading").all_inner_texts()] == list("2026")
    for k in range(1, 5):
        assert ink_on(page, f"#number-digits li:nth-child({k}) canvas") > 20
    assert serious_violations(page) == []
    page.screenshot(path=artifacts_dir / "app-number.png", full_page=True, animations="disabled")

    # Undo takes the last digit away; Predict reads what is left.
    for _ in strokes[-1]:
        page.click("#undo")
    assert tags_over_the_pad(page) == []
    page.click("#predict")
    page.wait_for_function("() => document.getElementById('status').textContent === '202'")
    # Back to one digit: the narrow box, the bars and the 28x28 image again.
    page.check("#mode-digit")
    page.wait_for_function("(w) => document.getElementById('pad').width === w", arg=CANVAS_SIZE)
    assert page.is_visible("#bars") and page.is_visible("#preview")
    page.click("#clear")
    assert_cleared(page)
    assert tags_over_the_pad(page) == []
    watch.assert_clean()


@pytest.fixture(scope="module")
def doubtful_url(tmp_path_factory) -> Iterator[str]:
    """The app with a model that answers 3 at 99.96 %, recorded as unsure below 99.99 %."""
    folder = tmp_path_factory.mktemp("doubtful")
    model = save_constant_model(
        folder / "doubtful.keras", 3, {"arch": "constant", "calibration": {"unsure_below": 0.9999}}
    )
    with serving(create_app({"MODEL_PATH": str(model)})) as url:
        yield url


def test_digits_of_a_number_the_model_is_unsure_of_say_maybe(browser, doubtful_url):
    context = browser.new_context(viewport=DESKTOP)
    page, watch = open_page(context, doubtful_url)
    page.uncheck("#live")
    switch_to_number_mode(page)
    strokes = digit_strokes([2, 0])
    draw_with_mouse(page, [stroke for digit in strokes for stroke in digit])
    page.click("#predict")
    expect(page.locator("#status")).to_have_text("33: not sure of marks 1, 2.")
    assert text(page, "#digit") == "33"
    assert tags_over_the_pad(page) == ["maybe 3", "maybe 3"]
    readings = page.locator("#number-digits .unsure .reading").all_inner_texts()
    assert [r.strip() for r in readings] == ["maybe 3", "maybe 3"]
    expect(page.locator("#advice")).to_contain_text("is a guess")
    assert serious_violations(page) == []
    watch.assert_clean()
    context.close()


@pytest.fixture(scope="module")
def doubtful_judged_url(tmp_path_factory) -> Iterator[str]:
    """That doubtful model, with a refusal model that refuses only blots of ink."""
    folder = tmp_path_factory.mktemp("doubtful-judged")
    model = save_constant_model(
        folder / "doubtful.keras", 3, {"arch": "constant", "calibration": {"unsure_below": 0.9999}}
    )
    served = folder / "served"
    served.mkdir()
    with serving(judged_app(served, model, ink_judge(130))) as url:
        yield url


def test_a_number_with_a_blot_and_guesses_says_both(browser, doubtful_judged_url):
    context = browser.new_context(viewport=DESKTOP)
    page, watch = open_page(context, doubtful_judged_url)
    page.uncheck("#live")
    switch_to_number_mode(page)
    two, zero = digit_strokes([2, 0])
    zero = [[(x + 160, y) for x, y in stroke] for stroke in zero]
    # Between them a blot: a zigzag the page's pen fills in, too narrow for two digits.
    blot = [[(230 + dx, y) for dx in range(0, 81, 8) for y in (60, 220)]]
    draw_with_mouse(page, [*two, *blot, *zero])
    page.click("#predict")
    expect(page.locator("#status")).to_have_text(
        "3?3: mark 2 is not a digit. Not sure of marks 1, 3."
    )
    assert tags_over_the_pad(page) == ["maybe 3", "not a digit", "maybe 3"]
    expect(page.locator("#advice")).to_contain_text("marks what is not a digit")
    # Digits read around the blot: no hint to space them out, that is for one mark alone.
    expect(page.locator("#advice")).not_to_contain_text("leave a little space")
    watch.assert_clean()
    context.close()


@pytest.fixture(scope="module")
def refusing_url(tmp_path_factory, trained_model_path) -> Iterator[str]:
    """The app with a refusal model that calls every drawing "not a digit"."""
    folder = tmp_path_factory.mktemp("refusing")
    with serving(judged_app(folder, trained_model_path, constant_judge(0.9))) as url:
        yield url


def test_a_refused_drawing_is_said_to_be_no_digit(browser, refusing_url, artifacts_dir):
    context = browser.new_context(viewport=DESKTOP)
    page, watch = open_page(context, refusing_url)
    page.uncheck("#live")
    draw_with_mouse(page, SEVEN)
    page.click("#predict")
    expect(page.locator("#status")).to_have_text(NOT_A_DIGIT)
    assert text(page, "#digit") == "\u2715"
    assert page.locator("#bars li.best").count() == 0  # no digit is singled out ...
    # ... but what the model would have said, forced to choose, is there for the curious.
    expect(page.locator("#advice")).to_contain_text("Forced to choose, the model would say 7")
    assert ink_on(page, "#preview") > 20
    page.screenshot(path=artifacts_dir / "app-not-a-digit.png", animations="disabled")

    # In number mode the same drawing is read again at once: one mark, not a digit.
    with page.expect_response("**/api/number"):
        page.check("#mode-number")
    expect(page.locator("#status")).to_have_text(NOT_A_DIGIT)
    assert text(page, "#digit") == "?"
    assert tags_over_the_pad(page) == ["not a digit"]
    assert page.locator("#number-digits .reading").all_inner_texts() == ["not a digit"]
    # A tall mark: no advice about spacing digits.
    expect(page.locator("#advice")).not_to_contain_text("leave a little space")
    assert said(page).count(NOT_A_DIGIT) == 2  # each answer said once
    assert serious_violations(page) == []

    # A mark wider than high may be digits written into each other: the page says how to
    # write a number.
    page.click("#clear")
    draw_with_mouse(page, [s for digit in digit_strokes([4, 7]) for s in digit])
    with page.expect_response("**/api/number"):
        page.click("#predict")
    expect(page.locator("#advice")).to_contain_text("leave a little space between its digits")
    watch.assert_clean()
    context.close()


@pytest.fixture(scope="module")
def shipped_refusal() -> refusal.NotDigitModel:
    """The shipped refusal model, which the app loads: without it nothing is refused, so the
    test fails (it is not skipped), saying how to make it."""
    try:
        return refusal.NotDigitModel.load()
    except refusal.RefusalModelError as exc:
        pytest.fail(str(exc))


def test_a_star_drawn_with_the_mouse_is_not_a_digit(shipped_refusal, quiet):
    page, watch = quiet
    assert page.evaluate("fetch('/healthz').then(r => r.json())")["refusal"] is True
    draw_with_mouse(page, STAR)
    with page.expect_response("**/api/predict") as answer:
        page.click("#predict")
    assert answer.value.json()["not_a_digit"] is True and answer.value.json()["digit"] is None
    expect(page.locator("#status")).to_have_text(NOT_A_DIGIT)
    assert text(page, "#digit") == "\u2715"
    page.click("#clear")
    draw_with_mouse(page, SEVEN)  # a digit still reads as one
    page.click("#predict")
    assert_shows(page, 7)
    watch.assert_clean()


def test_a_number_drawn_in_digit_mode_is_named_with_how_to_read_it(shipped_refusal, quiet):
    """A number written where one digit is asked for: the page says which number it looks
    like and how to read it, and switching to number mode reads it."""
    page, watch = quiet
    draw_with_mouse(page, one_digit_pad_strokes(4, 2))
    with page.expect_response("**/api/predict") as answer:
        page.click("#predict")
    assert answer.value.json()["number"] == "42"
    expect(page.locator("#status")).to_have_text(
        "That is not one digit: it looks like the number 42."
    )
    expect(page.locator("#advice")).to_have_text("Choose \u201cA number\u201d to read it.")
    assert text(page, "#digit") == "\u2715"
    with page.expect_response("**/api/number"):
        page.check("#mode-number")
    expect(page.locator("#status")).to_have_text("42")
    watch.assert_clean()


def test_undo_in_digit_mode_takes_back_what_shows(quiet):
    """A stroke written in number mode beyond the one-digit box is unseen in digit mode: Undo
    there takes back the last stroke one can see, and the unseen one is back in number mode."""
    page, watch = quiet
    switch_to_number_mode(page)
    beyond = [[(600, 60), (600, 230)]]
    draw_with_mouse(page, ONE)
    draw_with_mouse(page, beyond)
    number_ink = ink_on(page, "#pad")
    page.check("#mode-digit")
    page.wait_for_function("(w) => document.getElementById('pad').width === w", arg=CANVAS_SIZE)
    assert ink_on(page, "#pad") > 1000
    page.click("#undo")
    assert ink_on(page, "#pad") == 0
    assert page.is_disabled("#undo")
    assert status_text(page) == "Undone: the box is empty."
    page.keyboard.press("Enter")
    expect(page.locator("#status")).to_contain_text("The box is empty")
    switch_to_number_mode(page)
    assert 1000 < ink_on(page, "#pad") < number_ink
    assert page.is_enabled("#undo")
    watch.assert_clean()
