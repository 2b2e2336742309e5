"""The drawing pad's collect panel: `CollectPanel`, one part of `DrawingPad`.

A label picker and a Save button that add the drawing, with its label, to the learner's own
dataset (`digitrec.my_digits`), and a line that counts what is there. Saving only adds files.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import ipywidgets as widgets
import numpy as np

from digitrec import my_digits
from digitrec.constants import NUM_CLASSES
from digitrec.preprocess import EmptyDrawingError


class CollectPanel:
    """Pick the digit you drew, press Save: one more drawing of yours in `folder`.

    `image()` gives the drawing to save; `on_saved()` is called after a save from the button
    (the pad clears the canvas for the next drawing). `box` holds the widgets; it is shown
    only while `visible`.
    """

    def __init__(
        self,
        folder: str | os.PathLike[str] | None,
        image: Callable[[], np.ndarray],
        on_saved: Callable[[], None],
        *,
        visible: bool = False,
        button_layout: widgets.Layout | None = None,
    ) -> None:
        self.folder = Path(folder) if folder is not None else my_digits.default_folder()
        self._image = image
        self._on_saved = on_saved
        self.label_picker = widgets.ToggleButtons(
            options=[str(digit) for digit in range(NUM_CLASSES)],
            value=None,
            description="This is a",
            style={"button_width": "34px", "description_width": "64px"},
            layout=widgets.Layout(width="auto"),
        )
        self.save_button = widgets.Button(description="Save", icon="save", layout=button_layout)
        self.save_button.on_click(lambda _: self._save_clicked())
        self.status = widgets.Label("")
        self.box = widgets.VBox([widgets.HBox([self.label_picker, self.save_button]), self.status])
        self.label_picker.add_class("digitrec-label")
        self.save_button.add_class("digitrec-save")
        self.visible = visible
        self.show_count()

    @property
    def visible(self) -> bool:
        return self._visible

    @visible.setter
    def visible(self, on: bool) -> None:
        self._visible = bool(on)
        self.box.layout.display = "flex" if self._visible else "none"

    def save(self, label: int | None = None) -> Path:
        """Add the drawing to the learner's dataset with `label` (default: the picker's)."""
        if label is None:
            if self.label_picker.value is None:
                raise my_digits.MyDigitsError("pick the digit you drew before saving")
            label = int(self.label_picker.value)
        path = my_digits.save_drawing(self._image(), label, self.folder)
        self.show_count(note=f"Saved a {label}. ")
        return path

    def show_count(self, note: str = "") -> None:
        """Say how many drawings are in the folder, after `note` (what just happened)."""
        counts = my_digits.count_my_digits(self.folder)
        total = sum(counts.values())
        drawings = "drawing" if total == 1 else "drawings"
        self.status.value = f"{note}{total} {drawings} of yours in {self.folder}"

    def _save_clicked(self) -> None:
        try:
            self.save()
        except (my_digits.MyDigitsError, EmptyDrawingError) as exc:
            self.show_count(note=f"Not saved: {exc}. ")
            return
        except OSError as exc:  # the folder cannot be written: the drawing stays on the canvas
            reason = exc.strerror or str(exc)
            self.status.value = (
                f"Not saved ({reason}): check that {self.folder} is a folder you can write to."
            )
            return
        self._on_saved()
        self.label_picker.value = None
