"""Typed events a running job yields, in the order the Space sends them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Queued:
    """Queue position: `rank` is 0-based (0 = next), `eta` in seconds when known."""

    rank: int | None
    queue_size: int | None
    eta: float | None


@dataclass(frozen=True, slots=True)
class QueueFullWait:
    """The Space turned the join away (HTTP 503: its queue is full, normal on a busy
    ZeroGPU Space, which holds one waiting job). The client tries again in `retry_in`
    seconds (at most); `attempt` counts the waits so far, `waited` the seconds spent in
    them. `ahead`: this client's jobs that wait before this one (only the first asks the
    Space again; the others wait their turn without a request)."""

    reason: str
    attempt: int
    waited: float
    retry_in: float
    ahead: int = 0


@dataclass(frozen=True, slots=True)
class Started:
    """A worker took the job; `eta` is the Space's estimate of the run time."""

    eta: float | None = None


@dataclass(frozen=True, slots=True)
class Progress:
    """A `gr.Progress` step. `index`/`length` may be None for indeterminate progress."""

    desc: str | None
    index: float | None
    length: float | None
    unit: str | None
    progress: float | None = None


@dataclass(frozen=True, slots=True)
class Log:
    """A `gr.Info` / `gr.Warning` line (ZeroGPU posts its "waiting for a GPU" notes here)."""

    level: str
    message: str
    title: str | None = None


class Partial:
    """Intermediate outputs of a generator function, with diffs already applied.

    `outputs` is a snapshot, built when first read: a streamed answer is kept as shared
    chunks, so a job does linear work per token whether or not its partials are read."""

    __slots__ = ("_build", "_outputs")
    __match_args__ = ("outputs",)

    def __init__(
        self, outputs: list[Any] | None = None, *, build: Callable[[], list[Any]] | None = None
    ) -> None:
        self._outputs = outputs
        self._build = build

    @property
    def outputs(self) -> list[Any]:
        if self._outputs is None:
            self._outputs = self._build() if self._build is not None else []
            self._build = None
        return self._outputs

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Partial) and self.outputs == other.outputs

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Partial(outputs={self.outputs!r})"


@dataclass(frozen=True, slots=True)
class TextDelta:
    """Newly appended text of a streamed answer."""

    text: str


@dataclass(frozen=True, slots=True)
class Completed:
    """The job finished successfully. `duration` is the run time in seconds (process start
    to completion), `queue_wait` the time from join to process start."""

    outputs: list[Any]
    duration: float | None = None
    queue_wait: float | None = None
    event_id: str | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class Rerouted:
    """The job left copy `endpoint` of a pool before producing output, because of
    `reason` (an `error` of that type), and goes to another copy: attempt `attempt`."""

    endpoint: str
    reason: str
    error: str
    attempt: int


Event = (
    QueueFullWait | Rerouted | Queued | Started | Progress | Log | Partial | TextDelta | Completed
)
