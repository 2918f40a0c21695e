"""How far an import is: a progress bar on a terminal (tqdm: bytes, rate, ETA, lines/s),
plain periodic lines otherwise (a log file, CI), so that neither fills with bars."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from tqdm import tqdm


class Progress:
    def __init__(self, stream: TextIO | None = None, every_s: float = 10.0) -> None:
        self.stream = stream or sys.stderr
        self.every_s = every_s
        self.bar: tqdm | None = None
        self.name = ""
        self.lines = 0
        self.position = 0
        self.total: int | None = None
        self.started = self.last = time.monotonic()

    @property
    def interactive(self) -> bool:
        return self.stream.isatty()

    def start(self, name: str, total: int | None, position: int = 0) -> None:
        self.name, self.total, self.lines, self.position = name, total, 0, position
        self.started = self.last = time.monotonic()
        if self.interactive:
            self.bar = tqdm(
                total=total,
                initial=position,
                unit="B",
                unit_scale=True,
                unit_divisor=1024,
                desc=name,
                file=self.stream,
                dynamic_ncols=True,
            )

    def update(self, position: int, lines: int) -> None:
        """`position`: bytes of the file gone through; `lines`: lines read so far."""
        now = time.monotonic()
        if self.bar is not None:
            self.bar.update(position - self.position)
            self.bar.set_postfix_str(f"{self._rate(lines, now):,.0f} lines/s", refresh=False)
        elif now - self.last >= self.every_s:
            self.last = now
            done = f" {100 * position / self.total:.0f}%" if self.total else ""
            self.stream.write(
                f"{self.name}: {lines:,} lines, {position:,} bytes{done},"
                f" {self._rate(lines, now):,.0f} lines/s\n"
            )
            self.stream.flush()
        self.position, self.lines = position, lines

    def finish(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def _rate(self, lines: int, now: float) -> float:
        return lines / max(now - self.started, 1e-9)
