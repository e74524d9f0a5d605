"""Space queue/progress/log events → LangChain custom events (name, payload), and the
callback manager that sends them for a chat-model or tool run.

Applications receive them through a callback handler's `on_custom_event`, or as
`on_custom_event` entries of `astream_events`, while the model waits or works.
"""

from __future__ import annotations

from typing import Any, TypeVar
from uuid import UUID

from hfspaces import Log, Progress, Queued, QueueFullWait, Rerouted, Started
from langchain_core.callbacks import (
    AsyncCallbackManager,
    AsyncCallbackManagerForLLMRun,
    AsyncCallbackManagerForToolRun,
    CallbackManager,
    CallbackManagerForLLMRun,
    CallbackManagerForToolRun,
)

#: Queue position: `{"model", "space", "rank", "position", "queue_size", "eta"}`
#: (`position` is 1-based, `eta` seconds until the job starts when the Space knows it).
QUEUE_EVENT = "hfspaces_queue"
#: A worker took the job: `{"model", "space", "eta"}` (`eta`: expected run time, seconds).
STARTED_EVENT = "hfspaces_started"
#: A `gr.Progress` step: `{"model", "space", "desc", "index", "length", "unit", "progress"}`.
PROGRESS_EVENT = "hfspaces_progress"
#: A Space log line (`gr.Info`/`gr.Warning`, ZeroGPU notes): `{"model", "space", "level",
#: "message", "title"}`.
LOG_EVENT = "hfspaces_log"
#: A pool moved the job off a failing copy before any output: `{"model", "space",
#: "endpoint", "reason", "error", "attempt"}` (`endpoint`: the copy it left).
REROUTED_EVENT = "hfspaces_rerouted"

#: The Space's queue is full (503) and the client waits to try again: `{"model", "space",
#: "reason", "attempt", "waited", "retry_in"}` (seconds), e.g. "queue full, retrying
#: (attempt 4, 35 s)".
QUEUE_WAIT_EVENT = "hfspaces_queue_wait"

CUSTOM_EVENTS = (
    QUEUE_EVENT,
    QUEUE_WAIT_EVENT,
    STARTED_EVENT,
    PROGRESS_EVENT,
    LOG_EVENT,
    REROUTED_EVENT,
)

CustomEvent = tuple[str, dict[str, Any]]


def custom_event(event: object, *, model: str, space: str) -> CustomEvent | None:
    """The custom event for a Space event, or None for events that are not status news."""
    where = {"model": model, "space": space}
    if isinstance(event, QueueFullWait):
        return QUEUE_WAIT_EVENT, {
            **where,
            "reason": event.reason,
            "attempt": event.attempt,
            "waited": event.waited,
            "retry_in": event.retry_in,
        }
    if isinstance(event, Queued):
        position = None if event.rank is None else event.rank + 1
        return QUEUE_EVENT, {
            **where,
            "rank": event.rank,
            "position": position,
            "queue_size": event.queue_size,
            "eta": event.eta,
        }
    if isinstance(event, Started):
        return STARTED_EVENT, {**where, "eta": event.eta}
    if isinstance(event, Progress):
        return PROGRESS_EVENT, {
            **where,
            "desc": event.desc,
            "index": event.index,
            "length": event.length,
            "unit": event.unit,
            "progress": event.progress,
        }
    if isinstance(event, Rerouted):
        return REROUTED_EVENT, {
            **where,
            "endpoint": event.endpoint,
            "reason": event.reason,
            "error": event.error,
            "attempt": event.attempt,
        }
    if isinstance(event, Log):
        return LOG_EVENT, {
            **where,
            "level": event.level,
            "message": event.message,
            "title": event.title,
        }
    return None


Manager = TypeVar("Manager", CallbackManager, AsyncCallbackManager)
RunManager = (
    CallbackManagerForLLMRun
    | AsyncCallbackManagerForLLMRun
    | CallbackManagerForToolRun
    | AsyncCallbackManagerForToolRun
)


def run_event_sink(manager_class: type[Manager], run_manager: RunManager) -> tuple[Manager, UUID]:
    """The callback manager and run id that send custom events to every handler of the
    run `run_manager` belongs to (a chat model run or a tool run)."""
    manager = manager_class(
        handlers=run_manager.handlers,
        inheritable_handlers=run_manager.inheritable_handlers,
        parent_run_id=run_manager.parent_run_id,
        tags=run_manager.tags,
        inheritable_tags=run_manager.inheritable_tags,
        metadata=run_manager.metadata,
        inheritable_metadata=run_manager.inheritable_metadata,
    )
    return manager, run_manager.run_id
