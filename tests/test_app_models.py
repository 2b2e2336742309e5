"""Choosing the model: GET /api/models, POST /api/predict with "model", the page's chooser.

Real Keras models saved into a temporary models folder: a copy of the small trained model,
tiny models that always answer one digit (zero weights, a bias towards it), a model that is
not a digit model, a corrupt file, links into and out of the folder, a subfolder, and files
whose names are not model names.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
from pathlib import Path

import keras
import numpy as np
import pytest
from test_app_api import assert_error, data_url, drawing, post
from test_app_pages import by_id, parse

from app import create_app, model
from app.model import NAME_PATTERN, default_name

ALWAYS3 = {"arch": "constant", "test_accuracy": 0.1135, "params": 7850, "created": "2024-01-02"}
SHIPPED = {"arch": "improved", "test_accuracy": 0.9962, "params": 1234, "created": "2024-01-01"}
SERVED = ["shipped", "alias", "always3", "broken", "cnn", "leaky", "mine", "notadigit"]
FIELDS = ["name", "arch", "test_accuracy", "params", "created", "available", "problem"]


def save_constant_model(
    path: Path, digit: int, record: dict | None = None, shape: tuple = (28, 28, 1)
) -> Path:
    """A real Keras model that answers `digit` whatever it is shown, saved with its record."""
    network = keras.Sequential(
        [keras.Input(shape), keras.layers.Flatten(), keras.layers.Dense(10, activation="softmax")]
    )
    kernel, bias = network.layers[-1].get_weights()
    bias[:] = 0
    bias[digit] = 10
    network.layers[-1].set_weights([np.zeros_like(kernel), bias])
    network.save(path)
    if record is not None:
        path.with_suffix(".json").write_text(json.dumps(record))
    return path


def copy_model(source: Path, target: Path, record: dict | None = None) -> Path:
    shutil.copy(source, target)
    sidecar = json.loads(source.with_suffix(".json").read_text())
    target.with_suffix(".json").write_text(json.dumps(record or sidecar))
    return target


@pytest.fixture(scope="module")
def places(tmp_path_factory, trained_model_path) -> dict[str, Path]:
    """A models folder with models of every kind, a shipped model, and a folder outside."""
    root = tmp_path_factory.mktemp("catalogue")
    folder, outside, pretrained = root / "models", root / "outside", root / "pretrained"
    for path in (folder, outside, pretrained, folder / "sub"):
        path.mkdir()
    shipped = copy_model(trained_model_path, pretrained / "cnn.keras", SHIPPED)
    copy_model(trained_model_path, folder / "mine.keras")
    save_constant_model(folder / "always3.keras", 3, ALWAYS3)
    (folder / "alias.keras").symlink_to(folder / "always3.keras")  # a link inside: served
    (folder / "broken.keras").write_bytes(b"this is not a keras file")
    save_constant_model(folder / "notadigit.keras", 4, shape=(32, 32, 1))
    # A model whose record is a link out of the folder: the model is served, the record not.
    save_constant_model(folder / "leaky.keras", 6)
    (outside / "secret.json").write_text(json.dumps({"arch": "SECRET"}))
    (folder / "leaky.json").symlink_to(outside / "secret.json")
    # Not served: a link leading out, a subfolder, names that are no model names.
    save_constant_model(outside / "always5.keras", 5, {"arch": "outside"})
    (folder / "escape.keras").symlink_to(outside / "always5.keras")
    save_constant_model(folder / "sub" / "deep.keras", 5)
    for name in ("Upper", "two.dots", "shipped", "with space"):
        shutil.copy(folder / "always3.keras", folder / f"{name}.keras")
    (folder / "notes.txt").write_text("not a model")
    return {"folder": folder, "outside": outside, "shipped": shipped, "root": root}


def make_app(places, model_path, **config):
    return create_app(
        {
            "TESTING": True,
            "MODEL_PATH": str(model_path),
            "MODELS_DIR": str(places["folder"]),
            "SHIPPED_MODEL_PATH": str(places["shipped"]),
            **config,
        }
    )


@pytest.fixture(scope="module")
def chooser(places, trained_model_path):
    """A client of the app whose default is the trained model "cnn", with the folder above."""
    return make_app(places, trained_model_path).test_client()


@pytest.fixture(scope="module")
def seven(mnist) -> str:
    (_, _), (_, y_test) = mnist
    assert y_test[0] == 7
    return data_url(drawing(mnist, 0))


DEFAULT = object()  # `choose` sends no "model" field


def choose(client, image: str, name=DEFAULT):
    return post(client, {"image": image} if name is DEFAULT else {"image": image, "model": name})


def loaded_paths() -> set[str]:
    return {key[0] for key in model._loaded}


# --- listing ------------------------------------------------------------------------------


def test_listing_names_the_models_with_their_records(chooser, places, trained_model_path):
    response = chooser.get("/api/models")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert list(body) == ["default", "models"]
    assert body["default"] == "cnn"
    assert [m["name"] for m in body["models"]] == SERVED
    assert all(list(m) == FIELDS for m in body["models"])
    about = {m["name"]: m for m in body["models"]}

    trained = json.loads(trained_model_path.with_suffix(".json").read_text())
    for name in ("cnn", "mine"):
        assert about[name]["test_accuracy"] == pytest.approx(trained["test_accuracy"])
        assert about[name]["arch"] == trained["arch"]
        assert about[name]["available"] is True and about[name]["problem"] is None
    for name in ("always3", "alias"):
        assert {k: about[name][k] for k in ALWAYS3} == ALWAYS3
    assert about["shipped"]["test_accuracy"] == SHIPPED["test_accuracy"]
    assert about["leaky"]["arch"] is None  # its record is a link out of the folder: not read
    assert about["notadigit"]["available"] is True  # not known until someone chooses it
    broken = about["broken"]
    assert broken["available"] is False and broken["arch"] is None
    assert "broken.keras" in broken["problem"] and "could not be loaded" in broken["problem"]
    assert str(places["root"]) not in response.get_data(as_text=True)


def test_a_record_with_no_number_for_a_number_is_listed_as_strict_json(places, trained_model_path):
    folder = places["root"] / "odd-records"
    folder.mkdir()
    save_constant_model(folder / "odd.keras", 2)
    (folder / "odd.json").write_text('{"test_accuracy": NaN, "params": Infinity}')  # Python's json
    client = make_app(places, trained_model_path, MODELS_DIR=str(folder)).test_client()

    def strict(constant: str):
        raise AssertionError(f"{constant} is not JSON")

    body = json.loads(client.get("/api/models").get_data(as_text=True), parse_constant=strict)
    odd = {m["name"]: m for m in body["models"]}["odd"]
    assert odd["test_accuracy"] is None and odd["params"] is None


def test_listing_loads_no_model(places, trained_model_path, seven):
    """Only names and records are read: a model is loaded when a request first chooses it."""
    folder = places["root"] / "lazy"
    folder.mkdir()
    fresh = save_constant_model(folder / "fresh.keras", 2, {"arch": "constant"})
    client = make_app(places, trained_model_path, MODELS_DIR=str(folder)).test_client()
    assert "fresh" in [m["name"] for m in client.get("/api/models").get_json()["models"]]
    assert client.get("/").status_code == 200
    assert str(fresh.resolve()) not in loaded_paths()
    assert choose(client, seven, "fresh").get_json()["digit"] == 2
    assert str(fresh.resolve()) in loaded_paths()


def test_no_models_folder_lists_the_default_and_the_shipped_model(places, trained_model_path):
    client = make_app(places, trained_model_path, MODELS_DIR=str(places["root"] / "none"))
    body = client.test_client().get("/api/models").get_json()
    assert [m["name"] for m in body["models"]] == ["shipped", "cnn"]


def test_the_default_is_named_shipped_when_it_is_the_shipped_file(places):
    client = make_app(places, places["shipped"]).test_client()
    body = client.get("/api/models").get_json()
    assert body["default"] == "shipped"
    assert [m["name"] for m in body["models"]].count("shipped") == 1
    health = client.get("/healthz").get_json()
    assert health["model"] == "shipped"
    assert health["test_accuracy"] == SHIPPED["test_accuracy"]
    assert health["arch"] == SHIPPED["arch"]


def test_default_names(tmp_path):
    shipped = tmp_path / "pretrained" / "cnn.keras"
    assert default_name(shipped, shipped) == "shipped"
    assert default_name(tmp_path / "models" / "cnn.keras", shipped) == "cnn"
    assert default_name(tmp_path / "My Model.keras", shipped) == "default"
    assert default_name(tmp_path / "shipped.keras", shipped) == "default"


def test_name_pattern():
    assert NAME_PATTERN.fullmatch("cnn_mine-2")
    for bad in ("", "-x", "_x", "Cnn", "a.b", "a/b", "x" * 65, "\u043c"):
        assert not NAME_PATTERN.fullmatch(bad), bad


# --- choosing -----------------------------------------------------------------------------


def test_choosing_a_model_by_name_gives_that_models_answer(chooser, seven):
    default = choose(chooser, seven).get_json()
    assert (default["digit"], default["model"]) == (7, "cnn")
    for name in ("always3", "alias"):
        body = choose(chooser, seven, name).get_json()
        assert (body["digit"], body["model"]) == (3, name)
        assert body["confidence"] > 0.99
    for name in ("cnn", "mine", "shipped"):  # the same weights: the same reading
        body = choose(chooser, seven, name).get_json()
        assert body["model"] == name
        np.testing.assert_allclose(body["probabilities"], default["probabilities"], atol=1e-6)
    body = choose(chooser, seven, "leaky").get_json()
    assert (body["digit"], body["model"]) == (6, "leaky")


def test_a_chosen_model_is_loaded_once_and_kept(places, trained_model_path, seven, monkeypatch):
    folder = places["root"] / "once"
    folder.mkdir()
    save_constant_model(folder / "once.keras", 8)
    client = make_app(places, trained_model_path, MODELS_DIR=str(folder)).test_client()
    loads = []
    real = model.Predictor.load
    monkeypatch.setattr(model.Predictor, "load", lambda *a, **k: loads.append(a) or real(*a, **k))
    for _ in range(3):
        assert choose(client, seven, "once").get_json()["digit"] == 8
    assert len(loads) == 1


def test_requests_choosing_different_models_at_once_get_their_own_answers(chooser, seven):
    names = ["cnn", "always3", "leaky", "mine"] * 2
    expected = {"cnn": 7, "always3": 3, "leaky": 6, "mine": 7}
    got: dict[int, set] = {}

    def worker(k: int) -> None:
        got[k] = {
            (body["model"], body["digit"])
            for body in (choose(chooser, seven, names[k]).get_json() for _ in range(4))
        }

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(len(names))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert got == {k: {(name, expected[name])} for k, name in enumerate(names)}


def test_a_model_saved_while_the_app_runs_is_listed_and_served(places, trained_model_path, seven):
    folder = places["root"] / "later"
    folder.mkdir()
    client = make_app(places, trained_model_path, MODELS_DIR=str(folder)).test_client()
    assert_error(choose(client, seven, "later"), 404)
    save_constant_model(folder / "later.keras", 1)
    assert "later" in [m["name"] for m in client.get("/api/models").get_json()["models"]]
    assert choose(client, seven, "later").get_json()["digit"] == 1


# --- refused ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["nope", "escape", "deep", "upper", "two", "always5", "secret"])
def test_an_unknown_name_is_404_naming_the_models(chooser, seven, name):
    message = assert_error(choose(chooser, seven, name), 404, f'"{name}"', "GET /api/models")
    assert ", ".join(SERVED) in message


@pytest.mark.parametrize(
    "name",
    [
        "../x",
        "/etc/passwd",
        "a/b",
        "sub/deep",
        "%2e%2e",
        "..",
        ".",
        "",
        "cnn.keras",
        "../outside/always5",
        "..\\always3",
        "C:\\models\\cnn",
        "~",
        "always3/",
        "always3\n",
        " always3",
        "Always3",
        "\u0430lways3",  # a Cyrillic a
        "always3\x00",
        "x" * 65,
        "x" * 10_000,
        "file:///etc/passwd",
    ],
)
def test_a_value_that_is_no_model_name_is_400(chooser, seven, name):
    message = assert_error(choose(chooser, seven, name), 400, "is not a model name", "the models")
    assert ", ".join(SERVED) in message
    assert "x" * 41 not in message  # a long value is not echoed in full


@pytest.mark.parametrize("value", [None, 7, 1.5, True, [], ["cnn"], {"name": "cnn"}])
def test_a_model_field_that_is_not_a_string_is_400(chooser, seven, value):
    assert_error(choose(chooser, seven, value), 400, 'field "model"', "a string")


def test_a_corrupt_model_is_503_and_the_others_still_work(chooser, places, seven):
    for _ in range(2):  # the failure is remembered, and said again
        message = assert_error(choose(chooser, seven, "broken"), 503, "could not be loaded")
        assert '"broken"' in message and str(places["root"]) not in message
    message = assert_error(choose(chooser, seven, "notadigit"), 503, "not a digit model")
    assert str(places["root"]) not in message
    about = {m["name"]: m for m in chooser.get("/api/models").get_json()["models"]}
    assert about["notadigit"]["available"] is False  # known now that it was tried
    assert choose(chooser, seven, "always3").get_json()["digit"] == 3
    assert choose(chooser, seven).get_json()["digit"] == 7
    assert chooser.get("/healthz").status_code == 200


def test_a_broken_model_replaced_by_a_good_one_is_served(places, trained_model_path, seven):
    folder = places["root"] / "fixed"
    folder.mkdir()
    target = folder / "fixme.keras"
    target.write_bytes(b"PK\x03\x04 half a zip")
    client = make_app(places, trained_model_path, MODELS_DIR=str(folder)).test_client()
    assert_error(choose(client, seven, "fixme"), 503)
    save_constant_model(target, 9)
    assert choose(client, seven, "fixme").get_json()["digit"] == 9


def test_the_default_model_retrained_while_the_app_runs_is_served_as_reported(places, seven):
    folder = places["root"] / "retrained"
    folder.mkdir()
    default = save_constant_model(folder / "mine.keras", 3, ALWAYS3)
    client = make_app(places, default, MODELS_DIR=str(folder)).test_client()
    assert choose(client, seven).get_json()["digit"] == 3
    retrained = save_constant_model(folder / "new.keras", 8, {**ALWAYS3, "test_accuracy": 0.5})
    os.replace(retrained, default)  # as `train.save_model` replaces a model: whole, at once
    os.replace(retrained.with_suffix(".json"), default.with_suffix(".json"))
    assert client.get("/healthz").get_json()["test_accuracy"] == 0.5
    assert choose(client, seven).get_json()["digit"] == 8
    assert choose(client, seven, "mine").get_json()["digit"] == 8
    default.write_bytes(b"PK\x03\x04 half written")  # meanwhile, the model loaded at the start
    assert choose(client, seven).get_json()["digit"] == 3


def test_a_missing_default_still_lets_a_request_choose_another(places, seven):
    client = make_app(places, places["root"] / "absent.keras").test_client()
    assert_error(choose(client, seven), 503, "no model is loaded", "absent.keras")
    assert choose(client, seven, "always3").get_json()["digit"] == 3
    about = {m["name"]: m for m in client.get("/api/models").get_json()["models"]}
    assert about["absent"]["available"] is False and "absent.keras" in about["absent"]["problem"]


# --- the page -----------------------------------------------------------------------------


def options(client) -> list[tuple[dict, str]]:
    """The chooser's <option> elements: (attributes, text) each."""
    from html.parser import HTMLParser

    found: list[tuple[dict, str]] = []

    class Reader(HTMLParser):
        def handle_starttag(self, tag, attrs):
            if tag == "option":
                found.append((dict(attrs), ""))

        def handle_data(self, data):
            if found and self.lasttag == "option" and data.strip():
                found[-1] = (found[-1][0], found[-1][1] + data.strip())

    Reader().feed(client.get("/").get_data(as_text=True))
    return found


def test_the_page_lets_you_choose_the_model(chooser):
    page = parse(chooser)
    tag, select = by_id(page, "model")
    assert tag == "select" and page.labels["model"] == "Model"
    assert select["aria-describedby"] == "model-info"
    listed = options(chooser)
    assert [attrs["value"] for attrs, _ in listed] == SERVED
    text = {attrs["value"]: words for attrs, words in listed}
    assert text["always3"] == "always3 \u2014 constant, 11.35%"
    assert text["shipped"] == "shipped \u2014 improved, 99.62%"
    assert text["broken"].endswith("(cannot be used)")
    state = {attrs["value"]: attrs for attrs, _ in listed}
    assert [name for name, attrs in state.items() if "selected" in attrs] == ["cnn"]
    about = {m["name"]: m for m in chooser.get("/api/models").get_json()["models"]}
    disabled = {name for name, attrs in state.items() if "disabled" in attrs}
    assert "broken" in disabled  # and "notadigit" once a request has tried it
    assert disabled == {name for name, m in about.items() if not m["available"]}
    assert "11.35%" in state["always3"]["data-info"]


def test_the_page_names_the_default_model_and_its_accuracy(places):
    client = make_app(places, places["shipped"]).test_client()
    html = client.get("/").get_data(as_text=True)
    assert (
        '<p id="model-info" class="model-info">Model \u201cshipped\u201d (improved): 99.62%' in html
    )
