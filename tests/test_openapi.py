"""openapi.yaml is a valid OpenAPI 3.1 document and agrees with the code it describes."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import yaml
from marshmallow import Schema, fields, validate
from openapi_spec_validator import validate as validate_spec
from werkzeug.wrappers import Response

from fixtures_api import REPO, SHORT_TEXT
from openapi_check import SPEC_PATH, check_response
from service.blueprints.docs import openapi_text
from service.schemas import NOT_BLANK, ArticleSubmissionSchema, ClaimsQuerySchema
from service.submission import IDEMPOTENCY_KEY
from workers.claims import ClaimSchema


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))


def resolve(spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = spec["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    return node


def nullable(node: dict[str, Any]) -> bool:
    types = node.get("type")
    return "null" in types if isinstance(types, list) else any(o.get("type") == "null" for o in node.get("oneOf", []))


def non_null(spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    options = [o for o in node.get("oneOf", []) if o.get("type") != "null"]
    return resolve(spec, options[0] if options else node)


def assert_same_shape(spec: dict[str, Any], node: dict[str, Any], schema: Schema, where: str) -> None:
    """Field names, required fields, nullability, enums and nesting agree, recursively."""
    node = resolve(spec, node)
    assert set(node["properties"]) == set(schema.fields), where
    assert set(node.get("required", [])) == {n for n, f in schema.fields.items() if f.required}, where
    for name, field in schema.fields.items():
        prop, at = node["properties"][name], f"{where}.{name}"
        assert nullable(prop) == field.allow_none, at
        target = non_null(spec, prop)
        one_of = [v for v in field.validators if isinstance(v, validate.OneOf)]
        if one_of:
            assert set(target["enum"]) == set(one_of[0].choices), at
        if isinstance(field, fields.Nested):
            assert_same_shape(spec, target, field.schema, at)
        elif isinstance(field, fields.List) and isinstance(field.inner, fields.Nested):
            assert_same_shape(spec, target["items"], field.inner.schema, at)


def test_spec_is_valid_openapi_3_1(spec):
    assert spec["openapi"].startswith("3.1")
    validate_spec(spec)


def test_claim_schema_matches_the_claim_model(spec):
    assert_same_shape(spec, spec["components"]["schemas"]["Claim"], ClaimSchema(), "Claim")


def test_submission_schema_matches_the_request_schema(spec):
    node = spec["components"]["schemas"]["ArticleSubmission"]
    assert set(node["properties"]) == set(ArticleSubmissionSchema().fields)
    assert [option["required"] for option in node["anyOf"]] == [["text"], ["html"], ["url"]]
    assert node["properties"]["language"]["enum"] == ["en"]


def test_the_spec_patterns_are_the_ones_the_code_applies(spec):
    bodies = spec["components"]["requestBodies"]["Article"]["content"]
    assert spec["components"]["schemas"]["ArticleSubmission"]["properties"]["text"]["pattern"] == NOT_BLANK.pattern
    assert bodies["text/plain"]["schema"]["pattern"] == NOT_BLANK.pattern
    header = spec["components"]["parameters"]["IdempotencyKey"]["schema"]["pattern"]
    assert header == "^" + IDEMPOTENCY_KEY.pattern.replace("(", "").replace(")", "") + "$"


def test_claims_query_parameters_match_the_query_schema(spec):
    params = spec["paths"]["/v1/articles/{article_id}/claims"]["get"]["parameters"]
    query = {p["name"] for p in params if p.get("in") == "query"}
    assert query == set(ClaimsQuerySchema().fields)


def test_every_route_is_documented_and_every_documented_route_exists(app, spec):
    routes = set()
    for rule in app.url_map.iter_rules():
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            routes.add((path.replace("{path}", "{asset}"), method.lower()))
    documented = {(path, method) for path, item in spec["paths"].items() for method in item if method != "parameters"}
    assert routes == documented


def test_the_package_serves_the_repository_spec():
    assert openapi_text() == (REPO / "openapi.yaml").read_text(encoding="utf-8")
    assert (REPO / "service" / "openapi.yaml").resolve() == (REPO / "openapi.yaml").resolve()


def test_the_response_check_rejects_a_response_that_breaks_the_spec(client, work_off):
    article_id = client.post("/v1/articles", json={"text": SHORT_TEXT}).get_json()["id"]
    work_off()
    good = client.get(f"/v1/articles/{article_id}")
    body = good.get_json()
    for broken in ({**body, "status": "finished"}, {k: v for k, v in body.items() if k != "created_at"}):
        bad = Response(json.dumps(broken), status=200, mimetype="application/json")
        bad.request = good.request
        with pytest.raises(Exception, match="(?i)invalid|not valid"):
            check_response(bad)
    claim_without_content = {**body, "claims": [{k: v for k, v in body["claims"][0].items() if k != "content"}]}
    bad = Response(json.dumps(claim_without_content), status=200, mimetype="application/json")
    bad.request = good.request
    with pytest.raises(Exception, match="(?i)invalid|not valid"):
        check_response(bad)
