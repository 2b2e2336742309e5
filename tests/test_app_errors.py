"""app.errors: JSON errors on API routes, Werkzeug's own pages elsewhere, never a traceback."""

from __future__ import annotations

from flask import Blueprint

from app import create_app
from app.errors import ApiError


def test_api_error_is_json(client):
    response = client.get("/api/anything")
    assert response.status_code == 404
    assert response.get_json() == {
        "error": "no such endpoint: the API is POST /api/predict, POST /api/number, "
        "GET /api/models, GET /healthz and, when a class collects drawings, POST /api/collect"
    }
    assert response.headers["Cache-Control"] == "no-store"


def test_page_404_stays_html(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert response.mimetype == "text/html"


def _app_with_failing_routes(trained_model_path):
    app = create_app({"TESTING": True, "MODEL_PATH": str(trained_model_path)})
    bp = Blueprint("boom", __name__)

    @bp.get("/api/boom")
    def api_boom():
        raise KeyError("internal detail")

    @bp.get("/boom")
    def page_boom():
        raise KeyError("internal detail")

    @bp.get("/api/teapot")
    def api_teapot():
        raise ApiError(418, "short and stout")

    app.register_blueprint(bp)
    return app


def test_unexpected_errors_are_500_without_details(trained_model_path, caplog):
    client = _app_with_failing_routes(trained_model_path).test_client()
    api = client.get("/api/boom")
    assert api.status_code == 500
    assert api.get_json() == {"error": "internal server error: the details are in the server's log"}
    page = client.get("/boom")
    assert page.status_code == 500
    assert "internal detail" not in page.get_data(as_text=True)
    assert "Traceback" not in page.get_data(as_text=True)
    # ... but the server's log has the whole story.
    assert "KeyError" in caplog.text and "internal detail" in caplog.text


def test_api_error_carries_status_and_message(trained_model_path):
    response = _app_with_failing_routes(trained_model_path).test_client().get("/api/teapot")
    assert response.status_code == 418
    assert response.get_json() == {"error": "short and stout"}
