"""Schemathesis hooks for the proof run (loaded through ``SCHEMATHESIS_HOOKS``).

Schemathesis draws small header values, so two generated requests with different bodies
often share an ``Idempotency-Key`` such as ``"0"``. The API rightly answers that with 422
(the key was reused for another request), which schemathesis would count as valid data
rejected. A valid generated key is therefore replaced by a fresh one; invalid keys are
left alone, so their rejection is still checked. Key reuse has its own tests
(test_api_idempotency.py).
"""

from __future__ import annotations

import uuid
from typing import Any

import schemathesis

from service.submission import IDEMPOTENCY_HEADER, IDEMPOTENCY_KEY


@schemathesis.hook
def before_call(ctx: Any, case: Any, **kwargs: Any) -> None:
    headers = case.headers or {}
    key = headers.get(IDEMPOTENCY_HEADER)
    if isinstance(key, str) and IDEMPOTENCY_KEY.fullmatch(key.strip()):
        headers[IDEMPOTENCY_HEADER] = uuid.uuid4().hex
