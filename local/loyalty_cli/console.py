"""Progress bars and tables with rich, readable without a terminal: when stderr is not a TTY (CI,
tests, `make demo > log`) a progress bar is a plain line every 5 seconds, and tables are laid
out at a fixed width instead of the 80 columns rich assumes."""

from __future__ import annotations

import sys
import time

from rich import box
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, TaskID, TextColumn, TimeElapsedColumn
from rich.progress import Progress as RichProgress
from rich.table import Table

PLAIN_EVERY = 5.0  # seconds between the plain progress lines written when stderr is not a TTY


def stdout_console() -> Console:
    console = Console(highlight=False)
    if not console.is_terminal:
        console = Console(highlight=False, width=max(console.width, 140))
    return console


def table(*columns: str, title: str | None = None) -> Table:
    """A table whose first column is text and the others right-aligned figures."""
    t = Table(title=title, box=box.SIMPLE_HEAD, title_justify="left", pad_edge=False, show_edge=False)
    for i, name in enumerate(columns):
        t.add_column(name, justify="left" if i == 0 else "right", no_wrap=True)
    return t


class Progress:
    """A progress bar on stderr: rich's when stderr is a terminal, else a plain line now and then."""

    def __init__(self, label: str, total: int | None = None) -> None:
        self.label = label
        self.total = total
        self.console = Console(stderr=True, highlight=False)
        self.tty = self.console.is_terminal
        self.started = time.monotonic()
        self._last = 0.0
        self._bar: RichProgress | None = None
        self._task: TaskID | None = None
        if self.tty:
            self._bar = RichProgress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[note]}"),
                TimeElapsedColumn(),
                console=self.console,
            )
            self._task = self._bar.add_task(label, total=total, note="")
            self._bar.start()

    def update(self, done: int, total: int | None = None, note: str = "") -> None:
        self.total = total if total is not None else self.total
        if self._bar is not None and self._task is not None:
            self._bar.update(self._task, completed=done, total=self.total, note=note)
            return
        now = time.monotonic()
        if now - self._last < PLAIN_EVERY:
            return
        self._last = now
        elapsed = now - self.started
        if self.total:
            frac = min(1.0, done / self.total)
            bar = "#" * int(frac * 30) + "-" * (30 - int(frac * 30))
            text = f"{self.label} [{bar}] {done}/{self.total} {note} {elapsed:5.1f}s"
        else:
            text = f"{self.label} {done} {note} {elapsed:5.1f}s"
        sys.stderr.write(text + "\n")
        sys.stderr.flush()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
