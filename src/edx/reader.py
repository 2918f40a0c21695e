"""Tracking-log files as streams of lines: plain, `.gz`, `.bz2`, `.zip` (each member) or
`-` (standard input), read a buffer at a time, so memory stays flat whatever the size.

Each line comes with its number and the byte offset just past it in the decompressed
stream: a checkpoint is such an offset, and `lines(start=...)` resumes there. A plain
file seeks to it; a compressed stream cannot seek, so it is decompressed from the
start and the bytes before the offset are dropped unparsed (`seek` on a gzip, bzip2 or
zip stream does exactly that), which costs the decompression only.
"""

from __future__ import annotations

import bz2
import gzip
import hashlib
import io
import sys
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

#: Bytes read per call from the file (and the decompressor).
BUFFER = 1 << 20
#: The head of a file that identifies it for its checkpoint.
FINGERPRINT_BYTES = 1 << 16


@dataclass(frozen=True)
class Line:
    number: int
    #: Offset just past this line in the (decompressed) stream: where to resume after it.
    end: int
    text: bytes


@dataclass(frozen=True)
class Source:
    """One stream of lines: a file, a zip member, or standard input."""

    name: str
    path: Path | None
    member: str | None = None

    @property
    def compression(self) -> str:
        if self.path is None:
            return "none"
        suffix = self.path.suffix.lower()
        return {".gz": "gzip", ".bz2": "bzip2", ".zip": "zip"}.get(suffix, "none")

    def fingerprint(self) -> str | None:
        """What the checkpoint is kept under: a hash of the file's first 64 KiB (and the
        zip member's name), so a renamed or copied log resumes, and a log that grew
        keeps its checkpoint. Standard input has none."""
        if self.path is None:
            return None
        digest = hashlib.sha256()
        with self.path.open("rb") as raw:
            digest.update(raw.read(FINGERPRINT_BYTES))
        if self.member is not None:
            digest.update(b"\0" + self.member.encode())
        return digest.hexdigest()

    @contextmanager
    def open(self) -> Iterator[Stream]:
        if self.path is None:
            yield Stream(sys.stdin.buffer, None, None)
            return
        with self.path.open("rb", buffering=BUFFER) as raw:
            size = self.path.stat().st_size
            kind = self.compression
            if kind == "gzip":
                with gzip.GzipFile(fileobj=raw) as data:
                    yield Stream(io.BufferedReader(data, BUFFER), raw, size)
            elif kind == "bzip2":
                with bz2.BZ2File(raw) as data:
                    yield Stream(io.BufferedReader(data, BUFFER), raw, size)
            elif kind == "zip":
                member = self.member or ""
                with zipfile.ZipFile(raw) as archive, archive.open(member) as data:
                    # Progress in the member's decompressed bytes: the zip's own file
                    # position jumps between members.
                    total = archive.getinfo(member).file_size
                    yield Stream(io.BufferedReader(data, BUFFER), None, total)
            else:
                yield Stream(raw, raw, size)


class Stream:
    """An open source: its lines, and how far through the file it is (for progress)."""

    def __init__(self, data: BinaryIO, raw: BinaryIO | None, size: int | None) -> None:
        self.data = data
        self.raw = raw
        #: Bytes to go through in all (the file on disk, or a zip member decompressed).
        self.size = size
        self._offset = 0

    def position(self) -> int:
        """Bytes gone through, on the same scale as `size`."""
        return self.raw.tell() if self.raw is not None else self._offset

    def lines(self, start: int = 0, first_number: int = 1) -> Iterator[Line]:
        """Lines from decompressed offset `start` (a checkpoint: a line's end)."""
        offset = start
        if start:
            self.data.seek(start)
        number = first_number
        for text in self.data:
            offset += len(text)
            self._offset = offset
            yield Line(number, offset, text)
            number += 1


def sources(names: list[str]) -> list[Source]:
    """The sources named on the command line, a zip's members in archive order."""
    found: list[Source] = []
    for name in names:
        if name == "-":
            found.append(Source("-", None))
            continue
        path = Path(name)
        if not path.is_file():
            raise FileNotFoundError(f"{name}: no such file")
        if path.suffix.lower() == ".zip":
            with zipfile.ZipFile(path) as archive:
                for info in archive.infolist():
                    if not info.is_dir():
                        found.append(Source(f"{name}!{info.filename}", path, info.filename))
        else:
            found.append(Source(name, path))
    return found
