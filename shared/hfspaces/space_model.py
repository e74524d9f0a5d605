"""`SpaceModel`: a registry model bound to an endpoint — the neutral layer both framework
wrappers call. Validates input before any request, streams events, applies stop
sequences, and keeps one `SpaceClient` per event loop.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncGenerator, AsyncIterator, Mapping, Sequence
from dataclasses import replace
from typing import Any

from . import deadline as deadlines
from .client import DEFAULT_MAX_QUEUE_WAIT, SpaceClient
from .conversation import Conversation
from .copies import SpaceCopies
from .errors import InvalidInputError, UnsupportedInputError
from .events import Event, TextDelta
from .generation import Generation, GenerationParams
from .models import ModelSpec, chat_space_spec, get_model
from .pool import SEPARATOR, EndpointPool, split_endpoints
from .spaces import adapter_for
from .stops import StopScanner
from .transport import Timeouts, public_url

#: `HFSPACES_ENDPOINTS="deepseek-ai/Janus-Pro-7B=http://...,microsoft/phi-4-multimodal=a|b|owner/dup"`
#: (several copies of one Space separated by `|` form a pool).
ENDPOINTS_ENV = "HFSPACES_ENDPOINTS"

#: One endpoint, several (a pool), or a mapping from Space id / model id to either.
Endpoints = str | Sequence[str]
EndpointSetting = Endpoints | Mapping[str, Endpoints] | None


def resolve_endpoints(spec: ModelSpec, endpoint: EndpointSetting) -> list[str]:
    """Where to reach the model's Space: explicit endpoints, a per-Space / per-model
    mapping, the `HFSPACES_ENDPOINTS` environment variable, or the Space id itself.
    More than one means a pool of copies of the Space."""
    if isinstance(endpoint, (str, list, tuple)):
        given = split_endpoints(endpoint)
        if given:
            return given
    mapping: Mapping[str, Endpoints] = (
        endpoint if isinstance(endpoint, Mapping) else endpoints_from_env()
    )
    for key in (spec.id, spec.space, spec.space.lower()):
        if key in mapping:
            found = split_endpoints(mapping[key])
            if found:
                return found
    return [spec.space]


def resolve_endpoint(spec: ModelSpec, endpoint: EndpointSetting) -> str:
    """The endpoints as they may be shown: `a|b` for a pool, never a URL's password."""
    return SEPARATOR.join(public_url(e) for e in resolve_endpoints(spec, endpoint))


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
    """One model of the registry on one endpoint, or on a pool of copies of its Space.

    >>> model = SpaceModel("phi-4-multimodal", endpoint="http://127.0.0.1:7860/...")
    >>> model = SpaceModel("phi-4-multimodal", endpoint=["me/phi-4-copy", "http://gpu-box:7860"])
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
        # A URL as given may carry `user:password@`: the client gets it, nobody sees it.
        self.endpoints = resolve_endpoints(self.spec, endpoint)
        #: Where the model is reached, as it may be shown (`a|b` for a pool).
        self.endpoint = SEPARATOR.join(public_url(e) for e in self.endpoints)
        self.copies = SpaceCopies(
            self.endpoints,
            space=self.spec.space,
            hf_token=hf_token,
            send_hf_token=send_hf_token,
            zerogpu_jwt=zerogpu_jwt,
            hub_url=hub_url,
            timeout=timeout,
            max_retries=max_retries,
            max_quota_wait=max_quota_wait,
            max_queue_wait=max_queue_wait,
        )
        self.adapter = adapter_for(self.spec)
        self.adapter.download = download_images

    def __repr__(self) -> str:
        return f"SpaceModel({self.spec.id!r}, endpoint={self.endpoint!r})"

    @property
    def pool(self) -> EndpointPool | None:
        """The pool of copies, when there are several (see `pool`)."""
        return self.copies.pool

    def client_for(self, target: str) -> SpaceClient:
        """The client of one endpoint for the running event loop (sessions are bound to
        one loop)."""
        return self.copies.client_for(target)

    @property
    def client(self) -> SpaceClient:
        """The client of the (first) endpoint for the running event loop."""
        return self.copies.client

    async def aclose(self) -> None:
        """Close the clients of the running loop (others close with their loop)."""
        await self.copies.aclose()

    def health(self) -> list[dict[str, Any]]:
        """What the client knows of each endpoint (state, load, counters; see `pool`)."""
        if self.pool is not None:
            return self.pool.health()
        return [{"endpoint": self.endpoint, "state": "single"}]

    async def check_endpoints(self) -> list[dict[str, Any]]:
        """Ask each endpoint now (config, copies alike, queue size): `health()` plus
        `state: unreachable` and the `error` for a copy that does not answer."""
        return await self.copies.check()

    def _events(
        self, conversation: Conversation, params: GenerationParams, serving: list[str]
    ) -> AsyncIterator[Event | Generation]:
        """The job's events on the one endpoint, or through the pool (which chooses the
        copy, moves the job off failing ones and says so with `Rerouted`)."""

        def start(client: SpaceClient, label: str) -> AsyncIterator[Event | Generation]:
            serving[0] = label
            return self.adapter.run(client, conversation, params)

        return self.copies.run(start)

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
        total = self.copies.timeouts.total
        # One deadline for the whole call (a pool's wait for a free copy and its moves
        # included): each step runs under it (never across a yield).
        end = asyncio.get_running_loop().time() + total
        serving = [self.endpoint]
        events = self._events(conversation, params, serving)
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
                endpoint=serving[0],
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
