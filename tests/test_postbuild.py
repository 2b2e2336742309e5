"""`postBuild` (repo2docker's hook) run in a clean environment, without any download.

"Clean", honestly, on a machine without a network: a copy of the repository without models,
data, caches or virtual environment; HOME an empty folder (no Keras cache, no pip user
config); and a fresh virtual environment in which digitrec is *not* installed. The third-party
packages environment.yml would install cannot be downloaded here, so the fresh environment
sees the project's own `.venv` packages read-only, through a plain path in a `.pth` file,
which adds the folder but runs none of the `.pth` hooks in it (so not digitrec's editable
install). postBuild must then install digitrec into the fresh environment, import it from
elsewhere, and report the data and the models, training nothing.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LEFT_OUT = (".git", ".venv", "models", "data", "artifacts", "bench/results", "build", "dist")
CACHES = ("__pycache__", "*.egg-info", ".pytest_cache", ".ruff_cache", ".ipynb_checkpoints")

pytestmark = pytest.mark.slow  # a pip install and a TensorFlow start-up per run


@pytest.fixture(scope="module")
def fresh_python(tmp_path_factory) -> Path:
    """A new virtual environment that sees the project's packages but not digitrec."""
    venv = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    target = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    Path(target, "project_packages.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return python


@pytest.fixture
def checkout(tmp_path) -> Path:
    """A copy of the repository as a fresh clone has it: no models, data or environments."""
    copy = tmp_path / "repo"
    left_out = {ROOT / name for name in LEFT_OUT}

    def ignore(folder: str, names: list[str]) -> set[str]:
        skipped = set(shutil.ignore_patterns(*CACHES)(folder, names))
        return skipped | {name for name in names if Path(folder, name) in left_out}

    shutil.copytree(ROOT, copy, ignore=ignore, symlinks=True)
    return copy


def environment(fresh_python: Path, home: Path, **extra: str) -> dict[str, str]:
    home.mkdir(exist_ok=True)
    env = {
        "PATH": f"{fresh_python.parent}{os.pathsep}/usr/bin{os.pathsep}/bin",
        "HOME": str(home),
        "PYTHONNOUSERSITE": "1",
        "LANG": "C.UTF-8",
        **extra,
    }
    for name in ("PIP_CONFIG_FILE", "PIP_FIND_LINKS", "PIP_CERT", "PIP_DEFAULT_TIMEOUT"):
        if name in os.environ:  # how this machine's pip reaches its packages (a build backend)
            env[name] = os.environ[name]
    return env


def run_postbuild(checkout: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", "postBuild"],
        cwd=checkout,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def imports_digitrec(python: Path, env: dict[str, str], cwd: Path) -> str | None:
    """Where `import digitrec` finds the package when run in `cwd`, or None if it cannot."""
    done = subprocess.run(
        [python, "-c", "import digitrec; print(digitrec.__file__)"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
    )
    return done.stdout.strip() if done.returncode == 0 else None


def test_installs_digitrec_and_reports_data_and_models(fresh_python, checkout, tmp_path):
    mnist = os.environ.get("DIGITREC_MNIST")
    if not mnist:
        pytest.fail("set DIGITREC_MNIST to a local mnist.npz to run this test offline")
    env = environment(fresh_python, tmp_path / "home", DIGITREC_MNIST=mnist)
    assert imports_digitrec(fresh_python, env, tmp_path) is None, "the environment is not clean"

    done = run_postbuild(checkout, env)

    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert f"installing digitrec from {checkout}" in out
    assert f"imports from {checkout / 'digitrec' / '__init__.py'}" in out
    from digitrec.data import file_sha256

    assert f"60,000 training and 10,000 test digits, sha256 {file_sha256(mnist)}" in out
    assert f"no course's seed CNN (notebook 03 saves it) at {checkout / 'models'}" in out
    assert "no course model yet: notebook 03 trains" in out
    shipped = checkout / "digitrec" / "pretrained" / "cnn.keras"
    assert f"recommended model (the web app serves it; shipped with the package): {shipped}" in out
    assert out.rstrip().endswith("postBuild: done")
    assert not (checkout / "models").exists(), "postBuild trained nothing"
    where = imports_digitrec(fresh_python, env, tmp_path)
    assert where == str(checkout / "digitrec" / "__init__.py"), "installed into the fresh env"


def test_says_mnist_will_be_downloaded_and_lists_the_models_it_finds(
    fresh_python, checkout, tmp_path
):
    import keras

    models = checkout / "models"
    models.mkdir()
    keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten()]).save(
        models / "seed_cnn.keras"
    )
    (models / "seed_cnn.json").write_text(json.dumps({"test_accuracy": 0.9876}))
    env = environment(fresh_python, tmp_path / "home")  # no DIGITREC_MNIST, no Keras cache

    done = run_postbuild(checkout, env)

    assert done.returncode == 0, done.stdout + done.stderr
    assert "MNIST is not here yet: Keras downloads it (11 MB)" in done.stdout
    assert f"seed CNN (notebook 03 saves it): {models / 'seed_cnn.keras'}, " in done.stdout
    assert "test accuracy 98.76%" in done.stdout
    assert "no course model yet" not in done.stdout
    assert not (tmp_path / "home" / ".keras" / "datasets").exists(), "nothing was downloaded"


def test_fails_clearly_when_digitrec_cannot_be_imported(fresh_python, checkout, tmp_path):
    init = checkout / "digitrec" / "__init__.py"
    init.write_text('raise ImportError("broken on purpose")\n' + init.read_text())
    env = environment(fresh_python, tmp_path / "home")

    done = run_postbuild(checkout, env)

    assert done.returncode != 0
    assert (
        "postBuild: error: digitrec is installed but cannot be imported "
        "(ImportError: broken on purpose)" in done.stderr
    )
    assert "Traceback" not in done.stderr
    assert "postBuild: done" not in done.stdout


def test_fails_clearly_when_digitrec_mnist_names_no_file(fresh_python, checkout, tmp_path):
    missing = tmp_path / "nowhere" / "mnist.npz"
    env = environment(fresh_python, tmp_path / "home", DIGITREC_MNIST=str(missing))

    done = run_postbuild(checkout, env)

    assert done.returncode != 0
    assert "postBuild: error: DIGITREC_MNIST names no usable MNIST file" in done.stderr
    assert f"MNIST file not found: {missing}" in done.stderr
    assert "Traceback" not in done.stderr
