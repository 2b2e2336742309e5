"""The one page: a black box to draw in, Predict and Clear, and what the model read.

The page's numbers (canvas and pen size, the 28x28 field, the request limits) come from
`digitrec.constants` and the app's configuration, written into the page as data attributes,
so the script repeats none of them.
"""

from __future__ import annotations

from flask import Blueprint, current_app, render_template

from digitrec.constants import CANVAS_SIZE, MNIST_SIZE, PEN_WIDTH

bp = Blueprint("pages", __name__)

# The pen-width slider: from half to twice the default pen, which is about as thick as MNIST's.
PEN_RANGE = (PEN_WIDTH // 2, 2 * PEN_WIDTH)


@bp.get("/")
def index() -> str:
    config = current_app.config
    return render_template(
        "index.html",
        canvas=CANVAS_SIZE,
        pen=PEN_WIDTH,
        pen_range=PEN_RANGE,
        mnist=MNIST_SIZE,
        live=config["LIVE_PREDICT"],
        max_body=config["MAX_CONTENT_LENGTH"],
        max_pixels=config["MAX_IMAGE_PIXELS"],
    )
