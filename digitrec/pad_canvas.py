"""The drawing pad's canvas and its strokes: `StrokeCanvas`, one part of `DrawingPad`.

It records every stroke the browser reports (ipycanvas carries the mouse and touch points to
Python anyway), draws it on the browser's canvas for the learner and rasterises it in Python
with `digitrec.strokes.PenRaster` for the model. We chose that over ipycanvas's
`sync_image_data` because:

- it works with no browser attached: `draw_strokes(...)` feeds strokes from code, so nbval,
  the unit tests and a learner's exercises produce exactly the image a mouse would;
- it is synchronous: when the mouse is released the image is already complete, whereas
  `image_data` arrives later as a PNG of the whole canvas after every flushed drawing command
  (a race for "predict when the stroke ends", and a full-canvas PNG per mouse move);
- it behaves the same in JupyterLab, Notebook 7 and VS Code, whatever they do with images.

The browser canvas is the learner's view of the same strokes (white, round, `PEN_WIDTH` px
on black); the browser test checks that both agree pixel for pixel within anti-aliasing.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator

import ipywidgets as widgets
import numpy as np
from ipycanvas import Canvas, hold_canvas

from digitrec.constants import CANVAS_SIZE, PEN_WIDTH
from digitrec.strokes import PenRaster, Point, Stroke, canvas_rgba

BACKGROUND = "black"
INK = "white"


class StrokeCanvas:
    """A square black canvas that records what is drawn on it with a white round pen.

    `canvas` is the ipycanvas widget; `strokes` the points of every stroke since the last
    clear; `image()` the drawing as the model reads it. `on_stroke_start` and `on_stroke_end`
    are called when the pen goes down and when it is lifted.
    """

    def __init__(
        self,
        size: int = CANVAS_SIZE,
        pen: float = PEN_WIDTH,
        *,
        on_stroke_start: Callable[[], None] = lambda: None,
        on_stroke_end: Callable[[], None] = lambda: None,
    ) -> None:
        self.size = int(size)
        self.pen = float(pen)
        self.strokes: list[list[Point]] = []
        self.raster = PenRaster(self.size, self.pen)
        self._on_stroke_start = on_stroke_start
        self._on_stroke_end = on_stroke_end
        self._drawing = False
        self._batching = False

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
        self._repaint()

    def image(self) -> np.ndarray:
        """The canvas as (size, size, 4) uint8 RGBA: white ink on opaque black."""
        return canvas_rgba(self.raster.level())

    @property
    def is_empty(self) -> bool:
        """True while nothing has been drawn since the last clear."""
        return not self.strokes

    def clear(self) -> None:
        """Wipe the strokes, the raster and the browser's canvas."""
        self.strokes = []
        self._drawing = False
        self.raster.clear()
        self._repaint()

    def draw_strokes(self, strokes: Iterable[Stroke]) -> None:
        """Draw strokes from code, through the same handlers as the mouse.

        Each stroke is a sequence of (x, y) canvas points: pen down on the first, up on the
        last.
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

    # -- the canvas's event handlers (ipycanvas calls these) -------------------------------

    def handle_mouse_down(self, x: float, y: float) -> None:
        self._drawing = True
        point = self._clip(x, y)
        self.strokes.append([point])
        self._on_stroke_start()
        with self._batch():
            self.canvas.fill_circle(point[0], point[1], self.pen / 2)
        self.raster.dot(point)

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
        self.raster.segment(last, point)

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
    def _batch(self) -> Iterator[None]:
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
        self._on_stroke_end()

    def _clip(self, x: float, y: float) -> Point:
        return (float(min(max(x, 0.0), self.size)), float(min(max(y, 0.0), self.size)))

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
