"""Queue, start, progress and log events of a Space job, as LlamaIndex instrumentation events.

A Space call can wait in a queue (and for a ZeroGPU worker) for a long time before the
first token; these events let an event handler show why:

        get_dispatcher().add_event_handler(MyHandler())  # receives HFSpacesJobEvent
"""

from __future__ import annotations

import dataclasses
from typing import Any, Literal

from hfspaces import Log, Progress, Queued, QueueFullWait, Rerouted, Started

# The core re-exports get_dispatcher without an __all__ (strict mypy flags that).
from llama_index.core.instrumentation import get_dispatcher  # type: ignore[attr-defined]
from llama_index.core.instrumentation.events import BaseEvent

dispatcher = get_dispatcher(__name__)

JobEventKind = Literal["queue_wait", "queued", "started", "progress", "log", "rerouted"]

_KINDS: dict[type, JobEventKind] = {
    QueueFullWait: "queue_wait",
    Queued: "queued",
    Started: "started",
    Progress: "progress",
    Log: "log",
    Rerouted: "rerouted",
}


class HFSpacesJobEvent(BaseEvent):
    """What a Space job is doing before and while it answers.

    `kind` is "queue_wait" (the queue is full, the client tries again; data: reason,
    attempt, waited, retry_in), "queued" (data: rank, queue_size, eta), "started" (eta),
    "progress" (desc, index, length, unit, progress), "log" (level, message, title:
    ZeroGPU posts its "waiting for a GPU" notes here) or "rerouted" (endpoint, reason,
    error, attempt: a pool moved the job off a failing copy before any output)."""

    kind: JobEventKind
    model: str
    space: str
    data: dict[str, Any]

    @classmethod
    def class_name(cls) -> str:
        return "HFSpacesJobEvent"


def job_event(
    item: object, *, model: str, space: str, span_id: str | None = None
) -> HFSpacesJobEvent | None:
    """The instrumentation event for one item of `SpaceModel.stream()`, if it is one."""
    kind = _KINDS.get(type(item))
    if kind is None:
        return None
    data = dataclasses.asdict(item)  # type: ignore[call-overload]
    return HFSpacesJobEvent(kind=kind, model=model, space=space, data=data, span_id=span_id)


def announce(item: object, *, model: str, space: str, span_id: str | None) -> None:
    """Dispatch `item` as an `HFSpacesJobEvent` of the LLM call's span. The span id is
    taken at call time: a stream is read after the call (and its span) has returned, as
    LlamaIndex's own in-progress events do."""
    event = job_event(item, model=model, space=space, span_id=span_id)
    if event is not None:
        dispatcher.event(event)
