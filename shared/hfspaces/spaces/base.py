"""What every Space adapter does: validate before any request, then prepare and read."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

from ..client import SpaceClient
from ..config import Endpoint
from ..conversation import AudioPart, Conversation, ImagePart, TextPart
from ..errors import InvalidInputError, UnsupportedInputError
from ..events import Completed, Event, Partial
from ..generation import Generation, GenerationParams
from ..job import Job, TextOf
from ..models import ModelSpec
from ..schema import DEFAULT, endpoint_schema
from ..tasks import gather_all

__all__ = ["DEFAULT", "Adapter", "Call", "finished", "gather_all", "or_default"]


class Adapter:
    """Base adapter. Subclasses implement `run`; `validate` is shared."""

    #: Download output files (images) into memory, or return their URLs only.
    download: bool = True

    def __init__(self, spec: ModelSpec) -> None:
        self.spec = spec

    def validate(self, conversation: Conversation, params: GenerationParams) -> None:
        """Raise an `InvalidInputError` subclass for anything the Space cannot take."""
        spec = self.spec
        if not conversation:
            raise InvalidInputError("the conversation is empty: send at least one message")
        self.validate_params(params)
        images = 0
        for message in conversation:
            for part in message.parts:
                if isinstance(part, ImagePart):
                    if "image" not in spec.inputs:
                        raise UnsupportedInputError(f"{spec.id} does not accept images")
                    part.media.require("image")
                    images += 1
                elif isinstance(part, AudioPart):
                    if "audio" not in spec.inputs:
                        raise UnsupportedInputError(
                            f"{spec.id} does not accept audio; use phi-4-multimodal"
                        )
                    part.media.require("audio")
                elif not isinstance(part, TextPart):
                    raise UnsupportedInputError(f"{spec.id} cannot take {type(part).__name__}")
        if spec.requires_image and images == 0:
            raise UnsupportedInputError(
                f"{spec.id} answers questions about an image: attach an image to the message "
                "(the Space fails without one)"
            )

    def validate_params(self, params: GenerationParams) -> None:
        """The sampling settings alone (wrappers check them when they are constructed)."""
        spec = self.spec
        unsupported = params.set_fields() - spec.parameters
        if unsupported:
            raise UnsupportedInputError(
                f"{spec.id} does not take {', '.join(sorted(unsupported))}: the Space exposes "
                f"{', '.join(sorted(spec.parameters)) or 'no sampling parameters'}"
            )
        _check_range(params.temperature, "temperature", 0.0, 1.0)
        _check_range(params.top_p, "top_p", 0.0, 1.0)
        _check_range(params.guidance, "guidance", 1.0, 10.0)
        if params.num_images is not None and not 1 <= params.num_images <= 5:
            raise InvalidInputError("num_images must be between 1 and 5 (the Space draws 5)")
        if params.seed is not None and not 0 <= params.seed < 2**31:
            raise InvalidInputError("seed must be between 0 and 2**31-1")

    def run(
        self, client: SpaceClient, conversation: Conversation, params: GenerationParams
    ) -> AsyncIterator[Event | Generation]:
        """Yield the job's events, then one `Generation` last."""
        raise NotImplementedError


def finished(spec: ModelSpec, client: SpaceClient, event: Completed, **fields: Any) -> Generation:
    """The `Generation` for a completed job: run metadata plus the adapter's `fields`."""
    return Generation(
        model=spec.id,
        space=spec.space,
        queue_wait=event.queue_wait,
        duration=event.duration,
        endpoint=client.base_url,
        event_id=event.event_id,
        raw_outputs=event.outputs,
        **fields,
    )


@dataclass(frozen=True)
class Call:
    """An endpoint an adapter calls, with the shape it was written for: the component
    types of its first inputs and outputs. A Space that changed fails with a
    `SpaceChangedError` saying how, before anything is sent."""

    api_name: str
    fn_index: int
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]

    async def resolve(self, client: SpaceClient) -> Endpoint:
        endpoint = await client.endpoint(self.api_name, fallback=self.fn_index)
        config = await client.config()
        endpoint_schema(config, endpoint, space=client.space_id).require(self.inputs, self.outputs)
        return endpoint

    async def submit(
        self, client: SpaceClient, data: Sequence[Any], text_of: TextOf | None = None
    ) -> Job:
        """Join the queue; inputs left out or `DEFAULT` take the Space's own defaults."""
        return await client.submit(await self.resolve(client), data, text_of=text_of)

    async def predict(self, client: SpaceClient, data: Sequence[Any]) -> list[Any]:
        return await client.predict(await self.resolve(client), data)


async def events(job: Job) -> AsyncIterator[Event]:
    """The job's events for the caller (Partial is internal)."""
    async for event in job:
        if not isinstance(event, Partial):
            yield event


def _check_range(value: float | None, name: str, low: float, high: float) -> None:
    if value is not None and not low <= value <= high:
        raise InvalidInputError(f"{name} must be between {low:g} and {high:g}, got {value!r}")


def or_default(value: Any) -> Any:
    """A sampling value the caller set, or the Space's declared default."""
    return DEFAULT if value is None else value
