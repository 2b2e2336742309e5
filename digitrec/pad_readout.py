"""The drawing pad's readout: `Readout`, one part of `DrawingPad`.

Beside the canvas: a sentence and the digit, the ten probabilities as bars and the 28x28
image the model saw; under the pad, optionally, each preprocessing stage. Every widget is
made once and updated in place, so a new reading never re-renders the page.
"""

from __future__ import annotations

import html
import io
from collections.abc import Callable

import ipywidgets as widgets
import numpy as np
from PIL import Image

from digitrec.constants import MNIST_SIZE, NUM_CLASSES
from digitrec.predict import Prediction
from digitrec.preprocess import EmptyDrawingError, preprocess_stages

SEEN_SCALE = 5  # the model's 28x28 input is shown 5x, with sharp pixels
STAGE_SIZE = 4 * MNIST_SIZE  # each preprocessing stage is shown in a box this many px wide
STAGE_CAPTIONS = {
    "ink": "1. ink",
    "crop": "2. crop",
    "box": "3. fit 20x20",
    "centred": "4. centre in 28x28",
}

EMPTY_MESSAGE = (
    "The canvas is empty: draw a digit with the mouse (or a finger), then press Predict."
)
UNREAD_MESSAGE = "Nothing to read yet."


class Readout:
    """The model's reading of the drawing, and optionally the preprocessing stages.

    `panel` goes beside the canvas (`status`, `bars` with `bar_labels`, `seen`); the
    `stages_toggle` checkbox opens `stages_box`, one image per stage in `stage_images`,
    computed from `image()`, the current drawing.
    """

    def __init__(self, image: Callable[[], np.ndarray], *, show_stages: bool = False) -> None:
        self._image = image
        self.message = EMPTY_MESSAGE

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
            for digit in range(NUM_CLASSES)
        ]
        self.bar_labels = [
            widgets.Label("", layout=widgets.Layout(width="60px")) for _ in range(NUM_CLASSES)
        ]
        seen_size = MNIST_SIZE * SEEN_SCALE
        self.seen = widgets.Image(format="png", width=seen_size, height=seen_size)
        self.seen.add_class("digitrec-seen")
        rows = zip(self.bars, self.bar_labels, strict=True)
        self.panel = widgets.VBox(
            [
                self.status,
                widgets.VBox([widgets.HBox([bar, label]) for bar, label in rows]),
                widgets.VBox([widgets.Label("What the model saw (28x28):"), self.seen]),
            ]
        )

        self.stages_toggle = widgets.Checkbox(
            value=show_stages, description="Show the preprocessing stages", indent=False
        )
        self.stage_images = {
            name: widgets.Image(format="png", width=STAGE_SIZE, height=STAGE_SIZE)
            for name in STAGE_CAPTIONS
        }
        self.stages_box = widgets.HBox(
            [
                widgets.VBox([widgets.Label(STAGE_CAPTIONS[name]), image])
                for name, image in self.stage_images.items()
            ]
        )
        self.stages_toggle.observe(lambda _: self.show_stages(), names="value")
        self.show(None, empty=True)

    def show(self, prediction: Prediction | None, *, empty: bool) -> None:
        """Show a reading (None: no reading; `empty` says whether there is a drawing)."""
        self._show_reading(prediction, empty)
        self.show_stages()

    def say(self, message: str) -> None:
        """Replace the sentence above the bars, leaving the last reading's bars in place."""
        self.message = message
        self.status.value = _status_html(message, None)

    def show_stages(self) -> None:
        """Show or hide the stages view, as the toggle says; when shown, compute the stages."""
        shown = self.stages_toggle.value
        self.stages_box.layout.display = "flex" if shown else "none"
        if not shown:
            return
        try:
            stages = preprocess_stages(self._image())
        except EmptyDrawingError:
            blank = _png(np.zeros((MNIST_SIZE, MNIST_SIZE)), STAGE_SIZE // MNIST_SIZE)
            for image in self.stage_images.values():
                image.value = blank
            return
        for name, image in self.stage_images.items():
            pixels = getattr(stages, name)
            image.value = _png(pixels, max(1, STAGE_SIZE // max(pixels.shape)))

    def _show_reading(self, prediction: Prediction | None, empty: bool) -> None:
        """Update the status, the ten bars and the 28x28 view in place (no re-render)."""
        if prediction is None:
            self.message = EMPTY_MESSAGE if empty else UNREAD_MESSAGE
            probabilities = np.zeros(NUM_CLASSES)
            seen = np.zeros((MNIST_SIZE, MNIST_SIZE), np.float32)
        else:
            self.message = describe(prediction)
            probabilities = prediction.probabilities
            blank = np.zeros((MNIST_SIZE, MNIST_SIZE))
            seen = prediction.image if prediction.image is not None else blank
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
