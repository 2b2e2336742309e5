"""Settings for the whole test run, notebooks included (nbval kernels inherit this env).

The suite runs every notebook in fast mode, and writes models to a temporary folder so a
test run never replaces a model a learner trained in `models/`.
"""

import os
import tempfile

import pytest

os.environ.setdefault("DIGITREC_FAST", "1")
if "DIGITREC_MODELS" not in os.environ:
    os.environ["DIGITREC_MODELS"] = tempfile.mkdtemp(prefix="digitrec-test-models-")
os.environ.pop("DIGITREC_MODEL", None)  # the recommended model, too, lives in that folder


# A test that trains a model, starts a server or drives a browser through one of these
# fixtures, and every notebook cell nbval runs, is marked `slow`; `make test-fast` skips them.
# Tests that do such work without these fixtures carry the marker themselves.
SLOW_FIXTURES = {"trained_model_path", "predictor", "app", "client", "browser", "live_server"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        if (
            fixtures & SLOW_FIXTURES
            or item.get_closest_marker("browser")
            or item.path.suffix == ".ipynb"
        ):
            item.add_marker(pytest.mark.slow)
