"""The page in a real Chromium: draw with the mouse and with a finger, Predict, Clear.

The app runs on a real HTTP server (Werkzeug's, in a thread) on 127.0.0.1 and a free port,
with the small trained model. Screenshots go to the `artifacts_dir` folder.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect
from werkzeug.serving import make_server

from app import create_app

pytestmark = pytest.mark.browser

# Strokes in canvas pixels (the canvas is 280x280): a "7" and a "1" with a foot-less stem.
SEVEN = [[(70, 60), (150, 58), (212, 62), (170, 140), (128, 232)]]
ONE = [[(120, 80), (150, 50), (150, 150), (150, 235)]]

# Collects CSP violations inside the page (Playwright runs this before the page's own script).
WATCH_CSP = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(e.violatedDirective + " " + e.blockedURI);
});
"""


class LiveServer:
    def __init__(self, app):
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.thread.join(10)
        self.server.server_close()


@pytest.fixture(scope="module")
def live_url(trained_model_path) -> Iterator[str]:
    app = create_app({"MODEL_PATH": str(trained_model_path)})
    with LiveServer(app) as server:
        yield server.url


@pytest.fixture(scope="module")
def no_model_url(tmp_path_factory) -> Iterator[str]:
    missing = tmp_path_factory.mktemp("nomodel") / "cnn.keras"
    with LiveServer(create_app({"MODEL_PATH": str(missing)})) as server:
        yield server.url


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


def open_page(context, url: str):
    context.add_init_script(WATCH_CSP)
    page = context.new_page()
    watch = Watch(page)
    response = page.goto(url)
    assert response.status == 200
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    page.wait_for_selector("html[data-ready=true]")
    return page, watch


def to_page(page, strokes):
    """Canvas pixels -> page coordinates, whatever size the canvas has on this screen."""
    box = page.locator("#pad").bounding_box()
    scale = box["width"] / 280
    return [[(box["x"] + x * scale, box["y"] + y * scale) for x, y in s] for s in strokes]


def draw_with_mouse(page, strokes) -> None:
    for stroke in to_page(page, strokes):
        page.mouse.move(*stroke[0])
        page.mouse.down()
        for x, y in stroke[1:]:
            page.mouse.move(x, y, steps=8)
        page.mouse.up()


def draw_with_finger(page, strokes) -> None:
    """A real touch drag: touchStart, touchMoves, touchEnd through the DevTools protocol."""
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
        page.wait_for_timeout(150)  # the finger rests, then lifts: a stroke, not a fling
        cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    cdp.detach()


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


def text(page, selector: str) -> str:
    return page.locator(selector).inner_text().strip()


def assert_shows(page, digit: int) -> None:
    page.wait_for_function(
        "(d) => document.getElementById('digit').textContent === String(d)", arg=digit
    )
    assert "%" in text(page, "#confidence")
    assert page.locator("#bars li.best").get_attribute("data-digit") == str(digit)
    widths = page.eval_on_selector_all(
        "#bars .bar", "bars => bars.map(b => parseFloat(b.style.transform.slice(7)))"
    )
    assert len(widths) == 10 and max(widths) == widths[digit] > 0.5
    assert sum(widths) == pytest.approx(1.0, abs=0.01)
    assert ink_on(page, "#preview") > 20  # the 28x28 image the model was fed


def assert_cleared(page) -> None:
    assert text(page, "#digit") == "?"
    assert ink_on(page, "#pad") == 0
    assert ink_on(page, "#preview") == 0
    assert page.locator("#bars li.best").count() == 0


def test_desktop_draw_predict_clear(browser, live_url, artifacts_dir):
    context = browser.new_context(viewport={"width": 900, "height": 720})
    page, watch = open_page(context, live_url)
    page.uncheck("#live")  # so it is the Predict button that asks

    page.click("#predict")
    assert "empty" in text(page, "#message")
    assert text(page, "#digit") == "?"

    draw_with_mouse(page, SEVEN)
    assert ink_on(page, "#pad") > 3000
    assert text(page, "#digit") == "?"  # live prediction is off: nothing asked yet
    with page.expect_response("**/api/predict") as answer:
        page.click("#predict")
    assert answer.value.status == 200
    assert answer.value.headers["cache-control"] == "no-store"
    assert_shows(page, 7)
    assert "looks like a 7" in text(page, "#message")
    page.screenshot(path=artifacts_dir / "app-desktop.png", animations="disabled")

    page.click("#clear")
    assert_cleared(page)
    watch.assert_clean()
    context.close()


def test_live_prediction_and_keyboard(browser, live_url):
    context = browser.new_context(viewport={"width": 900, "height": 720})
    page, watch = open_page(context, live_url)
    assert page.is_checked("#live")
    with page.expect_response("**/api/predict"):
        draw_with_mouse(page, ONE)  # no click: the answer comes as the stroke ends
    assert_shows(page, 1)

    # Keyboard only: Tab reaches Clear and Predict; Enter and Space press them.
    focused = []
    for _ in range(6):
        page.keyboard.press("Tab")
        focused.append(page.evaluate("document.activeElement.id"))
    assert "predict" in focused and "clear" in focused
    page.focus("#clear")
    page.keyboard.press("Space")
    assert_cleared(page)
    draw_with_mouse(page, SEVEN)
    page.focus("#predict")
    page.keyboard.press("Enter")
    assert_shows(page, 7)
    watch.assert_clean()
    context.close()


def test_mobile_touch_draw_predict_clear(browser, live_url, artifacts_dir):
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
    page.screenshot(path=artifacts_dir / "app-mobile.png", full_page=True, animations="disabled")

    page.tap("#clear")
    assert_cleared(page)
    draw_with_finger(page, ONE)
    page.tap("#predict")
    assert_shows(page, 1)
    watch.assert_clean()
    context.close()


def test_csp_blocks_inline_script(browser, live_url):
    """The violation watch works: an injected inline script is refused and reported."""
    context = browser.new_context()
    page, watch = open_page(context, live_url)
    page.evaluate(
        """() => { const s = document.createElement('script');
                   s.textContent = 'window.__injected = true';
                   document.body.appendChild(s); }"""
    )
    page.wait_for_function("() => window.__cspViolations.length > 0")
    assert page.evaluate("window.__injected") is None
    assert any(v.startswith("script-src") for v in watch.csp_violations())
    assert any("Content Security Policy" in m for m in watch.console)
    context.close()


def test_server_errors_are_shown_and_the_page_keeps_working(browser, no_model_url):
    context = browser.new_context(viewport={"width": 900, "height": 720})
    page, watch = open_page(context, no_model_url)
    page.uncheck("#live")
    draw_with_mouse(page, SEVEN)
    with page.expect_response("**/api/predict") as answer:
        page.click("#predict")
    assert answer.value.status == 503
    message = page.locator("#message")
    expect(message).to_contain_text("no model is loaded")
    expect(message).to_contain_text("digitrec.train")
    expect(message).to_have_class("message error")

    # The server cannot be reached at all.
    page.route("**/api/predict", lambda route: route.abort())
    page.click("#predict")
    expect(message).to_contain_text("Could not reach the server")

    # A proxy in between answers with an HTML error page instead of JSON.
    page.unroute("**/api/predict")
    page.route(
        "**/api/predict",
        lambda route: route.fulfill(
            status=502, body="<h1>Bad Gateway</h1>", content_type="text/html"
        ),
    )
    page.click("#predict")
    expect(message).to_contain_text("the server answered 502")

    page.click("#clear")  # still responsive
    assert_cleared(page)
    assert watch.page_errors == []
    assert watch.csp_violations() == []
    context.close()
