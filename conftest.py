"""Settings for the whole test run, notebooks included (nbval kernels inherit this env).

The suite runs every notebook in fast mode, and writes models to a temporary folder of its
own, even where `DIGITREC_MODELS` names one (a hub may point it at each learner's models), so
a test run never replaces a model a learner trained; the folder goes when the run ends.
"""

import os
import shutil
import tempfile
from pathlib import Path

import pytest

os.environ.setdefault("DIGITREC_FAST", "1")
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


# nbval runs the course last, in order, in one models folder, as a learner would. A learner
# may have run `make train` first, so before notebook 01 that folder gets a recommended model
# (a copy of the shipped one: the notebooks still read with a real model) and a quick stand-in
# (a tiny real model). After the last notebook both must be unchanged, byte for byte, and
# notebook 03 must have saved the course's own CNN, which 04 to 07 read. Only when every cell
# of the whole course runs, in order (no -k, -m, --lf or --nf picking or reordering cells),
# and only in the suite's own temporary folder, never in a learner's.
COURSE_PREFIXES = ("01_", "02_", "03_", "04_", "05_", "06_", "07_")
_course: dict[str, object] = {}


def pytest_deselected(items: list[pytest.Item]) -> None:
    if any(item.path.suffix == ".ipynb" for item in items):
        _course["partial"] = True


def pytest_collection_finish(session: pytest.Session) -> None:
    notebooks = [item for item in session.items if item.path.suffix == ".ipynb"]
    prefixes = [item.path.name[:3] for item in notebooks]
    whole = set(prefixes) >= set(COURSE_PREFIXES) and not _course.get("partial")
    if whole and prefixes == sorted(prefixes):
        _course.update(first=notebooks[0], last=notebooks[-1])


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item is not _course.get("first"):
        return
    from digitrec import settings

    recommended, quick = settings.recommended_model_path(), settings.quick_model_path()
    for source in (
        settings.shipped_model_path(),
        settings.shipped_model_path().with_suffix(".json"),
    ):
        shutil.copyfile(source, recommended.with_suffix(source.suffix))
    import keras

    quick.parent.mkdir(parents=True, exist_ok=True)
    keras.Sequential(
        [keras.Input((28, 28, 1)), keras.layers.Flatten(), keras.layers.Dense(10)]
    ).save(quick)
    settings.course_model_path().unlink(missing_ok=True)
    mine = (recommended, recommended.with_suffix(".json"), quick)
    _course["before"] = {path: path.read_bytes() for path in mine}


def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    if item is not _course.get("last") or "before" not in _course:
        return
    from digitrec import settings

    replaced = [str(p) for p, data in _course["before"].items() if Path(p).read_bytes() != data]
    assert not replaced, f"the course replaced a model it does not own: {replaced}"
    assert settings.course_model_path().is_file(), "notebook 03 saves the course's CNN"


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(os.environ["DIGITREC_MODELS"], ignore_errors=True)  # the run's own folder
