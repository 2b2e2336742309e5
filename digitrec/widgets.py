"""Draw a digit inside the notebook and watch the model read it: `DrawingPad`.

How the pixels reach the kernel: the pad records every stroke the browser reports (the
ipycanvas mouse and touch events carry the points to Python anyway) and rasterises them in
Python with Pillow, with the same round pen, at 4x resolution and then reduced, so edges are
anti-aliased like a browser stroke. We chose this over ipycanvas's `sync_image_data` because:

- it works with no browser attached: `pad.draw_strokes(...)` feeds strokes from code, so nbval,
  the unit tests and a learner's exercises produce exactly the image a mouse would;
- it is synchronous: when the mouse is released the image is already complete, whereas
  `image_data` arrives later as a PNG of the whole canvas after every flushed drawing command
  (a race for "predict when the stroke ends", and a 280x280 PNG per mouse move);
- it behaves the same in JupyterLab, Notebook 7 and VS Code, whatever they do with images.

The browser canvas is the learner's view of the same strokes (white, round, 18 px on black);
the browser test checks that both agree pixel for pixel within anti-aliasing. Prediction goes
through `Predictor.predict`, so through `digitrec.preprocess.to_mnist`, like the web app.
"""

from __future__ import annotations

import contextlib
import html
import io
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import ipywidgets as widgets
import numpy as np
from ipycanvas import Canvas, hold_canvas
from PIL import Image, ImageDraw

from digitrec import my_digits
from digitrec.predict import READ_TURNS, Prediction, Predictor
from digitrec.preprocess import EmptyDrawingError, preprocess_stages

SIZE = 280  # the canvas, in px: ten times MNIST's 28
PEN = 18  # the pen's width, like the web app's
SUPERSAMPLE = 4  # rasterise at 4x, then reduce: anti-aliased edges like the browser's
BACKGROUND = "black"
INK = "white"
SEEN_SCALE = 5  # the 28x28 input is shown 140x140 with sharp pixels

EMPTY_MESSAGE = (
    "The canvas is empty: draw a digit with the mouse (or a finger), then press Predict."
)
STALE_MESSAGE = "You changed the drawing: press Predict to read it again."

Point = tuple[float, float]
Stroke = Sequence[Point]


class DrawingPad:
    """A 280x280 black canvas with a white round pen, and the model's reading beside it.

    `DrawingPad(predictor)` (default: the model notebook 02 trained, reading each drawing
    also turned by `READ_TURNS`, as the web app does);
    display it in a cell. `live=True` predicts after every stroke; `collect=True` adds a label
    picker and a Save button that add the drawing to `digitrec.my_digits` (in `folder`,
    default `data/my_digits`); `show_stages=True` opens the preprocessing view.
    """

    def __init__(
        self,
        predictor: Predictor | None = None,
        *,
        live: bool = False,
        collect: bool = False,
        folder: str | os.PathLike[str] | None = None,
        show_stages: bool = False,
        size: int = SIZE,
        pen: float = PEN,
    ) -> None:
        self.predictor = predictor if predictor is not None else Predictor.load(turns=READ_TURNS)
        self.size = int(size)
        self.pen = float(pen)
        self.folder = Path(folder) if folder is not None else my_digits.default_folder()
        self.strokes: list[list[Point]] = []
        self.prediction: Prediction | None = None
        self.message = EMPTY_MESSAGE
        self._drawing = False
        self._stale = False
        self._batching = False
        self._ink = self._blank_ink()
        self._pen_draw = ImageDraw.Draw(self._ink)

        self.canvas = Canvas(
            width=self.size,
            height=self.size,
            layout=widgets.Layout(width=f"{self.size}px", height=f"{self.size}px"),
        )
        self.canvas.add_class("digitrec-canvas")
        self.canvas.on_mouse_down(self.handle_mouse_down)
        self.canvas.on_mouse_move(self.handle_mouse_move)
        self.canvas.on_mouse_up(self.handle_mouse_up)
        self.canvas.on_mouse_out(self.handle_mouse_out)
        self.canvas.on_touch_start(self.handle_touch_start)
        self.canvas.on_touch_move(self.handle_touch_move)
        self.canvas.on_touch_end(self.handle_touch_end)
        self.canvas.on_touch_cancel(self.handle_touch_end)
        # A page reload builds a fresh canvas in the browser: repaint it from the strokes.
        self.canvas.on_client_ready(self._on_client_ready)

        button = widgets.Layout(width="88px")
        self.predict_button = widgets.Button(
            description="Predict", button_style="primary", layout=button
        )
        self.clear_button = widgets.Button(description="Clear", layout=button)
        self.live_toggle = widgets.ToggleButton(
            value=live, description="Live", tooltip="Predict after every stroke", layout=button
        )
        self.predict_button.on_click(lambda _: self.predict())
        self.clear_button.on_click(lambda _: self.clear())
        self.live_toggle.observe(self._on_live, names="value")
        for name, widget in (
            ("predict", self.predict_button),
            ("clear", self.clear_button),
            ("live", self.live_toggle),
        ):
            widget.add_class(f"digitrec-{name}")

        self.status = widgets.HTML(layout=widgets.Layout(width="300px", min_height="64px"))
        self.status.add_class("digitrec-status")
        self.bars = [
            widgets.FloatProgress(
                value=0.0,
                min=0.0,
                max=1.0,
                description=str(digit),
                layout=widgets.Layout(width="230px"),
                style={"description_width": "16px"},
            )
            for digit in range(10)
        ]
        self.bar_labels = [
            widgets.Label("", layout=widgets.Layout(width="60px")) for _ in range(10)
        ]
        self.seen = widgets.Image(format="png", width=28 * SEEN_SCALE, height=28 * SEEN_SCALE)
        self.seen.add_class("digitrec-seen")

        self.stages_toggle = widgets.Checkbox(
            value=show_stages, description="Show the preprocessing stages", indent=False
        )
        self.stage_images = {
            name: widgets.Image(format="png", width=112, height=112)
            for name in ("ink", "crop", "box", "centred")
        }
        captions = {
            "ink": "1. ink",
            "crop": "2. crop",
            "box": "3. fit 20x20",
            "centred": "4. centre in 28x28",
        }
        self.stages_box = widgets.HBox(
            [
                widgets.VBox([widgets.Label(captions[name]), image])
                for name, image in self.stage_images.items()
            ]
        )
        self.stages_toggle.observe(self._on_stages, names="value")

        self.label_picker = widgets.ToggleButtons(
            options=[str(digit) for digit in range(10)],
            value=None,
            description="This is a",
            style={"button_width": "34px", "description_width": "64px"},
            layout=widgets.Layout(width="auto"),
        )
        self.save_button = widgets.Button(description="Save", icon="save", layout=button)
        self.save_button.on_click(lambda _: self._save_clicked())
        self.collect_status = widgets.Label("")
        self.collect_box = widgets.VBox(
            [widgets.HBox([self.label_picker, self.save_button]), self.collect_status]
        )
        self.label_picker.add_class("digitrec-label")
        self.save_button.add_class("digitrec-save")
        self.collect_mode = collect

        rows = zip(self.bars, self.bar_labels, strict=True)
        bars = widgets.VBox([widgets.HBox([bar, label]) for bar, label in rows])
        seen = widgets.VBox([widgets.Label("What the model saw (28x28):"), self.seen])
        left = widgets.VBox(
            [self.canvas, widgets.HBox([self.predict_button, self.clear_button, self.live_toggle])],
            layout=widgets.Layout(margin="0 24px 0 0"),
        )
        right = widgets.VBox([self.status, bars, seen])
        self.widget = widgets.VBox(
            [widgets.HBox([left, right]), self.collect_box, self.stages_toggle, self.stages_box]
        )
        self.widget.add_class("digitrec-pad")
        self._repaint()
        self._show_reading()
        self._show_collect()
        self._show_stages()

    # -- display ---------------------------------------------------------------------------

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        """Displaying the pad in a cell shows the whole widget."""
        return self.widget._repr_mimebundle_(**kwargs)

    @property
    def collect_mode(self) -> bool:
        return self._collect

    @collect_mode.setter
    def collect_mode(self, on: bool) -> None:
        self._collect = bool(on)
        self.collect_box.layout.display = "flex" if self._collect else "none"

    # -- the public API --------------------------------------------------------------------

    def image(self) -> np.ndarray:
        """The canvas as (size, size, 4) uint8 RGBA: white ink on opaque black."""
        level = np.asarray(self._ink.reduce(SUPERSAMPLE))
        rgba = np.empty((*level.shape, 4), np.uint8)
        rgba[..., :3] = level[..., None]
        rgba[..., 3] = 255
        return rgba

    @property
    def is_empty(self) -> bool:
        """True while nothing has been drawn since the last clear."""
        return not self.strokes

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
        self._show_reading()
        self._show_stages()
        return self.prediction

    def clear(self) -> None:
        """Wipe the canvas and forget the reading."""
        self.strokes = []
        self._drawing = False
        self._stale = False
        self._ink = self._blank_ink()
        self._pen_draw = ImageDraw.Draw(self._ink)
        self.prediction = None
        self._repaint()
        self._show_reading()
        self._show_stages()

    def draw_strokes(self, strokes: Iterable[Stroke]) -> None:
        """Draw strokes from code, through the same handlers as the mouse.

        Each stroke is a sequence of (x, y) canvas points: pen down on the first, up on the
        last. Lets a notebook run with no browser attached (nbval) and exercises draw digits.
        """
        with self._batch():
            for stroke in strokes:
                points = [(float(x), float(y)) for x, y in stroke]
                if not points:
                    continue
                self.handle_mouse_down(*points[0])
                for point in points[1:]:
                    self.handle_mouse_move(*point)
                self.handle_mouse_up(*points[-1])

    def save(self, label: int | None = None) -> Path:
        """Add the drawing to the learner's dataset with `label` (default: the picker's)."""
        if label is None:
            if self.label_picker.value is None:
                raise my_digits.MyDigitsError("pick the digit you drew before saving")
            label = int(self.label_picker.value)
        path = my_digits.save_drawing(self.image(), label, self.folder)
        return path

    # -- the canvas's event handlers (ipycanvas calls these) -------------------------------

    def handle_mouse_down(self, x: float, y: float) -> None:
        self._drawing = True
        point = self._clip(x, y)
        self.strokes.append([point])
        self._stale = self.prediction is not None
        with self._batch():
            self.canvas.fill_circle(point[0], point[1], self.pen / 2)
        self._rasterise_dot(point)

    def handle_mouse_move(self, x: float, y: float) -> None:
        if not self._drawing:
            return
        point = self._clip(x, y)
        stroke = self.strokes[-1]
        last = stroke[-1]
        if point == last:
            return
        stroke.append(point)
        with self._batch():
            self.canvas.stroke_line(last[0], last[1], point[0], point[1])
        self._rasterise_segment(last, point)

    def handle_mouse_up(self, x: float, y: float) -> None:
        if not self._drawing:
            return
        self.handle_mouse_move(x, y)
        self._end_stroke()

    def handle_mouse_out(self, x: float, y: float) -> None:
        # Leaving the canvas ends the stroke, as in the web app: no stuck pen.
        self.handle_mouse_up(x, y)

    def handle_touch_start(self, touches: list[Point]) -> None:
        if touches:  # one finger draws; the others (a pinch, a palm) are ignored
            self.handle_mouse_down(*touches[0])

    def handle_touch_move(self, touches: list[Point]) -> None:
        if touches:
            self.handle_mouse_move(*touches[0])

    def handle_touch_end(self, touches: list[Point]) -> None:
        # The browser reports the fingers still down, not the one lifted: just end the stroke.
        if self._drawing:
            self._end_stroke()

    # -- internals -------------------------------------------------------------------------

    @contextlib.contextmanager
    def _batch(self):
        """`hold_canvas()` once around a batch of drawing commands, never nested.

        Everything drawn inside reaches the browser in one message when the outermost
        batch ends, so a replayed drawing or a stroke's dot and line appear at once.
        """
        if self._batching:
            yield
            return
        self._batching = True
        try:
            with hold_canvas():
                yield
        finally:
            self._batching = False

    def _end_stroke(self) -> None:
        self._drawing = False
        if self.live_toggle.value:
            self.predict()
        elif self._stale:
            self.message = STALE_MESSAGE
            self.status.value = _status_html(self.message, None)
        else:
            self.message = "Now press Predict (or switch on Live)."
            self.status.value = _status_html(self.message, None)

    def _on_live(self, change: dict) -> None:
        if change["new"] and not self.is_empty:
            self.predict()

    def _clip(self, x: float, y: float) -> Point:
        return (float(min(max(x, 0.0), self.size)), float(min(max(y, 0.0), self.size)))

    def _blank_ink(self) -> Image.Image:
        return Image.new("L", (self.size * SUPERSAMPLE, self.size * SUPERSAMPLE), 0)

    def _rasterise_dot(self, point: Point) -> None:
        x, y = (c * SUPERSAMPLE for c in point)
        r = self.pen * SUPERSAMPLE / 2
        self._pen_draw.ellipse((x - r, y - r, x + r, y + r), fill=255)

    def _rasterise_segment(self, start: Point, end: Point) -> None:
        scaled = [(start[0] * SUPERSAMPLE, start[1] * SUPERSAMPLE)]
        scaled.append((end[0] * SUPERSAMPLE, end[1] * SUPERSAMPLE))
        self._pen_draw.line(scaled, fill=255, width=round(self.pen * SUPERSAMPLE))
        self._rasterise_dot(end)  # the round cap and join

    def _on_client_ready(self) -> None:
        # After a page reload the browser's canvas manager no longer knows which canvas is
        # current, but Python's still thinks it does, so every command would go nowhere
        # (ipycanvas issue #322). Forget it, so the repaint switches canvas explicitly.
        manager = getattr(self.canvas, "_canvas_manager", None)
        if manager is not None and hasattr(manager, "_current_canvas"):
            manager._current_canvas = None
        self._repaint()

    def _repaint(self) -> None:
        """Paint the browser canvas from scratch: styles, background, every stroke."""
        with self._batch():
            self.canvas.line_width = self.pen
            self.canvas.line_cap = "round"
            self.canvas.line_join = "round"
            self.canvas.stroke_style = INK
            self.canvas.fill_style = BACKGROUND
            self.canvas.fill_rect(0, 0, self.size, self.size)
            self.canvas.fill_style = INK
            for stroke in self.strokes:
                self.canvas.fill_circle(stroke[0][0], stroke[0][1], self.pen / 2)
                if len(stroke) > 1:
                    self.canvas.stroke_lines(stroke)

    def _show_reading(self) -> None:
        """Update the status, the ten bars and the 28x28 view in place (no re-render)."""
        prediction = self.prediction
        if prediction is None:
            self.message = EMPTY_MESSAGE if self.is_empty else "Nothing to read yet."
            probabilities = np.zeros(10)
            seen = np.zeros((28, 28), np.float32)
        else:
            self.message = describe(prediction)
            probabilities = prediction.probabilities
            seen = prediction.image if prediction.image is not None else np.zeros((28, 28))
        self.status.value = _status_html(self.message, prediction)
        best = int(np.argmax(probabilities)) if prediction is not None else -1
        for digit, (bar, label) in enumerate(zip(self.bars, self.bar_labels, strict=True)):
            bar.value = float(probabilities[digit])
            if digit == best:
                bar.bar_style = "warning" if prediction.unsure else "success"
            else:
                bar.bar_style = "info"
            label.value = f"{probabilities[digit]:.1%}" if prediction is not None else ""
        self.seen.value = _png(seen, SEEN_SCALE)

    def _on_stages(self, change: dict) -> None:
        self._show_stages()

    def _show_stages(self) -> None:
        shown = self.stages_toggle.value
        self.stages_box.layout.display = "flex" if shown else "none"
        if not shown:
            return
        try:
            stages = preprocess_stages(self.image())
        except EmptyDrawingError:
            blank = _png(np.zeros((28, 28)), 4)
            for image in self.stage_images.values():
                image.value = blank
            return
        for name, image in self.stage_images.items():
            pixels = getattr(stages, name)
            image.value = _png(pixels, max(1, 112 // max(pixels.shape)))

    def _show_collect(self, note: str = "") -> None:
        counts = my_digits.count_my_digits(self.folder)
        total = sum(counts.values())
        drawings = "drawing" if total == 1 else "drawings"
        self.collect_status.value = f"{note}{total} {drawings} of yours in {self.folder}"

    def _save_clicked(self) -> None:
        try:
            path = self.save()
        except (my_digits.MyDigitsError, EmptyDrawingError) as exc:
            self._show_collect(note=f"Not saved: {exc}. ")
            return
        label = path.parent.name
        self.clear()
        self.label_picker.value = None
        self._show_collect(note=f"Saved a {label}. ")


def describe(prediction: Prediction) -> str:
    """One sentence for the learner: the digit and how sure, or that the model is unsure."""
    order = np.argsort(prediction.probabilities)[::-1]
    if prediction.unsure:
        second = int(order[1])
        return (
            f"The model is unsure: maybe {prediction.digit} ({prediction.confidence:.0%}), "
            f"or {second} ({prediction.probabilities[second]:.0%}). "
            "Try drawing it larger and clearer."
        )
    return f"It's a {prediction.digit} ({prediction.confidence:.1%} sure)."


def example_strokes(
    digit: int,
    *,
    height: float = 200,
    width: float | None = None,
    top: float = 40,
    left: float | None = None,
    size: int = SIZE,
) -> list[list[Point]]:
    """Polylines that draw `digit` the way a person might, scaled into a box on the canvas.

    For notebooks, tests and benchmarks that need a drawing with no hand: the shapes are
    plain (a 7 with no bar, an open 4), so a model trained on MNIST should read them.
    """
    if int(digit) not in range(10):
        raise ValueError(f"digit must be 0-9, got {digit!r}")
    width = 0.65 * height if width is None else width
    left = (size - width) / 2 if left is None else left
    return [
        [(left + x * width, top + y * height) for x, y in stroke]
        for stroke in _unit_strokes(int(digit))
    ]


def _arc(cx: float, cy: float, rx: float, ry: float, start: float, stop: float, n: int = 24):
    """Points on an ellipse; angles in degrees, y pointing down (so + is clockwise)."""
    angles = np.radians(np.linspace(start, stop, n))
    return [(cx + rx * np.cos(a), cy + ry * np.sin(a)) for a in angles]


def _unit_strokes(digit: int) -> list[list[Point]]:
    """Each digit's strokes in a unit box: x from 0 (left) to 1, y from 0 (top) to 1."""
    if digit == 0:
        return [_arc(0.5, 0.5, 0.45, 0.5, -90, 270, 40)]
    if digit == 1:
        return [[(0.3, 0.18), (0.55, 0.0), (0.55, 1.0)]]
    if digit == 2:
        return [_arc(0.5, 0.28, 0.42, 0.28, 200, 400) + [(0.05, 1.0), (0.95, 1.0)]]
    if digit == 3:
        return [_arc(0.45, 0.26, 0.4, 0.26, 200, 450) + _arc(0.45, 0.74, 0.47, 0.26, -90, 160)]
    if digit == 4:
        return [[(0.35, 0.0), (0.05, 0.62), (0.95, 0.62)], [(0.72, 0.15), (0.72, 1.0)]]
    if digit == 5:
        return [[(0.9, 0.0), (0.2, 0.0), (0.12, 0.48)] + _arc(0.45, 0.7, 0.45, 0.3, -140, 150)]
    if digit == 6:
        return [[(0.75, 0.0), (0.4, 0.2), (0.15, 0.5)] + _arc(0.5, 0.72, 0.4, 0.28, 180, -180, 40)]
    if digit == 7:
        return [[(0.05, 0.0), (0.95, 0.0), (0.4, 1.0)]]
    if digit == 8:
        return [_arc(0.5, 0.25, 0.34, 0.25, 90, 450), _arc(0.5, 0.72, 0.44, 0.28, -90, 270)]
    return [_arc(0.45, 0.28, 0.4, 0.28, 0, -360, 40) + [(0.85, 0.3), (0.8, 1.0)]]


def _png(pixels: np.ndarray, scale: int) -> bytes:
    """A greyscale image as PNG bytes, enlarged with sharp pixels so each one is visible."""
    level = np.round(np.clip(np.asarray(pixels, np.float32), 0.0, 1.0) * 255).astype(np.uint8)
    image = Image.fromarray(level)
    if scale > 1:
        image = image.resize((image.width * scale, image.height * scale), Image.Resampling.NEAREST)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _status_html(message: str, prediction: Prediction | None) -> str:
    text = html.escape(message)
    if prediction is None:
        return f'<div class="digitrec-message" style="font-size:14px">{text}</div>'
    colour = "#b36b00" if prediction.unsure else "#1a7f37"
    return (
        f'<div style="line-height:56px"><span class="digitrec-digit" style="font-size:48px;'
        f'font-weight:bold;color:{colour}">{prediction.digit}</span></div>'
        f'<div class="digitrec-message" style="font-size:14px">{text}</div>'
    )
