"""Validates responses against openapi.yaml, so the spec and the code cannot drift apart.

:class:`CheckedClient` is a Flask test client that checks every response it receives;
:func:`check_requests_response` does the same for a ``requests`` response from a live
server. A response to a path or method the spec does not list (404, 405) must still be
an RFC 9457 problem, checked against the spec's ``Problem`` schema.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import requests
import yaml
from flask.testing import FlaskClient
from jsonschema import Draft202012Validator
from openapi_core import Config, OpenAPI
from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse
from openapi_core.contrib.werkzeug import WerkzeugOpenAPIRequest, WerkzeugOpenAPIResponse
from openapi_core.templating.paths.exceptions import OperationNotFound, PathNotFound
from werkzeug.test import TestResponse

from support import REPO

SPEC_PATH = REPO / "openapi.yaml"
PROBLEM_MEDIA_TYPE = "application/problem+json"


class _SentRequest(WerkzeugOpenAPIRequest):
    """The request of a test response; its body was consumed by the app and is not needed."""

    @property
    def body(self) -> bytes | None:
        return None


@cache
def openapi() -> OpenAPI:
    deserializers = {
        PROBLEM_MEDIA_TYPE: json.loads,
        "application/ld+json": json.loads,
        "application/yaml": bytes.decode,
        "application/x-ndjson": lambda body: [json.loads(line) for line in body.splitlines() if line.strip()],
    }
    return OpenAPI.from_file_path(str(SPEC_PATH), config=Config(extra_media_type_deserializers=deserializers))


@cache
def schema_validator(name: str) -> Draft202012Validator:
    """A JSON Schema validator for one of the spec's component schemas (its references resolved)."""
    spec = yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))
    return Draft202012Validator({"$ref": f"#/components/schemas/{name}", "components": spec["components"]})


def check_extraction(extraction: dict[str, Any]) -> None:
    """Raise unless a dumped extraction is what the API serves: every claim matches the spec's Claim."""
    assert set(extraction) == {"detected_language", "extractor_version", "claims"}, set(extraction)
    for claim in extraction["claims"]:
        schema_validator("Claim").validate(claim)


def _check(oa_request: Any, oa_response: Any, status: int, content_type: str, body: bytes) -> None:
    try:
        openapi().validate_response(oa_request, oa_response)
    except (PathNotFound, OperationNotFound):
        assert content_type == PROBLEM_MEDIA_TYPE, f"undocumented {status} response is {content_type}"
        problem = json.loads(body)
        schema_validator("Problem").validate(problem)
        assert problem["status"] == status


def check_response(response: TestResponse) -> None:
    """Raise unless a Flask test response matches the spec (or is a problem for an unlisted route)."""
    _check(
        _SentRequest(response.request),
        WerkzeugOpenAPIResponse(response),
        response.status_code,
        response.mimetype,
        response.get_data(),
    )


def check_requests_response(response: requests.Response) -> None:
    """The same check for a response from a live server (gunicorn over loopback)."""
    _check(
        RequestsOpenAPIRequest(response.request),
        RequestsOpenAPIResponse(response),
        response.status_code,
        response.headers.get("Content-Type", "").split(";")[0].strip(),
        response.content,
    )


class CheckedClient(FlaskClient):
    """A Flask test client that validates every response against openapi.yaml."""

    def open(self, *args: Any, **kwargs: Any) -> TestResponse:
        response = super().open(*args, **kwargs)
        check_response(response)
        return response
