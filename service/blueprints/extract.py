"""POST /v1/extract: submit and wait a little, for curl and short texts."""

from __future__ import annotations

from flask import Blueprint, Response, request

from service.access import caller
from service.blueprints.articles import submission_response
from service.context import services
from service.problems import EXTRACTION_FAILED, ProblemError, problem_body, problem_response
from service.representations import article_path
from service.store import DONE, FAILED, PENDING, Submission
from service.submission import submit_article

bp = Blueprint("extract", __name__)


@bp.post("/v1/extract")
def extract() -> Response:
    """200 with the claims when done within ``CLAIMWIRE_EXTRACT_WAIT`` seconds, else 202."""
    submission = submit_article(request)
    article = submission.article
    if article.status in PENDING:
        ext = services()
        settled = ext.store.wait_until_settled(article.id, ext.config.extract_wait, caller().owner)
        if settled is None:
            raise ProblemError(404, detail=f"The article {article.id!r} was deleted while extracting.")
        result = ext.store.get_result(article.id) if settled.status == DONE else None
        submission = Submission(article=settled, result=result)
        article = settled
    if article.status == FAILED:
        problem = article.problem or problem_body(500, EXTRACTION_FAILED)
        return problem_response({**problem, "instance": article_path(article.id)})
    return submission_response(submission)
