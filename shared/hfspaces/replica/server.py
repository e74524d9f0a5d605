"""The replica server: one uvicorn in a background thread hosting both Spaces, the Hub stub
and the control routes.

URL layout (``base_url`` = ``http://127.0.0.1:PORT``):

- ``{base_url}/spaces/deepseek-ai/janus-pro-7b`` and
  ``{base_url}/spaces/microsoft/phi-4-multimodal``: the two gradio apps
  (``/config``, ``/gradio_api/...``), mounted as path prefixes;
- ``{hub_url}/api/spaces/{owner}/{name}/jwt``: the Hub stub, where ``hub_url`` is the same
  server under the other loopback name (``http://localhost:PORT``), so Hub and Spaces are
  different hosts to a client;
- ``{base_url}/_replica/configure`` (POST JSON), ``/_replica/reset`` (POST),
  ``/_replica/stats`` (GET): run-time control.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import inspect
import io
import logging
import os
import socket
import threading
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import anyio
import gradio as gr
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from .config import (
    GRADIO_ERRORS,
    JANUS_SPACE,
    PHI4_SPACE,
    SPACES,
    SPACES_VERSIONS,
    ReplicaConfig,
    space_prefix,
)
from .faults import FAULT_KEYS
from .hub import hub_router
from .janus import build_janus
from .middleware import QuietCutFilter, ReplicaMiddleware
from .phi4 import build_phi4
from .runtime import ReplicaState
from .samples import ASSETS
from .shapes import SHAPE_BUILDERS

log = logging.getLogger("hfspaces.replica")

CONFIG_SHIFT = 2  # how far fn indexes move under the ``config_changed`` fault

# Behaviour fields of ReplicaConfig that may change while serving.
RUNTIME_CONFIG_KEYS = frozenset({
    "token_delay", "answer_words", "phi4_stream", "image_size", "quota_seconds_anonymous",
    "quota_seconds_authenticated", "quota_seconds_pro", "quota_enforced", "quota_window",
    "gpu_durations", "jwt_lifetime", "bad_tokens", "pro_tokens", "service_time",
    "duration_factor", "max_gpu_duration", "spaces_version", "gradio_errors",
})
# Allowed values of the string settings.
CHOICES: dict[str, tuple[str, ...]] = {"spaces_version": SPACES_VERSIONS,
                                       "gradio_errors": GRADIO_ERRORS}

# One gradio app per Space id: ``build(state, shift)`` returns its Blocks (not queued yet).
# A new Space = its id in config.SPACES and its builder here.
Builder = Callable[[ReplicaState, int], gr.Blocks]
BUILDERS: dict[str, Builder] = {JANUS_SPACE: build_janus, PHI4_SPACE: build_phi4,
                                **SHAPE_BUILDERS}


@dataclass
class _Variant:
    app: Any
    holder: FastAPI
    api_by_index: dict[int, str | None]


def _supported(func: Callable[..., Any], kwargs: dict[str, Any]) -> dict[str, Any]:
    params = inspect.signature(func).parameters
    return {k: v for k, v in kwargs.items() if k in params}


def queue_settings(config: ReplicaConfig) -> dict[str, Any]:
    """gradio's queue as a ZeroGPU Space gets it, or unlimited with ``zerogpu=False``.

    On ZeroGPU gradio itself sets ``max_size=1`` (blocks.py: ``if utils.is_zero_gpu_space():
    max_size = 1 if max_size is None``); a Space keeps the default concurrency of 1 per
    function and ``api_open=False`` (so queued functions refuse ``run/predict``).
    """
    if config.zerogpu:
        return {
            "default_concurrency_limit": 1 if config.concurrency is None else config.concurrency,
            "max_size": 1 if config.queue_max_size is None else config.queue_max_size,
            "api_open": False,
        }
    return {"default_concurrency_limit": config.concurrency,
            "max_size": config.queue_max_size, "api_open": True}


_BUILD_LOCK = threading.Lock()


def _build_fresh(builder: Builder, state: ReplicaState, shift: int) -> gr.Blocks:
    """Build with component ids counted from 0, as in the Space's own process.

    gradio numbers blocks with a process-wide counter; each real Space starts at 0, so the
    trigger ids match the live ones (Janus 10/20, Phi-4 8). The counter is restored after.
    """
    from gradio.context import Context

    with _BUILD_LOCK:
        before = Context.id
        Context.id = 0
        try:
            return builder(state, shift)
        finally:
            Context.id = max(before, Context.id)


class _SpaceHost:
    """ASGI app for one Space; serves the current variant (``config_changed`` swaps it)."""

    def __init__(self, space: str, state: ReplicaState) -> None:
        self.space = space
        self.prefix = space_prefix(space)
        self.state = state
        self.variants: dict[int, _Variant] = {}
        self.shift = 0

    def build(self, shift: int) -> _Variant:
        config = self.state.config
        blocks = _build_fresh(BUILDERS[self.space], self.state, shift)
        blocks.queue(**_supported(blocks.queue, queue_settings(config)))
        # Async handlers use few threads; the limit matters only for to_thread work.
        blocks.max_threads = 400 if config.concurrency is None else max(40, config.concurrency * 4)
        holder = FastAPI()
        # gradio 5.x's mount_gradio_app prints "new <path>" to stdout (a left-over debug
        # print); stdout is the CLI's output (`<space> <url>` lines), so keep it clean.
        # redirect_stdout swaps sys.stdout process-wide for the duration of the call.
        chatter = io.StringIO()
        with contextlib.redirect_stdout(chatter):
            gr.mount_gradio_app(holder, blocks, path=self.prefix,
                                **_supported(gr.mount_gradio_app, {
                                    "show_error": False,
                                    "max_file_size": config.max_file_size,
                                    "allowed_paths": [str(ASSETS)],
                                    "ssr_mode": False,
                                    "mcp_server": False,
                                    "server_name": config.host,
                                    "server_port": config.port,
                                }))
        if chatter.getvalue().strip():
            log.debug("gradio printed while mounting: %s", chatter.getvalue().strip())
        mounted = holder.routes[-1].app  # type: ignore[attr-defined]
        deps = blocks.get_config_file().get("dependencies", [])
        api = {int(d["id"]): d.get("api_name") for d in deps if "id" in d}
        variant = _Variant(mounted, holder, api)
        self.variants[shift] = variant
        return variant

    def stale(self, fn_index: int) -> bool:
        """A join for an index whose endpoint moved away (after ``config_changed``)."""
        if self.shift == 0:
            return False
        base = self.variants[0].api_by_index.get(fn_index)
        now = self.variants[self.shift].api_by_index.get(fn_index)
        return bool(base) and base != now and not str(base).startswith("load_example")

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.variants[self.shift].app(scope, receive, send)


class Replica:
    """Both Spaces, the Hub stub and the control routes, served from a background thread."""

    def __init__(self, config: ReplicaConfig | None = None) -> None:
        self.config = config or ReplicaConfig()
        for key, allowed in CHOICES.items():
            if getattr(self.config, key) not in allowed:
                raise ValueError(f"{key} must be one of {allowed}")
        self.state = ReplicaState(self.config)
        self.hosts = {space: _SpaceHost(space, self.state) for space in SPACES}
        # reset() restores these behaviour settings to their start-up values.
        self._initial = {k: copy.deepcopy(getattr(self.config, k)) for k in RUNTIME_CONFIG_KEYS}
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stack: contextlib.AsyncExitStack | None = None
        self._sock: socket.socket | None = None
        self._lock = threading.RLock()
        self.port: int = 0

    # -- URLs ----------------------------------------------------------------------------
    @property
    def _url_host(self) -> str:
        host = self.config.host
        return "127.0.0.1" if host in ("", "0.0.0.0", "::") else host

    @property
    def base_url(self) -> str:
        return f"http://{self._url_host}:{self.port}"

    @property
    def hub_url(self) -> str:
        """The same server under the other loopback name: a different host to a client."""
        other = {"127.0.0.1": "localhost", "localhost": "127.0.0.1"}.get(self._url_host,
                                                                          self._url_host)
        return f"http://{other}:{self.port}"

    def url_for(self, space: str) -> str:
        for known in SPACES:
            if known.lower() == space.lower():
                return self.base_url + space_prefix(known)
        raise KeyError(f"unknown Space {space!r}; one of {SPACES}")

    @property
    def spaces(self) -> dict[str, str]:
        return {space: self.url_for(space) for space in SPACES}

    # -- control -------------------------------------------------------------------------
    def configure(self, **changes: Any) -> dict[str, Any]:
        """Change faults and behaviour at run time; returns the fault settings now."""
        known = FAULT_KEYS | RUNTIME_CONFIG_KEYS
        unknown = set(changes) - known
        if unknown:
            raise ValueError(f"unknown settings {sorted(unknown)}; known: {sorted(known)}")
        for key, allowed in CHOICES.items():
            if key in changes and changes[key] not in allowed:
                raise ValueError(f"{key} must be one of {allowed}, not {changes[key]!r}")
        with self._lock:
            for key in RUNTIME_CONFIG_KEYS & set(changes):
                value = changes[key]
                if key in ("bad_tokens", "pro_tokens"):
                    value = frozenset(value)
                if key == "gpu_durations":
                    value = {**self.config.gpu_durations, **dict(value)}
                setattr(self.config, key, value)
            self.state.quota.window = self.config.quota_window
            self.state.faults.configure(**{k: v for k, v in changes.items() if k in FAULT_KEYS})
            if "config_changed" in changes:
                self._set_shift(CONFIG_SHIFT if changes["config_changed"] else 0)
        return self.state.faults.snapshot()

    def reset(self) -> None:
        """Faults off, behaviour back to the start-up config, quotas and stats cleared,
        original app layout."""
        with self._lock:
            for key, value in self._initial.items():
                setattr(self.config, key, copy.deepcopy(value))
            self.state.reset()
            self._set_shift(0)

    def stats(self) -> dict[str, Any]:
        out = self.state.snapshot()
        out["config_shift"] = self.hosts[JANUS_SPACE].shift
        return out

    def _set_shift(self, shift: int) -> None:
        for host in self.hosts.values():
            if shift not in host.variants:
                variant = host.build(shift)
                if self._loop is not None and self._stack is not None:
                    self._run_in_loop(self._start_variant(variant))
            host.shift = shift

    def _run_in_loop(self, coro: Any) -> Any:
        assert self._loop is not None
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self._loop:
            raise RuntimeError("call configure() from another thread than the server's loop")
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(
            self.config.startup_timeout
        )

    async def _start_variant(self, variant: _Variant) -> None:
        assert self._stack is not None
        holder = variant.holder
        await self._stack.enter_async_context(holder.router.lifespan_context(holder))

    # -- ASGI ----------------------------------------------------------------------------
    def _asgi(self) -> Any:
        replica = self

        @contextlib.asynccontextmanager
        async def lifespan(_: FastAPI) -> AsyncIterator[None]:
            async with contextlib.AsyncExitStack() as stack:
                replica._stack = stack
                replica._loop = asyncio.get_running_loop()
                for host in replica.hosts.values():
                    for variant in host.variants.values():
                        await replica._start_variant(variant)
                try:
                    yield
                finally:
                    replica._stack = None

        app = FastAPI(lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
        app.include_router(hub_router(self.state))

        @app.post("/_replica/configure")
        async def configure(request: Request) -> JSONResponse:
            body = await request.json()
            if not isinstance(body, dict):
                return JSONResponse({"error": "expected a JSON object"}, 400)
            try:
                faults = await anyio.to_thread.run_sync(lambda: replica.configure(**body))
            except ValueError as exc:
                return JSONResponse({"error": str(exc)}, 400)
            return JSONResponse({"ok": True, "faults": faults})

        @app.post("/_replica/reset")
        async def reset() -> JSONResponse:
            await anyio.to_thread.run_sync(replica.reset)
            return JSONResponse({"ok": True})

        @app.get("/_replica/stats")
        async def stats() -> JSONResponse:
            return JSONResponse(replica.stats())

        @app.get("/")
        async def index() -> JSONResponse:
            return JSONResponse({"spaces": replica.spaces, "hub": replica.hub_url})

        for host in self.hosts.values():
            app.mount(host.prefix, host)
        prefixes = {host.prefix: space for space, host in self.hosts.items()}
        return ReplicaMiddleware(app, self.state, prefixes,
                                 lambda space, i: self.hosts[space].stale(i))

    # -- lifecycle -----------------------------------------------------------------------
    def start(self) -> Replica:
        """Build the apps, serve them in a background thread, return when ready."""
        if self._thread is not None:
            return self
        for host in self.hosts.values():
            host.build(0)
        # Protocol IPPROTO_TCP, not 0: asyncio only sets TCP_NODELAY on accepted sockets whose
        # `proto` is IPPROTO_TCP. Without it, a response written as two segments on a reused
        # connection waits for the client's delayed ACK (~40 ms on loopback).
        family = socket.AF_INET6 if ":" in self.config.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.config.host, self.config.port))
        sock.listen(512)
        self._sock = sock
        self.port = sock.getsockname()[1]
        logging.getLogger("uvicorn.error").addFilter(QuietCutFilter())
        config = uvicorn.Config(
            self._asgi(), log_level=os.environ.get("HFSPACES_REPLICA_LOG_LEVEL", "warning"),
            lifespan="on", ws="none", timeout_graceful_shutdown=1, access_log=False,
            timeout_keep_alive=5,
        )
        server = uvicorn.Server(config)
        self._server = server
        self._thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name="hfspaces-replica", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + self.config.startup_timeout
        while not server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the replica server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        """Stop serving (bounded by ``config.stop_timeout``); frees the port."""
        server, thread = self._server, self._thread
        if server is not None:
            server.should_exit = True
        if thread is not None:
            thread.join(self.config.stop_timeout)
            if thread.is_alive() and server is not None:
                server.force_exit = True
                thread.join(self.config.stop_timeout)
        if self._sock is not None:
            self._sock.close()
        self._server = self._thread = self._sock = None
        self._loop = None

    def __enter__(self) -> Replica:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

