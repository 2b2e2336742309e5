"""Draw a digit inside the notebook and watch the model read it: `DrawingPad`.

The pad is three parts and the buttons that tie them together:

- `digitrec.pad_canvas.StrokeCanvas`, the canvas and its strokes (drawn in the browser for
  the learner, rasterised in Python for the model, see that module for why);
- `digitrec.pad_readout.Readout`, the reading: the digit, the ten probabilities, the 28x28
  image the model saw and, optionally, each preprocessing stage;
- `digitrec.pad_collect.CollectPanel`, the label picker and Save button of collect mode.

Prediction goes through `Predictor.predict`, so through `digitrec.preprocess.to_mnist`, like
the web app.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import ipywidgets as widgets
import numpy as np

from digitrec.constants import CANVAS_SIZE, PEN_WIDTH
from digitrec.pad_canvas import StrokeCanvas
from digitrec.pad_collect import CollectPanel
from digitrec.pad_readout import EMPTY_MESSAGE, Readout, describe
from digitrec.predict import READ_TURNS, Prediction, Predictor
from digitrec.preprocess import EmptyDrawingError
from digitrec.strokes import Point, Stroke, example_strokes

__all__ = [
    "EMPTY_MESSAGE",
    "READY_MESSAGE",
    "STALE_MESSAGE",
    "DrawingPad",
    "describe",
    "example_strokes",
]

READY_MESSAGE = "Now press Predict (or switch on Live)."
STALE_MESSAGE = "You changed the drawing: press Predict to read it again."


class DrawingPad:
    """A black canvas with a white round pen, and the model's reading beside it.

    `DrawingPad(predictor)` (default: the recommended model, `settings.default_model_path()`,
    reading each drawing also turned by `READ_TURNS`, as the web app does); display it in a
    cell. `live=True` predicts after every stroke; `collect=True` adds a label picker and a
    Save button that add the drawing to `digitrec.my_digits` (in `folder`, default
    `data/my_digits`); `show_stages=True` opens the preprocessing view. The canvas is `size`
    px square (`CANVAS_SIZE`) and the pen `pen` px wide (`PEN_WIDTH`), as on the web page.
    """

    def __init__(
        self,
        predictor: Predictor | None = None,
        *,
        live: bool = False,
        collect: bool = False,
        folder: str | os.PathLike[str] | None = None,
        show_stages: bool = False,
        size: int = CANVAS_SIZE,
        pen: float = PEN_WIDTH,
    ) -> None:
        self.predictor = predictor if predictor is not None else Predictor.load(turns=READ_TURNS)
        self.prediction: Prediction | None = None
        self._stale = False  # drawn on since the last reading
        self.drawing = StrokeCanvas(
            size, pen, on_stroke_start=self._stroke_started, on_stroke_end=self._stroke_ended
        )
        self.readout = Readout(self.image, show_stages=show_stages)
        button = widgets.Layout(width="88px")
        self.collector = CollectPanel(
            folder, self.image, self.clear, visible=collect, button_layout=button
        )
        self.predict_button, self.clear_button, self.live_toggle = _buttons(live, button)
        self.predict_button.on_click(lambda _: self.predict())
        self.clear_button.on_click(lambda _: self.clear())
        self.live_toggle.observe(self._on_live, names="value")

        # The parts' widgets, under the names notebooks and tests use.
        readout, collector = self.readout, self.collector
        self.canvas = self.drawing.canvas
        self.status, self.seen = readout.status, readout.seen
        self.bars, self.bar_labels = readout.bars, readout.bar_labels
        self.stage_images = readout.stage_images
        self.stages_toggle, self.stages_box = readout.stages_toggle, readout.stages_box
        self.label_picker, self.save_button = collector.label_picker, collector.save_button
        self.collect_status, self.collect_box = collector.status, collector.box

        controls = widgets.HBox([self.predict_button, self.clear_button, self.live_toggle])
        left = widgets.VBox([self.canvas, controls], layout=widgets.Layout(margin="0 24px 0 0"))
        self.widget = widgets.VBox(
            [
                widgets.HBox([left, readout.panel]),
                self.collect_box,
                self.stages_toggle,
                self.stages_box,
            ]
        )
        self.widget.add_class("digitrec-pad")

    # -- display ---------------------------------------------------------------------------

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        """Displaying the pad in a cell shows the whole widget."""
        return self.widget._repr_mimebundle_(**kwargs)

    @property
    def collect_mode(self) -> bool:
        """Whether the label picker and Save button are shown."""
        return self.collector.visible

    @collect_mode.setter
    def collect_mode(self, on: bool) -> None:
        self.collector.visible = on

    # -- the public API --------------------------------------------------------------------

    @property
    def size(self) -> int:
        """The canvas's width and height, in px."""
        return self.drawing.size

    @property
    def pen(self) -> float:
        """The pen's width, in px."""
        return self.drawing.pen

    @property
    def folder(self) -> Path:
        """Where collect mode saves drawings."""
        return self.collector.folder

    @folder.setter
    def folder(self, folder: str | os.PathLike[str]) -> None:
        self.collector.folder = Path(folder)

    @property
    def strokes(self) -> list[list[Point]]:
        """The points of every stroke since the last clear."""
        return self.drawing.strokes

    @property
    def message(self) -> str:
        """The sentence shown above the bars."""
        return self.readout.message

    def image(self) -> np.ndarray:
        """The canvas as (size, size, 4) uint8 RGBA: white ink on opaque black."""
        return self.drawing.image()

    @property
    def is_empty(self) -> bool:
        """True while nothing has been drawn since the last clear."""
        return self.drawing.is_empty

    def predict(self) -> Prediction | None:
        """Read the drawing; None (and a friendly message) when the canvas is empty."""
        self._stale = False
        if self.is_empty:
            self.prediction = None
        else:
            try:
                self.prediction = self.predictor.predict(self.image())
            except EmptyDrawingError:
                self.prediction = None
        self.readout.show(self.prediction, empty=self.is_empty)
        return self.prediction

    def clear(self) -> None:
        """Wipe the canvas and forget the reading."""
        self.drawing.clear()
        self._stale = False
        self.prediction = None
        self.readout.show(None, empty=True)

    def draw_strokes(self, strokes: Iterable[Stroke]) -> None:
        """Draw strokes from code, through the same handlers as the mouse.

        Each stroke is a sequence of (x, y) canvas points: pen down on the first, up on the
        last. Lets a notebook run with no browser attached (nbval) and exercises draw digits.
        """
        self.drawing.draw_strokes(strokes)

    def save(self, label: int | None = None) -> Path:
        """Add the drawing to the learner's dataset with `label` (default: the picker's)."""
        return self.collector.save(label)

    # -- internals -------------------------------------------------------------------------

    def _stroke_started(self) -> None:
        self._stale = self.prediction is not None

    def _stroke_ended(self) -> None:
        if self.live_toggle.value:
            self.predict()
        else:
            self.readout.say(STALE_MESSAGE if self._stale else READY_MESSAGE)

    def _on_live(self, change: dict) -> None:
        if change["new"] and not self.is_empty:
            self.predict()


def _buttons(
    live: bool, layout: widgets.Layout
) -> tuple[widgets.Button, widgets.Button, widgets.ToggleButton]:
    """The pad's Predict and Clear buttons and its Live toggle, not yet wired up."""
    predict = widgets.Button(description="Predict", button_style="primary", layout=layout)
    clear = widgets.Button(description="Clear", layout=layout)
    live_toggle = widgets.ToggleButton(
        value=live, description="Live", tooltip="Predict after every stroke", layout=layout
    )
    for name, widget in (("predict", predict), ("clear", clear), ("live", live_toggle)):
        widget.add_class(f"digitrec-{name}")
    return predict, clear, live_toggle
