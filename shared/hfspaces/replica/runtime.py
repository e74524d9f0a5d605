"""Shared run-time state of the replica and ``gpu_call``, the ZeroGPU runtime the apps use."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import gradio as gr

from . import spaces_messages as msgs
from .config import GRADIO_5_1_SPACES, ReplicaConfig
from .faults import SCHEDULE_ERRORS, WORKER_ERRORS, Faults
from .stats import Stats
from .zerogpu import Identity, QuotaBook, resolve_identity

log = logging.getLogger("hfspaces.replica")


def app_error(message: str, title: str | None = None) -> gr.Error:
    """A gr.Error with a title where gradio supports titles (5.2+)."""
    try:
        return gr.Error(message, title=title or "Error", print_exception=False)
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


def _headers_of(request: gr.Request | None) -> dict[str, str]:
    if request is None:
        return {}
    return {k.lower(): v for k, v in dict(request.headers).items()}


def _caller(identity: Identity, headers: dict[str, str]) -> msgs.Caller:
    return msgs.Caller(identity.auth, identity.token_status != "absent",
                       headers.get("x-gradio-user") != "app")


def legacy_errors(state: ReplicaState, space: str) -> bool:
    """Whether this Space's errors are served as gradio 5.1.0 serves them."""
    return state.config.gradio_errors == "5.1" and space in GRADIO_5_1_SPACES


# gr.Error(title=) exists from gradio 5.2 on; before, gradio sends str(error) itself.
GRADIO_TITLES = "title" in inspect.signature(gr.Error).parameters


class _HTMLError(gr.Error):
    """The runtime's HTMLError: ``str()`` is the plain-text alternative (gradio < 5.2)."""

    def __init__(self, message: str, text: str) -> None:
        super().__init__(message)
        self.text = text

    def __str__(self) -> str:
        return self.text


def failure_error(state: ReplicaState, space: str, failure: msgs.Failure) -> gr.Error:
    """The gr.Error the runtime raises. With ``gradio_errors="5.1"`` on a gradio with titles
    the text is already 5.1.0's ``str(error)`` (the middleware then drops the title); a real
    gradio < 5.2 renders ``str(error)`` itself."""
    state.stats.bump("gpu_errors")
    if not GRADIO_TITLES:
        if failure.html:
            return _HTMLError(failure.message, failure.text or failure.message)
        return gr.Error(failure.message)
    text = failure.gradio51 if legacy_errors(state, space) else failure.message
    return app_error(text, failure.title)


def zerogpu_log(entry: tuple[str, str, str]) -> None:
    """gr.Info / gr.Success / gr.Warning with the runtime's title, inside the running event."""
    title, message, level = entry
    cls = {"info": gr.Info, "success": getattr(gr, "Success", gr.Info), "warning": gr.Warning}
    log_fn = cls[level]
    if "title" in inspect.signature(log_fn).parameters:  # gradio >= 5.2
        log_fn(message, title=title)
    else:
        log_fn(message)


def _schedule_failure(state: ReplicaState, fn: str, identity: Identity, caller: msgs.Caller,
                      requested: int) -> msgs.Failure | None:
    """What the scheduler says before any GPU time: None when the call may run."""
    faults, config = state.faults, state.config
    version = config.spaces_version
    kind = faults.gpu_error if faults.gpu_error in SCHEDULE_ERRORS else None
    if kind and faults.fire("gpu_error", fn):
        if kind == "quota":
            return _quota_fault(state, identity, caller, requested)
        return {
            "internal_error": msgs.internal_error, "expired_token": msgs.expired_token,
            "no_gpu": msgs.no_gpu, "gpu_limit": msgs.gpu_limit,
            "pending_credits": msgs.pending_credits,
            "illegal_duration": lambda: msgs.illegal_duration(version, caller, requested),
            "runs_limit": lambda: msgs.runs_limit(version, caller),
        }[kind]()
    if identity.token_status == "expired":
        return msgs.expired_token()
    limit = config.max_gpu_duration
    if limit is not None and not identity.pro and requested > limit:
        return msgs.illegal_duration(version, caller, requested)
    if faults.fire("quota_error", fn):
        return _quota_fault(state, identity, caller, requested)
    book_limit = state.quota_limit(identity) if config.quota_enforced else float("inf")
    ok, left, wait = state.quota.try_charge(identity.key, requested, book_limit)
    if not ok:
        state.stats.bump("quota_rejections")
        return msgs.quota(version, caller, requested, int(left), wait)
    return None


def _quota_fault(state: ReplicaState, identity: Identity, caller: msgs.Caller,
                 requested: int) -> msgs.Failure:
    """An injected quota refusal: a little less left than requested, 9m48s to wait."""
    state.stats.bump("quota_rejections")
    left = max(0, min(requested - 4, int(state.quota_limit(identity)
                                         - state.quota.used(identity.key))))
    return msgs.quota(state.config.spaces_version, caller, requested, left, 588)


@contextlib.asynccontextmanager
async def gpu_call(state: ReplicaState, space: str, fn: str,
                   request: gr.Request | None) -> AsyncIterator[Identity]:
    """What ``@spaces.GPU`` does around one call, for the body inside the ``with``.

    Schedule (identity from X-IP-Token, expired token, illegal duration, quota: refused
    before any GPU time), wait for a GPU (``queue_delay``, with the runtime's logs), run in the
    "worker" (an exception from the body becomes "ZeroGPU worker error" with its class name,
    the duration warning fires past the requested seconds), at least ``service_time`` long.
    Injected faults take their place in that order. Counted in the stats either way.
    """
    config, faults, stats = state.config, state.faults, state.stats
    headers = _headers_of(request)
    identity = resolve_identity(headers, config.jwt_secret)
    caller = _caller(identity, headers)
    seconds = float(config.gpu_durations.get(fn, 60.0)) * float(config.duration_factor)
    requested = round(seconds)
    charged = 0.0
    started = time.monotonic()
    async with tracked_job(state):
        try:
            if identity.token_error:
                zerogpu_log(msgs.fallback_log(identity.token_error))
            failure = _schedule_failure(state, fn, identity, caller, requested)
            if failure is not None:
                raise failure_error(state, space, failure)
            charged = float(requested)
            if faults.fire("app_error", fn):
                if faults.app_error_hidden:
                    raise RuntimeError(faults.app_error_message)  # gradio hides it: error null
                raise app_error(faults.app_error_message, faults.app_error_title)
        finally:
            stats.call(space, fn, identity.key, identity.token_status, headers, charged)
        delay = float(faults.queue_delay)
        timeout = faults.gpu_error == "queue_timeout" and faults.fire("gpu_error", fn)
        if delay > 0 or timeout:
            stats.bump("gpu_waits")
            zerogpu_log(msgs.WAITING_LOG)
            await asyncio.sleep(delay)
            if timeout:
                state.quota.refund(identity.key, charged)
                raise failure_error(state, space, msgs.queue_timeout(config.spaces_version,
                                                                     caller))
            zerogpu_log(msgs.ACQUIRED_LOG)
        if faults.gpu_error in WORKER_ERRORS and faults.fire("gpu_error", fn):
            failure = (msgs.aborted() if faults.gpu_error == "aborted"
                       else msgs.worker_error(faults.worker_error_class))
            raise failure_error(state, space, failure)
        watchdog = (asyncio.create_task(_duration_watchdog(state, seconds))
                    if config.spaces_version == "0.51" else None)
        try:
            yield identity
        except gr.Error:
            raise
        except Exception as exc:
            # The runtime prints the worker's traceback and raises the class name only.
            log.debug("GPU function %s raised", fn, exc_info=True)
            raise failure_error(state, space, msgs.worker_error(type(exc).__name__)) from exc
        finally:
            if watchdog is not None:
                watchdog.cancel()
        rest = float(config.service_time) - (time.monotonic() - started)
        if rest > 0:
            await asyncio.sleep(rest)


async def _duration_watchdog(state: ReplicaState, seconds: float) -> None:
    await asyncio.sleep(seconds)
    state.stats.bump("duration_warnings")
    zerogpu_log(msgs.DURATION_LOG)


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
