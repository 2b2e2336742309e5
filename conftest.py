"""Settings for the whole test run, notebooks included (nbval kernels inherit this env).

The suite runs every notebook in fast mode, and writes models to a temporary folder so a
test run never replaces the model a learner trained in `models/`.
"""

import os
import tempfile

os.environ.setdefault("DIGITREC_FAST", "1")
if "DIGITREC_MODEL" not in os.environ:
    _models = tempfile.mkdtemp(prefix="digitrec-test-models-")
    os.environ["DIGITREC_MODEL"] = os.path.join(_models, "cnn.keras")
