"""The page: a 280x280 canvas, Predict and Clear buttons, local assets only, no inline script."""

from __future__ import annotations

from html.parser import HTMLParser


class Collect(HTMLParser):
    def __init__(self):
        super().__init__()
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.script_text: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.script_text.append(data)


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


def test_page_has_canvas_and_buttons(client):
    page = parse(client)
    tag, attrs = by_id(page, "pad")
    assert tag == "canvas" and attrs["width"] == "280" and attrs["height"] == "280"
    assert attrs["data-pen"] == "18"
    for button in ("predict", "clear"):
        tag, attrs = by_id(page, button)
        assert tag == "button" and attrs["type"] == "button"  # focusable, keyboard reachable
    assert by_id(page, "preview")[1]["width"] == "28"
    assert len([a for t, a in page.elements if t == "li" and "data-digit" in a]) == 10
    assert "checked" in by_id(page, "live")[1]  # live prediction on by default


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
    assert "pointerdown" in script and "touchstart" not in script  # pointer events only
    assert "touch-action: none" in client.get("/static/style.css").get_data(as_text=True)


def test_page_works_without_a_model(tmp_path):
    from app import create_app

    app = create_app({"TESTING": True, "MODEL_PATH": str(tmp_path / "absent.keras")})
    assert app.test_client().get("/").status_code == 200
