"""The web app: draw a digit in a black box, press Predict, see what the model read.

Flask-tutorial style: `create_app` builds the app, the blueprints hold the routes. Serve it
with `python -m app` (waitress on 127.0.0.1:8000, its request-size limit taken from the app's
`MAX_CONTENT_LENGTH`; see `app.serve`), or `flask --app app run` while developing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask, Response, request

from app.errors import is_api_path
from digitrec import settings
from digitrec.constants import CANVAS_SIZE

# Everything the page needs comes from this server; no inline script or style is allowed,
# so an injected <script> or onclick attribute cannot run.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
# The page uses no camera, microphone, location, ... : say so, so no embedded code can ask.
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "camera",
        "microphone",
        "geolocation",
        "payment",
        "usb",
        "serial",
        "hid",
        "midi",
        "display-capture",
        "accelerometer",
        "gyroscope",
        "magnetometer",
    )
)
# Other sites may neither embed these responses nor share a browsing context with the page.
CROSS_ORIGIN_HEADERS = {
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Cross-Origin-Embedder-Policy": "require-corp",
}

# Settings that may come from the environment as DIGITREC_<NAME> (or FLASK_<NAME>).
INT_SETTINGS = ("MAX_CONTENT_LENGTH", "MAX_IMAGE_PIXELS")
PATH_SETTINGS = ("MODEL_PATH", "MODELS_DIR", "SHIPPED_MODEL_PATH")


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app; load the default model (or remember why it could not be loaded).

    `test_config` replaces the environment as the source of overrides, as in the Flask tutorial.
    """
    app = Flask(__name__)
    app.config.from_mapping(
        # The default model; a request may choose another by name (see `app.model`): the
        # shipped one or a `<name>.keras` file in MODELS_DIR.
        MODEL_PATH=str(settings.default_model_path()),
        MODELS_DIR=str(settings.models_dir()),
        SHIPPED_MODEL_PATH=str(settings.shipped_model_path()),
        # A 280x280 drawing is a few kB as PNG; 1 MB leaves room for photos of paper. `python
        # -m app` gives waitress the same limit, so a larger body is refused before it is read.
        MAX_CONTENT_LENGTH=1024 * 1024,
        # Twice the canvas each way. Checked from the image header before any pixel is
        # decoded; a larger JPEG is decoded at a reduced scale instead, when that fits.
        MAX_IMAGE_PIXELS=(2 * CANVAS_SIZE) ** 2,
        # The page asks for a prediction while you draw; a server can turn it off.
        LIVE_PREDICT=True,
    )
    if test_config is None:
        app.config.from_prefixed_env("FLASK")
        app.config.from_prefixed_env("DIGITREC")
    else:
        app.config.from_mapping(test_config)
    _check_config(app)
    app.json.sort_keys = False  # keep digit, confidence, ... in a readable order

    from app import api, collect, errors, model, pages

    model.init_app(app)
    errors.init_app(app)
    app.register_blueprint(pages.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(collect.bp)
    app.after_request(_security_headers)
    return app


def _check_config(app: Flask) -> None:
    """Fail at start-up with a clear message, not at the first request."""
    for name in INT_SETTINGS:
        value = app.config.get(name)
        try:
            number = int(value)
            if isinstance(value, bool) or (isinstance(value, float) and value != number):
                raise ValueError(value)  # 1.5 or true from the environment: not a count
        except (TypeError, ValueError):
            raise ValueError(f"{name} must be a whole number, got {value!r}") from None
        if number <= 0:
            raise ValueError(f"{name} must be positive, got {value!r}")
        app.config[name] = number
    live = app.config.get("LIVE_PREDICT")
    if isinstance(live, str):
        app.config["LIVE_PREDICT"] = live.strip().lower() in {"1", "true", "yes", "on"}
    for name in PATH_SETTINGS:
        app.config[name] = str(app.config[name])


def _security_headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
    for name, value in CROSS_ORIGIN_HEADERS.items():
        response.headers.setdefault(name, value)
    if is_api_path(request.path):
        # A prediction belongs to one drawing: never serve it from a cache.
        response.headers["Cache-Control"] = "no-store"
    return response
