"""The one page: a black box to draw in, Predict and Clear, and what the model read."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template

bp = Blueprint("pages", __name__)

CANVAS = 280  # px, ten times MNIST's 28
PEN = 18  # px: a round pen about as thick, relative to the box, as MNIST's strokes


@bp.get("/")
def index() -> str:
    return render_template(
        "index.html", canvas=CANVAS, pen=PEN, live=current_app.config["LIVE_PREDICT"]
    )
