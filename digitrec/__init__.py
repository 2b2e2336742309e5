"""digitrec: handwritten digit recognition, from MNIST to a digit you draw.

The notebooks narrate and this package computes: data loading (`digitrec.data`), turning a
drawing into MNIST's 28x28 format (`digitrec.preprocess`), the CNNs (`digitrec.model`),
training (`digitrec.train`) and prediction (`digitrec.predict`).

Importing the package starts TensorFlow, once and quietly (below), so every module may import
TensorFlow and Keras at its top like any other library; nothing in the package pretends to be
cheap to import. The exception is training on an accelerator with another Keras backend
(`KERAS_BACKEND=jax` on a GPU, where TensorFlow may be absent): the modules that training
needs (`data`, `model`, `augment`, `warp`, `train`) then run without it.
"""

import os
import sys

# Keras 3 can run on several backends; this course is written and tested on TensorFlow.
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# TensorFlow uses its oneDNN CPU kernels by default only on CPUs with AVX-512 VNNI, bfloat16
# or AMX units. On the AVX2 CPUs of most laptops they make a training step markedly faster but
# reading one drawing a little slower (docs/results.md), so the training commands turn them on
# and everything else keeps TensorFlow's choice; TF_ENABLE_ONEDNN_OPTS, if set, wins. It is read
# once, when TensorFlow starts: `make lab` sets it for the notebooks, which train.
TRAINING_COMMANDS = ("digitrec.train", "digitrec.refusal_training")


def is_training_command(argv: list[str]) -> bool:
    """True for `python -m digitrec.train ...` or `-m digitrec.refusal_training` (`argv` as in
    sys.orig_argv)."""
    return any(a == "-m" and b in TRAINING_COMMANDS for a, b in zip(argv, argv[1:], strict=False))


if is_training_command(getattr(sys, "orig_argv", [])):
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")

__version__ = "0.1.0"


def _import_tensorflow_quietly() -> None:
    """Start TensorFlow with its C++ start-up notices silenced.

    TensorFlow's GPU build prints lines such as `Could not find cuda drivers` and `failed
    call to cuInit` straight to file descriptor 2 before its log level applies; on a laptop
    without an NVIDIA GPU they are harmless, but in a notebook they look like an error.
    Set DIGITREC_TF_LOGS=1 to see them.
    """
    if "tensorflow" in sys.modules or os.environ.get("DIGITREC_TF_LOGS") == "1":
        return
    if os.environ["KERAS_BACKEND"] != "tensorflow":
        return
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        import tensorflow

        tensorflow.config.list_physical_devices()  # the device probe that prints cuInit
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


_import_tensorflow_quietly()
