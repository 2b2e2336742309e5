"""The numbers every part of digitrec agrees on: MNIST's geometry, the canvas and the pen.

One home for them, so the preprocessing, the drawing pad, the web page (which reads them from
the server), the augmentation and the synthetic drawings cannot drift apart.
"""

from __future__ import annotations

# MNIST: a 28x28 field; each digit scaled so its ink box's longer side is 20 px, then placed
# with its centre of mass at the middle (the mean over the training digits is 13.99, 14.00).
MNIST_SIZE = 28
MNIST_BOX = 20
MNIST_CENTRE = (14.0, 14.0)
NUM_CLASSES = 10

# Below this fraction of full ink a pixel counts as background (paper grain, JPEG noise).
INK_THRESHOLD = 0.1

# The drawing surface of the pad and the web page: ten times MNIST's field, and a round pen
# about as thick, relative to the digit's box, as MNIST's strokes.
CANVAS_SIZE = 280
PEN_WIDTH = 18
