"""The drawing pad's readouts, one part of `DrawingPad`: `Readout` and `NumberReadout`.

`Readout`, beside the canvas: a sentence and the digit (or "Not a digit" when the refusal
model refuses the drawing), the ten probabilities as bars and the 28x28 image the model saw;
under the pad, optionally, each preprocessing stage. `NumberReadout`, under the wide canvas
of number mode: the number read and, for each digit, the 28x28 image the model saw and its
reading. Every widget is made once and updated in place, so a new reading never re-renders
the page.
"""

from __future__ import annotations

import html
import io
from collections.abc import Callable

import ipywidgets as widgets
import numpy as np
from PIL import Image

from digitrec.constants import MNIST_SIZE, NUM_CLASSES
from digitrec.numbers import NumberReading
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
EMPTY_NUMBER_MESSAGE = (
    "The canvas is empty: write a number, digit after digit from left to right, then press Predict."
)
UNREAD_MESSAGE = "Nothing to read yet."
NOT_A_DIGIT = "Not a digit"
# Said when a whole drawing reads as one mark that is no digit.
SPACE_THE_DIGITS = "If you wrote a number, leave a little space between its digits."
# The colours of a reading: sure, unsure, and not a digit at all.
SURE_COLOUR = "#1a7f37"
UNSURE_COLOUR = "#b36b00"
REFUSED_COLOUR = "#cf222e"
PIECE_SCALE = 3  # each digit's 28x28 input is shown 3x in number mode
MAX_PIECES_SHOWN = 12  # number mode shows the inputs of this many digits at most


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

    def show(
        self, prediction: Prediction | None, *, empty: bool, number: str | None = None
    ) -> None:
        """Show a reading (None: no reading; `empty` says whether there is a drawing;
        `number`: the number a drawing refused as one digit plainly shows, if any)."""
        self._show_reading(prediction, empty, number)
        self.show_stages()

    def say(self, message: str) -> None:
        """Replace the sentence above the bars, leaving the last reading's bars in place; the
        stages view, when shown, follows the drawing as it is now."""
        self.message = message
        self.status.value = _status_html(message, None)
        self.show_stages()

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

    def _show_reading(
        self, prediction: Prediction | None, empty: bool, number: str | None = None
    ) -> None:
        """Update the status, the ten bars and the 28x28 view in place (no re-render)."""
        if prediction is None:
            self.message = EMPTY_MESSAGE if empty else UNREAD_MESSAGE
            probabilities = np.zeros(NUM_CLASSES)
            seen = np.zeros((MNIST_SIZE, MNIST_SIZE), np.float32)
        else:
            self.message = describe(prediction, number=number)
            probabilities = prediction.probabilities
            blank = np.zeros((MNIST_SIZE, MNIST_SIZE))
            seen = prediction.image if prediction.image is not None else blank
        self.status.value = _status_html(self.message, prediction)
        best = int(np.argmax(probabilities)) if prediction is not None else -1
        for digit, (bar, label) in enumerate(zip(self.bars, self.bar_labels, strict=True)):
            bar.value = float(probabilities[digit])
            if digit == best:
                bar.bar_style = _bar_style(prediction)
            else:
                bar.bar_style = "info"
            label.value = f"{probabilities[digit]:.1%}" if prediction is not None else ""
        self.seen.value = _png(seen, SEEN_SCALE)


class NumberReadout:
    """The reading of a drawing of several digits, shown under the wide canvas.

    `status` holds the number in large type (a refused piece shows as a red "?") and a
    sentence; `pieces` one small panel per digit, left to right, each with the 28x28 image the
    model saw (`piece_images`) and its reading (`piece_labels`). Panels beyond the digits
    read are hidden; at most `MAX_PIECES_SHOWN` are shown.
    """

    def __init__(self) -> None:
        self.message = EMPTY_NUMBER_MESSAGE
        self.status = widgets.HTML(layout=widgets.Layout(min_height="64px"))
        self.status.add_class("digitrec-status")
        size = MNIST_SIZE * PIECE_SCALE
        self.piece_images = [
            widgets.Image(format="png", width=size, height=size) for _ in range(MAX_PIECES_SHOWN)
        ]
        self.piece_labels = [
            widgets.HTML(layout=widgets.Layout(width=f"{size}px")) for _ in range(MAX_PIECES_SHOWN)
        ]
        self.pieces = [
            widgets.VBox([image, label], layout=widgets.Layout(margin="0 8px 4px 0"))
            for image, label in zip(self.piece_images, self.piece_labels, strict=True)
        ]
        for piece in self.pieces:
            piece.add_class("digitrec-piece")
        self.panel = widgets.VBox(
            [
                self.status,
                widgets.Label("What the model saw, digit by digit (28x28 each):"),
                widgets.HBox(self.pieces, layout=widgets.Layout(flex_flow="row wrap")),
            ]
        )
        self.show(None, empty=True)

    def show(self, reading: NumberReading | None, *, empty: bool) -> None:
        """Show a number's reading (None: no reading; `empty` says whether there is a drawing)."""
        if reading is None:
            self.message = EMPTY_NUMBER_MESSAGE if empty else UNREAD_MESSAGE
            self.status.value = _status_html(self.message, None)
            shown = 0
        else:
            self.message = describe_number(reading)
            self.status.value = _number_html(reading, self.message)
            shown = min(len(reading), MAX_PIECES_SHOWN)
            for k in range(shown):
                digit, refused = reading.digits[k], reading.not_a_digit[k]
                blank = np.zeros((MNIST_SIZE, MNIST_SIZE))
                seen = digit.image if digit.image is not None else blank
                self.piece_images[k].value = _png(seen, PIECE_SCALE)
                text = NOT_A_DIGIT.lower() if refused else f"{digit.digit} ({digit.confidence:.0%})"
                colour = _colour(digit, refused)
                self.piece_labels[k].value = (
                    f'<span class="digitrec-piece-reading" style="color:{colour};'
                    f'font-weight:bold">{html.escape(text)}</span>'
                )
        for k, piece in enumerate(self.pieces):
            piece.layout.display = "flex" if k < shown else "none"

    def say(self, message: str) -> None:
        """Replace the sentence, leaving the last reading's digit panels in place."""
        self.message = message
        self.status.value = _status_html(message, None)


def describe_number(reading: NumberReading) -> str:
    """One sentence for the learner: the number read, and any piece that is no digit, any
    digit the model is unsure of, and any speck set aside."""
    count = len(reading)
    digits = "digit" if count == 1 else "digits"
    parts = [f"Read {count} {digits}: {reading.text}."]
    refused = [k + 1 for k, no in enumerate(reading.not_a_digit) if no]
    if count == 1 and refused:  # the whole drawing is one mark, and no digit
        parts = ["That does not look like a digit (shown as ?)."]
        top, left, bottom, right = reading.boxes[0]
        if right - left > bottom - top:  # wide: digits written into each other?
            parts.append(SPACE_THE_DIGITS)
    elif refused:
        which = _ordinals(refused)
        verb = "does" if len(refused) == 1 else "do"
        parts.append(f"The {which} {verb} not look like a digit (shown as ?).")
    unsure = [
        k + 1
        for k, (p, no) in enumerate(zip(reading.digits, reading.not_a_digit, strict=True))
        if p.unsure and not no
    ]
    if unsure:
        parts.append(f"The model is unsure of the {_ordinals(unsure)}.")
    if reading.specks:
        marks = "mark" if len(reading.specks) == 1 else "marks"
        parts.append(f"{len(reading.specks)} {marks} set aside (a dot, a speck, a line under).")
    return " ".join(parts)


def describe(prediction: Prediction, *, number: str | None = None) -> str:
    """One sentence for the learner: the digit and how sure, that the model is unsure, or
    that the drawing is not a digit at all (and, given `number`, the number it looks like:
    `digitrec.numbers.several_digits`)."""
    order = np.argsort(prediction.probabilities)[::-1]
    if prediction.not_a_digit and number:
        return (
            f"That is not one digit: it looks like the number {number}. A pad made with "
            "DrawingPad(number=True) reads numbers."
        )
    if prediction.not_a_digit:
        return (
            "That does not look like a digit. (Made to choose, the model would say "
            f"{prediction.digit} at {prediction.confidence:.0%}: it only knows digits.)"
        )
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


def _ordinals(positions: list[int]) -> str:
    """[1, 3] -> "1st and 3rd digit"; positions count from 1."""
    suffix = {1: "st", 2: "nd", 3: "rd"}
    words = [f"{n}{'th' if 10 <= n % 100 <= 20 else suffix.get(n % 10, 'th')}" for n in positions]
    joined = words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]
    return f"{joined} {'piece' if len(words) == 1 else 'pieces'}"


def _colour(prediction: Prediction, refused: bool) -> str:
    if refused:
        return REFUSED_COLOUR
    return UNSURE_COLOUR if prediction.unsure else SURE_COLOUR


def _bar_style(prediction: Prediction) -> str:
    if prediction.not_a_digit:
        return "danger"
    return "warning" if prediction.unsure else "success"


def _message_html(message: str) -> str:
    return f'<div class="digitrec-message" style="font-size:14px">{html.escape(message)}</div>'


def _status_html(message: str, prediction: Prediction | None) -> str:
    if prediction is None:
        return _message_html(message)
    refused = prediction.not_a_digit
    shown = NOT_A_DIGIT if refused else str(prediction.digit)
    size = "36px" if refused else "48px"
    css = "digitrec-digit digitrec-refused" if refused else "digitrec-digit"
    return (
        f'<div style="line-height:56px"><span class="{css}" style="font-size:{size};'
        f'font-weight:bold;color:{_colour(prediction, refused)}">{shown}</span></div>'
        + _message_html(message)
    )


def _number_html(reading: NumberReading, message: str) -> str:
    characters = "".join(
        f'<span style="color:{_colour(p, no)}">{"?" if no else p.digit}</span>'
        for p, no in zip(reading.digits, reading.not_a_digit, strict=True)
    )
    return (
        f'<div style="line-height:56px"><span class="digitrec-number" style="font-size:48px;'
        f'font-weight:bold;letter-spacing:4px">{characters}</span></div>' + _message_html(message)
    )
