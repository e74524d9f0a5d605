"""Fault injection state: what to break, how often, counted and reproducible.

Every fault has a main setting plus two optional modifiers, ``<name>_count`` and
``<name>_rate``: the fault fires at the next ``count`` opportunities (None = every one while
the main setting is on), each with probability ``rate`` drawn from an RNG seeded by
``fault_seed`` and the fault name (None = always). Opportunities: a join for ``join``, an
upload for ``upload``, a GPU function call for ``app_error``/``quota_error``/``gpu_error``
(optionally limited to one api_name with ``<name>_fn``), a ``queue/data`` stream for the
stream faults. ``gpu_error`` names one of ``GPU_ERRORS``; ``quota_error=True`` is the same as
``gpu_error="quota"`` (kept for older tests); ``queue_delay`` is the wait for a GPU (with the
runtime's "Waiting for a GPU" and "Successfully acquired a GPU" logs). Setting a main value
resets its modifiers unless they are given too.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field
from typing import Any

# ZeroGPU failures ``gpu_error`` can inject (rendered by ``runtime`` with the ``spaces``
# runtime's exact wording, see ``spaces_messages``). Schedule-time kinds refuse the call before
# any GPU time is charged; ``queue_timeout`` after the "Waiting for a GPU" log; the worker
# kinds after the GPU was acquired (the quota is charged).
SCHEDULE_ERRORS = ("internal_error", "expired_token", "no_gpu", "gpu_limit", "illegal_duration",
                   "pending_credits", "runs_limit", "quota")
WORKER_ERRORS = ("worker_error", "aborted")
GPU_ERRORS: tuple[str, ...] = (*SCHEDULE_ERRORS, "queue_timeout", *WORKER_ERRORS)

QUEUE_FULL_DETAIL = "Queue is full. Max size is 1 and size is 1."

# fault name → (main setting attribute, aliases for count, aliases for rate)
_TRIGGERS: dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]] = {
    "join": ("join_status", ("join_fail_count", "join_status_count"),
             ("join_fail_rate", "join_status_rate")),
    "upload": ("upload_status", ("upload_fail_count", "upload_status_count"),
               ("upload_fail_rate", "upload_status_rate")),
    "app_error": ("app_error", ("app_error_count",), ("app_error_rate",)),
    "quota_error": ("quota_error", ("quota_error_count",), ("quota_error_rate",)),
    "gpu_error": ("gpu_error", ("gpu_error_count",), ("gpu_error_rate",)),
    "cut_stream": ("cut_stream_after", ("cut_stream_count",), ("cut_stream_rate",)),
    "stall": ("stall_after", ("stall_count",), ("stall_rate",)),
    "malformed": ("malformed_after", ("malformed_count",), ("malformed_rate",)),
    "unexpected_error": ("unexpected_error", ("unexpected_error_count",),
                         ("unexpected_error_rate",)),
}

_PLAIN = {
    "retry_after", "app_error_title", "app_error_message", "app_error_hidden", "stall_timeout",
    "queue_delay", "step_latency", "config_changed", "app_error_fn", "quota_error_fn",
    "gpu_error_fn", "worker_error_class",
}

FAULT_KEYS: frozenset[str] = frozenset(
    {main for main, _, _ in _TRIGGERS.values()}
    | {a for _, c, r in _TRIGGERS.values() for a in c + r}
    | _PLAIN
    | {"fault_seed"}
)


@dataclass
class Trigger:
    """Decides, reproducibly, whether a fault fires at one opportunity."""

    count: int | None = None
    rate: float | None = None
    rng: random.Random = field(default_factory=random.Random)
    fired: int = 0

    def fire(self) -> bool:
        if self.count is not None and self.count <= 0:
            return False
        if self.rate is not None and self.rng.random() >= self.rate:
            return False
        if self.count is not None:
            self.count -= 1
        self.fired += 1
        return True


@dataclass
class Faults:
    """Current fault settings. All access goes through the lock (apps run in many tasks)."""

    seed: int = 0
    join_status: int | None = None
    retry_after: float = 1.0
    upload_status: int | None = None
    app_error: bool = False
    app_error_title: str = "Error"
    app_error_message: str = "Injected application error"
    app_error_hidden: bool = False
    app_error_fn: str | None = None
    quota_error: bool = False
    quota_error_fn: str | None = None
    gpu_error: str | None = None
    gpu_error_fn: str | None = None
    worker_error_class: str = "RuntimeError"
    cut_stream_after: int | None = None
    stall_after: int | None = None
    stall_timeout: float = 30.0
    malformed_after: int | None = None
    unexpected_error: int | None = None
    queue_delay: float = 0.0
    step_latency: float = 0.0
    config_changed: bool = False
    triggers: dict[str, Trigger] = field(default_factory=dict)
    lock: threading.RLock = field(default_factory=threading.RLock)

    def __post_init__(self) -> None:
        for name in _TRIGGERS:
            self.triggers[name] = self._new_trigger(name, None, None)

    def _new_trigger(self, name: str, count: int | None, rate: float | None) -> Trigger:
        return Trigger(count, rate, random.Random(f"{self.seed}:{name}"))

    def configure(self, **changes: Any) -> None:
        unknown = set(changes) - FAULT_KEYS
        if unknown:
            raise ValueError(f"unknown fault settings: {sorted(unknown)}")
        with self.lock:
            if "fault_seed" in changes:
                self.seed = int(changes["fault_seed"])
                for name, t in self.triggers.items():
                    t.rng = random.Random(f"{self.seed}:{name}")
            for name, (main, count_keys, rate_keys) in _TRIGGERS.items():
                count = next((changes[k] for k in count_keys if k in changes), None)
                rate = next((changes[k] for k in rate_keys if k in changes), None)
                given = main in changes or any(k in changes for k in count_keys + rate_keys)
                if not given:
                    continue
                if main in changes:
                    self._set_main(name, main, changes[main])
                elif name in ("join", "upload") and getattr(self, main) is None:
                    # A count or rate alone means the usual failure for that route.
                    setattr(self, main, 503 if name == "join" else 413)
                if name in ("app_error", "quota_error") and main in changes:
                    value = changes[main]
                    if value is not True and isinstance(value, int) and count is None:
                        count = value  # app_error=N: the next N calls
                if name in ("app_error", "quota_error") and main not in changes and (
                    count is not None or rate is not None
                ):
                    setattr(self, main, True)
                self.triggers[name] = self._new_trigger(
                    name,
                    None if count is None else int(count),
                    None if rate is None else float(rate),
                )
            for key in _PLAIN & set(changes):
                setattr(self, key, changes[key])

    def _set_main(self, name: str, main: str, value: Any) -> None:
        if name in ("app_error", "quota_error"):
            setattr(self, main, bool(value))
        elif name == "unexpected_error":
            # True = right away; an int = after that many messages.
            setattr(self, main, None if value is None or value is False else
                    (0 if value is True else int(value)))
        elif name == "gpu_error":
            if value is not None and value not in GPU_ERRORS:
                raise ValueError(f"unknown gpu_error kind {value!r}; one of {sorted(GPU_ERRORS)}")
            setattr(self, main, value)
        else:
            setattr(self, main, None if value is None else int(value))

    def fire(self, name: str, fn: str | None = None) -> bool:
        """True if fault ``name`` is on and fires at this opportunity."""
        main = _TRIGGERS[name][0]
        with self.lock:
            value = getattr(self, main)
            if value is None or value is False:
                return False
            target = getattr(self, f"{main}_fn", None)
            if target is not None and fn is not None and target != fn:
                return False
            return self.triggers[name].fire()

    def stream_plan(self) -> dict[str, int]:
        """For one new ``queue/data`` stream: which stream faults fire, after how many messages."""
        plan: dict[str, int] = {}
        for name, attr in (
            ("unexpected_error", "unexpected_error"), ("cut_stream", "cut_stream_after"),
            ("stall", "stall_after"), ("malformed", "malformed_after"),
        ):
            if self.fire(name):
                plan[name] = int(getattr(self, attr))
        return plan

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            out: dict[str, Any] = {
                k: getattr(self, k)
                for k in (
                    "join_status", "retry_after", "upload_status", "app_error", "app_error_title",
                    "app_error_message", "app_error_hidden", "app_error_fn", "quota_error",
                    "quota_error_fn", "gpu_error", "gpu_error_fn", "cut_stream_after",
                    "stall_after", "stall_timeout", "malformed_after", "unexpected_error",
                    "queue_delay", "step_latency", "config_changed", "worker_error_class",
                )
            }
            out["fault_seed"] = self.seed
            out["fired"] = {n: t.fired for n, t in self.triggers.items()}
            out["remaining"] = {n: t.count for n, t in self.triggers.items()}
            return out
