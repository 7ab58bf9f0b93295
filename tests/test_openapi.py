"""openapi.yaml is a valid OpenAPI 3.1 document and agrees with the code it describes."""

from __future__ import annotations

import dataclasses
import json
import re
import typing
from typing import Any, Literal

import pytest
import yaml
from openapi_spec_validator import validate as validate_spec
from werkzeug.wrappers import Response

from service.blueprints.docs import openapi_text
from service.schemas import NOT_BLANK, ArticleSubmissionSchema, ClaimsQuerySchema
from service.store import ArticleStatus
from service.submission import IDEMPOTENCY_KEY
from support.fixtures_api import REPO, SHORT_TEXT
from support.openapi_check import SPEC_PATH, check_response
from workers.claims import Claim, field_types, without_none

JSON_TYPES = {str: "string", int: "integer", float: "number", bool: "boolean"}


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


def json_types(node: dict[str, Any]) -> set[str]:
    types = node.get("type", [])
    return set([types] if isinstance(types, str) else types) - {"null"}


def assert_same_shape(spec: dict[str, Any], node: dict[str, Any], model: type, where: str) -> None:
    """Field names, required fields, nullability, enums, types and nesting agree with the
    model dataclass, recursively. Every field is always served; the spec requires those
    that are neither nullable nor lists."""
    node = resolve(spec, node)
    hints = field_types(model)
    assert list(node["properties"]) == list(hints), where
    for name, hint in hints.items():
        prop, at = node["properties"][name], f"{where}.{name}"
        inner, optional = without_none(hint)
        origin = typing.get_origin(inner)
        assert nullable(prop) == optional, at
        assert (name in node.get("required", [])) == (not optional and origin is not list), at
        target = non_null(spec, prop)
        if origin is Literal:
            assert target["enum"] == list(typing.get_args(inner)), at
        elif dataclasses.is_dataclass(inner):
            assert_same_shape(spec, target, inner, at)
        elif origin is list:
            assert json_types(target) == {"array"}, at
            (item,) = typing.get_args(inner)
            if dataclasses.is_dataclass(item):
                assert_same_shape(spec, target["items"], item, at)
            else:  # a tuple of scalars
                members = [JSON_TYPES[t] for t in typing.get_args(item)]
                assert [p["type"] for p in target["items"]["prefixItems"]] == members, at
                assert target["items"]["minItems"] == target["items"]["maxItems"] == len(members), at
        else:
            assert json_types(target) == {JSON_TYPES[inner]}, at


def test_spec_is_valid_openapi_3_1(spec):
    assert spec["openapi"].startswith("3.1")
    validate_spec(spec)


def test_claim_schema_matches_the_claim_model(spec):
    assert_same_shape(spec, spec["components"]["schemas"]["Claim"], Claim, "Claim")


def test_the_status_enum_is_the_code_s(spec):
    assert spec["components"]["schemas"]["ArticleStatus"]["enum"] == list(ArticleStatus)


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
    """What the installed package serves is the repository's file: the same text, and through
    the symlink (a copy put in its place would pass the first check and drift later)."""
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
