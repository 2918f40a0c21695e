"""Everything held about one learner, as NDJSON: one line per document, then a manifest.

Each collection whose definition names a learner field (`Collection.learner`) is read
by that field, through its index; a collection that does not exist yet gives nothing.
A line is `{"collection": ..., "document": {...}}`; the last line is
`{"manifest": {"username", "user_ids", "exported_at", "counts": {collection: n}}}`,
counting the lines written (the documents are streamed, not held in memory).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

from pymongo.database import Database

from footfall import ndjson
from footfall.learners.subject import Subject, about_learners


def lines(db: Database, subject: Subject) -> Iterator[bytes]:
    counts: dict[str, int] = {}
    for collection in about_learners():
        query = subject.filter(collection)
        counts[collection.name] = 0
        if query is None:
            continue
        for document in db[collection.name].find(query):
            counts[collection.name] += 1
            yield ndjson.line({"collection": collection.name, "document": document})
    yield ndjson.line(
        {
            "manifest": {
                "username": subject.username,
                "user_ids": list(subject.user_ids),
                "exported_at": datetime.now(UTC),
                "counts": counts,
            }
        }
    )
