"""The page: a canvas, its controls, one live region, local assets only, no inline script."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from app.pages import NUMBER_WIDTH
from digitrec.constants import CANVAS_SIZE, MNIST_SIZE, PEN_WIDTH


class Collect(HTMLParser):
    def __init__(self):
        super().__init__()
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.script_text: list[str] = []
        self.labels: dict[str, str] = {}  # the visible text of each <label for=...>
        self._in_script = False
        self._label: str | None = None

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))
        self._in_script = tag == "script"
        if tag == "label":
            self._label = dict(attrs).get("for")
            self.labels[self._label] = ""

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False
        if tag == "label":
            self._label = None

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.script_text.append(data)
        if self._label is not None:
            self.labels[self._label] += data.strip()


def parse(client) -> Collect:
    response = client.get("/")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    page = Collect()
    page.feed(response.get_data(as_text=True))
    return page


def by_id(page: Collect, element_id: str) -> tuple[str, dict]:
    matches = [(t, a) for t, a in page.elements if a.get("id") == element_id]
    assert len(matches) == 1, element_id
    return matches[0]


def test_page_has_canvas_and_controls(client, app):
    page = parse(client)
    tag, pad = by_id(page, "pad")
    assert tag == "canvas" and pad["width"] == pad["height"] == str(CANVAS_SIZE)
    # The page's numbers come from the server, for the script to read.
    assert pad["data-mnist"] == str(MNIST_SIZE)
    assert pad["data-number-width"] == str(NUMBER_WIDTH) == str(3 * CANVAS_SIZE)
    assert pad["data-max-body"] == str(app.config["MAX_CONTENT_LENGTH"])
    assert pad["data-max-pixels"] == str(app.config["MAX_IMAGE_PIXELS"])
    # A keyboard user can reach and use the pad, and is told how.
    assert pad["tabindex"] == "0" and pad["role"] == "application" and pad["aria-label"]
    assert by_id(page, "keys")[0] == "p" and "keys" in pad["aria-describedby"].split()
    for button in ("predict", "undo", "clear", "download"):
        tag, attrs = by_id(page, button)
        assert tag == "button" and attrs["type"] == "button"  # focusable, keyboard reachable
    assert "disabled" in by_id(page, "undo")[1] and "disabled" in by_id(page, "download")[1]
    pen = by_id(page, "pen-width")[1]
    assert pen["type"] == "range" and pen["value"] == str(PEN_WIDTH)
    assert int(pen["min"]) < PEN_WIDTH < int(pen["max"])
    assert by_id(page, "upload")[1]["accept"] == "image/png,image/jpeg"
    assert by_id(page, "preview")[1]["width"] == str(MNIST_SIZE)
    assert len([a for t, a in page.elements if t == "li" and "data-digit" in a]) == 10
    assert "checked" in by_id(page, "live")[1]  # live prediction on by default


def test_number_mode_is_a_labelled_choice(client):
    """One digit or a number: two radio buttons in a fieldset, so the arrow keys move between
    them; the digits' boxes are drawn over the pad for the eye only (the answer lists them)."""
    page = parse(client)
    radios = [(a["id"], a["value"]) for t, a in page.elements if a.get("name") == "mode"]
    assert radios == [("mode-digit", "digit"), ("mode-number", "number")]
    assert all(by_id(page, r)[1]["type"] == "radio" for r, _ in radios)
    assert "checked" in by_id(page, "mode-digit")[1]
    assert (page.labels["mode-digit"], page.labels["mode-number"]) == ("One digit", "A number")
    tags = [t for t, _ in page.elements]
    assert tags.index("fieldset") < tags.index("legend") < tags.index("canvas")
    assert by_id(page, "boxes")[1]["aria-hidden"] == "true"
    digits = by_id(page, "number-digits")
    assert digits[0] == "ol" and "hidden" in digits[1] and digits[1]["aria-label"]


def test_every_control_has_a_visible_label(client):
    page = parse(client)
    assert page.labels["live"] == "Live prediction"
    assert page.labels["pen-width"] == "Pen width"
    assert page.labels["upload"].startswith("Upload a picture")
    assert all("title" not in attrs for _, attrs in page.elements)  # nothing hides in a tooltip


def test_one_live_region(client):
    """Each answer is said once: one status region, no <output> (an implicit live region)."""
    page = parse(client)
    live = [
        (t, a)
        for t, a in page.elements
        if t == "output" or a.get("role") in ("status", "alert", "log") or "aria-live" in a
    ]
    assert [a["id"] for _, a in live] == ["status"]
    assert live[0][1]["aria-live"] == "polite" and live[0][1]["aria-atomic"] == "true"


def test_the_script_repeats_no_number_the_server_gives(client):
    script = client.get("/static/script.js").get_data(as_text=True)
    numbers = (
        CANVAS_SIZE,
        NUMBER_WIDTH,
        PEN_WIDTH,
        MNIST_SIZE,
        1024 * 1024,
        (2 * CANVAS_SIZE) ** 2,
    )
    for value in numbers:
        assert not re.search(rf"\b{value}\b", script), value
    for name in ("mnist", "numberWidth", "maxBody", "maxPixels"):
        assert f'setting("{name}")' in script


def test_the_page_follows_the_configuration(trained_model_path):
    from app import create_app

    app = create_app(
        {
            "TESTING": True,
            "MODEL_PATH": str(trained_model_path),
            "MAX_CONTENT_LENGTH": 5000,
            "MAX_IMAGE_PIXELS": 6000,
            "LIVE_PREDICT": False,
        }
    )
    page = parse(app.test_client())
    pad = by_id(page, "pad")[1]
    assert (pad["data-max-body"], pad["data-max-pixels"]) == ("5000", "6000")
    assert "checked" not in by_id(page, "live")[1]


def test_the_page_links_to_collecting_only_while_a_class_collects(client, tmp_path):
    from app import create_app

    assert b'href="/collect"' not in client.get("/").data
    app = create_app({"TESTING": True, "CLASSDATA_PATH": str(tmp_path / "class.sqlite")})
    page = app.test_client().get("/").data.decode()
    assert '<a href="/collect">draw digits for your class</a>' in page


def test_no_inline_script_or_style_and_no_external_assets(client):
    page = parse(client)
    assert page.script_text == []
    for tag, attrs in page.elements:
        assert "style" not in attrs, tag
        assert not any(name.startswith("on") for name in attrs), (tag, attrs)
        for name in ("src", "href"):
            url = attrs.get(name)
            if url is not None:
                assert url.startswith("/static/"), url
    scripts = [a["src"] for t, a in page.elements if t == "script"]
    assert scripts == ["/static/script.js"]


def test_assets_are_served(client):
    for path, mimetype in [
        ("/static/script.js", "text/javascript"),
        ("/static/style.css", "text/css"),
        ("/static/favicon.svg", "image/svg+xml"),
    ]:
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.mimetype == mimetype
        assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_assets_load_nothing_from_elsewhere(client):
    for path in ("/static/script.js", "/static/style.css"):
        text = client.get(path).get_data(as_text=True)
        assert "http://" not in text and "https://" not in text and "@import" not in text
    script = client.get("/static/script.js").get_data(as_text=True)
    assert "eval(" not in script and "innerHTML" not in script
    # Pointer events draw; touch events are only kept from their default, never read.
    assert "pointerdown" in script and ".touches" not in script
    assert "keydown" in script and "createImageBitmap" in script  # keyboard pen, uploads
    assert "touch-action: none" in client.get("/static/style.css").get_data(as_text=True)


def test_page_works_without_a_model(tmp_path):
    from app import create_app

    app = create_app({"TESTING": True, "MODEL_PATH": str(tmp_path / "absent.keras")})
    assert app.test_client().get("/").status_code == 200
