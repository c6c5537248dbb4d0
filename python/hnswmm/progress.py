"""A progress bar on stderr, without dependencies.

On a terminal it redraws one line at most ten times a second; otherwise
(a log file, pytest's capture) it writes a line every few seconds and one
at the end.
"""
from __future__ import annotations

import sys
import time
from typing import TextIO

_BAR_WIDTH = 30


class Progress:
    """Counts work done out of a known total and shows it.

    Use as a context manager; `update(n)` adds n units done.  With
    `enabled=False` it shows nothing.
    """

    def __init__(self, total: int, label: str, unit: str = "rows", enabled: bool = True,
                 stream: TextIO | None = None) -> None:
        self.total, self.label, self.unit, self.enabled = max(total, 0), label, unit, enabled
        self.stream = stream if stream is not None else sys.stderr
        self.done = 0
        self._tty = self.stream.isatty()
        self._start = self._shown = time.monotonic()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        if exc[0] is None:
            self.finish()
        elif self.enabled and self._tty:
            self.stream.write("\n")

    def update(self, n: int) -> None:
        self.done += n
        now = time.monotonic()
        if self.enabled and now - self._shown >= (0.1 if self._tty else 5.0):
            self._shown = now
            self._show(now, end="\r" if self._tty else "\n")

    def finish(self) -> None:
        if self.enabled:
            self._show(time.monotonic(), end="\n")

    def _show(self, now: float, end: str) -> None:
        fraction = self.done / self.total if self.total else 1.0
        filled = int(_BAR_WIDTH * min(fraction, 1.0))
        elapsed = max(now - self._start, 1e-9)
        self.stream.write(f"{self.label} [{'#' * filled}{'.' * (_BAR_WIDTH - filled)}]"
                          f" {fraction:6.1%} {self.done:,}/{self.total:,} {self.unit}"
                          f" {elapsed:.1f} s, {self.done / elapsed:,.0f} {self.unit}/s{end}")
        self.stream.flush()
