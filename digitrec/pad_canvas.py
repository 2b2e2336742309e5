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

A canvas made with `overlay=True` (the pad's number mode) is an ipycanvas `MultiCanvas` of two
layers: the strokes below and, above them, the marks the pad draws over the writing (each
digit's box and reading). The browser shows both; the kernel's raster only ever holds ink,
so a mark can never be read as part of the drawing.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

import ipywidgets as widgets
import numpy as np
from ipycanvas import Canvas, MultiCanvas, hold_canvas

from digitrec.constants import CANVAS_SIZE, PEN_WIDTH
from digitrec.strokes import PenRaster, Point, Stroke, canvas_rgba

BACKGROUND = "black"
INK = "white"
MARK_WIDTH = 2  # px, the outline of a mark's box
MARK_FONT = "bold 15px sans-serif"


@dataclass(frozen=True)
class Mark:
    """A box drawn over the writing, with a label above it (the reading of what is inside)."""

    box: tuple[int, int, int, int]  # (top, left, bottom, right) in canvas px, exclusive
    label: str = ""
    colour: str = "#2da44e"
    dashed: bool = False


class StrokeCanvas:
    """A black canvas that records what is drawn on it with a white round pen.

    `canvas` is the ipycanvas widget; `strokes` the points of every stroke since the last
    clear; `image()` the drawing as the model reads it. The canvas is `size` px tall and
    `width` px wide (default: `size`, a square). `overlay=True` adds a layer above the ink
    for `show_marks`. `on_stroke_start` and `on_stroke_end` are called when the pen goes down
    and when it is lifted.
    """

    def __init__(
        self,
        size: int = CANVAS_SIZE,
        pen: float = PEN_WIDTH,
        *,
        width: int | None = None,
        overlay: bool = False,
        on_stroke_start: Callable[[], None] = lambda: None,
        on_stroke_end: Callable[[], None] = lambda: None,
    ) -> None:
        self.size = self.height = int(size)
        self.width = int(width) if width is not None else self.height
        if self.height < 1 or self.width < 1:
            raise ValueError(f"the canvas needs a positive size, not {self.width}x{self.height}")
        self.pen = float(pen)
        self.strokes: list[list[Point]] = []
        self.marks: list[Mark] = []
        # PenRaster draws square canvases: a wide one is drawn on a square and cropped.
        self.raster = PenRaster(max(self.width, self.height), self.pen)
        self._on_stroke_start = on_stroke_start
        self._on_stroke_end = on_stroke_end
        self._drawing = False
        self._batching = False

        layout = widgets.Layout(width=f"{self.width}px", height=f"{self.height}px")
        if overlay:
            self.canvas = MultiCanvas(2, width=self.width, height=self.height, layout=layout)
            self.ink_layer, self.overlay = self.canvas[0], self.canvas[1]
        else:
            self.canvas = Canvas(width=self.width, height=self.height, layout=layout)
            self.ink_layer, self.overlay = self.canvas, None
        self.canvas.add_class("digitrec-canvas")
        self.canvas.on_mouse_down(self.handle_mouse_down)
        self.canvas.on_mouse_move(self.handle_mouse_move)
        self.canvas.on_mouse_up(self.handle_mouse_up)
        self.canvas.on_mouse_out(self.handle_mouse_out)
        self.canvas.on_touch_start(self.handle_touch_start)
        self.canvas.on_touch_move(self.handle_touch_move)
        self.canvas.on_touch_end(self.handle_touch_end)
        self.canvas.on_touch_cancel(self.handle_touch_end)
        # A page reload builds a fresh canvas in the browser: repaint it from the strokes
        # (each layer says when it is ready).
        self.ink_layer.on_client_ready(lambda: self._on_client_ready(self.ink_layer))
        if self.overlay is not None:
            self.overlay.on_client_ready(lambda: self._on_client_ready(self.overlay))
        self._repaint()  # (the overlay starts transparent: nothing to paint)

    def image(self) -> np.ndarray:
        """The canvas as (height, width, 4) uint8 RGBA: white ink on opaque black."""
        return canvas_rgba(self.raster.level()[: self.height, : self.width])

    @property
    def is_empty(self) -> bool:
        """True while nothing has been drawn since the last clear."""
        return not self.strokes

    def clear(self) -> None:
        """Wipe the strokes, the marks, the raster and the browser's canvas."""
        self.strokes = []
        self._drawing = False
        self.raster.clear()
        self.marks = []
        with self._batch():
            self._repaint()
            self._repaint_marks()

    def undo(self) -> bool:
        """Take back the last stroke (and the marks, which read the drawing with it); False
        when there is none. The raster is drawn again from the strokes left."""
        if not self.strokes:
            return False
        self.strokes.pop()
        self._drawing = False
        self.raster.clear()
        for stroke in self.strokes:
            self.raster.stroke(stroke)
        self.marks = []
        with self._batch():
            self._repaint()
            self._repaint_marks()
        return True

    def show_marks(self, marks: Sequence[Mark]) -> None:
        """Draw these marks over the writing (replacing any before); the ink is untouched.

        Needs a canvas made with `overlay=True`.
        """
        if self.overlay is None:
            raise ValueError("this canvas has no overlay: make it with overlay=True")
        self.marks = list(marks)
        self._repaint_marks()

    def clear_marks(self) -> None:
        """Remove the marks (a canvas without an overlay has none)."""
        if self.marks:
            self.marks = []
            self._repaint_marks()

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
            self.ink_layer.fill_circle(point[0], point[1], self.pen / 2)
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
            self.ink_layer.stroke_line(last[0], last[1], point[0], point[1])
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
        # One finger draws; another landing meanwhile (a palm) starts nothing.
        if touches and not self._drawing:
            self.handle_mouse_down(*touches[0])

    def handle_touch_move(self, touches: list[Point]) -> None:
        if touches:
            self.handle_mouse_move(*touches[0])

    def handle_touch_end(self, touches: list[Point]) -> None:
        # The browser reports the fingers still down, not the one lifted: the stroke ends when
        # none is (a palm lifted mid-stroke does not end it).
        if self._drawing and not touches:
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
        return (float(min(max(x, 0.0), self.width)), float(min(max(y, 0.0), self.height)))

    def _on_client_ready(self, layer: Canvas) -> None:
        # After a page reload the browser's canvas manager no longer knows which canvas is
        # current, but Python's still thinks it does, so every command would go nowhere
        # (ipycanvas issue #322). Forget it, so the repaint switches canvas explicitly.
        manager = getattr(layer, "_canvas_manager", None)
        if manager is not None and hasattr(manager, "_current_canvas"):
            manager._current_canvas = None
        if layer is self.ink_layer:
            self._repaint()
        else:
            self._repaint_marks()

    def _repaint(self) -> None:
        """Paint the ink layer from scratch: styles, background, every stroke."""
        ink = self.ink_layer
        with self._batch():
            ink.line_width = self.pen
            ink.line_cap = "round"
            ink.line_join = "round"
            ink.stroke_style = INK
            ink.fill_style = BACKGROUND
            ink.fill_rect(0, 0, self.width, self.height)
            ink.fill_style = INK
            for stroke in self.strokes:
                ink.fill_circle(stroke[0][0], stroke[0][1], self.pen / 2)
                if len(stroke) > 1:
                    ink.stroke_lines(stroke)

    def _repaint_marks(self) -> None:
        """Paint the overlay from scratch: transparent, then each mark's box and label."""
        layer = self.overlay
        if layer is None:
            return
        with self._batch():
            layer.clear()
            layer.line_width = MARK_WIDTH
            layer.font = MARK_FONT
            layer.text_baseline = "bottom"
            for mark in self.marks:
                top, left, bottom, right = mark.box
                layer.stroke_style = layer.fill_style = mark.colour
                layer.set_line_dash([6, 4] if mark.dashed else [])
                layer.stroke_rect(left, top, right - left, bottom - top)
                if mark.label:
                    # above the box, or inside its top when there is no room above
                    y = top - 3 if top >= 20 else top + 19
                    layer.fill_text(mark.label, left + 1, y)
