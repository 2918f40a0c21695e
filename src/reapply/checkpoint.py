"""A resumable pass over a collection: batches in `_id` order, the last `_id` done kept
in `checkpoints` after each batch.

Interrupted (Ctrl-C, a crash, MongoDB gone), the same command carries on after the last
batch it finished; a batch is applied idempotently, so one cut halfway is simply done
again. A checkpoint is only resumed under the same rules (a fingerprint, e.g. the
threshold): under other rules every document needs the new ones, so the pass starts
over. A finished pass removes its checkpoint; running it again changes nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pymongo.database import Database

from footfall.store.collections import CHECKPOINTS

Doc = dict[str, Any]
#: Applies the rules to a batch of documents; returns how many it changed.
Step = Callable[[list[Doc]], int]


@dataclass(frozen=True)
class Pass:
    #: What the pass does, to whom: its checkpoint's key (hashed: a scope may name a learner).
    job: str
    #: The rules it applies; a checkpoint under other rules is not resumed.
    rules: str
    collection: str
    query: Doc


@dataclass(frozen=True)
class Outcome:
    processed: int
    changed: int
    #: Documents already done by an earlier, interrupted run of the same pass.
    resumed: int


def total(db: Database, job: Pass) -> int:
    return db[job.collection].count_documents(job.query)


def run(
    db: Database,
    job: Pass,
    step: Step,
    *,
    batch: int = 500,
    restart: bool = False,
    progress: Callable[[int], None] = lambda done: None,
) -> Outcome:
    """Apply `step` to every document of the query not done yet; `progress(n)` after each
    batch of n (the resumed count first, if any)."""
    key = hashlib.sha256(job.job.encode()).hexdigest()[:24]
    checkpoints = db[CHECKPOINTS.name]
    saved = None if restart else checkpoints.find_one({"_id": key, "rules": job.rules})
    after = saved["after"] if saved else None
    processed = resumed = saved["processed"] if saved else 0
    changed = saved["changed"] if saved else 0
    if resumed:
        progress(resumed)
    mongo = db[job.collection]
    while True:
        query = job.query if after is None else {"$and": [job.query, {"_id": {"$gt": after}}]}
        docs = list(mongo.find(query).sort("_id", 1).limit(batch))
        if not docs:
            break
        changed += step(docs)
        processed += len(docs)
        after = docs[-1]["_id"]
        checkpoints.replace_one(
            {"_id": key},
            {
                "rules": job.rules,
                "collection": job.collection,
                "after": after,
                "processed": processed,
                "changed": changed,
                "updated_at": datetime.now(UTC),
            },
            upsert=True,
        )
        progress(len(docs))
    checkpoints.delete_one({"_id": key})
    return Outcome(processed, changed, resumed)
