"""Draw a digit inside the notebook and watch the model read it: `DrawingPad`.

The pad is three parts and the buttons that tie them together:

- `digitrec.pad_canvas.StrokeCanvas`, the canvas and its strokes (drawn in the browser for
  the learner, rasterised in Python for the model, see that module for why);
- `digitrec.pad_readout.Readout`, the reading: the digit (or "Not a digit"), the ten
  probabilities, the 28x28 image the model saw and, optionally, each preprocessing stage;
  in number mode `NumberReadout`, the number and each digit's 28x28 image and reading;
- `digitrec.pad_collect.CollectPanel`, the label picker and Save button of collect mode.

Prediction goes through `Predictor.predict`, so through `digitrec.preprocess.to_mnist`, like
the web app. Number mode (`DrawingPad(number=True)`) gives a canvas `NUMBER_WIDTH` times as
wide and reads it with `digitrec.numbers.read_number` through the same `Predictor`, then
marks each digit's box and reading over the writing.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import ipywidgets as widgets
import numpy as np

from digitrec.constants import CANVAS_SIZE, PEN_WIDTH
from digitrec.numbers import NumberReading, read_number, several_digits
from digitrec.pad_canvas import Mark, StrokeCanvas
from digitrec.pad_collect import CollectPanel
from digitrec.pad_readout import (
    EMPTY_MESSAGE,
    EMPTY_NUMBER_MESSAGE,
    NOT_A_DIGIT,
    REFUSED_COLOUR,
    SURE_COLOUR,
    UNSURE_COLOUR,
    NumberReadout,
    Readout,
    describe,
    describe_number,
)
from digitrec.predict import READ_TURNS, Prediction, Predictor
from digitrec.preprocess import EmptyDrawingError
from digitrec.strokes import Point, Stroke, example_strokes

__all__ = [
    "EMPTY_MESSAGE",
    "EMPTY_NUMBER_MESSAGE",
    "NOT_A_DIGIT",
    "NUMBER_WIDTH",
    "READY_MESSAGE",
    "STALE_MESSAGE",
    "DrawingPad",
    "describe",
    "describe_number",
    "example_strokes",
]

READY_MESSAGE = "Now press Predict (or switch on Live)."
STALE_MESSAGE = "You changed the drawing: press Predict to read it again."
# Number mode's canvas is this many times as wide as it is tall: room for a few digits.
NUMBER_WIDTH = 3
SPECK_COLOUR = "#8c959f"


class DrawingPad:
    """A black canvas with a white round pen, and the model's reading beside it.

    `DrawingPad(predictor)` (default: the recommended model, `settings.default_model_path()`,
    reading each drawing also turned by `READ_TURNS` and judged by the shipped refusal model,
    as the web app does); display it in a cell. Predict reads, Undo takes back the last
    stroke, Clear wipes the canvas. `live=True` predicts after every stroke;
    `collect=True` adds a label picker and a Save button that add the drawing to
    `digitrec.my_digits` (in `folder`, default `data/my_digits`); `show_stages=True` opens the
    preprocessing view. The canvas is `size` px square (`CANVAS_SIZE`) and the pen `pen` px
    wide (`PEN_WIDTH`), as on the web page.

    `number=True` is number mode: the canvas is `size` px tall and `NUMBER_WIDTH` times as
    wide, `predict()` reads every digit in it with `digitrec.numbers.read_number` (a
    `NumberReading`, also in `number_reading`), and each digit's box and reading are drawn
    over the writing. A piece the predictor's refusal model judges not to be a digit is shown
    as "?". Collect mode and the stages view are for single digits only.
    """

    def __init__(
        self,
        predictor: Predictor | None = None,
        *,
        number: bool = False,
        live: bool = False,
        collect: bool = False,
        folder: str | os.PathLike[str] | None = None,
        show_stages: bool = False,
        size: int = CANVAS_SIZE,
        pen: float = PEN_WIDTH,
    ) -> None:
        self.number_mode = bool(number)
        if self.number_mode and (collect or show_stages):
            raise ValueError(
                "number mode reads several digits at once; collect=True and show_stages=True "
                "are for single digits (DrawingPad(number=False))"
            )
        self.predictor = (
            predictor if predictor is not None else Predictor.load(turns=READ_TURNS, refusal=True)
        )
        self.prediction: Prediction | None = None
        self.number_reading: NumberReading | None = None
        self._stale = False  # drawn on since the last reading
        self.drawing = StrokeCanvas(
            size,
            pen,
            width=NUMBER_WIDTH * int(size) if self.number_mode else None,
            overlay=self.number_mode,
            on_stroke_start=self._stroke_started,
            on_stroke_end=self._stroke_ended,
        )
        self.readout: Readout | NumberReadout = (
            NumberReadout() if self.number_mode else Readout(self.image, show_stages=show_stages)
        )
        button = widgets.Layout(width="66px")  # four in a row under the canvas
        self.collector = CollectPanel(
            folder, self.image, self.clear, visible=collect, button_layout=button
        )
        self.predict_button, self.undo_button, self.clear_button, self.live_toggle = _buttons(
            live, button
        )
        self.predict_button.on_click(lambda _: self.predict())
        self.undo_button.on_click(lambda _: self.undo())
        self.clear_button.on_click(lambda _: self.clear())
        self.live_toggle.observe(self._on_live, names="value")

        # The parts' widgets, under the names notebooks and tests use.
        readout, collector = self.readout, self.collector
        self.canvas = self.drawing.canvas
        self.status = readout.status
        self.label_picker, self.save_button = collector.label_picker, collector.save_button
        self.collect_status, self.collect_box = collector.status, collector.box
        controls = widgets.HBox(
            [self.predict_button, self.undo_button, self.clear_button, self.live_toggle]
        )
        if isinstance(readout, NumberReadout):
            self.piece_images, self.piece_labels = readout.piece_images, readout.piece_labels
            canvas = widgets.VBox([self.canvas, controls])
            self.widget = widgets.VBox([canvas, readout.panel])
        else:
            self.seen = readout.seen
            self.bars, self.bar_labels = readout.bars, readout.bar_labels
            self.stage_images = readout.stage_images
            self.stages_toggle, self.stages_box = readout.stages_toggle, readout.stages_box
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
        if on and self.number_mode:
            raise ValueError("collect mode saves single digits; it is not for number mode")
        self.collector.visible = on

    # -- the public API --------------------------------------------------------------------

    @property
    def size(self) -> int:
        """The canvas's height in px; its width too, except in number mode (see `width`)."""
        return self.drawing.size

    @property
    def width(self) -> int:
        """The canvas's width in px: `size`, or `NUMBER_WIDTH` times it in number mode."""
        return self.drawing.width

    @property
    def refusal_problem(self) -> str | None:
        """Why the predictor cannot say "not a digit" (no refusal model), or None if it can."""
        if self.predictor.refusal is not None:
            return None
        return self.predictor.refusal_problem or "the predictor was made without a refusal model"

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
        self.collector.show_count()

    @property
    def strokes(self) -> list[list[Point]]:
        """The points of every stroke since the last clear."""
        return self.drawing.strokes

    @property
    def message(self) -> str:
        """The sentence shown above the bars."""
        return self.readout.message

    def image(self) -> np.ndarray:
        """The canvas as (size, width, 4) uint8 RGBA: white ink on opaque black, ink only."""
        return self.drawing.image()

    @property
    def is_empty(self) -> bool:
        """True while nothing has been drawn since the last clear."""
        return self.drawing.is_empty

    def predict(self) -> Prediction | NumberReading | None:
        """Read the drawing; None (and a friendly message) when the canvas is empty.

        A `Prediction` of one digit, or in number mode a `NumberReading` of every digit.
        """
        self._stale = False
        if self.number_mode:
            return self._read_number()
        number = None
        if self.is_empty:
            self.prediction = None
        else:
            try:
                self.prediction = self.predictor.predict(self.image())
            except EmptyDrawingError:
                self.prediction = None
            except Exception as exc:  # in a widget's callback it would reach no one
                return self._unreadable(exc)
            if self.prediction is not None and self.prediction.not_a_digit:
                number = self._number_shown()
        self.readout.show(self.prediction, empty=self.is_empty, number=number)
        return self.prediction

    def clear(self) -> None:
        """Wipe the canvas and forget the reading."""
        self.drawing.clear()
        self._stale = False
        self.prediction = None
        self.number_reading = None
        self.readout.show(None, empty=True)

    def undo(self) -> None:
        """Take back the last stroke: read again at once with Live on, else say the drawing
        changed (the answer shown was for the drawing with that stroke)."""
        had_reading = self.prediction is not None or self.number_reading is not None
        if not self.drawing.undo():
            return
        if self.is_empty:
            self.clear()
        elif self.live_toggle.value:
            self.predict()
        else:
            self._stale = self._stale or had_reading
            self.readout.say(STALE_MESSAGE if self._stale else READY_MESSAGE)

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

    def _number_shown(self) -> str | None:
        """The number a drawing refused as one digit plainly shows (`several_digits`), or
        None; None too if naming it fails, so the reading stands without it."""
        try:
            return several_digits(self.image(), self.predictor)
        except Exception:  # a hint: never worth losing the reading for
            return None

    def _read_number(self) -> NumberReading | None:
        """Read every digit, show the number and mark each digit's box over the writing."""
        reading = None
        if not self.is_empty:
            try:
                reading = read_number(self.image(), self.predictor, refusal=self.predictor.refusal)
            except EmptyDrawingError:
                reading = None
            except Exception as exc:  # too many marks, say: in a callback it would reach no one
                return self._unreadable(exc)
        self.number_reading = reading
        self.readout.show(reading, empty=self.is_empty)
        self.drawing.show_marks(_number_marks(reading) if reading is not None else [])
        return reading

    def _unreadable(self, error: Exception) -> None:
        """Forget the last reading and say why this drawing could not be read."""
        self.prediction = None
        self.number_reading = None
        self.drawing.clear_marks()
        self.readout.show(None, empty=self.is_empty)
        self.readout.say(f"Could not read this drawing: {error}")

    def _stroke_started(self) -> None:
        self._stale = self.prediction is not None or self.number_reading is not None
        self.drawing.clear_marks()  # the boxes belonged to the drawing before this stroke

    def _stroke_ended(self) -> None:
        if self.live_toggle.value:
            self.predict()
        else:
            self.readout.say(STALE_MESSAGE if self._stale else READY_MESSAGE)

    def _on_live(self, change: dict) -> None:
        if change["new"] and not self.is_empty:
            self.predict()


def _number_marks(reading: NumberReading) -> list[Mark]:
    """The boxes number mode draws over the writing: each digit's, labelled with its reading
    (green when sure, orange when unsure, red "not a digit"), and a dashed grey box around
    each speck that was set aside."""
    marks = []
    for box, digit, refused in zip(reading.boxes, reading.digits, reading.not_a_digit, strict=True):
        if refused:
            marks.append(Mark(box, NOT_A_DIGIT.lower(), REFUSED_COLOUR))
        else:
            colour = UNSURE_COLOUR if digit.unsure else SURE_COLOUR
            marks.append(Mark(box, f"{digit.digit} {digit.confidence:.0%}", colour))
    marks += [Mark(box, "", SPECK_COLOUR, dashed=True) for box in reading.specks]
    return marks


def _buttons(
    live: bool, layout: widgets.Layout
) -> tuple[widgets.Button, widgets.Button, widgets.Button, widgets.ToggleButton]:
    """The pad's Predict, Undo and Clear buttons and its Live toggle, not yet wired up."""
    predict = widgets.Button(description="Predict", button_style="primary", layout=layout)
    undo = widgets.Button(description="Undo", tooltip="Take back the last stroke", layout=layout)
    clear = widgets.Button(description="Clear", layout=layout)
    live_toggle = widgets.ToggleButton(
        value=live, description="Live", tooltip="Predict after every stroke", layout=layout
    )
    named = (("predict", predict), ("undo", undo), ("clear", clear), ("live", live_toggle))
    for name, widget in named:
        widget.add_class(f"digitrec-{name}")
    return predict, undo, clear, live_toggle
