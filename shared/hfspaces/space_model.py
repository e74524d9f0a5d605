"""`SpaceModel`: a registry model bound to an endpoint — the neutral layer both framework
wrappers call. Validates input before any request, streams events, applies stop
sequences, and keeps one `SpaceClient` per event loop.
"""

from __future__ import annotations

import asyncio
import os
import weakref
from collections.abc import AsyncGenerator, Mapping
from dataclasses import replace
from typing import Any

from . import deadline as deadlines
from .client import DEFAULT_MAX_QUEUE_WAIT, SpaceClient
from .conversation import Conversation
from .errors import InvalidInputError, UnsupportedInputError
from .events import Event, TextDelta
from .generation import Generation, GenerationParams
from .models import ModelSpec, chat_space_spec, get_model
from .protocol import is_space_id
from .secret import Secret
from .spaces import adapter_for
from .stops import StopScanner
from .sync import close_at_exit
from .transport import Timeouts, public_url

#: `HFSPACES_ENDPOINTS="deepseek-ai/Janus-Pro-7B=http://...,microsoft/phi-4-multimodal=http://..."`
ENDPOINTS_ENV = "HFSPACES_ENDPOINTS"

EndpointSetting = str | Mapping[str, str] | None


def resolve_endpoint(spec: ModelSpec, endpoint: EndpointSetting) -> str:
    """Where to reach the model's Space: an explicit endpoint, a per-Space / per-model
    mapping, the `HFSPACES_ENDPOINTS` environment variable, or the Space id itself."""
    if isinstance(endpoint, str) and endpoint.strip():
        return endpoint.strip()
    mapping: Mapping[str, str] = endpoint if isinstance(endpoint, Mapping) else endpoints_from_env()
    for key in (spec.id, spec.space, spec.space.lower()):
        if key in mapping:
            return mapping[key]
    return spec.space


def model_spec(model: str | ModelSpec | None, space: str | None, api_name: str | None) -> ModelSpec:
    """A registry model, or the chat endpoint of any Space (`space=`): exactly one."""
    if space is not None:
        if model is not None:
            raise InvalidInputError(
                "give either a registry model or space=, not both (space= is for any chat "
                "Space; use endpoint= to reach a registry model's Space elsewhere)"
            )
        return chat_space_spec(space, api_name)
    if api_name is not None:
        raise InvalidInputError("api_name goes with space= (registry models know their endpoint)")
    if model is None:
        raise InvalidInputError("give a registry model (e.g. 'phi-4-multimodal') or space=")
    return get_model(model)


def endpoints_from_env() -> dict[str, str]:
    raw = os.environ.get(ENDPOINTS_ENV, "")
    pairs = (item.split("=", 1) for item in raw.split(",") if "=" in item)
    return {k.strip(): v.strip() for k, v in pairs}


class SpaceModel:
    """One model of the registry on one endpoint.

    >>> model = SpaceModel("phi-4-multimodal", endpoint="http://127.0.0.1:7860/...")
    >>> async for event in model.stream([Message.user("hi")]): ...

    Or any chat Space, no registry entry needed (`spaces.chat` says how it is driven):

    >>> SpaceModel(space="owner/some-chat-space")            # its chat endpoint, found
    >>> SpaceModel(space="http://127.0.0.1:7860", api_name="/respond")

    Identity, queue waiting and the deadline are `SpaceClient`'s (`hf_token`,
    `send_hf_token`, `zerogpu_jwt`, `max_queue_wait`); `timeout` bounds each whole call.
    """

    def __init__(
        self,
        model: str | ModelSpec | None = None,
        *,
        space: str | None = None,
        api_name: str | None = None,
        endpoint: EndpointSetting = None,
        hf_token: Any = None,
        send_hf_token: bool | None = None,
        zerogpu_jwt: bool = False,
        hub_url: str | None = None,
        timeout: Timeouts | float | None = None,
        max_retries: int = 3,
        max_quota_wait: float = 0.0,
        max_queue_wait: float = DEFAULT_MAX_QUEUE_WAIT,
        download_images: bool = True,
    ) -> None:
        self.spec = model_spec(model, space, api_name)
        # The URL as given may carry `user:password@`: the client gets it, nobody sees it.
        self._target = resolve_endpoint(self.spec, endpoint)
        self.endpoint = public_url(self._target)
        self.adapter = adapter_for(self.spec)
        self.adapter.download = download_images
        space_id = self.spec.space if is_space_id(self.spec.space) else None
        self._client_kwargs: dict[str, Any] = {
            "space_id": space_id,
            # Read HF_TOKEN once, here; False keeps "anonymous" anonymous in the client.
            "hf_token": Secret.coerce(hf_token) or False,
            "send_hf_token": send_hf_token,
            "zerogpu_jwt": zerogpu_jwt,
            "hub_url": hub_url,
            "timeout": Timeouts.of(timeout),
            "max_retries": max_retries,
            "max_quota_wait": max_quota_wait,
            "max_queue_wait": max_queue_wait,
        }
        SpaceClient(self._target, **self._client_kwargs)  # validate the settings now
        # One client per live loop. Weak keys alone do not free a closed loop (its client's
        # session refers to it), so entries of closed loops are dropped on each lookup.
        self._clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, SpaceClient] = (
            weakref.WeakKeyDictionary()
        )
        self._guards: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, AsyncGenerator[None, None]
        ] = weakref.WeakKeyDictionary()
        # Sync calls open a session in the shared background loop: close it at exit.
        close_at_exit(self)

    def __repr__(self) -> str:
        return f"SpaceModel({self.spec.id!r}, endpoint={self.endpoint!r})"

    @property
    def client(self) -> SpaceClient:
        """The client for the running event loop (sessions are bound to one loop)."""
        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None:
            self._forget_closed_loops()
            client = self._clients[loop] = SpaceClient(self._target, **self._client_kwargs)
            self._guards[loop] = _close_with_loop(loop, client)
        return client

    def _forget_closed_loops(self) -> None:
        for old in [old for old in self._clients if old.is_closed()]:
            # Normally closed by its guard at the end of `asyncio.run()`; if the loop was
            # closed without that, its session can only be abandoned now.
            self._clients.pop(old).transport.abandon()
            self._guards.pop(old, None)

    async def aclose(self) -> None:
        """Close the client of the running loop (others close with their loop)."""
        loop = asyncio.get_running_loop()
        client = self._clients.pop(loop, None)
        guard = self._guards.pop(loop, None)
        if client is not None:
            await client.aclose()
        if guard is not None:
            await guard.aclose()

    def validate(self, conversation: Conversation, params: GenerationParams | None = None) -> None:
        """Raise `InvalidInputError` for input the model cannot take. No network."""
        self.adapter.validate(conversation, params or GenerationParams())
        check_limits(self.spec, conversation)

    async def stream(
        self, conversation: Conversation, params: GenerationParams | None = None
    ) -> AsyncGenerator[Event | Generation, None]:
        """Yield queue/progress/log events and text deltas, then the `Generation`.

        Stop sequences are applied here: text is held back until it cannot start a stop
        sequence, and when one appears the job is cancelled and the answer truncated."""
        params = params or GenerationParams()
        self.validate(conversation, params)
        scanner = StopScanner(params.stop)
        client = self.client
        total = client.transport.timeouts.total
        # One deadline for the whole call: each step runs under it (never across a yield).
        end = asyncio.get_running_loop().time() + total
        events = self.adapter.run(client, conversation, params)
        try:
            while True:
                try:
                    async with deadlines.bounded(end, total, self.spec.space):
                        event = await events.__anext__()
                except StopAsyncIteration:
                    break
                if isinstance(event, TextDelta):
                    text = scanner.feed(event.text)
                    if text:
                        yield TextDelta(text)
                    if scanner.stopped and self.spec.streams_tokens:
                        break  # leaving the job's iteration cancels it on the server
                elif isinstance(event, Generation):
                    tail = scanner.flush()
                    if tail:
                        yield TextDelta(tail)
                    if scanner.stopped:
                        event = replace(event, text=scanner.text, finish_reason="stop_sequence")
                    yield event
                    return
                else:
                    yield event
        finally:
            await events.aclose()  # type: ignore[attr-defined]
        if scanner.stopped:
            yield Generation(
                model=self.spec.id,
                space=self.spec.space,
                text=scanner.text,
                finish_reason="stop_sequence",
                endpoint=self.endpoint,
            )

    async def generate(
        self, conversation: Conversation, params: GenerationParams | None = None
    ) -> Generation:
        """Run to completion and return the `Generation`."""
        result: Generation | None = None
        async for event in self.stream(conversation, params):
            if isinstance(event, Generation):
                result = event
        if result is None:  # pragma: no cover - stream always ends with one or raises
            raise InvalidInputError("no result")
        return result


def check_limits(spec: ModelSpec, conversation: Conversation) -> None:
    """The registry's input limits, checked before any request: nothing is dropped silently
    (Janus' Space would answer about the newest image only)."""
    images = sum(len(m.images) for m in conversation)
    if images > spec.max_images:
        fix = (
            "send one image per call (ask about each image separately, or combine them into "
            "one picture yourself); earlier messages count too: leave their images out"
            if spec.max_images == 1
            else f"send at most {spec.max_images}, or split the question over several calls"
        )
        raise UnsupportedInputError(
            f"{spec.id} takes at most {spec.max_images} image{'s' * (spec.max_images != 1)} "
            f"per call, this conversation has {images}: {fix}"
        )
    if spec.last_from_user and conversation and conversation[-1].role != "user":
        raise InvalidInputError(
            f"{spec.id} answers the last user message: the conversation must end with one "
            f"(it ends with a {conversation[-1].role} message)"
        )


def _close_with_loop(
    loop: asyncio.AbstractEventLoop, client: SpaceClient
) -> AsyncGenerator[None, None]:
    """Framework users rarely call `aclose()`. A parked async generator is closed by the
    loop at `asyncio.run()`'s end (`shutdown_asyncgens`), or when the model owning it is
    collected: either way its `finally` closes the client's session, so none is left open."""

    async def guard() -> AsyncGenerator[None, None]:
        try:
            yield
        finally:
            await client.aclose()

    agen = guard()
    # Starting it registers it with the loop's async-generator hooks.
    loop.create_task(agen.__anext__())
    return agen
