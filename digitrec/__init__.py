"""digitrec: handwritten digit recognition, from MNIST to a digit you draw.

The notebooks narrate and this package computes: data loading (`digitrec.data`), turning a
drawing into MNIST's 28x28 format (`digitrec.preprocess`), the CNNs (`digitrec.model`),
training (`digitrec.train`) and prediction (`digitrec.predict`).
"""

import os

# Keras 3 can run on several backends; this course is written and tested on TensorFlow.
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
# TensorFlow's C++ start-up chatter (CPU feature notices) only confuses learners.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

__version__ = "0.1.0"
