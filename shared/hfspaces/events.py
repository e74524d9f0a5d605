"""Typed events a running job yields, in the order the Space sends them."""

from __future__ import annotations

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
    seconds; `attempt` counts the refusals so far, `waited` the seconds spent in them."""

    reason: str
    attempt: int
    waited: float
    retry_in: float


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


@dataclass(frozen=True, slots=True)
class Partial:
    """Intermediate outputs of a generator function, with diffs already applied."""

    outputs: list[Any]


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
