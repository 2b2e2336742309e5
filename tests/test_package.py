"""Importing `digitrec` starts TensorFlow without the notices its C++ code prints on start.

TensorFlow 2.21 writes lines such as `oneDNN custom operations are on` and `Could not find cuda
drivers` straight to file descriptor 2 while it loads, whatever TF_CPP_MIN_LOG_LEVEL says. In a
notebook they appear as a red box under the first cell and look like an error; the package
imports TensorFlow with that descriptor pointed elsewhere (DIGITREC_TF_LOGS=1 shows them).
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

IMPORTS = "import digitrec, keras, tensorflow; print(keras.backend.backend())"


def _stderr_of_a_fresh_process(code: str, **env: str) -> str:
    environment = {key: value for key, value in os.environ.items() if key != "DIGITREC_TF_LOGS"}
    environment.update(KERAS_BACKEND="tensorflow", TF_ENABLE_ONEDNN_OPTS="1", **env)
    done = subprocess.run(
        [sys.executable, "-c", code],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert done.stdout.strip() == "tensorflow"
    return done.stderr


@pytest.mark.slow  # starts TensorFlow twice
def test_importing_digitrec_first_keeps_tensorflows_start_up_notices_out():
    loud = _stderr_of_a_fresh_process(IMPORTS, DIGITREC_TF_LOGS="1")
    if not loud.strip():
        pytest.skip("this TensorFlow prints no start-up notices to silence")
    assert _stderr_of_a_fresh_process(IMPORTS) == ""
