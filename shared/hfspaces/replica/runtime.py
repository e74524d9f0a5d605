"""Shared run-time state of the replica and the per-call ZeroGPU guard the apps use."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

import gradio as gr

from .config import ReplicaConfig
from .faults import GPU_ERRORS, Faults
from .stats import Stats
from .zerogpu import Identity, QuotaBook, quota_message, resolve_identity

log = logging.getLogger("hfspaces.replica")


def app_error(message: str, title: str | None = None) -> gr.Error:
    """A gr.Error with a title where gradio supports titles (5.x+)."""
    try:
        return gr.Error(message, title=title or "Error")
    except TypeError:
        return gr.Error(message)


def hidden_event_kwargs(method: Callable[..., Any]) -> dict[str, Any]:
    """Keyword arguments that keep an event out of the API, for gradio 5 and 6."""
    params = inspect.signature(method).parameters
    if "api_visibility" in params:
        return {"api_visibility": "private"}
    kwargs: dict[str, Any] = {"api_name": False}
    if "show_api" in params:
        kwargs["show_api"] = False
    return kwargs


class ReplicaState:
    """Everything the apps, the middleware and the control routes share."""

    def __init__(self, config: ReplicaConfig) -> None:
        self.config = config
        self.faults = Faults(seed=config.fault_seed)
        self.stats = Stats()
        self.quota = QuotaBook(window=config.quota_window)

    def step_delay(self) -> float:
        return max(0.0, float(self.config.token_delay) + float(self.faults.step_latency))

    def quota_limit(self, identity: Identity) -> float:
        c = self.config
        if not identity.authenticated:
            return c.quota_seconds_anonymous
        return c.quota_seconds_pro if identity.pro else c.quota_seconds_authenticated

    def reset(self) -> None:
        self.faults = Faults(seed=self.config.fault_seed)
        self.stats.clear()
        self.quota.clear()
        self.quota.window = self.config.quota_window

    def snapshot(self) -> dict[str, Any]:
        out = self.stats.snapshot(self.quota.snapshot())
        out["faults"] = self.faults.snapshot()
        return out


def _headers_of(request: gr.Request | None) -> tuple[dict[str, str], str | None]:
    if request is None:
        return {}, None
    headers = {k.lower(): v for k, v in dict(request.headers).items()}
    client = getattr(request, "client", None)
    return headers, getattr(client, "host", None)


def gpu_guard(state: ReplicaState, space: str, fn: str, request: gr.Request | None) -> Identity:
    """What ZeroGPU does before a GPU function runs: identity, quota, injected faults.

    Raises the gr.Error the real runtime raises; records the call in the stats either way.
    """
    headers, host = _headers_of(request)
    identity = resolve_identity(headers, host, state.config.jwt_secret)
    faults = state.faults
    duration = float(state.config.gpu_durations.get(fn, 60.0))
    charged = 0.0
    try:
        if identity.token_status == "expired":
            raise app_error("Expired ZeroGPU proxy token", "Expired ZeroGPU proxy token")
        limit = state.quota_limit(identity)
        if faults.fire("quota_error", fn):
            left = max(0.0, min(duration - 4, limit - state.quota.used(identity.key)))
            state.stats.bump("quota_rejections")
            raise app_error(quota_message(duration, left, 588, not identity.authenticated),
                            "ZeroGPU quota exceeded")
        if state.config.quota_enforced:
            ok, left, wait = state.quota.try_charge(identity.key, duration, limit)
            if not ok:
                state.stats.bump("quota_rejections")
                raise app_error(quota_message(duration, left, wait, not identity.authenticated),
                                "ZeroGPU quota exceeded")
        else:
            state.quota.try_charge(identity.key, duration, float("inf"))
        charged = duration
        if faults.fire("gpu_error", fn) and faults.gpu_error is not None:
            title, message = GPU_ERRORS[faults.gpu_error]
            raise app_error(message, title)
        if faults.fire("app_error", fn):
            if faults.app_error_hidden:
                raise RuntimeError(faults.app_error_message)
            raise app_error(faults.app_error_message, faults.app_error_title)
    finally:
        state.stats.call(space, fn, identity.key, identity.token_status, headers, charged)
    return identity


@contextlib.asynccontextmanager
async def tracked_job(state: ReplicaState) -> AsyncIterator[None]:
    """Count a job from start to its end: completed, failed or cancelled."""
    stats = state.stats
    stats.bump("jobs_started")
    stats.running(+1)
    try:
        yield
    except (asyncio.CancelledError, GeneratorExit):
        stats.bump("jobs_cancelled")
        raise
    except BaseException:
        stats.bump("jobs_failed")
        raise
    else:
        stats.bump("jobs_completed")
    finally:
        stats.running(-1)


async def queue_wait(state: ReplicaState) -> None:
    """Emulated wait for a GPU before the work starts (``queue_delay``)."""
    delay = float(state.faults.queue_delay)
    if delay > 0:
        await asyncio.sleep(delay)
