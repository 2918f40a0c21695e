"""`footfall import edx`: tracking logs into `edx_events`, streaming, in bulk, resumable.

The reading thread reads, parses and maps lines into batches; one writer thread stores
each batch (`footfall.store.writers.insert_documents`, the flusher's own insert), then
reports its bad lines and moves the file's checkpoint past it. Batches are stored in
order and at most `IN_FLIGHT` wait, so memory holds a few batches whatever the file's
size, and parsing overlaps the database's work.

Nothing is stored twice: a line's `log_id` is a hash of the line, so a re-import, an
overlapping file or the batch before a checkpoint counts as "already stored".
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from pymongo.database import Database
from pymongo.errors import ConnectionFailure
from tenacity import (
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)

from footfall.edx.checkpoints import Checkpoint, Checkpoints
from footfall.edx.errors import ErrorReport
from footfall.edx.mapping import LineError, parse_line
from footfall.edx.privacy import EdxPrivacy
from footfall.edx.progress import Progress
from footfall.edx.reader import Source
from footfall.settings import Settings
from footfall.store.collections import EDX_EVENTS
from footfall.store.writers import Inserted, TransientWriteError, insert_documents

#: Batches parsed but not yet stored: bounds memory, lets parsing run ahead of a write.
IN_FLIGHT = 2
DEFAULT_BATCH = 1000


@dataclass
class Summary:
    files: int = 0
    #: Lines read in this run (a resumed file: from its checkpoint).
    lines: int = 0
    blank: int = 0
    stored: int = 0
    already_stored: int = 0
    errors: int = 0
    #: Lines a checkpoint let this run skip.
    resumed_after: int = 0
    families: Counter[str] = field(default_factory=Counter)

    def json(self) -> dict[str, Any]:
        return {
            "files": self.files,
            "lines": self.lines,
            "blank": self.blank,
            "stored": self.stored,
            "already_stored": self.already_stored,
            "errors": self.errors,
            "resumed_after": self.resumed_after,
            "families": dict(self.families.most_common()),
        }


@dataclass
class _Batch:
    source: Source
    key: str | None
    documents: list[dict[str, Any]] = field(default_factory=list)
    #: The line number of each document.
    numbers: list[int] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)
    end: int = 0
    line: int = 0
    last: bool = False


class Importer:
    def __init__(
        self,
        db: Database,
        settings: Settings,
        report: ErrorReport,
        progress: Progress | None = None,
        *,
        batch_size: int = DEFAULT_BATCH,
        restart: bool = False,
    ) -> None:
        self.mongo = db[EDX_EVENTS.name]
        self.checkpoints = Checkpoints(db)
        self.privacy = EdxPrivacy(settings)
        self.report = report
        self.progress = progress or Progress()
        self.batch_size = batch_size
        self.restart = restart
        self.retry_max_s = settings.flusher.flush_retry_max_s
        self.summary = Summary()

    def run(self, sources: Iterable[Source]) -> Summary:
        with ThreadPoolExecutor(1, thread_name_prefix="edx-writer") as writer:
            pending: list[Future[Inserted]] = []
            try:
                for source in sources:
                    self._read(source, writer, pending)
            finally:
                # Interrupted or not, what was parsed is stored and checkpointed.
                while pending:
                    self._collect(pending.pop(0))
        return self.summary

    def _read(
        self, source: Source, writer: ThreadPoolExecutor, pending: list[Future[Inserted]]
    ) -> None:
        key = source.fingerprint()
        start = Checkpoint()
        if key is not None:
            if self.restart:
                self.checkpoints.forget(key)
            else:
                start = self.checkpoints.load(key)
        self.summary.files += 1
        self.summary.resumed_after += start.line
        with source.open() as stream:
            self.progress.start(source.name, stream.size, stream.position())
            batch = _Batch(source, key, end=start.offset, line=start.line)
            size, lines = self.batch_size, 0
            families = self.summary.families
            try:
                for line in stream.lines(start.offset, start.line + 1):
                    lines += 1
                    text = line.text.strip()
                    if text:
                        try:
                            doc = parse_line(text)
                        except LineError as error:
                            batch.errors.append((line.number, error.reason))
                        else:
                            families[doc["family"]] += 1
                            batch.documents.append(doc)
                            batch.numbers.append(line.number)
                    else:
                        self.summary.blank += 1
                    if len(batch.documents) >= size or len(batch.errors) >= size:
                        batch.end, batch.line = line.end, line.number
                        self._submit(batch, writer, pending)
                        self.progress.update(stream.position(), lines)
                        batch = _Batch(source, key, end=line.end, line=line.number)
                    else:
                        batch.end, batch.line = line.end, line.number
                batch.last = True
                self._submit(batch, writer, pending)
            finally:
                self.summary.lines += lines
                while pending:
                    self._collect(pending.pop(0))
                self.progress.update(stream.position(), lines)
                self.progress.finish()

    def _submit(
        self, batch: _Batch, writer: ThreadPoolExecutor, pending: list[Future[Inserted]]
    ) -> None:
        pending.append(writer.submit(self._store, batch))
        while len(pending) > IN_FLIGHT:
            self._collect(pending.pop(0))

    def _collect(self, future: Future[Inserted]) -> None:
        inserted = future.result()
        self.summary.stored += inserted.stored
        self.summary.already_stored += inserted.duplicates

    def _store(self, batch: _Batch) -> Inserted:
        """Store a batch, report its bad lines, then move the checkpoint past it."""
        documents = self.privacy.apply(batch.documents)
        retrying = Retrying(
            retry=retry_if_exception_type((ConnectionFailure, TransientWriteError)),
            wait=wait_exponential_jitter(multiplier=0.1, max=self.retry_max_s, jitter=0.2),
            stop=stop_after_attempt(10),
            reraise=True,
        )
        inserted = retrying(insert_documents, self.mongo, documents)
        errors = list(batch.errors)
        for index, reason, _ in inserted.refused:
            errors.append((batch.numbers[index], f"refused by the database: {reason}"))
        name = batch.source.name
        for number, reason in sorted(errors):
            self.report.add(name, number, reason)
        self.report.flush()
        self.summary.errors += len(errors)
        if batch.key is not None:
            self.checkpoints.save(batch.key, name, batch.end, batch.line, finished=batch.last)
        return inserted
