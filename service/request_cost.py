"""How many units of the rate limit the current request costs: 1, or a batch's item count."""

from __future__ import annotations

from flask import g

COST_ATTRIBUTE = "request_cost"
# The request whose cost is known only once its body is read: the rate limit counts it then.
BATCH_ENDPOINT = "batches.create"


def charge(units: int) -> None:
    """Make the current request count ``units`` against the caller's limit (before it is checked)."""
    setattr(g, COST_ATTRIBUTE, units)


def request_cost() -> int:
    return getattr(g, COST_ATTRIBUTE, 1)
