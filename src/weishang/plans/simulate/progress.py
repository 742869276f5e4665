"""A minimal progress bar on stderr (no dependency): shown only on a terminal, or when asked."""

from __future__ import annotations

import sys
import time
from typing import TextIO

__all__ = ["Progress"]


class Progress:
    """``Progress(total, enabled)``; ``update(done)`` redraws one line; ``close()`` ends it.

    ``enabled=None`` means "when the stream is a terminal"."""

    WIDTH = 30

    def __init__(
        self, total: int, enabled: bool | None = None, *, stream: TextIO | None = None, label: str = "模拟 simulating"
    ):
        self.stream = stream if stream is not None else sys.stderr
        if enabled is None:
            isatty = getattr(self.stream, "isatty", None)
            enabled = bool(isatty and isatty())
        self.enabled = enabled
        self.total = max(1, total)
        self.label = label
        self.started = time.monotonic()
        self.drawn = False

    def update(self, done: int, note: str = "") -> None:
        if not self.enabled:
            return
        filled = int(self.WIDTH * done / self.total)
        bar = "#" * filled + "." * (self.WIDTH - filled)
        elapsed = time.monotonic() - self.started
        text = f"\r{self.label} [{bar}] {done}/{self.total} months  {elapsed:5.1f} s"
        if note:
            text += f"  {note}"
        self.stream.write(text)
        self.stream.flush()
        self.drawn = True

    def close(self) -> None:
        if self.enabled and self.drawn:
            self.stream.write("\n")
            self.stream.flush()
