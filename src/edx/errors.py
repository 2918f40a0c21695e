"""The per-line error report of an import: one JSON line per line that was not stored,
with the file, the line number and the reason. Appended to as batches are stored, so a
report survives an interrupted import; the import itself never stops for a bad line."""

from __future__ import annotations

from pathlib import Path
from typing import IO

import orjson

#: Errors kept in memory to show at the end (the report file has them all).
SHOWN = 10


class ErrorReport:
    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.count = 0
        self.first: list[dict[str, object]] = []
        self._file: IO[bytes] | None = path.open("ab") if path is not None else None

    def add(self, source: str, line: int, reason: str) -> None:
        record = {"file": source, "line": line, "reason": reason}
        self.count += 1
        if len(self.first) < SHOWN:
            self.first.append(record)
        if self._file is not None:
            self._file.write(orjson.dumps(record) + b"\n")

    def flush(self) -> None:
        if self._file is not None:
            self._file.flush()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
