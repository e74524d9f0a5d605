"""`HFSpacesLLM`: the registry's Space models (Janus-Pro-7B, Phi-4-multimodal) as a
LlamaIndex `LLM`, multimodal through `ChatMessage.blocks`.

Chat is the one code path: `_astream` runs `SpaceModel.stream()` in the caller's event
loop, `_stream` runs the same stream in the `hfspaces.sync` background loop; every other
method is derived from those two.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import (
    AsyncIterator,
    Iterable,
    Iterator,
    Sequence,
)
from typing import Any, NamedTuple

from hfspaces import GenerationParams, Message, SpaceModel, get_model
from hfspaces.sync import iterate_sync
from llama_index.core.base.llms.types import (
    ChatMessage,
    ChatResponse,
    ChatResponseAsyncGen,
    ChatResponseGen,
    CompletionResponse,
    CompletionResponseAsyncGen,
    CompletionResponseGen,
    LLMMetadata,
)
from llama_index.core.bridge.pydantic import Field, PrivateAttr, SecretStr
from llama_index.core.instrumentation.span import active_span_id
from llama_index.core.llms.callbacks import llm_chat_callback, llm_completion_callback
from llama_index.core.llms.llm import LLM

from .events import announce
from .utils import ChatStream, completion_response, prompt_message, to_conversation

DEFAULT_MODEL = "phi-4-multimodal"

#: Sampling settings; None means "not sent" (the Space's own default).
PARAM_NAMES = ("temperature", "top_p", "seed", "guidance", "num_images")


def _token_from_env() -> SecretStr | None:
    token = os.environ.get("HF_TOKEN") or os.environ.get("HUGGING_FACE_HUB_TOKEN")
    return SecretStr(token) if token else None


class _Built:
    """The `SpaceModel` built for one set of settings. A deep copy of the LLM starts without
    one: it holds live sessions and the token (which refuses to be copied)."""

    def __init__(self, model: SpaceModel | None = None, key: tuple[Any, ...] = ()) -> None:
        self.model = model
        self.key = key

    def __deepcopy__(self, memo: dict[int, Any]) -> _Built:
        return _Built()


class HFSpacesLLM(LLM):
    """A Hugging Face Space model as a LlamaIndex chat LLM.

    >>> llm = HFSpacesLLM(model="phi-4-multimodal")
    >>> llm.chat([ChatMessage(role="user", blocks=[TextBlock(text="What is this?"),
    ...                                            ImageBlock(path="cat.png")])])

    Models: "phi-4-multimodal" (text, images, audio; multi-turn, streams tokens),
    "janus-pro-7b" (a question about one image), "janus-pro-7b-image" (text → images: the
    answer carries `ImageBlock`s). No network I/O happens until the first call.

    Bad input (an unsupported block, audio for Janus, a sampling setting the Space lacks)
    raises `hfspaces.InvalidInputError` (a `ValueError`) before any request; Space failures
    raise `hfspaces.SpaceError` subclasses (queue full, GPU quota, timeouts, ...).
    Queue/progress/log updates are dispatched as `HFSpacesJobEvent` instrumentation events.

    Keyword arguments of a call (`temperature`, `top_p`, `seed`, `guidance`, `num_images`,
    `stop`) override the fields for that call; other keyword arguments LlamaIndex passes
    along are ignored. Streams: every chunk has the cumulative message and a non-empty
    `delta`; the last one also carries the run metadata (`raw`, `additional_kwargs`) and,
    for janus-pro-7b-image, the images.
    """

    model: str = Field(
        default=DEFAULT_MODEL,
        description="Registry model id or alias: phi-4-multimodal, janus-pro-7b, "
        "janus-pro-7b-image.",
    )
    endpoint: str | list[str] | dict[str, str | list[str]] | None = Field(
        default=None,
        description="Space URL or id, a list of them (a pool of copies of one Space), or a "
        "mapping Space id/model id → either. Default: the HFSPACES_ENDPOINTS environment "
        "variable, else the model's Space on the Hub.",
    )
    hf_token: SecretStr | None = Field(
        default_factory=_token_from_env,
        exclude=True,
        repr=False,
        description="Hugging Face token (ZeroGPU quota is per identity). Default: HF_TOKEN.",
    )
    hub_url: str | None = Field(
        default=None, description="Hub URL for ZeroGPU tokens. Default: HF_ENDPOINT or the Hub."
    )
    temperature: float | None = Field(default=None, description="Sampling temperature.")
    top_p: float | None = Field(default=None, description="Nucleus sampling (Janus).")
    seed: int | None = Field(default=None, description="Random seed (Janus).")
    guidance: float | None = Field(default=None, description="CFG weight (Janus images).")
    num_images: int | None = Field(
        default=None, description="How many of the 5 drawn images to return (Janus images)."
    )
    timeout: float | None = Field(
        default=None,
        gt=0,
        description="Overall deadline of one call in seconds, queue wait included "
        "(default: hfspaces' 600 s).",
    )
    max_retries: int = Field(
        default=3, ge=0, description="Retries of transient failures (429, 503, resets)."
    )

    _built: _Built = PrivateAttr(default_factory=lambda: _Built())

    def __init__(self, **data: Any) -> None:
        # Fail on an unknown model name now, with the registry's message (no network).
        data["model"] = get_model(data.get("model") or DEFAULT_MODEL).id
        super().__init__(**data)

    @classmethod
    def class_name(cls) -> str:
        return "HFSpacesLLM"

    @property
    def metadata(self) -> LLMMetadata:
        spec = get_model(self.model)
        return LLMMetadata(
            context_window=spec.context_window,
            num_output=spec.max_output_tokens,
            is_chat_model=True,
            is_function_calling_model=False,
            model_name=spec.id,
        )

    # -- the neutral layer ------------------------------------------------------------------

    @property
    def space_model(self) -> SpaceModel:
        """The `hfspaces.SpaceModel` for the current settings (built on first use)."""
        key = (
            self.model,
            repr(self.endpoint),
            self.hf_token.get_secret_value() if self.hf_token else None,
            self.hub_url,
            self.timeout,
            self.max_retries,
        )
        # No lock: building a SpaceModel does no I/O, so a rare double build is harmless.
        if self._built.model is None or self._built.key != key:
            model = SpaceModel(
                self.model,
                endpoint=self.endpoint,
                hf_token=self.hf_token,
                hub_url=self.hub_url,
                timeout=self.timeout,
                max_retries=self.max_retries,
            )
            self._built = _Built(model, key)
            return model
        return self._built.model

    async def aclose(self) -> None:
        """Close the HTTP session this LLM opened in the running event loop."""
        if self._built.model is not None:
            await self._built.model.aclose()

    def _params(self, kwargs: dict[str, Any]) -> GenerationParams:
        """Sampling settings: the fields, overridden per call by keyword arguments."""
        values = {name: kwargs.get(name, getattr(self, name)) for name in PARAM_NAMES}
        stop = kwargs.get("stop") or ()
        return GenerationParams(**values, stop=(stop,) if isinstance(stop, str) else tuple(stop))

    def _prepare(self, messages: Sequence[ChatMessage], kwargs: dict[str, Any]) -> _Call:
        """Convert and validate now, so bad input fails at the call, before any request
        (and before a stream is first iterated)."""
        model = self.space_model
        conversation = to_conversation(messages)
        params = self._params(kwargs)
        model.validate(conversation, params)
        return _Call(model, conversation, params, active_span_id.get())

    # -- the one code path, async and sync ------------------------------------------------

    @staticmethod
    async def _astream(call: _Call) -> AsyncIterator[ChatResponse]:
        chunks = ChatStream()
        stream = call.model.stream(call.conversation, call.params)
        async with contextlib.aclosing(stream) as items:
            async for item in items:
                call.announce(item)
                for chunk in chunks.feed(item):
                    yield chunk

    @staticmethod
    def _stream(call: _Call) -> Iterator[ChatResponse]:
        chunks = ChatStream()
        # Closing early closes the async stream in the background loop: the job is cancelled.
        stream = call.model.stream(call.conversation, call.params)
        with contextlib.closing(iterate_sync(stream)) as items:
            for item in items:
                call.announce(item)
                yield from chunks.feed(item)

    # -- chat: primary --------------------------------------------------------------------

    @llm_chat_callback()
    def chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        return _final(self._stream(self._prepare(messages, kwargs)))

    @llm_chat_callback()
    def stream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseGen:
        return self._stream(self._prepare(messages, kwargs))  # type: ignore[return-value]

    @llm_chat_callback()
    async def achat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        return await _afinal(self._astream(self._prepare(messages, kwargs)))

    @llm_chat_callback()
    async def astream_chat(
        self, messages: Sequence[ChatMessage], **kwargs: Any
    ) -> ChatResponseAsyncGen:
        # An `async def` that returns the generator: the callback decorator wraps it.
        return self._astream(self._prepare(messages, kwargs))  # type: ignore[return-value]

    # -- completion: derived (the prompt, plus legacy image_documents, as one user turn) ----

    @llm_completion_callback()
    def complete(
        self,
        prompt: str,
        formatted: bool = False,
        image_documents: Iterable[Any] | None = None,
        **kwargs: Any,
    ) -> CompletionResponse:
        """Complete `prompt`; `image_documents` (ImageBlock / ImageNode / ImageDocument) is
        the entry point of LlamaIndex's legacy multimodal LLM classes."""
        messages = [prompt_message(prompt, image_documents)]
        return completion_response(_final(self._stream(self._prepare(messages, kwargs))))

    @llm_completion_callback()
    def stream_complete(
        self,
        prompt: str,
        formatted: bool = False,
        image_documents: Iterable[Any] | None = None,
        **kwargs: Any,
    ) -> CompletionResponseGen:
        messages = [prompt_message(prompt, image_documents)]
        chunks = self._stream(self._prepare(messages, kwargs))
        return (completion_response(chunk) for chunk in chunks)

    @llm_completion_callback()
    async def acomplete(
        self,
        prompt: str,
        formatted: bool = False,
        image_documents: Iterable[Any] | None = None,
        **kwargs: Any,
    ) -> CompletionResponse:
        messages = [prompt_message(prompt, image_documents)]
        final = await _afinal(self._astream(self._prepare(messages, kwargs)))
        return completion_response(final)

    @llm_completion_callback()
    async def astream_complete(
        self,
        prompt: str,
        formatted: bool = False,
        image_documents: Iterable[Any] | None = None,
        **kwargs: Any,
    ) -> CompletionResponseAsyncGen:
        messages = [prompt_message(prompt, image_documents)]
        return _completions(self._astream(self._prepare(messages, kwargs)))


class _Call(NamedTuple):
    """One validated call: what to send, where, and the LLM span it belongs to."""

    model: SpaceModel
    conversation: list[Message]
    params: GenerationParams
    span_id: str | None

    def announce(self, item: object) -> None:
        announce(item, model=self.model.spec.id, space=self.model.spec.space, span_id=self.span_id)


#: The name users of LlamaIndex's legacy `MultiModalLLM` classes look for.
HFSpacesMultiModal = HFSpacesLLM


def _final(chunks: Iterable[ChatResponse]) -> ChatResponse:
    last: ChatResponse | None = None
    for last in chunks:  # noqa: B007 - the last chunk is the whole answer
        pass
    return _whole(last)


async def _afinal(chunks: AsyncIterator[ChatResponse]) -> ChatResponse:
    last: ChatResponse | None = None
    async for last in chunks:  # noqa: B007
        pass
    return _whole(last)


def _whole(last: ChatResponse | None) -> ChatResponse:
    if last is None:  # pragma: no cover - a stream ends with its Generation or raises
        raise RuntimeError("the Space stream ended without an answer")
    # A non-streamed response has no delta.
    return ChatResponse(
        message=last.message, raw=last.raw, additional_kwargs=last.additional_kwargs
    )


async def _completions(chunks: AsyncIterator[ChatResponse]) -> CompletionResponseAsyncGen:
    async for chunk in chunks:
        yield completion_response(chunk)
