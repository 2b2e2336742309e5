"""create_app: configuration from defaults, test_config and the environment; security headers."""

from __future__ import annotations

import pytest

from app import CONTENT_SECURITY_POLICY, CROSS_ORIGIN_HEADERS, PERMISSIONS_POLICY, create_app
from app.model import current_slot
from digitrec import settings
from digitrec.constants import CANVAS_SIZE


def test_defaults(monkeypatch, trained_model_path):
    monkeypatch.setenv("DIGITREC_MODEL", str(trained_model_path))
    app = create_app({"TESTING": True})
    assert app.config["MODEL_PATH"] == str(settings.default_model_path())
    assert app.config["MODEL_PATH"] == str(trained_model_path)
    assert app.config["MAX_CONTENT_LENGTH"] == 1024 * 1024
    assert app.config["MAX_IMAGE_PIXELS"] == (2 * CANVAS_SIZE) ** 2  # twice the canvas each way
    assert app.config["LIVE_PREDICT"] is True
    assert not app.debug


def test_test_config_overrides(app, trained_model_path):
    assert app.testing
    assert app.config["MODEL_PATH"] == str(trained_model_path)
    with app.app_context():
        assert current_slot().predictor is not None
        assert current_slot().problem is None


def test_environment_overrides(monkeypatch, trained_model_path):
    monkeypatch.setenv("DIGITREC_MODEL_PATH", str(trained_model_path))
    monkeypatch.setenv("DIGITREC_MAX_CONTENT_LENGTH", "2048")
    monkeypatch.setenv("DIGITREC_MAX_IMAGE_PIXELS", "5000")
    monkeypatch.setenv("DIGITREC_LIVE_PREDICT", "false")
    monkeypatch.setenv("FLASK_SECRET_KEY", "not-used-but-read")
    app = create_app()
    assert app.config["MODEL_PATH"] == str(trained_model_path)
    assert app.config["MAX_CONTENT_LENGTH"] == 2048
    assert app.config["MAX_IMAGE_PIXELS"] == 5000
    assert app.config["LIVE_PREDICT"] is False
    assert app.config["SECRET_KEY"] == "not-used-but-read"
    response = app.test_client().post(
        "/api/predict", json={"image": "data:image/png;base64," + "A" * 4000}
    )
    assert response.status_code == 413
    assert "2,048" in response.get_json()["error"]
    page = app.test_client().get("/").get_data(as_text=True)
    assert 'id="live" type="checkbox" aria-describedby="live-help">' in page  # unchecked


def test_test_config_ignores_the_environment(monkeypatch, trained_model_path):
    monkeypatch.setenv("DIGITREC_MAX_CONTENT_LENGTH", "2048")
    app = create_app({"TESTING": True, "MODEL_PATH": str(trained_model_path)})
    assert app.config["MAX_CONTENT_LENGTH"] == 1024 * 1024


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("MAX_CONTENT_LENGTH", "lots"),
        ("MAX_CONTENT_LENGTH", 1.5),  # DIGITREC_MAX_CONTENT_LENGTH=1.5 arrives as a float
        ("MAX_CONTENT_LENGTH", True),
        ("MAX_IMAGE_PIXELS", 0),
        ("MAX_IMAGE_PIXELS", None),
    ],
)
def test_bad_settings_fail_at_start_with_a_clear_message(tmp_path, key, value):
    with pytest.raises(ValueError, match=key):
        create_app({"TESTING": True, "MODEL_PATH": str(tmp_path / "m.keras"), key: value})


def test_starts_without_a_model(tmp_path, caplog):
    app = create_app({"TESTING": True, "MODEL_PATH": str(tmp_path / "none.keras")})
    with app.app_context():
        assert current_slot().predictor is None
        assert "none.keras" in current_slot().problem
    assert "without a model" in caplog.text


def test_security_headers_on_every_response(client):
    for response in (client.get("/"), client.get("/static/script.js"), client.get("/healthz")):
        assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["Permissions-Policy"] == PERMISSIONS_POLICY
        for name, value in CROSS_ORIGIN_HEADERS.items():
            assert response.headers[name] == value
    assert "camera=()" in PERMISSIONS_POLICY and "microphone=()" in PERMISSIONS_POLICY
    assert CROSS_ORIGIN_HEADERS["Cross-Origin-Opener-Policy"] == "same-origin"
    assert "unsafe-inline" not in CONTENT_SECURITY_POLICY
    assert "unsafe-eval" not in CONTENT_SECURITY_POLICY
    assert "no-store" not in client.get("/static/style.css").headers.get("Cache-Control", "")
    assert client.get("/healthz").headers["Cache-Control"] == "no-store"


def test_the_flask_command_finds_the_app(monkeypatch, trained_model_path):
    """`flask --app app run` imports the package `app` and calls create_app()."""
    from flask.cli import ScriptInfo

    monkeypatch.setenv("DIGITREC_MODEL_PATH", str(trained_model_path))
    app = ScriptInfo(app_import_path="app").load_app()
    assert app.name == "app"
    assert app.test_client().get("/healthz").status_code == 200
