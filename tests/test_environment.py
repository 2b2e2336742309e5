"""pyproject.toml and environment.yml install the same packages, so pip and conda agree; the
Makefile trains models where the notebooks and the app look for them."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from digitrec import settings

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9_.\-]+)\s*(?:\[[^\]]*\])?\s*(.*?)\s*(?:;.*)?$")


def _parse(spec: str) -> tuple[str, str]:
    match = REQUIREMENT.match(spec)
    assert match, f"cannot parse requirement {spec!r}"
    return match.group(1).lower().replace("_", "-"), match.group(2).replace(" ", "")


def pyproject_requirements() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    specs = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        specs += extra
    # Backports needed only on old Pythons have nothing to match in a conda env pinned >= 3.10.
    specs = [s for s in specs if "python_version <" not in s]
    return dict(_parse(s) for s in specs)


def environment_requirements() -> dict[str, str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    specs: list[str] = []
    for item in env["dependencies"]:
        if isinstance(item, dict):
            specs += [s for s in item["pip"] if not s.startswith("-")]
        else:
            specs.append(item)
    parsed = dict(_parse(s) for s in specs)
    parsed.pop("pip", None)
    parsed.pop("python", None)
    return parsed


def test_same_packages_in_both():
    pip_side, conda_side = pyproject_requirements(), environment_requirements()
    assert sorted(pip_side) == sorted(conda_side), (
        f"only in pyproject.toml: {sorted(set(pip_side) - set(conda_side))}; "
        f"only in environment.yml: {sorted(set(conda_side) - set(pip_side))}"
    )


def test_same_minimum_versions_in_both():
    pip_side, conda_side = pyproject_requirements(), environment_requirements()
    differing = {
        name: (pip_side[name], conda_side.get(name))
        for name in pip_side
        if pip_side[name] != conda_side.get(name)
    }
    assert not differing, f"version bounds differ (pyproject, environment.yml): {differing}"


def test_python_versions_agree():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda_python = next(s for s in env["dependencies"] if str(s).startswith("python"))
    minimum = project["requires-python"].removeprefix(">=")
    assert f">={minimum}" in conda_python


def test_environment_installs_digitrec_itself():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_items = next(item["pip"] for item in env["dependencies"] if isinstance(item, dict))
    assert "-e ." in pip_items


def test_environment_pip_list_holds_only_what_a_requirements_file_accepts():
    """conda hands the `pip:` list to pip as a requirements file, where most of pip's options
    (`--no-deps` among them) are an error that stops `conda env create`."""
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_items = next(item["pip"] for item in env["dependencies"] if isinstance(item, dict))
    options = [item for item in pip_items if item.startswith("-")]
    named = [item.split()[0].split("=")[0] for item in options]
    assert all(name in REQUIREMENTS_FILE_OPTIONS for name in named), options


# The options pip accepts in a requirements file that this project might need.
REQUIREMENTS_FILE_OPTIONS = ("-e", "--editable", "--index-url", "--extra-index-url", "--pre")


def _make_plan(target: str, env: dict[str, str]) -> str:
    """What `make TARGET` would run (`make -n`), with `env` added to the environment."""
    if shutil.which("make") is None:  # pragma: no cover
        pytest.skip("make is not installed")
    # Without the variables under test, nor those an outer make (`make test`) hands down.
    names = ("DIGITREC_MODELS", "DIGITREC_MODEL", "MODEL", "MODELS_DIR")
    names += ("MAKEFLAGS", "MFLAGS", "MAKEOVERRIDES", "MAKELEVEL", "GNUMAKEFLAGS")
    clean = {k: v for k, v in os.environ.items() if k not in names}
    done = subprocess.run(
        ["make", "-n", target, "USE_CONDA=1"],
        cwd=ROOT,
        env=clean | env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_make_trains_into_the_folder_the_notebooks_and_the_app_read(tmp_path, monkeypatch):
    assert '--out "models/seed_cnn.keras"' in _make_plan("train-seed", {})
    assert '--out "models/cnn.keras"' in _make_plan("train", {})
    folder = tmp_path / "class models"
    monkeypatch.setenv("DIGITREC_MODELS", str(folder))
    monkeypatch.delenv("DIGITREC_MODEL", raising=False)
    plan = _make_plan("train", {"DIGITREC_MODELS": str(folder)})
    assert f'--out "{settings.recommended_model_path()}"' in plan
    plan = _make_plan("train-seed", {"DIGITREC_MODELS": str(folder)})
    assert f'--out "{settings.models_dir() / "seed_cnn.keras"}"' in plan
    one = tmp_path / "mine.keras"
    monkeypatch.setenv("DIGITREC_MODEL", str(one))
    plan = _make_plan("train", {"DIGITREC_MODELS": str(folder), "DIGITREC_MODEL": str(one)})
    assert f'--out "{settings.recommended_model_path()}"' in plan
    # a folder given from home, as on a classroom server, is each learner's own
    plan = _make_plan("train-seed", {"DIGITREC_MODELS": "~/digitrec-models", "HOME": "/home/ada"})
    assert '--out "/home/ada/digitrec-models/seed_cnn.keras"' in plan


def test_fast_mode_keeps_the_models_it_trains_apart_from_the_lessons(tmp_path, monkeypatch):
    monkeypatch.setenv("DIGITREC_MODELS", str(tmp_path))
    monkeypatch.delenv("DIGITREC_MODEL", raising=False)
    monkeypatch.setenv("DIGITREC_FAST", "0")
    lesson = (settings.course_model_path(), settings.quick_model_path())
    assert [path.parent for path in lesson] == [tmp_path, tmp_path]
    monkeypatch.setenv("DIGITREC_FAST", "1")
    quick_check = (settings.course_model_path(), settings.quick_model_path())
    assert [path.parent for path in quick_check] == [tmp_path / "fast-mode"] * 2
    assert [path.name for path in quick_check] == [path.name for path in lesson]
    # the recommended model is never the course's to write, in either mode
    assert settings.recommended_model_path() == tmp_path / "cnn.keras"


def test_a_relative_models_folder_is_the_same_folder_for_make_and_for_a_notebook(monkeypatch):
    monkeypatch.chdir(ROOT / "notebooks")  # where a notebook's kernel runs
    monkeypatch.setenv("DIGITREC_MODELS", "class-models")
    monkeypatch.delenv("DIGITREC_MODEL", raising=False)
    assert settings.models_dir() == ROOT / "class-models"
    assert settings.recommended_model_path() == ROOT / "class-models" / "cnn.keras"
    plan = _make_plan("train-seed", {"DIGITREC_MODELS": "class-models"})  # make runs in ROOT
    assert '--out "class-models/seed_cnn.keras"' in plan
    monkeypatch.setenv("DIGITREC_MODEL", "elsewhere/mine.keras")
    assert settings.recommended_model_path() == ROOT / "elsewhere" / "mine.keras"
