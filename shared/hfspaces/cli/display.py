"""What a user sees on stderr while a job waits or runs: queue position and ETA, progress
steps and the Space's log lines.

Three modes, picked by `make_display`: a live line (rich) when stderr is a terminal, plain
lines when it is not (CI logs, pipes), nothing with `--quiet`. stdout is never touched here,
so the answer and `--json` lines stay clean for whoever reads them.
"""

from __future__ import annotations

import re
import sys
from typing import TextIO

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.text import Text

from ..events import Event, Log, Queued, QueueFullWait, Rerouted, Started, TextDelta
from ..events import Progress as ProgressEvent
from ..generation import Generation

#: Longest status line shown (a Space's log or progress text can be any size).
MAX_LINE = 1000
# Escape sequences whole (CSI, OSC such as clipboard writes and window titles, DCS/APC/PM/
# SOS strings, two-byte ESC codes), so no remnant like "]52;c;..." reaches the terminal.
_ESCAPES = re.compile(
    r"\x1b(?:\[[0-?]*[ -/]*[@-~]?|[\]PX^_][^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?|.?)"
    r"|[\x9b\x9d\x90\x98\x9e\x9f][^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?",
    re.S,
)
# What is left of the C0/C1 controls, DEL, and bidi overrides that reorder what is shown.
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def terminal_safe(text: str, limit: int = MAX_LINE, *, lines: bool = False) -> str:
    """`text` as it may be written to a terminal: no escape sequences or control
    characters (clipboard writes, titles, clear-screen, carriage returns), at most `limit`
    characters (the rest counted), on one line unless `lines`."""
    extra = len(text) - limit
    if extra > 0:
        text = text[:limit]
    text = _CONTROLS.sub("", _ESCAPES.sub("", text if lines else re.sub(r"[\r\n]+", " ", text)))
    return text + f"… ({extra} more characters)" if extra > 0 else text


def answer_safe(text: str) -> str:
    """A piece of a streamed answer as it may be written to a terminal: line breaks and
    tabs kept, every other control character dropped. Per piece, because an escape sequence
    may be split across deltas: without its ESC (or C1) byte, the rest is inert text."""
    return _CONTROLS.sub("", text)


def describe(event: Event) -> str | None:
    """One human line for a status event; None for events that are not status."""
    if isinstance(event, QueueFullWait):
        return (
            f"queue full, retrying in {_seconds(event.retry_in)} "
            f"(attempt {event.attempt}, {_seconds(event.waited)})"
        )
    if isinstance(event, Queued):
        return describe_queued(event)
    if isinstance(event, Started):
        return "running" + (f" (ETA {_seconds(event.eta)})" if event.eta else "")
    if isinstance(event, ProgressEvent):
        return describe_progress(event)
    if isinstance(event, Rerouted):
        return f"moved off {event.endpoint} ({event.error}); trying another copy"
    if isinstance(event, Log):
        title = f"{event.title}: " if event.title and event.title != event.message else ""
        return f"[{event.level.lower()}] {title}{event.message}"
    return None


def describe_queued(event: Queued) -> str:
    if event.rank is None:
        where = "in the queue"
    elif event.queue_size:
        where = f"position {event.rank + 1} of {event.queue_size}"
    else:
        where = f"position {event.rank + 1}"
    eta = f", ETA {_seconds(event.eta)}" if event.eta is not None else ""
    return f"queued: {where}{eta}"


def describe_progress(event: ProgressEvent) -> str:
    label = event.desc or "working"
    unit = f" {event.unit}" if event.unit and event.unit != "steps" else ""
    if event.index is not None and event.length:
        return f"{label}: {event.index:g}/{event.length:g}{unit}"
    if event.progress is not None:
        return f"{label}: {event.progress:.0%}"
    if event.index is not None:
        return f"{label}: {event.index:g}{unit}"
    return label


def describe_done(generation: Generation) -> str:
    parts = []
    if generation.duration is not None:
        parts.append(f"ran {_seconds(generation.duration)}")
    if generation.queue_wait is not None and generation.queue_wait >= 0.05:
        parts.append(f"queued {_seconds(generation.queue_wait)}")
    if generation.finish_reason != "stop":
        parts.append(generation.finish_reason.replace("_", " "))
    return "done" + (f" ({', '.join(parts)})" if parts else "")


def _seconds(value: float) -> str:
    return f"{value:.1f}s" if value < 10 else f"{value:.0f}s"


class Display:
    """Quiet display: the interface, doing nothing (`--quiet`)."""

    def __enter__(self) -> Display:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def event(self, event: Event) -> None:
        """A status event from the job (text deltas too: the live line reacts to them)."""

    def done(self, generation: Generation) -> None:
        """The job finished; say so once."""

    def note(self, message: str) -> None:
        """A line of our own (e.g. which endpoint we use)."""

    def close(self) -> None:
        """Remove any live element; safe to call twice."""


class PlainDisplay(Display):
    """One line per change, for logs and pipes (no cursor tricks, no colour)."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self._last: str | None = None

    def _line(self, text: str) -> None:
        if text == self._last:  # queue heartbeats repeat the same position
            return
        self._last = text
        print(f"hfspaces: {terminal_safe(text)}", file=self.stream, flush=True)

    def event(self, event: Event) -> None:
        line = describe(event)
        if line is not None:
            self._line(line)

    def done(self, generation: Generation) -> None:
        self._line(describe_done(generation))

    def note(self, message: str) -> None:
        self._line(message)


class LiveDisplay(Display):
    """A transient spinner line with a bar for progress steps; log lines scroll above it.

    When the answer streams to the same terminal (stdout is a tty), the live line is
    removed at the first token so it cannot tear through the text being written."""

    def __init__(self, console: Console, *, stdout_is_terminal: bool | None = None) -> None:
        self.console = console
        self._yield_to_stdout = (
            sys.stdout.isatty() if stdout_is_terminal is None else stdout_is_terminal
        )
        self._progress: Progress | None = None
        self._task: int | None = None
        self._chars = 0

    def _ensure(self) -> Progress:
        if self._progress is None:
            self._progress = Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                BarColumn(bar_width=24),
                TimeElapsedColumn(),
                console=self.console,
                transient=True,
                # rich would capture sys.stdout and print it on *our* console (stderr):
                # the answer must go to the real stdout, untouched.
                redirect_stdout=False,
                redirect_stderr=False,
            )
            self._progress.start()
            self._task = self._progress.add_task("connecting", total=None)
        return self._progress

    def _update(self, description: str, **fields: float | None) -> None:
        progress = self._ensure()
        assert self._task is not None
        progress.update(self._task, description=escape(terminal_safe(description)), **fields)  # type: ignore[arg-type]

    def start(self, message: str = "connecting") -> None:
        self._update(message)

    def event(self, event: Event) -> None:
        if isinstance(event, TextDelta):
            self._on_text(event)
        elif isinstance(event, Log):
            self._print(describe(event) or "", style="yellow" if event.level != "info" else "")
        elif self._yielded():
            return  # the answer owns the terminal now; status lines would tear through it
        elif isinstance(event, ProgressEvent):
            total = event.length if event.index is not None and event.length else None
            self._update(describe_progress(event), total=total, completed=event.index or 0)
        elif (line := describe(event)) is not None:
            self._update(line, total=None)

    def _yielded(self) -> bool:
        return self._yield_to_stdout and self._chars > 0

    def _on_text(self, event: TextDelta) -> None:
        first = self._chars == 0
        self._chars += len(event.text)
        if self._yield_to_stdout:
            if first:
                self._stop()
        else:
            self._update(f"receiving the answer ({self._chars} characters)", total=None)

    def _print(self, text: str, style: str = "") -> None:
        target = self._progress.console if self._progress is not None else self.console
        target.print(Text(terminal_safe(text), style=style), highlight=False)

    def done(self, generation: Generation) -> None:
        self._stop()
        self.console.print(Text(describe_done(generation), style="dim"), highlight=False)

    def note(self, message: str) -> None:
        self._print(message, style="dim")

    def _stop(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
            self._task = None

    def close(self) -> None:
        self._stop()


def make_display(*, quiet: bool, console: Console | None = None) -> Display:
    """The display for this process: nothing, plain lines, or a live line on a terminal."""
    if quiet:
        return Display()
    console = console or Console(stderr=True)
    if console.is_terminal:
        live = LiveDisplay(console)
        live.start()
        return live
    return PlainDisplay()
