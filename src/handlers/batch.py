"""`/batch`: many events of any kind, a receipt for each."""

from __future__ import annotations

from collections import Counter
from typing import Any

from footfall.handlers import ingest_problems
from footfall.security.identity import caller
from footfall.security.ratelimit import draws_with_enqueue
from footfall.web.bridge import on_loop
from footfall.web.context import received, services
from footfall.web.problems import Invalid
from footfall.web.responses import Answer, answer


@on_loop
@draws_with_enqueue
def create(body: dict[str, Any]) -> Answer:
    app = services()
    items = body["items"]
    limit = app.settings.api.max_batch_items
    if len(items) > limit:
        raise Invalid([{"pointer": "/items", "detail": f"{len(items)} items; at most {limit}"}])
    with ingest_problems():
        receipts = app.ingest.many(items, received(), caller())
    counts = Counter(receipt.status for receipt in receipts)
    if counts["rejected"] == len(receipts):
        errors = [error for receipt in receipts for error in receipt.errors]
        raise Invalid(errors, receipts=[receipt.json() for receipt in receipts])
    return answer(
        {
            "accepted": counts["accepted"],
            "duplicate": counts["duplicate"],
            "rejected": counts["rejected"],
            "receipts": [receipt.json() for receipt in receipts],
        }
    )
