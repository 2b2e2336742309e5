"""The one page: a black box to draw in, Predict and Clear, the model to read it, and what
the model read; in number mode a wider box, for a number of several digits.

The page's numbers (canvas and pen size, the 28x28 field, the request limits) come from
`digitrec.constants` and the app's configuration, written into the page as data attributes,
so the script repeats none of them. The model chooser lists the app's catalogue
(`app.model`), each model with its architecture and recorded test accuracy; the words the
page shows about a model are written here, so the script only copies them.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, render_template

from app.model import current_catalogue
from digitrec.constants import CANVAS_SIZE, MNIST_SIZE, PEN_WIDTH

bp = Blueprint("pages", __name__)

# The pen-width slider: from half to twice the default pen, which is about as thick as MNIST's.
PEN_RANGE = (PEN_WIDTH // 2, 2 * PEN_WIDTH)
# Number mode's box: as tall as the digit box and three times as wide, room for four or five
# digits written side by side at the size one digit is drawn.
NUMBER_WIDTH = 3 * CANVAS_SIZE


@bp.get("/")
def index() -> str:
    config = current_app.config
    catalogue = current_catalogue()
    models = [_with_words(about) for about in catalogue.describe()]
    return render_template(
        "index.html",
        canvas=CANVAS_SIZE,
        number_width=NUMBER_WIDTH,
        pen=PEN_WIDTH,
        pen_range=PEN_RANGE,
        mnist=MNIST_SIZE,
        live=config["LIVE_PREDICT"],
        max_body=config["MAX_CONTENT_LENGTH"],
        max_pixels=config["MAX_IMAGE_PIXELS"],
        models=models,
        default=next(m for m in models if m["name"] == catalogue.default.name),
        collecting=config.get("CLASSDATA_PATH") is not None,
    )


def _with_words(about: dict[str, Any]) -> dict[str, Any]:
    """A model's description (`Catalogue.describe`) plus its option text and its sentence."""
    arch = about["arch"] or "architecture not recorded"
    accuracy = about["test_accuracy"]
    right = f"{accuracy:.2%}" if accuracy is not None else None
    option = f"{about['name']} \u2014 {arch}, {right or 'accuracy not recorded'}"
    sentence = f"Model \u201c{about['name']}\u201d ({arch})" + (
        f": {right} right on MNIST\u2019s test digits." if right else "."
    )
    if not about["available"]:
        option += " (cannot be used)"
        sentence = f"Model \u201c{about['name']}\u201d cannot be used: {about['problem']}."
    return {**about, "option": option, "sentence": sentence}
