"""Every error the API gives is JSON `{"error": "<what was wrong>"}`, never a traceback.

HTTP errors raised by Flask and Werkzeug themselves (404, 405, 413, ...) get the same shape
on API routes; anything unexpected is logged in full on the server and answered with a
short 500 that reveals nothing of the code. One exception: under `python -m app`, waitress
refuses a body over the limit before the app sees any of it, with its own plain-text 413
(`serve.body_limit`); the page says the picture is too large for that one too.
"""

from __future__ import annotations

from flask import Flask, Response, current_app, jsonify, request
from werkzeug.exceptions import HTTPException

# Clearer words than Werkzeug's defaults for the errors a client of this API meets.
MESSAGES = {
    404: "no such endpoint: the API is POST /api/predict, POST /api/number, GET /api/models, "
    "GET /healthz and, when a class collects drawings, POST /api/collect",
    413: "the request body is too large",
    415: "expected Content-Type: application/json",
}


class ApiError(Exception):
    """A request the API refuses: the status code and a message for the person sending it."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def init_app(app: Flask) -> None:
    app.register_error_handler(ApiError, _api_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected_error)


def error_response(status: int, message: str) -> tuple[Response, int]:
    return jsonify(error=message), status


def is_api_path(path: str) -> bool:
    """Whether a path is the API's, however it is written: "/api", "//api/predict" and
    "/healthz/" are answered in JSON too."""
    tidy = "/" + "/".join(part for part in path.split("/") if part)
    return tidy in ("/api", "/healthz") or tidy.startswith("/api/")


def _is_api_request() -> bool:
    return is_api_path(request.path)


def _api_error(exc: ApiError) -> tuple[Response, int]:
    return error_response(exc.status, exc.message)


def _http_error(exc: HTTPException) -> Response | tuple[Response, int]:
    if not _is_api_request():
        return exc  # the page routes keep Werkzeug's small HTML error pages
    status = exc.code or 500
    message = MESSAGES.get(status) or (exc.description or exc.name)
    if status == 413:
        limit = current_app.config.get("MAX_CONTENT_LENGTH")
        if limit:
            message = f"the request body is too large: the limit is {limit:,} bytes"
    allowed = getattr(exc, "valid_methods", None) if status == 405 else None
    if allowed:
        message = f"{request.method} is not allowed on {request.path}; use {', '.join(allowed)}"
    response, status = error_response(status, message)
    if allowed:
        response.headers["Allow"] = ", ".join(allowed)
    return response, status


def _unexpected_error(exc: Exception) -> Response | tuple[Response, int]:
    current_app.logger.exception("unexpected error on %s %s", request.method, request.path)
    if not _is_api_request():
        return Response("Internal server error", status=500, mimetype="text/plain")
    return error_response(500, "internal server error: the details are in the server's log")
