"""/v1/webhooks: endpoints that receive signed article events, and their deliveries.

Each API key (or the open API as a whole) has its own endpoints and sees only those.
A new endpoint's URL goes through the SSRF guard at once (422 when it is refused), and
again at every delivery, which connects to the address it checked.
"""

from __future__ import annotations

import json
import re
from typing import Any

from flask import Blueprint, Response, jsonify, request
from marshmallow import RAISE, Schema, ValidationError, fields, validate

from service.access import caller
from service.context import services
from service.fetching.guard import Policy, RefusedURL, resolve
from service.problems import ProblemError
from service.request_limits import read_body
from service.schemas import MAX_URL_CHARS, http_url
from service.submission import load_json
from service.webhook_events import WebhookEvents
from service.webhooks_store import (
    EVENT_TYPES,
    MAX_WEBHOOKS_PER_OWNER,
    PENDING,
    TooManyWebhooks,
    Webhook,
    WebhookStore,
)

bp = Blueprint("webhooks", __name__, url_prefix="/v1/webhooks")

WEBHOOK_ID = re.compile(r"wh_[0-9a-f]{16}")
DELIVERY_ID = re.compile(r"msg_[0-9a-f]{24}")
MAX_DESCRIPTION_CHARS = 200


class WebhookSchema(Schema):
    """A new endpoint: where to POST events, and which."""

    class Meta:
        unknown = RAISE

    url = fields.String(required=True, validate=[validate.Length(max=MAX_URL_CHARS), http_url])
    events = fields.List(
        fields.String(validate=validate.OneOf(EVENT_TYPES)),
        load_default=list(EVENT_TYPES),
        validate=validate.Length(min=1, max=len(EVENT_TYPES)),
    )
    description = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=MAX_DESCRIPTION_CHARS))


@bp.post("")
def create() -> Response:
    if request.mimetype != "application/json":
        raise ProblemError(415, detail="Send the webhook as application/json.", headers={"Accept-Post": "application/json"})
    ext = services()
    loaded = WebhookSchema().load(load_json(read_body(request, ext.config)))
    try:
        resolve(loaded["url"], Policy.from_settings(ext.config.fetch_ports, ext.config.fetch_allow_networks))
    except RefusedURL as exc:
        raise ValidationError({"url": [str(exc)]}) from None
    try:
        webhook = _store().create(_owner(), loaded["url"], loaded["events"], loaded["description"])
    except TooManyWebhooks:
        raise ProblemError(409, detail=f"A key may have at most {MAX_WEBHOOKS_PER_OWNER} webhooks; delete one first.") from None
    response = jsonify({**webhook.public(), "secret": webhook.secret})
    response.status_code = 201
    response.headers["Location"] = f"{bp.url_prefix}/{webhook.id}"
    return response


@bp.get("")
def index() -> Response:
    return jsonify({"webhooks": [w.public() for w in _store().list(_owner())]})


@bp.get("/<webhook_id>")
def show(webhook_id: str) -> Response:
    return jsonify(_webhook(webhook_id).public())


@bp.delete("/<webhook_id>")
def delete(webhook_id: str) -> Response:
    if not WEBHOOK_ID.fullmatch(webhook_id) or not _store().delete(_owner(), webhook_id):
        raise _not_found(webhook_id)
    return Response(status=204)


@bp.get("/<webhook_id>/deliveries")
def deliveries(webhook_id: str) -> Response:
    webhook = _webhook(webhook_id)
    return jsonify({"deliveries": [_delivery_view(d) for d in _store().deliveries(_owner(), webhook.id)]})


@bp.post("/<webhook_id>/deliveries/<delivery_id>/redeliver")
def redeliver(webhook_id: str, delivery_id: str) -> Response:
    webhook = _webhook(webhook_id)
    store = _store()
    delivery = store.delivery(delivery_id) if DELIVERY_ID.fullmatch(delivery_id) else None
    if delivery is None or delivery["owner"] != _owner() or delivery["webhook_id"] != webhook.id:
        raise ProblemError(404, detail=f"There is no delivery {delivery_id!r} of this webhook (unknown or expired).")
    if delivery["status"] == PENDING:
        raise ProblemError(409, detail="The delivery is still pending; it is retried on its own schedule.")
    ext = services()
    events = WebhookEvents(ext.redis, ext.config)
    with ext.redis.pipeline() as pipe:
        pipe.multi()
        store.reopen(pipe, delivery_id)
        events.enqueue(pipe, delivery_id)
        pipe.execute()
    response = jsonify(_delivery_view(store.delivery(delivery_id) or delivery))
    response.status_code = 202
    return response


def _store() -> WebhookStore:
    return WebhookStore(services().redis)


def _owner() -> str:
    return caller().owner


def _webhook(webhook_id: str) -> Webhook:
    webhook = _store().get(_owner(), webhook_id) if WEBHOOK_ID.fullmatch(webhook_id) else None
    if webhook is None:
        raise _not_found(webhook_id)
    return webhook


def _not_found(webhook_id: str) -> ProblemError:
    return ProblemError(404, detail=f"There is no webhook {webhook_id!r}.")


def _delivery_view(record: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": record["id"],
        "event": record["event"],
        "article_id": record["article_id"],
        "status": record["status"],
        "attempts": record.get("attempts", 0),
        "last_http_status": record.get("last_http_status"),
        "last_error": record.get("last_error"),
        "created_at": record["created_at"],
        "last_attempt_at": record.get("last_attempt_at"),
        "payload": json.loads(record["payload"]),
    }
