"""/v1/batches: many articles in one request, their progress, and their claims as NDJSON."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from flask import Blueprint, Response, current_app, g, jsonify
from marshmallow import ValidationError

from service.access import caller
from service.batches import WRITE_CHUNK, Batch, BatchStore, MalformedItem, batch_items, new_batch
from service.context import services
from service.problems import MALFORMED_BODY, QUEUE_FULL, VALIDATION, ProblemError, problem_body
from service.submission import RETRY_FULL_QUEUE_AFTER_SECONDS, submit_fields

bp = Blueprint("batches", __name__, url_prefix="/v1/batches")

BATCH_ID = re.compile(r"[0-9a-f]{32}")
SUBMIT_THREADS = 8


@bp.post("")
def create() -> Response:
    """Submit every item on its own; a bad item is reported, the others go on."""
    items = batch_items()
    ext = services()
    if ext.jobs.queue.count + len(items) > ext.config.max_queue_depth:
        raise ProblemError(
            503, QUEUE_FULL,
            f"The queue cannot take {len(items)} more articles now (at most {ext.config.max_queue_depth} wait).",
            headers={"Retry-After": RETRY_FULL_QUEUE_AFTER_SECONDS},
        )
    store = _store()
    batch_id = store.new_id()
    entries = _submit_all(items)
    for start in range(0, len(entries), WRITE_CHUNK):
        store.append_items(batch_id, entries[start:start + WRITE_CHUNK])
    errors = [e for e in entries if "problem" in e]
    batch = new_batch(batch_id, _owner(), len(items), len(errors))
    store.publish(batch)
    response = jsonify({**_view(batch), "errors": errors})
    response.status_code = 202
    response.headers["Location"] = _path(batch_id)
    return response


@bp.get("/<batch_id>")
def show(batch_id: str) -> Response:
    batch = _batch(batch_id)
    counts = _store().counts(batch.id)
    return jsonify({**_view(batch), "counts": counts, "settled": counts["queued"] + counts["running"] == 0})


@bp.get("/<batch_id>/claims")
def claims(batch_id: str) -> Response:
    """NDJSON, one line per item in order, read from Redis a chunk at a time as it is sent."""
    batch = _batch(batch_id)
    lines = _store().results(batch.id)

    def generate() -> Iterator[str]:
        for line in lines:
            yield json.dumps(line, separators=(",", ":")) + "\n"

    return Response(generate(), mimetype="application/x-ndjson")


def _submit_all(items: list[Any]) -> list[dict[str, Any]]:
    """Each item's entry, in order. ``SUBMIT_THREADS`` submit at once: a submission is a
    few Redis round trips, so a 2,000-item batch would otherwise wait on them one by one."""
    app, who = current_app._get_current_object(), caller()

    def submit(indexed: tuple[int, Any]) -> dict[str, Any]:
        with app.app_context():
            g.caller = who  # the batch's caller owns every item
            return _submit(*indexed)

    with ThreadPoolExecutor(SUBMIT_THREADS) as pool:
        return list(pool.map(submit, enumerate(items)))


def _submit(index: int, item: Any) -> dict[str, Any]:
    try:
        if isinstance(item, MalformedItem):
            raise ProblemError(400, MALFORMED_BODY, item.detail)
        submission = submit_fields(item)
    except ValidationError as exc:
        problem = problem_body(422, VALIDATION, "See `errors` for the messages per field.", errors=exc.messages)
    except ProblemError as exc:
        problem = problem_body(exc.status, exc.problem_type, exc.detail, **exc.extensions)
    else:
        return {"index": index, "article_id": submission.article.id}
    return {"index": index, "problem": problem}


def _store() -> BatchStore:
    ext = services()
    return BatchStore(ext.redis, ext.config.result_ttl)


def _owner() -> str:
    return caller().owner


def _batch(batch_id: str) -> Batch:
    batch = _store().get(batch_id, _owner()) if BATCH_ID.fullmatch(batch_id) else None
    if batch is None:
        raise ProblemError(404, detail=f"There is no batch {batch_id!r} (unknown or expired).")
    return batch


def _path(batch_id: str) -> str:
    return f"{bp.url_prefix}/{batch_id}"


def _view(batch: Batch) -> dict[str, Any]:
    return {
        "id": batch.id,
        "created_at": batch.created_at,
        "total": batch.total,
        "accepted": batch.accepted,
        "rejected": batch.rejected,
        "links": {"self": _path(batch.id), "claims": f"{_path(batch.id)}/claims"},
    }
