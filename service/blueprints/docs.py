"""The API's documentation: the OpenAPI file, Swagger UI, and the problem type pages.

Swagger UI's files come from the installed ``flask-swagger-ui`` package, so the page
works without internet access.
"""

from __future__ import annotations

from functools import cache
from html import escape
from importlib.resources import files

from flask import Blueprint, Flask, Response, abort
from flask_swagger_ui import get_swaggerui_blueprint

from service.problems import PROBLEM_TYPE_PREFIX, PROBLEM_TYPES

bp = Blueprint("docs", __name__)

DOCS_PATH = "/docs"
SPEC_PATH = "/openapi.yaml"
SPEC_MEDIA_TYPE = "application/yaml"


@cache
def openapi_text() -> str:
    """The repository's openapi.yaml (``service/openapi.yaml`` links to it, so packages carry it)."""
    return files("service").joinpath("openapi.yaml").read_text(encoding="utf-8")


@bp.get(SPEC_PATH)
def openapi_yaml() -> Response:
    return Response(openapi_text(), mimetype=SPEC_MEDIA_TYPE)


@bp.get(PROBLEM_TYPE_PREFIX + "<slug>")
def problem_type(slug: str) -> Response:
    problem = PROBLEM_TYPES.get(slug) or abort(404)
    page = (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{escape(problem.title)}</title>"
        f"</head><body><h1>{escape(problem.title)}</h1><p>{escape(problem.description)}</p>"
        f"<p><a href='{DOCS_PATH}'>API documentation</a></p></body></html>"
    )
    return Response(page, mimetype="text/html")


def register_docs(app: Flask) -> None:
    """The spec and problem pages, plus Swagger UI at /docs (and its assets under /docs/)."""
    app.register_blueprint(bp)
    swagger_ui = get_swaggerui_blueprint(
        DOCS_PATH, SPEC_PATH, config={"app_name": "Claimwire API"}, blueprint_name="swagger_ui"
    )
    app.register_blueprint(swagger_ui)
    # Serve the page at /docs itself rather than redirecting to /docs/.
    app.add_url_rule(DOCS_PATH, "swagger_ui_index", app.view_functions["swagger_ui.show"])
