"""Shared fixtures: the real MNIST data and a small, really trained seed CNN."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from digitrec.data import load_mnist


@pytest.fixture(scope="session")
def mnist():
    """The full MNIST arrays, from DIGITREC_MNIST or Keras's cache."""
    return load_mnist()


@pytest.fixture(scope="session")
def trained_model_path(tmp_path_factory, mnist) -> Path:
    """A seed CNN trained for 2 epochs on 12,000 digits, saved with its JSON record."""
    from digitrec.train import Recipe, train

    out = tmp_path_factory.mktemp("model") / "cnn.keras"
    recipe = Recipe("test fixture", epochs=2, batch_size=128, limit=12_000)
    train(recipe, out=out, verbose=0)
    return out


@pytest.fixture(scope="session")
def predictor(trained_model_path):
    from digitrec.predict import Predictor

    return Predictor.load(trained_model_path)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """Where browser tests leave screenshots for a person to open (git-ignored)."""
    path = Path(__file__).resolve().parents[1] / "artifacts"
    path.mkdir(exist_ok=True)
    return path


@pytest.fixture(scope="session")
def browser():
    """A real headless Chromium driven by Playwright (Debian's /usr/bin/chromium)."""
    from playwright.sync_api import sync_playwright

    from digitrec.jupyter_browser import launch_chromium

    with sync_playwright() as playwright:
        try:
            chromium = launch_chromium(playwright)
        except FileNotFoundError as exc:
            pytest.fail(str(exc))
        yield chromium
        chromium.close()


@pytest.fixture
def app(trained_model_path):
    """The web app (Flask-tutorial style), serving the small trained model."""
    from app import create_app

    return create_app({"TESTING": True, "MODEL_PATH": str(trained_model_path)})


@pytest.fixture
def client(app):
    return app.test_client()


SOLUTIONS_DIR = Path(__file__).resolve().parents[1] / "notebooks" / "solutions"


@pytest.fixture(scope="module")
def solutions(request):
    """The worked solutions (notebooks/solutions/<NOTEBOOK>.py) of the notebook a test module
    names in its `NOTEBOOK`, loaded as a module."""
    name = request.module.NOTEBOOK
    spec = importlib.util.spec_from_file_location(f"solutions_{name}", SOLUTIONS_DIR / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def said(capsys):
    """`said(start)`: what an exercise check printed, after asserting it begins with `start`."""

    def printed(start: str) -> str:
        out = capsys.readouterr().out
        assert out.startswith(start), out
        return out

    return printed
