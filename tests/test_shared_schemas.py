"""The request schemas are built once and shared: concurrent loads must not see each other's data."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from marshmallow import ValidationError

from service.schemas import ARTICLE_SUBMISSION, CLAIMS_QUERY


def _load_article(i: int) -> tuple[str, str | None]:
    body = {"text": f"Article {i} said so."} if i % 3 else {"text": "both", "html": "<p>both</p>"}
    try:
        loaded = ARTICLE_SUBMISSION.load(body)
    except ValidationError as error:
        return "invalid", str(sorted(error.messages))
    return loaded["text"], loaded["title"]


def test_concurrent_loads_of_the_shared_article_schema_each_get_their_own_result() -> None:
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(_load_article, range(600)))
    for i, (text, extra) in enumerate(results):
        if i % 3:
            assert (text, extra) == (f"Article {i} said so.", None)
        else:
            assert (text, extra) == ("invalid", "['html']")


def test_an_error_of_one_query_does_not_stay_on_the_shared_schema() -> None:
    with pytest.raises(ValidationError):
        CLAIMS_QUERY.load({"limit": "0"})
    assert CLAIMS_QUERY.load({"type": "direct"})["type"] == "direct"
