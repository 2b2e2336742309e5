"""Settings for the whole test run, notebooks included (nbval kernels inherit this env).

The suite runs every notebook in fast mode, and writes models to a temporary folder so a
test run never replaces a model a learner trained in `models/`.
"""

import os
import tempfile

os.environ.setdefault("DIGITREC_FAST", "1")
if "DIGITREC_MODELS" not in os.environ:
    os.environ["DIGITREC_MODELS"] = tempfile.mkdtemp(prefix="digitrec-test-models-")
os.environ.pop("DIGITREC_MODEL", None)  # the recommended model, too, lives in that folder
